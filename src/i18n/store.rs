//! Loading the locale files once, and reading them: subtrees by name, strings by dotted path.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::format::Formats;
use super::text::{Text, Vars};
use super::LocaleError;
use crate::domain::Language;

const LOCALE_FR: &str = include_str!("../../locales/fr.json");
const LOCALE_EN: &str = include_str!("../../locales/en.json");

/// The top-level sections every locale file has: one per consumer, and the formats.
pub const SECTIONS: [&str; 4] = ["web", "email", "admin", "format"];

/// One language's file: its tree as parsed, every string already parsed, and its formats.
#[derive(Debug)]
pub struct Locale {
    language: Language,
    tree: Value,
    /// Every string leaf by dotted path (array items by index).
    texts: HashMap<String, Text>,
    pub(super) formats: Formats,
}

struct Store {
    fr: Locale,
    en: Locale,
}

static STORE: OnceLock<Result<Store, LocaleError>> = OnceLock::new();

fn store() -> Result<&'static Store, LocaleError> {
    STORE
        .get_or_init(|| Ok(Store { fr: Locale::parse(Language::Fr, LOCALE_FR)?, en: Locale::parse(Language::En, LOCALE_EN)? }))
        .as_ref()
        .map_err(Clone::clone)
}

/// The strings and formats of one language. The files are compiled in and checked by the tests,
/// so this fails only in a broken build; callers still get the error rather than a panic.
pub fn locale(lang: Language) -> Result<&'static Locale, LocaleError> {
    let store = store()?;
    Ok(match lang {
        Language::Fr => &store.fr,
        Language::En => &store.en,
    })
}

impl Locale {
    fn parse(language: Language, raw: &str) -> Result<Self, LocaleError> {
        let file = language.as_str();
        let invalid = |message: String| LocaleError::Invalid { file, message };
        let tree: Value = serde_json::from_str(raw).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        for name in SECTIONS {
            if !tree.get(name).is_some_and(Value::is_object) {
                return Err(invalid(format!("no {name:?} object")));
            }
        }
        let mut texts = HashMap::new();
        for (path, leaf) in leaves(&tree) {
            if let Some(s) = leaf.as_str() {
                texts.insert(path.clone(), Text::parse(s).map_err(|e| invalid(format!("{path}: {e}")))?);
            }
        }
        let formats = Formats::load(file, &tree["format"])?;
        Ok(Self { language, tree, texts, formats })
    }

    pub fn language(&self) -> Language {
        self.language
    }

    fn file(&self) -> &'static str {
        self.language.as_str()
    }

    /// The whole file.
    pub fn tree(&self) -> &Value {
        &self.tree
    }

    /// A top-level section (`web`, `email`, `admin`), shared, never copied.
    pub fn section(&self, name: &str) -> Result<&Value, LocaleError> {
        self.tree.get(name).ok_or_else(|| LocaleError::Missing { file: self.file(), path: name.to_owned() })
    }

    /// One string by dotted path from the top (`web.availability.left`), placeholders filled.
    pub fn text(&self, path: &str, vars: &dyn Vars) -> Result<String, LocaleError> {
        let text = self.texts.get(path).ok_or_else(|| LocaleError::Missing { file: self.file(), path: path.to_owned() })?;
        text.fill(vars).map_err(|name| LocaleError::Unfilled { file: self.file(), path: path.to_owned(), name })
    }

    /// The plural category of `n` here: French puts 0 and 1 in the singular (« 0 place libre »),
    /// English only 1.
    pub fn plural_form(&self, n: i64) -> &'static str {
        let one = match self.language {
            Language::Fr => (0..2).contains(&n.abs()),
            Language::En => n == 1,
        };
        if one {
            "one"
        } else {
            "other"
        }
    }

    /// A string with `one` and `other` forms (`web.checkout.seats_line.one`), the form `n` takes.
    pub fn plural(&self, path: &str, n: i64, vars: &dyn Vars) -> Result<String, LocaleError> {
        self.text(&format!("{path}.{}", self.plural_form(n)), vars)
    }

    /// A section with every string filled from `vars`, its subtrees named in `except` left out
    /// (formats the Rust side uses, not strings for a template).
    pub fn render_section(&self, name: &str, vars: &dyn Vars, except: &[&str]) -> Result<Value, LocaleError> {
        fn walk(l: &Locale, path: &str, node: &Value, vars: &dyn Vars, except: &[&str], top: bool) -> Result<Value, LocaleError> {
            Ok(match node {
                Value::Object(map) => {
                    let mut out = Map::new();
                    for (k, v) in map.iter().filter(|(k, _)| !(top && except.contains(&k.as_str()))) {
                        out.insert(k.clone(), walk(l, &format!("{path}.{k}"), v, vars, except, false)?);
                    }
                    Value::Object(out)
                }
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| walk(l, &format!("{path}.{i}"), v, vars, except, false))
                        .collect::<Result<_, _>>()?,
                ),
                Value::String(_) => Value::String(l.text(path, vars)?),
                other => other.clone(),
            })
        }
        walk(self, name, self.section(name)?, vars, except, true)
    }
}

/// `a.b.0.c` in a JSON tree.
pub fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Every leaf of a JSON tree with its dotted path (array items by index).
pub(super) fn leaves(tree: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(prefix: &str, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        let join = |key: &str| if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") };
        match node {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(&join(k), v, out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(&join(&i.to_string()), v, out)),
            leaf => out.push((prefix.to_owned(), leaf)),
        }
    }
    let mut out = Vec::new();
    walk("", tree, &mut out);
    out
}

/// Every key present in one language and missing from the other, as
/// `"<path> (missing in <lang>)"`, sorted; empty when the files agree.
pub fn missing_keys() -> Vec<String> {
    let (fr, en) = match (locale(Language::Fr), locale(Language::En)) {
        (Ok(fr), Ok(en)) => (fr, en),
        (Err(e), _) | (_, Err(e)) => return vec![format!("the locale files cannot be loaded: {e}")],
    };
    let keys = |l: &Locale| leaves(&l.tree).into_iter().map(|(path, _)| path).collect::<BTreeSet<_>>();
    let (fr, en) = (keys(fr), keys(en));
    let mut missing: Vec<String> = fr
        .difference(&en)
        .map(|k| format!("{k} (missing in en)"))
        .chain(en.difference(&fr).map(|k| format!("{k} (missing in fr)")))
        .collect();
    missing.sort();
    missing
}
