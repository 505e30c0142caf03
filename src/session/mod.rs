//! Where a login lives between requests: the session record, the cookie codec, the stores,
//! and refresh.

pub(crate) mod config;
pub(crate) mod cookie;
pub(crate) mod manager;
pub(crate) mod memory;
pub(crate) mod record;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod store;
