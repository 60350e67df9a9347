//! The locale files themselves: both languages have the same keys and placeholders, French
//! follows Québec typography, and lookups are strict.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::store::leaves;
use super::*;
use crate::domain::Language;

#[test]
fn both_files_load() {
    for lang in [Language::Fr, Language::En] {
        let l = locale(lang).unwrap_or_else(|e| panic!("{e}"));
        for name in SECTIONS {
            assert!(l.section(name).unwrap().is_object(), "{name}");
        }
    }
}

#[test]
fn no_missing_locale_keys() {
    assert_eq!(missing_keys(), Vec::<String>::new());
}

#[test]
fn locale_strings_are_filled_and_have_the_same_placeholders() {
    let placeholders =
        |s: &str| -> BTreeSet<String> { s.split("{{").skip(1).filter_map(|p| p.split("}}").next()).map(|p| p.trim().to_owned()).collect() };
    let (fr, en) = (locale(Language::Fr).unwrap(), locale(Language::En).unwrap());
    let en: BTreeMap<String, &Value> = leaves(en.tree()).into_iter().collect();
    for (path, fr) in leaves(fr.tree()) {
        let (fr, en) = (fr.as_str().unwrap_or_else(|| panic!("{path}: not a string")), en[&path].as_str().unwrap());
        assert!(!fr.trim().is_empty() && !en.trim().is_empty(), "{path}: empty string");
        // Formats may use different values (24-hour vs 12-hour clock).
        if !path.starts_with("email.patterns.") && !path.starts_with("format.") {
            assert_eq!(placeholders(fr), placeholders(en), "{path}: placeholders differ between fr and en");
        }
    }
}

/// Québec typography in the French strings: no-break space before : ; ! ? and inside « »,
/// typographic apostrophes and quotes.
#[test]
fn french_typography() {
    for (path, v) in leaves(locale(Language::Fr).unwrap().tree()) {
        let s = v.as_str().unwrap();
        let chars: Vec<char> = s.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            match c {
                ':' | ';' | '!' | '?' => assert_eq!(prev, Some('\u{a0}'), "{path}: no-break space before {c:?} in {s:?}"),
                '«' => assert_eq!(next, Some('\u{a0}'), "{path}: no-break space after « in {s:?}"),
                '»' => assert_eq!(prev, Some('\u{a0}'), "{path}: no-break space before » in {s:?}"),
                '\'' | '"' => panic!("{path}: straight quote in {s:?}"),
                _ => {}
            }
        }
    }
}

#[test]
fn lookups_are_strict() {
    let en = locale(Language::En).unwrap();
    assert_eq!(en.text("web.availability.left", &[("count", "12")]).unwrap(), "12 seats left");
    assert!(matches!(en.text("web.availability.left", &()), Err(LocaleError::Unfilled { name, .. }) if name == "count"));
    assert!(matches!(en.text("web.no.such.key", &()), Err(LocaleError::Missing { .. })));
    assert!(matches!(en.text("web.availability", &()), Err(LocaleError::Missing { .. })), "a subtree is not a string");
    assert!(en.section("nowhere").is_err());
    assert_eq!(lookup(en.section("web").unwrap(), "availability.left").and_then(Value::as_str), Some("{{count}} seats left"));
}

#[test]
fn sections_render_with_their_values_and_without_the_formats() {
    let fr = locale(Language::Fr).unwrap();
    let vars = json!({"city": "Montréal", "reference": "MTL-7KQ2-M9XD", "manage_url": "https://x"});
    let ics = fr.render_section("email", &vars, &[]).unwrap_err();
    assert!(matches!(ics, LocaleError::Unfilled { .. }), "strings of the mail need the mail's values: {ics}");
    let vars = [
        ("reference", "MTL-7KQ2-M9XD"),
        ("n", "2"),
        ("venue", "Palais"),
        ("name", "Zoé Côté"),
        ("time", "8 h 41"),
        ("q", "Côté"),
        ("answers", "12"),
        ("attendees", "40"),
        ("city", "Montréal"),
        ("date", "16 avril 2027"),
        ("id", "3"),
        ("max", "52428800"),
        ("quantity", "2"),
        ("kind", "Confirmation"),
        ("to", "zoe@example.ca"),
    ];
    let rendered = fr.render_section("admin", &vars, &["nav"]).unwrap();
    assert!(rendered.get("nav").is_none() && rendered.get("login").is_some());
    assert_eq!(rendered["booking"]["title"], fr.text("admin.booking.title", &[("reference", "MTL-7KQ2-M9XD")]).unwrap());
    assert!(!rendered.to_string().contains("{{"));
}
