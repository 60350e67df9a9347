//! One mail as RFC 5322 text: `multipart/alternative` (text, then HTML, both UTF-8 in
//! quoted-printable) inside `multipart/mixed` when there are attachments (base64), CRLF line
//! endings, RFC 2047 encoded-words for non-ASCII names and subjects, no line longer than 78
//! characters except an overlong address. Boundaries start with `=_`, which neither
//! quoted-printable nor base64 can produce, so they cannot occur inside a part.

use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};

use crate::domain::url::percent_encode_keeping;
use crate::email::transport::{Attachment, OutgoingEmail, TransportError};

/// The domain of `Message-ID`s (`<campaign-{id}@billetterie.local>`).
pub const MESSAGE_ID_DOMAIN: &str = "billetterie.local";

/// Longest line RFC 5322 recommends (header lines are folded to it).
pub(super) const MAX_LINE: usize = 78;
/// Longest encoded line RFC 2045 allows in quoted-printable and base64 bodies.
pub(super) const MAX_BODY_LINE: usize = 76;
/// Bytes of text per encoded-word: `=?UTF-8?B?` + 52 base64 characters + `?=` is 64 characters,
/// so that even the first one, after `Subject: `, keeps its line within 78.
const ENCODED_WORD_BYTES: usize = 39;

/// The whole message, CRLF line endings, ASCII except in addresses that are not (RFC 6532).
///
/// Refuses (as [`TransportError::Permanent`]) what no retry can fix: an address that is not one,
/// or control characters in an attachment's type. Control characters in names and the subject
/// become spaces, so nothing can inject a header.
pub fn render(email: &OutgoingEmail, date: DateTime<Utc>) -> Result<String, TransportError> {
    check_address("to", &email.to)?;
    check_address("from", &email.from)?;
    for attachment in &email.attachments {
        if attachment.content_type.chars().any(char::is_control) {
            return Err(TransportError::Permanent(format!("attachment {:?}: control characters in its content type", attachment.filename)));
        }
    }

    let id = email.campaign_id;
    let alternative = format!("=_billetterie_{id}_alternative");
    let mixed = format!("=_billetterie_{id}_mixed");
    let mut out = String::with_capacity(email.html.len() + email.text.len() + 2048);

    push_header(&mut out, "Date", &[date.to_rfc2822()]);
    push_header(&mut out, "From", &mailbox(Some(&email.from_name), &email.from));
    push_header(&mut out, "To", &mailbox(email.to_name.as_deref(), &email.to));
    push_header(&mut out, "Subject", &unstructured(&email.subject));
    push_header(&mut out, "Message-ID", &[format!("<campaign-{id}@{MESSAGE_ID_DOMAIN}>")]);
    push_header(&mut out, "MIME-Version", &["1.0".to_owned()]);
    push_header(&mut out, "X-Billetterie-Campaign", &[id.to_string()]);
    push_header(&mut out, "X-Billetterie-Kind", &[email.kind.as_str().to_owned()]);
    push_header(&mut out, "Content-Language", &[email.language.as_str().to_owned()]);

    if email.attachments.is_empty() {
        push_alternative(&mut out, email, &alternative, true);
    } else {
        push_header(&mut out, "Content-Type", &["multipart/mixed;".to_owned(), format!("boundary=\"{mixed}\"")]);
        out.push_str("\r\nThis is a multi-part message in MIME format.\r\n");
        let _ = write!(out, "--{mixed}\r\n");
        push_alternative(&mut out, email, &alternative, false);
        for attachment in &email.attachments {
            let _ = write!(out, "\r\n--{mixed}\r\n");
            push_attachment(&mut out, attachment);
        }
        let _ = write!(out, "\r\n--{mixed}--\r\n");
    }
    Ok(out)
}

/// The `multipart/alternative` entity (its `Content-Type` header, then its body).
fn push_alternative(out: &mut String, email: &OutgoingEmail, boundary: &str, top_level: bool) {
    push_header(out, "Content-Type", &["multipart/alternative;".to_owned(), format!("boundary=\"{boundary}\"")]);
    if top_level {
        out.push_str("\r\nThis is a multi-part message in MIME format.\r\n");
    } else {
        out.push_str("\r\n");
    }
    for (content_type, body) in [("text/plain", &email.text), ("text/html", &email.html)] {
        let _ = write!(out, "--{boundary}\r\n");
        push_header(out, "Content-Type", &[format!("{content_type}; charset=utf-8")]);
        push_header(out, "Content-Transfer-Encoding", &["quoted-printable".to_owned()]);
        out.push_str("\r\n");
        out.push_str(&quoted_printable(body));
        out.push_str("\r\n");
    }
    let _ = write!(out, "--{boundary}--");
    if top_level {
        out.push_str("\r\n");
    }
}

fn push_attachment(out: &mut String, attachment: &Attachment) {
    let content_type = attachment.content_type.trim();
    let content_type = if content_type.is_empty() { "application/octet-stream" } else { content_type };
    push_header(out, "Content-Type", &[format!("{content_type};"), filename_parameter("name", &attachment.filename)]);
    push_header(out, "Content-Transfer-Encoding", &["base64".to_owned()]);
    push_header(out, "Content-Disposition", &["attachment;".to_owned(), filename_parameter("filename", &attachment.filename)]);
    out.push_str("\r\n");
    out.push_str(&base64_lines(&attachment.bytes));
}

/// `name="value"` for printable ASCII; RFC 2231 `name*=utf-8''%XX…` otherwise.
fn filename_parameter(name: &str, value: &str) -> String {
    let value: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        format!("{name}=\"{}\"", quote(&value))
    } else {
        // RFC 2231's attribute characters: the unreserved ones and these.
        format!("{name}*=utf-8''{}", percent_encode_keeping(&value, b"!#$&+^`|"))
    }
}

/// One header field, folded before a token whenever the line would pass 78 characters.
/// Tokens are separated by one space (which folding keeps: unfolding removes only the CRLF).
fn push_header(out: &mut String, name: &str, tokens: &[String]) {
    out.push_str(name);
    out.push(':');
    let mut line_len = name.len() + 1;
    for token in tokens {
        let token_len = token.chars().count();
        if line_len + 1 + token_len > MAX_LINE && line_len > name.len() + 1 {
            out.push_str("\r\n");
            line_len = 0;
        }
        out.push(' ');
        out.push_str(token);
        line_len += 1 + token_len;
    }
    out.push_str("\r\n");
}

/// `"Name" <addr>`, `=?UTF-8?B?…?= <addr>` when the name is not ASCII, or `addr` alone.
fn mailbox(name: Option<&str>, address: &str) -> Vec<String> {
    let name = name.map(clean).unwrap_or_default();
    let name = name.trim();
    if name.is_empty() {
        return vec![address.to_owned()];
    }
    let mut tokens = if name.bytes().all(|b| (0x20..0x7f).contains(&b)) && !name.contains("=?") {
        vec![format!("\"{}\"", quote(name))]
    } else {
        encoded_words(name)
    };
    tokens.push(format!("<{address}>"));
    tokens
}

/// An unstructured field (the subject): as is when printable ASCII, else encoded-words.
fn unstructured(value: &str) -> Vec<String> {
    let value = clean(value);
    let plain = value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.contains("=?")
        && !value.starts_with(' ')
        && value.split(' ').all(|word| word.len() < MAX_LINE - "Subject: ".len());
    if plain {
        // Splitting on single spaces keeps runs of spaces (as empty tokens) through the re-join.
        value.split(' ').map(str::to_owned).collect()
    } else {
        encoded_words(&value)
    }
}

/// RFC 2047 `B` encoded-words of at most 39 bytes of text each, cut between characters.
/// The whitespace between adjacent encoded-words is not part of the decoded text.
pub(super) fn encoded_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > ENCODED_WORD_BYTES {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    words
}

/// Control characters (line breaks, tabs…) become spaces: a header value is one line.
fn clean(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The inside of a quoted-string.
fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

fn check_address(field: &str, address: &str) -> Result<(), TransportError> {
    let bad_char = address.chars().any(|c| c.is_control() || c.is_whitespace() || "<>\"(),;:\\[]".contains(c));
    let at = address.rfind('@');
    if bad_char || address.len() > 254 || at.is_none_or(|i| i == 0 || i + 1 == address.len()) {
        return Err(TransportError::Permanent(format!("{field}: not an e-mail address: {address:?}")));
    }
    Ok(())
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: line breaks (LF, CRLF or CR) become CRLF,
/// lines are soft-broken at 76 characters, trailing spaces and tabs are encoded.
pub fn quoted_printable(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() + normalized.len() / 8);
    for (i, line) in normalized.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut column = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal = ((33..=126).contains(&b) && b != b'=') || ((b == b' ' || b == b'\t') && !last);
            let width = if literal { 1 } else { 3 };
            // Room must stay for the `=` of a soft line break, unless this is the line's end.
            let limit = if last { MAX_BODY_LINE } else { MAX_BODY_LINE - 1 };
            if column + width > limit {
                out.push_str("=\r\n");
                column = 0;
            }
            if literal {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "={b:02X}");
            }
            column += width;
        }
    }
    out
}

/// Base64 in lines of 76 characters, CRLF-separated, with no final line break.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / MAX_BODY_LINE * 2);
    for (i, line) in encoded.as_bytes().chunks(MAX_BODY_LINE).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
    }
    out
}
