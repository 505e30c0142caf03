//! [`MemorySessionStore`]: sessions in this process's memory, bounded and expiring.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::store::{SessionRecord, SessionStore, SessionStoreError};
use crate::util::now;

/// Sessions in memory: fast, lost on restart, not shared between instances. At most
/// `capacity` sessions are kept, and at most `per_user` of one user (so that one account
/// logging in again and again cannot push everyone else out): when full, expired sessions
/// go first, then the one closest to its expiry (that user's own, at the per-user bound).
/// Eviction reads an index by expiry: no scan of the sessions.
///
/// ```rust
/// use rocket_oauth::session::MemorySessionStore;
///
/// let store = MemorySessionStore::with_capacity(10_000).per_user(5);
/// ```
#[derive(Debug)]
pub struct MemorySessionStore {
    capacity: usize,
    per_user: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, SessionRecord>,
    /// Every session by expiry, soonest first.
    expiry: BTreeSet<(i64, String)>,
    users: HashMap<String, HashSet<String>>,
    locks: HashMap<String, Instant>,
}

/// The default bound of sessions per user.
pub(crate) const PER_USER: usize = 16;

impl Default for MemorySessionStore {
    /// At most 100,000 sessions, 16 per user.
    fn default() -> Self {
        MemorySessionStore::with_capacity(100_000)
    }
}

impl MemorySessionStore {
    /// A store keeping at most `capacity` sessions (at least one), 16 per user.
    pub fn with_capacity(capacity: usize) -> Self {
        MemorySessionStore {
            capacity: capacity.max(1),
            per_user: PER_USER,
            inner: Mutex::default(),
        }
    }

    /// At most `per_user` sessions of one user (at least one): a new one ends that user's
    /// session closest to its expiry.
    pub fn per_user(mut self, per_user: usize) -> Self {
        self.per_user = per_user.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<SessionRecord> {
        let record = self.sessions.remove(id)?;
        self.expiry.remove(&(record.expires_at, id.to_owned()));
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

    fn insert(&mut self, id: &str, record: &SessionRecord) {
        self.expiry.insert((record.expires_at, id.to_owned()));
        if let Some(user) = &record.user {
            self.users
                .entry(user.clone())
                .or_default()
                .insert(id.to_owned());
        }
        self.sessions.insert(id.to_owned(), record.clone());
    }

    /// Makes room for one more session of `user`.
    fn make_room(&mut self, user: Option<&str>, capacity: usize, per_user: usize) {
        let now = now();
        while let Some((expires_at, id)) = self.expiry.first().cloned() {
            if expires_at > now {
                break;
            }
            self.remove(&id);
        }
        if let Some(ids) = user.and_then(|u| self.users.get(u)) {
            if ids.len() >= per_user {
                // At most `per_user` ids: a bounded look for the soonest to expire.
                let soonest = ids
                    .iter()
                    .filter_map(|id| self.sessions.get(id).map(|r| (r.expires_at, id)))
                    .min()
                    .map(|(_, id)| id.clone());
                if let Some(id) = soonest {
                    self.remove(&id);
                }
            }
        }
        if self.sessions.len() >= capacity {
            if let Some((_, id)) = self.expiry.first().cloned() {
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
            inner.make_room(record.user.as_deref(), self.capacity, self.per_user);
        }
        inner.insert(id, record);
        Ok(())
    }

    async fn update(&self, id: &str, record: &SessionRecord) -> Result<bool, SessionStoreError> {
        let mut inner = self.lock();
        match inner.remove(id) {
            Some(old) if old.expires_at > now() => {
                inner.insert(id, record);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        self.lock().remove(id);
        Ok(())
    }

    async fn delete_user(&self, user: &str) -> Result<usize, SessionStoreError> {
        let mut inner = self.lock();
        let ids = inner.users.remove(user).unwrap_or_default();
        for id in &ids {
            if let Some(record) = inner.sessions.remove(id) {
                inner.expiry.remove(&(record.expires_at, id.clone()));
            }
        }
        Ok(ids.len())
    }

    async fn user_sessions(
        &self,
        user: &str,
    ) -> Result<Vec<(String, SessionRecord)>, SessionStoreError> {
        let inner = self.lock();
        let now = now();
        let ids = inner.users.get(user).into_iter().flatten();
        Ok(ids
            .filter_map(|id| inner.sessions.get(id).map(|record| (id.clone(), record)))
            .filter(|(_, record)| record.expires_at > now)
            .map(|(id, record)| (id, record.clone()))
            .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(user: &str, expires_at: i64) -> SessionRecord {
        SessionRecord {
            user: Some(user.to_owned()),
            expires_at,
            data: String::new(),
        }
    }

    /// Issue 25, item 8: one account logging in again and again keeps at most `per_user`
    /// sessions and pushes nobody else out.
    #[rocket::async_test]
    async fn one_user_cannot_push_everyone_out() {
        let store = MemorySessionStore::with_capacity(10).per_user(3);
        let far = now() + 3600;
        store.save("bob-1", &record("bob", far)).await.unwrap();
        for i in 0..50 {
            let id = format!("alice-{i}");
            store
                .save(&id, &record("alice", far + 1 + i))
                .await
                .unwrap();
        }
        assert!(store.load("bob-1").await.unwrap().is_some(), "bob stays");
        let inner = store.lock();
        assert_eq!(inner.users["alice"].len(), 3);
        // The newest three are kept.
        assert!(
            inner.sessions.contains_key("alice-49") && !inner.sessions.contains_key("alice-46")
        );
        assert_eq!(inner.expiry.len(), inner.sessions.len());
    }

    #[rocket::async_test]
    async fn a_full_store_drops_the_expired_then_the_soonest() {
        let store = MemorySessionStore::with_capacity(3);
        let now = now();
        store.save("old", &record("a", now - 1)).await.unwrap();
        store.save("soon", &record("b", now + 10)).await.unwrap();
        store.save("late", &record("c", now + 100)).await.unwrap();
        store.save("new", &record("d", now + 50)).await.unwrap();
        assert!(store.load("old").await.unwrap().is_none(), "expired first");
        assert!(store.load("soon").await.unwrap().is_some());
        store.save("newer", &record("e", now + 60)).await.unwrap();
        assert!(
            store.load("soon").await.unwrap().is_none(),
            "then the soonest"
        );
        assert!(store.load("late").await.unwrap().is_some());
        assert_eq!(store.lock().expiry.len(), 3);
    }
}
