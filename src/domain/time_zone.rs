//! IANA time zones, parsed once where a name enters the program (a database row, a form field):
//! past that point a zone is a `chrono_tz::Tz`, and an unknown name is an error, never a default.

use chrono_tz::Tz;

use super::InvalidInput;

/// An IANA zone name (`America/Toronto`), as the database's CHECK on `venues.time_zone` and
/// `city_events.time_zone` accepts them.
pub fn parse_time_zone(raw: &str) -> Result<Tz, InvalidInput> {
    raw.trim().parse::<Tz>().map_err(|_| {
        InvalidInput::new("invalid_time_zone", "time_zone", format!("{:?} is not an IANA time zone (e.g. America/Toronto).", raw.trim()))
    })
}

/// Serializes a zone as its IANA name (`#[serde(serialize_with = "…")]`), as the API shows it.
pub fn serialize_zone_name<S: serde::Serializer>(zone: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(zone.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        assert_eq!(parse_time_zone("America/Halifax"), Ok(chrono_tz::America::Halifax));
        assert_eq!(parse_time_zone(" America/St_Johns "), Ok(chrono_tz::America::St_Johns));
        for bad in ["", "Toronto", "America/Nowhere", "EDT-ish"] {
            let e = parse_time_zone(bad).unwrap_err();
            assert_eq!((e.code, e.field.as_str()), ("invalid_time_zone", "time_zone"), "{bad:?}");
        }
    }
}
