//! `PaymentActor`: applies Stripe events and reconciliation passes, one at a time.
//!
//! The webhook endpoint records each event in `stripe_events` (unique id) and answers 2xx at
//! once; this actor then applies every unprocessed event, oldest first. Because events are read
//! from the database, none is lost if the process dies between the answer and the work: the actor
//! picks them up when it starts, and retries failed ones on a timer. What an event means for the
//! seats is `settle::Payments`; the Stripe side is `payments::Gateway`.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

mod seats;
mod settle;

pub use seats::SeatKeeper;
pub use settle::Payments;

use crate::payments::ReconcileReport;

pub struct PaymentActor {
    payments: Arc<Payments>,
    retry_every: Duration,
    reconcile_after: chrono::Duration,
}

/// Apply whatever events are recorded and not yet applied.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ProcessEvents;

/// One reconciliation pass (also applies pending events).
#[derive(Message)]
#[rtype(result = "Option<ReconcileReport>")]
pub struct Reconcile;

impl PaymentActor {
    pub fn start(payments: Arc<Payments>, reconcile_after: chrono::Duration, arbiter: &actix_rt::ArbiterHandle) -> Addr<Self> {
        Supervisor::start_in_arbiter(arbiter, move |_| PaymentActor { payments, retry_every: Duration::from_secs(30), reconcile_after })
    }
}

impl Actor for PaymentActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.notify(ProcessEvents);
        ctx.run_interval(self.retry_every, |_, ctx| ctx.notify(ProcessEvents));
    }
}

impl Supervised for PaymentActor {}

impl Handler<ProcessEvents> for PaymentActor {
    type Result = ();

    fn handle(&mut self, _: ProcessEvents, ctx: &mut Context<Self>) {
        let payments = self.payments.clone();
        // `wait`: no other message is handled until this pass ends, so two passes never apply the
        // same event concurrently.
        ctx.wait(
            async move {
                match payments.process_pending_events().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(applied = n, "Stripe events applied"),
                    Err(e) => tracing::warn!(error = %e, "cannot apply Stripe events now; will retry"),
                }
            }
            .into_actor(self),
        );
    }
}

impl Handler<Reconcile> for PaymentActor {
    type Result = AtomicResponse<Self, Option<ReconcileReport>>;

    fn handle(&mut self, _: Reconcile, _ctx: &mut Context<Self>) -> Self::Result {
        let payments = self.payments.clone();
        let older_than = self.reconcile_after;
        AtomicResponse::new(Box::pin(
            async move {
                match payments.reconcile(older_than).await {
                    Ok(report) => {
                        tracing::info!(?report, "reconciliation pass");
                        Some(report)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reconciliation pass failed");
                        None
                    }
                }
            }
            .into_actor(self),
        ))
    }
}
