//! The facts every page and mail prints, as the organiser edits them: the organiser, a
//! masterclass's policies and programme, a venue's practical facts. Each input is parsed whole
//! (every field checked, the first refusal named) before anything is written; a write is audited
//! and this instance's pages follow it at once (`FactsCache::reload`).

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::audit;
use super::session::AdminSession;
use crate::db::{self, AsyncConn};
use crate::domain::facts::{Bilingual, Organiser, Policies, ProgrammeItem, VenueFacts};
use crate::domain::{Email, InvalidInput, Phone};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The organiser, as sent and as shown.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganiserInput {
    /// On every receipt and in the footer.
    #[schema(example = "Formations ACT Canada inc.")]
    pub legal_name: String,
    #[schema(example = "400, boulevard De Maisonneuve Ouest, bureau 700, Montréal (Québec) H3A 1L4")]
    pub address: String,
    #[schema(example = "aide@actcanada.ca")]
    pub support_email: String,
    #[schema(example = "514 861-2211")]
    pub support_phone: String,
}

/// A masterclass's policies in whole days, and its continuing-education hours.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesInput {
    #[schema(example = 6)]
    pub ce_hours: i64,
    #[schema(example = 30)]
    pub refund_window_days: i64,
    #[schema(example = 2)]
    pub name_change_days: i64,
    #[schema(example = 60)]
    pub resources_days: i64,
    #[schema(example = 7)]
    pub certificate_days: i64,
}

/// One line of the day, in minutes from the date's start (negative: before it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeItemInput {
    #[schema(example = -30)]
    pub starts_minutes: i64,
    #[serde(default)]
    pub ends_minutes: Option<i64>,
    #[schema(example = "Registration and check-in, coffee")]
    pub label_en: String,
    #[schema(example = "Accueil et inscription, café")]
    pub label_fr: String,
    /// Also in the short version of the day (J-1 mail).
    #[serde(default)]
    pub brief: bool,
}

/// The whole programme, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    pub items: Vec<ProgrammeItemInput>,
}

/// A venue's practical facts: words in both languages, the Wi-Fi and the day's emergency phone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueFactsInput {
    #[serde(default)]
    pub transit_en: String,
    #[serde(default)]
    pub transit_fr: String,
    #[serde(default)]
    pub parking_en: String,
    #[serde(default)]
    pub parking_fr: String,
    #[serde(default)]
    pub hotels_en: String,
    #[serde(default)]
    pub hotels_fr: String,
    #[serde(default)]
    pub restaurants_en: String,
    #[serde(default)]
    pub restaurants_fr: String,
    #[serde(default)]
    pub accessibility_en: String,
    #[serde(default)]
    pub accessibility_fr: String,
    #[serde(default)]
    pub wifi_network: String,
    #[serde(default)]
    pub wifi_password: String,
    #[serde(default)]
    pub emergency_phone: String,
}

pub(super) fn words(raw: &str, field: &str, max: usize, required: bool) -> Result<String, InvalidInput> {
    let v = raw.trim();
    if required && v.is_empty() {
        return Err(InvalidInput::new("required", field, "This field is required."));
    }
    if v.chars().count() > max || v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(InvalidInput::new("invalid_text", field, format!("At most {max} characters, no control characters.")));
    }
    Ok(v.to_owned())
}

fn days(v: i64, field: &str, min: i64, max: i64) -> Result<u32, InvalidInput> {
    if (min..=max).contains(&v) {
        Ok(v as u32)
    } else {
        Err(InvalidInput::new("out_of_range", field, format!("Between {min} and {max}.")))
    }
}

impl OrganiserInput {
    pub fn parse(&self) -> Result<Organiser, InvalidInput> {
        Ok(Organiser {
            legal_name: words(&self.legal_name, "legal_name", 200, true)?,
            address: words(&self.address, "address", 300, true)?,
            support_email: Email::parse(&self.support_email).map_err(|e| e.under("support_email"))?.as_str().to_owned(),
            // Checked, but stored as written: it is printed for people to read and dial.
            support_phone: Phone::parse(&self.support_phone)
                .map(|_| self.support_phone.trim().to_owned())
                .map_err(|e| e.under("support_phone"))?,
        })
    }

    pub fn from_facts(o: &Organiser) -> Self {
        Self {
            legal_name: o.legal_name.clone(),
            address: o.address.clone(),
            support_email: o.support_email.clone(),
            support_phone: o.support_phone.clone(),
        }
    }
}

impl PoliciesInput {
    pub fn parse(&self) -> Result<Policies, InvalidInput> {
        Ok(Policies {
            ce_hours: days(self.ce_hours, "ce_hours", 0, 100)?,
            refund_window_days: days(self.refund_window_days, "refund_window_days", 0, 365)?,
            name_change_days: days(self.name_change_days, "name_change_days", 0, 365)?,
            resources_days: days(self.resources_days, "resources_days", 1, 3650)?,
            certificate_days: days(self.certificate_days, "certificate_days", 0, 90)?,
        })
    }

    pub fn from_facts(p: &Policies) -> Self {
        Self {
            ce_hours: p.ce_hours.into(),
            refund_window_days: p.refund_window_days.into(),
            name_change_days: p.name_change_days.into(),
            resources_days: p.resources_days.into(),
            certificate_days: p.certificate_days.into(),
        }
    }
}

impl ProgrammeInput {
    pub fn parse(&self) -> Result<Vec<ProgrammeItem>, InvalidInput> {
        if self.items.is_empty() || self.items.len() > 40 {
            return Err(InvalidInput::new("invalid_programme", "items", "Between 1 and 40 lines."));
        }
        let mut out: Vec<ProgrammeItem> = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            let at = |f: &str| format!("items[{i}].{f}");
            let starts = i32::try_from(item.starts_minutes).ok().filter(|m| (-240..=1440).contains(m)).ok_or_else(|| {
                InvalidInput::new("out_of_range", at("starts_minutes"), "Between 4 hours before and 24 hours after the start.")
            })?;
            if out.last().is_some_and(|prev| prev.starts_minutes > starts) {
                return Err(InvalidInput::new("out_of_order", at("starts_minutes"), "Each line starts no earlier than the one before."));
            }
            let ends = match item.ends_minutes {
                None => None,
                Some(e) => Some(
                    i32::try_from(e)
                        .ok()
                        .filter(|e| *e > starts && *e <= 1440)
                        .ok_or_else(|| InvalidInput::new("out_of_range", at("ends_minutes"), "After the line's start, within the day."))?,
                ),
            };
            out.push(ProgrammeItem {
                starts_minutes: starts,
                ends_minutes: ends,
                label: Bilingual::new(
                    words(&item.label_en, &at("label_en"), 200, true)?,
                    words(&item.label_fr, &at("label_fr"), 200, true)?,
                ),
                brief: item.brief,
            });
        }
        Ok(out)
    }

    pub fn from_facts(items: &[ProgrammeItem]) -> Self {
        Self {
            items: items
                .iter()
                .map(|p| ProgrammeItemInput {
                    starts_minutes: p.starts_minutes.into(),
                    ends_minutes: p.ends_minutes.map(i64::from),
                    label_en: p.label.en.clone(),
                    label_fr: p.label.fr.clone(),
                    brief: p.brief,
                })
                .collect(),
        }
    }
}

impl VenueFactsInput {
    pub fn parse(&self) -> Result<VenueFacts, InvalidInput> {
        let both = |en: &str, fr: &str, name: &str| -> Result<Bilingual, InvalidInput> {
            Ok(Bilingual::new(words(en, &format!("{name}_en"), 1000, false)?, words(fr, &format!("{name}_fr"), 1000, false)?))
        };
        let phone = match self.emergency_phone.trim() {
            "" => String::new(),
            raw => Phone::parse(raw).map(|_| raw.to_owned()).map_err(|e| e.under("emergency_phone"))?,
        };
        Ok(VenueFacts {
            transit: both(&self.transit_en, &self.transit_fr, "transit")?,
            parking: both(&self.parking_en, &self.parking_fr, "parking")?,
            hotels: both(&self.hotels_en, &self.hotels_fr, "hotels")?,
            restaurants: both(&self.restaurants_en, &self.restaurants_fr, "restaurants")?,
            accessibility: both(&self.accessibility_en, &self.accessibility_fr, "accessibility")?,
            wifi_network: words(&self.wifi_network, "wifi_network", 100, false)?,
            wifi_password: words(&self.wifi_password, "wifi_password", 100, false)?,
            emergency_phone: phone,
        })
    }

    pub fn from_facts(v: &VenueFacts) -> Self {
        Self {
            transit_en: v.transit.en.clone(),
            transit_fr: v.transit.fr.clone(),
            parking_en: v.parking.en.clone(),
            parking_fr: v.parking.fr.clone(),
            hotels_en: v.hotels.en.clone(),
            hotels_fr: v.hotels.fr.clone(),
            restaurants_en: v.restaurants.en.clone(),
            restaurants_fr: v.restaurants.fr.clone(),
            accessibility_en: v.accessibility.en.clone(),
            accessibility_fr: v.accessibility.fr.clone(),
            wifi_network: v.wifi_network.clone(),
            wifi_password: v.wifi_password.clone(),
            emergency_phone: v.emergency_phone.clone(),
        }
    }
}

fn no_masterclass() -> ApiError {
    ApiError::not_found("masterclass_not_found", "No masterclass has this id.")
}

async fn masterclass_exists(conn: &mut AsyncConn, id: i64) -> ApiResult<()> {
    db::facts::policies(conn, id).await?.map(drop).ok_or_else(no_masterclass)
}

async fn venue_exists(conn: &mut AsyncConn, id: i64) -> ApiResult<()> {
    match db::admin::venue(conn, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("venue_not_found", "No venue has this id.")),
    }
}

/// After a write: the audit entry, then this instance's pages follow at once.
async fn written(
    state: &AppState,
    conn: &mut AsyncConn,
    who: &AdminSession,
    action: &str,
    target: (&str, String),
    change: [serde_json::Value; 2],
) -> ApiResult<()> {
    let [before, after] = change;
    audit::record(conn, who, action, target.0, &target.1, Some(before), Some(after)).await?;
    state.facts.reload(conn).await?;
    Ok(())
}

pub async fn organiser(state: &AppState) -> ApiResult<OrganiserInput> {
    let mut conn = db::connection(&state.pool).await?;
    Ok(OrganiserInput::from_facts(&db::facts::organiser(&mut conn).await?))
}

pub async fn save_organiser(state: &AppState, who: &AdminSession, input: &OrganiserInput) -> ApiResult<OrganiserInput> {
    let parsed = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    let before = db::facts::organiser(&mut conn).await?;
    db::facts::save_organiser(&mut conn, &parsed).await?;
    written(state, &mut conn, who, "organiser.update", ("organiser", "1".into()), [json!(before), json!(parsed)]).await?;
    Ok(OrganiserInput::from_facts(&parsed))
}

pub async fn policies(state: &AppState, masterclass_id: i64) -> ApiResult<PoliciesInput> {
    let mut conn = db::connection(&state.pool).await?;
    let p = db::facts::policies(&mut conn, masterclass_id).await?.ok_or_else(no_masterclass)?;
    Ok(PoliciesInput::from_facts(&p))
}

pub async fn save_policies(state: &AppState, who: &AdminSession, masterclass_id: i64, input: &PoliciesInput) -> ApiResult<PoliciesInput> {
    let parsed = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    let before = PoliciesInput::from_facts(&db::facts::policies(&mut conn, masterclass_id).await?.ok_or_else(no_masterclass)?);
    db::facts::save_policies(&mut conn, masterclass_id, &parsed).await?;
    let target = ("masterclass", masterclass_id.to_string());
    written(state, &mut conn, who, "masterclass.policies", target, [json!(before), json!(parsed)]).await?;
    Ok(PoliciesInput::from_facts(&parsed))
}

pub async fn programme(state: &AppState, masterclass_id: i64) -> ApiResult<ProgrammeInput> {
    let mut conn = db::connection(&state.pool).await?;
    masterclass_exists(&mut conn, masterclass_id).await?;
    Ok(ProgrammeInput::from_facts(&db::facts::programme(&mut conn, masterclass_id).await?))
}

pub async fn save_programme(
    state: &AppState,
    who: &AdminSession,
    masterclass_id: i64,
    input: &ProgrammeInput,
) -> ApiResult<ProgrammeInput> {
    let parsed = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    masterclass_exists(&mut conn, masterclass_id).await?;
    let before = ProgrammeInput::from_facts(&db::facts::programme(&mut conn, masterclass_id).await?);
    db::facts::save_programme(&mut conn, masterclass_id, &parsed).await?;
    let after = ProgrammeInput::from_facts(&parsed);
    let target = ("masterclass", masterclass_id.to_string());
    written(state, &mut conn, who, "masterclass.programme", target, [json!(before), json!(after)]).await?;
    Ok(after)
}

pub async fn venue_facts(state: &AppState, venue_id: i64) -> ApiResult<VenueFactsInput> {
    let mut conn = db::connection(&state.pool).await?;
    venue_exists(&mut conn, venue_id).await?;
    Ok(VenueFactsInput::from_facts(&db::facts::venue(&mut conn, venue_id).await?))
}

pub async fn save_venue_facts(state: &AppState, who: &AdminSession, venue_id: i64, input: &VenueFactsInput) -> ApiResult<VenueFactsInput> {
    let parsed = input.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    venue_exists(&mut conn, venue_id).await?;
    let before = VenueFactsInput::from_facts(&db::facts::venue(&mut conn, venue_id).await?);
    db::facts::save_venue(&mut conn, venue_id, &parsed).await?;
    let after = VenueFactsInput::from_facts(&parsed);
    written(state, &mut conn, who, "venue.facts", ("venue", venue_id.to_string()), [json!(before), json!(after)]).await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(starts: i64, ends: Option<i64>) -> ProgrammeItemInput {
        ProgrammeItemInput { starts_minutes: starts, ends_minutes: ends, label_en: "Break".into(), label_fr: "Pause".into(), brief: false }
    }

    #[test]
    fn a_programme_names_its_first_bad_line() {
        let bad = ProgrammeInput { items: vec![item(0, None), item(-10, None)] };
        assert_eq!(bad.parse().unwrap_err().field, "items[1].starts_minutes");
        let bad = ProgrammeInput { items: vec![item(0, Some(0))] };
        assert_eq!(bad.parse().unwrap_err().field, "items[0].ends_minutes");
        let mut blank = item(0, None);
        blank.label_fr = " ".into();
        assert_eq!(ProgrammeInput { items: vec![blank] }.parse().unwrap_err().field, "items[0].label_fr");
        assert_eq!(ProgrammeInput { items: vec![item(-30, None), item(180, Some(240))] }.parse().unwrap().len(), 2);
    }

    #[test]
    fn policies_and_contacts_are_checked_field_by_field() {
        let p = PoliciesInput { ce_hours: 6, refund_window_days: 400, name_change_days: 2, resources_days: 60, certificate_days: 7 };
        assert_eq!(p.parse().unwrap_err().field, "refund_window_days");
        let o = OrganiserInput {
            legal_name: "X inc.".into(),
            address: "1 rue A".into(),
            support_email: "nope".into(),
            support_phone: "514 861-2211".into(),
        };
        assert_eq!(o.parse().unwrap_err().field, "support_email");
        let v = VenueFactsInput { emergency_phone: "call me".into(), ..VenueFactsInput::default() };
        assert_eq!(v.parse().unwrap_err().field, "emergency_phone");
    }
}
