//! SMTP: sending through the organiser's own mail provider (most speak SMTP submission), with
//! `lettre`. One connection per mail, one attempt per call: the dispatcher decides when to retry,
//! from the [`TransportError`] kind, as it does for SendGrid.
//!
//! The message carries what the outbox's `.eml` files carry: text and HTML alternatives, the
//! attachments (the `.ics`), a `Message-ID` fixed per campaign (a retry after a lost answer is
//! the same message to the receiver), and the campaign id and kind in `X-Billetterie-*` headers.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::outbox::MESSAGE_ID_DOMAIN;
use crate::config::{Settings, SmtpTls};
use crate::email::transport::{EmailTransport, OutgoingEmail, TransportError};

/// The campaign and kind headers, the same as in the outbox's files.
pub const CAMPAIGN_HEADER: &str = "X-Billetterie-Campaign";
pub const KIND_HEADER: &str = "X-Billetterie-Kind";

/// How long one SMTP command may take (connection, each reply) before the attempt is transient.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to connect.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// The name given in `EHLO`: this server's public host name (a relay may refuse `localhost`).
    pub hello_name: Option<String>,
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("hello_name", &self.hello_name)
            .finish_non_exhaustive()
    }
}

impl From<&Settings> for SmtpSettings {
    fn from(s: &Settings) -> Self {
        Self {
            host: s.smtp_host.trim().to_owned(),
            port: s.smtp_port.unwrap_or(s.smtp_tls.default_port()),
            tls: s.smtp_tls,
            username: s.smtp_username.trim().to_owned(),
            password: s.smtp_password.expose().to_owned(),
            hello_name: host_of(&s.frontend_url),
            timeout: COMMAND_TIMEOUT,
        }
    }
}

/// The host of `url` when it is a name (an IP address or `localhost` says nothing to a relay).
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let host = rest.split(['/', ':', '?', '#']).next()?.to_lowercase();
    let is_name = host.contains('.') && host.parse::<std::net::IpAddr>().is_err() && !host.ends_with("localhost");
    is_name.then_some(host)
}

/// The configuration cannot make a transport (a host TLS cannot verify against).
#[derive(Debug, thiserror::Error)]
#[error("SMTP relay {host}: {source}")]
pub struct SmtpConfigError {
    host: String,
    #[source]
    source: SmtpError,
}

/// Sends through an SMTP relay.
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for messages.
    relay: String,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport").field("relay", &self.relay).finish_non_exhaustive()
    }
}

impl SmtpTransport {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SmtpConfigError> {
        let host = settings.host.as_str();
        let config_error = |source| SmtpConfigError { host: host.to_owned(), source };
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(config_error)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(config_error)?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(settings.username.clone(), settings.password.clone()));
        }
        if let Some(name) = &settings.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(Self { mailer: builder.build(), relay: format!("{host}:{}", settings.port) })
    }

    #[tracing::instrument(name = "email.smtp", skip_all, fields(campaign_id = email.campaign_id, kind = email.kind.as_str()))]
    async fn send_once(&self, email: &OutgoingEmail) -> Result<String, TransportError> {
        let message = message(email)?;
        let response = self.mailer.send(message).await.map_err(|e| classify(&self.relay, &e))?;
        // The relay's acceptance, which usually names its queue id ("2.0.0 Ok: queued as …").
        Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")).trim().to_owned())
    }
}

impl EmailTransport for SmtpTransport {
    /// `Ok` carries the relay's answer to the message (its queue id, usually).
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(self.send_once(email))
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}

/// The MIME message: `multipart/mixed` (when there are attachments) around
/// `multipart/alternative` (text, then HTML). Refuses, as permanent, what no retry can fix: an
/// address that is not one, an attachment type that does not parse.
pub fn message(email: &OutgoingEmail) -> Result<Message, TransportError> {
    let address = |field: &str, value: &str| {
        value.trim().parse::<Address>().map_err(|e| TransportError::Permanent(format!("{field} {value:?} is not an address: {e}")))
    };
    let name = |n: Option<&str>| n.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.replace(char::is_control, " "));
    let from = Mailbox::new(name(Some(&email.from_name)), address("from", &email.from)?);
    let to = Mailbox::new(name(email.to_name.as_deref()), address("to", &email.to)?);
    let header = |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.replace(char::is_control, " "))
        .message_id(Some(format!("<campaign-{}@{MESSAGE_ID_DOMAIN}>", email.campaign_id)))
        .raw_header(header(CAMPAIGN_HEADER, email.campaign_id.to_string()))
        .raw_header(header(KIND_HEADER, email.kind.as_str().to_owned()))
        .raw_header(header("Content-Language", email.language.as_str().to_owned()));
    let alternative = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
    let built = if email.attachments.is_empty() {
        builder.multipart(alternative)
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for attachment in &email.attachments {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
                TransportError::Permanent(format!("attachment {:?}: content type {:?}: {e}", attachment.filename, attachment.content_type))
            })?;
            mixed = mixed.singlepart(MimeAttachment::new(attachment.filename.clone()).body(attachment.bytes.clone(), content_type));
        }
        builder.multipart(mixed)
    };
    built.map_err(|e| TransportError::Permanent(format!("the message cannot be built: {e}")))
}

/// Authentication refusals (RFC 4954: 530 required, 534 mechanism too weak, 535 invalid
/// credentials, 538 encryption required) are 5xx, yet they say nothing about the mail: the
/// operator fixes the settings and every queued mail must still go. They are retried.
const AUTHENTICATION_CODES: &[&str] = &["530", "534", "535", "538"];

/// 4xx answers and anything short of an answer (connection refused, TLS, timeout, a reply that
/// does not parse) are worth retrying; other 5xx answers (unknown recipient, refused content)
/// are not.
fn classify(relay: &str, e: &SmtpError) -> TransportError {
    let message = format!("SMTP relay {relay}: {e}");
    match e.status() {
        Some(code) if e.is_permanent() && AUTHENTICATION_CODES.contains(&code.to_string().as_str()) => {
            TransportError::Transient(format!("{message} (check SMTP_USERNAME and SMTP_PASSWORD)"))
        }
        Some(_) if e.is_permanent() => TransportError::Permanent(message),
        _ => TransportError::Transient(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::transport::Attachment;

    /// The shared sample, its subject carrying a header injection attempt.
    fn sample() -> OutgoingEmail {
        OutgoingEmail { subject: "C'est demain !\r\nBcc: intrus@example.com".into(), ..OutgoingEmail::sample() }
    }

    #[test]
    fn the_message_carries_the_campaign_and_cannot_be_injected() {
        let text = String::from_utf8(message(&sample()).unwrap().formatted()).unwrap();
        assert!(text.contains("X-Billetterie-Campaign: 42\r\n"), "{text}");
        assert!(text.contains("X-Billetterie-Kind: j_minus_1\r\n"), "{text}");
        assert!(text.contains("Message-ID: <campaign-42@billetterie.local>\r\n"), "{text}");
        assert!(text.contains("multipart/mixed") && text.contains("multipart/alternative"), "{text}");
        assert!(!text.contains("\r\nBcc:"), "a line break in the subject cannot add a header: {text}");

        let bad = OutgoingEmail { to: "not an address".into(), ..sample() };
        assert!(matches!(message(&bad), Err(TransportError::Permanent(m)) if m.contains("to \"not an address\"")));
        let bad_type = OutgoingEmail {
            attachments: vec![Attachment { filename: "x".into(), content_type: "nonsense".into(), bytes: vec![] }],
            ..sample()
        };
        assert!(matches!(message(&bad_type), Err(TransportError::Permanent(_))));
    }

    #[test]
    fn the_hello_name_is_the_public_host() {
        assert_eq!(host_of("https://billets.actcanada.ca/fr"), Some("billets.actcanada.ca".into()));
        assert_eq!(host_of("https://billets.actcanada.ca:8443"), Some("billets.actcanada.ca".into()));
        assert_eq!(host_of("http://127.0.0.1:8080"), None);
        assert_eq!(host_of("http://localhost:8080"), None);
        assert_eq!(host_of("nonsense"), None);
    }
}
