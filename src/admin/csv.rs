//! CSV as spreadsheets read it: UTF-8 with a byte-order mark (so Excel shows accents), CRLF line
//! ends, and RFC 4180 quoting (a field with a comma, quote or line break is quoted, its quotes
//! doubled). Fields that a spreadsheet would run as a formula are prefixed with an apostrophe.

pub const BOM: &str = "\u{feff}";

pub fn field(value: &str) -> String {
    // `=`, `+`, `-`, `@` (and tab/CR) opening a cell make Excel and LibreOffice evaluate it.
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err();
    let value = if formula { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub fn row<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// Cents as a decimal amount with a point (`1234` → `12.34`, `-5` → `-0.05`), which every
/// accounting import reads.
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("Côté"), "Côté");
        assert_eq!(field("Roy, Luc"), "\"Roy, Luc\"");
        assert_eq!(field("le \"Doc\""), "\"le \"\"Doc\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-5"), "-5", "a number stays a number");
        assert_eq!(field("-cmd"), "'-cmd");
        assert_eq!(row(&["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(123_456), "1234.56");
        assert_eq!(amount(5), "0.05");
        assert_eq!(amount(-250), "-2.50");
    }
}
