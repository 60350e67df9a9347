//! `EmailDispatcher`: sends the mails claimed in `email_campaigns`, supervised.
//!
//! Every few seconds it sends what is due (confirmations asked for by payments, retries whose
//! back-off ended); every minute the scheduler asks it for a full pass (claim the reminders now
//! due, then send). The queue lives in the database, so a restart loses nothing: the next pass
//! picks up where the last one stopped.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::email::dispatch::{DueReport, EmailService};

pub struct EmailDispatcher {
    service: Arc<EmailService>,
    tick: Duration,
}

/// Send what is due now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Dispatch;

/// Claim what is due at `now` (default: the present), then send it.
#[derive(Message)]
#[rtype(result = "Option<DueReport>")]
pub struct RunDue(pub Option<DateTime<Utc>>);

impl EmailDispatcher {
    pub fn start(service: Arc<EmailService>, tick: Duration, arbiter: &actix_rt::ArbiterHandle) -> Addr<Self> {
        Supervisor::start_in_arbiter(arbiter, move |_| EmailDispatcher { service, tick })
    }
}

impl Actor for EmailDispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.notify(Dispatch);
        ctx.run_interval(self.tick, |_, ctx| ctx.notify(Dispatch));
    }
}

impl Supervised for EmailDispatcher {}

impl Handler<Dispatch> for EmailDispatcher {
    type Result = ();

    // Every few seconds, so at debug level; the pass's own logs carry it.
    #[tracing::instrument(name = "email.dispatch", level = "debug", skip_all)]
    fn handle(&mut self, _: Dispatch, ctx: &mut Context<Self>) {
        let service = self.service.clone();
        // `wait`: one pass at a time in this process (other instances are kept apart by the
        // database's row locks).
        ctx.wait(
            async move {
                match service.dispatch(Utc::now(), 500).await {
                    Ok(report) if report == DueReport::default() => {}
                    Ok(report) => tracing::info!(?report, "mails dispatched"),
                    Err(e) => tracing::warn!(error = %e, "cannot dispatch mails now; will retry"),
                }
            }
            .instrument(tracing::Span::current())
            .into_actor(self),
        );
    }
}

impl Handler<RunDue> for EmailDispatcher {
    type Result = AtomicResponse<Self, Option<DueReport>>;

    #[tracing::instrument(name = "email.run_due", skip_all, fields(at = ?msg.0))]
    fn handle(&mut self, msg: RunDue, _ctx: &mut Context<Self>) -> Self::Result {
        let service = self.service.clone();
        let now = msg.0.unwrap_or_else(Utc::now);
        AtomicResponse::new(Box::pin(
            async move {
                match service.run_due(now).await {
                    Ok(report) => Some(report),
                    Err(e) => {
                        tracing::warn!(error = %e, "e-mail pass failed");
                        None
                    }
                }
            }
            .instrument(tracing::Span::current())
            .into_actor(self),
        ))
    }
}
