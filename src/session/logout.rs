//! Ending the sessions a provider ended (OpenID Connect Back-Channel and Front-Channel
//! Logout): by the provider's session (`sid`) or by user, in the session store, so in every
//! instance that shares it.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::manager::Sessions;
use super::record::decode;
use super::rotation::PREFIX;
use super::store::{SessionRecord, SessionStoreError};
use crate::login::Login;
use crate::util::now;

impl Sessions {
    /// The store key of the crate's record `kind` about `value` (hashed: the values are the
    /// provider's, of any length).
    fn own_key(&self, kind: &str, value: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.provider)
            .chain_update([0])
            .chain_update(value)
            .finalize();
        format!("{PREFIX}{kind}:{}", URL_SAFE_NO_PAD.encode(digest))
    }

    /// Remembers whose the provider session of `login` is, until `expires_at` (a logout that
    /// names only the provider session finds the user by it).
    pub(super) async fn index_sid(&self, login: &Login, expires_at: i64) {
        let (Some(store), true) = (&self.store, self.sid_index) else {
            return;
        };
        let (Some(sid), Some(identity)) = (&login.provider_session, &login.identity) else {
            return;
        };
        let record = SessionRecord {
            user: None,
            expires_at,
            data: identity.subject.clone(),
        };
        if let Err(e) = store.save(&self.own_key("sid", sid), &record).await {
            log::error!("indexing a `{}` session failed: {e}", self.provider);
        }
    }

    /// Whether the logout token `jti` is seen for the first time (it is then remembered
    /// until `until`, seconds since the epoch, in the store every instance shares).
    pub async fn first_use(&self, jti: &str, until: i64) -> Result<bool, SessionStoreError> {
        let store = self
            .store
            .as_ref()
            .ok_or(SessionStoreError::CookieSessions)?;
        let ttl = u64::try_from(until.saturating_sub(now()))
            .unwrap_or(0)
            .max(1);
        store
            .try_lock(&self.own_key("jti", jti), Duration::from_secs(ttl))
            .await
    }

    /// Ends the sessions a provider's logout names and returns them: with `sid`, those of
    /// that provider session (and the user's sessions that name none, when `sub` is given
    /// too); with only `sub`, every session of that user.
    pub async fn end_provider_session(
        &self,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<Login>, SessionStoreError> {
        let store = self
            .store
            .as_ref()
            .ok_or(SessionStoreError::CookieSessions)?;
        let subject = match (sub, sid) {
            (Some(sub), _) => sub.to_owned(),
            (None, Some(sid)) => match store.load(&self.own_key("sid", sid)).await? {
                Some(record) => record.data,
                None => return Ok(Vec::new()),
            },
            (None, None) => return Ok(Vec::new()),
        };
        let mut ended = Vec::new();
        for (id, record) in store.user_sessions(&self.user_key(&subject)).await? {
            let Some(login) = decode(&record.data) else {
                continue;
            };
            let matches = match (sid, login.provider_session.as_deref()) {
                (Some(sid), Some(theirs)) => sid == theirs,
                (Some(_), None) => sub.is_some(),
                (None, _) => true,
            };
            if matches {
                store.delete(&id).await?;
                ended.push(login);
            }
        }
        if let Some(sid) = sid {
            store.delete(&self.own_key("sid", sid)).await?;
        }
        Ok(ended)
    }
}
