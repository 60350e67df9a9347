use serde::{Deserialize, Serialize};

/// A city event's primary key. Typed so it cannot be confused with a city or venue id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CityEventId(pub i64);

impl std::fmt::Display for CityEventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
