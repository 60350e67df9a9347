//! What an employer asks to see on an invoice (company, billing address, purchase order) and the
//! licence number a professional order asks to see on a certificate: all optional, trimmed,
//! bounded, blank meaning none.

use serde::Deserialize;
use utoipa::ToSchema;

use super::InvalidInput;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBilling {
    #[serde(default)]
    pub company_name: Option<String>,
    /// Several lines allowed.
    #[serde(default)]
    pub billing_address: Option<String>,
    #[serde(default)]
    pub purchase_order: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Billing {
    pub company_name: Option<String>,
    pub billing_address: Option<String>,
    pub purchase_order: Option<String>,
}

pub const COMPANY_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 500;
pub const PURCHASE_ORDER_MAX: usize = 60;
pub const LICENCE_MAX: usize = 60;

/// `raw` trimmed, `None` when blank; refused when longer than `max` characters or holding
/// control characters (line breaks only where `lines` allows them).
pub fn optional_text(raw: Option<&str>, max: usize, field: &str, lines: bool) -> Result<Option<String>, InvalidInput> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let text = text.replace("\r\n", "\n");
    if text.chars().count() > max {
        return Err(InvalidInput::new("too_long", field, format!("At most {max} characters.")));
    }
    if text.chars().any(|c| c.is_control() && !(lines && c == '\n')) {
        return Err(InvalidInput::new("invalid_characters", field, "Letters, digits and punctuation only."));
    }
    Ok(Some(text))
}

impl RawBilling {
    pub fn parse(&self) -> Result<Billing, InvalidInput> {
        Ok(Billing {
            company_name: optional_text(self.company_name.as_deref(), COMPANY_MAX, "company_name", false)?,
            billing_address: optional_text(self.billing_address.as_deref(), ADDRESS_MAX, "billing_address", true)?,
            purchase_order: optional_text(self.purchase_order.as_deref(), PURCHASE_ORDER_MAX, "purchase_order", false)?,
        })
    }
}

/// A licence number (an order's permit number), `None` when blank.
pub fn licence_number(raw: &str, field: &str) -> Result<Option<String>, InvalidInput> {
    optional_text(Some(raw), LICENCE_MAX, field, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_none_and_limits_name_the_field() {
        let b = RawBilling {
            company_name: Some("  CIUSSS du Centre-Sud  ".into()),
            billing_address: Some("1560, rue Sherbrooke Est\r\nMontréal (Québec)".into()),
            purchase_order: Some(" ".into()),
        };
        let p = b.parse().unwrap();
        assert_eq!(p.company_name.as_deref(), Some("CIUSSS du Centre-Sud"));
        assert_eq!(p.billing_address.as_deref(), Some("1560, rue Sherbrooke Est\nMontréal (Québec)"));
        assert_eq!(p.purchase_order, None);
        let long = RawBilling { purchase_order: Some("9".repeat(61)), ..RawBilling::default() };
        assert_eq!(long.parse().unwrap_err().field, "purchase_order");
        let tab = RawBilling { company_name: Some("A\tB".into()), ..RawBilling::default() };
        assert_eq!(tab.parse().unwrap_err().code, "invalid_characters");
        let line = RawBilling { company_name: Some("A\nB".into()), ..RawBilling::default() };
        assert_eq!(line.parse().unwrap_err().field, "company_name", "one line for a company");
        assert_eq!(licence_number(" OPQ 12345 ", "licence").unwrap().as_deref(), Some("OPQ 12345"));
    }
}
