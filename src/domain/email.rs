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

/// An address as logs may show it: the first letter of the mailbox and the domain
/// (`marie.tremblay@example.ca` → `m***@example.ca`). Enough to tell two addresses apart when
/// debugging a delivery, not enough to identify the person. Works on any string, valid or not.
pub fn mask_email(raw: &str) -> String {
    let raw = raw.trim();
    match raw.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None if raw.is_empty() => String::new(),
        None => "***".to_owned(),
    }
}

/// A request target (`/path?query`) with every query value that could be personal data masked:
/// values of `email`-like keys and any value holding an `@`. Log lines carry the target.
pub fn mask_query(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else { return target.to_owned() };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => {
                let decoded = value.replace("%40", "@");
                let k = key.to_ascii_lowercase();
                if k.contains("mail") || k.contains("name") || k.contains("phone") || decoded.contains('@') {
                    format!("{key}={}", if decoded.contains('@') { mask_email(&decoded) } else { "***".to_owned() })
                } else {
                    pair.to_owned()
                }
            }
            None => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", masked.join("&"))
}

/// Free text (an error message, a provider's answer) with every e-mail address in it masked.
pub fn mask_emails_in(text: &str) -> String {
    let is_local = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = out.len();
            for (pos, c) in out.char_indices().rev() {
                if !is_local(c) {
                    break;
                }
                start = pos;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain(chars[end]) {
                end += 1;
            }
            if start < out.len() && end > i + 1 {
                let local = out.split_off(start);
                let domain: String = chars[i + 1..end].iter().collect();
                out.push_str(&mask_email(&format!("{local}@{domain}")));
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_addresses_for_logs() {
        assert_eq!(super::mask_email("marie.tremblay@example.ca"), "m***@example.ca");
        assert_eq!(super::mask_email(" x@y.ca "), "x***@y.ca");
        assert_eq!(super::mask_email("no-at-sign"), "***");
        assert_eq!(super::mask_email(""), "");
        assert_eq!(
            super::mask_query("/api/v1/bookings/TOR-7KQ2-M9XD?email=marie%40example.ca&lang=fr"),
            "/api/v1/bookings/TOR-7KQ2-M9XD?email=m***@example.ca&lang=fr"
        );
        assert_eq!(super::mask_query("/x?first_name=Marie&q=a@b.ca"), "/x?first_name=***&q=a***@b.ca");
        assert_eq!(super::mask_query("/health"), "/health");
        assert_eq!(
            super::mask_emails_in("400: invalid \"to\" marie@example.ca, and luc.roy@ex.ca."),
            "400: invalid \"to\" m***@example.ca, and l***@ex.ca."
        );
        assert_eq!(super::mask_emails_in("a @ b, @x, y@"), "a @ b, @x, y@");
    }

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
