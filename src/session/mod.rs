//! Where a login lives between requests: `oauth.session` ([`SessionConfig`]), the stores
//! ([`SessionStore`]: in cookies by default, [`MemorySessionStore`], `RedisSessionStore`, or
//! one of the application's given with [`use_store`]), the record a store keeps
//! ([`SessionRecord`]), the app's own fields in it ([`SessionData`]) and the credentials
//! ([`Credentials`]).
//!
//! Inside: the session record and its cookie codec, the backend, and refresh.

pub(crate) mod backend;
pub(crate) mod config;
pub(crate) mod cookie;
pub(crate) mod logout;
pub(crate) mod manager;
pub(crate) mod memory;
pub(crate) mod record;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod rotation;
pub(crate) mod store;

pub use self::backend::use_store;
pub use self::config::{SessionConfig, StoreKind};
pub use self::memory::MemorySessionStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::RedisSessionStore;
pub use self::store::{SessionRecord, SessionStore};
pub use crate::login::SessionData;
pub use crate::protocol::credentials::Credentials;
