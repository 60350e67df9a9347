//! A booking request as it arrives (plain strings and numbers) and as the rest of the system sees
//! it once parsed. Every refusal names the JSON field it concerns.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{ActExperience, CityEventId, Email, InvalidInput, Language, PersonName, Phone, Quantity};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBuyer {
    #[schema(example = "Marie", min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schema(example = "Tremblay", min_length = 1, max_length = 100)]
    pub last_name: String,
    #[schema(example = "marie.tremblay@example.ca", format = Email, max_length = 254)]
    pub email: String,
    /// Digits, spaces, dashes, dots or parentheses: 10 digits (North America), 11 starting with 1, or `+` and a country code.
    #[schema(example = "+1 514 555 0199", pattern = r"^\+?[0-9 ().-]{10,32}$")]
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAttendee {
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
}

/// The body of `POST /api/v1/bookings/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBookingRequest {
    #[schema(example = 1)]
    pub city_event_id: i64,
    /// At most `MAX_QUANTITY_PER_BOOKING` (10 by default).
    #[schema(minimum = 1, maximum = 10, example = 2)]
    pub quantity: i64,
    pub buyer: RawBuyer,
    pub act_experience: ActExperience,
    pub language: Language,
    /// One per ticket. With more than one ticket, names may be given later; with one ticket and no
    /// attendee, the buyer attends.
    #[serde(default)]
    pub attendees: Vec<RawAttendee>,
    #[serde(default)]
    pub promo_code: Option<String>,
    /// For the invoice, when an employer pays (all optional).
    #[serde(default)]
    pub billing: Option<super::billing::RawBilling>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    pub phone: Phone,
}

/// One seat's attendee; names absent until the buyer provides them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub name: Option<(PersonName, PersonName)>,
    pub email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub city_event_id: CityEventId,
    pub quantity: Quantity,
    pub buyer: Buyer,
    pub act_experience: ActExperience,
    pub language: Language,
    /// Exactly `quantity` entries, in seat order.
    pub attendees: Vec<Attendee>,
    pub promo_code: Option<String>,
    pub billing: super::billing::Billing,
}

impl RawBookingRequest {
    pub fn parse(self, max_quantity: u16) -> Result<BookingRequest, InvalidInput> {
        let quantity = Quantity::parse(self.quantity, max_quantity).map_err(|e| e.under("quantity"))?;
        let buyer = Buyer {
            first_name: PersonName::parse(&self.buyer.first_name).map_err(|e| e.under("buyer.first_name"))?,
            last_name: PersonName::parse(&self.buyer.last_name).map_err(|e| e.under("buyer.last_name"))?,
            email: Email::parse(&self.buyer.email).map_err(|e| e.under("buyer.email"))?,
            phone: Phone::parse(&self.buyer.phone).map_err(|e| e.under("buyer.phone"))?,
        };
        if self.attendees.len() > usize::from(quantity.get()) {
            return Err(InvalidInput::new(
                "too_many_attendees",
                "attendees",
                format!("{} attendees for {} tickets: give at most one attendee per ticket", self.attendees.len(), quantity.get()),
            ));
        }
        let mut attendees = Vec::with_capacity(usize::from(quantity.get()));
        for (i, a) in self.attendees.into_iter().enumerate() {
            let at = |e: InvalidInput| e.under(&format!("attendees[{i}]"));
            let first = PersonName::parse(&a.first_name).map_err(|e| at(e.under("first_name")))?;
            let last = PersonName::parse(&a.last_name).map_err(|e| at(e.under("last_name")))?;
            let email = match a.email.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(Email::parse(raw).map_err(|e| at(e.under("email")))?),
            };
            attendees.push(Attendee { name: Some((first, last)), email });
        }
        if attendees.is_empty() && quantity.get() == 1 {
            attendees.push(Attendee { name: Some((buyer.first_name.clone(), buyer.last_name.clone())), email: Some(buyer.email.clone()) });
        }
        while attendees.len() < usize::from(quantity.get()) {
            attendees.push(Attendee { name: None, email: None });
        }
        let promo_code = match self.promo_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => {
                let code = code.to_uppercase();
                if code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(InvalidInput::new("invalid_promo_code", "promo_code", "this promotion code does not exist"));
                }
                Some(code)
            }
        };
        let billing = self.billing.as_ref().map(|b| b.parse().map_err(|e| e.under("billing"))).transpose()?.unwrap_or_default();
        Ok(BookingRequest {
            city_event_id: CityEventId(self.city_event_id),
            quantity,
            buyer,
            act_experience: self.act_experience,
            language: self.language,
            attendees,
            promo_code,
            billing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(quantity: i64, attendees: Vec<RawAttendee>) -> RawBookingRequest {
        RawBookingRequest {
            city_event_id: 1,
            quantity,
            buyer: RawBuyer {
                first_name: "Marie".into(),
                last_name: "Tremblay".into(),
                email: "Marie@Example.ca".into(),
                phone: "514-555-0199".into(),
            },
            act_experience: ActExperience::Beginner,
            language: Language::Fr,
            attendees,
            promo_code: None,
            billing: None,
        }
    }

    #[test]
    fn single_ticket_buyer_attends() {
        let req = raw(1, vec![]).parse(10).unwrap();
        assert_eq!(req.attendees.len(), 1);
        assert_eq!(req.attendees[0].email.as_ref().unwrap().as_str(), "marie@example.ca");
    }

    #[test]
    fn group_names_may_come_later() {
        let req = raw(3, vec![RawAttendee { first_name: "Luc".into(), last_name: "Roy".into(), email: None }]).parse(10).unwrap();
        assert_eq!(req.attendees.len(), 3);
        assert!(req.attendees[0].name.is_some());
        assert!(req.attendees[2].name.is_none());
    }

    #[test]
    fn errors_name_their_field() {
        let mut r = raw(2, vec![RawAttendee { first_name: "Luc".into(), last_name: "Roy".into(), email: Some("nope".into()) }]);
        assert_eq!(r.parse(10).unwrap_err().field, "attendees[0].email");
        r = raw(2, vec![]);
        r.buyer.phone = "12".into();
        assert_eq!(r.parse(10).unwrap_err().field, "buyer.phone");
        assert_eq!(raw(0, vec![]).parse(10).unwrap_err().field, "quantity");
        let too_many = (0..3).map(|_| RawAttendee { first_name: "A".into(), last_name: "B".into(), email: None }).collect();
        assert_eq!(raw(2, too_many).parse(10).unwrap_err().code, "too_many_attendees");
    }
}
