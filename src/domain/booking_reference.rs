use rand::Rng;

use super::InvalidInput;

/// A booking reference such as `TOR-7KQ2-M9XD`: the city's three-letter code, then eight symbols
/// from an alphabet without look-alikes (no 0/O, 1/I/L, U/V). 29⁸ ≈ 5 × 10¹¹ values per city, drawn
/// from the OS-seeded CSPRNG, so references cannot be guessed or enumerated; uniqueness is a database
/// constraint, and the writer draws again on the rare collision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BookingReference(String);

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";

impl BookingReference {
    pub fn generate(city_code: &str) -> Self {
        let mut rng = rand::rng();
        let mut s = String::with_capacity(13);
        s.push_str(city_code);
        for i in 0..8 {
            if i % 4 == 0 {
                s.push('-');
            }
            s.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
        Self(s)
    }

    /// Accepts what a person types: any case, spaces or missing dashes.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
        let bad = || InvalidInput::new("invalid_reference", "reference", "a booking reference looks like TOR-7KQ2-M9XD");
        if compact.len() != 11 || !compact.is_ascii() {
            return Err(bad());
        }
        let (city, rest) = compact.split_at(3);
        if !city.bytes().all(|b| b.is_ascii_uppercase()) || !rest.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(bad());
        }
        Ok(Self(format!("{city}-{}-{}", &rest[..4], &rest[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BookingReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_references_parse_back_and_differ() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let r = BookingReference::generate("MTL");
            assert_eq!(BookingReference::parse(r.as_str()).unwrap(), r);
            assert!(r.as_str().starts_with("MTL-"));
            assert!(seen.insert(r));
        }
    }

    #[test]
    fn parse_is_forgiving_about_form_not_content() {
        assert_eq!(BookingReference::parse("tor 7kq2 m9xd").unwrap().as_str(), "TOR-7KQ2-M9XD");
        assert!(BookingReference::parse("TOR-7KQ2-M9X0").is_err(), "0 is not in the alphabet");
        assert!(BookingReference::parse("TOR-7KQ2").is_err());
        assert!(BookingReference::parse("T0R-7KQ2-M9XD").is_err());
        assert!(BookingReference::parse("").is_err());
    }
}
