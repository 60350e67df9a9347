//! Per-client token buckets: `per_minute` requests, refilled evenly over the minute, with a burst of
//! up to `per_minute` at once. Keyed by whatever identifies the client (the peer IP for booking
//! creation; the admin login can key by IP, or by IP and account name).
//!
//! In memory and per instance: good enough to stop one client from flooding holds or guessing
//! passwords; several instances behind a balancer each allow the rate.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after_secs: u32,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter<K = IpAddr> {
    /// 0 = no limit.
    per_minute: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

/// Past this many clients, idle (full) buckets are dropped so memory stays bounded.
const SWEEP_ABOVE: usize = 10_000;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn per_minute(per_minute: u32) -> Self {
        Self { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn is_enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Takes one token for `key`, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), RateLimited> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), RateLimited> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_sec < capacity);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec);
            Err(RateLimited { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u32 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_token_per_interval() {
        let limiter = RateLimiter::<&str>::per_minute(6);
        let t0 = Instant::now();
        for _ in 0..6 {
            assert_eq!(limiter.check_at(&"a", t0), Ok(()));
        }
        assert_eq!(limiter.check_at(&"a", t0), Err(RateLimited { retry_after_secs: 10 }), "one token every 10 s");
        assert_eq!(limiter.check_at(&"b", t0), Ok(()), "another client has its own bucket");
        assert!(limiter.check_at(&"a", t0 + Duration::from_secs(5)).is_err());
        assert_eq!(limiter.check_at(&"a", t0 + Duration::from_secs(10)), Ok(()));
        assert!(limiter.check_at(&"a", t0 + Duration::from_secs(10)).is_err());
        // A long pause refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..6 {
            assert_eq!(limiter.check_at(&"a", later), Ok(()));
        }
        assert!(limiter.check_at(&"a", later).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::<u8>::per_minute(0);
        let now = Instant::now();
        assert!((0..10_000).all(|_| limiter.check_at(&1, now).is_ok()));
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let limiter = RateLimiter::<u32>::per_minute(60);
        let t0 = Instant::now();
        for k in 0..=SWEEP_ABOVE as u32 {
            limiter.check_at(&k, t0).unwrap();
        }
        limiter.check_at(&u32::MAX, t0 + Duration::from_secs(120)).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
