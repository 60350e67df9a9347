//! The calendar file of a booking's day (RFC 5545, `METHOD:PUBLISH`), attached to the
//! confirmation mail and offered by the confirmation page: times in UTC, CRLF line endings, lines
//! folded at 75 octets, text values escaped. Its summary and description are locale strings
//! (`email.ics`).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::Language;
use crate::i18n;

/// What the calendar file says about a booking's day.
#[derive(Debug, Clone, Copy)]
pub struct BookingDay<'a> {
    pub language: Language,
    /// e.g. `MTL-7KQ2-M9XD`; also the event's `UID`.
    pub reference: &'a str,
    /// Already in `language`.
    pub city: &'a str,
    pub venue_name: &'a str,
    pub venue_address: &'a str,
    pub venue_postal_code: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The booking page (view, how to cancel).
    pub manage_url: &'a str,
    pub organiser_name: &'a str,
    pub support_email: &'a str,
}

/// The `.ics` text of the booking's day, stamped now.
pub fn calendar(day: &BookingDay<'_>) -> String {
    calendar_at(day, Utc::now())
}

/// The same, stamped at `stamp` (the `DTSTAMP`), for reproducible output.
pub fn calendar_at(day: &BookingDay<'_>, stamp: DateTime<Utc>) -> String {
    let lang = day.language;
    let language = format!("{}-CA", lang.as_str());
    let vars = json!({"city": day.city, "reference": day.reference, "manage_url": day.manage_url});
    let text = |path: &str| i18n::locale(lang).and_then(|l| l.text(path, &vars));
    // The strings are compiled in and checked by the tests; should one ever fail, the file still
    // carries the facts.
    let summary = text("email.ics.summary").unwrap_or_else(|_| day.city.to_owned());
    let description = text("email.ics.description").unwrap_or_else(|_| format!("{}\n{}", day.reference, day.manage_url));
    let location = [day.venue_name, day.venue_address, day.venue_postal_code]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let organiser = day.organiser_name.replace('"', "");

    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:-//billetterie//billetterie {}//EN", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@billetterie", day.reference),
        format!("DTSTAMP:{}", utc(stamp)),
        format!("DTSTART:{}", utc(day.starts_at)),
        format!("DTEND:{}", utc(day.ends_at)),
        format!("SUMMARY;LANGUAGE={language}:{}", escape_text(&summary)),
        format!("LOCATION;LANGUAGE={language}:{}", escape_text(&location)),
        format!("DESCRIPTION;LANGUAGE={language}:{}", escape_text(&description)),
        format!("URL:{}", day.manage_url),
        format!("ORGANIZER;CN=\"{organiser}\":mailto:{}", day.support_email),
        "STATUS:CONFIRMED".to_owned(),
        "SEQUENCE:0".to_owned(),
        "TRANSP:OPAQUE".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for line in &lines {
        out.push_str(&fold(line));
        out.push_str("\r\n");
    }
    out
}

/// `20270416T130000Z`
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545 §3.3.11): `\` `;` `,` escaped, line breaks as `\n`.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line (RFC 5545 §3.1): at most 75 octets per line, continuation lines start
/// with a space, never inside a UTF-8 character.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(escape_text("a, b; c\\d\ne\r\nf"), "a\\, b\\; c\\\\d\\ne\\nf");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let line = format!("SUMMARY:{}", "é".repeat(100));
        let folded = fold(&line);
        for part in folded.split("\r\n") {
            assert!(part.len() <= 75, "{part:?}");
        }
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("short"), "short");
        let exact = "x".repeat(75);
        assert_eq!(fold(&exact), exact);
        assert_eq!(fold(&"x".repeat(76)), format!("{}\r\n x", "x".repeat(75)));
    }
}
