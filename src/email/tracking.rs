//! Open and click tracking that works with any transport: each mail carries a pixel URL and
//! wraps its links, both signed with the server's secret (`domain::tokens`) so nobody can mark
//! someone else's mail as opened or turn the redirect into an open redirector.

use super::render::LinkTracker;
use crate::domain::tokens::{click_token, open_token};
use crate::domain::url::percent_encode;

/// Wraps a mail's links through `/e/c/…` and adds the `/e/o/….gif` pixel.
pub struct SignedLinks<'a> {
    pub secret: &'a str,
    pub base_url: &'a str,
    pub campaign_id: i64,
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
    fn links_are_wrapped_and_encoded() {
        let links = SignedLinks { secret: "k", base_url: "https://billetterie.example/", campaign_id: 9 };
        let url = links.click_url("https://billetterie.example/fr/ressources?x=1&y=2");
        assert!(url.starts_with("https://billetterie.example/e/c/9."));
        assert!(url.ends_with("?u=https%3A%2F%2Fbilletterie.example%2Ffr%2Fressources%3Fx%3D1%26y%3D2"));
        assert!(links.open_pixel_url().unwrap().ends_with(".gif"));
    }
}
