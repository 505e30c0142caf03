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
use super::store::{SessionRecord, SessionStore, SessionStoreError};
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

    /// Remembers whose the provider session of `login` is, and who the provider's user
    /// (`sub`) is here, until `expires_at`: a logout names the provider's `sid` and `sub`, and
    /// the app's sessions are filed under its own subject (which a preset or
    /// [`Hooks::identify`](crate::Hooks::identify) may have made another value).
    pub(super) async fn index_sid(&self, login: &Login, expires_at: i64) {
        let (Some(store), true, Some(identity)) = (&self.store, self.sid_index, &login.identity)
        else {
            return;
        };
        let record = SessionRecord {
            user: None,
            expires_at,
            data: identity.subject.clone(),
        };
        let names = [
            ("sid", login.provider_session.clone()),
            ("sub", login.credentials.id_token_claim("sub")),
        ];
        for (kind, value) in names {
            let Some(value) = value else { continue };
            if let Err(e) = store.save(&self.own_key(kind, &value), &record).await {
                log::error!("indexing a `{}` session failed: {e}", self.provider);
            }
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

    /// Forgets the logout token `jti` (its logout failed: the provider's retry must not be
    /// taken for a replay).
    pub async fn forget_use(&self, jti: &str) {
        if let Some(store) = &self.store {
            if let Err(e) = store.unlock(&self.own_key("jti", jti)).await {
                log::warn!("forgetting a `{}` logout token failed: {e}", self.provider);
            }
        }
    }

    /// The app's subject of the provider's user named by `sid` or `sub`: through the indexes
    /// [`index_sid`](Self::index_sid) keeps, else `sub` itself (the usual case, where the
    /// app files sessions under the provider's `sub`).
    async fn subject_of(
        &self,
        store: &dyn SessionStore,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Option<String>, SessionStoreError> {
        let named = [("sid", sid), ("sub", sub)];
        for (kind, value) in named {
            let Some(value) = value else { continue };
            if let Some(record) = store.load(&self.own_key(kind, value)).await? {
                return Ok(Some(record.data));
            }
        }
        Ok(sub.map(str::to_owned))
    }

    /// Ends the sessions a provider's logout names and returns them: with `sid`, those of
    /// that provider session (and the user's sessions that name none, when `sub` is given
    /// too); with only `sub`, every session of that user. A store that cannot list a user's
    /// sessions ends all of them instead (none is then returned for `after_logout`).
    pub async fn end_provider_session(
        &self,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<Login>, SessionStoreError> {
        let store = self
            .store
            .as_deref()
            .ok_or(SessionStoreError::CookieSessions)?;
        let Some(subject) = self.subject_of(store, sub, sid).await? else {
            return Ok(Vec::new());
        };
        let user = self.user_key(&subject);
        let sessions = match store.user_sessions(&user).await {
            Err(SessionStoreError::Unsupported(_)) => {
                let count = store.delete_user(&user).await?;
                log::info!(
                    "the session store cannot list a user's sessions: every one of the user's \
                     {count} `{}` session(s) was ended",
                    self.provider
                );
                Vec::new()
            }
            listed => listed?,
        };
        let mut ended = Vec::new();
        for (id, record) in sessions {
            let login = decode(&record.data);
            let theirs = login.as_ref().and_then(|l| l.provider_session.as_deref());
            let matches = match (sid, theirs) {
                (Some(sid), Some(theirs)) => sid == theirs,
                (Some(_), None) => sub.is_some(),
                (None, _) => true,
            };
            if matches {
                store.delete(&id).await?;
                ended.extend(login);
            }
        }
        if let Some(sid) = sid {
            store.delete(&self.own_key("sid", sid)).await?;
        }
        Ok(ended)
    }
}
