//! [`MemoryServerStore`]: the default store, everything in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    CodeGrant, DeviceGrant, DeviceStatus, RegisteredClient, ScopeRecord, ServerStore,
    ServerStoreError, SessionClient, SigningKeyRecord, StoredCode, TokenHash, TokenRecord,
};
use crate::util::now;

/// The default store: everything in memory, lost on restart. Tokens are indexed by family
/// (revoking one touches only its tokens); expired codes and tokens are purged as new ones
/// are saved (at most once a minute). Locks are held for a few map operations only.
///
/// ```rust
/// use rocket_oauth::server::{AuthorizationServer, MemoryServerStore};
/// # struct Owners;
/// # #[rocket::async_trait]
/// # impl rocket_oauth::server::ResourceOwner for Owners {
/// #     async fn current(&self, _: &rocket::Request<'_>) -> Option<String> { None }
/// # }
///
/// let server = AuthorizationServer::new(Owners).store(MemoryServerStore::default());
/// ```
#[derive(Debug, Default)]
pub struct MemoryServerStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    codes: HashMap<TokenHash, StoredCode>,
    tokens: HashMap<TokenHash, TokenRecord>,
    families: HashMap<String, HashSet<TokenHash>>,
    revoked_families: HashSet<String>,
    last_purge: i64,
    clients: HashMap<String, RegisteredClient>,
    scopes: BTreeMap<String, ScopeRecord>,
    signing_keys: Vec<SigningKeyRecord>,
    /// Sign-in sessions: the clients each reached.
    sessions: HashMap<String, Vec<SessionClient>>,
    /// Device authorizations, by device code hash.
    devices: HashMap<TokenHash, DeviceGrant>,
    /// Values used once (client assertions, pushed requests), until they expire.
    used: HashMap<TokenHash, i64>,
}

/// How often saving purges, at most (seconds).
const PURGE_INTERVAL: i64 = 60;

impl MemoryServerStore {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, ServerStoreError> {
        self.inner.lock().map_err(|_| ServerStoreError::Poisoned)
    }
}

impl Inner {
    fn purge(&mut self, now: i64) {
        self.last_purge = now;
        for clients in self.sessions.values_mut() {
            clients.retain(|c| c.expires_at > now);
        }
        self.sessions.retain(|_, clients| !clients.is_empty());
        self.devices.retain(|_, d| d.expires_at > now);
        self.used.retain(|_, expires_at| *expires_at > now);
        self.codes.retain(|_, c| c.grant.expires_at > now);
        let code_families: HashSet<&str> = self
            .codes
            .values()
            .map(|c| c.grant.family.as_str())
            .collect();
        let expired: Vec<TokenHash> = self
            .tokens
            .iter()
            .filter(|(_, t)| t.expires_at <= now)
            .map(|(hash, _)| hash.clone())
            .collect();
        for hash in expired {
            if let Some(token) = self.tokens.remove(&hash) {
                if let Some(members) = self.families.get_mut(&token.family) {
                    members.remove(&hash);
                    if members.is_empty() {
                        self.families.remove(&token.family);
                    }
                }
            }
        }
        // A revoked family is remembered while a code or a token may still join it.
        let families = &self.families;
        self.revoked_families
            .retain(|f| families.contains_key(f) || code_families.contains(f.as_str()));
    }

    fn purge_now_and_then(&mut self) {
        let now = now();
        if now - self.last_purge >= PURGE_INTERVAL {
            self.purge(now);
        }
    }
}

#[rocket::async_trait]
impl ServerStore for MemoryServerStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        inner.purge_now_and_then();
        inner.codes.insert(code, StoredCode { grant, used: false });
        Ok(())
    }

    async fn code(&self, code: &TokenHash) -> Result<Option<StoredCode>, ServerStoreError> {
        Ok(self.lock()?.codes.get(code).cloned())
    }

    async fn use_code(&self, code: &TokenHash) -> Result<bool, ServerStoreError> {
        Ok(match self.lock()?.codes.get_mut(code) {
            Some(stored) if !stored.used => {
                stored.used = true;
                true
            }
            _ => false,
        })
    }

    async fn save_token(&self, mut token: TokenRecord) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        inner.purge_now_and_then();
        token.revoked |= inner.revoked_families.contains(&token.family);
        inner
            .families
            .entry(token.family.clone())
            .or_default()
            .insert(token.hash.clone());
        inner.tokens.insert(token.hash.clone(), token);
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, ServerStoreError> {
        let inner = self.lock()?;
        Ok(inner.tokens.get(hash).map(|token| {
            let mut token = token.clone();
            token.revoked |= inner.revoked_families.contains(&token.family);
            token
        }))
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError> {
        Ok(match self.lock()?.tokens.get_mut(hash) {
            Some(token) if !token.used => {
                token.used = true;
                true
            }
            _ => false,
        })
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError> {
        if let Some(token) = self.lock()?.tokens.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        inner.revoked_families.insert(family.to_owned());
        let members: Vec<TokenHash> = inner
            .families
            .get(family)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default();
        for hash in members {
            if let Some(token) = inner.tokens.get_mut(&hash) {
                token.revoked = true;
            }
        }
        Ok(())
    }

    async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError> {
        Ok(self.lock()?.revoked_families.contains(family))
    }

    async fn purge(&self, now: i64) -> Result<(), ServerStoreError> {
        self.lock()?.purge(now);
        Ok(())
    }

    async fn use_once(&self, value: &TokenHash, expires_at: i64) -> Result<bool, ServerStoreError> {
        let mut inner = self.lock()?;
        let now = now();
        if inner.last_purge + PURGE_INTERVAL <= now {
            inner.purge(now);
        }
        match inner.used.get(value) {
            Some(until) if *until > now => Ok(false),
            _ => {
                inner.used.insert(value.clone(), expires_at);
                Ok(true)
            }
        }
    }

    async fn client(&self, id: &str) -> Result<Option<RegisteredClient>, ServerStoreError> {
        Ok(self.lock()?.clients.get(id).cloned())
    }

    async fn clients(&self) -> Result<Vec<RegisteredClient>, ServerStoreError> {
        let mut clients: Vec<RegisteredClient> = self.lock()?.clients.values().cloned().collect();
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clients)
    }

    async fn save_client(&self, client: RegisteredClient) -> Result<(), ServerStoreError> {
        self.lock()?.clients.insert(client.id.clone(), client);
        Ok(())
    }

    async fn scopes(&self) -> Result<Vec<ScopeRecord>, ServerStoreError> {
        Ok(self.lock()?.scopes.values().cloned().collect())
    }

    async fn save_scope(&self, scope: ScopeRecord) -> Result<(), ServerStoreError> {
        self.lock()?.scopes.insert(scope.name.clone(), scope);
        Ok(())
    }

    async fn remove_scope(&self, name: &str) -> Result<bool, ServerStoreError> {
        Ok(self.lock()?.scopes.remove(name).is_some())
    }

    async fn owner_tokens(
        &self,
        owner: &str,
        now: i64,
    ) -> Result<Vec<TokenRecord>, ServerStoreError> {
        let inner = self.lock()?;
        Ok(inner
            .tokens
            .values()
            .filter(|t| t.owner.as_deref() == Some(owner) && !t.revoked && !t.used)
            .filter(|t| t.expires_at > now)
            .filter(|t| !inner.revoked_families.contains(&t.family))
            .cloned()
            .collect())
    }

    async fn mark_client_used(&self, id: &str, at: i64) -> Result<(), ServerStoreError> {
        if let Some(client) = self.lock()?.clients.get_mut(id) {
            client.used_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn remove_client(&self, id: &str) -> Result<bool, ServerStoreError> {
        let mut inner = self.lock()?;
        let removed = inner.clients.remove(id).is_some();
        for token in inner.tokens.values_mut().filter(|t| t.client_id == id) {
            token.revoked = true;
        }
        Ok(removed)
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, ServerStoreError> {
        Ok(self.lock()?.signing_keys.clone())
    }

    async fn save_signing_key(&self, key: SigningKeyRecord) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        inner.signing_keys.retain(|k| k.kid != key.kid);
        inner.signing_keys.push(key);
        Ok(())
    }

    async fn remove_signing_key(&self, kid: &str) -> Result<(), ServerStoreError> {
        self.lock()?.signing_keys.retain(|k| k.kid != kid);
        Ok(())
    }

    async fn save_session_client(&self, client: SessionClient) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        let clients = inner.sessions.entry(client.sid.clone()).or_default();
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
        Ok(())
    }

    async fn end_session(
        &self,
        sid: &str,
        now: i64,
    ) -> Result<Vec<SessionClient>, ServerStoreError> {
        let mut clients = self.lock()?.sessions.remove(sid).unwrap_or_default();
        clients.retain(|c| c.expires_at > now);
        Ok(clients)
    }

    async fn save_device(
        &self,
        device: TokenHash,
        grant: DeviceGrant,
    ) -> Result<(), ServerStoreError> {
        let mut inner = self.lock()?;
        inner.purge_now_and_then();
        if inner
            .devices
            .values()
            .any(|d| d.user_code == grant.user_code)
        {
            return Err(ServerStoreError::backend(std::io::Error::other(
                "the user code is taken",
            )));
        }
        inner.devices.insert(device, grant);
        Ok(())
    }

    async fn device(&self, device: &TokenHash) -> Result<Option<DeviceGrant>, ServerStoreError> {
        Ok(self.lock()?.devices.get(device).cloned())
    }

    async fn device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<(TokenHash, DeviceGrant)>, ServerStoreError> {
        let inner = self.lock()?;
        let found = inner.devices.iter().find(|(_, d)| d.user_code == user_code);
        Ok(found.map(|(hash, grant)| (hash.clone(), grant.clone())))
    }

    async fn update_device(
        &self,
        device: &TokenHash,
        from: DeviceStatus,
        grant: DeviceGrant,
    ) -> Result<bool, ServerStoreError> {
        let mut inner = self.lock()?;
        match inner.devices.get_mut(device) {
            Some(current) if current.status == from => {
                *current = grant;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
