//! The site's words: the `web` part of `locales/{fr,en}.json`, compiled in. Templates receive the
//! whole tree of the page's language as `t`; handlebars' strict mode turns a key missing from it
//! into an error, which the page tests catch, and `email::render::missing_locale_keys` fails when
//! one language has a key the other lacks.

use std::sync::OnceLock;

use serde_json::Value;

use crate::domain::Language;

struct Trees {
    fr: Value,
    en: Value,
}

fn trees() -> &'static Trees {
    static T: OnceLock<Trees> = OnceLock::new();
    T.get_or_init(|| {
        let load = |raw: &str| -> Value {
            let v: Value = serde_json::from_str(raw).expect("locales/*.json are valid JSON (checked by tests)");
            v.get("web").cloned().expect("locales have a `web` section")
        };
        Trees { fr: load(include_str!("../../locales/fr.json")), en: load(include_str!("../../locales/en.json")) }
    })
}

/// The `web` strings of one language.
pub fn tree(lang: Language) -> &'static Value {
    match lang {
        Language::Fr => &trees().fr,
        Language::En => &trees().en,
    }
}

/// One string by dotted path (`availability.left`), `{{name}}` placeholders filled from `vars`.
/// A missing key yields the path itself, visibly wrong rather than a failed page.
pub fn text(lang: Language, path: &str, vars: &[(&str, &str)]) -> String {
    let mut node = tree(lang);
    for part in path.split('.') {
        match node.get(part) {
            Some(n) => node = n,
            None => {
                tracing::error!(path, "missing locale key");
                return path.to_owned();
            }
        }
    }
    let mut s = node.as_str().unwrap_or(path).to_owned();
    for (name, value) in vars {
        s = s.replace(&format!("{{{{{name}}}}}"), value);
    }
    s
}

/// Seats left, as a visitor reads it: "Complet", "Dernière place !", "Plus que 4 places !"…
pub fn seats_left(lang: Language, available: i32) -> String {
    match available {
        i32::MIN..=0 => text(lang, "availability.sold_out", &[]),
        1 => text(lang, "availability.one_left", &[]),
        n if n <= FEW_SEATS => text(lang, "availability.few_left", &[("count", &n.to_string())]),
        n => text(lang, "availability.left", &[("count", &n.to_string())]),
    }
}

/// At or under this many seats a city shows the urgency badge.
pub const FEW_SEATS: i32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_french_spacing_kept() {
        assert_eq!(text(Language::En, "availability.left", &[("count", "12")]), "12 seats left");
        assert_eq!(seats_left(Language::Fr, 3), "Plus que 3 places\u{a0}!");
        assert_eq!(seats_left(Language::Fr, 0), "Complet");
        assert_eq!(seats_left(Language::En, 1), "Last seat!");
        assert_eq!(text(Language::Fr, "no.such.key", &[]), "no.such.key");
    }

    #[test]
    fn french_copy_uses_quebec_punctuation_spacing() {
        // A plain space before : ; ! ? would break across lines; the locale must carry no-break ones.
        fn walk(v: &Value, path: &str, bad: &mut Vec<String>) {
            match v {
                Value::String(s) => {
                    for p in [" :", " ;", " !", " ?"] {
                        if s.contains(p) {
                            bad.push(format!("{path}: {s}"));
                        }
                    }
                }
                Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{path}[{i}]"), bad)),
                Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, &format!("{path}.{k}"), bad)),
                _ => {}
            }
        }
        let mut bad = vec![];
        walk(tree(Language::Fr), "web", &mut bad);
        assert!(bad.is_empty(), "{bad:#?}");
    }
}
