use super::InvalidInput;

/// A first or last name: trimmed, 1–100 characters, no control characters. Any script is welcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidInput::new("required", "", "this name is required"));
        }
        if s.chars().count() > 100 {
            return Err(InvalidInput::new("invalid_name", "", "a name has at most 100 characters"));
        }
        if s.chars().any(|c| c.is_control() || matches!(c, '<' | '>' | '{' | '}')) {
            return Err(InvalidInput::new("invalid_name", "", "a name cannot contain control characters or < > { }"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(PersonName::parse("  Hélène ").unwrap().as_str(), "Hélène");
        assert!(PersonName::parse("O'Brien-Côté").is_ok());
        assert!(PersonName::parse("  ").is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
    }
}
