//! The outbox's files and the messages in them, parsed back as a mail client would.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::DateTime;

use super::message::{encoded_words, MAX_BODY_LINE, MAX_LINE};
use super::*;
use crate::domain::{EmailKind, Language};
use crate::email::transport::Attachment;

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
    let email = OutgoingEmail { subject: "Hello\r\nBcc: everyone@example.com".into(), to_name: Some("Zoe\nBcc: x@y.z".into()), ..sample() };
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
