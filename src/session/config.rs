//! `oauth.session`: where sessions live, shared by every provider.

use rocket::figment::Figment;
use serde::Deserialize;

use crate::config::figment_error;
use crate::error::ConfigError;

/// Where sessions live: `oauth.session`, shared by every provider.
///
/// ```toml
/// [default.oauth.session]
/// store = "redis"                     # "cookie" (the default), "memory" or "redis"
/// url = "redis://127.0.0.1:6379/"     # for "redis"
/// lifetime = 604800                   # seconds a session lasts at most (7 days)
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `cookie`: the whole session in encrypted cookies (nothing on the server; a copied
    /// cookie works until it expires). `memory`: in this process (one instance only).
    /// `redis`: in Redis (feature `redis`; shared by every instance). With a store, the
    /// cookie holds only a random session id, and logout really ends the session.
    /// _Default:_ `cookie`.
    #[serde(default)]
    pub store: StoreKind,
    /// The Redis URL, for `store = "redis"`. _Default:_ none.
    #[serde(default)]
    pub url: Option<String>,
    /// How long a session lasts at most, whatever its tokens do, in seconds.
    /// _Default:_ `604800` (7 days).
    #[serde(default = "week")]
    pub lifetime: u64,
    /// The most sessions the memory store keeps. _Default:_ `100000`.
    #[serde(default = "hundred_thousand")]
    pub capacity: usize,
    /// The most sessions of one user the memory store keeps (a new login ends that user's
    /// session closest to its expiry). _Default:_ `16`.
    #[serde(default = "per_user")]
    pub max_per_user: usize,
}

fn per_user() -> usize {
    super::memory::PER_USER
}

/// Where sessions live (see [`SessionConfig::store`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreKind {
    /// In encrypted cookies.
    #[default]
    Cookie,
    /// In this process's memory.
    Memory,
    /// In Redis (feature `redis`).
    Redis,
}

fn week() -> u64 {
    7 * 24 * 3600
}
fn hundred_thousand() -> usize {
    100_000
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            store: StoreKind::Cookie,
            url: None,
            lifetime: week(),
            capacity: hundred_thousand(),
            max_per_user: per_user(),
        }
    }
}

impl SessionConfig {
    /// Reads `oauth.session` (absent: the defaults).
    pub(crate) fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let config: SessionConfig = match figment.extract_inner("oauth.session") {
            Ok(config) => config,
            Err(e) if e.missing() => SessionConfig::default(),
            Err(e) => return Err(figment_error("oauth.session", e)),
        };
        if config.lifetime == 0 {
            return Err(ConfigError::Invalid {
                key: "oauth.session.lifetime".into(),
                reason: "must be at least 1 second".into(),
            });
        }
        if config.store == StoreKind::Redis && config.url.is_none() {
            return Err(ConfigError::Missing {
                key: "oauth.session.url".into(),
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use rocket::figment::providers::Serialized;
    use rocket::figment::Figment;

    use super::SessionConfig;

    #[test]
    fn errors_name_the_full_key_once() {
        let figment = Figment::new().merge(Serialized::default(
            "oauth.session",
            serde_json::json!({"lifetime": "long"}),
        ));
        let err = SessionConfig::from_figment(&figment)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid configuration key `oauth.session.lifetime`"),
            "{err}"
        );
    }
}
