//! The default transport: every mail becomes one RFC 5322 `.eml` file in a directory, where it can
//! be read (any mail client opens it), checked by tests, or picked up by something that relays it.
//! The message itself is built by `message`.
//!
//! Files are named `{campaign_id:08}-{kind}-{recipient}.eml` and written atomically (temporary
//! file in the same directory, flushed to disk, then renamed): a crash leaves either no file or
//! the whole file, never half of one. Sending the same campaign again replaces its file.

mod message;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use chrono::Utc;
use futures::future::BoxFuture;

pub use message::{quoted_printable, render, MESSAGE_ID_DOMAIN};

use crate::email::transport::{EmailTransport, OutgoingEmail, TransportError};

/// Longest recipient part of a file name.
const MAX_RECIPIENT_CHARS: usize = 80;

/// Writes each mail as an `.eml` file in [`OutboxTransport::dir`].
#[derive(Debug, Clone)]
pub struct OutboxTransport {
    dir: PathBuf,
}

impl OutboxTransport {
    /// Creates the directory (and its parents) if needed.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl EmailTransport for OutboxTransport {
    /// `Ok` carries the path of the file written.
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(async move {
            let message = render(email, Utc::now())?;
            let name = file_name(email);
            let dir = self.dir.clone();
            let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, message.as_bytes()))
                .await
                .map_err(|e| TransportError::Transient(format!("outbox writer task failed: {e}")))?;
            match written {
                Ok(path) => Ok(path.display().to_string()),
                Err(e) => Err(TransportError::Transient(format!("could not write to the outbox {}: {e}", self.dir.display()))),
            }
        })
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

/// `{campaign_id:08}-{kind}-{recipient}.eml`, the recipient reduced to characters that are safe
/// in file names everywhere (`[A-Za-z0-9@._+-]`, anything else becoming `_`).
pub fn file_name(email: &OutgoingEmail) -> String {
    let recipient: String = email
        .to
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') { c } else { '_' })
        .take(MAX_RECIPIENT_CHARS)
        .collect();
    format!("{:08}-{}-{}.eml", email.campaign_id, email.kind.as_str(), recipient)
}

/// Temporary file in the same directory, flushed, renamed over the final name; the directory is
/// flushed too (where the platform allows) so that the rename itself survives a power cut.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, &path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(path)
}

#[cfg(test)]
mod tests;
