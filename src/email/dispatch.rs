//! The e-mail service: finds due mails and claims them, then sends claimed mails through the
//! configured transport with retries. Both halves work from the database, so two scheduler runs,
//! two server instances or a restart never send a mail twice nor lose one.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::paperwork;
use super::render::{EmailContext, EmailRenderer, LinkTracker, NoTracking, RenderedEmail};
use super::sequence;
use super::tracking::SignedLinks;
use super::transport::{Attachment, EmailTransport, OutgoingEmail, TransportError};
use crate::config::{EmailTransportKind, Settings};
use crate::db::models::{AttendeeRow, BookingRow, EmailCampaignRow, NewEmailCampaign};
use crate::db::{self, AsyncPool, DbError};
use crate::domain::facts::DateFacts;
use crate::domain::taxes::TaxLine;
use crate::domain::tokens::{claim_url, feedback_url, offer_token, resources_url};
use crate::domain::BookingStatus;
use crate::domain::EmailStatus;
use crate::domain::SalesStatus;
use crate::domain::{EmailKind, Language};

/// What the mails need from the configuration.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub from_email: String,
    pub from_name: String,
    pub base_url: String,
    pub secret: String,
    pub send_hour: u32,
    pub max_attempts: i32,
}

impl From<&Settings> for EmailSettings {
    fn from(s: &Settings) -> Self {
        Self {
            from_email: s.sendgrid_from_email.clone(),
            from_name: s.email_from_name.clone(),
            base_url: s.frontend_url.trim_end_matches('/').to_owned(),
            secret: s.secret_key.expose().to_owned(),
            send_hour: s.email_send_hour,
            max_attempts: s.email_max_attempts.max(1),
        }
    }
}

/// The transport the settings name.
pub fn transport_from_settings(s: &Settings) -> anyhow::Result<Arc<dyn EmailTransport>> {
    Ok(match s.email_transport {
        EmailTransportKind::Outbox => Arc::new(super::outbox::OutboxTransport::new(&s.email_outbox_dir)?),
        EmailTransportKind::Smtp => Arc::new(super::smtp::SmtpTransport::new(&super::smtp::SmtpSettings::from(s))?),
        EmailTransportKind::Sendgrid => Arc::new(super::sendgrid::SendGridTransport::new(
            &s.sendgrid_api_base,
            s.sendgrid_api_key.expose().to_owned(),
            std::time::Duration::from_secs(15),
        )),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DueReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub struct EmailService {
    pool: AsyncPool,
    transport: Arc<dyn EmailTransport>,
    renderer: EmailRenderer,
    settings: EmailSettings,
}

/// Retry delay after `attempts` failed tries: 30 s, 1 min, 2 min… at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = (attempts.max(1) - 1).min(7) as u32;
    Duration::seconds((30 * 2i64.pow(exp)).min(3600))
}

impl EmailService {
    pub fn new(pool: AsyncPool, transport: Arc<dyn EmailTransport>, settings: EmailSettings) -> anyhow::Result<Self> {
        Ok(Self { pool, transport, renderer: EmailRenderer::new()?, settings })
    }

    pub fn transport_name(&self) -> &'static str {
        self.transport.name()
    }

    /// One pass at `now`: claim what is due, then send what is claimed and due.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<DueReport, DbError> {
        let claimed = self.claim_due(now).await?;
        let mut report = self.dispatch(now, 10_000).await?;
        report.claimed = claimed;
        Ok(report)
    }

    /// Claims the mails due at `now` (confirmations not yet claimed, reminders in their window).
    pub async fn claim_due(&self, now: DateTime<Utc>) -> Result<usize, DbError> {
        let mut conn = db::connection(&self.pool).await?;
        let bookings =
            db::emails::confirmed_bookings_starting_between(&mut conn, now - Duration::days(9), now + Duration::days(32)).await?;
        let ids: Vec<_> = bookings.iter().map(|(b, _, _)| b.id).collect();
        let people = db::emails::attendees_of(&mut conn, &ids).await?;
        let mut rows = Vec::new();
        for (booking, starts_at, tz) in &bookings {
            let Some(confirmed_at) = booking.confirmed_at else { continue };
            let claim = |kind: EmailKind, attendee_id: Option<i64>, email: &str, due: DateTime<Utc>| NewEmailCampaign {
                booking_id: booking.id,
                attendee_id,
                kind: kind.as_str(),
                recipient_email: email.to_owned(),
                language: booking.language.clone(),
                scheduled_for: due,
                // Sendable by this pass and by later ones, never before the pass's own instant.
                next_attempt_at: now,
            };
            // A safety net: payments asks for the confirmation itself; this catches a crash between.
            rows.push(claim(EmailKind::Confirmation, None, &booking.buyer_email, confirmed_at));
            let due = sequence::reminders_due(now, *starts_at, *tz, confirmed_at, self.settings.send_hour);
            if due.is_empty() {
                continue;
            }
            for (attendee_id, email) in recipients(booking, &people) {
                for (kind, at) in &due {
                    rows.push(claim(*kind, attendee_id, &email, *at));
                }
            }
        }
        Ok(db::emails::claim(&mut conn, &rows).await?)
    }

    /// Sends up to `limit` claimed mails due by `now`.
    pub async fn dispatch(&self, now: DateTime<Utc>, limit: usize) -> Result<DueReport, DbError> {
        let mut report = DueReport::default();
        let mut conn = db::connection(&self.pool).await?;
        db::emails::release_stuck(&mut conn, Utc::now() - Duration::minutes(10)).await?;
        drop(conn);
        let mut done = 0;
        while done < limit {
            let mut conn = db::connection(&self.pool).await?;
            let rows = db::emails::take_sendable(&mut conn, now, 50.min((limit - done) as i64)).await?;
            drop(conn);
            if rows.is_empty() {
                break;
            }
            done += rows.len();
            for row in rows {
                let span = tracing::info_span!("email.send", campaign_id = row.id, kind = %row.kind);
                let (counter, label) = match tracing::Instrument::instrument(self.send_one(&row, now), span).await? {
                    Outcome::Sent => (&mut report.sent, "sent"),
                    Outcome::Retry => (&mut report.retried, "retry"),
                    Outcome::Failed => (&mut report.failed, "failed"),
                    Outcome::Skipped => (&mut report.skipped, "skipped"),
                };
                *counter += 1;
                crate::metrics::metrics().emails.with_label_values(&[label]).inc();
            }
        }
        Ok(report)
    }

    async fn send_one(&self, row: &EmailCampaignRow, now: DateTime<Utc>) -> Result<Outcome, DbError> {
        let mut conn = db::connection(&self.pool).await?;
        let Some(kind) = EmailKind::parse(&row.kind) else {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, "unknown kind").await?;
            return Ok(Outcome::Failed);
        };
        let Some(booking_id) = row.booking_id else {
            drop(conn);
            return self.send_to_waiting(row, kind, now).await;
        };
        let Some(booking) = db::payments::booking(&mut conn, booking_id).await? else {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Skipped, "booking not found").await?;
            return Ok(Outcome::Skipped);
        };
        // Cancelled, refunded or expired bookings get nothing further (the refund notice is the
        // one mail meant for a booking that is not confirmed).
        // A waiting-list offer is worth sending only while its seat is still held for them.
        if kind == EmailKind::WaitlistOffer && (booking.status != BookingStatus::Held || booking.hold_expires_at <= now) {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Skipped, &format!("offer is {}", booking.status)).await?;
            return Ok(Outcome::Skipped);
        }
        // The cancellation mail goes to a booking the cancellation has since refunded or released.
        if !matches!(kind, EmailKind::RefundNotice | EmailKind::WaitlistOffer | EmailKind::DateCancelled)
            && booking.status != BookingStatus::Confirmed
        {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Skipped, &format!("booking is {}", booking.status)).await?;
            return Ok(Outcome::Skipped);
        }
        let Some(details) = db::catalogue::city_event(&mut conn, booking.city_event_id).await? else {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, "city event not found").await?;
            return Ok(Outcome::Failed);
        };
        // A cancelled date's buyers read one mail, the cancellation's, not a refund notice too.
        if kind == EmailKind::RefundNotice && details.event.status == SalesStatus::Cancelled {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Skipped, "the date's cancellation mail tells the refund").await?;
            return Ok(Outcome::Skipped);
        }
        let language = Language::from_db(&row.language);
        let message = message_for(&mut conn, kind, details.event.id, &row.occurrence, language).await?;
        if matches!(kind, EmailKind::Broadcast | EmailKind::DateCancelled) && message.is_none() {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, "its message is gone").await?;
            return Ok(Outcome::Failed);
        }
        let people = db::emails::attendees_of(&mut conn, &[booking.id]).await?;
        let facts = db::facts::for_date(&mut conn, details.event.masterclass_event_id, details.venue.id.0).await?;
        let mut ctx = self.context(kind, row, &booking, &details, &people, facts);
        ctx.message = message;
        ctx.partial_refund_cents =
            (kind == EmailKind::RefundNotice).then(|| db::payments::partial_refund_amount(&row.occurrence)).flatten();
        let documents =
            paperwork::for_mail(&mut conn, &self.settings.secret, &ctx, &row.recipient_email, &row.occurrence, &booking, &people).await;
        let documents = match documents {
            Ok(d) => d,
            Err(paperwork::PaperworkError::Db(e)) => return Err(e.into()),
            Err(e) => {
                tracing::error!(error = %e, "cannot draw the mail's documents");
                db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, &format!("documents failed: {e}")).await?;
                return Ok(Outcome::Failed);
            }
        };
        drop(conn);
        self.deliver(row, kind, ctx, documents, now).await
    }

    /// A mail to someone on the waiting list, who holds no booking: only a date's cancellation.
    async fn send_to_waiting(&self, row: &EmailCampaignRow, kind: EmailKind, now: DateTime<Utc>) -> Result<Outcome, DbError> {
        let mut conn = db::connection(&self.pool).await?;
        let entry = row.occurrence.strip_prefix("waitlist:").and_then(|n| n.parse::<i64>().ok());
        let found = match entry {
            Some(id) if kind == EmailKind::DateCancelled => db::admin::waitlist_recipient(&mut conn, id).await?,
            _ => None,
        };
        let Some((city_event_id, first_name)) = found else {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, "no waiting-list entry for this mail").await?;
            return Ok(Outcome::Failed);
        };
        let (Some(details), language) = (db::catalogue::city_event(&mut conn, city_event_id).await?, Language::from_db(&row.language))
        else {
            db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, "city event not found").await?;
            return Ok(Outcome::Failed);
        };
        let facts = db::facts::for_date(&mut conn, details.event.masterclass_event_id, details.venue.id.0).await?;
        let message = message_for(&mut conn, kind, city_event_id, "", language).await?;
        drop(conn);
        let mut ctx = date_context(kind, language, &details, facts, &self.settings.base_url);
        ctx.recipient_first_name = Some(first_name);
        ctx.message = message;
        ctx.waitlisted = true;
        ctx.booking_reference = String::new();
        self.deliver(row, kind, ctx, Vec::new(), now).await
    }

    /// Renders and sends one claimed mail, and records the outcome.
    async fn deliver(
        &self,
        row: &EmailCampaignRow,
        kind: EmailKind,
        ctx: EmailContext,
        documents: Vec<Attachment>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, DbError> {
        let links = SignedLinks { secret: &self.settings.secret, base_url: &self.settings.base_url, campaign_id: row.id };
        let rendered = match self.renderer.render(&ctx, &links) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot render mail");
                let mut conn = db::connection(&self.pool).await?;
                db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, &format!("rendering failed: {e}")).await?;
                return Ok(Outcome::Failed);
            }
        };
        let mut email = self.outgoing(row, kind, &ctx, rendered);
        email.attachments.extend(documents);
        let result = self.transport.send(&email).await;
        let mut conn = db::connection(&self.pool).await?;
        Ok(match result {
            Ok(provider_id) => {
                db::emails::mark_sent(&mut conn, row.id, now, &provider_id, self.transport.name()).await?;
                tracing::info!(transport = self.transport.name(), "mail sent");
                Outcome::Sent
            }
            Err(TransportError::Transient(e)) if row.attempts < self.settings.max_attempts => {
                tracing::warn!(error = %crate::domain::mask_emails_in(&e), attempts = row.attempts, "mail not sent; will retry");
                db::emails::mark_retry(&mut conn, row.id, now + backoff(row.attempts), &e).await?;
                Outcome::Retry
            }
            Err(TransportError::Transient(e) | TransportError::Permanent(e)) => {
                tracing::error!(error = %crate::domain::mask_emails_in(&e), attempts = row.attempts, "mail failed");
                db::emails::mark_final(&mut conn, row.id, EmailStatus::Failed, &e).await?;
                Outcome::Failed
            }
        })
    }

    fn context(
        &self,
        kind: EmailKind,
        row: &EmailCampaignRow,
        b: &BookingRow,
        d: &db::catalogue::CityEventDetails,
        people: &[AttendeeRow],
        facts: DateFacts,
    ) -> EmailContext {
        let recipient = row.attendee_id.and_then(|id| people.iter().find(|a| a.id.0 == id));
        let recipient_first_name = recipient.and_then(|a| a.first_name.clone()).or_else(|| Some(b.buyer_first_name.clone()));
        let language = Language::from_db(&row.language);
        let mut ctx = booking_context(&self.settings, kind, language, recipient_first_name, b, d, people, facts);
        // Each attendee answers for their own seat; a buyer mailed for the whole booking, for seat 1.
        let seat = recipient.map_or(1, |a| a.position);
        ctx.feedback_url = feedback_url(&self.settings.base_url, &self.settings.secret, language, &b.reference, seat);
        ctx
    }

    fn outgoing(&self, row: &EmailCampaignRow, kind: EmailKind, ctx: &EmailContext, r: RenderedEmail) -> OutgoingEmail {
        OutgoingEmail {
            campaign_id: row.id,
            kind,
            language: ctx.language,
            to: row.recipient_email.clone(),
            to_name: ctx.recipient_first_name.clone(),
            from: self.settings.from_email.clone(),
            from_name: self.settings.from_name.clone(),
            subject: r.subject,
            html: r.html,
            text: r.text,
            attachments: r.attachments,
        }
    }

    /// A mail rendered from sample data (`billetterie emails preview`).
    pub fn preview(kind: EmailKind, language: Language) -> anyhow::Result<RenderedEmail> {
        EmailRenderer::new()?.render(&EmailContext::sample(kind, language), &NoTracking as &dyn LinkTracker)
    }
}

enum Outcome {
    Sent,
    Retry,
    Failed,
    Skipped,
}

/// The J+1 mails of a day the organiser closed at the door: due now rather than the next day at
/// the send hour (the dispatcher's own pass later finds them claimed and adds nothing).
pub fn closing_mails(bookings: &[BookingRow], people: &[AttendeeRow], now: DateTime<Utc>) -> Vec<NewEmailCampaign> {
    bookings
        .iter()
        .flat_map(|b| {
            recipients(b, people).into_iter().map(move |(attendee_id, email)| NewEmailCampaign {
                booking_id: b.id,
                attendee_id,
                kind: EmailKind::JPlus1.as_str(),
                recipient_email: email,
                language: b.language.clone(),
                scheduled_for: now,
                next_attempt_at: now,
            })
        })
        .collect()
}

/// One mail per address: every attendee with an e-mail; the buyer when no attendee has one.
fn recipients(booking: &BookingRow, people: &[AttendeeRow]) -> Vec<(Option<i64>, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in people.iter().filter(|a| a.booking_id == booking.id) {
        if let Some(email) = &a.email {
            if seen.insert(email.clone()) {
                out.push((Some(a.id.0), email.clone()));
            }
        }
    }
    if out.is_empty() {
        out.push((None, booking.buyer_email.clone()));
    }
    out
}

/// The words a broadcast or cancellation mail carries, in `lang` (the dispatcher's side).
async fn message_for(
    conn: &mut db::AsyncConn,
    kind: EmailKind,
    city_event_id: i64,
    occurrence: &str,
    lang: Language,
) -> Result<Option<crate::email::render::Message>, DbError> {
    let fr = lang == Language::Fr;
    Ok(match kind {
        EmailKind::Broadcast => {
            let id = occurrence.strip_prefix("broadcast:").and_then(|n| n.parse().ok()).unwrap_or(0);
            db::admin::broadcast(conn, id).await?.map(|b| {
                if fr {
                    crate::email::render::Message { subject: b.subject_fr, body: b.body_fr }
                } else {
                    crate::email::render::Message { subject: b.subject_en, body: b.body_en }
                }
            })
        }
        EmailKind::DateCancelled => db::admin::cancellation(conn, city_event_id)
            .await?
            .map(|c| crate::email::render::Message { subject: String::new(), body: if fr { c.reason_fr } else { c.reason_en } }),
        _ => None,
    })
}

/// A mail about a date rather than a booking (a preview, the waiting list's cancellation notice):
/// the sample booking's shape with the date's own city, venue, times and facts.
pub fn date_context(
    kind: EmailKind,
    language: Language,
    d: &db::catalogue::CityEventDetails,
    facts: DateFacts,
    base_url: &str,
) -> EmailContext {
    let mut ctx = EmailContext::sample(kind, language);
    ctx.city_name = if language == Language::Fr { d.city.name_fr.clone() } else { d.city.name_en.clone() };
    ctx.venue_name = d.venue.name.clone();
    ctx.venue_address = d.venue.address.clone();
    ctx.venue_postal_code = d.venue.postal_code.clone();
    (ctx.starts_at, ctx.ends_at, ctx.time_zone) = (d.event.starts_at, d.event.ends_at, d.event.time_zone);
    ctx.facts = facts;
    ctx.manage_url = format!("{}/{}/", base_url.trim_end_matches('/'), language.as_str());
    ctx.message = None;
    ctx
}

/// What a mail says about one booking.
#[allow(clippy::too_many_arguments)]
pub fn booking_context(
    settings: &EmailSettings,
    kind: EmailKind,
    language: Language,
    recipient_first_name: Option<String>,
    b: &BookingRow,
    d: &db::catalogue::CityEventDetails,
    people: &[AttendeeRow],
    facts: DateFacts,
) -> EmailContext {
    let tz = d.event.time_zone;
    let base = &settings.base_url;
    let lang = language.as_str();
    EmailContext {
        kind,
        language,
        recipient_first_name,
        booking_reference: b.reference.clone(),
        buyer_name: format!("{} {}", b.buyer_first_name, b.buyer_last_name),
        quantity: b.quantity,
        attendee_names: people.iter().map(AttendeeRow::full_name).collect(),
        city_name: if language == Language::Fr { d.city.name_fr.clone() } else { d.city.name_en.clone() },
        venue_name: d.venue.name.clone(),
        venue_address: d.venue.address.clone(),
        venue_postal_code: d.venue.postal_code.clone(),
        starts_at: d.event.starts_at,
        ends_at: d.event.ends_at,
        time_zone: tz,
        unit_price_cents: b.unit_price_cents,
        subtotal_cents: b.subtotal_cents,
        discount_cents: b.discount_cents,
        taxes: serde_json::from_value::<Vec<TaxLine>>(b.taxes.clone()).unwrap_or_default(),
        total_cents: b.total_cents,
        manage_url: if kind == EmailKind::WaitlistOffer {
            claim_url(base, language, &offer_token(&settings.secret, b.id, b.hold_expires_at))
        } else {
            format!("{base}/{lang}/bookings/{}", b.reference)
        },
        resources_url: resources_url(base, &settings.secret, language, &b.reference),
        feedback_url: feedback_url(base, &settings.secret, language, &b.reference, 1),
        facts,
        refund_requested: b.status == crate::domain::BookingStatus::Refunded,
        confirmed_late: b.confirmed_at.is_some_and(|at| sequence::confirmed_late(at, d.event.starts_at, tz, settings.send_hour)),
        offer_expires_at: (kind == EmailKind::WaitlistOffer).then_some(b.hold_expires_at),
        message: None,
        waitlisted: false,
        partial_refund_cents: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(50), Duration::seconds(3600));
    }
}
