use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Cents;

/// One sales tax that applies where the masterclass is held (the place of supply), as stored in
/// `sales_taxes`. Rates are parts per 100,000 so 9.975 % is exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    pub rate_per_100k: i32,
    pub registration_number: String,
}

/// A tax line of a quote or receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaxLine {
    /// `GST`, `HST`, `QST` or `PST`.
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    /// Parts per 100,000: 5000 is 5 %, 9975 is 9.975 %.
    pub rate_per_100k: i32,
    /// The organiser's registration number for this tax, printed on receipts.
    pub registration_number: String,
    pub amount_cents: i64,
}

impl TaxRate {
    /// Each tax is computed on the same taxable amount (Québec's QST is not charged on the GST
    /// since 2013) and rounded to the nearest cent, half up.
    pub fn apply(&self, taxable: Cents) -> TaxLine {
        let amount = (taxable.0 * i64::from(self.rate_per_100k) + 50_000).div_euclid(100_000);
        TaxLine {
            code: self.code.clone(),
            label_en: self.label_en.clone(),
            label_fr: self.label_fr.clone(),
            rate_per_100k: self.rate_per_100k,
            registration_number: self.registration_number.clone(),
            amount_cents: amount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(code: &str, r: i32) -> TaxRate {
        TaxRate {
            code: code.into(),
            label_en: code.into(),
            label_fr: code.into(),
            rate_per_100k: r,
            registration_number: "123456789 RT0001".into(),
        }
    }

    #[test]
    fn quebec_two_lines_on_the_same_base() {
        let base = Cents(45_000);
        assert_eq!(rate("GST", 5000).apply(base).amount_cents, 2_250);
        assert_eq!(rate("QST", 9975).apply(base).amount_cents, 4_489); // 4488.75 → 4489
    }

    #[test]
    fn rounds_half_up() {
        assert_eq!(rate("HST", 13_000).apply(Cents(50)).amount_cents, 7); // 6.5 → 7
        assert_eq!(rate("HST", 13_000).apply(Cents(0)).amount_cents, 0);
        assert_eq!(rate("HST", 14_000).apply(Cents(39_900)).amount_cents, 5_586);
    }
}
