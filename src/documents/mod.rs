//! The PDFs of the day: tickets (one page per attendee, a QR code of the signed ticket token),
//! invoices and credit notes, certificates of attendance. Pure: the caller gathers the facts
//! (from their one source, through the mails' context) and gets bytes back; every word comes
//! from the locale store's `documents` section, every amount and date from its formatters.
//!
//! krilla writes the PDF (fonts subset to the glyphs used: a ticket is a few kilobytes, not the
//! font's 700); the fonts (DejaVu Sans, free licence, `templates/documents/fonts/`) are compiled in.

pub mod certificate;
pub mod invoice;
pub mod layout;
pub mod qr;
pub mod ticket;

use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::domain::facts::Organiser;
use crate::domain::Language;
use crate::i18n::{self, Locale};

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("locale: {0}")]
    Locale(#[from] i18n::LocaleError),
    #[error("QR code: {0}")]
    Qr(String),
    #[error("layout: {0}")]
    Layout(&'static str),
    #[error("PDF: {0}")]
    Pdf(String),
}

/// What every document of a booking says about its day.
#[derive(Debug, Clone)]
pub struct Day {
    pub language: Language,
    pub title: String,
    pub presenter: String,
    pub city: String,
    pub venue_name: String,
    /// Street address and postal code, one line.
    pub venue_address: String,
    pub starts_at: DateTime<Tz>,
    pub ends_at: DateTime<Tz>,
    pub doors_at: DateTime<Tz>,
    pub organiser: Organiser,
    pub ce_hours: u32,
    pub reference: String,
}

impl Day {
    fn locale(&self) -> Result<&'static Locale, DocumentError> {
        Ok(i18n::locale(self.language)?)
    }

    /// The placeholders every document's strings may use.
    fn vars(&self, l: &Locale) -> Value {
        json!({
            "reference": self.reference,
            "city": self.city,
            "venue": self.venue_name,
            "date": l.date(self.starts_at.date_naive()),
            "start": l.time(self.starts_at.time()),
            "end": l.time(self.ends_at.time()),
            "doors": l.time(self.doors_at.time()),
            "zone": l.zone(&self.starts_at),
            "organiser": self.organiser.legal_name,
            "support_email": self.organiser.support_email,
            "presenter": self.presenter,
            "ce_hours": self.ce_hours,
        })
    }
}

/// `vars` with more values on top.
fn with(mut vars: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (vars.as_object_mut(), more) {
        base.extend(more);
    }
    vars
}

fn text(l: &Locale, path: &str, vars: &Value) -> Result<String, DocumentError> {
    Ok(l.text(&format!("documents.{path}"), vars)?)
}
