//! Where the authorization server keeps codes and tokens: a small async trait and its
//! stores (memory; SQLite with the `sqlite` feature; PostgreSQL with `postgres`). Codes and tokens are stored hashed
//! (SHA-256), never in plaintext.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryServerStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresServerStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteServerStore;

use serde::{Deserialize, Serialize};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::config::GrantType;
use super::config::RegisteredClient;
pub use super::hash::TokenHash;

/// An authorization code's grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    /// The client the code was issued to.
    pub client_id: String,
    /// The redirect URI it was issued for.
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (then the token request must
    /// repeat it, RFC 6749 §4.1.3); `false` when the client's only registered URI was used.
    /// Codes stored before this field existed read as `true`.
    #[serde(default = "named")]
    pub redirect_uri_given: bool,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The resource owner who consented.
    pub owner: String,
    /// The PKCE challenge and its method (`S256` or `plain`).
    pub challenge: Option<(String, String)>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: i64,
    /// The token family the code's tokens will belong to.
    pub family: String,
    /// OpenID Connect: the authorization request's `nonce`, echoed in the ID token.
    #[serde(default)]
    pub nonce: Option<String>,
    /// OpenID Connect: when the owner consented (the ID token's `auth_time`).
    #[serde(default)]
    pub auth_time: Option<i64>,
    /// OpenID Connect: the owner's sign-in session (the ID token's `sid`, what a
    /// back-channel logout names).
    #[serde(default)]
    pub sid: Option<String>,
    /// RFC 8707: the resources the authorization request named (the tokens' audience).
    #[serde(default)]
    pub resources: Vec<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to (`dpop_jkt`, or
    /// the pushed request's proof): the token request must prove that key.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

fn named() -> bool {
    true
}

/// A token kind's name in the SQL stores' `kind` column.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn kind_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    }
}

/// A token kind from its name in the SQL stores.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn kind_from_name(name: &str) -> TokenKind {
    if name == "refresh" {
        TokenKind::Refresh
    } else {
        TokenKind::Access
    }
}

/// A client as the SQL stores keep it (one JSON column): its secret only as a hash.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Serialize, Deserialize)]
struct ClientRow {
    id: String,
    secret_hash: Option<TokenHash>,
    name: Option<String>,
    image_url: Option<String>,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    resource_server: bool,
    post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    backchannel_logout_session_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frontchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    frontchannel_logout_session_required: bool,
    /// Rows written before grants were stored read as the defaults (never
    /// `client_credentials`).
    #[serde(default = "GrantType::defaults")]
    grant_types: Vec<GrantType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_endpoint_auth_method: Option<super::config::ClientAuthMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwks: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_pushed_authorization_requests: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registered_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_at: Option<i64>,
}

/// A runtime client's JSON in the SQL stores (never a plaintext secret).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn client_json(client: &RegisteredClient) -> Result<String, ServerStoreError> {
    serde_json::to_string(&ClientRow {
        id: client.id.clone(),
        secret_hash: client.secret_hash.clone(),
        name: client.name.clone(),
        image_url: client.image_url.clone(),
        redirect_uris: client.redirect_uris.clone(),
        scopes: client.scopes.clone(),
        resource_server: client.resource_server,
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: client.backchannel_logout_uri.clone(),
        backchannel_logout_session_required: client.backchannel_logout_session_required,
        frontchannel_logout_uri: client.frontchannel_logout_uri.clone(),
        frontchannel_logout_session_required: client.frontchannel_logout_session_required,
        grant_types: client.grant_types.clone(),
        token_endpoint_auth_method: client.token_endpoint_auth_method,
        jwks: client.jwks.clone(),
        jwks_uri: client.jwks_uri.clone(),
        require_pushed_authorization_requests: client.require_pushed_authorization_requests,
        dpop_bound_access_tokens: client.dpop_bound_access_tokens,
        registered_at: client.registered_at,
        used_at: client.used_at,
    })
    .map_err(ServerStoreError::corrupt)
}

/// A runtime client read back from the SQL stores.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn client_from_json(json: &str) -> Result<RegisteredClient, ServerStoreError> {
    let row: ClientRow = serde_json::from_str(json).map_err(ServerStoreError::corrupt)?;
    let mut client = RegisteredClient::new(row.id, None);
    client.secret_hash = row.secret_hash;
    client.name = row.name;
    client.image_url = row.image_url;
    client.redirect_uris = row.redirect_uris;
    client.scopes = row.scopes;
    client.resource_server = row.resource_server;
    client.post_logout_redirect_uris = row.post_logout_redirect_uris;
    client.backchannel_logout_uri = row.backchannel_logout_uri;
    client.backchannel_logout_session_required = row.backchannel_logout_session_required;
    client.frontchannel_logout_uri = row.frontchannel_logout_uri;
    client.frontchannel_logout_session_required = row.frontchannel_logout_session_required;
    client.grant_types = row.grant_types;
    client.token_endpoint_auth_method = row.token_endpoint_auth_method;
    client.jwks = row.jwks;
    client.jwks_uri = row.jwks_uri;
    client.require_pushed_authorization_requests = row.require_pushed_authorization_requests;
    client.dpop_bound_access_tokens = row.dpop_bound_access_tokens;
    client.registered_at = row.registered_at;
    client.used_at = row.used_at;
    Ok(client)
}

/// A scope declared at runtime (see [`ClientRegistry::put_scope`](super::ClientRegistry::put_scope)):
/// its name and the description the consent page shows.
///
/// ```rust
/// use rocket_oauth::server::ScopeRecord;
///
/// let scope = ScopeRecord::new("reports:read", "Read your reports");
/// assert_eq!(scope.name, "reports:read");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScopeRecord {
    /// The scope's name (an RFC 6749 scope token).
    pub name: String,
    /// What the consent page says it grants.
    pub description: String,
}

impl ScopeRecord {
    /// A scope named `name`, described as `description`.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        ScopeRecord {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// A device authorization (RFC 8628): what a device (a CLI, a TV) asked for, and how far
/// the user got with it.
///
/// ```rust
/// use rocket_oauth::server::{DeviceGrant, DeviceStatus};
///
/// let grant = DeviceGrant::new("tv", "BCDFGHJK", vec!["profile".into()], 1_900_000_000);
/// assert_eq!(grant.status, DeviceStatus::Pending);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceGrant {
    /// The client the device is.
    pub client_id: String,
    /// The code the user enters, normalized (upper case, no separator).
    pub user_code: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// RFC 8707: the resources asked for.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Seconds the device must wait between polls (grows with each `slow_down`).
    pub interval: i64,
    /// When the device last polled, seconds since the Unix epoch (`0`: never).
    pub last_poll: i64,
    /// How far it got.
    pub status: DeviceStatus,
    /// Who approved it.
    pub owner: Option<String>,
    /// When they signed in (the ID token's `auth_time`).
    pub auth_time: Option<i64>,
}

impl DeviceGrant {
    /// A pending authorization for `client_id`, polled every five seconds.
    pub fn new(client_id: &str, user_code: &str, scopes: Vec<String>, expires_at: i64) -> Self {
        DeviceGrant {
            client_id: client_id.to_owned(),
            user_code: user_code.to_owned(),
            scopes,
            resources: Vec::new(),
            expires_at,
            interval: 5,
            last_poll: 0,
            status: DeviceStatus::Pending,
            owner: None,
            auth_time: None,
        }
    }
}

/// How far a [`DeviceGrant`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeviceStatus {
    /// The user has not answered yet.
    Pending,
    /// The user approved it; the device's next poll gets the tokens.
    Approved,
    /// The user declined.
    Denied,
    /// The tokens were issued (a device code is used once).
    Used,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl DeviceStatus {
    /// Its name in the SQL stores' `status` column.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Used => "used",
        }
    }
}

/// A client a user signed in to during one sign-in session at the OpenID Provider: told of
/// its end (OpenID Connect Back-Channel Logout).
///
/// ```rust
/// use rocket_oauth::server::SessionClient;
///
/// let signed_in = SessionClient::new("sid-1", "alice", "reports", 1_900_000_000);
/// assert_eq!(signed_in.client_id, "reports");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClient {
    /// The sign-in session (`sid`).
    pub sid: String,
    /// The resource owner signed in.
    pub owner: String,
    /// The client they signed in to.
    pub client_id: String,
    /// Until when it is remembered, seconds since the Unix epoch.
    pub expires_at: i64,
}

impl SessionClient {
    /// `owner`'s sign-in session `sid` reached `client_id`; remembered until `expires_at`.
    pub fn new(
        sid: impl Into<String>,
        owner: impl Into<String>,
        client_id: impl Into<String>,
        expires_at: i64,
    ) -> Self {
        SessionClient {
            sid: sid.into(),
            owner: owner.into(),
            client_id: client_id.into(),
            expires_at,
        }
    }
}

/// A signing key the OpenID Provider generated (`oauth_server.generate_signing_keys`), as
/// the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    /// The key id (`kid`) published in the JWKS.
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// The private key (PKCS#8 PEM), encrypted and authenticated with the app's
    /// `secret_key`: a database dump alone does not reveal it.
    pub sealed_key: String,
    /// When it was generated, seconds since the Unix epoch.
    pub created_at: i64,
}

/// A stored authorization code: its grant, and whether it was used already.
#[derive(Debug, Clone)]
pub struct StoredCode {
    /// What the code grants.
    pub grant: CodeGrant,
    /// The code was exchanged already (presenting it again is a replay).
    pub used: bool,
}

/// Access or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A bearer access token.
    Access,
    /// A refresh token.
    Refresh,
}

/// A stored token (by hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's hash.
    pub hash: TokenHash,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The client it was issued to.
    pub client_id: String,
    /// The resource owner (`None` for `client_credentials`).
    pub owner: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Tokens issued from one authorization (code, then each refresh) share a family.
    pub family: String,
    /// Revoked tokens are never accepted again.
    pub revoked: bool,
    /// A refresh token that was exchanged already (reusing it revokes the family).
    pub used: bool,
    /// The resources (RFC 8707) the token is for, its `aud`; empty: not bound to one.
    #[serde(default)]
    pub audience: Vec<String>,
    /// DPoP (RFC 9449): the thumbprint of the key the token is bound to (`cnf.jkt`); a bound
    /// token is accepted only with a proof of that key.
    #[serde(default)]
    pub jkt: Option<String>,
}

impl TokenRecord {
    /// Not revoked, not expired at `now`, and (for a refresh token) not exchanged yet.
    pub fn is_active(&self, now: i64) -> bool {
        let spent = self.kind == TokenKind::Refresh && self.used;
        !self.revoked && !spent && self.expires_at > now
    }
}

/// A storage failure.
///
/// ```rust
/// use rocket_oauth::server::ServerStoreError;
///
/// let err = ServerStoreError::backend(std::io::Error::other("disk full"));
/// assert_eq!(err.to_string(), "the token store failed: disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerStoreError {
    /// The database (or other backend) failed.
    #[error("the token store failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record could not be read back.
    #[error("the token store holds an unreadable record: {0}")]
    Corrupt(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A lock was poisoned by a panic elsewhere.
    #[error("the token store's lock is poisoned")]
    Poisoned,
    /// The store does not keep this kind of record (a custom store that did not implement
    /// the runtime client registry or generated signing keys).
    #[error("this store does not keep {0}")]
    Unsupported(&'static str),
}

impl ServerStoreError {
    /// A backend failure.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServerStoreError::Backend(Box::new(error))
    }

    /// An unreadable record.
    pub fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServerStoreError::Corrupt(Box::new(error))
    }
}

/// Storage for codes and tokens. Implement it to keep them in your own database; every
/// method gets and returns hashes only. `tests/integration/store.rs` is the conformance
/// suite every store passes.
///
/// Single use is enforced by compare-and-set: [`use_code`](ServerStore::use_code) and
/// [`use_refresh_token`](ServerStore::use_refresh_token) succeed once. A revoked family stays
/// revoked: tokens saved into it later are revoked too, so a replay that races a legitimate
/// exchange cannot leave live tokens behind.
///
/// ```rust
/// # rocket::async_test(async {
/// use rocket_oauth::server::{MemoryServerStore, ServerStore, TokenHash};
///
/// let store = MemoryServerStore::default();
/// let code = TokenHash::of("an authorization code");
/// assert!(store.code(&code).await.unwrap().is_none());
/// # });
/// ```
#[rocket::async_trait]
pub trait ServerStore: Send + Sync + 'static {
    /// Saves a new authorization code.
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), ServerStoreError>;
    /// The code's grant and whether it was used, without using it.
    async fn code(&self, code: &TokenHash) -> Result<Option<StoredCode>, ServerStoreError>;
    /// Marks the code used; `false` if it already was (a replay). Atomic.
    async fn use_code(&self, code: &TokenHash) -> Result<bool, ServerStoreError>;
    /// Saves a new token (revoked at once if its family was revoked).
    async fn save_token(&self, token: TokenRecord) -> Result<(), ServerStoreError>;
    /// Looks a token up (`revoked` also when its family was revoked).
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, ServerStoreError>;
    /// Marks a refresh token used; returns `false` if it already was (a reuse). Atomic.
    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError>;
    /// Revokes one token.
    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError>;
    /// Revokes every token of a family, and any saved into it later.
    async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError>;
    /// Whether the family was revoked.
    async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError>;
    /// Forgets tokens and codes that expired before `now` (used codes are kept until they
    /// expire, so a replay is still recognised).
    async fn purge(&self, now: i64) -> Result<(), ServerStoreError>;

    /// Records a value that may be used once until `expires_at` (a client assertion's `jti`,
    /// a pushed authorization request); `false` if it was recorded already (a replay).
    /// Atomic. _Default:_ [`ServerStoreError::Unsupported`] (no `private_key_jwt` and no
    /// pushed authorization requests then).
    async fn use_once(
        &self,
        _value: &TokenHash,
        _expires_at: i64,
    ) -> Result<bool, ServerStoreError> {
        Err(ServerStoreError::Unsupported("single-use values"))
    }

    /// A client registered at runtime (see [`ClientRegistry`](super::ClientRegistry)), by
    /// id. _Default:_ none (a store without a client registry).
    async fn client(&self, _id: &str) -> Result<Option<RegisteredClient>, ServerStoreError> {
        Ok(None)
    }
    /// Every client registered at runtime. _Default:_ none.
    async fn clients(&self) -> Result<Vec<RegisteredClient>, ServerStoreError> {
        Ok(Vec::new())
    }
    /// Creates or replaces a runtime client. Its `secret` is always `None`: a confidential
    /// client's secret comes as `secret_hash`. _Default:_ [`ServerStoreError::Unsupported`].
    async fn save_client(&self, _client: RegisteredClient) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("runtime clients"))
    }
    /// Removes a runtime client and revokes every token issued to it; `false` when there
    /// was no such client. _Default:_ [`ServerStoreError::Unsupported`].
    async fn remove_client(&self, _id: &str) -> Result<bool, ServerStoreError> {
        Err(ServerStoreError::Unsupported("runtime clients"))
    }
    /// Notes that the runtime client `id` was used first `at` (seconds since the Unix epoch),
    /// unless its `used_at` is set already, changing nothing else: a copy of the client read
    /// earlier must not undo an update made since (or bring back a removed client).
    /// _Default:_ reads and saves the client (not atomic: implement it in one step).
    async fn mark_client_used(&self, id: &str, at: i64) -> Result<(), ServerStoreError> {
        if let Some(mut client) = self.client(id).await? {
            if client.used_at.is_none() {
                client.used_at = Some(at);
                self.save_client(client).await?;
            }
        }
        Ok(())
    }
    /// The scopes declared at runtime, by name. _Default:_ none.
    async fn scopes(&self) -> Result<Vec<ScopeRecord>, ServerStoreError> {
        Ok(Vec::new())
    }
    /// Creates or replaces a runtime scope. _Default:_ [`ServerStoreError::Unsupported`].
    async fn save_scope(&self, _scope: ScopeRecord) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("runtime scopes"))
    }
    /// Removes a runtime scope; `false` when there was none by that name.
    /// _Default:_ [`ServerStoreError::Unsupported`].
    async fn remove_scope(&self, _name: &str) -> Result<bool, ServerStoreError> {
        Err(ServerStoreError::Unsupported("runtime scopes"))
    }
    /// The live tokens (neither revoked, nor their family, nor expired at `now`, nor a
    /// refresh token used already) issued for the resource owner `owner`: what the user's
    /// grants page lists. _Default:_
    /// [`ServerStoreError::Unsupported`].
    async fn owner_tokens(
        &self,
        _owner: &str,
        _now: i64,
    ) -> Result<Vec<TokenRecord>, ServerStoreError> {
        Err(ServerStoreError::Unsupported("grants by owner"))
    }
    /// OpenID Connect: notes that a user's sign-in session reached a client (replacing what
    /// was noted for that session and client), so that its end is sent to the client.
    /// _Default:_ [`ServerStoreError::Unsupported`] (no back-channel logout then).
    async fn save_session_client(&self, _client: SessionClient) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("sign-in sessions"))
    }
    /// Ends the sign-in session `sid`: forgets it and returns the clients it reached (those
    /// not expired at `now`). _Default:_ none.
    async fn end_session(
        &self,
        _sid: &str,
        _now: i64,
    ) -> Result<Vec<SessionClient>, ServerStoreError> {
        Ok(Vec::new())
    }
    /// The OpenID Provider's generated signing keys. _Default:_ none.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, ServerStoreError> {
        Ok(Vec::new())
    }
    /// Saves a generated signing key. _Default:_ [`ServerStoreError::Unsupported`].
    async fn save_signing_key(&self, _key: SigningKeyRecord) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("signing keys"))
    }
    /// Forgets a signing key (rotated out, and every token it signed has expired).
    /// _Default:_ [`ServerStoreError::Unsupported`].
    async fn remove_signing_key(&self, _kid: &str) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("signing keys"))
    }
    /// Saves a new device authorization under its device code's hash; its user code is
    /// unique among the live ones. _Default:_ [`ServerStoreError::Unsupported`] (no device
    /// grant then).
    async fn save_device(
        &self,
        _device: TokenHash,
        _grant: DeviceGrant,
    ) -> Result<(), ServerStoreError> {
        Err(ServerStoreError::Unsupported("device authorizations"))
    }
    /// A device authorization by its device code's hash. _Default:_ none.
    async fn device(&self, _device: &TokenHash) -> Result<Option<DeviceGrant>, ServerStoreError> {
        Ok(None)
    }
    /// A device authorization by its (normalized) user code. _Default:_ none.
    async fn device_by_user_code(
        &self,
        _user_code: &str,
    ) -> Result<Option<(TokenHash, DeviceGrant)>, ServerStoreError> {
        Ok(None)
    }
    /// Replaces a device authorization if its status is still `from` (compare-and-set: a
    /// code is approved, declined or used once); whether it was. _Default:_
    /// [`ServerStoreError::Unsupported`].
    async fn update_device(
        &self,
        _device: &TokenHash,
        _from: DeviceStatus,
        _grant: DeviceGrant,
    ) -> Result<bool, ServerStoreError> {
        Err(ServerStoreError::Unsupported("device authorizations"))
    }
}
