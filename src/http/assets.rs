//! The site's CSS and JavaScript, compiled into the binary and served under names that carry a
//! hash of their content, so browsers may keep them for a year: a new build changes the name.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    body: &'static [u8],
    content_type: &'static str,
}

/// Logical name (`site.css`) → hashed URL (`/assets/site.3f2a9c81d0.css`), and the reverse.
pub struct Assets {
    urls: HashMap<&'static str, String>,
    by_file: HashMap<String, Asset>,
}

const FILES: &[(&str, &[u8], &str)] = &[
    ("site.css", include_bytes!("../../static/site.css"), "text/css; charset=utf-8"),
    ("admin.css", include_bytes!("../../static/admin.css"), "text/css; charset=utf-8"),
    ("site.js", include_bytes!("../../static/site.js"), "text/javascript; charset=utf-8"),
    ("analytics.js", include_bytes!("../../static/analytics.js"), "text/javascript; charset=utf-8"),
    ("stripe-checkout.js", include_bytes!("../../static/stripe-checkout.js"), "text/javascript; charset=utf-8"),
    ("favicon.svg", include_bytes!("../../static/favicon.svg"), "image/svg+xml"),
    ("check-in.js", include_bytes!("../../static/check-in.js"), "text/javascript; charset=utf-8"),
    ("resources-upload.js", include_bytes!("../../static/resources-upload.js"), "text/javascript; charset=utf-8"),
    // jsQR 1.4.0 (Apache-2.0, static/vendor/jsQR.LICENSE): the door's decoder where the browser
    // has no BarcodeDetector (Firefox, Safari before 17); loaded only then.
    ("jsQR.js", include_bytes!("../../static/vendor/jsQR.js"), "text/javascript; charset=utf-8"),
];

/// The embedded assets, hashed once per process.
pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(Assets::embedded)
}

impl Assets {
    pub fn embedded() -> Self {
        let mut urls = HashMap::new();
        let mut by_file = HashMap::new();
        for (name, body, content_type) in FILES {
            let hash = hex::encode(Sha256::digest(body));
            let (stem, ext) = name.rsplit_once('.').expect("asset names have an extension");
            let file = format!("{stem}.{}.{ext}", &hash[..12]);
            urls.insert(*name, format!("/assets/{file}"));
            by_file.insert(file, Asset { body, content_type });
        }
        Self { urls, by_file }
    }

    /// The URL of an asset by its logical name. A name that is not embedded is a programming
    /// error the page tests catch (debug builds stop on it); a release build logs it and links
    /// to an address that answers 404 rather than fail the page.
    pub fn url(&self, name: &str) -> &str {
        match self.urls.get(name) {
            Some(url) => url,
            None => {
                debug_assert!(false, "no embedded asset named {name}");
                tracing::error!(asset = name, "no embedded asset by this name");
                "/assets/missing"
            }
        }
    }

    pub fn total_bytes(&self, names: &[&str]) -> usize {
        names
            .iter()
            .filter_map(|n| self.urls.get(n))
            .filter_map(|u| self.by_file.get(u.trim_start_matches("/assets/")))
            .map(|a| a.body.len())
            .sum()
    }
}

#[tracing::instrument(name = "http.assets.serve", skip_all)]
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    match assets().by_file.get(file.as_str()) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(a.body),
        None => HttpResponse::NotFound().insert_header((header::CACHE_CONTROL, "no-store")).finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_content_hash() {
        let a = Assets::embedded();
        let url = a.url("site.css");
        assert!(url.starts_with("/assets/site.") && url.ends_with(".css"), "{url}");
        assert_eq!(url.len(), "/assets/site..css".len() + 12);
        assert!(a.by_file.contains_key(url.trim_start_matches("/assets/")));
    }
}
