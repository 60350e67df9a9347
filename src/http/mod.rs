//! What every handler shares, whichever surface it serves (JSON API, site, back office): errors
//! become responses here, bodies and paths are extracted here, and the cross-cutting middleware
//! (security headers, request-size limits) and form plumbing (CSRF, redirects, language,
//! hashed assets) live here, so `api`, `web` and `admin` never need each other.

pub mod assets;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod language;
pub mod limits;
pub mod redirect;
pub mod security;
