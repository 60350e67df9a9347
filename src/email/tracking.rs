//! Open and click tracking that works with any transport: each mail carries a pixel URL and
//! wraps its links, both signed with the server's secret so nobody can mark someone else's mail
//! as opened or turn the redirect into an open redirector.
//!
//! Token: `<campaign id>.<hex HMAC-SHA256(secret, "open:<id>" | "click:<id>:<target url>")>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::render::LinkTracker;

fn mac(secret: &str, message: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    mac
}

fn token(secret: &str, id: i64, message: &str) -> String {
    format!("{id}.{}", hex::encode(mac(secret, message).finalize().into_bytes()))
}

/// The campaign id of a valid token, checked in constant time.
fn verify(secret: &str, token: &str, message_for: impl Fn(i64) -> String) -> Option<i64> {
    let (id, sig) = token.split_once('.')?;
    let id: i64 = id.parse().ok()?;
    let sig = hex::decode(sig).ok()?;
    mac(secret, &message_for(id)).verify_slice(&sig).ok()?;
    Some(id)
}

pub fn open_token(secret: &str, id: i64) -> String {
    token(secret, id, &format!("open:{id}"))
}

pub fn verify_open(secret: &str, token: &str) -> Option<i64> {
    verify(secret, token, |id| format!("open:{id}"))
}

pub fn click_token(secret: &str, id: i64, target: &str) -> String {
    token(secret, id, &format!("click:{id}:{target}"))
}

pub fn verify_click(secret: &str, token: &str, target: &str) -> Option<i64> {
    verify(secret, token, |id| format!("click:{id}:{target}"))
}

/// Wraps a mail's links through `/e/c/…` and adds the `/e/o/….gif` pixel.
pub struct SignedLinks<'a> {
    pub secret: &'a str,
    pub base_url: &'a str,
    pub campaign_id: i64,
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl LinkTracker for SignedLinks<'_> {
    fn click_url(&self, target: &str) -> String {
        let base = self.base_url.trim_end_matches('/');
        format!("{base}/e/c/{}?u={}", click_token(self.secret, self.campaign_id, target), percent_encode(target))
    }

    fn open_pixel_url(&self) -> Option<String> {
        let base = self.base_url.trim_end_matches('/');
        Some(format!("{base}/e/o/{}.gif", open_token(self.secret, self.campaign_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let t = open_token("s3cret", 42);
        assert_eq!(verify_open("s3cret", &t), Some(42));
        assert_eq!(verify_open("other", &t), None, "another key");
        assert_eq!(verify_open("s3cret", &t.replacen("42.", "43.", 1)), None, "another campaign");
        assert_eq!(verify_open("s3cret", "42.zz"), None);
        assert_eq!(verify_open("s3cret", "nonsense"), None);
        let c = click_token("s3cret", 7, "https://example.ca/a");
        assert_eq!(verify_click("s3cret", &c, "https://example.ca/a"), Some(7));
        assert_eq!(verify_click("s3cret", &c, "https://evil.example/"), None, "the target is signed too");
        assert_eq!(verify_open("s3cret", &c), None, "a click token is not an open token");
    }

    #[test]
    fn links_are_wrapped_and_encoded() {
        let links = SignedLinks { secret: "k", base_url: "https://billetterie.example/", campaign_id: 9 };
        let url = links.click_url("https://billetterie.example/fr/ressources?x=1&y=2");
        assert!(url.starts_with("https://billetterie.example/e/c/9."));
        assert!(url.ends_with("?u=https%3A%2F%2Fbilletterie.example%2Ffr%2Fressources%3Fx%3D1%26y%3D2"));
        assert!(links.open_pixel_url().unwrap().ends_with(".gif"));
    }
}
