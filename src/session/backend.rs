//! Where every provider's sessions live (`oauth.session`, or a store the application gives
//! with [`use_store`]), managed once.

use std::sync::Arc;

use rocket::fairing::{AdHoc, Fairing};
use rocket::{Build, Rocket};

use super::config::{SessionConfig, StoreKind};
use super::memory::MemorySessionStore;
use super::store::SessionStore;
use crate::error::ConfigError;

/// Where every provider's sessions live (`oauth.session`), managed once.
pub(crate) struct SessionBackend {
    pub config: SessionConfig,
    pub store: Option<Arc<dyn SessionStore>>,
    /// Whether `store` is this process's own (`store = "memory"`).
    local: bool,
}

impl SessionBackend {
    /// The backend `oauth.session` describes.
    pub async fn from_config(rocket: &Rocket<Build>) -> Result<Self, ConfigError> {
        let config = SessionConfig::from_figment(rocket.figment())?;
        let store: Option<Arc<dyn SessionStore>> = match config.store {
            StoreKind::Cookie => None,
            StoreKind::Memory => Some(Arc::new(
                MemorySessionStore::with_capacity(config.capacity).per_user(config.max_per_user),
            )),
            StoreKind::Redis => Some(redis_store(config.url.as_deref().unwrap_or_default()).await?),
        };
        let local = matches!(config.store, StoreKind::Memory);
        Ok(SessionBackend {
            config,
            store,
            local,
        })
    }

    /// Where the ledger of rotated refresh tokens lives: the shared store (Redis, or the
    /// application's), so that every process sees it; `None` (its own memory) when sessions
    /// live in cookies or in this process's memory, where ledger rows would take sessions'
    /// places.
    pub fn ledger(&self) -> Option<Arc<dyn SessionStore>> {
        self.store.clone().filter(|_| !self.local)
    }
}

#[cfg(feature = "redis")]
async fn redis_store(url: &str) -> Result<Arc<dyn SessionStore>, ConfigError> {
    match super::redis::RedisSessionStore::connect(url).await {
        Ok(store) => Ok(Arc::new(store)),
        Err(e) => Err(ConfigError::Invalid {
            key: "oauth.session.url".into(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(not(feature = "redis"))]
async fn redis_store(_url: &str) -> Result<Arc<dyn SessionStore>, ConfigError> {
    Err(ConfigError::Invalid {
        key: "oauth.session.store".into(),
        reason: "`redis` needs rocket_oauth's `redis` feature".into(),
    })
}

/// A fairing that keeps every provider's sessions in `store` (instead of what
/// `oauth.session.store` says). Attach it before the providers.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::session::{self, MemorySessionStore};
/// use rocket_oauth::OAuth2Provider;
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build()
///         .attach(session::use_store(MemorySessionStore::with_capacity(1_000)))
///         .attach(Idp.fairing())
/// }
/// ```
pub fn use_store(store: impl SessionStore) -> impl Fairing {
    let store: Arc<dyn SessionStore> = Arc::new(store);
    AdHoc::try_on_ignite("rocket_oauth session store", move |rocket| async move {
        if rocket.state::<SessionBackend>().is_some() {
            log::error!("rocket_oauth: attach `session::use_store` once, before the providers");
            return Err(rocket);
        }
        match SessionConfig::from_figment(rocket.figment()) {
            Ok(config) => Ok(rocket.manage(SessionBackend {
                config,
                store: Some(store),
                local: false,
            })),
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                Err(rocket)
            }
        }
    })
}
