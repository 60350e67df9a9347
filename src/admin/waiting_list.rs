//! The back office's side of the waiting list: who waits, and taking someone off it (audited).
//! Joining and claiming an offer are public: `services::waiting_list`.

use super::audit;
use super::session::AdminSession;
use crate::db;
use crate::db::waitlist::WaitlistLine;
use crate::domain::CityEventId;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn lines(state: &AppState, city_event_id: i64) -> ApiResult<Vec<WaitlistLine>> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(db::waitlist::lines(&mut conn, city_event_id).await?)
}

/// Takes someone off the list (only while they wait: an offer runs its course).
pub async fn remove(state: &AppState, who: &AdminSession, city_event_id: i64, entry_id: i64) -> ApiResult<()> {
    let handle = state
        .registry
        .actor(CityEventId(city_event_id))
        .ok_or_else(|| ApiError::conflict("sales_closed", "Open the city event's sales to change its waiting list."))?;
    let before = lines(state, city_event_id).await?.into_iter().find(|l| l.id == entry_id);
    let Some(before) = before else { return Err(ApiError::not_found("waitlist_entry_not_found", "No such entry on this waiting list.")) };
    handle.remove_waiting(entry_id).await.map_err(|e| match e {
        crate::actors::ReservationError::WrongStatus { .. } => {
            ApiError::conflict("not_waiting", "This person is not waiting any more (an offer was made).").with_status(&before.state)
        }
        other => other.into(),
    })?;
    let mut conn = db::connection(&state.pool).await?;
    audit::record(
        &mut conn,
        who,
        "waiting_list.remove",
        "waitlist_entry",
        &entry_id.to_string(),
        serde_json::to_value(&before).ok(),
        Some(serde_json::json!({"state": "removed"})),
    )
    .await?;
    Ok(())
}
