use super::InvalidInput;

/// An e-mail address, trimmed and lower-cased. Deliberately simple: one `@`, a plausible local
/// part, a domain with a dot and no empty label. Deliverability is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let bad = |msg: &str| InvalidInput::new("invalid_email", "", msg);
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(bad("an e-mail address is required"));
        }
        if s.len() > 254 {
            return Err(bad("the e-mail address is longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| bad("the e-mail address needs an @"))?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(bad("the part before the @ is not valid"));
        }
        let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(bad("the part before the @ is not valid"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !domain_ok {
            return Err(bad("the domain after the @ is not valid"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: keeps the domain and the first letter only (no personal data in logs).
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or(("", &self.0));
        let first = local.chars().next().unwrap_or('*');
        format!("{first}***@{domain}")
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(Email::parse("  Marie.Tremblay@Exemple.QC.ca ").unwrap().as_str(), "marie.tremblay@exemple.qc.ca");
        assert!(Email::parse("a+tag@b.io").is_ok());
        assert!(Email::parse("élise@café.ca").is_err(), "non-ASCII local parts are refused");
    }

    #[test]
    fn refuses_malformed() {
        for bad in ["", "plain", "@x.ca", "a@", "a@b", "a@@b.ca", "a b@c.ca", "a@b..ca", ".a@b.ca", "a@-b.ca", "a@b.1"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn masks_for_logs() {
        assert_eq!(Email::parse("marie@exemple.ca").unwrap().masked(), "m***@exemple.ca");
    }
}
