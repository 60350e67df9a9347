//! The actors' tunables, read from the application's `Settings`. The direction is actors →
//! config: configuration only parses and checks values and knows nothing of the actors, which
//! turn those values into what they need (durations, floors below which a timer would spin).

use std::time::Duration;

use crate::config::Settings;

/// What a city-event actor (and the registry that starts them) needs from configuration.
#[derive(Debug, Clone)]
pub struct ActorSettings {
    pub hold_ttl: chrono::Duration,
    /// Most changes written in one transaction.
    pub max_batch: usize,
    /// Seats-only batches written at once (at least 1).
    pub batches_in_flight: usize,
    /// Most requests queued or in flight for one city event; past it, `Busy` at once.
    pub max_inflight: usize,
    pub expiry_tick: Duration,
    /// A commit taking longer than this is abandoned and treated as failed.
    pub commit_timeout: Duration,
    /// How often an idle actor compares its counts with the database (drift check).
    pub resync_every: Duration,
    /// How long a seat offered to the waiting list stays held for its person.
    pub offer_ttl: chrono::Duration,
}

impl ActorSettings {
    /// The floors keep a misconfigured timer from spinning (a 0 ms tick) or a commit from being
    /// abandoned before any database could answer; the offer's TTL stays within a month.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            hold_ttl: s.hold_ttl(),
            max_batch: s.actor_max_batch,
            batches_in_flight: s.actor_batches_in_flight.clamp(1, 8),
            max_inflight: s.actor_max_inflight,
            expiry_tick: Duration::from_millis(s.hold_expiry_tick_ms.max(10)),
            commit_timeout: Duration::from_millis(s.commit_timeout_ms.max(100)),
            resync_every: Duration::from_millis(s.actor_resync_interval_ms.max(100)),
            offer_ttl: chrono::Duration::seconds(s.waitlist_offer_ttl_seconds.clamp(1, 30 * 86_400) as i64),
        }
    }
}

impl From<&Settings> for ActorSettings {
    fn from(s: &Settings) -> Self {
        Self::from_settings(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_have_floors_and_the_offer_ttl_a_ceiling() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let env: Vec<(String, String)> = [
            ("HOLD_EXPIRY_TICK_MS", "0"),
            ("COMMIT_TIMEOUT_MS", "1"),
            ("ACTOR_RESYNC_INTERVAL_MS", "0"),
            ("WAITLIST_OFFER_TTL_SECONDS", "999999999"),
            ("HOLD_TTL_SECONDS", "60"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let s = Settings::load_from(&dir, &env).unwrap();
        let a = ActorSettings::from_settings(&s);
        assert_eq!(a.expiry_tick, Duration::from_millis(10));
        assert_eq!(a.commit_timeout, Duration::from_millis(100));
        assert_eq!(a.resync_every, Duration::from_millis(100));
        assert_eq!(a.offer_ttl, chrono::Duration::days(30));
        assert_eq!(a.hold_ttl, chrono::Duration::seconds(60));
        assert_eq!((a.max_batch, a.max_inflight), (s.actor_max_batch, s.actor_max_inflight));
    }
}
