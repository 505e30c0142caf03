//! `oauth_server` configuration: issuer, lifetimes, scopes and registered clients.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use crate::error::ConfigError;
use crate::secret::Secret;

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
/// use rocket_oauth::server::ClientConfig;
///
/// let client = ClientConfig::new("example", Some("s3cret".into()))
///     .name("Example client")
///     .redirect_uri("http://127.0.0.1:9999/cb")
///     .scopes(["profile"]);
/// assert!(client.is_confidential());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientConfig {
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
}

impl ClientConfig {
    /// A confidential (`Some(secret)`) or public (`None`) client.
    pub fn new(id: impl Into<String>, secret: Option<String>) -> Self {
        ClientConfig {
            id: id.into(),
            secret: secret.map(Secret::new),
            name: None,
            image_url: None,
            redirect_uris: Vec::new(),
            scopes: Vec::new(),
            resource_server: false,
            post_logout_redirect_uris: Vec::new(),
        }
    }

    /// Adds an exact URI `end_session` may send the browser back to.
    ///
    /// ```rust
    /// use rocket_oauth::server::ClientConfig;
    ///
    /// let client = ClientConfig::new("app", Some("secret".into()))
    ///     .redirect_uri("https://app.example/auth/sso/callback")
    ///     .post_logout_redirect_uri("https://app.example/bye")
    ///     .scopes(["openid", "profile"]);
    /// assert_eq!(client.post_logout_redirect_uris, ["https://app.example/bye"]);
    /// ```
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
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

    /// Whether the client has a secret.
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
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
    pub clients: Vec<ClientConfig>,
    /// Require `state` on authorization requests (as djoauth2 does). _Default:_ `true`.
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
    /// The database for codes and tokens: SQLite, e.g. `sqlite://oauth.db` (feature
    /// `sqlite`), or PostgreSQL, `postgres://user:password@host/database` (feature
    /// `postgres`: one database for every instance of the app); migrated on launch.
    /// _Default:_ none (in memory).
    #[serde(default)]
    pub database_url: Option<String>,
    /// RSA private keys (PEM files, PKCS#8 or PKCS#1) that make the server an OpenID
    /// Provider: the first signs ID tokens (RS256), all are in the JWKS (keep a rotated-out
    /// key listed until its tokens have expired). _Default:_ none (OAuth 2 only).
    #[serde(default)]
    pub signing_keys: Vec<String>,
    /// Where `authorize`, `token`, `revoke` and `introspect` are mounted. _Default:_ `/oauth`.
    #[serde(default = "default_base_path")]
    pub base_path: String,
}

impl ServerConfig {
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
        if self.access_token_ttl == 0 || self.code_ttl == 0 || self.refresh_token_ttl == 0 {
            return Err(invalid(
                "access_token_ttl",
                "lifetimes must be at least 1 second".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            if client.secret.as_ref().is_some_and(|s| s.is_empty()) {
                return Err(invalid(
                    &format!("clients[{i}].secret"),
                    "must not be empty (omit it for a public client)".into(),
                ));
            }
            if client.id.is_empty() || !seen.insert(client.id.as_str()) {
                return Err(invalid(
                    &format!("clients[{i}].id"),
                    "must be non-empty and unique".into(),
                ));
            }
            for uri in &client.redirect_uris {
                let parsed = Url::parse(uri).map_err(|e| {
                    invalid(
                        &format!("clients[{i}].redirect_uris"),
                        format!("`{uri}`: {e}"),
                    )
                })?;
                if parsed.fragment().is_some() {
                    return Err(invalid(
                        &format!("clients[{i}].redirect_uris"),
                        format!("`{uri}` has a fragment"),
                    ));
                }
            }
            if let Some(scope) = client.scopes.iter().find(|s| !self.scopes.contains_key(*s)) {
                return Err(invalid(
                    &format!("clients[{i}].scopes"),
                    format!("`{scope}` is not declared in oauth_server.scopes"),
                ));
            }
        }
        Ok(issuer)
    }
}
