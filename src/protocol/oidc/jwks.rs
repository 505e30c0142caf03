//! A provider's signing keys (JWKS): cached with a TTL, refetched once (single-flight and
//! rate-limited) when a token names a key we do not have.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::protocol::http::{HttpClient, HttpError};

/// How long fetched signing keys are trusted before they are fetched again.
pub(crate) const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two refetches caused by unknown key ids.
pub(crate) const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// A provider's signing keys, cached with a TTL and refetched (single-flight,
/// rate-limited) when a token names a key we do not have.
pub(crate) struct Jwks {
    uri: Url,
    cache: RwLock<Option<(Arc<CoreJsonWebKeySet>, Instant)>>,
    /// Held while fetching; remembers the last refetch caused by an unknown key.
    fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    /// Where the keys are.
    pub fn uri(&self) -> &Url {
        &self.uri
    }

    pub fn new(uri: Url) -> Self {
        Jwks {
            uri,
            cache: RwLock::new(None),
            fetch: Mutex::new(None),
        }
    }

    async fn download(&self, http: &HttpClient) -> Result<Arc<CoreJsonWebKeySet>, HttpError> {
        let keys: CoreJsonWebKeySet = http.get_json(&self.uri, None).await?;
        let keys = Arc::new(keys);
        *self.cache.write().await = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    /// The cached keys, fetched if absent or older than [`JWKS_TTL`].
    pub async fn keys(&self, http: &HttpClient) -> Result<Arc<CoreJsonWebKeySet>, HttpError> {
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        let _guard = self.fetch.lock().await;
        // Another request may have fetched while we waited.
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        self.download(http).await
    }

    /// Refetches because a token named an unknown key, unless `seen` is already stale (keys
    /// changed meanwhile: use the new ones) or a refetch happened within
    /// [`JWKS_REFETCH_INTERVAL`]. Returns the keys to retry with, if any.
    pub async fn refetch(
        &self,
        http: &HttpClient,
        seen: &Arc<CoreJsonWebKeySet>,
    ) -> Result<Option<Arc<CoreJsonWebKeySet>>, HttpError> {
        let mut last = self.fetch.lock().await;
        if let Some((keys, _)) = self.cache.read().await.as_ref() {
            if !Arc::ptr_eq(keys, seen) {
                return Ok(Some(keys.clone()));
            }
        }
        if last.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        self.download(http).await.map(Some)
    }
}
