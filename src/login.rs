//! [`Login`]: the record of a completed login — credentials, profile, identity, roles —
//! handed to the hooks and kept as the session.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::identity::Identity;
use crate::protocol::credentials::Credentials;

/// A completed login: what the provider gave ([`Credentials`], the userinfo document), who
/// it is ([`Identity`]) and what they may do (roles). Hooks receive it, the session keeps
/// it, and the guards dereference to it.
///
/// ```rust
/// use rocket_oauth::Login;
///
/// fn describe(login: &Login) -> String {
///     let who = login.identity().map_or("someone", |id| id.subject.as_str());
///     format!("{who} with scopes {:?} and roles {:?}", login.credentials().scopes(), login.roles())
/// }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    #[serde(rename = "c")]
    pub(crate) credentials: Credentials,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub(crate) userinfo: Option<Value>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub(crate) identity: Option<Identity>,
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) roles: Vec<String>,
    #[serde(rename = "i")]
    pub(crate) issued_at: i64,
}

impl Login {
    pub(crate) fn new(credentials: Credentials, userinfo: Option<Value>, now: i64) -> Self {
        Login {
            credentials,
            userinfo,
            identity: None,
            roles: Vec::new(),
            issued_at: now,
        }
    }

    /// The tokens.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The user's profile: the provider's userinfo document (for OpenID Connect, the ID
    /// token's claims merged with it); `None` when the provider has no userinfo endpoint.
    pub fn userinfo(&self) -> Option<&Value> {
        self.userinfo.as_ref()
    }

    /// The normalized identity, when the provider (or
    /// [`Hooks::identify`](crate::Hooks::identify)) gave one. Not yet set while `identify`
    /// runs.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The roles granted by the access rules.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the access rules granted `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// When the user logged in.
    pub fn issued_at(&self) -> SystemTime {
        let secs = u64::try_from(self.issued_at).unwrap_or(0);
        UNIX_EPOCH
            .checked_add(Duration::from_secs(secs))
            .unwrap_or(UNIX_EPOCH)
    }
}
