//! The PDFs of a booking, drawn from the mails' own context so that a ticket, an invoice, a
//! certificate and the mail that carries them print the same facts: which documents a mail
//! attaches, and the pieces "my booking" and the back office download.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;

use super::render::EmailContext;
use super::transport::Attachment;
use crate::db::invoices::{self, Amount, DocumentKind, InvoiceRow};
use crate::db::models::{AttendeeRow, BookingRow};
use crate::documents::certificate::Attendance;
use crate::documents::invoice::{Invoice, Kind};
use crate::documents::ticket::Seat;
use crate::documents::{self, Day, DocumentError};
use crate::domain::facts::doors_open;
use crate::domain::tokens::ticket_token;
use crate::domain::{BookingStatus, EmailKind};

pub const PDF: &str = "application/pdf";

/// The day as every document prints it.
pub fn day(ctx: &EmailContext) -> Day {
    let tz = ctx.time_zone;
    Day {
        language: ctx.language,
        title: ctx.facts.masterclass.title.get(ctx.language).to_owned(),
        presenter: ctx.facts.masterclass.presenter.clone(),
        city: ctx.city_name.clone(),
        venue_name: ctx.venue_name.clone(),
        venue_address: format!("{} {}", ctx.venue_address, ctx.venue_postal_code).trim().to_owned(),
        starts_at: ctx.starts_at.with_timezone(&tz),
        ends_at: ctx.ends_at.with_timezone(&tz),
        doors_at: doors_open(&ctx.facts.programme, ctx.starts_at).with_timezone(&tz),
        organiser: ctx.facts.organiser.clone(),
        ce_hours: ctx.facts.policies.ce_hours,
        reference: ctx.booking_reference.clone(),
    }
}

pub fn seat(secret: &str, a: &AttendeeRow) -> Seat {
    Seat { position: a.position, name: a.full_name(), token: ticket_token(secret, &a.ticket_code) }
}

/// The certificate of an attendee who came; `None` for one who did not (or has no name yet).
pub fn attendance(a: &AttendeeRow, issued_on: NaiveDate) -> Option<Attendance> {
    a.checked_in_at?;
    Some(Attendance { name: a.full_name()?, licence_number: a.licence_number.clone(), issued_on })
}

/// The invoice, or a credit note of it.
pub fn invoice(ctx: &EmailContext, b: &BookingRow, people: &[AttendeeRow], doc: &InvoiceRow, of: Option<&InvoiceRow>) -> Invoice {
    let tz = ctx.time_zone;
    let kind = match (doc.kind(), of) {
        (DocumentKind::CreditNote, Some(inv)) => Kind::CreditNote { invoice_number: inv.printed_number(), amount_cents: doc.amount_cents },
        _ => Kind::Invoice,
    };
    let settled_on = match doc.kind() {
        DocumentKind::Invoice => b.confirmed_at.map(|at| at.with_timezone(&tz).date_naive()),
        DocumentKind::CreditNote => Some(doc.issued_at.with_timezone(&tz).date_naive()),
    };
    Invoice {
        kind,
        number: doc.printed_number(),
        issued_on: doc.issued_at.with_timezone(&tz).date_naive(),
        buyer_name: ctx.buyer_name.clone(),
        buyer_email: b.buyer_email.clone(),
        company_name: b.company_name.clone(),
        billing_address: b.billing_address.clone(),
        purchase_order: b.purchase_order.clone(),
        attendee_names: people.iter().filter_map(AttendeeRow::full_name).collect(),
        quantity: ctx.quantity,
        unit_price_cents: ctx.unit_price_cents,
        subtotal_cents: ctx.subtotal_cents,
        discount_cents: ctx.discount_cents,
        taxes: ctx.taxes.clone(),
        total_cents: ctx.total_cents,
        settled_on,
    }
}

/// Whether a booking has documents: it was paid (a refunded one keeps its invoice and credit
/// notes). The one rule the mails, "my booking" and the back office apply.
pub fn has_documents(status: BookingStatus, confirmed_at: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    confirmed_at.is_some() && matches!(status, BookingStatus::Confirmed | BookingStatus::Refunded)
}

/// A booking's invoice, issued (numbered) the first time anyone asks for it: its confirmation
/// mail, "my booking" or the back office. Only a paid booking has one.
pub async fn booking_invoice(conn: &mut AsyncPgConnection, b: &BookingRow) -> diesel::QueryResult<Option<InvoiceRow>> {
    if !has_documents(b.status, b.confirmed_at) {
        return Ok(None);
    }
    invoices::issue(conn, b.id, DocumentKind::Invoice, "", Amount::Exactly(b.total_cents)).await.map(Some)
}

pub fn attachment(filename: String, bytes: Vec<u8>) -> Attachment {
    Attachment { filename, content_type: PDF.to_owned(), bytes }
}

/// Why a mail's documents could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PaperworkError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// What one mail carries, beyond its calendar file:
/// - the confirmation: the tickets of the seats it is written about, and the invoice when it
///   goes to the buyer;
/// - a refund notice to the buyer: the refund's credit note;
/// - the J+1 mail: the certificates of those of its seats who came.
///
/// A mail to an attendee is about the seats with that address; the buyer's is about every seat.
pub async fn for_mail(
    conn: &mut AsyncPgConnection,
    secret: &str,
    ctx: &EmailContext,
    recipient: &str,
    occurrence: &str,
    b: &BookingRow,
    people: &[AttendeeRow],
) -> Result<Vec<Attachment>, PaperworkError> {
    let to_buyer = recipient.eq_ignore_ascii_case(&b.buyer_email);
    let mine: Vec<&AttendeeRow> = people
        .iter()
        .filter(|a| a.booking_id == b.id)
        .filter(|a| to_buyer || a.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(recipient)))
        .collect();
    let day = day(ctx);
    let reference = &b.reference;
    let mut out = Vec::new();
    match ctx.kind {
        EmailKind::Confirmation => {
            let seats: Vec<Seat> = mine.iter().map(|a| seat(secret, a)).collect();
            if !seats.is_empty() {
                out.push(attachment(format!("tickets-{reference}.pdf"), documents::ticket::tickets(&day, b.quantity, &seats)?));
            }
            if to_buyer {
                if let Some(doc) = booking_invoice(conn, b).await? {
                    let inv = invoice(ctx, b, people, &doc, None);
                    out.push(attachment(format!("{}.pdf", doc.printed_number()), documents::invoice::render(&day, &inv)?));
                }
            }
        }
        EmailKind::RefundNotice if to_buyer => {
            if let Some(of) = booking_invoice(conn, b).await? {
                let amount = match ctx.partial_refund_cents {
                    Some(cents) => Amount::Exactly(cents),
                    None => Amount::RestOf(b.total_cents),
                };
                let key = if occurrence.is_empty() { "full" } else { occurrence };
                let doc = invoices::issue(conn, b.id, DocumentKind::CreditNote, key, amount).await?;
                let note = invoice(ctx, b, people, &doc, Some(&of));
                out.push(attachment(format!("{}.pdf", doc.printed_number()), documents::invoice::render(&day, &note)?));
            }
        }
        EmailKind::JPlus1 => {
            let today = chrono::Utc::now().with_timezone(&ctx.time_zone).date_naive();
            for a in mine {
                if let Some(who) = attendance(a, today) {
                    let bytes = documents::certificate::render(&day, &who)?;
                    out.push(attachment(format!("certificate-{reference}-{}.pdf", a.position), bytes));
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// A booking's mail context in `lang`, its facts read from their one source.
pub async fn context(
    conn: &mut AsyncPgConnection,
    settings: &super::dispatch::EmailSettings,
    lang: crate::domain::Language,
    b: &BookingRow,
    people: &[AttendeeRow],
    details: &crate::db::catalogue::CityEventDetails,
) -> diesel::QueryResult<EmailContext> {
    let facts = crate::db::facts::for_date(conn, details.event.masterclass_event_id, details.venue.id.0).await?;
    Ok(super::dispatch::booking_context(
        settings,
        EmailKind::Confirmation,
        lang,
        Some(b.buyer_first_name.clone()),
        b,
        details,
        people,
        facts,
    ))
}

/// The booking's invoice as a PDF (numbered now if it was not yet): `(file name, bytes)`, or
/// `None` for a booking never paid.
pub async fn invoice_pdf(
    conn: &mut AsyncPgConnection,
    ctx: &EmailContext,
    b: &BookingRow,
    people: &[AttendeeRow],
) -> Result<Option<(String, Vec<u8>)>, PaperworkError> {
    let Some(doc) = booking_invoice(conn, b).await? else { return Ok(None) };
    let inv = invoice(ctx, b, people, &doc, None);
    Ok(Some((format!("{}.pdf", doc.printed_number()), documents::invoice::render(&day(ctx), &inv)?)))
}
