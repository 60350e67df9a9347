//! Attendee names and addresses, checked and written once for the organiser's edit and the
//! buyer's name change: every line is checked before anything is written, and a refusal names
//! the field (`attendees[1].last_name`).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::db;
use crate::db::models::AttendeeRow;
use crate::domain::{BookingId, Email, PersonName};
use crate::http::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeEdit {
    pub position: i32,
    /// Both names, or neither (name to come).
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// One seat's checked line: its names (`None`: to come) and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeChange {
    pub position: i32,
    pub name: Option<(String, String)>,
    pub email: Option<String>,
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Checks every line against the booking's seats. `names_required`: the buyer renames, so "name
/// to come" is not an answer (the organiser may still clear a seat's name).
pub fn check(people: &[AttendeeRow], edits: &[AttendeeEdit], names_required: bool) -> ApiResult<Vec<AttendeeChange>> {
    let mut parsed = Vec::with_capacity(edits.len());
    for (i, e) in edits.iter().enumerate() {
        let at = |f: &str| format!("attendees[{i}].{f}");
        if !people.iter().any(|a| a.position == e.position) {
            return Err(ApiError::unprocessable("unknown_seat", &at("position"), "This booking has no such seat."));
        }
        let name = match (clean(&e.first_name), clean(&e.last_name)) {
            (None, None) if !names_required => None,
            (Some(f), Some(l)) => Some((
                PersonName::parse(&f).map_err(|err| ApiError::from(err.under(&at("first_name"))))?.as_str().to_owned(),
                PersonName::parse(&l).map_err(|err| ApiError::from(err.under(&at("last_name"))))?.as_str().to_owned(),
            )),
            (None, _) => return Err(ApiError::unprocessable("missing_field", &at("first_name"), "Give both names, or neither.")),
            (Some(_), None) => return Err(ApiError::unprocessable("missing_field", &at("last_name"), "Give both names, or neither.")),
        };
        let email = match clean(&e.email) {
            None => None,
            Some(raw) => Some(Email::parse(&raw).map_err(|err| ApiError::from(err.under(&at("email"))))?.as_str().to_owned()),
        };
        parsed.push(AttendeeChange { position: e.position, name, email });
    }
    Ok(parsed)
}

/// Writes checked lines in one transaction: all of them or none.
pub async fn write(conn: &mut diesel_async::AsyncPgConnection, booking_id: BookingId, changes: &[AttendeeChange]) -> ApiResult<()> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        for c in changes {
            let name = c.name.as_ref().map(|(f, l)| (f.as_str(), l.as_str()));
            db::admin::set_attendee(conn, booking_id, c.position, name, c.email.as_deref()).await?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(())
}
