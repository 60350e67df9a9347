//! Protection of every HTML form against cross-site request forgery: a signed double-submit
//! token. The browser holds a random value in an `HttpOnly` cookie; each form carries
//! `HMAC(secret, value)` in a hidden `csrf_token` field. Another site can make the browser send
//! the cookie, but cannot read it, so it cannot produce the field. The `Origin` header, when the
//! browser sends one, must also be our own.
//!
//! Use: `let csrf = Csrf::from_request(&req, secret);` when rendering (put `csrf.token()` in the
//! form, then `csrf.set_cookie(&mut response)`), and `csrf::verify(&req, secret, &submitted)`
//! before acting on a POST.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const COOKIE: &str = "csrf";
pub const FIELD: &str = "csrf_token";

fn mac(secret: &str, value: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"csrf:");
    mac.update(value.as_bytes());
    mac
}

/// The browser's CSRF value, read from its cookie or freshly made.
pub struct Csrf {
    value: String,
    token: String,
    fresh: bool,
    secure: bool,
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

impl Csrf {
    pub fn from_request(req: &HttpRequest, secret: &str) -> Self {
        let existing =
            req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let (value, fresh) = match existing {
            Some(v) => (v, false),
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                (hex::encode(bytes), true)
            }
        };
        let token = hex::encode(mac(secret, &value).finalize().into_bytes());
        Self { value, token, fresh, secure: is_https(req) }
    }

    /// The value for the form's hidden `csrf_token` field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sets the cookie when it was just made (`Lax`: a visitor arriving from a link must keep
    /// the same value, or forms open in other tabs would stop working).
    pub fn set_cookie(&self, res: &mut HttpResponse) {
        if !self.fresh {
            return;
        }
        let cookie = Cookie::build(COOKIE, self.value.clone())
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::days(1))
            .finish();
        let _ = res.add_cookie(&cookie);
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum CsrfError {
    MissingCookie,
    BadToken,
    ForeignOrigin,
}

/// Accepts a POST only with the token that matches the browser's cookie, from our own origin.
pub fn verify(req: &HttpRequest, secret: &str, submitted: &str) -> Result<(), CsrfError> {
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let info = req.connection_info();
        let ours = format!("{}://{}", info.scheme(), info.host());
        if origin != ours && origin != "null" {
            return Err(CsrfError::ForeignOrigin);
        }
    }
    let cookie = req.cookie(COOKIE).ok_or(CsrfError::MissingCookie)?;
    let sig = hex::decode(submitted.trim()).map_err(|_| CsrfError::BadToken)?;
    mac(secret, cookie.value()).verify_slice(&sig).map_err(|_| CsrfError::BadToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_token_of_the_cookie_passes_and_others_fail() {
        let first = Csrf::from_request(&TestRequest::default().to_http_request(), "s3cret");
        assert!(first.fresh);
        let req = TestRequest::post().cookie(Cookie::new(COOKIE, first.value.clone())).to_http_request();
        assert_eq!(verify(&req, "s3cret", first.token()), Ok(()));
        assert_eq!(verify(&req, "other secret", first.token()), Err(CsrfError::BadToken));
        assert_eq!(verify(&req, "s3cret", "00"), Err(CsrfError::BadToken));
        assert_eq!(verify(&req, "s3cret", "not hex"), Err(CsrfError::BadToken));
        let no_cookie = TestRequest::post().to_http_request();
        assert_eq!(verify(&no_cookie, "s3cret", first.token()), Err(CsrfError::MissingCookie));
        let again = Csrf::from_request(&req, "s3cret");
        assert!(!again.fresh);
        assert_eq!(again.token(), first.token());
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        let c = Csrf::from_request(&TestRequest::default().to_http_request(), "k");
        let req = TestRequest::post()
            .insert_header((header::ORIGIN, "https://evil.example"))
            .cookie(Cookie::new(COOKIE, c.value.clone()))
            .to_http_request();
        assert_eq!(verify(&req, "k", c.token()), Err(CsrfError::ForeignOrigin));
    }
}
