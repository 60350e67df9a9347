//! The facts the pages, the mails, the calendar file and the receipt print, each stored once (in
//! the database, edited in the back office) and read from here: the organiser, a masterclass's
//! policies and programme, a venue's practical facts.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{EmailKind, Language};

/// Words the organiser writes in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bilingual {
    pub en: String,
    pub fr: String,
}

impl Bilingual {
    pub fn new(en: impl Into<String>, fr: impl Into<String>) -> Self {
        Self { en: en.into(), fr: fr.into() }
    }

    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.en,
            Language::Fr => &self.fr,
        }
    }
}

/// Who sells the seats: printed in the footer, on the receipt, in the calendar file and in
/// every mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Organiser {
    pub legal_name: String,
    pub address: String,
    pub support_email: String,
    pub support_phone: String,
}

/// What a masterclass is called and who gives it (tickets, invoices, certificates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MasterclassFacts {
    pub title: Bilingual,
    pub presenter: String,
    /// Empty: the presenter page shows no photo.
    pub presenter_photo_url: String,
}

/// A masterclass's promises, in whole days (and its continuing-education hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policies {
    pub ce_hours: u32,
    /// A full refund on the buyer's request until this many days before the day.
    pub refund_window_days: u32,
    /// Attendees' names can be changed by the buyer until this many days before the day.
    pub name_change_days: u32,
    /// The resources of the day stay online this many days after it.
    pub resources_days: u32,
    /// The certificate of attendance is e-mailed at the latest this many days after the day.
    pub certificate_days: u32,
}

impl Default for Policies {
    fn default() -> Self {
        Self { ce_hours: 6, refund_window_days: 30, name_change_days: 2, resources_days: 60, certificate_days: 7 }
    }
}

/// The workbook goes out with the J-30 mail: its timing is the mail sequence's, not a setting.
pub fn workbook_days_before() -> u32 {
    EmailKind::JMinus30.day_offset().map_or(30, |d| d.unsigned_abs() as u32)
}

impl Policies {
    /// The last day the resources are online, for a day that starts at `starts_at`.
    pub fn resources_until(&self, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        starts_at + Duration::days(i64::from(self.resources_days))
    }

    /// The latest the certificate is sent.
    pub fn certificate_by(&self, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        starts_at + Duration::days(i64::from(self.certificate_days))
    }
}

/// One line of the day's timeline, in minutes from the date's start (negative: before it), so
/// one programme serves every city in its own zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeItem {
    pub starts_minutes: i32,
    pub ends_minutes: Option<i32>,
    pub label: Bilingual,
    /// Also in the short version of the day (J-1 mail, a late confirmation).
    pub brief: bool,
}

impl ProgrammeItem {
    /// When it starts (and ends) for a date that starts at `starts_at`, in the venue's zone.
    pub fn at(&self, starts_at: DateTime<Utc>, zone: Tz) -> (DateTime<Tz>, Option<DateTime<Tz>>) {
        let local = |m: i32| (starts_at + Duration::minutes(i64::from(m))).with_timezone(&zone);
        (local(self.starts_minutes), self.ends_minutes.map(local))
    }
}

/// The doors open with the programme's first item (or at the start when it has none).
pub fn doors_open(programme: &[ProgrammeItem], starts_at: DateTime<Utc>) -> DateTime<Utc> {
    let first = programme.iter().map(|p| p.starts_minutes).min().unwrap_or(0).min(0);
    starts_at + Duration::minutes(i64::from(first))
}

/// A venue's practical facts, for the city page and the J-7 and J-1 mails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VenueFacts {
    pub transit: Bilingual,
    pub parking: Bilingual,
    pub hotels: Bilingual,
    pub restaurants: Bilingual,
    pub accessibility: Bilingual,
    pub wifi_network: String,
    pub wifi_password: String,
    pub emergency_phone: String,
}

/// Everything a page or a mail about one date prints besides the date itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateFacts {
    pub organiser: Organiser,
    pub masterclass: MasterclassFacts,
    pub policies: Policies,
    pub programme: Vec<ProgrammeItem>,
    pub venue: VenueFacts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_programme_item_is_local_to_each_venue() {
        let item = ProgrammeItem { starts_minutes: -30, ends_minutes: Some(0), label: Bilingual::default(), brief: true };
        let halifax = chrono_tz::America::Halifax;
        let start = halifax.with_ymd_and_hms(2027, 6, 7, 9, 0, 0).unwrap().with_timezone(&Utc);
        let (from, to) = item.at(start, halifax);
        assert_eq!(from.format("%H:%M").to_string(), "08:30");
        assert_eq!(to.unwrap().format("%H:%M").to_string(), "09:00");
        assert_eq!(doors_open(&[item], start), start - Duration::minutes(30));
    }

    #[test]
    fn the_workbook_goes_with_the_j_minus_30_mail() {
        assert_eq!(workbook_days_before(), 30);
    }
}
