//! The refund window of the policy "a full refund up to N days before the day": when a buyer may
//! still cancel a paid booking themselves.
//!
//! The deadline is the city event's start, in the venue's time zone, moved back N calendar days
//! at the same wall-clock time — so "30 days before 9:00 in Halifax" stays 9:00 in Halifax across
//! a daylight-saving change, as the buyer reads it on the page.

use chrono::{DateTime, Days, TimeZone, Utc};
use chrono_tz::Tz;

/// The last instant (exclusive) at which a buyer may cancel and be refunded.
pub fn refund_deadline(starts_at: DateTime<Utc>, zone: Tz, days: u32) -> DateTime<Utc> {
    let local = starts_at.with_timezone(&zone).naive_local();
    let Some(back) = local.checked_sub_days(Days::new(u64::from(days))) else { return DateTime::<Utc>::MIN_UTC };
    // A wall-clock time skipped by a DST change: the earliest real instant after it (one hour on);
    // one that happens twice: the earlier, which is the stricter for the buyer by an hour at most.
    match zone.from_local_datetime(&back) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        chrono::LocalResult::None => zone
            .from_local_datetime(&(back + chrono::Duration::hours(1)))
            .earliest()
            .map_or(starts_at - chrono::Duration::days(i64::from(days)), |t| t.with_timezone(&Utc)),
    }
}

/// Whether the window is still open at `now`: strictly before the deadline.
pub fn refund_window_open(starts_at: DateTime<Utc>, zone: Tz, days: u32, now: DateTime<Utc>) -> bool {
    now < refund_deadline(starts_at, zone, days)
}

/// The last instant (exclusive) at which a buyer may change attendee names: the policy "until N
/// days before the day" reads like the refund window's, so it is counted the same way.
pub fn name_change_deadline(starts_at: DateTime<Utc>, zone: Tz, days: u32) -> DateTime<Utc> {
    refund_deadline(starts_at, zone, days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(zone: Tz, y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        zone.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn open_until_one_second_before_the_deadline_closed_at_it() {
        let zone = chrono_tz::America::Toronto;
        let start = at(zone, 2027, 6, 15, 9);
        let deadline = at(zone, 2027, 5, 16, 9);
        assert_eq!(refund_deadline(start, zone, 30), deadline);
        assert!(refund_window_open(start, zone, 30, deadline - Duration::seconds(1)));
        assert!(!refund_window_open(start, zone, 30, deadline));
        assert!(!refund_window_open(start, zone, 30, deadline + Duration::seconds(1)));
        assert!(!refund_window_open(start, zone, 30, start + Duration::days(1)));
    }

    #[test]
    fn the_deadline_keeps_the_venue_wall_clock_time_across_a_daylight_saving_change() {
        // Halifax moves to daylight time on 14 March 2027: 30 days before 9:00 on 1 April is
        // 9:00 on 2 March in standard time, 29 days and 23 hours earlier in absolute time.
        let zone = chrono_tz::America::Halifax;
        let start = at(zone, 2027, 4, 1, 9);
        let deadline = refund_deadline(start, zone, 30);
        assert_eq!(deadline, at(zone, 2027, 3, 2, 9));
        assert_eq!(start - deadline, Duration::days(30) - Duration::hours(1));
    }

    #[test]
    fn measured_in_the_venue_zone_not_in_utc() {
        // 9:00 in Vancouver is 16:00 UTC: the deadline is 16:00 UTC, not midnight or 9:00 UTC.
        let zone = chrono_tz::America::Vancouver;
        let start = at(zone, 2027, 10, 20, 9);
        let deadline = refund_deadline(start, zone, 30);
        assert_eq!(deadline, Utc.with_ymd_and_hms(2027, 9, 20, 16, 0, 0).unwrap());
    }

    #[test]
    fn zero_days_means_until_the_start() {
        let zone = chrono_tz::America::Montreal;
        let start = at(zone, 2027, 6, 15, 9);
        assert!(refund_window_open(start, zone, 0, start - Duration::seconds(1)));
        assert!(!refund_window_open(start, zone, 0, start));
    }

    #[test]
    fn the_name_change_deadline_is_n_days_before_at_the_venue_wall_clock_time() {
        let zone = chrono_tz::America::Halifax;
        let start = at(zone, 2027, 3, 15, 9);
        // Across the 14 March change: still 9:00 in Halifax two days before.
        assert_eq!(name_change_deadline(start, zone, 2), at(zone, 2027, 3, 13, 9));
        assert_eq!(name_change_deadline(start, zone, 0), start);
    }
}
