//! Price rules are data (columns of `city_events`); this module turns them into a quote.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::taxes::{TaxLine, TaxRate};
use super::{Cents, Quantity};

/// A city event's price rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRules {
    pub regular: Cents,
    /// Early-bird price, valid strictly before the instant.
    pub early_bird: Option<(Cents, DateTime<Utc>)>,
    /// Group price per seat from a number of seats in one booking.
    pub group: Option<(Cents, u16)>,
}

/// What a promotion code takes off the subtotal, before tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// A whole percentage, rounded down to the cent.
    Percent(u8),
    /// A fixed amount off the booking (not per seat), never more than the subtotal.
    Fixed(Cents),
}

impl Discount {
    pub fn of(self, subtotal: Cents) -> Cents {
        match self {
            Self::Percent(p) => Cents((subtotal.0 * i64::from(p.min(100))) / 100),
            Self::Fixed(amount) => Cents(amount.0.clamp(0, subtotal.0.max(0))),
        }
    }
}

/// Which rule set the unit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceTier {
    Regular,
    EarlyBird,
    Group,
}

/// What a booking costs, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub tier: PriceTier,
    pub unit_price: Cents,
    pub quantity: Quantity,
    pub subtotal: Cents,
    pub discount: Cents,
    pub taxes: Vec<TaxLine>,
    pub tax_total: Cents,
    pub total: Cents,
}

impl PriceRules {
    /// The unit price for `quantity` seats bought at `now`: the lowest of the prices that apply
    /// (a group of five during the early-bird period pays whichever is cheaper, never both).
    pub fn unit_price(&self, quantity: Quantity, now: DateTime<Utc>) -> (PriceTier, Cents) {
        let mut best = (PriceTier::Regular, self.regular);
        if let Some((price, until)) = self.early_bird {
            if now < until && price < best.1 {
                best = (PriceTier::EarlyBird, price);
            }
        }
        if let Some((price, min)) = self.group {
            if quantity.get() >= min && price < best.1 {
                best = (PriceTier::Group, price);
            }
        }
        best
    }

    /// The full quote: unit price × quantity, minus a promotion (`Discount::of`), then each tax
    /// on the discounted amount.
    pub fn quote(&self, quantity: Quantity, now: DateTime<Utc>, discount: Option<Discount>, taxes: &[TaxRate]) -> Quote {
        let (tier, unit) = self.unit_price(quantity, now);
        let subtotal = Cents(unit.0 * i64::from(quantity.get()));
        let discount = discount.map_or(Cents(0), |d| d.of(subtotal));
        let taxable = subtotal - discount;
        let lines: Vec<TaxLine> = taxes.iter().map(|t| t.apply(taxable)).collect();
        let tax_total = Cents(lines.iter().map(|l| l.amount_cents).sum());
        Quote { tier, unit_price: unit, quantity, subtotal, discount, taxes: lines, tax_total, total: taxable + tax_total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rules() -> PriceRules {
        PriceRules {
            regular: Cents(49_500),
            early_bird: Some((Cents(39_500), Utc.with_ymd_and_hms(2027, 3, 1, 5, 0, 0).unwrap())),
            group: Some((Cents(42_500), 5)),
        }
    }

    fn q(n: i64) -> Quantity {
        Quantity::parse(n, 10).unwrap()
    }

    fn gst_qst() -> Vec<TaxRate> {
        vec![
            TaxRate {
                code: "GST".into(),
                label_en: "GST".into(),
                label_fr: "TPS".into(),
                rate_per_100k: 5000,
                registration_number: "1".into(),
            },
            TaxRate {
                code: "QST".into(),
                label_en: "QST".into(),
                label_fr: "TVQ".into(),
                rate_per_100k: 9975,
                registration_number: "2".into(),
            },
        ]
    }

    #[test]
    fn early_bird_until_the_instant() {
        let before = Utc.with_ymd_and_hms(2027, 3, 1, 4, 59, 59).unwrap();
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 5, 0, 0).unwrap();
        assert_eq!(rules().unit_price(q(1), before), (PriceTier::EarlyBird, Cents(39_500)));
        assert_eq!(rules().unit_price(q(1), at), (PriceTier::Regular, Cents(49_500)));
    }

    #[test]
    fn group_price_from_n_and_lowest_wins() {
        let late = Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap();
        let early = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rules().unit_price(q(4), late).0, PriceTier::Regular);
        assert_eq!(rules().unit_price(q(5), late), (PriceTier::Group, Cents(42_500)));
        assert_eq!(rules().unit_price(q(5), early), (PriceTier::EarlyBird, Cents(39_500)));
    }

    #[test]
    fn quote_adds_one_line_per_tax() {
        let late = Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap();
        let quote = rules().quote(q(2), late, None, &gst_qst());
        assert_eq!(quote.subtotal, Cents(99_000));
        assert_eq!(quote.taxes.len(), 2);
        assert_eq!(quote.taxes[0].amount_cents, 4_950);
        assert_eq!(quote.taxes[1].amount_cents, 9_875); // 9875.25
        assert_eq!(quote.total, Cents(99_000 + 4_950 + 9_875));
    }

    #[test]
    fn promotion_before_tax() {
        let late = Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap();
        let quote = rules().quote(q(1), late, Some(Discount::Percent(10)), &gst_qst());
        assert_eq!(quote.discount, Cents(4_950));
        assert_eq!(quote.taxes[0].amount_cents, 2_228); // 5 % of 44,550 = 2227.5 → 2228
        assert_eq!(quote.total, Cents(44_550 + 2_228 + 4_444)); // 9.975 % of 44,550 = 4443.86 → 4444
    }

    #[test]
    fn a_fixed_amount_comes_off_before_tax_and_never_below_zero() {
        let late = Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap();
        let quote = rules().quote(q(2), late, Some(Discount::Fixed(Cents(10_000))), &gst_qst());
        assert_eq!((quote.subtotal, quote.discount), (Cents(99_000), Cents(10_000)));
        assert_eq!(quote.taxes[0].amount_cents, 4_450);
        let all = rules().quote(q(1), late, Some(Discount::Fixed(Cents(1_000_000))), &gst_qst());
        assert_eq!((all.discount, all.tax_total, all.total), (Cents(49_500), Cents(0), Cents(0)));
    }
}
