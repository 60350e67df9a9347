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

/// What a booking earns the organiser, in cents: its total less the sales taxes (collected for
/// the governments) and less its refunds, each refund returning its share of those taxes. The
/// dashboard and the accounting export both use this, so they agree to the cent.
pub fn net_revenue_cents(total: i64, tax: i64, refunded: i64) -> i64 {
    let pre_tax = total - tax;
    if total <= 0 {
        return pre_tax - refunded.max(0);
    }
    let refunded = refunded.clamp(0, total);
    // The refund's pre-tax share, rounded half up (amounts are never negative here).
    let refunded_pre_tax = (2 * refunded * pre_tax + total) / (2 * total);
    pre_tax - refunded_pre_tax
}

impl TaxRate {
    /// Why this registration number cannot go on a real receipt: missing, not in the CRA's
    /// (`123456789 RT0001`) or Revenu Québec's (`1234567890 TQ0001`) form, or the sample digits.
    /// Provincial sales taxes have no single form and are not checked.
    pub fn registration_problem(&self) -> Option<String> {
        let number = self.registration_number.trim();
        let (digits, program) = match self.code.as_str() {
            "GST" | "HST" => (9, "RT"),
            "QST" => (10, "TQ"),
            _ => return None,
        };
        let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        let (account, rest) = compact.split_at(compact.len().min(digits));
        let well_formed = account.len() == digits
            && account.bytes().all(|b| b.is_ascii_digit())
            && rest.len() == 6
            && rest.starts_with(program)
            && rest[2..].bytes().all(|b| b.is_ascii_digit());
        let expected = format!("{} digits, {program} and 4 digits", digits);
        if number.is_empty() {
            Some(format!("{} registration number must be set ({expected})", self.code))
        } else if !well_formed {
            Some(format!("{} registration number {number:?} is not {expected}", self.code))
        } else if ["123456789", "1234567890", "000000000", "0000000000"].contains(&account) {
            Some(format!("{} registration number {number:?} is the sample one", self.code))
        } else {
            None
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

    #[test]
    fn net_revenue_leaves_out_taxes_and_refunds_with_their_taxes() {
        // 2 seats at 395 $ in Québec: 790 $ + 39,50 $ GST + 78,80 $ QST = 908,30 $.
        assert_eq!(net_revenue_cents(90_830, 11_830, 0), 79_000);
        assert_eq!(net_revenue_cents(90_830, 11_830, 90_830), 0, "a full refund leaves nothing");
        assert_eq!(net_revenue_cents(90_830, 11_830, 45_415), 39_500, "half the money back is half the seats");
        assert_eq!(net_revenue_cents(0, 0, 0), 0, "a free (100 % promo) booking");
    }

    #[test]
    fn registration_numbers_have_the_agencies_forms_and_are_not_samples() {
        let tax = |code: &str, number: &str| TaxRate {
            code: code.into(),
            label_en: code.into(),
            label_fr: code.into(),
            rate_per_100k: 5000,
            registration_number: number.into(),
        };
        assert_eq!(tax("GST", "812345678 RT0001").registration_problem(), None);
        assert_eq!(tax("HST", "812345678RT0001").registration_problem(), None);
        assert_eq!(tax("QST", "1212345678 TQ0001").registration_problem(), None);
        assert_eq!(tax("PST", "PST-1234-5678").registration_problem(), None);
        assert!(tax("GST", "").registration_problem().unwrap().contains("must be set"));
        assert!(tax("GST", "123456789 RT0001").registration_problem().unwrap().contains("sample"));
        assert!(tax("QST", "1234567890 TQ0001").registration_problem().unwrap().contains("sample"));
        assert!(tax("QST", "812345678 RT0001").registration_problem().unwrap().contains("is not"));
        assert!(tax("HST", "81234567 RT001").registration_problem().unwrap().contains("is not"));
    }
}
