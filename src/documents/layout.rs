//! A page as a list of drawing operations, written to PDF at the end by krilla: documents lay out
//! lines with measured widths (wrapping, right-aligned amounts) without holding krilla's borrows.
//!
//! Coordinates are PDF points from the page's top-left corner, `y` at the text's baseline.

use std::sync::LazyLock;

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;

use super::qr;
use super::DocumentError;

/// US Letter, what Canadian offices print on.
pub const WIDTH: f32 = 612.0;
pub const HEIGHT: f32 = 792.0;
pub const MARGIN: f32 = 56.0;

static REGULAR: &[u8] = include_bytes!("../../templates/documents/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../templates/documents/fonts/DejaVuSans-Bold.ttf");

struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
}

fn face(bytes: &'static [u8]) -> Face {
    // The fonts are compiled in; a font the shaper cannot read is a build defect, seen by any test.
    Face {
        font: Font::new(bytes.into(), 0).expect("the shipped font is a TrueType font"),
        shaper: rustybuzz::Face::from_slice(bytes, 0).expect("the shipped font is a TrueType font"),
    }
}

static FACES: LazyLock<[Face; 2]> = LazyLock::new(|| [face(REGULAR), face(BOLD)]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Regular,
    Bold,
}

fn of(style: Style) -> &'static Face {
    &FACES[style as usize]
}

/// The width of `text` set in `style` at `size` points.
pub fn width(style: Style, size: f32, text: &str) -> f32 {
    let face = &of(style).shaper;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    let shaped = rustybuzz::shape(face, &[], buffer);
    let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
    units as f32 * size / f32::from(face.units_per_em() as u16)
}

/// `text` broken at spaces into lines no wider than `max` (a word wider than `max` stands alone).
pub fn wrap(style: Style, size: f32, max: f32, text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if !line.is_empty() && width(style, size, &candidate) > max {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

enum Op {
    Text { x: f32, y: f32, size: f32, style: Style, text: String },
    Rule { x1: f32, x2: f32, y: f32, width: f32 },
    Box { rect: Rect },
    Qr { x: f32, y: f32, side: f32, code: qr::Modules },
}

/// One page being laid out.
#[derive(Default)]
pub struct Page {
    ops: Vec<Op>,
}

impl Page {
    pub fn text(&mut self, x: f32, y: f32, size: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        if !text.trim().is_empty() {
            self.ops.push(Op::Text { x, y, size, style, text });
        }
    }

    /// Text ending at `right`.
    pub fn right(&mut self, right: f32, y: f32, size: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        let x = right - width(style, size, &text);
        self.text(x, y, size, style, text);
    }

    /// Text centred on the page.
    pub fn centre(&mut self, y: f32, size: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        let x = (WIDTH - width(style, size, &text)) / 2.0;
        self.text(x, y, size, style, text);
    }

    /// Wrapped text from `y` down; the baseline after its last line.
    pub fn paragraph(&mut self, x: f32, y: f32, size: f32, style: Style, max: f32, text: &str) -> f32 {
        let step = size * 1.4;
        let mut y = y;
        for line in wrap(style, size, max, text) {
            self.text(x, y, size, style, line);
            y += step;
        }
        y
    }

    /// Wrapped and centred lines from `y` down; the baseline after the last.
    pub fn centred_paragraph(&mut self, y: f32, size: f32, style: Style, max: f32, text: &str) -> f32 {
        let mut y = y;
        for line in wrap(style, size, max, text) {
            self.centre(y, size, style, line);
            y += size * 1.4;
        }
        y
    }

    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.ops.push(Op::Rule { x1, x2, y, width });
    }

    /// A frame around a rectangle (the ticket's stub).
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            self.ops.push(Op::Box { rect });
        }
    }

    /// A QR code of `content`, `side` points wide, its top-left corner at (`x`, `y`).
    pub fn qr(&mut self, x: f32, y: f32, side: f32, content: &str) -> Result<(), DocumentError> {
        let code = qr::modules(content)?;
        self.ops.push(Op::Qr { x, y, side, code });
        Ok(())
    }
}

/// The pages of one document, then its PDF.
pub struct Pages {
    pages: Vec<Page>,
}

impl Pages {
    pub fn new() -> Self {
        Self { pages: Vec::new() }
    }

    pub fn push(&mut self, page: Page) {
        self.pages.push(page);
    }

    /// The PDF: the fonts subset to the glyphs used, the title and language in its metadata.
    pub fn finish(self, title: &str, language: &str) -> Result<Vec<u8>, DocumentError> {
        let mut doc = Document::new();
        doc.set_metadata(Metadata::new().title(title.to_owned()).language(language.to_owned()).creator("Billetterie".to_owned()));
        for page in self.pages {
            let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or(DocumentError::Layout("page size"))?;
            let mut pdf_page = doc.start_page_with(settings);
            let mut surface = pdf_page.surface();
            for op in page.ops {
                match op {
                    Op::Text { x, y, size, style, text } => {
                        surface.set_fill(Some(Fill::default()));
                        surface.set_stroke(None);
                        surface.draw_text(Point::from_xy(x, y), of(style).font.clone(), size, &text, false, TextDirection::Auto);
                    }
                    Op::Rule { x1, x2, y, width } => {
                        let mut pb = PathBuilder::new();
                        pb.move_to(x1, y);
                        pb.line_to(x2, y);
                        if let Some(path) = pb.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke { width, ..Stroke::default() }));
                            surface.draw_path(&path);
                        }
                    }
                    Op::Box { rect } => {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke { width: 0.8, ..Stroke::default() }));
                            surface.draw_path(&path);
                        }
                    }
                    Op::Qr { x, y, side, code } => {
                        // One path of every dark module, filled at once: small and crisp at any zoom.
                        let module = side / code.width as f32;
                        let mut pb = PathBuilder::new();
                        for (i, dark) in code.dark.iter().enumerate() {
                            if *dark {
                                let (col, row) = ((i % code.width) as f32, (i / code.width) as f32);
                                if let Some(r) = Rect::from_xywh(x + col * module, y + row * module, module, module) {
                                    pb.push_rect(r);
                                }
                            }
                        }
                        if let Some(path) = pb.finish() {
                            surface.set_stroke(None);
                            surface.set_fill(Some(Fill::default()));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.finish();
            pdf_page.finish();
        }
        doc.finish().map_err(|e| DocumentError::Pdf(format!("{e:?}")))
    }
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_measured_and_wrapped() {
        let short = width(Style::Regular, 10.0, "Montréal");
        assert!(short > 20.0 && short < 60.0, "{short}");
        assert!(width(Style::Bold, 10.0, "Montréal") > short, "bold is wider");
        let lines = wrap(Style::Regular, 10.0, 100.0, "Une journée pratique et expérientielle sur la thérapie d’acceptation");
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| width(Style::Regular, 10.0, l) <= 100.0));
        assert_eq!(lines.join(" "), "Une journée pratique et expérientielle sur la thérapie d’acceptation");
    }
}
