//! Organiser accounts: Argon2id password hashes, and the login policy (throttling per address
//! and per IP, lockout after repeated failures) decided from attempts stored in the database, so
//! every instance agrees.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

use crate::db::{self, AsyncPool, DbError};
use crate::domain::{AdminRole, Email};

/// Failures counted over this window.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures for one address (since its last success) that lock it for the rest of the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures from one IP, whatever the addresses tried, that make it wait.
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// OWASP's Argon2id setting (19 MiB, 2 passes, 1 lane): the parameters are stored in the hash,
/// so raising them later leaves old hashes valid.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"))
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing: {e}"))?.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// Checked against when the address has no account, so a wrong address costs the same time as a
/// wrong password and the answer reveals nothing.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not the password of anyone").expect("hashing works"))
}

pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("the password must have at least {MIN_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// Whether a login may even be tried now, from the failures already recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Too many failures for this address: locked until then.
    Locked {
        until: DateTime<Utc>,
    },
    /// Too many failures from this IP: wait until then.
    Throttled {
        until: DateTime<Utc>,
    },
}

/// Pure: the policy from the counts of recent failures (see the constants).
pub fn gate(by_email: i64, email_oldest: Option<DateTime<Utc>>, by_ip: i64, ip_oldest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Gate {
    let window = Duration::minutes(WINDOW_MINUTES);
    if by_email >= MAX_FAILURES_PER_EMAIL {
        return Gate::Locked { until: email_oldest.unwrap_or(now) + window };
    }
    if by_ip >= MAX_FAILURES_PER_IP {
        return Gate::Throttled { until: ip_oldest.unwrap_or(now) + window };
    }
    Gate::Open
}

#[derive(Debug)]
pub enum LoginOutcome {
    Success {
        user_id: i64,
        email: String,
    },
    /// Wrong address or password (the same answer for both).
    Invalid,
    Refused(Gate),
}

/// Checks a login and records the attempt.
pub async fn login(pool: &AsyncPool, raw_email: &str, password: &str, ip: &str) -> Result<LoginOutcome, DbError> {
    // An address that does not parse still counts against its own throttle, as text the database
    // takes: no control characters (PostgreSQL refuses NUL), no longer than an address can be.
    let email = Email::parse(raw_email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| raw_email.trim().to_lowercase().chars().filter(|c| !c.is_control()).take(254).collect());
    let now = Utc::now();
    let mut conn = db::connection(pool).await?;
    let (by_email, email_oldest, by_ip, ip_oldest) =
        db::admin::recent_failures(&mut conn, &email, ip, now - Duration::minutes(WINDOW_MINUTES)).await?;
    match gate(by_email, email_oldest, by_ip, ip_oldest, now) {
        Gate::Open => {}
        refused => {
            // Recorded too: hammering a locked account keeps it locked.
            db::admin::record_attempt(&mut conn, &email, ip, false).await?;
            return Ok(LoginOutcome::Refused(refused));
        }
    }
    let user = db::admin::user_by_email(&mut conn, &email).await?;
    drop(conn);
    let hash = user.as_ref().map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    // Argon2 takes tens of milliseconds of CPU on purpose: off the async workers.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let ok = matches && user.as_ref().is_some_and(|u| !u.disabled);
    let mut conn = db::connection(pool).await?;
    db::admin::record_attempt(&mut conn, &email, ip, ok).await?;
    Ok(match user {
        Some(u) if ok => LoginOutcome::Success { user_id: u.id, email: u.email },
        _ => LoginOutcome::Invalid,
    })
}

/// `billetterie admin create-user`: creates the account, or resets its password.
pub async fn create_user(pool: &AsyncPool, raw_email: &str, password: &str, role: AdminRole) -> anyhow::Result<bool> {
    let email = Email::parse(raw_email).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    check_new_password(password).map_err(|e| anyhow::anyhow!(e))?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let mut conn = db::connection(pool).await?;
    let (_, created) = db::admin::upsert_user(&mut conn, email.as_str(), &hash, role.as_str()).await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn lockout_and_throttle() {
        let now = Utc::now();
        let t0 = now - Duration::minutes(3);
        assert_eq!(gate(4, Some(t0), 0, None, now), Gate::Open);
        assert_eq!(gate(5, Some(t0), 5, Some(t0), now), Gate::Locked { until: t0 + Duration::minutes(15) });
        assert_eq!(gate(0, None, 20, Some(t0), now), Gate::Throttled { until: t0 + Duration::minutes(15) });
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("twelve chars").is_ok());
    }
}
