//! [`MemorySessionStore`]: sessions in this process's memory, bounded and expiring.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::store::{SessionRecord, SessionStore, SessionStoreError};
use crate::util::now;

/// Sessions in memory: fast, lost on restart, not shared between instances. At most
/// `capacity` sessions are kept; when full, expired ones are purged, then the one closest to
/// its expiry is dropped.
///
/// ```rust
/// use rocket_oauth::session::MemorySessionStore;
///
/// let store = MemorySessionStore::with_capacity(10_000);
/// ```
#[derive(Debug)]
pub struct MemorySessionStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, SessionRecord>,
    users: HashMap<String, HashSet<String>>,
    locks: HashMap<String, Instant>,
}

impl Default for MemorySessionStore {
    /// At most 100,000 sessions.
    fn default() -> Self {
        MemorySessionStore::with_capacity(100_000)
    }
}

impl MemorySessionStore {
    /// A store keeping at most `capacity` sessions (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        MemorySessionStore {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<SessionRecord> {
        let record = self.sessions.remove(id)?;
        if let Some(user) = &record.user {
            if let Some(ids) = self.users.get_mut(user) {
                ids.remove(id);
                if ids.is_empty() {
                    self.users.remove(user);
                }
            }
        }
        Some(record)
    }

    /// Makes room for one more session.
    fn make_room(&mut self, capacity: usize) {
        if self.sessions.len() < capacity {
            return;
        }
        let now = now();
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, r)| r.expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
        if self.sessions.len() >= capacity {
            let soonest = self
                .sessions
                .iter()
                .min_by_key(|(_, r)| r.expires_at)
                .map(|(id, _)| id.clone());
            if let Some(id) = soonest {
                self.remove(&id);
            }
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for MemorySessionStore {
    async fn load(&self, id: &str) -> Result<Option<SessionRecord>, SessionStoreError> {
        let mut inner = self.lock();
        match inner.sessions.get(id) {
            Some(record) if record.expires_at > now() => Ok(Some(record.clone())),
            Some(_) => {
                inner.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn save(&self, id: &str, record: &SessionRecord) -> Result<(), SessionStoreError> {
        let mut inner = self.lock();
        if inner.remove(id).is_none() {
            inner.make_room(self.capacity);
        }
        if let Some(user) = &record.user {
            inner
                .users
                .entry(user.clone())
                .or_default()
                .insert(id.to_owned());
        }
        inner.sessions.insert(id.to_owned(), record.clone());
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        self.lock().remove(id);
        Ok(())
    }

    async fn delete_user(&self, user: &str) -> Result<usize, SessionStoreError> {
        let mut inner = self.lock();
        let ids = inner.users.remove(user).unwrap_or_default();
        for id in &ids {
            inner.sessions.remove(id);
        }
        Ok(ids.len())
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, SessionStoreError> {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.locks.retain(|_, until| *until > now);
        if inner.locks.contains_key(key) {
            return Ok(false);
        }
        inner.locks.insert(key.to_owned(), now + ttl);
        Ok(true)
    }

    async fn unlock(&self, key: &str) -> Result<(), SessionStoreError> {
        self.lock().locks.remove(key);
        Ok(())
    }
}
