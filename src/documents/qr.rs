//! The QR code of a ticket, as a grid of modules with its quiet zone (four modules each side,
//! which scanners need to find the code on a busy page).

use qrcode::{Color, EcLevel, QrCode};

use super::DocumentError;

const QUIET: usize = 4;

/// A square grid, row by row; `true` is dark.
pub struct Modules {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// Level M: a phone still reads a creased or smudged printout (15 % of the code may be lost).
pub fn modules(content: &str) -> Result<Modules, DocumentError> {
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M).map_err(|e| DocumentError::Qr(e.to_string()))?;
    let inner = code.width();
    let width = inner + 2 * QUIET;
    let mut dark = vec![false; width * width];
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (row, col) = (i / inner + QUIET, i % inner + QUIET);
            dark[row * width + col] = true;
        }
    }
    Ok(Modules { width, dark })
}

/// The code as an inline SVG for a page (one path, crisp at any size), labelled for screen readers.
pub fn svg(content: &str, label: &str) -> Result<String, DocumentError> {
    let m = modules(content)?;
    let mut d = String::new();
    for (i, dark) in m.dark.iter().enumerate() {
        if *dark {
            d.push_str(&format!("M{} {}h1v1h-1z", i % m.width, i / m.width));
        }
    }
    let label: String = label.chars().filter(|c| !matches!(c, '<' | '>' | '&' | '"')).collect();
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {w}\" width=\"220\" height=\"220\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{w}\" height=\"{w}\" fill=\"#fff\"/><path d=\"{d}\" fill=\"#000\"/></svg>",
        w = m.width
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ticket_token_fits_a_small_code_with_its_quiet_zone() {
        let m = super::modules("BLT1.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef").unwrap();
        assert!(m.width <= 45, "version 4 or less at level M: {}", m.width);
        assert!(!m.dark[0] && m.dark[4 * m.width + 4], "a quiet zone, then the finder pattern's corner");
    }
}
