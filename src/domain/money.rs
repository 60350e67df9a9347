use serde::{Deserialize, Serialize};

/// An amount of Canadian money in cents. Integer arithmetic only: no float ever touches a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// `$1,234.50` in English, `1 234,50 $` in Québec French (narrow no-break space for thousands,
    /// no-break space before the dollar sign).
    pub fn format(self, lang: super::Language) -> String {
        let negative = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let (dollars, cents) = (abs / 100, abs % 100);
        let digits = dollars.to_string();
        let sep = match lang {
            super::Language::En => ",",
            super::Language::Fr => "\u{202f}",
        };
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push_str(sep);
            }
            grouped.push(c);
        }
        let sign = if negative { "-" } else { "" };
        match lang {
            super::Language::En => format!("{sign}${grouped}.{cents:02}"),
            super::Language::Fr => format!("{sign}{grouped},{cents:02}\u{a0}$"),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;

    #[test]
    fn formats_per_language() {
        assert_eq!(Cents(4500).format(Language::En), "$45.00");
        assert_eq!(Cents(4500).format(Language::Fr), "45,00\u{a0}$");
        assert_eq!(Cents(123456789).format(Language::En), "$1,234,567.89");
        assert_eq!(Cents(123456).format(Language::Fr), "1\u{202f}234,56\u{a0}$");
        assert_eq!(Cents(5).format(Language::En), "$0.05");
    }
}
