// TEMPORARY STUB (helper is writing the real one)
use std::path::{Path, PathBuf};
pub struct ResolvedDatabase { pub url: String, pub origin: DatabaseOrigin }
pub enum DatabaseOrigin { Configured, LocalServer, PrivateCluster { data_dir: PathBuf, port: u16 } }
impl ResolvedDatabase { pub fn url(&self) -> &str { &self.url } pub fn origin(&self) -> &DatabaseOrigin { &self.origin } }
pub fn resolve(configured_url: Option<&str>, _l: &str, _d: &Path, _p: u16, _n: &str) -> anyhow::Result<ResolvedDatabase> {
    Ok(ResolvedDatabase { url: configured_url.unwrap_or("postgres://postgres@127.0.0.1:5432/billetterie").to_owned(), origin: DatabaseOrigin::Configured })
}
