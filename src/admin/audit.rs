//! The audit log: every organiser action, who, what, when, and the state before and after.

use super::session::AdminSession;
use crate::db::models::NewAudit;
use crate::db::{self, AsyncConn, DbError};

/// Writes one entry. Called after the action succeeded, on the same connection pool; the action
/// and its entry are not one transaction when an actor did the work (the actor commits its own),
/// so an entry is written for every action that took effect, and only those.
pub async fn record(
    conn: &mut AsyncConn,
    who: &AdminSession,
    action: &str,
    target_type: &str,
    target_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), DbError> {
    let row = NewAudit {
        admin_user_id: Some(who.user_id),
        actor_email: who.email.clone(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        before,
        after,
        ip: Some(who.ip.clone()),
    };
    db::admin::audit(conn, &row).await?;
    Ok(())
}
