//! Writing the mails: handlebars templates (`templates/emails/{html,text}/`, compiled into the
//! binary, `templates`), human text from the locale store (the `email` section, `data`), money,
//! dates and times by the store's formats. Templates hold no human text and this module holds
//! none either: every sentence, label, month name and time pattern is a locale string.
//!
//! Locale strings may use `{{placeholders}}`. The strings of a mail are rendered once per mail with
//! the mail's values (city, date, reference…) and handed to the templates as `t`; the strings under
//! `patterns` and `ics` are used by the Rust side.

mod context;
mod data;
mod templates;

use anyhow::Context as _;
use handlebars::Handlebars;

pub use context::{EmailContext, Message};

use crate::domain::EmailKind;
use crate::email::transport::Attachment;

/// Wraps links for click tracking and provides the open pixel; the dispatcher implements it.
pub trait LinkTracker {
    fn click_url(&self, target: &str) -> String;
    fn open_pixel_url(&self) -> Option<String>;
}

/// Links as they are, no pixel.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTracking;

impl LinkTracker for NoTracking {
    fn click_url(&self, target: &str) -> String {
        target.to_owned()
    }

    fn open_pixel_url(&self) -> Option<String> {
        None
    }
}

/// A mail ready for a transport: subject, both parts, attachments (the `.ics` of a confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// The two template registries (HTML, plain text); the strings come from the locale store. Build
/// it once and share it (`Send + Sync`); rendering does not touch the file system.
pub struct EmailRenderer {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
}

impl EmailRenderer {
    pub fn new() -> anyhow::Result<Self> {
        // Loads the store now, so a broken locale file stops the start rather than a mail.
        crate::i18n::locale(crate::domain::Language::Fr)?;
        let (html, text) = templates::registries()?;
        Ok(Self { html, text })
    }

    pub fn render(&self, ctx: &EmailContext, links: &dyn LinkTracker) -> anyhow::Result<RenderedEmail> {
        let name = ctx.kind.as_str();
        let data = data::data(ctx, links).with_context(|| format!("preparing the {name} mail ({})", ctx.language.as_str()))?;
        let subject = data["subject"].as_str().unwrap_or_default().to_owned();
        let html = self.html.render(name, &data).with_context(|| format!("rendering templates/emails/html/{name}.hbs"))?;
        let text = self.text.render(name, &data).with_context(|| format!("rendering templates/emails/text/{name}.hbs"))?;
        let attachments = match ctx.kind {
            EmailKind::Confirmation => vec![Attachment {
                filename: format!("act-masterclass-{}.ics", ctx.booking_reference),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
                bytes: crate::calendar::calendar(&ctx.calendar_day()).into_bytes(),
            }],
            _ => Vec::new(),
        };
        Ok(RenderedEmail { subject, html: templates::tidy(&html), text: templates::tidy(&text), attachments })
    }
}

impl EmailRenderer {
    /// The receipt of a booking as a page of its own ("my booking"'s download): the mail's own
    /// receipt partial, so the page and the confirmation mail print the same lines.
    pub fn render_receipt(&self, ctx: &EmailContext) -> anyhow::Result<String> {
        let data = data::data(ctx, &NoTracking).context("preparing the receipt")?;
        self.html.render("receipt_document", &data).context("rendering templates/emails/html/receipt_document.hbs")
    }
}

#[cfg(test)]
mod tests;
