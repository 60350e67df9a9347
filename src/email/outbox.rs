//! The default transport: every mail becomes one RFC 5322 `.eml` file in a directory, where it can
//! be read (any mail client opens it), checked by tests, or picked up by something that relays it.
//!
//! The message is what a real mail would be: `multipart/alternative` (text, then HTML, both UTF-8
//! in quoted-printable) inside `multipart/mixed` when there are attachments (base64), CRLF line
//! endings, RFC 2047 encoded-words for non-ASCII names and subjects, no line longer than 78
//! characters except an overlong address. Boundaries start with `=_`, which neither
//! quoted-printable nor base64 can produce, so they cannot occur inside a part.
//!
//! Files are named `{campaign_id:08}-{kind}-{recipient}.eml` and written atomically (temporary
//! file in the same directory, flushed to disk, then renamed): a crash leaves either no file or
//! the whole file, never half of one. Sending the same campaign again replaces its file.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::email::transport::{Attachment, EmailTransport, OutgoingEmail, TransportError};

/// The domain of `Message-ID`s (`<campaign-{id}@billetterie.local>`).
pub const MESSAGE_ID_DOMAIN: &str = "billetterie.local";

/// Longest line RFC 5322 recommends (header lines are folded to it).
const MAX_LINE: usize = 78;
/// Longest encoded line RFC 2045 allows in quoted-printable and base64 bodies.
const MAX_BODY_LINE: usize = 76;
/// Bytes of text per encoded-word: `=?UTF-8?B?` + 52 base64 characters + `?=` is 64 characters,
/// so that even the first one, after `Subject: `, keeps its line within 78.
const ENCODED_WORD_BYTES: usize = 39;
/// Longest recipient part of a file name.
const MAX_RECIPIENT_CHARS: usize = 80;

/// Writes each mail as an `.eml` file in [`OutboxTransport::dir`].
#[derive(Debug, Clone)]
pub struct OutboxTransport {
    dir: PathBuf,
}

impl OutboxTransport {
    /// Creates the directory (and its parents) if needed.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl EmailTransport for OutboxTransport {
    /// `Ok` carries the path of the file written.
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(async move {
            let message = render(email, Utc::now())?;
            let name = file_name(email);
            let dir = self.dir.clone();
            let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, message.as_bytes()))
                .await
                .map_err(|e| TransportError::Transient(format!("outbox writer task failed: {e}")))?;
            match written {
                Ok(path) => Ok(path.display().to_string()),
                Err(e) => Err(TransportError::Transient(format!("could not write to the outbox {}: {e}", self.dir.display()))),
            }
        })
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

/// `{campaign_id:08}-{kind}-{recipient}.eml`, the recipient reduced to characters that are safe
/// in file names everywhere (`[A-Za-z0-9@._+-]`, anything else becoming `_`).
pub fn file_name(email: &OutgoingEmail) -> String {
    let recipient: String = email
        .to
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') { c } else { '_' })
        .take(MAX_RECIPIENT_CHARS)
        .collect();
    format!("{:08}-{}-{}.eml", email.campaign_id, email.kind.as_str(), recipient)
}

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
        let mut encoded = String::new();
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                let _ = write!(encoded, "%{b:02X}");
            }
        }
        format!("{name}*=utf-8''{encoded}")
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
fn encoded_words(value: &str) -> Vec<String> {
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

/// Temporary file in the same directory, flushed, renamed over the final name; the directory is
/// flushed too (where the platform allows) so that the rename itself survives a power cut.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, &path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailKind, Language};

    fn sample() -> OutgoingEmail {
        OutgoingEmail {
            campaign_id: 42,
            kind: EmailKind::Confirmation,
            language: Language::Fr,
            to: "zoe.tremblay@example.ca".into(),
            to_name: Some("Zoé Tremblay".into()),
            from: "billets@masterclass.example".into(),
            from_name: "Équipe de la masterclass ACT".into(),
            subject: "Votre réservation est confirmée — à bientôt à Montréal, le 14 mars ! Préparez vos questions".into(),
            html: format!(
                "<!doctype html>\n<html lang=\"fr\"><body><p style=\"font-family: Georgia, 'Times New Roman', serif; color: #333\">Bonjour Zoé,</p>\n\
                 <p>{}</p>\n<p>Référence : ÉTÉ-2026 = 2 places</p></body></html>\n",
                "Votre place est réservée pour la journée de formation à l'ACT (thérapie d'acceptation et d'engagement). ".repeat(4)
            ),
            text: "Bonjour Zoé,\r\n\r\nVotre réservation est confirmée. À bientôt !\nLigne avec espaces finaux   \n\
                   = signe égal en début de ligne\n.point en début\nœuvre, naïve, façade, « guillemets »\n"
                .into(),
            attachments: vec![Attachment {
                filename: "masterclass-montréal.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                bytes: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Masterclass ACT — Montréal\r\nEND:VCALENDAR\r\n"
                    .bytes()
                    .chain((0..=255u8).cycle().take(700))
                    .collect(),
            }],
        }
    }

    // A small MIME reader, independent of the writer.

    struct Entity {
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Entity {
        fn parse(raw: &str) -> Entity {
            let (head, body) = raw.split_once("\r\n\r\n").expect("a blank line after the headers");
            let mut headers: Vec<(String, String)> = Vec::new();
            for line in head.split("\r\n") {
                if line.starts_with(' ') || line.starts_with('\t') {
                    // Unfolding: the CRLF goes, the whitespace stays.
                    headers.last_mut().expect("a folded line continues a header").1.push_str(line);
                } else {
                    let (name, value) = line.split_once(':').expect("name: value");
                    headers.push((name.to_owned(), value.trim_start().to_owned()));
                }
            }
            Entity { headers, body: body.to_owned() }
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }

        fn all(&self, name: &str) -> usize {
            self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
        }

        fn boundary(&self) -> String {
            let content_type = self.header("Content-Type").unwrap();
            let start = content_type.find("boundary=\"").expect("a quoted boundary") + "boundary=\"".len();
            content_type[start..].split('"').next().unwrap().to_owned()
        }

        /// The body parts of a multipart entity; checks the delimiters and the closing one.
        fn parts(&self) -> Vec<Entity> {
            let boundary = self.boundary();
            assert!(boundary.len() <= 70);
            let body = format!("\r\n{}", self.body);
            let delimiter = format!("\r\n--{boundary}");
            let mut pieces: Vec<&str> = body.split(delimiter.as_str()).collect();
            let close = pieces.pop().expect("a closing delimiter");
            assert!(close == "--" || close == "--\r\n", "closing delimiter, got {close:?}");
            pieces.remove(0); // preamble
            pieces.into_iter().map(|p| Entity::parse(p.strip_prefix("\r\n").expect("CRLF after a delimiter"))).collect()
        }

        fn decoded(&self) -> Vec<u8> {
            match self.header("Content-Transfer-Encoding").unwrap() {
                "quoted-printable" => decode_qp(&self.body),
                "base64" => STANDARD.decode(self.body.replace("\r\n", "")).unwrap(),
                other => panic!("unexpected encoding {other}"),
            }
        }
    }

    fn decode_qp(s: &str) -> Vec<u8> {
        let s = s.replace("=\r\n", "");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// Decodes a header made of encoded-words and plain words.
    fn decode_words(value: &str) -> String {
        // Whitespace between two encoded-words is dropped; elsewhere it is kept (our headers
        // never put an encoded-word after a plain word).
        let mut out = String::new();
        for (i, word) in value.split(' ').enumerate() {
            if let Some(inner) = word.strip_prefix("=?UTF-8?B?").and_then(|w| w.strip_suffix("?=")) {
                out.push_str(&String::from_utf8(STANDARD.decode(inner).unwrap()).unwrap());
            } else {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
        out
    }

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("billetterie-outbox-test-{}", uuid::Uuid::new_v4().simple()))
    }

    fn assert_wire_format(raw: &str) {
        assert!(raw.is_ascii(), "the message is 7-bit");
        for (i, line) in raw.split("\r\n").enumerate() {
            assert!(!line.contains('\n') && !line.contains('\r'), "line {i}: bare CR or LF");
            assert!(line.len() <= MAX_LINE, "line {i} is {} long: {line}", line.len());
        }
        assert!(raw.ends_with("\r\n"));
    }

    #[tokio::test]
    async fn writes_a_message_that_parses_back() {
        let dir = temp_dir();
        let outbox = OutboxTransport::new(&dir).unwrap();
        let email = sample();
        let path = outbox.send(&email).await.unwrap();
        assert_eq!(outbox.name(), "outbox");
        assert_eq!(PathBuf::from(&path), dir.join("00000042-confirmation-zoe.tremblay@example.ca.eml"));
        let entries: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries.len(), 1, "no temporary file left: {entries:?}");

        let raw = fs::read_to_string(&path).unwrap();
        assert_wire_format(&raw);
        let message = Entity::parse(&raw);
        for name in ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "X-Billetterie-Campaign", "X-Billetterie-Kind"] {
            assert_eq!(message.all(name), 1, "{name}");
        }
        assert!(DateTime::parse_from_rfc2822(message.header("Date").unwrap()).is_ok());
        assert_eq!(decode_words(message.header("From").unwrap()), "Équipe de la masterclass ACT <billets@masterclass.example>");
        assert_eq!(decode_words(message.header("To").unwrap()), "Zoé Tremblay <zoe.tremblay@example.ca>");
        assert_eq!(decode_words(message.header("Subject").unwrap()), email.subject);
        assert!(message.header("Subject").unwrap().split(' ').count() > 1, "a long subject takes several encoded-words");
        assert_eq!(message.header("Message-ID"), Some("<campaign-42@billetterie.local>"));
        assert_eq!(message.header("MIME-Version"), Some("1.0"));
        assert_eq!(message.header("X-Billetterie-Campaign"), Some("42"));
        assert_eq!(message.header("X-Billetterie-Kind"), Some("confirmation"));
        assert_eq!(message.header("Content-Language"), Some("fr"));
        assert!(message.header("Content-Type").unwrap().starts_with("multipart/mixed;"));

        let parts = message.parts();
        assert_eq!(parts.len(), 2);
        let alternative = &parts[0];
        assert!(alternative.header("Content-Type").unwrap().starts_with("multipart/alternative;"));
        assert_ne!(alternative.boundary(), message.boundary());
        let texts = alternative.parts();
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[0].header("Content-Type"), Some("text/plain; charset=utf-8"));
        assert_eq!(texts[1].header("Content-Type"), Some("text/html; charset=utf-8"));
        let text = String::from_utf8(texts[0].decoded()).unwrap();
        assert_eq!(text, email.text.replace("\r\n", "\n").replace('\n', "\r\n"));
        let html = String::from_utf8(texts[1].decoded()).unwrap();
        assert_eq!(html, email.html.replace('\n', "\r\n"));

        let attachment = &parts[1];
        assert_eq!(
            attachment.header("Content-Type"),
            Some("text/calendar; charset=utf-8; method=PUBLISH; name*=utf-8''masterclass-montr%C3%A9al.ics")
        );
        assert_eq!(attachment.header("Content-Disposition"), Some("attachment; filename*=utf-8''masterclass-montr%C3%A9al.ics"));
        assert!(attachment.body.split("\r\n").all(|l| l.len() <= MAX_BODY_LINE));
        assert_eq!(attachment.decoded(), email.attachments[0].bytes);

        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn without_attachments_the_message_is_multipart_alternative() {
        let dir = temp_dir();
        let outbox = OutboxTransport::new(&dir).unwrap();
        let email = OutgoingEmail {
            kind: EmailKind::JMinus7,
            language: Language::En,
            to_name: None,
            from_name: "Masterclass \"ACT\" \\ Team".into(),
            subject: "See you  next week in Toronto: what to bring, where to go, and when doors open (8:30)".into(),
            attachments: vec![],
            ..sample()
        };
        let path = outbox.send(&email).await.unwrap();
        assert!(path.ends_with("00000042-j_minus_7-zoe.tremblay@example.ca.eml"));
        let raw = fs::read_to_string(&path).unwrap();
        assert_wire_format(&raw);
        let message = Entity::parse(&raw);
        assert_eq!(message.header("From"), Some(r#""Masterclass \"ACT\" \\ Team" <billets@masterclass.example>"#));
        assert_eq!(message.header("To"), Some("zoe.tremblay@example.ca"));
        assert_eq!(message.header("Subject"), Some(email.subject.as_str()), "ASCII stays readable; folding keeps the spaces");
        assert!(raw.contains("Subject: See you  next week"), "folded, not encoded");
        assert_eq!(message.header("Content-Language"), Some("en"));
        assert_eq!(message.header("X-Billetterie-Kind"), Some("j_minus_7"));
        assert!(message.header("Content-Type").unwrap().starts_with("multipart/alternative;"));
        let texts = message.parts();
        assert_eq!(texts.len(), 2);
        assert_eq!(String::from_utf8(texts[0].decoded()).unwrap(), email.text.replace("\r\n", "\n").replace('\n', "\r\n"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn sending_again_replaces_the_file() {
        let dir = temp_dir();
        let outbox = OutboxTransport::new(&dir).unwrap();
        let first = outbox.send(&sample()).await.unwrap();
        let email = OutgoingEmail { text: "deuxième version".into(), ..sample() };
        let second = outbox.send(&email).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert!(fs::read_to_string(&second).unwrap().contains("deuxi=C3=A8me version"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn header_injection_is_impossible() {
        let dir = temp_dir();
        let outbox = OutboxTransport::new(&dir).unwrap();
        let bad_to = OutgoingEmail { to: "victim@example.com\r\nBcc: everyone@example.com".into(), ..sample() };
        assert!(matches!(outbox.send(&bad_to).await, Err(TransportError::Permanent(_))));
        for to in ["", "no-at-sign", "@example.com", "someone@", "a b@example.com", "<a@example.com>"] {
            let email = OutgoingEmail { to: to.into(), ..sample() };
            assert!(matches!(outbox.send(&email).await, Err(TransportError::Permanent(_))), "{to:?}");
        }
        let email =
            OutgoingEmail { subject: "Hello\r\nBcc: everyone@example.com".into(), to_name: Some("Zoe\nBcc: x@y.z".into()), ..sample() };
        let raw = fs::read_to_string(outbox.send(&email).await.unwrap()).unwrap();
        let message = Entity::parse(&raw);
        assert_eq!(message.all("Bcc"), 0);
        assert_eq!(message.header("Subject"), Some("Hello  Bcc: everyone@example.com"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_names_are_safe() {
        let email = OutgoingEmail { campaign_id: 7, to: "o'brien/../x@exämple.com".into(), ..sample() };
        assert_eq!(file_name(&email), "00000007-confirmation-o_brien_.._x@ex_mple.com.eml");
    }

    #[tokio::test]
    async fn io_errors_are_transient() {
        let dir = temp_dir();
        let outbox = OutboxTransport::new(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        fs::write(&dir, b"a file where the directory was").unwrap();
        assert!(matches!(outbox.send(&sample()).await, Err(TransportError::Transient(_))));
        fs::remove_file(&dir).unwrap();
        // The directory is recreated when it has merely disappeared.
        assert!(outbox.send(&sample()).await.is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn quoted_printable_round_trips() {
        let long = "é".repeat(100);
        let cases = [
            "",
            "plain",
            "trailing space \ntrailing tab\t",
            "a=b ==",
            long.as_str(),
            "x\r\ny\rz\n",
            &"a".repeat(300),
            &format!("{} é", "b".repeat(74)),
        ];
        for case in cases {
            let encoded = quoted_printable(case);
            for line in encoded.split("\r\n") {
                assert!(line.len() <= MAX_BODY_LINE, "{line}");
                assert!(!line.ends_with(' ') && !line.ends_with('\t'), "{line:?}");
            }
            let expected = case.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
            assert_eq!(String::from_utf8(decode_qp(&encoded)).unwrap(), expected);
        }
    }

    #[test]
    fn encoded_words_fit_and_split_between_characters() {
        let words = encoded_words(&"€".repeat(40));
        assert!(words.len() > 1);
        for word in &words {
            assert!(word.len() <= 75, "{word}");
        }
        assert_eq!(decode_words(&words.join(" ")), "€".repeat(40));
    }
}
