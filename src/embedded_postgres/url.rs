//! Only as much URL handling as the policy needs (no `url` crate): another database on the same
//! server, a query parameter, the host and port to probe, and passwords masked for logs.

use std::net::{TcpStream, ToSocketAddrs};

use anyhow::{anyhow, Result};

use super::PROBE_TIMEOUT;

pub(super) fn tcp_reachable(host: &str, port: u16) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else { return false };
    addrs.into_iter().any(|addr| TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok())
}

/// Byte offsets into a `scheme://authority/path?query` URL.
pub(super) struct UrlParts {
    authority_start: usize,
    authority_end: usize,
    path_end: usize,
}

/// Only as much URL parsing as needed here (no `url` crate): a password containing an unencoded
/// `/`, `?` or `#` is not supported, but such a URL is invalid for libpq as well.
pub(super) fn split_url(url: &str) -> Option<UrlParts> {
    let scheme_len = ["postgres://", "postgresql://"].iter().find(|s| url.starts_with(*s))?.len();
    let after = &url[scheme_len..];
    let authority_end = scheme_len + after.find(['/', '?', '#']).unwrap_or(after.len());
    let path_end = authority_end + url[authority_end..].find(['?', '#']).unwrap_or(url.len() - authority_end);
    Some(UrlParts { authority_start: scheme_len, authority_end, path_end })
}

/// The same server and credentials, another database; query parameters are kept.
pub(super) fn replace_database(url: &str, db_name: &str) -> Result<String> {
    let parts = split_url(url).ok_or_else(|| anyhow!("local PostgreSQL URL `{}` is not a postgres:// URL", mask_password(url)))?;
    Ok(format!("{}/{db_name}{}", &url[..parts.authority_end], &url[parts.path_end..]))
}

/// Adds `key=value` to the query unless the URL already sets that key.
pub(super) fn with_query_param(url: &str, key: &str, value: &str) -> String {
    let Some(parts) = split_url(url) else { return url.to_owned() };
    let (query, fragment) = url[parts.path_end..].split_once('#').map_or((&url[parts.path_end..], ""), |(q, f)| (q, f));
    let already = query.trim_start_matches('?').split('&').any(|pair| pair.split('=').next() == Some(key));
    if already {
        return url.to_owned();
    }
    let separator = match query {
        "" => "?",
        "?" => "",
        _ => "&",
    };
    let fragment = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
    format!("{}{query}{separator}{key}={value}{fragment}", &url[..parts.path_end])
}

/// Host and port to probe with TCP, or None when the URL points at a unix socket (empty host or
/// a path), in which case libpq is asked directly. Only the first of several hosts is probed.
pub(super) fn tcp_host_port(url: &str) -> Option<(String, u16)> {
    let parts = split_url(url)?;
    let authority = &url[parts.authority_start..parts.authority_end];
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    let first = hosts.split(',').next()?;
    let (host, port) = if let Some(bracketed) = first.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        (host, rest.strip_prefix(':'))
    } else {
        match first.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (first, None),
        }
    };
    if host.is_empty() || host.starts_with('/') || host.to_ascii_lowercase().starts_with("%2f") {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 5432,
    };
    Some((host.to_owned(), port))
}

/// Hides the password of a URL (`user:***@`) and any `password=` parameter, for logs and errors.
pub(super) fn mask_password(url: &str) -> String {
    let mut masked = url.to_owned();
    if let Some(parts) = split_url(url) {
        let authority = &url[parts.authority_start..parts.authority_end];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some(colon) = userinfo.find(':') {
                let password_start = parts.authority_start + colon + 1;
                let password_end = parts.authority_start + userinfo.len();
                masked = format!("{}***{}", &url[..password_start], &url[password_end..]);
            }
        }
    }
    mask_password_params(&masked)
}

/// `password=...` in a URL query or a `key=value` connection string; a quoted value may hold spaces.
pub(super) fn mask_password_params(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find(KEY) {
        let starts_param = found == 0 || matches!(rest.as_bytes()[found - 1], b'?' | b'&' | b' ' | b'\t' | b'\n');
        let value_start = found + KEY.len();
        out.push_str(&rest[..value_start]);
        rest = &rest[value_start..];
        if !starts_param {
            continue;
        }
        let value_len = if let Some(quoted) = rest.strip_prefix('\'') {
            let mut escaped = false;
            let close = quoted.char_indices().find(|&(_, c)| {
                let is_close = c == '\'' && !escaped;
                escaped = c == '\\' && !escaped;
                is_close
            });
            close.map_or(rest.len(), |(i, _)| i + 2)
        } else {
            rest.find(['&', ' ', '\t', '\n', '#']).unwrap_or(rest.len())
        };
        if value_len > 0 {
            out.push_str("***");
        }
        rest = &rest[value_len..];
    }
    out.push_str(rest);
    out
}
