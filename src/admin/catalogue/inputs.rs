//! The catalogue's inputs as the API and the forms send them, each parsed whole into the row
//! it writes (every field checked, the first refusal named) before anything is written.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::facts::words;
use crate::db::admin::{CityFields, MasterclassFields, PromoFields, PromoRecord, SalesTaxFields, SalesTaxRecord, VenueFields};
use crate::db::models::{CityRow, MasterclassEventRow, VenueRow};
use crate::domain::InvalidInput;

/// Canada's provinces and territories, as `cities.province` and `sales_taxes.province` store them.
pub const PROVINCES: [&str; 13] = ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"];
pub const TAX_CODES: [&str; 4] = ["GST", "HST", "QST", "PST"];

fn refuse(code: &'static str, field: &str, message: &str) -> InvalidInput {
    InvalidInput::new(code, field, message.to_owned())
}

fn slug(raw: &str, field: &str) -> Result<String, InvalidInput> {
    let v = raw.trim();
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(refuse("invalid_slug", field, "Lower-case letters, digits and hyphens, at most 64."));
    }
    Ok(v.to_owned())
}

fn one_of(raw: &str, field: &str, allowed: &[&str]) -> Result<String, InvalidInput> {
    let v = raw.trim().to_uppercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(InvalidInput::new("invalid_choice", field, format!("One of {}.", allowed.join(", "))))
    }
}

fn range<T: TryFrom<i64> + Copy>(v: i64, field: &str, min: i64, max: i64) -> Result<T, InvalidInput> {
    (min..=max)
        .contains(&v)
        .then(|| T::try_from(v).ok())
        .flatten()
        .ok_or_else(|| InvalidInput::new("out_of_range", field, format!("Between {min} and {max}.")))
}

/// A masterclass: its slug in the site's addresses, its titles, summaries and presenter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MasterclassInput {
    #[schema(example = "act-masterclass")]
    pub slug: String,
    #[schema(example = "ACT Made Simple: a one-day masterclass")]
    pub title_en: String,
    #[schema(example = "L’ACT en toute simplicité : classe de maître d’une journée")]
    pub title_fr: String,
    #[serde(default)]
    pub summary_en: String,
    #[serde(default)]
    pub summary_fr: String,
    #[schema(example = "Dr Russ Harris")]
    pub presenter: String,
    /// An `https://` address of the presenter's photo for the presenter page; empty: no photo.
    #[serde(default)]
    #[schema(example = "https://example.org/russ-harris.jpg", max_length = 500)]
    pub presenter_photo_url: String,
}

impl MasterclassInput {
    pub fn parse(&self) -> Result<MasterclassFields, InvalidInput> {
        Ok(MasterclassFields {
            slug: slug(&self.slug, "slug")?,
            title_en: words(&self.title_en, "title_en", 200, true)?,
            title_fr: words(&self.title_fr, "title_fr", 200, true)?,
            summary_en: words(&self.summary_en, "summary_en", 2000, false)?,
            summary_fr: words(&self.summary_fr, "summary_fr", 2000, false)?,
            presenter: words(&self.presenter, "presenter", 200, true)?,
            presenter_photo_url: photo_url(&self.presenter_photo_url)?,
        })
    }

    pub fn from_row(m: &MasterclassEventRow) -> Self {
        Self {
            slug: m.slug.clone(),
            title_en: m.title_en.clone(),
            title_fr: m.title_fr.clone(),
            summary_en: m.summary_en.clone(),
            summary_fr: m.summary_fr.clone(),
            presenter: m.presenter.clone(),
            presenter_photo_url: m.presenter_photo_url.clone(),
        }
    }
}

/// An image address a page may load: `https://` only (the site is served over https, and a
/// `javascript:` or `data:` address is no photo), no spaces or quotes, or nothing.
fn photo_url(raw: &str) -> Result<String, InvalidInput> {
    let url = raw.trim();
    if url.is_empty() {
        return Ok(String::new());
    }
    let bad = || InvalidInput::new("invalid_url", "presenter_photo_url", "Give an https:// address of an image, or nothing.");
    let host = url.strip_prefix("https://").ok_or_else(bad)?;
    if url.len() > 500
        || host.is_empty()
        || host.starts_with('/')
        || url.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c))
    {
        return Err(bad());
    }
    Ok(url.to_owned())
}

/// A city: its names, province (which sets the taxes) and the three letters of its references.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityInput {
    #[schema(example = "quebec")]
    pub slug: String,
    #[schema(example = "Quebec City")]
    pub name_en: String,
    #[schema(example = "Québec")]
    pub name_fr: String,
    #[schema(example = "QC")]
    pub province: String,
    /// Opens every booking reference of the city (`QUE-7KQ2-M9XD`); fixed once a date uses it.
    #[schema(example = "QUE")]
    pub code: String,
}

impl CityInput {
    pub fn parse(&self) -> Result<CityFields, InvalidInput> {
        let code = self.code.trim().to_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(refuse("invalid_city_code", "code", "Three letters."));
        }
        Ok(CityFields {
            slug: slug(&self.slug, "slug")?,
            name_en: words(&self.name_en, "name_en", 100, true)?,
            name_fr: words(&self.name_fr, "name_fr", 100, true)?,
            province: one_of(&self.province, "province", &PROVINCES)?,
            code,
        })
    }

    pub fn from_row(c: &CityRow) -> Self {
        Self {
            slug: c.slug.clone(),
            name_en: c.name_en.clone(),
            name_fr: c.name_fr.clone(),
            province: c.province.clone(),
            code: c.code.clone(),
        }
    }
}

/// A venue of a city, with the IANA time zone every date there is shown in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueInput {
    pub city_id: i64,
    #[schema(example = "Centre des congrès de Québec")]
    pub name: String,
    #[schema(example = "1000, boulevard René-Lévesque Est, Québec (Québec)")]
    pub address: String,
    #[schema(example = "G1R 5T8")]
    pub postal_code: String,
    #[schema(example = "America/Toronto")]
    pub time_zone: String,
}

/// `h3a1l4`, `H3A-1L4` → `H3A 1L4`.
fn postal_code(raw: &str) -> Result<String, InvalidInput> {
    let compact: String = raw.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    let b = compact.as_bytes();
    let shape = b.len() == 6 && b.iter().enumerate().all(|(i, c)| if i % 2 == 0 { c.is_ascii_uppercase() } else { c.is_ascii_digit() });
    if !shape {
        return Err(refuse("invalid_postal_code", "postal_code", "A Canadian postal code, like H3A 1L4."));
    }
    Ok(format!("{} {}", &compact[..3], &compact[3..]))
}

/// An IANA zone the zone database knows, in the `Area/City` form the table stores.
pub fn time_zone(raw: &str) -> Result<Tz, InvalidInput> {
    let v = raw.trim();
    let two_parts = v.split('/').count() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'/');
    match v.parse::<Tz>() {
        Ok(tz) if two_parts => Ok(tz),
        _ => Err(refuse("invalid_time_zone", "time_zone", "An IANA time zone such as America/Toronto or America/Halifax.")),
    }
}

impl VenueInput {
    pub fn parse(&self) -> Result<VenueFields, InvalidInput> {
        Ok(VenueFields {
            city_id: self.city_id,
            name: words(&self.name, "name", 200, true)?,
            address: words(&self.address, "address", 300, true)?,
            postal_code: postal_code(&self.postal_code)?,
            time_zone: time_zone(&self.time_zone)?.name().to_owned(),
        })
    }

    pub fn from_row(v: &VenueRow) -> Self {
        Self {
            city_id: v.city_id.0,
            name: v.name.clone(),
            address: v.address.clone(),
            postal_code: v.postal_code.clone(),
            time_zone: v.time_zone.name().to_owned(),
        }
    }
}

/// One tax line of a province, with the organiser's registration number printed on receipts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesTaxInput {
    #[schema(example = "QC")]
    pub province: String,
    /// `GST`, `HST`, `QST` or `PST`.
    #[schema(example = "QST")]
    pub code: String,
    #[schema(example = "QST")]
    pub label_en: String,
    #[schema(example = "TVQ")]
    pub label_fr: String,
    /// Parts per 100,000: 9975 is 9.975 %.
    #[schema(example = 9975)]
    pub rate_per_100k: i64,
    #[schema(example = "1234567890 TQ0001")]
    pub registration_number: String,
    /// Order of the lines on a receipt.
    #[serde(default)]
    pub position: i64,
}

impl SalesTaxInput {
    pub fn parse(&self) -> Result<SalesTaxFields, InvalidInput> {
        Ok(SalesTaxFields {
            province: one_of(&self.province, "province", &PROVINCES)?,
            code: one_of(&self.code, "code", &TAX_CODES)?,
            label_en: words(&self.label_en, "label_en", 40, true)?,
            label_fr: words(&self.label_fr, "label_fr", 40, true)?,
            rate_per_100k: range(self.rate_per_100k, "rate_per_100k", 1, 99_999)?,
            registration_number: words(&self.registration_number, "registration_number", 40, true)?,
            position: range(self.position, "position", 0, 20)?,
        })
    }

    pub fn from_row(t: &SalesTaxRecord) -> Self {
        Self {
            province: t.province.clone(),
            code: t.code.clone(),
            label_en: t.label_en.clone(),
            label_fr: t.label_fr.clone(),
            rate_per_100k: t.rate_per_100k.into(),
            registration_number: t.registration_number.clone(),
            position: t.position.into(),
        }
    }
}

/// A promotion code: a percentage or a fixed amount off before tax, for one date or all, with an
/// optional usage cap (bookings held or paid) and validity window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoCodeInput {
    /// Upper-case letters, digits and hyphens, 3 to 32.
    #[schema(example = "PSY-QC-2027")]
    pub code: String,
    /// `percent` or `fixed`.
    #[schema(example = "percent")]
    pub kind: String,
    #[serde(default)]
    pub percent_off: Option<i64>,
    /// Off the booking's subtotal (not per seat), never below zero.
    #[serde(default)]
    pub amount_off_cents: Option<i64>,
    /// One date; absent: every date.
    #[serde(default)]
    pub city_event_id: Option<i64>,
    #[serde(default)]
    pub max_uses: Option<i64>,
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl PromoCodeInput {
    pub fn parse(&self) -> Result<PromoFields, InvalidInput> {
        let code = self.code.trim().to_uppercase();
        if !(3..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-') {
            return Err(refuse("invalid_promo_code", "code", "3 to 32 letters, digits or hyphens."));
        }
        let (percent_off, amount_off_cents) = match self.kind.trim() {
            "percent" => {
                let p = self.percent_off.ok_or_else(|| refuse("required", "percent_off", "This field is required."))?;
                (Some(range(p, "percent_off", 1, 100)?), None)
            }
            "fixed" => {
                let c = self.amount_off_cents.ok_or_else(|| refuse("required", "amount_off_cents", "This field is required."))?;
                (None, Some(range(c, "amount_off_cents", 1, 10_000_000)?))
            }
            _ => return Err(refuse("invalid_choice", "kind", "percent or fixed.")),
        };
        let max_uses = self.max_uses.map(|n| range(n, "max_uses", 1, 1_000_000)).transpose()?;
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until) {
            if from >= until {
                return Err(refuse("invalid_window", "valid_until", "The end must come after the start."));
            }
        }
        Ok(PromoFields {
            code,
            city_event_id: self.city_event_id,
            kind: self.kind.trim().to_owned(),
            percent_off,
            amount_off_cents,
            max_uses,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            active: self.active,
        })
    }

    pub fn from_row(p: &PromoRecord) -> Self {
        Self {
            code: p.code.clone(),
            kind: p.kind.clone(),
            percent_off: p.percent_off.map(i64::from),
            amount_off_cents: p.amount_off_cents,
            city_event_id: p.city_event_id,
            max_uses: p.max_uses.map(i64::from),
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            active: p.active,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venues_get_a_known_zone_and_a_canadian_postal_code() {
        let mut v = VenueInput {
            city_id: 1,
            name: "Salle".into(),
            address: "1 rue A".into(),
            postal_code: "h3a-1l4".into(),
            time_zone: "America/Moncton".into(),
        };
        assert_eq!(v.parse().unwrap().postal_code, "H3A 1L4");
        v.time_zone = "America/Montreal_Nope".into();
        assert_eq!(v.parse().unwrap_err().field, "time_zone");
        v.time_zone = "EST".into();
        assert_eq!(v.parse().unwrap_err().field, "time_zone");
        v.time_zone = "America/Halifax".into();
        v.postal_code = "12345".into();
        assert_eq!(v.parse().unwrap_err().field, "postal_code");
    }

    #[test]
    fn promo_codes_name_their_first_bad_field() {
        let mut p = PromoCodeInput {
            code: "psy-2027".into(),
            kind: "fixed".into(),
            percent_off: None,
            amount_off_cents: Some(5_000),
            city_event_id: None,
            max_uses: Some(10),
            valid_from: None,
            valid_until: None,
            active: true,
        };
        assert_eq!(p.parse().unwrap().code, "PSY-2027");
        p.amount_off_cents = None;
        assert_eq!(p.parse().unwrap_err().field, "amount_off_cents");
        p.kind = "percent".into();
        p.percent_off = Some(101);
        assert_eq!(p.parse().unwrap_err().field, "percent_off");
        p.percent_off = Some(10);
        p.max_uses = Some(0);
        assert_eq!(p.parse().unwrap_err().field, "max_uses");
        let t = SalesTaxInput { province: "QC".into(), code: "VAT".into(), ..SalesTaxInput::default() };
        assert_eq!(t.parse().unwrap_err().field, "code");
        let c = CityInput { slug: "Québec".into(), code: "QUE".into(), ..CityInput::default() };
        assert_eq!(c.parse().unwrap_err().field, "slug");
    }
}
