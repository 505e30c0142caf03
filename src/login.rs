//! [`Login`]: the record of a completed login — credentials, profile, identity, roles —
//! handed to the hooks and kept as the session.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
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
    /// The app's own fields ([`Hooks::session_data`](crate::Hooks::session_data)).
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<Value>,
    /// OpenID Connect: the provider's session (`sid`) the login's ID token named, kept when
    /// a refresh brings an ID token without it (what a back-channel logout names).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub(crate) provider_session: Option<String>,
}

/// The app's own fields for a session (a local user id, a tenant, ...): any `serde` value of
/// at most [`SessionData::LIMIT`] bytes as JSON, returned by
/// [`Hooks::session_data`](crate::Hooks::session_data) at login and read back with
/// [`Login::data`] on every request, through any guard. It lives with the session (in the
/// encrypted cookie, or the session store) and survives token refreshes.
///
/// ```rust
/// use rocket_oauth::session::SessionData;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Local {
///     user_id: u64,
///     tenant: String,
/// }
///
/// let data = SessionData::new(&Local { user_id: 7, tenant: "acme".into() }).unwrap();
/// assert!(SessionData::new(&"x".repeat(2000)).is_err()); // over the limit
/// # let _ = data;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SessionData(pub(crate) Value);

impl SessionData {
    /// The most JSON a session's own fields may take, in bytes: sessions usually travel in
    /// cookies.
    pub const LIMIT: usize = 1024;

    /// `value`'s fields, if it serialises to at most [`SessionData::LIMIT`] bytes of JSON.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<Self, SessionDataError> {
        let json = serde_json::to_value(value)
            .map_err(|e| SessionDataError::Unserializable(e.to_string()))?;
        let size = json.to_string().len();
        if size > Self::LIMIT {
            return Err(SessionDataError::TooLarge { size });
        }
        Ok(SessionData(json))
    }
}

/// Why [`SessionData::new`] refused a value.
///
/// ```rust
/// use rocket_oauth::error::SessionDataError;
/// use rocket_oauth::session::SessionData;
///
/// let err = SessionData::new(&"x".repeat(2000)).unwrap_err();
/// assert!(matches!(err, SessionDataError::TooLarge { size: 2002 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionDataError {
    /// The value is larger than [`SessionData::LIMIT`] as JSON.
    #[error(
        "session data of {size} bytes exceeds the limit of {} bytes",
        SessionData::LIMIT
    )]
    TooLarge {
        /// Its size as JSON, in bytes.
        size: usize,
    },
    /// The value cannot be serialised as JSON (e.g. a map with non-string keys).
    #[error("session data cannot be serialised: {0}")]
    Unserializable(String),
}

impl Login {
    pub(crate) fn new(credentials: Credentials, userinfo: Option<Value>, now: i64) -> Self {
        Login {
            provider_session: credentials.id_token_claim("sid"),
            credentials,
            userinfo,
            identity: None,
            roles: Vec::new(),
            issued_at: now,
            data: None,
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

    /// The app's own fields ([`SessionData`]), read as `T`; `None` when there are none or
    /// they are not a `T`.
    ///
    /// ```rust
    /// # use rocket_oauth::Login;
    /// fn tenant(login: &Login) -> Option<String> {
    ///     login.data::<String>()
    /// }
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data.clone()?).ok()
    }

    /// When the user logged in.
    pub fn issued_at(&self) -> SystemTime {
        let secs = u64::try_from(self.issued_at).unwrap_or(0);
        UNIX_EPOCH
            .checked_add(Duration::from_secs(secs))
            .unwrap_or(UNIX_EPOCH)
    }
}
