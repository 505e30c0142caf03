//! Server-side session stores: a small async trait ([`SessionStore`]) that the memory and
//! Redis stores implement, in the manner of tower-sessions. With a store, the session cookie
//! holds only a random session id, so logging out really ends the session (a copied cookie
//! stops working), sessions can be ended from outside a request, and several instances of
//! the application share them.

use std::time::Duration;

pub use crate::error::SessionStoreError;

/// A stored session: opaque data with its owner and absolute expiry.
///
/// ```rust
/// use rocket_oauth::session::SessionRecord;
///
/// let record = SessionRecord {
///     user: Some("github:42".into()),
///     expires_at: 1_900_000_000,
///     data: "{}".into(),
/// };
/// assert_eq!(record.user.as_deref(), Some("github:42"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Whose session it is (`<provider>:<subject>`), for ending all of a user's sessions.
    pub user: Option<String>,
    /// When the session ends, in seconds since the Unix epoch; stores may forget it then.
    pub expires_at: i64,
    /// The session itself (JSON written by this crate; stores keep it as is).
    pub data: String,
}

/// Where sessions live when they do not live in the cookie. Keys are random session ids.
///
/// Every store passes the same conformance suite (`tests/integration/session_store.rs`):
/// a saved record loads back until it expires, `update` replaces only a live record,
/// `delete` and `delete_user` end sessions, and `try_lock` lets exactly one caller in until `unlock` or its TTL.
///
/// ```rust
/// # rocket::async_test(async {
/// use rocket_oauth::session::{MemorySessionStore, SessionRecord, SessionStore};
///
/// let store = MemorySessionStore::default();
/// let record = SessionRecord { user: None, expires_at: i64::MAX, data: "{}".into() };
/// store.save("id", &record).await.unwrap();
/// assert_eq!(store.load("id").await.unwrap(), Some(record));
/// # });
/// ```
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The session `id`, unless absent or expired.
    async fn load(&self, id: &str) -> Result<Option<SessionRecord>, SessionStoreError>;

    /// Saves (creates or replaces) the session `id`.
    async fn save(&self, id: &str, record: &SessionRecord) -> Result<(), SessionStoreError>;

    /// Replaces the session `id` only if it still exists and has not expired, atomically;
    /// `false` when it does not. A refresh saves with `update`, so that a refresh landing
    /// after the session was ended (a logout, [`SessionAdmin`](crate::guards::SessionAdmin))
    /// cannot bring it back: an ended id stays dead.
    async fn update(&self, id: &str, record: &SessionRecord) -> Result<bool, SessionStoreError>;

    /// Ends the session `id` (no error if it does not exist).
    async fn delete(&self, id: &str) -> Result<(), SessionStoreError>;

    /// Ends every session of `user`; returns how many there were.
    async fn delete_user(&self, user: &str) -> Result<usize, SessionStoreError>;

    /// The live sessions of `user`, with their ids: a back-channel logout ends those of one
    /// sign-in at the provider, not all of the user's. The default fails with
    /// [`SessionStoreError::Unsupported`] (then a logout that names a provider session
    /// cannot be honoured); the memory and Redis stores implement it.
    async fn user_sessions(
        &self,
        user: &str,
    ) -> Result<Vec<(String, SessionRecord)>, SessionStoreError> {
        let _ = user;
        Err(SessionStoreError::Unsupported("user_sessions"))
    }

    /// Takes the short lock named `key` for at most `ttl`; `false` when someone holds it.
    /// Used so that one session is refreshed once, across every instance of the app.
    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, SessionStoreError>;

    /// Releases the lock named `key`.
    async fn unlock(&self, key: &str) -> Result<(), SessionStoreError>;
}
