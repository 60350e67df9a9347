//! The calendar file attached to a confirmation (RFC 5545, `METHOD:PUBLISH`): times in UTC, CRLF
//! line endings, lines folded at 75 octets, text values escaped.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::render::{locale_text, EmailContext};

/// The `.ics` text of the booking's day, stamped now.
pub fn calendar(ctx: &EmailContext) -> String {
    calendar_at(ctx, Utc::now())
}

/// The same, stamped at `stamp` (the `DTSTAMP`), for reproducible output.
pub fn calendar_at(ctx: &EmailContext, stamp: DateTime<Utc>) -> String {
    let lang = ctx.language;
    let language = format!("{}-CA", lang.as_str());
    let vars = json!({"city": ctx.city_name, "reference": ctx.booking_reference, "manage_url": ctx.manage_url});
    // The strings are compiled in and checked by the tests; should one ever fail, the file still
    // carries the facts.
    let summary = locale_text(lang, "email.ics.summary", &vars).unwrap_or_else(|_| ctx.city_name.clone());
    let description =
        locale_text(lang, "email.ics.description", &vars).unwrap_or_else(|_| format!("{}\n{}", ctx.booking_reference, ctx.manage_url));
    let location = [ctx.venue_name.as_str(), ctx.venue_address.as_str(), ctx.venue_postal_code.as_str()]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let organiser = ctx.organiser_name.replace('"', "");

    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:-//billetterie//billetterie {}//EN", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@billetterie", ctx.booking_reference),
        format!("DTSTAMP:{}", utc(stamp)),
        format!("DTSTART:{}", utc(ctx.starts_at)),
        format!("DTEND:{}", utc(ctx.ends_at)),
        format!("SUMMARY;LANGUAGE={language}:{}", escape_text(&summary)),
        format!("LOCATION;LANGUAGE={language}:{}", escape_text(&location)),
        format!("DESCRIPTION;LANGUAGE={language}:{}", escape_text(&description)),
        format!("URL:{}", ctx.manage_url),
        format!("ORGANIZER;CN=\"{organiser}\":mailto:{}", ctx.support_email),
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
