//! One locale string, parsed when the store loads: literal runs and `{{name}}` placeholders.
//! The files use nothing else, so a full template engine would only add ways to fail later.

use std::borrow::Cow;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Placeholder(String),
}

/// A parsed locale string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pieces: Vec<Piece>,
}

impl Text {
    /// `"Plus que {{count}} places !"`; refuses an unclosed `{{` or an empty or non-identifier name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| format!("unclosed {{{{ in {raw:?}"))?;
            let name = after[..close].trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("placeholder {{{{{name}}}}} is not a plain name in {raw:?}"));
            }
            pieces.push(Piece::Placeholder(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(Self { pieces })
    }

    /// The names of its placeholders, in order (repeats included).
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Placeholder(name) => Some(name.as_str()),
            Piece::Literal(_) => None,
        })
    }

    /// The string with its placeholders filled; the name of the first one `vars` lacks otherwise.
    pub fn fill(&self, vars: &dyn Vars) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Placeholder(name) => out.push_str(&vars.var(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }
}

/// Values for placeholders.
pub trait Vars {
    fn var(&self, name: &str) -> Option<Cow<'_, str>>;
}

/// No placeholders to fill.
impl Vars for () {
    fn var(&self, _: &str) -> Option<Cow<'_, str>> {
        None
    }
}

/// `&[("count", "3")]`
impl Vars for &[(&str, &str)] {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| Cow::Borrowed(*v))
    }
}

impl<const N: usize> Vars for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| Cow::Borrowed(*v))
    }
}

/// A JSON object: strings as they are, numbers and booleans written out, `null` as nothing.
impl Vars for Value {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.get(name)? {
            Value::String(s) => Some(Cow::Borrowed(s)),
            Value::Null => Some(Cow::Borrowed("")),
            other => Some(Cow::Owned(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_parsed_and_filled() {
        let t = Text::parse("Plus que {{count}} places\u{a0}! ({{ count }})").unwrap();
        assert_eq!(t.placeholders().collect::<Vec<_>>(), ["count", "count"]);
        assert_eq!(t.fill(&[("count", "3")]).unwrap(), "Plus que 3 places\u{a0}! (3)");
        assert_eq!(t.fill(&json!({"count": 3})).unwrap(), "Plus que 3 places\u{a0}! (3)");
        assert_eq!(t.fill(&()).unwrap_err(), "count");
        assert_eq!(Text::parse("plain").unwrap().fill(&()).unwrap(), "plain");
        assert_eq!(Text::parse("").unwrap().fill(&()).unwrap(), "");
        assert_eq!(Text::parse("{{a}}{{b}}").unwrap().fill(&json!({"a": "x", "b": null})).unwrap(), "x");
    }

    #[test]
    fn malformed_strings_are_refused() {
        assert!(Text::parse("{{open").is_err());
        assert!(Text::parse("{{}}").is_err());
        assert!(Text::parse("{{#if x}}").is_err());
        assert!(Text::parse("{{a.b}}").is_err());
    }
}
