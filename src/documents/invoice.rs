//! Invoices and credit notes: the seller (legal name, address), each tax with the seller's
//! registration number, the buyer and what their employer asks for (company, billing address,
//! purchase order), the seats, the totals, when and how it was paid or refunded.

use chrono::NaiveDate;
use serde_json::json;

use super::layout::{Page, Pages, Style, MARGIN, WIDTH};
use super::{text, with, Day, DocumentError};
use crate::domain::taxes::TaxLine;
use crate::domain::Cents;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    /// Gives back `amount_cents` (taxes included) of invoice `invoice_number`.
    CreditNote {
        invoice_number: String,
        amount_cents: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub kind: Kind,
    /// e.g. `F-000042`, from the gap-free sequence.
    pub number: String,
    pub issued_on: NaiveDate,
    pub buyer_name: String,
    pub buyer_email: String,
    pub company_name: Option<String>,
    pub billing_address: Option<String>,
    pub purchase_order: Option<String>,
    pub attendee_names: Vec<String>,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: Vec<TaxLine>,
    pub total_cents: i64,
    /// The payment's (invoice) or the refund's (credit note) day.
    pub settled_on: Option<NaiveDate>,
}

/// The taxes a credit of `amount` gives back: each tax in proportion to the invoice's total, so
/// the credit note's lines add up to its amount to the cent.
pub fn credited_taxes(taxes: &[TaxLine], total_cents: i64, amount_cents: i64) -> Vec<TaxLine> {
    if total_cents <= 0 {
        return Vec::new();
    }
    taxes
        .iter()
        .map(|t| TaxLine {
            amount_cents: (i128::from(t.amount_cents) * i128::from(amount_cents) / i128::from(total_cents)) as i64,
            ..t.clone()
        })
        .collect()
}

pub fn render(day: &Day, inv: &Invoice) -> Result<Vec<u8>, DocumentError> {
    let l = day.locale()?;
    let money = |c: i64| l.money(Cents(c));
    let settled = inv.settled_on.map(|d| l.date(d)).unwrap_or_default();
    let v = with(
        day.vars(l),
        json!({
            "number": inv.number,
            "invoice": match &inv.kind { Kind::CreditNote { invoice_number, .. } => invoice_number.as_str(), Kind::Invoice => "" },
            "po": inv.purchase_order.clone().unwrap_or_default(),
            "names": inv.attendee_names.join(", "),
            "settled": settled,
        }),
    );
    let credit = matches!(inv.kind, Kind::CreditNote { .. });
    let (heading, title) = if credit { ("invoice.credit_heading", "invoice.credit_title") } else { ("invoice.heading", "invoice.title") };
    let right = WIDTH - MARGIN;
    let mut p = Page::default();

    p.text(MARGIN, 80.0, 22.0, Style::Bold, text(l, heading, &v)?);
    p.right(right, 72.0, 11.0, Style::Bold, text(l, "invoice.number", &v)?);
    p.right(right, 88.0, 10.0, Style::Regular, text(l, "invoice.issued_on", &with(v.clone(), json!({ "date": l.date(inv.issued_on) })))?);
    p.right(right, 102.0, 10.0, Style::Regular, text(l, "invoice.reference", &v)?);
    if credit {
        p.right(right, 116.0, 10.0, Style::Regular, text(l, "invoice.credits", &v)?);
    }

    // Seller and buyer side by side.
    let (left_x, buyer_x, col) = (MARGIN, 320.0, 230.0);
    let mut ys = 150.0;
    p.text(left_x, ys, 9.0, Style::Regular, text(l, "invoice.seller", &v)?);
    p.text(buyer_x, ys, 9.0, Style::Regular, text(l, "invoice.bill_to", &v)?);
    ys += 16.0;
    let mut seller_y = p.paragraph(left_x, ys, 11.0, Style::Bold, col, &day.organiser.legal_name);
    seller_y = p.paragraph(left_x, seller_y, 10.0, Style::Regular, col, &day.organiser.address);
    p.text(left_x, seller_y, 10.0, Style::Regular, day.organiser.support_email.clone());
    let mut buyer_y = ys;
    if let Some(company) = inv.company_name.as_deref().filter(|c| !c.trim().is_empty()) {
        buyer_y = p.paragraph(buyer_x, buyer_y, 11.0, Style::Bold, col, company);
        buyer_y = p.paragraph(buyer_x, buyer_y, 10.0, Style::Regular, col, &inv.buyer_name);
    } else {
        buyer_y = p.paragraph(buyer_x, buyer_y, 11.0, Style::Bold, col, &inv.buyer_name);
    }
    if let Some(address) = inv.billing_address.as_deref().filter(|a| !a.trim().is_empty()) {
        buyer_y = p.paragraph(buyer_x, buyer_y, 10.0, Style::Regular, col, address);
    }
    buyer_y = p.paragraph(buyer_x, buyer_y, 10.0, Style::Regular, col, &inv.buyer_email);
    if inv.purchase_order.as_deref().is_some_and(|po| !po.trim().is_empty()) {
        buyer_y = p.paragraph(buyer_x, buyer_y, 10.0, Style::Bold, col, &text(l, "invoice.purchase_order", &v)?);
    }

    // The lines.
    let mut y = seller_y.max(buyer_y) + 30.0;
    let (qty_x, unit_x) = (400.0, 480.0);
    p.text(MARGIN, y, 9.0, Style::Bold, text(l, "invoice.description", &v)?);
    p.right(qty_x, y, 9.0, Style::Bold, text(l, "invoice.quantity", &v)?);
    p.right(unit_x, y, 9.0, Style::Bold, text(l, "invoice.unit_price", &v)?);
    p.right(right, y, 9.0, Style::Bold, text(l, "invoice.amount", &v)?);
    p.rule(MARGIN, right, y + 6.0, 0.6);
    y += 24.0;
    let (taxes, total, base) = match &inv.kind {
        Kind::Invoice => {
            let line = text(l, "invoice.line", &v)?;
            let after = p.paragraph(MARGIN, y, 10.0, Style::Regular, qty_x - MARGIN - 40.0, &line);
            p.right(qty_x, y, 10.0, Style::Regular, inv.quantity.to_string());
            p.right(unit_x, y, 10.0, Style::Regular, money(inv.unit_price_cents));
            p.right(right, y, 10.0, Style::Regular, money(inv.subtotal_cents));
            y = after;
            if !inv.attendee_names.is_empty() {
                y = p.paragraph(MARGIN + 10.0, y, 9.0, Style::Regular, qty_x - MARGIN - 50.0, &text(l, "invoice.attendees", &v)?);
            }
            (inv.taxes.clone(), inv.total_cents, inv.subtotal_cents - inv.discount_cents)
        }
        Kind::CreditNote { amount_cents, .. } => {
            let taxes = credited_taxes(&inv.taxes, inv.total_cents, *amount_cents);
            let base = amount_cents - taxes.iter().map(|t| t.amount_cents).sum::<i64>();
            y = p.paragraph(MARGIN, y, 10.0, Style::Regular, qty_x - MARGIN - 40.0, &text(l, "invoice.credit_line", &v)?);
            p.right(right, y - 14.0, 10.0, Style::Regular, money(-base));
            (taxes, *amount_cents, base)
        }
    };
    p.rule(MARGIN, right, y, 0.6);
    y += 20.0;
    let sign = if credit { -1 } else { 1 };
    let row = |p: &mut Page, label: String, amount: i64, style: Style, y: &mut f32| {
        p.right(unit_x, *y, 10.0, style, label);
        p.right(right, *y, 10.0, style, money(sign * amount));
        *y += 16.0;
    };
    if !credit {
        row(&mut p, text(l, "invoice.subtotal", &v)?, inv.subtotal_cents, Style::Regular, &mut y);
        if inv.discount_cents > 0 {
            row(&mut p, text(l, "invoice.discount", &v)?, -inv.discount_cents, Style::Regular, &mut y);
        }
    }
    row(&mut p, text(l, "invoice.taxable", &v)?, base, Style::Regular, &mut y);
    for t in &taxes {
        let label = match day.language {
            crate::domain::Language::Fr => &t.label_fr,
            crate::domain::Language::En => &t.label_en,
        };
        let tax_vars = with(v.clone(), json!({ "label": label, "rate": l.tax_rate(t.rate_per_100k), "number": t.registration_number }));
        // Tax lines are long (label, rate, number): they start at the left margin.
        p.text(MARGIN + 160.0, y, 10.0, Style::Regular, text(l, "invoice.tax", &tax_vars)?);
        p.right(right, y, 10.0, Style::Regular, money(sign * t.amount_cents));
        y += 16.0;
    }
    p.rule(unit_x - 120.0, right, y - 8.0, 0.6);
    y += 6.0;
    row(&mut p, text(l, if credit { "invoice.credited" } else { "invoice.total" }, &v)?, total, Style::Bold, &mut y);

    y += 24.0;
    if inv.settled_on.is_some() {
        let key = if credit { "invoice.refunded" } else { "invoice.paid" };
        y = p.paragraph(MARGIN, y, 10.0, Style::Regular, right - MARGIN, &text(l, key, &with(v.clone(), json!({ "date": settled })))?);
    }
    p.paragraph(MARGIN, y + 4.0, 9.0, Style::Regular, right - MARGIN, &text(l, "invoice.note", &v)?);

    let mut pages = Pages::new();
    pages.push(p);
    pages.finish(&text(l, title, &v)?, day.language.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax(code: &str, amount: i64) -> TaxLine {
        TaxLine {
            code: code.into(),
            label_en: code.into(),
            label_fr: code.into(),
            rate_per_100k: 5000,
            registration_number: "1".into(),
            amount_cents: amount,
        }
    }

    #[test]
    fn a_partial_credit_takes_its_share_of_each_tax() {
        // $990 + GST $49.50 + QST $98.75 = $1,138.25; half of it back.
        let t = credited_taxes(&[tax("GST", 4950), tax("QST", 9875)], 113_825, 56_912);
        assert_eq!(t.iter().map(|t| t.amount_cents).collect::<Vec<_>>(), vec![2474, 4937]);
        assert_eq!(credited_taxes(&[tax("GST", 4950)], 103_950, 103_950)[0].amount_cents, 4950, "all of it back");
    }
}
