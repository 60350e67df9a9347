//! Invoices and credit notes, numbered without gaps.
//!
//! A number is taken by `UPDATE invoice_sequences … RETURNING` in the transaction that inserts
//! the document: the row lock orders concurrent issuers, and a rolled-back transaction gives its
//! number back (a PostgreSQL sequence would leave a hole). The lock is taken before looking for
//! an existing document, so two mails issuing the same booking's invoice at once get one invoice.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{invoice_sequences, invoices};
use crate::domain::BookingId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
        }
    }

    /// The printed number's prefix: the same in both languages, a document keeps its number.
    fn prefix(self) -> &'static str {
        match self {
            Self::Invoice => "F",
            Self::CreditNote => "NC",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::pg::Pg))]
pub struct InvoiceRow {
    pub id: i64,
    pub kind: String,
    pub number: i64,
    pub booking_id: BookingId,
    pub amount_cents: i64,
    pub occurrence: String,
    pub issued_at: DateTime<Utc>,
}

impl InvoiceRow {
    pub fn kind(&self) -> DocumentKind {
        if self.kind == "credit_note" {
            DocumentKind::CreditNote
        } else {
            DocumentKind::Invoice
        }
    }

    /// e.g. `F-000042`.
    pub fn printed_number(&self) -> String {
        format!("{}-{:06}", self.kind().prefix(), self.number)
    }
}

/// What a new document is worth.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Exactly(i64),
    /// What `total` leaves once the booking's earlier credit notes are taken off (a full refund
    /// after partial ones).
    RestOf(i64),
}

/// The booking's document of `kind` for `occurrence` (`""` for the invoice, the refund's mail
/// occurrence for a credit note), issued now if it does not exist yet.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    booking_id: BookingId,
    kind: DocumentKind,
    occurrence: &str,
    amount: Amount,
) -> QueryResult<InvoiceRow> {
    let occurrence = occurrence.to_owned();
    conn.transaction(async move |conn| {
        invoice_sequences::table.find(kind.as_str()).select(invoice_sequences::last_number).for_update().first::<i64>(conn).await?;
        let existing = invoices::table
            .filter(invoices::booking_id.eq(booking_id))
            .filter(invoices::kind.eq(kind.as_str()))
            .filter(invoices::occurrence.eq(&occurrence))
            .select(InvoiceRow::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(row) = existing {
            return Ok(row);
        }
        let amount = match amount {
            Amount::Exactly(cents) => cents,
            // Read under the lock: two refunds told at once cannot both claim the same remainder.
            Amount::RestOf(total) => (total - credited(conn, booking_id).await?).max(0),
        };
        let number: i64 = diesel::update(invoice_sequences::table.find(kind.as_str()))
            .set(invoice_sequences::last_number.eq(invoice_sequences::last_number + 1))
            .returning(invoice_sequences::last_number)
            .get_result(conn)
            .await?;
        diesel::insert_into(invoices::table)
            .values((
                invoices::kind.eq(kind.as_str()),
                invoices::number.eq(number),
                invoices::booking_id.eq(booking_id),
                invoices::amount_cents.eq(amount),
                invoices::occurrence.eq(&occurrence),
            ))
            .returning(InvoiceRow::as_returning())
            .get_result(conn)
            .await
    })
    .await
}

/// What the booking's credit notes already gave back.
pub async fn credited(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<i64> {
    let total: Option<i64> = invoices::table
        .filter(invoices::booking_id.eq(booking_id))
        .filter(invoices::kind.eq(DocumentKind::CreditNote.as_str()))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>("sum(amount_cents)::int8"))
        .first(conn)
        .await?;
    Ok(total.unwrap_or(0))
}

/// A booking's invoice and credit notes, oldest first.
pub async fn of_booking(conn: &mut AsyncPgConnection, booking_id: BookingId) -> QueryResult<Vec<InvoiceRow>> {
    invoices::table
        .filter(invoices::booking_id.eq(booking_id))
        .order((invoices::issued_at, invoices::id))
        .select(InvoiceRow::as_select())
        .load(conn)
        .await
}

/// What the buyer asks the documents to print: the invoice's billing details and each seat's
/// licence number (`(position, number)`), written together or not at all.
pub async fn set_details(
    conn: &mut AsyncPgConnection,
    booking_id: BookingId,
    billing: &crate::domain::billing::Billing,
    licences: &[(i32, Option<String>)],
) -> QueryResult<()> {
    use super::schema::{attendees, bookings};
    conn.transaction(async move |conn| {
        diesel::update(bookings::table.find(booking_id))
            .set((
                bookings::company_name.eq(&billing.company_name),
                bookings::billing_address.eq(&billing.billing_address),
                bookings::purchase_order.eq(&billing.purchase_order),
                bookings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        for (position, licence) in licences {
            diesel::update(attendees::table.filter(attendees::booking_id.eq(booking_id)).filter(attendees::position.eq(position)))
                .set(attendees::licence_number.eq(licence))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}
