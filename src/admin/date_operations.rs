//! The organiser's operations on a whole date: write to everyone booked on it (previewed in both
//! languages, each address once, sent through the dispatcher and counted), and cancel it.
//!
//! A cancellation is a job that can always be run again: it claims every buyer's mail and records
//! itself first (`db::admin::start_cancellation`), stops sales through the actor, then takes each
//! booking from the state it is in now — a held one is released, a paid one refunded
//! (`Payments::refund`, whose Stripe idempotency key and status check make a second pass a no-op).
//! A crash half-way leaves the job unfinished; the next start of any instance (or the organiser
//! pressing the button again) finishes it, and nothing is refunded or mailed twice.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::audit;
use super::session::AdminSession;
use crate::db::admin::{BroadcastRow, CancellationProgress, NewBroadcast};
use crate::db::{self};
use crate::domain::{BookingStatus, CityEventId, EmailKind, InvalidInput, Language, SalesStatus};
use crate::email::render::{EmailRenderer, Message, NoTracking};
use crate::http::error::{ApiError, ApiResult};
use crate::payments::PaymentError;
use crate::state::AppState;

/// A message to everyone booked on a date, in both languages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    #[schema(example = "Changement de salle")]
    pub subject_fr: String,
    #[schema(example = "New room")]
    pub subject_en: String,
    /// Paragraphs separated by a blank line.
    pub body_fr: String,
    pub body_en: String,
}

/// Why the date is cancelled, in both languages (the mail says it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDateInput {
    pub reason_fr: String,
    pub reason_en: String,
}

/// The mail as each language's recipients will read it, and how many addresses it reaches.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BroadcastPreview {
    pub recipients: i64,
    pub fr: PreviewedMail,
    pub en: PreviewedMail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BroadcastView {
    pub id: i64,
    pub subject_fr: String,
    pub subject_en: String,
    pub sent_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Addresses claimed when it was sent, and mails gone out so far.
    pub recipients: i32,
    pub sent: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CancellationView {
    pub city_event_id: i64,
    pub started_by: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub progress: CancellationProgress,
}

fn text(raw: &str, field: &str, max: usize) -> Result<String, InvalidInput> {
    super::facts::words(raw, field, max, true)
}

impl BroadcastInput {
    pub fn parse(&self) -> Result<BroadcastInput, InvalidInput> {
        Ok(BroadcastInput {
            subject_fr: text(&self.subject_fr, "subject_fr", 200)?.replace('\n', " "),
            subject_en: text(&self.subject_en, "subject_en", 200)?.replace('\n', " "),
            body_fr: text(&self.body_fr.replace("\r\n", "\n"), "body_fr", 10_000)?,
            body_en: text(&self.body_en.replace("\r\n", "\n"), "body_en", 10_000)?,
        })
    }
}

impl CancelDateInput {
    pub fn parse(&self) -> Result<CancelDateInput, InvalidInput> {
        Ok(CancelDateInput {
            reason_fr: text(&self.reason_fr.replace("\r\n", "\n"), "reason_fr", 2000)?,
            reason_en: text(&self.reason_en.replace("\r\n", "\n"), "reason_en", 2000)?,
        })
    }
}

async fn details(state: &AppState, id: i64) -> ApiResult<db::catalogue::CityEventDetails> {
    let mut conn = db::connection(&state.pool).await?;
    db::catalogue::city_event(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("city_event_not_found", "No city event has this id."))
}

/// The mail in `lang` for this date, from the sample booking with the date's own facts.
async fn render_for(state: &AppState, id: i64, kind: EmailKind, lang: Language, message: Message) -> ApiResult<PreviewedMail> {
    let d = details(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    let facts = db::facts::for_date(&mut conn, d.event.masterclass_event_id, d.venue.id.0).await?;
    let mut ctx = crate::email::dispatch::date_context(kind, lang, &d, facts, &state.settings.frontend_url);
    ctx.message = Some(message);
    let rendered = EmailRenderer::new().and_then(|r| r.render(&ctx, &NoTracking)).map_err(|e| {
        tracing::error!(error = %e, "cannot render the preview");
        ApiError::internal()
    })?;
    Ok(PreviewedMail { subject: rendered.subject, text: rendered.text, html: rendered.html })
}

pub async fn preview_broadcast(state: &AppState, id: i64, input: &BroadcastInput) -> ApiResult<BroadcastPreview> {
    let m = input.parse()?;
    let fr = render_for(state, id, EmailKind::Broadcast, Language::Fr, Message { subject: m.subject_fr.clone(), body: m.body_fr.clone() });
    let en = render_for(state, id, EmailKind::Broadcast, Language::En, Message { subject: m.subject_en.clone(), body: m.body_en.clone() });
    let (fr, en) = (fr.await?, en.await?);
    let mut conn = db::connection(&state.pool).await?;
    Ok(BroadcastPreview { recipients: db::admin::broadcast_audience(&mut conn, id).await?, fr, en })
}

pub async fn send_broadcast(state: &AppState, who: &AdminSession, id: i64, input: &BroadcastInput) -> ApiResult<BroadcastView> {
    let m = input.parse()?;
    details(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    let row = NewBroadcast {
        city_event_id: id,
        subject_fr: m.subject_fr,
        subject_en: m.subject_en,
        body_fr: m.body_fr,
        body_en: m.body_en,
        sent_by: who.email.clone(),
    };
    let (broadcast_id, recipients) = db::admin::send_broadcast(&mut conn, &row).await?;
    audit::record(
        &mut conn,
        who,
        "city_event.broadcast",
        "city_event",
        &id.to_string(),
        None,
        Some(json!({"broadcast_id": broadcast_id,
        "subject_fr": row.subject_fr, "subject_en": row.subject_en, "recipients": recipients})),
    )
    .await?;
    state.email_dispatcher.do_send(crate::actors::email::Dispatch);
    let b = db::admin::broadcast(&mut conn, broadcast_id).await?.ok_or_else(ApiError::internal)?;
    Ok(view(b, 0))
}

fn view(b: BroadcastRow, sent: i64) -> BroadcastView {
    BroadcastView {
        id: b.id,
        subject_fr: b.subject_fr,
        subject_en: b.subject_en,
        sent_by: b.sent_by,
        created_at: b.created_at,
        recipients: b.recipients,
        sent,
    }
}

pub async fn broadcasts(state: &AppState, id: i64) -> ApiResult<Vec<BroadcastView>> {
    details(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::admin::broadcasts_of(&mut conn, id).await?.into_iter().map(|(b, sent)| view(b, sent)).collect())
}

pub async fn cancellation(state: &AppState, id: i64) -> ApiResult<Option<CancellationView>> {
    let mut conn = db::connection(&state.pool).await?;
    let Some(c) = db::admin::cancellation(&mut conn, id).await? else { return Ok(None) };
    let progress = db::admin::cancellation_progress(&mut conn, id).await?;
    Ok(Some(CancellationView {
        city_event_id: id,
        started_by: c.started_by,
        started_at: c.started_at,
        finished_at: c.finished_at,
        last_error: c.last_error,
        progress,
    }))
}

/// Cancels the date (or finishes cancelling it) and answers with where it stands.
pub async fn cancel_date(state: &AppState, who: &AdminSession, id: i64, input: &CancelDateInput) -> ApiResult<CancellationView> {
    let reasons = input.parse()?;
    let before = details(state, id).await?;
    let mut conn = db::connection(&state.pool).await?;
    let first = db::admin::cancellation(&mut conn, id).await?.is_none();
    db::admin::start_cancellation(&mut conn, id, &reasons.reason_fr, &reasons.reason_en, &who.email).await?;
    if first {
        let change = json!({"status_before": before.event.status, "reason_fr": reasons.reason_fr, "reason_en": reasons.reason_en});
        audit::record(&mut conn, who, "city_event.cancel", "city_event", &id.to_string(), None, Some(change)).await?;
    }
    drop(conn);
    run_cancellation(state, id).await;
    cancellation(state, id).await?.ok_or_else(ApiError::internal)
}

/// One pass of a cancellation: sales stop, then every booking it is about is taken from where
/// it stands. Errors are recorded on the job (left unfinished, for the next pass), not returned.
pub async fn run_cancellation(state: &AppState, id: i64) {
    let span = tracing::info_span!("admin.cancel_date", city_event_id = id);
    let outcome = tracing::Instrument::instrument(cancellation_pass(state, id), span).await;
    let error = outcome.err().map(|e| {
        tracing::error!(city_event_id = id, error = %e, "date cancellation incomplete; it will be resumed");
        e
    });
    if let Ok(mut conn) = db::connection(&state.pool).await {
        let _ = db::admin::finish_cancellation(&mut conn, id, error.as_deref()).await;
    }
    state.email_dispatcher.do_send(crate::actors::email::Dispatch);
}

async fn cancellation_pass(state: &AppState, id: i64) -> Result<(), String> {
    let cancelled = SalesStatus::Cancelled.as_str();
    match state.registry.actor(CityEventId(id)) {
        Some(h) => h.set_status(cancelled).await.map_err(|e| format!("stopping sales: {e}"))?,
        None => {
            let mut conn = db::connection(&state.pool).await.map_err(|e| e.to_string())?;
            db::admin::set_status(&mut conn, id, cancelled).await.map_err(|e| e.to_string())?;
            if let Some(d) = db::catalogue::city_event(&mut conn, id).await.map_err(|e| e.to_string())? {
                state.registry.refresh(d);
            }
        }
    }
    let bookings = {
        let mut conn = db::connection(&state.pool).await.map_err(|e| e.to_string())?;
        db::admin::cancellation_bookings(&mut conn, id).await.map_err(|e| e.to_string())?
    };
    let mut failures = Vec::new();
    for b in bookings {
        let result = match b.status {
            BookingStatus::Held => match state.registry.actor(CityEventId(id)) {
                Some(h) => h.cancel(b.id).await,
                None => super::bookings::seats_in_database(state, &b, db::bookings::Transition::CancelHeld).await,
            }
            .map_err(|e| e.to_string()),
            BookingStatus::Confirmed => match state.payments.refund(&b, None).await {
                Ok(_) | Err(PaymentError::NotRefundable(_)) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(booking = %b.reference, error = %e, "booking not cancelled yet");
            failures.push(format!("{}: {e}", b.reference));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// At start: finishes the cancellations a crash or a stop left half done.
pub async fn resume_cancellations(state: AppState) {
    let ids = match db::connection(&state.pool).await {
        Ok(mut conn) => db::admin::unfinished_cancellations(&mut conn).await.unwrap_or_default(),
        Err(_) => return,
    };
    for id in ids {
        tracing::info!(city_event_id = id, "resuming a date cancellation");
        run_cancellation(&state, id).await;
    }
}
