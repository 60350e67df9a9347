//! Headers every response carries: a Content-Security-Policy with no inline script, no framing,
//! no MIME sniffing, a strict referrer policy, and HSTS when the request came over HTTPS.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::config::Settings;

/// The policy, computed once from the settings: Stripe.js and Google Analytics are allowed only
/// when they are configured.
#[derive(Clone)]
pub struct SecurityPolicy {
    csp: HeaderValue,
    always_https: bool,
}

impl SecurityPolicy {
    /// `real_stripe`: Stripe.js is used (real keys), not the local stand-in's test-card form.
    pub fn new(s: &Settings, real_stripe: bool) -> Self {
        let mut script = vec!["'self'"];
        let mut connect = vec!["'self'"];
        let mut frame = vec!["'none'"];
        // `https:`: the presenter's photo is an address the organiser sets in the back office,
        // on whatever host holds it; scripts stay locked to our own.
        let mut img = vec!["'self'", "data:", "https:"];
        if real_stripe {
            script.push("https://js.stripe.com");
            connect.push("https://api.stripe.com");
            frame = vec!["https://js.stripe.com", "https://hooks.stripe.com"];
        }
        if !s.ga_id.is_empty() {
            script.push("https://www.googletagmanager.com");
            connect.extend(["https://www.google-analytics.com", "https://region1.google-analytics.com"]);
            img.push("https://www.google-analytics.com");
        }
        let csp = format!(
            "default-src 'self'; script-src {}; style-src 'self'; img-src {}; font-src 'self'; connect-src {}; frame-src {}; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            script.join(" "),
            img.join(" "),
            connect.join(" "),
            frame.join(" ")
        );
        Self { csp: HeaderValue::from_str(&csp).expect("the policy is ASCII"), always_https: s.frontend_url.starts_with("https://") }
    }

    pub fn csp(&self) -> &str {
        self.csp.to_str().unwrap_or_default()
    }
}

pub async fn headers(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let policy = req.app_data::<web::Data<SecurityPolicy>>().cloned();
    let https = req.connection_info().scheme() == "https";
    // The door's page scans tickets with the phone's camera; no other page may ask for it.
    let camera = req.path().starts_with("/admin/check-in");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if let Some(policy) = policy {
        h.insert(header::CONTENT_SECURITY_POLICY, policy.csp.clone());
        if https || policy.always_https {
            h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
        }
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let permissions = if camera { "camera=(self), microphone=(), geolocation=()" } else { "camera=(), microphone=(), geolocation=()" };
    h.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(permissions));
    Ok(res)
}
