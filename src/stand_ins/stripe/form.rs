//! Stripe's form-encoded bodies in bracket notation, and typed reads of their parameters.

use actix_web::web;
use serde_json::{Map, Value};

use super::router::Reply;

/// Parameters as a tree: `metadata[a]=1&expand[]=x` → `{"metadata":{"a":"1"},"expand":["x"]}`.
/// Leaves are strings, as on the wire; each endpoint converts what it reads.
pub(super) type Params = Map<String, Value>;

pub(super) const MAX_METADATA_KEYS: usize = 50;
pub(super) const MAX_METADATA_KEY_CHARS: usize = 40;
pub(super) const MAX_METADATA_VALUE_CHARS: usize = 500;

pub(super) fn malformed(message: impl Into<String>) -> Reply {
    Reply::invalid(None, None, message)
}

pub(super) fn parse_form(body: &[u8]) -> Result<Params, Reply> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("Invalid request body: it is not valid UTF-8."))?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text)
        .map_err(|e| malformed(format!("Invalid request body: it is not application/x-www-form-urlencoded ({e}).")))?
        .into_inner();
    let mut params = Map::new();
    for (key, value) in pairs {
        let path = parse_key(&key).ok_or_else(|| malformed(format!("Invalid parameter name: '{key}'.")))?;
        insert_param(&mut params, &path, value).map_err(|()| malformed(format!("Conflicting values for parameter '{key}'.")))?;
    }
    Ok(params)
}

/// `a[b][c]` → `["a","b","c"]`; `a[]` → `["a",""]` (array push, allowed only last).
pub(super) fn parse_key(key: &str) -> Option<Vec<&str>> {
    let (name, mut rest) = key.find('[').map_or((key, ""), |i| key.split_at(i));
    if name.is_empty() || name.contains(']') {
        return None;
    }
    let mut path = vec![name];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let segment = &inner[..close];
        if segment.contains('[') || (segment.is_empty() && close + 1 != inner.len()) {
            return None;
        }
        path.push(segment);
        rest = &inner[close + 1..];
    }
    Some(path)
}

pub(super) fn insert_param(map: &mut Map<String, Value>, path: &[&str], value: String) -> Result<(), ()> {
    let (first, rest) = path.split_first().ok_or(())?;
    match rest {
        [] => match map.get(*first) {
            Some(Value::Object(_) | Value::Array(_)) => Err(()),
            _ => {
                map.insert((*first).to_owned(), Value::String(value));
                Ok(())
            }
        },
        [""] => match map.entry((*first).to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(items) => {
                items.push(Value::String(value));
                Ok(())
            }
            _ => Err(()),
        },
        _ => match map.entry((*first).to_owned()).or_insert_with(|| Value::Object(Map::new())) {
            Value::Object(inner) => insert_param(inner, rest, value),
            _ => Err(()),
        },
    }
}

/// Stripe rejects unknown parameters, which catches typos in the client early.
pub(super) fn check_known(params: &Params, known: &[&str]) -> Result<(), Reply> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(Reply::invalid(Some("parameter_unknown"), Some(unknown), format!("Received unknown parameter: {unknown}"))),
        None => Ok(()),
    }
}

pub(super) fn missing(param: &str) -> Reply {
    Reply::invalid(Some("parameter_missing"), Some(param), format!("Missing required param: {param}."))
}

pub(super) fn display_name(path: &[&str]) -> String {
    let mut name = path.first().copied().unwrap_or_default().to_owned();
    for segment in path.iter().skip(1) {
        name.push_str(&format!("[{segment}]"));
    }
    name
}

/// A string leaf at `path`, if present; an object or array there is a client bug, reported.
pub(super) fn str_param<'a>(params: &'a Params, path: &[&str]) -> Result<Option<&'a str>, Reply> {
    let mut map = params;
    for (depth, segment) in path.iter().enumerate() {
        match map.get(*segment) {
            None => return Ok(None),
            Some(Value::String(s)) if depth + 1 == path.len() => return Ok(Some(s)),
            Some(Value::Object(inner)) if depth + 1 < path.len() => map = inner,
            Some(_) => {
                let name = display_name(&path[..=depth]);
                return Err(Reply::invalid(None, Some(&name), format!("Invalid value for {name}.")));
            }
        }
    }
    Ok(None)
}

pub(super) fn int_param(params: &Params, name: &str) -> Result<Option<i64>, Reply> {
    let Some(raw) = str_param(params, &[name])? else {
        return Ok(None);
    };
    raw.trim()
        .parse::<i64>()
        .map(Some)
        .map_err(|_| Reply::invalid(Some("parameter_invalid_integer"), Some(name), format!("Invalid integer: {raw}")))
}

pub(super) fn bool_param(params: &Params, path: &[&str]) -> Result<Option<bool>, Reply> {
    match str_param(params, path)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Reply::invalid(None, Some(&display_name(path)), format!("Invalid boolean: {other}"))),
    }
}

pub(super) fn enum_param(params: &Params, name: &str, allowed: &[&str]) -> Result<Option<String>, Reply> {
    match str_param(params, &[name])? {
        None | Some("") => Ok(None),
        Some(value) if allowed.contains(&value) => Ok(Some(value.to_owned())),
        Some(_) => Err(Reply::invalid(None, Some(name), format!("Invalid {name}: must be one of {}", allowed.join(", ")))),
    }
}

/// `metadata[k]=v` pairs within Stripe's limits; `metadata=` (empty) means none, and an empty
/// value unsets its key, as in Stripe.
pub(super) fn metadata_param(params: &Params) -> Result<Map<String, Value>, Reply> {
    let entries = match params.get("metadata") {
        None => return Ok(Map::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Map::new()),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err(Reply::invalid(None, Some("metadata"), "Invalid metadata: it must be a set of key-value pairs.")),
    };
    let mut metadata = Map::new();
    for (key, value) in entries {
        let param = format!("metadata[{key}]");
        let Value::String(value) = value else {
            return Err(Reply::invalid(None, Some(&param), "Metadata values must be strings; nested metadata is not allowed."));
        };
        if key.chars().count() > MAX_METADATA_KEY_CHARS {
            let message = format!("Metadata keys can have up to {MAX_METADATA_KEY_CHARS} characters.");
            return Err(Reply::invalid(None, Some(&param), message));
        }
        if value.chars().count() > MAX_METADATA_VALUE_CHARS {
            let message = format!("Metadata values can have up to {MAX_METADATA_VALUE_CHARS} characters.");
            return Err(Reply::invalid(None, Some(&param), message));
        }
        if !value.is_empty() {
            metadata.insert(key.clone(), Value::String(value.clone()));
        }
    }
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(Reply::invalid(None, Some("metadata"), format!("Metadata can have up to {MAX_METADATA_KEYS} keys.")));
    }
    Ok(metadata)
}
