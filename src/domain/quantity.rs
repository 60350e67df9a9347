use super::InvalidInput;

/// How many seats one booking takes: at least 1, at most the configured maximum per order
/// (the database allows 50 at most whatever the configuration says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u16);

pub const HARD_MAX_QUANTITY: u16 = 50;

impl Quantity {
    pub fn parse(raw: i64, max_per_booking: u16) -> Result<Self, InvalidInput> {
        let max = max_per_booking.clamp(1, HARD_MAX_QUANTITY);
        if raw < 1 {
            return Err(InvalidInput::new("invalid_quantity", "", "the quantity must be at least 1"));
        }
        if raw > i64::from(max) {
            return Err(InvalidInput::new(
                "invalid_quantity",
                "",
                format!("at most {max} seats can be booked at once; contact us for larger groups"),
            ));
        }
        Ok(Self(raw as u16))
    }

    pub fn get(self) -> u16 {
        self.0
    }

    pub fn as_i32(self) -> i32 {
        i32::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(Quantity::parse(1, 10).unwrap().get(), 1);
        assert_eq!(Quantity::parse(10, 10).unwrap().get(), 10);
        assert!(Quantity::parse(0, 10).is_err());
        assert!(Quantity::parse(-3, 10).is_err());
        assert!(Quantity::parse(11, 10).is_err());
        assert!(Quantity::parse(i64::MAX, 10).is_err());
        assert!(Quantity::parse(51, 500).is_err(), "the hard maximum wins over configuration");
    }
}
