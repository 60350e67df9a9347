//! The site's words: the `web` section of the locale store (`crate::i18n`). Templates receive the
//! section of the page's language as `t`; handlebars' strict mode turns a key missing from it
//! into an error, which the page tests catch, and `i18n::missing_keys` fails when one language
//! has a key the other lacks.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::page::PageError;
use crate::db::site_facts::SiteFacts;
use crate::domain::facts::workbook_days_before;
use crate::domain::Language;
use crate::i18n::{self, Locale, Vars};

/// The `web` strings of one language as stored (placeholders unfilled).
pub fn raw_tree(lang: Language) -> &'static Value {
    static NOTHING: Value = Value::Null;
    match i18n::locale(lang).and_then(|l| l.section("web")) {
        Ok(tree) => tree,
        Err(e) => {
            tracing::error!(error = %e, "no locale strings for the site");
            &NOTHING
        }
    }
}

/// The `web` strings of one language with the facts filled in (`{{refund_days}}`,
/// `{{organiser}}`…), the other placeholders (`{{count}}`) left for [`text`]'s callers. Rendered
/// once per facts snapshot and language, then shared. Should the store ever fail to load, an
/// empty tree: the strict templates then fail and the visitor gets the error page, not a crash.
pub fn tree(lang: Language, facts: &SiteFacts) -> Arc<Value> {
    static RENDERED: Mutex<Vec<(u64, Language, Arc<Value>)>> = Mutex::new(Vec::new());
    let key = facts.generation;
    if let Some(hit) = RENDERED.lock().ok().and_then(|r| r.iter().find(|(g, l, _)| *g == key && *l == lang).map(|e| e.2.clone())) {
        return hit;
    }
    let vars = FactVars(fact_vars(facts));
    let rendered = match i18n::locale(lang).and_then(|l| l.render_section("web", &vars, &[])) {
        Ok(tree) => Arc::new(tree),
        Err(e) => {
            tracing::error!(error = %e, "no locale strings for the site");
            Arc::new(Value::Null)
        }
    };
    if let Ok(mut r) = RENDERED.lock() {
        // A few snapshots stay (several test apps share a process; one reload replaces one).
        if r.len() >= 16 {
            r.remove(0);
        }
        r.push((key, lang, rendered.clone()));
    }
    rendered
}

/// The facts a page's strings may name, by placeholder.
pub fn fact_vars(facts: &SiteFacts) -> Map<String, Value> {
    let (o, p) = (&facts.organiser, facts.featured_policies());
    let mut m = Map::new();
    m.insert("organiser".into(), o.legal_name.clone().into());
    m.insert("organiser_address".into(), o.address.clone().into());
    m.insert("support_email".into(), o.support_email.clone().into());
    m.insert("support_phone".into(), o.support_phone.clone().into());
    m.insert("refund_days".into(), p.refund_window_days.into());
    m.insert("name_change_days".into(), p.name_change_days.into());
    m.insert("resources_days".into(), p.resources_days.into());
    m.insert("certificate_days".into(), p.certificate_days.into());
    m.insert("ce_hours".into(), p.ce_hours.into());
    m.insert("workbook_days".into(), workbook_days_before().into());
    m
}

/// Fills the facts; any other placeholder is kept as written, for a later fill.
struct FactVars(Map<String, Value>);

impl Vars for FactVars {
    fn var(&self, name: &str) -> Option<Cow<'_, str>> {
        Some(match self.0.get(name) {
            Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
            Some(v) => Cow::Owned(v.to_string()),
            None => Cow::Owned(format!("{{{{{name}}}}}")),
        })
    }
}

/// One string by dotted path under `web` (`availability.left`), `{{name}}` placeholders filled
/// from `vars`. A missing key or value yields the path itself, visibly wrong rather than a failed
/// page.
pub fn text(lang: Language, path: &str, vars: &[(&str, &str)]) -> String {
    match i18n::locale(lang).and_then(|l| l.text(&format!("web.{path}"), &vars)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, path, "missing locale string");
            path.to_owned()
        }
    }
}

/// A string with `one` / `other` forms under `web`, in the form `n` takes in that language.
pub fn plural(lang: Language, path: &str, n: i64, vars: &[(&str, &str)]) -> String {
    match i18n::locale(lang).and_then(|l| l.plural(&format!("web.{path}"), n, &vars)) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, path, "missing locale string");
            path.to_owned()
        }
    }
}

/// The formats of a language (dates, times, money…) for a page; the error page when the store
/// cannot be had.
pub fn formats(lang: Language) -> Result<&'static Locale, PageError> {
    i18n::locale(lang).map_err(|e| {
        tracing::error!(error = %e, "no locale formats for the site");
        PageError::internal(lang)
    })
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
    fn counts_take_their_plural_form() {
        let unit = |lang, n: i64| plural(lang, "availability.unit", n, &[("capacity", "40")]);
        assert_eq!(unit(Language::Fr, 0), "place libre sur 40");
        assert_eq!(unit(Language::Fr, 1), "place libre sur 40");
        assert_eq!(unit(Language::Fr, 2), "places libres sur 40");
        // "1 of 40 seats left": the noun follows the capacity in English.
        assert_eq!(unit(Language::En, 1), "of 40 seats left");
        assert_eq!(unit(Language::En, 0), "of 40 seats left");
        let line = |lang, n: i64| plural(lang, "checkout.seats_line", n, &[("quantity", &n.to_string()), ("unit_price", "1 $")]);
        assert_eq!(line(Language::Fr, 1), "1 place × 1 $");
        assert_eq!(line(Language::Fr, 2), "2 places × 1 $");
        assert_eq!(line(Language::En, 1), "1 seat × 1 $");
        assert_eq!(line(Language::En, 3), "3 seats × 1 $");
        let left = |lang, n: i64| plural(lang, "errors.not_enough_seats", n, &[("available", &n.to_string())]);
        assert_eq!(left(Language::Fr, 1), "Il ne reste qu’une place pour cette date.");
        assert_eq!(left(Language::En, 1), "Only one seat is left for this date.");
        assert_eq!(left(Language::En, 2), "Only 2 seats are left for this date.");
        // No "(s)" left anywhere: every count has its forms.
        for lang in [Language::Fr, Language::En] {
            let raw = raw_tree(lang).to_string();
            assert!(!raw.contains("(s)"), "{lang:?} still writes (s)");
        }
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
        walk(raw_tree(Language::Fr), "web", &mut bad);
        assert!(bad.is_empty(), "{bad:#?}");
    }
}
