//! `oauth_server` configuration: issuer, lifetimes, scopes and registered clients.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::hash::TokenHash;
use crate::error::ConfigError;
use crate::secret::Secret;
use crate::util::ct_eq;

/// A registered client.
///
/// ```toml
/// [[default.oauth_server.clients]]
/// id = "example"
/// secret = "s3cret"                 # absent: a public client (PKCE required)
/// name = "Example client"
/// image_url = "https://example.com/logo.png"
/// redirect_uris = ["http://127.0.0.1:9999/cb"]
/// scopes = ["profile", "email"]
/// ```
///
/// or in code:
///
/// ```rust
/// use rocket_oauth::server::RegisteredClient;
///
/// let client = RegisteredClient::new("example", Some("s3cret".into()))
///     .name("Example client")
///     .redirect_uri("http://127.0.0.1:9999/cb")
///     .scopes(["profile"]);
/// assert!(client.is_confidential());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RegisteredClient {
    /// The client id. _Required._
    pub id: String,
    /// The client secret; absent for public clients. Never logged. _Default:_ none.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Shown on the consent page. _Default:_ the id.
    #[serde(default)]
    pub name: Option<String>,
    /// Shown on the consent page. _Default:_ none.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Exact redirect URIs (compared as strings: no prefixes, no wildcards). _Required_
    /// unless the client only uses `client_credentials`.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Scopes the client may ask for. _Default:_ none.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A resource server (an API) may introspect the access tokens of every client; other
    /// clients only their own tokens. _Default:_ `false`.
    #[serde(default)]
    pub resource_server: bool,
    /// OpenID Connect RP-initiated logout: where `end_session` may send the browser back
    /// (exact matches). _Default:_ none.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Back-Channel Logout 1.0: where the provider posts a signed logout
    /// token (naming the user and their sign-in session, `sid`) when the user signs out.
    /// _Default:_ none.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in logout tokens (they always carry it). _Default:_ `false`.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// OpenID Connect Front-Channel Logout 1.0: the page the end-session page loads in an
    /// iframe (with `iss` and `sid`) when the user signs out. _Default:_ none.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    /// The client needs `iss` and `sid` on its front-channel URI (they are always added).
    /// _Default:_ `false`.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
    /// The grants the client may use: `authorization_code`, `refresh_token` (refresh tokens
    /// are issued only to clients that have it), `client_credentials` (confidential clients
    /// only: tokens with no user). _Default:_ `["authorization_code", "refresh_token"]`.
    #[serde(default = "GrantType::defaults")]
    pub grant_types: Vec<GrantType>,
    /// How the client authenticates at the token, revocation, introspection and pushed
    /// authorization request endpoints: `client_secret_basic` or `client_secret_post`
    /// (either is accepted), `client_secret_jwt` (an HS256 assertion made with the secret,
    /// RFC 7523; configured clients only, since runtime clients' secrets are kept hashed),
    /// `private_key_jwt` (an assertion signed with one of the client's keys, `jwks` or
    /// `jwks_uri`; no secret then) or `none` (a public client). _Default:_ a secret method
    /// when the client has a secret, else `none`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// With `private_key_jwt`: the client's public keys, a JWK Set (`{"keys": [...]}`).
    /// _Default:_ none.
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// With `private_key_jwt`: where the client publishes its public keys (fetched when
    /// needed, cached for an hour, fetched again for an unknown `kid`). _Default:_ none.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// RFC 9126: the client's authorization requests must be pushed first (`request_uri`).
    /// _Default:_ `false` (`oauth_server.require_pushed_authorization_requests` requires them
    /// of every client).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.2: the client's access tokens are always DPoP-bound (a token request
    /// without a proof is refused). _Default:_ `false` (bound when the request has a proof).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// A runtime client's secret, hashed (the registry never stores the secret itself).
    /// Not a configuration key.
    #[serde(skip)]
    pub secret_hash: Option<TokenHash>,
    /// When the client registered itself (RFC 7591 dynamic registration), in seconds since
    /// the Unix epoch; `None` for configured clients and the registry's. Such a client's
    /// redirect URIs are not trusted before the user acts (errors before consent are a page,
    /// RFC 9700 §4.11.2), and it expires unless used (`registration_unused_ttl`). Not a
    /// configuration key.
    #[serde(skip)]
    pub registered_at: Option<i64>,
    /// When a self-registered client was first used (a code or a token issued to it). Not a
    /// configuration key.
    #[serde(skip)]
    pub used_at: Option<i64>,
}

/// How a client authenticates ([`RegisteredClient::token_endpoint_auth_method`]), by its
/// RFC 7591 name.
///
/// ```rust
/// use rocket_oauth::server::ClientAuthMethod;
///
/// assert_eq!(ClientAuthMethod::PrivateKeyJwt.name(), "private_key_jwt");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// The secret in HTTP Basic authentication.
    ClientSecretBasic,
    /// The secret in the form body.
    ClientSecretPost,
    /// An assertion signed (HS256) with the secret (RFC 7523).
    ClientSecretJwt,
    /// An assertion signed with one of the client's private keys (RFC 7523).
    PrivateKeyJwt,
    /// A public client: no authentication.
    None,
}

impl ClientAuthMethod {
    /// Every method, as the metadata lists them.
    pub(crate) const ALL: [ClientAuthMethod; 5] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::ClientSecretJwt,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ];

    /// Its RFC 7591 name.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::ClientSecretJwt => "client_secret_jwt",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }

    /// The method named `name`.
    pub fn from_name(name: &str) -> Option<ClientAuthMethod> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A grant a client may use at the token endpoint (`grant_types`).
///
/// ```rust
/// use rocket_oauth::server::{GrantType, RegisteredClient};
///
/// // A service calling the API as itself: client_credentials only.
/// let service = RegisteredClient::new("reports", Some("s3cret".into()))
///     .grant_types([GrantType::ClientCredentials])
///     .scopes(["profile"]);
/// assert!(service.allows(GrantType::ClientCredentials));
/// assert!(!service.allows(GrantType::AuthorizationCode));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// The authorization code grant (RFC 6749 §4.1), with PKCE.
    AuthorizationCode,
    /// Refresh tokens (RFC 6749 §6): issued with the client's other grants, and usable.
    RefreshToken,
    /// The client credentials grant (RFC 6749 §4.4): confidential clients only.
    ClientCredentials,
    /// The device authorization grant (RFC 8628): a device (a CLI, a TV) shows a code the
    /// user enters at `<base_path>/device`, and polls for its tokens. `device_code` in
    /// configuration.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:device_code",
        alias = "device_code"
    )]
    DeviceCode,
}

impl GrantType {
    /// What a client may use unless it says otherwise.
    pub(crate) fn defaults() -> Vec<GrantType> {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    }

    /// The grant's name (`authorization_code`, ...).
    pub fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    /// The grant called `name`, if it is one.
    pub fn from_name(name: &str) -> Option<GrantType> {
        [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
            GrantType::DeviceCode,
        ]
        .into_iter()
        .find(|g| g.name() == name)
    }
}

impl RegisteredClient {
    /// A confidential (`Some(secret)`) or public (`None`) client.
    pub fn new(id: impl Into<String>, secret: Option<String>) -> Self {
        RegisteredClient {
            id: id.into(),
            secret: secret.map(Secret::new),
            name: None,
            image_url: None,
            redirect_uris: Vec::new(),
            scopes: Vec::new(),
            resource_server: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: false,
            grant_types: GrantType::defaults(),
            token_endpoint_auth_method: None,
            jwks: None,
            jwks_uri: None,
            require_pushed_authorization_requests: false,
            dpop_bound_access_tokens: false,
            secret_hash: None,
            registered_at: None,
            used_at: None,
        }
    }

    /// Sets the grants the client may use.
    pub fn grant_types(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        self.grant_types = grants.into_iter().collect();
        self
    }

    /// Whether the client may use `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// A confidential client for [`ClientRegistry::create`](super::ClientRegistry::create):
    /// its id and secret are generated.
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let client = RegisteredClient::confidential().name("Reports").scopes(["profile"]);
    /// assert!(client.is_confidential() && client.id.is_empty());
    /// ```
    pub fn confidential() -> Self {
        RegisteredClient::new("", Some(crate::util::random_token()))
    }

    /// A public client (a native or browser app, PKCE required) for
    /// [`ClientRegistry::create`](super::ClientRegistry::create): its id is generated.
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let client = RegisteredClient::public().redirect_uri("http://127.0.0.1/callback");
    /// assert!(!client.is_confidential());
    /// ```
    pub fn public() -> Self {
        RegisteredClient::new("", None)
    }

    /// Adds an exact URI `end_session` may send the browser back to.
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let client = RegisteredClient::new("app", Some("secret".into()))
    ///     .redirect_uri("https://app.example/auth/sso/callback")
    ///     .post_logout_redirect_uri("https://app.example/bye")
    ///     .scopes(["openid", "profile"]);
    /// assert_eq!(client.post_logout_redirect_uris, ["https://app.example/bye"]);
    /// ```
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Sets where the client's logout tokens are posted (OpenID Connect Back-Channel
    /// Logout).
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let client = RegisteredClient::new("app", Some("secret".into()))
    ///     .redirect_uri("https://app.example/auth/sso/callback")
    ///     .backchannel_logout_uri("https://app.example/auth/sso/backchannel-logout");
    /// assert!(client.backchannel_logout_uri.is_some());
    /// ```
    pub fn backchannel_logout_uri(mut self, uri: impl Into<String>) -> Self {
        self.backchannel_logout_uri = Some(uri.into());
        self
    }

    /// Sets the page the end-session page frames for this client (OpenID Connect
    /// Front-Channel Logout).
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let client = RegisteredClient::new("app", None)
    ///     .frontchannel_logout_uri("https://app.example/auth/sso/frontchannel-logout");
    /// assert!(client.frontchannel_logout_uri.is_some());
    /// ```
    pub fn frontchannel_logout_uri(mut self, uri: impl Into<String>) -> Self {
        self.frontchannel_logout_uri = Some(uri.into());
        self
    }

    /// Marks the client a resource server: it may introspect every client's access tokens.
    pub fn resource_server(mut self, resource_server: bool) -> Self {
        self.resource_server = resource_server;
        self
    }

    /// Sets the display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the image shown on the consent page (an `https` URL).
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }

    /// Adds an exact redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets the scopes the client may ask for.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the client authenticates: it has a secret, or signs assertions with its keys
    /// (`private_key_jwt`).
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some() || self.secret_hash.is_some() || self.uses_keys()
    }

    /// Whether the client authenticates with assertions signed by its keys
    /// (`private_key_jwt`, RFC 7523).
    pub fn uses_keys(&self) -> bool {
        self.token_endpoint_auth_method == Some(ClientAuthMethod::PrivateKeyJwt)
    }

    /// A `private_key_jwt` client whose keys are `jwks` (a JWK Set).
    ///
    /// ```rust
    /// use rocket_oauth::server::RegisteredClient;
    ///
    /// let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "…", "y": "…"}]});
    /// let client = RegisteredClient::new("bank-app", None).private_key_jwt(jwks);
    /// assert!(client.uses_keys() && client.is_confidential());
    /// ```
    pub fn private_key_jwt(mut self, jwks: serde_json::Value) -> Self {
        self.token_endpoint_auth_method = Some(ClientAuthMethod::PrivateKeyJwt);
        self.jwks = Some(jwks);
        self
    }

    /// Whether `given` is this client's secret (constant time); a public client has none.
    pub(crate) fn secret_matches(&self, given: Option<&str>) -> bool {
        match (&self.secret, &self.secret_hash, given) {
            (Some(secret), _, Some(given)) => ct_eq(secret.expose(), given),
            (None, Some(hash), Some(given)) => ct_eq(hash.as_str(), TokenHash::of(given).as_str()),
            (None, None, None) => true,
            _ => false,
        }
    }

    /// Checks the client's fields against the declared `scopes`: the field at fault and why.
    pub(crate) fn check(
        &self,
        scopes: &BTreeMap<String, String>,
    ) -> Result<(), (&'static str, String)> {
        if self.secret.as_ref().is_some_and(|s| s.is_empty()) {
            return Err((
                "secret",
                "must not be empty (omit it for a public client)".into(),
            ));
        }
        if self.id.is_empty() || self.id.len() > 255 || self.id.chars().any(char::is_control) {
            return Err(("id", "must be 1 to 255 printable characters".into()));
        }
        let logout = |uri: &Option<String>| uri.iter().cloned().collect::<Vec<_>>();
        for (field, uris) in [
            ("redirect_uris", self.redirect_uris.clone()),
            (
                "post_logout_redirect_uris",
                self.post_logout_redirect_uris.clone(),
            ),
            (
                "backchannel_logout_uri",
                logout(&self.backchannel_logout_uri),
            ),
            (
                "frontchannel_logout_uri",
                logout(&self.frontchannel_logout_uri),
            ),
        ] {
            for uri in &uris {
                let parsed = Url::parse(uri).map_err(|e| (field, format!("`{uri}`: {e}")))?;
                if parsed.fragment().is_some() {
                    return Err((field, format!("`{uri}` has a fragment")));
                }
            }
        }
        self.check_auth_method()?;
        if self.allows(GrantType::ClientCredentials) && !self.is_confidential() {
            return Err((
                "grant_types",
                "`client_credentials` is for confidential clients (with a secret) only".into(),
            ));
        }
        if let Some(scope) = self.scopes.iter().find(|s| !scopes.contains_key(*s)) {
            return Err((
                "scopes",
                format!(
                    "`{scope}` is not a declared scope (in `oauth_server.scopes` or with \
                     `AuthorizationServer::scope`)"
                ),
            ));
        }
        Ok(())
    }

    /// The authentication method's own fields: keys for `private_key_jwt` (and no secret),
    /// a secret for the secret methods, none for `none`.
    fn check_auth_method(&self) -> Result<(), (&'static str, String)> {
        let field = "token_endpoint_auth_method";
        let has_secret = self.secret.is_some() || self.secret_hash.is_some();
        match self.token_endpoint_auth_method {
            Some(ClientAuthMethod::PrivateKeyJwt) => {
                if has_secret {
                    return Err(("secret", "a `private_key_jwt` client has no secret".into()));
                }
                match (&self.jwks, &self.jwks_uri) {
                    (Some(jwks), None) if jwks.get("keys").is_some_and(|k| k.is_array()) => {}
                    (None, Some(uri)) => {
                        Url::parse(uri).map_err(|e| ("jwks_uri", format!("`{uri}`: {e}")))?;
                    }
                    (Some(_), None) => {
                        return Err(("jwks", "must be a JWK Set: {\"keys\": [...]}".into()))
                    }
                    _ => {
                        return Err((
                            field,
                            "`private_key_jwt` needs the client's keys: `jwks` or `jwks_uri` (one)"
                                .into(),
                        ))
                    }
                }
            }
            Some(ClientAuthMethod::None) if has_secret => {
                return Err((field, "`none` is for clients without a secret".into()));
            }
            Some(ClientAuthMethod::None) | None => {}
            Some(_) if !has_secret => {
                return Err((field, "the secret methods need a `secret`".into()));
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The name shown to users.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

fn default_access_ttl() -> u64 {
    3600
}
fn default_refresh_ttl() -> u64 {
    30 * 24 * 3600
}
fn default_code_ttl() -> u64 {
    60
}
fn default_true() -> bool {
    true
}
fn default_login_url() -> String {
    "/login".into()
}
fn default_rotation() -> u64 {
    30 * 24 * 3600
}
fn default_base_path() -> String {
    "/oauth".into()
}

/// `oauth_server` in Rocket's configuration.
///
/// ```toml
/// [default.oauth_server]
/// issuer = "https://auth.example.com"
/// access_token_ttl = 3600
/// [default.oauth_server.scopes]
/// profile = "Read your profile"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The issuer identifier: this server's base URL, sent as `iss` (RFC 9207) and in the
    /// metadata. _Required._
    pub issuer: String,
    /// Access token lifetime, seconds. _Default:_ `3600`.
    #[serde(default = "default_access_ttl")]
    pub access_token_ttl: u64,
    /// Refresh token lifetime, seconds. _Default:_ 30 days.
    #[serde(default = "default_refresh_ttl")]
    pub refresh_token_ttl: u64,
    /// Authorization code lifetime, seconds. _Default:_ `60`.
    #[serde(default = "default_code_ttl")]
    pub code_ttl: u64,
    /// Scope name → description shown on the consent page. _Default:_ none.
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
    /// Registered clients (more can be added in code). _Default:_ none.
    #[serde(default)]
    pub clients: Vec<RegisteredClient>,
    /// Require `state` on authorization requests (as djoauth2 does) that have no PKCE
    /// challenge (PKCE protects the client from CSRF as well, RFC 9700 §2.1; native and MCP
    /// clients that use it often send no `state`). _Default:_ `true`.
    #[serde(default = "default_true")]
    pub require_state: bool,
    /// Accept the PKCE `plain` method. _Default:_ `false` (S256 only).
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// Refuse plain-http requests, except between loopback hosts. Turn off only behind a
    /// TLS-terminating proxy. _Default:_ `true`.
    #[serde(default = "default_true")]
    pub require_tls: bool,
    /// The application's sign-in page; visitors who are not signed in are sent there with
    /// `?next=`. _Default:_ `/login`.
    #[serde(default = "default_login_url")]
    pub login_url: String,
    /// The database for codes, tokens, runtime clients (registered or created with the
    /// [`ClientRegistry`](super::ClientRegistry)) and generated signing keys: SQLite, e.g.
    /// `sqlite://oauth.db` (feature `sqlite`), or PostgreSQL,
    /// `postgres://user:password@host/database` (feature `postgres`: one database for every
    /// instance of the app); migrated on launch. _Default:_ none (in memory).
    #[serde(default)]
    pub database_url: Option<String>,
    /// Private keys (PEM files: RSA for RS256 or P-256 for ES256, PKCS#8, PKCS#1 or SEC1) that
    /// make the server an OpenID Provider: the first of `id_token_signing_alg`'s kind signs
    /// ID tokens (by default the first key), all are in the JWKS (keep a rotated-out key
    /// listed until its tokens have expired). _Default:_ none (OAuth 2 only).
    #[serde(default)]
    pub signing_keys: Vec<String>,
    /// RFC 7591 dynamic client registration at `<base_path>/register`: any app may
    /// register itself as a client (stored like [`ClientRegistry`](super::ClientRegistry)
    /// clients). _Default:_ `false`.
    #[serde(default)]
    pub dynamic_registration: bool,
    /// With `dynamic_registration`: the initial access token (RFC 7591 §3) a registration
    /// must bring as a Bearer token. _Default:_ none (open registration).
    #[serde(default)]
    pub registration_token: Option<Secret>,
    /// With `dynamic_registration`: the scopes a registered client may have (also its
    /// scopes when the registration names none). _Default:_ none (registered clients get no
    /// scope until this grants some).
    #[serde(default)]
    pub registration_scopes: Option<Vec<String>>,
    /// With `dynamic_registration`: how many self-registered clients the store keeps at
    /// most; further registrations get `503`. _Default:_ `1000`.
    #[serde(default = "default_registration_limit")]
    pub registration_limit: usize,
    /// With `dynamic_registration`: registrations a minute from one address; more get
    /// `429`. _Default:_ `10`.
    #[serde(default = "default_registrations_per_client")]
    pub registrations_per_client: u32,
    /// With `dynamic_registration`: registrations a minute from all addresses together;
    /// more get `429`. _Default:_ `60`.
    #[serde(default = "default_registrations_per_minute")]
    pub registrations_per_minute: u32,
    /// With `dynamic_registration`: a self-registered client that no user has authorized
    /// (and that got no token) this many seconds after registering is removed, at the next
    /// purge. _Default:_ `86400` (a day).
    #[serde(default = "default_registration_unused_ttl")]
    pub registration_unused_ttl: u64,
    /// Serve the signed-in user's grants page at `<base_path>/grants` (the `oauth/grants`
    /// template): the applications they authorized, each with a button revoking its
    /// access. _Default:_ `true`.
    #[serde(default = "default_true")]
    pub grants_page: bool,
    /// `RS256` or `ES256`: how ID tokens are signed (the first configured key of that kind
    /// signs; generated keys are of that kind). _Default:_ the first key's kind, `RS256`
    /// for generated keys.
    #[serde(default)]
    pub id_token_signing_alg: Option<String>,
    /// Generate the OpenID Provider's signing keys (instead of `signing_keys`), keep them
    /// in the store sealed with the app's `secret_key` (every instance on one database
    /// shares them), and rotate them every `signing_key_rotation` seconds: a new key is
    /// published a quarter of the period before it signs, and a retired one stays
    /// published until the ID tokens it signed have expired. _Default:_ `false`.
    #[serde(default)]
    pub generate_signing_keys: bool,
    /// With `generate_signing_keys`: how long a key signs, seconds (at least one hour).
    /// _Default:_ 30 days.
    #[serde(default = "default_rotation")]
    pub signing_key_rotation: u64,
    /// Where `authorize`, `token`, `revoke` and `introspect` are mounted. _Default:_ `/oauth`.
    #[serde(default = "default_base_path")]
    pub base_path: String,
    /// How often expired codes and tokens are purged from the store, in the background,
    /// seconds (at least 1). _Default:_ `3600`.
    #[serde(default = "default_purge_interval")]
    pub purge_interval: u64,
    /// The resource identifier (RFC 8707, RFC 9728) of this application's own API, the one
    /// its [`Scoped`](super::Scoped) and [`BearerToken`](super::BearerToken) guards protect:
    /// tokens a client asks for it (`resource=`) are bound to it, its protected resource
    /// metadata is served at `/.well-known/oauth-protected-resource<its path>`, and the
    /// guards' `401`s point there. _Default:_ the issuer's origin.
    #[serde(default)]
    pub resource: Option<String>,
    /// Other APIs (resource servers elsewhere) clients may ask tokens for with `resource`;
    /// a token bound to one of them is refused by this application's own guards.
    /// _Default:_ none.
    #[serde(default)]
    pub resources: Vec<String>,
    /// `opaque` (random strings, looked up in the store) or `jwt` (RFC 9068 `at+jwt`,
    /// signed with the OpenID Provider's keys, so that resource servers elsewhere check them
    /// offline; they are still revocable and introspectable here). _Default:_ `opaque`.
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// RFC 8628: how long a device code (and its user code) lives, seconds. _Default:_
    /// `600`.
    #[serde(default = "default_device_code_ttl")]
    pub device_code_ttl: u64,
    /// RFC 8628: user codes tried a minute from one address at `<base_path>/device`; more
    /// get `429`. _Default:_ `10`.
    #[serde(default = "default_user_code_attempts")]
    pub user_code_attempts: u32,
    /// RFC 9126: every client's authorization requests must be pushed first to
    /// `<base_path>/par` (then `authorize` takes only `client_id` and `request_uri`).
    /// _Default:_ `false` (pushing is offered; a client may require it for itself).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9126: how long a pushed request's `request_uri` may be used, seconds (it is
    /// used once). _Default:_ `90`.
    #[serde(default = "default_pushed_request_ttl")]
    pub pushed_request_ttl: u64,
    /// RFC 9449 §8: the token endpoint asks DPoP clients for a nonce of this server
    /// (`use_dpop_nonce` and a `DPoP-Nonce` header), so that a proof cannot be made ahead
    /// of time. _Default:_ `false`.
    #[serde(default)]
    pub dpop_nonces: bool,
    /// The FAPI 2.0 Security Profile's server rules: pushed authorization requests
    /// required, PKCE S256 required, sender-constrained (DPoP) access tokens only,
    /// confidential clients only and each with `private_key_jwt`, codes living at most 60
    /// seconds (`iss` is always in the authorization response, RFC 9207). _Default:_
    /// `false`.
    #[serde(default)]
    pub fapi2: bool,
}

fn default_pushed_request_ttl() -> u64 {
    90
}

fn default_device_code_ttl() -> u64 {
    600
}

fn default_user_code_attempts() -> u32 {
    10
}

/// How the server's access tokens are made ([`ServerConfig::access_token_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccessTokenFormat {
    /// A random string, looked up in the store.
    #[default]
    Opaque,
    /// An RFC 9068 JWT signed with the OpenID Provider's keys.
    Jwt,
}

fn default_purge_interval() -> u64 {
    3600
}

fn default_registration_limit() -> usize {
    1000
}

fn default_registrations_per_client() -> u32 {
    10
}

fn default_registrations_per_minute() -> u32 {
    60
}

fn default_registration_unused_ttl() -> u64 {
    86_400
}

impl ServerConfig {
    /// The FAPI 2.0 Security Profile's rules on the configuration (§5.3.2.1, §5.3.3).
    fn check_fapi2(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("oauth_server.{key}"),
            reason: format!("{reason} with `fapi2 = true`"),
        };
        if self.allow_plain_pkce {
            return Err(invalid("allow_plain_pkce", "must be false (S256 only)"));
        }
        if self.code_ttl > 60 {
            return Err(invalid("code_ttl", "must be at most 60 seconds"));
        }
        if let Some(i) = self.clients.iter().position(|c| !c.uses_keys()) {
            return Err(invalid(
                &format!("clients[{i}].token_endpoint_auth_method"),
                "must be `private_key_jwt` (confidential clients only)",
            ));
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<Url, ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("oauth_server.{key}"),
            reason,
        };
        let issuer = Url::parse(&self.issuer)
            .map_err(|e| invalid("issuer", format!("`{}` is not a URL ({e})", self.issuer)))?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(invalid("issuer", "must have no query or fragment".into()));
        }
        if self.require_tls && issuer.scheme() != "https" && !crate::util::is_loopback(&issuer) {
            return Err(invalid(
                "issuer",
                "must use https (http only on loopback hosts, or set require_tls = false behind a TLS proxy)".into(),
            ));
        }
        if self.purge_interval == 0 {
            return Err(invalid(
                "purge_interval",
                "must be at least 1 second".into(),
            ));
        }
        if self.signing_key_rotation < 3600 {
            return Err(invalid(
                "signing_key_rotation",
                "must be at least 3600 seconds".into(),
            ));
        }
        if self.access_token_ttl == 0 || self.code_ttl == 0 || self.refresh_token_ttl == 0 {
            return Err(invalid(
                "access_token_ttl",
                "lifetimes must be at least 1 second".into(),
            ));
        }
        if self.pushed_request_ttl == 0 || self.pushed_request_ttl > 600 {
            return Err(invalid(
                "pushed_request_ttl",
                "must be 1 to 600 seconds (RFC 9126 §2.2)".into(),
            ));
        }
        if self.fapi2 {
            self.check_fapi2()?;
        }
        let mut seen = std::collections::HashSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            client
                .check(&self.scopes)
                .map_err(|(field, reason)| invalid(&format!("clients[{i}].{field}"), reason))?;
            if !seen.insert(client.id.as_str()) {
                return Err(invalid(
                    &format!("clients[{i}].id"),
                    "must be unique".into(),
                ));
            }
        }
        let registrable = self.registration_scopes.iter().flatten();
        if let Some(scope) = registrable
            .into_iter()
            .find(|s| !self.scopes.contains_key(*s))
        {
            return Err(invalid(
                "registration_scopes",
                format!("`{scope}` is not declared in oauth_server.scopes"),
            ));
        }
        if self
            .registration_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(invalid(
                "registration_token",
                "must be at least 16 characters".into(),
            ));
        }
        Ok(issuer)
    }
}
