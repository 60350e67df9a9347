//! How a rendered mail leaves: the transport trait, and the message it carries.

use futures::future::BoxFuture;

use crate::domain::{EmailKind, Language};

/// A file attached to a mail (the `.ics` calendar file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `text/calendar; charset=utf-8; method=PUBLISH`
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One mail to one address, ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    /// The `email_campaigns` row this mail is; transports carry it (SendGrid `custom_args`, a
    /// header in `.eml` files) so events can be matched back.
    pub campaign_id: i64,
    pub kind: EmailKind,
    pub language: Language,
    pub to: String,
    pub to_name: Option<String>,
    pub from: String,
    pub from_name: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

#[cfg(test)]
impl OutgoingEmail {
    /// One French J-1 mail with its `.ics`, for the transports' tests.
    pub fn sample() -> Self {
        Self {
            campaign_id: 42,
            kind: EmailKind::JMinus1,
            language: Language::Fr,
            to: "zoe@example.ca".into(),
            to_name: Some("Zoé Tremblay".into()),
            from: "billets@example.org".into(),
            from_name: "Équipe ACT".into(),
            subject: "C'est demain !".into(),
            html: "<p>À demain !</p>".into(),
            text: "À demain !".into(),
            attachments: vec![Attachment {
                filename: "masterclass.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                bytes: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Worth retrying later (429, 5xx, timeouts, a full disk…).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Retrying the same mail will not help (invalid address, refused content…).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Sends mails. Implementations: `outbox::OutboxTransport` (default: `.eml` files),
/// `smtp::SmtpTransport` (an SMTP relay) and `sendgrid::SendGridTransport` (SendGrid's v3 HTTP API).
pub trait EmailTransport: Send + Sync {
    /// Sends one mail; `Ok` carries the provider's message id (or the file written).
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>>;

    /// For logs and health: `outbox`, `smtp` or `sendgrid`.
    fn name(&self) -> &'static str;
}
