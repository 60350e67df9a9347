//! The one locale store for the pages (`web`), the mails (`email`) and the back office (`admin`):
//! `locales/{fr,en}.json`, compiled into the binary and parsed once per process. Each consumer
//! reads its own section by reference (`Locale::section`), strings by dotted path with their
//! `{{placeholders}}` filled (`Locale::text`), and the shared formats (`format` section: dates,
//! times, zones, rates; money) through `Locale`'s formatting methods.
//!
//! Every string is parsed when the store loads, and the formats are checked then too, so
//! formatting cannot fail; a lookup can (a key that is not there, a placeholder without a value),
//! and returns an error for the caller to turn into an error page — never a panic.

mod format;
mod store;
mod text;

pub use format::money;
pub use store::{locale, lookup, missing_keys, Locale, SECTIONS};
pub use text::Vars;

/// Why a locale string could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocaleError {
    /// The file itself is wrong (a build defect: the tests load it).
    #[error("locales/{file}.json: {message}")]
    Invalid { file: &'static str, message: String },
    #[error("locales/{file}.json has no string {path}")]
    Missing { file: &'static str, path: String },
    #[error("locales/{file}.json: {path} needs a value for {{{{{name}}}}}")]
    Unfilled { file: &'static str, path: String, name: String },
}

#[cfg(test)]
mod tests;
