//! Rotated refresh tokens. When a refresh spends a refresh token (the provider rotates it),
//! the credentials that replaced it are kept under the spent token's hash, in the session
//! store (or, with cookie sessions, in this process's memory), for as long as a session
//! lives. Every other holder of the spent token — the user's session after a background
//! job's refresh, or the job after the session's — then takes the newer credentials instead
//! of sending a spent token, which the provider refuses (and a provider that detects reuse
//! answers by revoking the whole grant, RFC 9700 §4.14.2).

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::memory::MemorySessionStore;
use super::store::{SessionRecord, SessionStore};
use crate::protocol::credentials::Credentials;
use crate::util::now;

/// The prefix of the keys of the crate's own records in the store: the ledger's, and
/// back-channel logout's (never a session id: those are random URL-safe tokens, and a
/// cookie naming such a key is not loaded).
pub(crate) const PREFIX: &str = "rotated:";

/// How many rotations a holder of an old refresh token catches up with at most.
const MAX_CHAIN: usize = 8;

/// Rotations kept in memory with cookie sessions.
const MEMORY_CAPACITY: usize = 10_000;

/// How long, and how often, to wait for another holder's refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    pub polls: usize,
    pub every: Duration,
}

/// One provider's ledger of rotated refresh tokens.
pub(crate) struct Rotations {
    store: Arc<dyn SessionStore>,
    provider: &'static str,
    /// How long a rotation is remembered, seconds (the session lifetime).
    lifetime: i64,
}

impl Rotations {
    /// The ledger in `store`, or in memory without one.
    pub fn new(
        store: Option<Arc<dyn SessionStore>>,
        provider: &'static str,
        lifetime: i64,
    ) -> Self {
        let store =
            store.unwrap_or_else(|| Arc::new(MemorySessionStore::with_capacity(MEMORY_CAPACITY)));
        Rotations {
            store,
            provider,
            lifetime,
        }
    }

    fn key(&self, refresh_token: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.provider)
            .chain_update([0])
            .chain_update(refresh_token)
            .finalize();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(digest))
    }

    /// Remembers that `new` replaced `old` (when the refresh token changed).
    pub async fn record(&self, old: &Credentials, new: &Credentials) {
        let Some(spent) = old.refresh_token() else {
            return;
        };
        if new.refresh_token() == Some(spent) {
            return;
        }
        let record = SessionRecord {
            user: None,
            expires_at: now().saturating_add(self.lifetime),
            data: serde_json::to_string(new).unwrap_or_default(),
        };
        if let Err(e) = self.store.save(&self.key(spent), &record).await {
            log::error!(
                "recording a rotated `{}` refresh token failed: {e}",
                self.provider
            );
        }
    }

    /// Forgets what replaced `old`'s refresh token (it was revoked).
    pub async fn forget(&self, old: &Credentials) {
        let Some(spent) = old.refresh_token() else {
            return;
        };
        if let Err(e) = self.store.delete(&self.key(spent)).await {
            log::error!(
                "forgetting a rotated `{}` refresh token failed: {e}",
                self.provider
            );
        }
    }

    /// Takes the lock on `credentials`' refresh token (for `ttl`), so that one of its holders
    /// spends it: `true` when taken, `false` when another holder kept it for as long as
    /// `patience` allows (or the store failed), so that the caller goes on without it.
    pub async fn lock(&self, credentials: &Credentials, ttl: Duration, patience: Patience) -> bool {
        let Some(token) = credentials.refresh_token() else {
            return false;
        };
        let key = self.lock_key(token);
        for _ in 0..patience.polls {
            match self.store.try_lock(&key, ttl).await {
                Ok(true) => return true,
                Ok(false) => tokio::time::sleep(patience.every).await,
                Err(e) => {
                    log::error!("locking a `{}` refresh token failed: {e}", self.provider);
                    return false;
                }
            }
            if self.newest(credentials).await.is_some() {
                return false;
            }
        }
        false
    }

    /// Releases the lock [`lock`](Self::lock) took.
    pub async fn unlock(&self, credentials: &Credentials) {
        let Some(token) = credentials.refresh_token() else {
            return;
        };
        if let Err(e) = self.store.unlock(&self.lock_key(token)).await {
            log::error!("unlocking a `{}` refresh token failed: {e}", self.provider);
        }
    }

    fn lock_key(&self, refresh_token: &str) -> String {
        format!("{}:refresh", self.key(refresh_token))
    }

    /// The newest credentials that replaced `credentials`' refresh token, if a refresh spent
    /// it (following later rotations too).
    pub async fn newest(&self, credentials: &Credentials) -> Option<Credentials> {
        let mut newest: Option<Credentials> = None;
        for _ in 0..MAX_CHAIN {
            let current = newest.as_ref().unwrap_or(credentials);
            let Some(token) = current.refresh_token() else {
                break;
            };
            match self.store.load(&self.key(token)).await {
                Ok(Some(record)) => match serde_json::from_str(&record.data) {
                    Ok(next) => newest = Some(next),
                    Err(_) => break,
                },
                Ok(None) => break,
                Err(e) => {
                    log::error!(
                        "reading rotated `{}` refresh tokens failed: {e}",
                        self.provider
                    );
                    break;
                }
            }
        }
        newest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn credentials(access: &str, refresh: Option<&str>) -> Credentials {
        Credentials {
            access_token: Secret::new(access),
            token_type: "bearer".into(),
            expires_at: None,
            refresh_token: refresh.map(Secret::new),
            scopes: Vec::new(),
            received_at: 0,
            token_secret: None,
            id_token: None,
            dpop_key: None,
        }
    }

    #[rocket::async_test]
    async fn holders_of_a_spent_token_catch_up_with_every_rotation() {
        let ledger = Rotations::new(None, "idp", 3600);
        let (one, two, three) = (
            credentials("a1", Some("r1")),
            credentials("a2", Some("r2")),
            credentials("a3", Some("r3")),
        );
        assert!(ledger.newest(&one).await.is_none());
        ledger.record(&one, &two).await;
        ledger.record(&two, &three).await;
        assert_eq!(ledger.newest(&one).await.unwrap().access_token(), "a3");
        assert_eq!(ledger.newest(&two).await.unwrap().access_token(), "a3");
        assert!(ledger.newest(&three).await.is_none());
        // A kept refresh token is no rotation; other providers' tokens are other keys.
        let kept = credentials("a4", Some("r3"));
        ledger.record(&three, &kept).await;
        assert!(ledger.newest(&three).await.is_none());
        assert!(Rotations::new(None, "other", 3600)
            .newest(&one)
            .await
            .is_none());
    }

    #[rocket::async_test]
    async fn a_loop_of_rotations_ends() {
        let ledger = Rotations::new(None, "idp", 3600);
        let (one, two) = (credentials("a1", Some("r1")), credentials("a2", Some("r2")));
        ledger.record(&one, &two).await;
        ledger.record(&two, &one).await;
        assert!(ledger.newest(&one).await.is_some());
    }
}
