//! What every page shares: the language (from the address), the layout's data (navigation,
//! language switcher, `hreflang` and canonical links, hashed assets, CSRF token, consent
//! banner), rendering, and the HTML error pages.

use std::sync::{Arc, OnceLock};

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use handlebars::Handlebars;
use serde_json::{json, Value};

use super::i18n;
use super::paths::{self, Page};
use crate::db::site_facts::{FactsCache, SiteFacts};
use crate::domain::Language;
use crate::http::assets::Assets;
use crate::http::csrf::Csrf;
use crate::http::error::ApiError;
use crate::http::language::language_of;
use crate::state::AppState;

/// Templates and assets are compiled into the binary; built once per process.
pub struct Site {
    pub hb: Handlebars<'static>,
    pub assets: &'static Assets,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/layout.hbs")),
    ("event_card", include_str!("../../templates/partials/event_card.hbs")),
    ("availability", include_str!("../../templates/partials/availability.hbs")),
    ("receipt", include_str!("../../templates/partials/receipt.hbs")),
    ("home", include_str!("../../templates/home.hbs")),
    ("about", include_str!("../../templates/about.hbs")),
    ("masterclass", include_str!("../../templates/masterclass.hbs")),
    ("cities", include_str!("../../templates/cities.hbs")),
    ("city", include_str!("../../templates/city.hbs")),
    ("pricing", include_str!("../../templates/pricing.hbs")),
    ("testimonials", include_str!("../../templates/testimonials.hbs")),
    ("faq", include_str!("../../templates/faq.hbs")),
    ("book", include_str!("../../templates/book.hbs")),
    ("booking_form", include_str!("../../templates/booking_form.hbs")),
    ("checkout", include_str!("../../templates/checkout.hbs")),
    ("confirmation", include_str!("../../templates/confirmation.hbs")),
    ("manage", include_str!("../../templates/manage.hbs")),
    ("text_page", include_str!("../../templates/text_page.hbs")),
    ("waitlist_claim", include_str!("../../templates/waitlist_claim.hbs")),
    ("feedback_form", include_str!("../../templates/feedback_form.hbs")),
    ("resources_page", include_str!("../../templates/resources_page.hbs")),
    ("not_found", include_str!("../../templates/not_found.hbs")),
    ("error", include_str!("../../templates/error.hbs")),
];

/// The templates and assets, compiled on first use. A template that does not compile is left
/// out (and logged): pages that use it answer the error page, the others still work. Start-up
/// calls [`check_templates`] first, so a server with a broken template never starts.
pub fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for (name, source) in TEMPLATES {
            if let Err(e) = hb.register_template_string(name, *source) {
                tracing::error!(template = name, error = %e, "a page template does not compile");
            }
        }
        Site { hb, assets: crate::http::assets::assets() }
    })
}

/// Every page template compiles; else the first error, naming the template.
pub fn check_templates() -> Result<(), String> {
    let mut hb = Handlebars::new();
    for (name, source) in TEMPLATES {
        hb.register_template_string(name, *source).map_err(|e| format!("templates/{name}.hbs: {e}"))?;
    }
    Ok(())
}

pub const CONSENT_COOKIE: &str = "consent";

/// Title, description and indexing of one page.
pub struct Meta {
    pub title: String,
    pub description: String,
    pub noindex: bool,
    pub jsonld: Option<Value>,
}

impl Meta {
    /// From the locale section of the same name (`t.<key>.title`, `t.<key>.description`).
    pub fn from_locale(lang: Language, key: &str, vars: &[(&str, &str)]) -> Self {
        Self {
            title: i18n::text(lang, &format!("{key}.title"), vars),
            description: i18n::text(lang, &format!("{key}.description"), vars),
            noindex: false,
            jsonld: None,
        }
    }

    /// The title says the page came back with errors, before anything else a screen reader reads.
    pub fn with_errors(mut self, lang: Language) -> Self {
        self.title = i18n::text(lang, "common.title_error", &[("title", &self.title)]);
        self
    }

    pub fn private(mut self) -> Self {
        self.noindex = true;
        self
    }
}

/// A page's title with the site's name after it, unless it already carries it (the home page).
fn full_title(lang: Language, title: &str) -> String {
    let site = i18n::text(lang, "common.site_name", &[]);
    if title.contains(&site) {
        title.to_owned()
    } else {
        i18n::text(lang, "common.title_with_site", &[("title", title), ("site", &site)])
    }
}

/// One page being answered.
pub struct PageCtx<'a> {
    pub req: &'a HttpRequest,
    pub state: &'a AppState,
    pub lang: Language,
    pub csrf: Csrf,
}

impl<'a> PageCtx<'a> {
    pub fn new(req: &'a HttpRequest, state: &'a AppState) -> Self {
        Self { req, state, lang: language_of(req), csrf: Csrf::from_request(req, state.settings.secret_key.expose()) }
    }

    pub fn site(&self) -> &'static Site {
        site()
    }

    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.state.settings.frontend_url.trim_end_matches('/'))
    }

    /// The data every template receives; the page's own under `body`.
    pub fn data(&self, current: Option<Page>, meta: &Meta, body: Value) -> Value {
        let consent = self.req.cookie(CONSENT_COOKIE).map(|c| c.value().to_owned());
        let at = At { path: self.req.path(), query: self.req.query_string(), consent: consent.as_deref() };
        // A page being stored gets a marker, filled with each visitor's own token when served.
        let token = if super::page_cache::capturing() { super::page_cache::CSRF_MARKER } else { self.csrf.token() };
        base_data(self.lang, at, &self.state.settings, &self.state.facts.get(), Some(token), current, meta, body)
    }

    /// Renders `template` with the layout; sets the CSRF cookie when it is new.
    pub fn render(
        &self,
        status: StatusCode,
        template: &str,
        current: Option<Page>,
        meta: Meta,
        body: Value,
    ) -> Result<HttpResponse, PageError> {
        let html = site().hb.render(template, &self.data(current, &meta, body)).map_err(|e| {
            tracing::error!(error = %e, template, "template rendering failed");
            PageError::internal(self.lang)
        })?;
        // Kept by the page cache, which sends it filled in; else sent as it is.
        let html = if super::page_cache::keep(&html, self.csrf.token()) { String::new() } else { html };
        let mut res = HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_LANGUAGE, self.lang.as_str()))
            // Pages carry a per-browser CSRF token and live seat counts: never from a shared cache.
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .body(html);
        self.csrf.set_cookie(&mut res);
        Ok(res)
    }

    pub fn ok(&self, template: &str, current: Option<Page>, meta: Meta, body: Value) -> Result<HttpResponse, PageError> {
        self.render(StatusCode::OK, template, current, meta, body)
    }
}

/// Where the visitor is: the address and their analytics choice.
struct At<'a> {
    path: &'a str,
    query: &'a str,
    consent: Option<&'a str>,
}

#[allow(clippy::too_many_arguments)]
fn base_data(
    lang: Language,
    at: At<'_>,
    settings: &crate::config::Settings,
    facts: &SiteFacts,
    csrf: Option<&str>,
    current: Option<Page>,
    meta: &Meta,
    body: Value,
) -> Value {
    let site = site();
    let other = if lang == Language::Fr { Language::En } else { Language::Fr };
    let (path, query) = (at.path, at.query);
    let with_query = |p: String| if query.is_empty() { p } else { format!("{p}?{query}") };
    let base = settings.frontend_url.trim_end_matches('/');
    // Canonical and alternates carry no query: the booking-specific pages are `noindex` anyway.
    let (fr_path, en_path) = match lang {
        Language::Fr => (path.to_owned(), paths::translate(path, Language::En)),
        Language::En => (paths::translate(path, Language::Fr), path.to_owned()),
    };
    let nav: Vec<Value> = [Page::About, Page::Masterclass, Page::Cities, Page::Pricing, Page::Testimonials, Page::Faq]
        .iter()
        .map(|p| json!({"href": p.url(lang), "label": i18n::text(lang, &format!("nav.{}", p.id()), &[]), "current": Some(*p) == current}))
        .collect();
    let consent = at.consent;
    let ga = !settings.ga_id.is_empty();
    let jsonld = meta.jsonld.as_ref().map(|v| v.to_string().replace("</", "<\\/"));
    json!({
        "lang": lang.as_str(),
        "other_lang": other.as_str(),
        "t": &*i18n::tree(lang, facts),
        "page": {
            "id": current.map(Page::id),
            "title": full_title(lang, &meta.title),
            "description": meta.description,
            "noindex": meta.noindex,
            "canonical": format!("{base}{path}"),
            "alternate_fr": format!("{base}{fr_path}"),
            "alternate_en": format!("{base}{en_path}"),
            "switch_url": with_query(if lang == Language::Fr { en_path } else { fr_path }),
            "path": with_query(path.to_owned()),
            "home": Page::Home.url(lang),
            "book": Page::Book.url(lang),
            "privacy": Page::Privacy.url(lang),
            "terms": Page::Terms.url(lang),
        },
        "nav": nav,
        "book_current": current == Some(Page::Book),
        "assets": {
            "css": site.assets.url("site.css"),
            "js": site.assets.url("site.js"),
            "analytics": site.assets.url("analytics.js"),
            "stripe": site.assets.url("stripe-checkout.js"),
            "favicon": site.assets.url("favicon.svg"),
        },
        "csrf": csrf,
        "consent": {
            "banner": ga && consent.is_none() && csrf.is_some(),
            "analytics": ga && consent == Some("yes"),
            "ga_id": settings.ga_id,
            "configurable": ga,
            "given": consent == Some("yes"),
        },
        "support_email": facts.organiser.support_email,
        "jsonld": jsonld,
        "body": body,
    })
}

/// Why a page could not be shown; rendered as an HTML page in the visitor's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Language,
    pub status: StatusCode,
    pub retry_after: Option<u32>,
}

impl PageError {
    pub fn not_found(lang: Language) -> Self {
        Self { lang, status: StatusCode::NOT_FOUND, retry_after: None }
    }

    pub fn internal(lang: Language) -> Self {
        Self { lang, status: StatusCode::INTERNAL_SERVER_ERROR, retry_after: None }
    }

    /// From an API-layer error, keeping its status (404, 503 with Retry-After…).
    pub fn from_api(lang: Language, e: ApiError) -> Self {
        e.log();
        let status = if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND || e.status == StatusCode::TOO_MANY_REQUESTS {
            e.status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Self { lang, status, retry_after: e.retry_after }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "page error {}", self.status)
    }
}

/// Error pages have no request at hand here; they link to the home page and carry no CSRF
/// token (they have no form).
static ERROR_SETTINGS: OnceLock<crate::config::Settings> = OnceLock::new();

static ERROR_FACTS: OnceLock<Arc<FactsCache>> = OnceLock::new();

pub fn remember_settings(settings: &crate::config::Settings, facts: &Arc<FactsCache>) {
    let _ = ERROR_SETTINGS.set(settings.clone());
    let _ = ERROR_FACTS.set(facts.clone());
}

pub fn error_page_html(lang: Language, status: StatusCode, path: &str) -> String {
    let key = if status == StatusCode::NOT_FOUND { "not_found" } else { "error" };
    let mut meta = Meta::from_locale(lang, key, &[]).private();
    meta.jsonld = None;
    let busy = status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS;
    let fallback;
    let settings = match ERROR_SETTINGS.get() {
        Some(s) => s,
        None => {
            fallback = crate::config::Settings::load_from(&crate::config::config_dir(), &[]).ok();
            match &fallback {
                Some(s) => s,
                None => {
                    return format!("<!doctype html><html lang=\"{}\"><title>{}</title><h1>{}</h1></html>", lang.as_str(), status, status)
                }
            }
        }
    };
    let at = At { path, query: "", consent: None };
    let facts = ERROR_FACTS.get().map(|f| f.get()).unwrap_or_default();
    let data = base_data(lang, at, settings, &facts, None, None, &meta, json!({"busy": busy}));
    site().hb.render(key, &data).unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page rendering failed");
        format!("<!doctype html><html lang=\"{}\"><title>{}</title><h1>{}</h1></html>", lang.as_str(), status, status)
    })
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        b.content_type("text/html; charset=utf-8").insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(s) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        b.body(error_page_html(self.lang, self.status, &format!("/{}/", self.lang.as_str())))
    }
}

/// A cookie remembering the visitor's analytics choice for a year.
pub fn consent_cookie(choice: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(CONSENT_COOKIE, choice.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(365))
        .finish()
}
