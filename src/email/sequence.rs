//! When each mail of the sequence is due. Pure: instants in, instants out.
//!
//! Reminders leave at `send_hour` on their day, local to the venue (J-30 at 9:00 in Vancouver is
//! 9:00 Pacific), never at midnight UTC. Each reminder has a window: from its due instant until
//! the next one is due (J-1 until the masterclass starts, J+1 for a week), so a pass that runs
//! late still sends what is current and never sends yesterday's news after today's.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::EmailKind;

/// The instant a reminder is due: its day (relative to the masterclass's local date) at
/// `send_hour` local time. Across a daylight-saving gap the first valid instant after it is used.
pub fn reminder_due(kind: EmailKind, starts_at: DateTime<Utc>, tz: Tz, send_hour: u32) -> Option<DateTime<Utc>> {
    let offset = kind.day_offset()?;
    let day = starts_at.with_timezone(&tz).date_naive() + Duration::days(offset);
    let mut local = day.and_time(NaiveTime::from_hms_opt(send_hour.min(23), 0, 0)?);
    for _ in 0..3 {
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return Some(at.with_timezone(&Utc));
        }
        local += Duration::hours(1);
    }
    None
}

/// Until when a due reminder is still worth sending.
pub fn reminder_window_end(kind: EmailKind, starts_at: DateTime<Utc>, tz: Tz, send_hour: u32) -> Option<DateTime<Utc>> {
    let next = match kind {
        EmailKind::JMinus30 => EmailKind::JMinus14,
        EmailKind::JMinus14 => EmailKind::JMinus7,
        EmailKind::JMinus7 => EmailKind::JMinus1,
        EmailKind::JMinus1 => return Some(starts_at),
        EmailKind::JPlus1 => return reminder_due(kind, starts_at, tz, send_hour).map(|d| d + Duration::days(7)),
        EmailKind::Confirmation | EmailKind::RefundNotice | EmailKind::WaitlistOffer | EmailKind::Broadcast | EmailKind::DateCancelled => {
            return None
        }
    };
    reminder_due(next, starts_at, tz, send_hour)
}

/// Whether a reminder's content is carried by the confirmation instead: J-30, J-14 and J-7 are
/// skipped for a booking confirmed on or after their due instant.
pub fn skipped_for_late_booking(kind: EmailKind) -> bool {
    matches!(kind, EmailKind::JMinus30 | EmailKind::JMinus14 | EmailKind::JMinus7)
}

/// The reminders a booking confirmed at `confirmed_at` should have received by `now`, with their
/// due instants.
pub fn reminders_due(
    now: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    tz: Tz,
    confirmed_at: DateTime<Utc>,
    send_hour: u32,
) -> Vec<(EmailKind, DateTime<Utc>)> {
    EmailKind::REMINDERS
        .into_iter()
        .filter_map(|kind| {
            let due = reminder_due(kind, starts_at, tz, send_hour)?;
            let end = reminder_window_end(kind, starts_at, tz, send_hour)?;
            if due > now || now >= end {
                return None;
            }
            if skipped_for_late_booking(kind) && confirmed_at >= due {
                return None;
            }
            Some((kind, due))
        })
        .collect()
}

/// A booking confirmed after J-30 gets the essentials of the reminders it skips in its confirmation.
pub fn confirmed_late(confirmed_at: DateTime<Utc>, starts_at: DateTime<Utc>, tz: Tz, send_hour: u32) -> bool {
    reminder_due(EmailKind::JMinus30, starts_at, tz, send_hour).is_some_and(|due| confirmed_at >= due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn montreal_start() -> DateTime<Utc> {
        // 2027-04-16 09:00 EDT
        Utc.with_ymd_and_hms(2027, 4, 16, 13, 0, 0).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn reminders_leave_at_nine_local() {
        let tz = chrono_tz::America::Toronto;
        assert_eq!(reminder_due(EmailKind::JMinus30, montreal_start(), tz, 9), Some(at("2027-03-17T13:00:00Z")));
        assert_eq!(reminder_due(EmailKind::JMinus1, montreal_start(), tz, 9), Some(at("2027-04-15T13:00:00Z")));
        assert_eq!(reminder_due(EmailKind::JPlus1, montreal_start(), tz, 9), Some(at("2027-04-17T13:00:00Z")));
        // J-30 falls before the switch to daylight time (March 14, 2027): 9:00 EST is 14:00 UTC.
        let vancouver = Utc.with_ymd_and_hms(2027, 4, 1, 16, 0, 0).unwrap();
        assert_eq!(
            reminder_due(EmailKind::JMinus30, vancouver, chrono_tz::America::Vancouver, 9),
            Some(at("2027-03-02T17:00:00Z")),
            "9:00 PST"
        );
        assert_eq!(reminder_due(EmailKind::Confirmation, montreal_start(), tz, 9), None);
    }

    #[test]
    fn an_early_booking_gets_each_reminder_in_its_window() {
        let tz = chrono_tz::America::Toronto;
        let booked = at("2026-12-01T15:00:00Z");
        let kinds = |now: &str| reminders_due(at(now), montreal_start(), tz, booked, 9).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert!(kinds("2027-03-17T12:59:00Z").is_empty());
        assert_eq!(kinds("2027-03-17T13:00:00Z"), [EmailKind::JMinus30]);
        assert_eq!(kinds("2027-04-02T13:00:00Z"), [EmailKind::JMinus14]);
        assert_eq!(kinds("2027-04-09T13:30:00Z"), [EmailKind::JMinus7]);
        assert_eq!(kinds("2027-04-15T20:00:00Z"), [EmailKind::JMinus1]);
        assert!(kinds("2027-04-16T13:00:00Z").is_empty(), "the day itself: nothing");
        assert_eq!(kinds("2027-04-17T13:00:00Z"), [EmailKind::JPlus1]);
        assert!(kinds("2027-04-24T13:00:00Z").is_empty(), "a week later J+1 is stale");
    }

    #[test]
    fn a_late_booking_skips_what_its_confirmation_carries() {
        let tz = chrono_tz::America::Toronto;
        let booked = at("2027-04-10T12:00:00Z"); // after J-7's due instant
        let kinds = |now: &str| reminders_due(at(now), montreal_start(), tz, booked, 9).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert!(kinds("2027-04-10T12:00:00Z").is_empty(), "J-7 is not sent to a booking made after it");
        assert_eq!(kinds("2027-04-15T13:00:00Z"), [EmailKind::JMinus1]);
        assert_eq!(kinds("2027-04-17T13:00:00Z"), [EmailKind::JPlus1]);
        assert!(confirmed_late(booked, montreal_start(), tz, 9));
        assert!(!confirmed_late(at("2026-12-01T00:00:00Z"), montreal_start(), tz, 9));
    }
}
