//! [`MemoryServerStore`]: the default store, everything in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    CodeGrant, DeviceGrant, DeviceStatus, RegisteredClient, ScopeRecord, ServerStore,
    ServerStoreError, SessionClient, SigningKeyRecord, StoredCode, TokenHash, TokenRecord,
};
use crate::util::now;

/// The default store: everything in memory, lost on restart.
///
/// Codes and tokens are spread over 64 shards, each behind its own lock, and so are the
/// token families: a map grows, and expired entries are purged (as new ones are saved, at
/// most once a minute per shard), one shard at a time, so that with millions of live tokens
/// no request waits for more than a sixty-fourth of them to move. Locks are held for a few
/// map operations only.
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
pub struct MemoryServerStore {
    /// Codes, tokens and single-use values, by the shard of their hash.
    tokens: Box<[Mutex<Tokens>]>,
    /// Token families, by the shard of their name.
    families: Box<[Mutex<Families>]>,
    /// Everything else: clients, scopes, keys, sign-in sessions, device grants.
    inner: Mutex<Inner>,
}

impl Default for MemoryServerStore {
    fn default() -> Self {
        fn shards<T: Default>() -> Box<[Mutex<T>]> {
            (0..SHARDS).map(|_| Mutex::default()).collect()
        }
        MemoryServerStore {
            tokens: shards(),
            families: shards(),
            inner: Mutex::default(),
        }
    }
}

impl std::fmt::Debug for MemoryServerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryServerStore").finish_non_exhaustive()
    }
}

/// How many shards the codes, tokens and families are spread over.
const SHARDS: usize = 64;

/// How often saving purges a shard, at most (seconds).
const PURGE_INTERVAL: i64 = 60;

/// The shard of `key` (a hex digest or a random family name): FNV-1a over its first bytes.
fn shard(key: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes().take(16) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash % SHARDS as u64) as usize
}

/// One shard of codes, tokens and single-use values.
#[derive(Default)]
struct Tokens {
    codes: HashMap<TokenHash, StoredCode>,
    tokens: HashMap<TokenHash, TokenRecord>,
    /// Values used once (client assertions, pushed requests), until they expire.
    used: HashMap<TokenHash, i64>,
    last_purge: i64,
}

impl Tokens {
    fn purge(&mut self, now: i64) {
        self.last_purge = now;
        self.codes.retain(|_, c| c.grant.expires_at > now);
        self.tokens.retain(|_, t| t.expires_at > now);
        self.used.retain(|_, expires_at| *expires_at > now);
    }

    fn purge_now_and_then(&mut self, now: i64) {
        if now - self.last_purge >= PURGE_INTERVAL {
            self.purge(now);
        }
    }
}

/// One shard of token families.
#[derive(Default)]
struct Families {
    /// When each family's last code or token expires.
    lives_until: HashMap<String, i64>,
    /// Revoked families, remembered while a code or a token of theirs may still be used (a
    /// token saved into one later is revoked too).
    revoked: HashSet<String>,
    last_purge: i64,
}

impl Families {
    /// Records that `family` has a code or token living until `expires_at`; whether it is
    /// revoked.
    fn join(&mut self, family: &str, expires_at: i64, now: i64) -> bool {
        if now - self.last_purge >= PURGE_INTERVAL {
            self.purge(now);
        }
        match self.lives_until.get_mut(family) {
            Some(until) => *until = (*until).max(expires_at),
            None => drop(self.lives_until.insert(family.to_owned(), expires_at)),
        }
        self.revoked.contains(family)
    }

    fn purge(&mut self, now: i64) {
        self.last_purge = now;
        self.lives_until.retain(|_, until| *until > now);
        let lives_until = &self.lives_until;
        self.revoked.retain(|f| lives_until.contains_key(f));
    }
}

#[derive(Debug, Default)]
struct Inner {
    last_purge: i64,
    clients: HashMap<String, RegisteredClient>,
    scopes: BTreeMap<String, ScopeRecord>,
    signing_keys: Vec<SigningKeyRecord>,
    /// Sign-in sessions: the clients each reached.
    sessions: HashMap<String, Vec<SessionClient>>,
    /// Device authorizations, by device code hash.
    devices: HashMap<TokenHash, DeviceGrant>,
}

impl Inner {
    fn purge(&mut self, now: i64) {
        self.last_purge = now;
        for clients in self.sessions.values_mut() {
            clients.retain(|c| c.expires_at > now);
        }
        self.sessions.retain(|_, clients| !clients.is_empty());
        self.devices.retain(|_, d| d.expires_at > now);
    }

    fn purge_now_and_then(&mut self) {
        let now = now();
        if now - self.last_purge >= PURGE_INTERVAL {
            self.purge(now);
        }
    }
}

fn locked<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, ServerStoreError> {
    mutex.lock().map_err(|_| ServerStoreError::Poisoned)
}

impl MemoryServerStore {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, ServerStoreError> {
        locked(&self.inner)
    }

    /// The shard `hash` (a code, a token, a single-use value) is in.
    fn tokens_of(&self, hash: &TokenHash) -> Result<MutexGuard<'_, Tokens>, ServerStoreError> {
        locked(&self.tokens[shard(hash.as_str())])
    }

    /// The shard `family` is in.
    fn families_of(&self, family: &str) -> Result<MutexGuard<'_, Families>, ServerStoreError> {
        locked(&self.families[shard(family)])
    }

    /// `token`, revoked if its family is.
    fn with_family(&self, mut token: TokenRecord) -> Result<TokenRecord, ServerStoreError> {
        token.revoked |= self
            .families_of(&token.family)?
            .revoked
            .contains(&token.family);
        Ok(token)
    }
}

#[rocket::async_trait]
impl ServerStore for MemoryServerStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), ServerStoreError> {
        let now = now();
        self.families_of(&grant.family)?
            .join(&grant.family, grant.expires_at, now);
        let mut shard = self.tokens_of(&code)?;
        shard.purge_now_and_then(now);
        shard.codes.insert(code, StoredCode { grant, used: false });
        Ok(())
    }

    async fn code(&self, code: &TokenHash) -> Result<Option<StoredCode>, ServerStoreError> {
        Ok(self.tokens_of(code)?.codes.get(code).cloned())
    }

    async fn use_code(&self, code: &TokenHash) -> Result<bool, ServerStoreError> {
        Ok(match self.tokens_of(code)?.codes.get_mut(code) {
            Some(stored) if !stored.used => {
                stored.used = true;
                true
            }
            _ => false,
        })
    }

    async fn save_token(&self, mut token: TokenRecord) -> Result<(), ServerStoreError> {
        let now = now();
        token.revoked |=
            self.families_of(&token.family)?
                .join(&token.family, token.expires_at, now);
        let mut shard = self.tokens_of(&token.hash)?;
        shard.purge_now_and_then(now);
        shard.tokens.insert(token.hash.clone(), token);
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, ServerStoreError> {
        let token = self.tokens_of(hash)?.tokens.get(hash).cloned();
        token.map(|token| self.with_family(token)).transpose()
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError> {
        Ok(match self.tokens_of(hash)?.tokens.get_mut(hash) {
            Some(token) if !token.used => {
                token.used = true;
                true
            }
            _ => false,
        })
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError> {
        if let Some(token) = self.tokens_of(hash)?.tokens.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError> {
        // Its tokens are revoked as they are read (`token`, `owner_tokens`).
        self.families_of(family)?.revoked.insert(family.to_owned());
        Ok(())
    }

    async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError> {
        Ok(self.families_of(family)?.revoked.contains(family))
    }

    async fn purge(&self, now: i64) -> Result<(), ServerStoreError> {
        // A shard at a time: requests to the others go on meanwhile.
        for shard in self.tokens.iter() {
            locked(shard)?.purge(now);
        }
        for shard in self.families.iter() {
            locked(shard)?.purge(now);
        }
        self.lock()?.purge(now);
        Ok(())
    }

    async fn use_once(&self, value: &TokenHash, expires_at: i64) -> Result<bool, ServerStoreError> {
        let now = now();
        let mut shard = self.tokens_of(value)?;
        shard.purge_now_and_then(now);
        match shard.used.get(value) {
            Some(until) if *until > now => Ok(false),
            _ => {
                shard.used.insert(value.clone(), expires_at);
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
        let mut found = Vec::new();
        for shard in self.tokens.iter() {
            found.extend(
                locked(shard)?
                    .tokens
                    .values()
                    .filter(|t| t.owner.as_deref() == Some(owner) && !t.revoked && !t.used)
                    .filter(|t| t.expires_at > now)
                    .cloned(),
            );
        }
        let mut live = Vec::with_capacity(found.len());
        for token in found {
            let token = self.with_family(token)?;
            if !token.revoked {
                live.push(token);
            }
        }
        Ok(live)
    }

    async fn mark_client_used(&self, id: &str, at: i64) -> Result<(), ServerStoreError> {
        if let Some(client) = self.lock()?.clients.get_mut(id) {
            client.used_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn remove_client(&self, id: &str) -> Result<bool, ServerStoreError> {
        let removed = self.lock()?.clients.remove(id).is_some();
        for shard in self.tokens.iter() {
            let mut shard = locked(shard)?;
            for token in shard.tokens.values_mut().filter(|t| t.client_id == id) {
                token.revoked = true;
            }
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
