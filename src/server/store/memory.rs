//! [`MemoryStore`]: the default store, everything in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{CodeGrant, Store, StoreError, TakenCode, TokenHash, TokenRecord};

/// The default store: everything in memory, lost on restart.
///
/// ```rust
/// use rocket_oauth::server::{AuthorizationServer, MemoryStore};
/// # struct Owners;
/// # #[rocket::async_trait]
/// # impl rocket_oauth::server::ResourceOwner for Owners {
/// #     async fn current(&self, _: &rocket::Request<'_>) -> Option<String> { None }
/// # }
///
/// let server = AuthorizationServer::new(Owners).store(MemoryStore::default());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    codes: Mutex<HashMap<TokenHash, (CodeGrant, bool)>>,
    tokens: Mutex<HashMap<TokenHash, TokenRecord>>,
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, StoreError> {
    m.lock().map_err(|_| StoreError::Poisoned)
}

#[rocket::async_trait]
impl Store for MemoryStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), StoreError> {
        lock(&self.codes)?.insert(code, (grant, false));
        Ok(())
    }

    async fn take_code(&self, code: &TokenHash) -> Result<TakenCode, StoreError> {
        let mut codes = lock(&self.codes)?;
        Ok(match codes.get_mut(code) {
            None => TakenCode::Unknown,
            Some((grant, used)) if *used => TakenCode::Replayed(grant.clone()),
            Some((grant, used)) => {
                *used = true;
                TakenCode::Fresh(grant.clone())
            }
        })
    }

    async fn save_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        lock(&self.tokens)?.insert(token.hash.clone(), token);
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(lock(&self.tokens)?.get(hash).cloned())
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, StoreError> {
        let mut tokens = lock(&self.tokens)?;
        Ok(match tokens.get_mut(hash) {
            Some(token) if !token.used => {
                token.used = true;
                true
            }
            _ => false,
        })
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), StoreError> {
        if let Some(token) = lock(&self.tokens)?.get_mut(hash) {
            token.revoked = true;
        }
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        for token in lock(&self.tokens)?.values_mut() {
            if token.family == family {
                token.revoked = true;
            }
        }
        Ok(())
    }
}
