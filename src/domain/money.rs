use serde::{Deserialize, Serialize};

/// An amount of Canadian money in cents. Integer arithmetic only: no float ever touches a price.
/// How each language writes it is `i18n::money`'s business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        Cents(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Cents {
    type Output = Cents;
    fn sub(self, rhs: Cents) -> Cents {
        Cents(self.0 - rhs.0)
    }
}

impl Cents {
    /// An amount as a person types it in dollars: `25`, `25.5`, `25,50`, `1 250,00 $`. At most two
    /// decimals; never negative.
    pub fn parse_dollars(raw: &str) -> Option<Cents> {
        let cleaned: String = raw.trim().trim_end_matches('$').chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
        let cleaned = cleaned.strip_prefix('$').unwrap_or(&cleaned).replace(',', ".");
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        if whole.is_empty() || whole.len() > 9 || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = format!("{frac:0<2}");
        Some(Cents(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?))
    }

    /// `2500` → `25.00`: how a form shows an amount to edit.
    pub fn as_dollars(self) -> String {
        format!("{}.{:02}", self.0 / 100, (self.0 % 100).abs())
    }
}

#[cfg(test)]
mod dollar_tests {
    use super::Cents;

    #[test]
    fn dollars_as_people_type_them() {
        for (raw, cents) in [("25", 2500), ("25.5", 2550), ("25,50", 2550), ("1 250,00 $", 125_000), ("$40", 4000)] {
            assert_eq!(Cents::parse_dollars(raw), Some(Cents(cents)), "{raw}");
        }
        for raw in ["", "-5", "2.505", "abc", "1.2.3"] {
            assert_eq!(Cents::parse_dollars(raw), None, "{raw}");
        }
        assert_eq!(Cents(125_005).as_dollars(), "1250.05");
    }
}
