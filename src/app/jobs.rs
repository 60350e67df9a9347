//! The periodic jobs (tokio-cron-scheduler), each a message to its actor or one pass of a task:
//! Stripe reconciliation, the e-mail pass, the privacy retention pass.

use crate::actors::email::{EmailDispatcher, RunDue};
use crate::actors::payment::{PaymentActor, Reconcile};
use crate::config::Settings;
use crate::db::AsyncPool;

/// The periodic jobs, as messages to their actors: Stripe reconciliation (`RECONCILE_CRON`) and
/// the e-mail pass that claims due reminders (`EMAIL_CRON`).
pub async fn schedule(
    settings: &Settings,
    payments: actix::Addr<PaymentActor>,
    emails: actix::Addr<EmailDispatcher>,
    pool: AsyncPool,
) -> anyhow::Result<tokio_cron_scheduler::JobScheduler> {
    use tokio_cron_scheduler::{Job, JobScheduler};
    let scheduler = JobScheduler::new().await?;
    let reconcile = Job::new_async(settings.reconcile_cron.as_str(), move |_id, _scheduler| {
        let actor = payments.clone();
        Box::pin(async move {
            let _ = actor.send(Reconcile).await;
        })
    })
    .map_err(|e| anyhow::anyhow!("RECONCILE_CRON {:?} is not a valid cron expression: {e}", settings.reconcile_cron))?;
    let run_due = Job::new_async(settings.email_cron.as_str(), move |_id, _scheduler| {
        let actor = emails.clone();
        Box::pin(async move {
            let _ = actor.send(RunDue(None)).await;
        })
    })
    .map_err(|e| anyhow::anyhow!("EMAIL_CRON {:?} is not a valid cron expression: {e}", settings.email_cron))?;
    scheduler.add(reconcile).await?;
    scheduler.add(run_due).await?;
    scheduler.add(privacy_job(settings, pool)?).await?;
    scheduler.start().await?;
    Ok(scheduler)
}

/// The retention pass (`PRIVACY_CRON`): anonymises the bookings of events past `RETENTION_DAYS`.
fn privacy_job(settings: &Settings, pool: AsyncPool) -> anyhow::Result<tokio_cron_scheduler::Job> {
    let retention_days = settings.retention_days;
    tokio_cron_scheduler::Job::new_async(settings.privacy_cron.as_str(), move |_id, _scheduler| {
        let pool = pool.clone();
        Box::pin(async move {
            if let Err(e) = crate::privacy::purge(&pool, chrono::Utc::now(), retention_days).await {
                tracing::warn!(error = %e, "privacy retention pass failed; the next one will catch up");
            }
        })
    })
    .map_err(|e| anyhow::anyhow!("PRIVACY_CRON {:?} is not a valid cron expression: {e}", settings.privacy_cron))
}
