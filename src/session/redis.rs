//! [`RedisSessionStore`] (feature `redis`): sessions in Redis, shared by every instance.

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::store::{SessionRecord, SessionStore, SessionStoreError};
use crate::util::now;

/// Sessions in Redis: they survive restarts and are shared by every instance of the
/// application; a refresh takes a short Redis lock so one session is refreshed once, whatever
/// the number of instances. Keys are prefixed (`rocket_oauth:` by default) and expire with
/// their sessions.
///
/// ```rust,no_run
/// # async fn run() -> Result<(), rocket_oauth::error::SessionStoreError> {
/// use rocket_oauth::session::RedisSessionStore;
///
/// let store = RedisSessionStore::connect("redis://127.0.0.1:6379/").await?;
/// # Ok(()) }
/// ```
///
/// Or set `oauth.session.store = "redis"` and `oauth.session.url`.
#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A record as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "u", default)]
    user: Option<String>,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "d")]
    data: String,
}

fn failed(e: redis::RedisError) -> SessionStoreError {
    SessionStoreError::backend(e)
}

impl RedisSessionStore {
    /// Connects to Redis at `url` (e.g. `redis://127.0.0.1:6379/0`); the connection is
    /// re-established by itself when it drops.
    pub async fn connect(url: &str) -> Result<Self, SessionStoreError> {
        let client = redis::Client::open(url).map_err(failed)?;
        let connection = client.get_connection_manager().await.map_err(failed)?;
        Ok(RedisSessionStore {
            connection,
            prefix: "rocket_oauth:".into(),
        })
    }

    /// Uses `prefix` for every key instead of `rocket_oauth:` (to share one database).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}s:{id}", self.prefix)
    }

    fn user_key(&self, user: &str) -> String {
        format!("{}u:{user}", self.prefix)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}l:{key}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, SessionStoreError> {
        let mut connection = self.connection.clone();
        cmd.query_async(&mut connection).await.map_err(failed)
    }
}

/// A record as stored, in JSON.
fn encode(record: &SessionRecord) -> Result<String, SessionStoreError> {
    let stored = Stored {
        user: record.user.clone(),
        expires_at: record.expires_at,
        data: record.data.clone(),
    };
    serde_json::to_string(&stored).map_err(SessionStoreError::backend)
}

/// Milliseconds from now until `expires_at` (at least one).
fn ttl_ms(expires_at: i64) -> i64 {
    expires_at.saturating_sub(now()).saturating_mul(1000).max(1)
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, id: &str) -> Result<Option<SessionRecord>, SessionStoreError> {
        let raw: Option<String> = self
            .query(redis::cmd("GET").arg(self.session_key(id)))
            .await?;
        let Some(stored) = raw.and_then(|raw| serde_json::from_str::<Stored>(&raw).ok()) else {
            return Ok(None);
        };
        Ok((stored.expires_at > now()).then_some(SessionRecord {
            user: stored.user,
            expires_at: stored.expires_at,
            data: stored.data,
        }))
    }

    async fn save(&self, id: &str, record: &SessionRecord) -> Result<(), SessionStoreError> {
        if record.expires_at <= now() {
            // Ended already: nothing to keep (and nothing an update could bring back).
            return self.delete(id).await;
        }
        let json = encode(record)?;
        let ttl = ttl_ms(record.expires_at);
        let mut pipe = redis::pipe();
        // `EXAT`: Redis forgets the session exactly when it ends, as `load` sees it.
        pipe.atomic()
            .cmd("SET")
            .arg(self.session_key(id))
            .arg(json)
            .arg("EXAT")
            .arg(record.expires_at)
            .ignore();
        if let Some(user) = &record.user {
            // The user's index lives as long as their longest session.
            let key = self.user_key(user);
            pipe.cmd("SADD").arg(&key).arg(id).ignore();
            pipe.cmd("PEXPIRE").arg(&key).arg(ttl).arg("GT").ignore();
            pipe.cmd("PEXPIRE").arg(&key).arg(ttl).arg("NX").ignore();
        }
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(failed)
    }

    async fn update(&self, id: &str, record: &SessionRecord) -> Result<bool, SessionStoreError> {
        if record.expires_at <= now() {
            self.delete(id).await?;
            return Ok(false);
        }
        let json = encode(record)?;
        // `XX`: only if the key exists (an ended session stays ended). The user's index
        // already names the session, and lives at least as long.
        let set: Option<String> = self
            .query(
                redis::cmd("SET")
                    .arg(self.session_key(id))
                    .arg(json)
                    .arg("EXAT")
                    .arg(record.expires_at)
                    .arg("XX"),
            )
            .await?;
        Ok(set.is_some())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        self.query::<()>(redis::cmd("DEL").arg(self.session_key(id)))
            .await
    }

    async fn delete_user(&self, user: &str) -> Result<usize, SessionStoreError> {
        let key = self.user_key(user);
        let ids: Vec<String> = self.query(redis::cmd("SMEMBERS").arg(&key)).await?;
        let mut del = redis::cmd("DEL");
        del.arg(&key);
        for id in &ids {
            del.arg(self.session_key(id));
        }
        let deleted: usize = self.query(&del).await?;
        // `deleted` counts the index too, and sessions that had expired are not counted.
        Ok(deleted.saturating_sub(1))
    }

    async fn user_sessions(
        &self,
        user: &str,
    ) -> Result<Vec<(String, SessionRecord)>, SessionStoreError> {
        let ids: Vec<String> = self
            .query(redis::cmd("SMEMBERS").arg(self.user_key(user)))
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut get = redis::cmd("MGET");
        for id in &ids {
            get.arg(self.session_key(id));
        }
        let raw: Vec<Option<String>> = self.query(&get).await?;
        let now = now();
        Ok(ids
            .into_iter()
            .zip(raw)
            .filter_map(|(id, raw)| Some((id, serde_json::from_str::<Stored>(&raw?).ok()?)))
            .filter(|(_, stored)| stored.expires_at > now)
            .map(|(id, stored)| {
                let record = SessionRecord {
                    user: stored.user,
                    expires_at: stored.expires_at,
                    data: stored.data,
                };
                (id, record)
            })
            .collect())
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, SessionStoreError> {
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = self
            .query(
                redis::cmd("SET")
                    .arg(self.lock_key(key))
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl),
            )
            .await?;
        Ok(set.is_some())
    }

    async fn unlock(&self, key: &str) -> Result<(), SessionStoreError> {
        self.query::<()>(redis::cmd("DEL").arg(self.lock_key(key)))
            .await
    }
}
