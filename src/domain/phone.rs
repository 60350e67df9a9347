use super::InvalidInput;

/// A telephone number in E.164 form (`+15145550199`). Canadian and US numbers may be typed the
/// way people write them (`(514) 555-0199`, `514.555.0199`, `1 514 555 0199`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let bad = |msg: &str| InvalidInput::new("invalid_phone", "", msg);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(bad("a telephone number is required"));
        }
        if trimmed.len() > 32 {
            return Err(bad("the telephone number is too long"));
        }
        let international = trimmed.starts_with('+');
        let mut digits = String::with_capacity(16);
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                '+' if i == 0 => {}
                _ => return Err(bad("a telephone number holds digits, spaces, dashes, dots or parentheses")),
            }
        }
        let e164 = if international {
            digits
        } else if digits.len() == 10 {
            format!("1{digits}")
        } else if digits.len() == 11 && digits.starts_with('1') {
            digits
        } else {
            return Err(bad("enter a 10-digit North American number or an international number starting with +"));
        };
        let valid_length = if e164.starts_with('1') { e164.len() == 11 } else { (7..=15).contains(&e164.len()) };
        if !valid_length || e164.starts_with('0') {
            return Err(bad("the telephone number does not have a valid length"));
        }
        if e164.starts_with('1') {
            // NANP: neither the area code nor the exchange starts with 0 or 1.
            let b = e164.as_bytes();
            if b[1] < b'2' || b[4] < b'2' {
                return Err(bad("the area code or exchange of this number is not valid"));
            }
        }
        Ok(Self(format!("+{e164}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored number as people read it: `514 555-0199` in North America, `+33 …` as stored
    /// elsewhere; anything that is not E.164 comes back unchanged.
    pub fn display(stored: &str) -> String {
        match stored.strip_prefix("+1") {
            Some(n) if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) => format!("{} {}-{}", &n[..3], &n[3..6], &n[6..]),
            _ => stored.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_north_american_forms() {
        for raw in ["(514) 555-0199", "514.555.0199", "1 514 555 0199", "+1 514-555-0199", "5145550199"] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), "+15145550199", "{raw}");
        }
        assert_eq!(Phone::parse("+33 1 23 45 67 89").unwrap().as_str(), "+33123456789");
    }

    #[test]
    fn refuses_bad_numbers() {
        for raw in ["", "555-0199", "abc", "+0 123 4567", "(014) 555-0199", "514 155 0199", "+1234", "12345678901234567890"] {
            assert!(Phone::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn stored_numbers_read_the_way_people_write_them() {
        assert_eq!(Phone::display("+15145550199"), "514 555-0199");
        assert_eq!(Phone::display("+33142685300"), "+33142685300");
        assert_eq!(Phone::display(""), "");
    }
}
