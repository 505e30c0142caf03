//! Per-provider configuration, in the manner of `rocket_db_pools`: the provider's defaults
//! are a figment layer under `oauth.<name>`, the application's configuration overrides them,
//! and the result is validated for the provider's protocol.

use std::collections::BTreeMap;
use std::time::Duration;

use rocket::figment::providers::Serialized;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::access::AccessConfig;
use crate::error::ConfigError;
use crate::protocol::flow::Flow;
use crate::protocol::oauth1::{
    Consumer, OAuth1Flow, OAuth1Settings, SignatureMethod, SignaturePlacement,
};
use crate::protocol::oauth2::{ClientAuth, ClientSettings, Endpoints, OAuth2Flow};
use crate::provider::{Protocol, ProviderDefaults};
use crate::secret::Secret;
use crate::util::is_loopback;
use rsa::RsaPrivateKey;

/// A provider's resolved configuration: the provider's defaults overridden by
/// `oauth.<name>`.
///
/// In `Rocket.toml` (every key may also come from the environment, e.g.
/// `ROCKET_OAUTH='{github={client_id="..."}}'`):
///
/// ```toml
/// [default.oauth.github]
/// client_id = "Iv1.0123456789abcdef"
/// client_secret = "<secret>"
/// redirect_uri = "https://app.example.com/auth/github/callback"
/// # optional overrides of the provider's defaults:
/// scopes = ["read:user", "user:email"]
/// token_url = "https://github.example.com/login/oauth/access_token"
/// ```
///
/// The fairing resolves it at ignite, where a missing or invalid key — or a key of another
/// protocol, such as `tenants` on a plain OAuth 2 provider — stops the launch with a
/// [`ConfigError`] naming it. Its `Debug` output never shows the secret:
///
/// ```rust
/// # use rocket_oauth::ProviderConfig;
/// fn describe(config: &ProviderConfig) -> String {
///     format!("{} comes back to {} ({config:?})", config.client_id, config.redirect_uri)
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The client identifier issued by the provider. _Required._
    pub client_id: String,
    /// The client secret issued by the provider; absent for public clients (PKCE only).
    /// Never logged. _Default:_ none.
    pub client_secret: Option<Secret>,
    /// The absolute callback URL registered at the provider (`https`, or `http` on
    /// loopback); its path should be `<base_path>/callback`. Taken from configuration, never derived from the request, so
    /// it stays right behind TLS-terminating proxies. _Required._
    pub redirect_uri: Url,
    /// OAuth 2.0 or OpenID Connect (from the provider's definition).
    pub protocol: Protocol,
    /// The provider's authorization endpoint (`https`, or `http` on loopback).
    /// _Default:_ the provider's attribute; for OpenID Connect, discovered when absent.
    pub authorize_url: Option<Url>,
    /// The provider's token endpoint (`https`, or `http` on loopback).
    /// _Default:_ the provider's attribute; for OpenID Connect, discovered when absent.
    pub token_url: Option<Url>,
    /// The endpoint returning the user's profile as JSON, fetched once at login with the new
    /// access token. _Default:_ the provider's attribute (for OpenID Connect, the discovered
    /// one), or none.
    pub userinfo_url: Option<Url>,
    /// The provider's issuer identifier. For OpenID Connect it is required: discovery reads
    /// `<issuer>/.well-known/openid-configuration` and ID tokens must carry it. For OAuth 2 it
    /// is compared with an RFC 9207 `iss` callback parameter. _Default:_ the provider's
    /// attribute, or none (then `iss` is ignored).
    pub issuer: Option<String>,
    /// The scopes requested at login: a list or one space-separated string.
    /// _Default:_ the provider's attribute, or none.
    pub scopes: Vec<String>,
    /// Where the fairing mounts `login`, `callback`, `logout` and `check`.
    /// _Default:_ `/auth/<name>`.
    pub base_path: String,
    /// The name shown to users, e.g. on the sign-in page. _Default:_ the provider's
    /// display name (presets: `GitHub`, ...), or its `NAME`.
    pub display_name: String,
    /// Show a confirmation page on `GET login`; a CSRF-protected `POST login` starts the
    /// flow. _Default:_ the provider's attribute, or `false`.
    pub confirm: bool,
    /// Use PKCE (S256). _Default:_ the provider's attribute, or `true`.
    pub pkce: bool,
    /// `client_secret_basic` (or `basic`) or `client_secret_post` (or `post`).
    /// _Default:_ the provider's attribute, or `client_secret_basic`.
    pub client_auth: ClientAuth,
    /// The provider answers with `response_mode=form_post` (a cross-site POST callback).
    /// _Default:_ the provider's attribute, or `false`.
    pub form_post: bool,
    /// Also accept `GET logout` (by default only `POST logout` logs out). _Default:_ `false`.
    pub logout_via_get: bool,
    /// Mark cookies `Secure` (their names then take the `__Host-` prefix). _Default:_ `true`
    /// when `redirect_uri` is `https` or Rocket serves TLS, else `false`.
    pub secure_cookies: bool,
    /// Total time allowed for each call to the provider, in seconds. _Default:_ `10`.
    pub timeout: Duration,
    /// Time allowed to connect to the provider, in seconds. _Default:_ `5`.
    pub connect_timeout: Duration,
    /// Extra parameters for the authorization URL (e.g. `prompt = "consent"`).
    /// _Default:_ none.
    pub auth_params: BTreeMap<String, String>,
    /// Who may log in and which roles they get (see [`AccessConfig`]).
    /// _Default:_ everyone, no roles.
    pub access: AccessConfig,
    /// The RFC 7009 revocation endpoint: logout revokes the tokens there (best effort).
    /// _Default:_ for OpenID Connect, the discovered `revocation_endpoint`; else none.
    pub revocation_url: Option<Url>,
    /// An access token this close to its expiry is refreshed before use, in seconds.
    /// _Default:_ `5`.
    pub refresh_skew: Duration,
    /// The base of relative URLs given to [`ApiClient`](crate::ApiClient).
    /// _Default:_ none.
    pub api_base_url: Option<Url>,
    /// The OpenID Connect keys; `Some` exactly for OpenID Connect providers.
    pub oidc: Option<OidcConfig>,
    /// The OAuth 1.0a keys; `Some` exactly for OAuth 1.0a providers.
    pub oauth1: Option<OAuth1Config>,
    /// The signed client secret (`client_secret_jwt`, feature `apple`).
    #[cfg(feature = "apple")]
    pub(crate) signed_secret: Option<std::sync::Arc<crate::protocol::signed_secret::SignedSecret>>,
}

/// The keys that only OAuth 1.0a providers take. (They also spell `client_id`,
/// `client_secret` and `redirect_uri` the OAuth 1.0a way: `consumer_key`, `consumer_secret`
/// and `callback_url`.)
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuth1Config {
    /// Where temporary credentials are requested. _Required_ (or the provider's attribute).
    pub request_token_url: Url,
    /// Where temporary credentials become token credentials. _Required_ (or the attribute).
    pub access_token_url: Url,
    /// `HMAC-SHA1`, `HMAC-SHA256`, `RSA-SHA1` (with `private_key`) or `PLAINTEXT` (only
    /// when every endpoint is `https`). _Default:_ `HMAC-SHA1`.
    pub signature_method: SignatureMethod,
    /// `header` (`Authorization: OAuth …`), `query` or `form` (for providers that need it); key
    /// `signature_placement`. _Default:_ `header`.
    pub placement: SignaturePlacement,
    /// The `realm` of the `Authorization` header. _Default:_ none.
    pub realm: Option<String>,
    /// The consumer's RSA private key (PEM, PKCS#8 or PKCS#1), for RSA-SHA1.
    pub(crate) rsa_key: Option<RsaPrivateKey>,
}

/// The keys that only OpenID Connect providers take (under `oauth.<name>` like the others).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OidcConfig {
    /// Where the discovery document is. _Default:_
    /// `<issuer>/.well-known/openid-configuration` (give it for a `{tenantid}` issuer, e.g.
    /// Microsoft's `https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration`).
    pub discovery_url: Option<Url>,
    /// Tenants allowed by a `{tenantid}` issuer: the ID token's `tid` fills the placeholder
    /// and must be listed. _Default:_ none (required with such an issuer).
    pub tenants: Vec<String>,
    /// Other exact `iss` values the issuer uses in ID tokens, e.g. a trailing-slash variant.
    /// They must be URLs: the `openidconnect` crate parses `iss` as one, so a bare host
    /// such as Google's legacy `accounts.google.com` cannot be accepted. _Default:_ none.
    pub issuer_aliases: Vec<String>,
    /// Require the `nonce` claim in ID tokens. Turn off only for providers that never send
    /// one (LinkedIn); a nonce that is present must still match. _Default:_ `true`.
    pub require_nonce: bool,
    /// On logout, also end the session at the provider when its discovery document has an
    /// `end_session_endpoint`. _Default:_ `false`.
    pub provider_logout: bool,
    /// Where the provider sends the browser after `provider_logout` (registered at the
    /// provider). _Default:_ none.
    pub post_logout_redirect_uri: Option<Url>,
    /// Fetch the discovery document at launch, and refuse to launch (with the reason) when
    /// it cannot be fetched or is unusable: a wrong issuer shows before the first visitor.
    /// _Default:_ `false` (discovery on the first login, retried until it succeeds).
    pub discover_at_launch: bool,
}

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
        }
    }
}

/// A figment extraction error as a [`ConfigError`] naming the full key once, cleanly
/// (`oauth.gh.client_id`, not figment's rendering of the path), with what is wrong and
/// where the value came from.
fn figment_error(table: &str, error: rocket::figment::Error) -> ConfigError {
    use rocket::figment::error::Kind;
    let Some(first) = error.into_iter().next() else {
        return ConfigError::Invalid {
            key: table.into(),
            reason: "unreadable".into(),
        };
    };
    // figment lists the fields inside `table` first, then the parts of `table` itself
    // (`[client_id, oauth, gh]`): keep what lies under `table`.
    let mut path: Vec<&str> = first.path.iter().map(String::as_str).collect();
    let table_parts: Vec<&str> = table.split('.').collect();
    if path.ends_with(&table_parts) {
        path.truncate(path.len() - table_parts.len());
    } else if path.starts_with(&table_parts) {
        path.drain(..table_parts.len());
    }
    let mut key = table.to_owned();
    for part in &path {
        key.push('.');
        key.push_str(part);
    }
    let reason = match &first.kind {
        Kind::MissingField(field) if path.last() != Some(&field.as_ref()) => {
            return ConfigError::Missing {
                key: format!("{key}.{field}"),
            }
        }
        Kind::MissingField(_) => return ConfigError::Missing { key },
        Kind::UnknownField(field, _) => {
            if path.last() != Some(&field.as_str()) {
                key.push('.');
                key.push_str(field);
            }
            "unknown key".to_owned()
        }
        Kind::Message(message) => message.clone(),
        kind => kind.to_string(),
    };
    let source = first
        .metadata
        .as_ref()
        .map(|m| format!(" (from {})", m.name.trim_matches('`')))
        .unwrap_or_default();
    ConfigError::Invalid {
        key,
        reason: format!("{reason}{source}"),
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

/// The provider's defaults, as the lowest figment layer under `oauth.<name>`.
#[derive(Serialize)]
struct DefaultsLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    authorize_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    userinfo_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'static str>,
    scopes: &'static [&'static str],
    confirm: bool,
    pkce: bool,
    client_auth: ClientAuth,
    form_post: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_token_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_base_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discovery_url: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require_nonce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    auth_params: BTreeMap<&'static str, &'static str>,
    /// The placeholders' default values, under their own keys.
    #[serde(flatten)]
    placeholders: BTreeMap<&'static str, &'static str>,
}

/// The keys that fill `{placeholder}`s in a provider's URL defaults.
const PLACEHOLDERS: [&str; 5] = ["base_url", "tenant", "realm", "domain", "graph_version"];

impl From<&ProviderDefaults> for DefaultsLayer {
    fn from(d: &ProviderDefaults) -> Self {
        DefaultsLayer {
            authorize_url: d.authorize_url,
            token_url: d.token_url,
            userinfo_url: d.userinfo_url,
            issuer: d.issuer,
            scopes: d.scopes,
            confirm: d.confirm,
            pkce: d.pkce,
            client_auth: d.client_auth,
            form_post: d.form_post,
            request_token_url: d.request_token_url,
            access_token_url: d.access_token_url,
            revocation_url: d.revocation_url,
            api_base_url: d.api_base_url,
            discovery_url: d.discovery_url,
            require_nonce: d.require_nonce,
            display_name: d.display_name,
            auth_params: d.auth_params.iter().copied().collect(),
            placeholders: d
                .placeholders
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .copied()
                .collect(),
        }
    }
}

/// `oauth.<name>.client_secret_jwt`: a client secret signed as an ES256 JWT (Sign in with
/// Apple).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "apple"), allow(dead_code))]
struct SignedSecretConfig {
    team_id: String,
    key_id: String,
    /// The PKCS#8 PEM key itself...
    private_key: Option<Secret>,
    /// ...or the file holding it (Apple's `AuthKey_<key id>.p8`).
    private_key_file: Option<String>,
    /// `aud`; default: the issuer.
    audience: Option<String>,
}

/// `oauth.<name>` with the defaults layer under it: unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(alias = "consumer_key")]
    client_id: Option<String>,
    #[serde(alias = "consumer_secret")]
    client_secret: Option<Secret>,
    #[serde(alias = "callback_url")]
    redirect_uri: Option<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    issuer: Option<String>,
    #[serde(default)]
    scopes: Scopes,
    base_path: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    confirm: bool,
    #[serde(default = "yes")]
    pkce: bool,
    #[serde(default)]
    client_auth: ClientAuth,
    #[serde(default)]
    form_post: bool,
    #[serde(default)]
    logout_via_get: bool,
    secure_cookies: Option<bool>,
    #[serde(default = "ten")]
    timeout: u64,
    #[serde(default = "five")]
    connect_timeout: u64,
    #[serde(default)]
    auth_params: BTreeMap<String, String>,
    #[serde(default)]
    access: AccessConfig,
    revocation_url: Option<String>,
    #[serde(default = "five")]
    refresh_skew: u64,
    api_base_url: Option<String>,
    // OpenID Connect only.
    discovery_url: Option<String>,
    tenants: Option<Vec<String>>,
    issuer_aliases: Option<Vec<String>>,
    require_nonce: Option<bool>,
    discover_at_launch: Option<bool>,
    provider_logout: Option<bool>,
    post_logout_redirect_uri: Option<String>,
    // OAuth 1.0a only.
    request_token_url: Option<String>,
    access_token_url: Option<String>,
    signature_method: Option<SignatureMethod>,
    signature_placement: Option<SignaturePlacement>,
    private_key: Option<Secret>,
    realm: Option<String>,
    client_secret_jwt: Option<SignedSecretConfig>,
    // Placeholders in URL defaults (`realm` above doubles as Keycloak's).
    base_url: Option<String>,
    tenant: Option<String>,
    domain: Option<String>,
    graph_version: Option<String>,
}

fn yes() -> bool {
    true
}
fn ten() -> u64 {
    10
}
fn five() -> u64 {
    5
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes::List(Vec::new())
    }
}

/// An RSA private key in PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE
/// KEY`).
fn parse_rsa_key(pem: &str) -> Result<RsaPrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    RsaPrivateKey::from_pkcs8_pem(pem)
        .map_err(|e| e.to_string())
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| e.to_string()))
}

/// The first key of `set` that is set, as a key that does not apply to `protocol`.
fn refuse(keys: &Keys<'_>, protocol: Protocol, set: &[(&str, bool)]) -> Result<(), ConfigError> {
    match set.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(ConfigError::NotApplicable {
            key: keys.key(field),
            protocol: protocol.name(),
        }),
        None => Ok(()),
    }
}

/// Authorization URL parameters that the flows set themselves.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "state",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "scope",
    "nonce",
];

/// Names keys `oauth.<name>.<field>`.
struct Keys<'a>(&'a str);

impl Keys<'_> {
    fn key(&self, field: &str) -> String {
        format!("oauth.{}.{field}", self.0)
    }

    fn missing(&self, field: &str) -> ConfigError {
        ConfigError::Missing {
            key: self.key(field),
        }
    }

    fn invalid(&self, field: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: self.key(field),
            reason: reason.into(),
        }
    }

    fn required(&self, value: Option<String>, field: &str) -> Result<String, ConfigError> {
        non_empty(value).ok_or_else(|| self.missing(field))
    }

    /// An absolute `http(s)` URL.
    fn url(&self, value: &str, field: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(value)
            .map_err(|e| self.invalid(field, format!("`{value}` is not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.invalid(field, format!("`{value}` is not an http(s) URL")));
        }
        Ok(url)
    }

    /// A provider endpoint: `https`, except on loopback (development and tests).
    fn endpoint(&self, value: &str, field: &str) -> Result<Url, ConfigError> {
        let url = self.url(value, field)?;
        if url.scheme() == "http" && !is_loopback(&url) {
            return Err(self.invalid(
                field,
                format!("`{value}` must use https (http is allowed only on loopback)"),
            ));
        }
        Ok(url)
    }

    fn optional_endpoint(
        &self,
        value: Option<String>,
        field: &str,
    ) -> Result<Option<Url>, ConfigError> {
        non_empty(value)
            .map(|v| self.endpoint(&v, field))
            .transpose()
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl ProviderConfig {
    /// Reads `oauth.<name>` from `figment` over the provider's `defaults` and validates it;
    /// `tls`: whether Rocket serves TLS.
    pub(crate) fn from_figment(
        figment: &Figment,
        name: &str,
        defaults: &ProviderDefaults,
        tls: bool,
    ) -> Result<Self, ConfigError> {
        let key = format!("oauth.{name}");
        let layered = figment
            .clone()
            .join(Serialized::default(&key, DefaultsLayer::from(defaults)));
        let raw: Raw = layered
            .extract_inner(&key)
            .map_err(|e| figment_error(&key, e))?;
        raw.resolve(name, defaults.protocol, tls)
    }

    /// The protocol flow this configuration describes, built once at ignite.
    pub(crate) fn flow(&self) -> Box<dyn Flow> {
        let mut params: Vec<(String, String)> = self
            .auth_params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self.form_post && !self.auth_params.contains_key("response_mode") {
            params.push(("response_mode".into(), "form_post".into()));
        }
        let client = ClientSettings {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            redirect_uri: self.redirect_uri.clone(),
            auth: self.client_auth,
            scopes: self.scopes.clone(),
            pkce: self.pkce,
            params,
            #[cfg(feature = "apple")]
            signed_secret: self.signed_secret.clone(),
        };
        if let (Some(oauth1), Some(authorize_url)) = (&self.oauth1, &self.authorize_url) {
            return Box::new(OAuth1Flow::new(OAuth1Settings {
                consumer: Consumer {
                    key: self.client_id.clone(),
                    secret: self.client_secret.clone().unwrap_or_default(),
                    method: oauth1.signature_method,
                    rsa_key: oauth1.rsa_key.clone(),
                },
                placement: oauth1.placement,
                callback_url: self.redirect_uri.clone(),
                request_token_url: oauth1.request_token_url.clone(),
                authorize_url: authorize_url.clone(),
                access_token_url: oauth1.access_token_url.clone(),
                userinfo_url: self.userinfo_url.clone(),
                realm: oauth1.realm.clone(),
            }));
        }
        #[cfg(feature = "oidc")]
        if let (Some(oidc), Some(issuer)) = (&self.oidc, &self.issuer) {
            return Box::new(crate::protocol::oidc::OidcFlow::new(
                crate::protocol::oidc::OidcSettings {
                    client,
                    issuer: issuer.clone(),
                    discovery_url: oidc.discovery_url.clone(),
                    authorize_url: self.authorize_url.clone(),
                    token_url: self.token_url.clone(),
                    userinfo_url: self.userinfo_url.clone(),
                    revocation_url: self.revocation_url.clone(),
                    tenants: oidc.tenants.clone(),
                    issuer_aliases: oidc.issuer_aliases.clone(),
                    require_nonce: oidc.require_nonce,
                },
            ));
        }
        // Resolution guarantees both endpoints for OAuth 2 providers.
        let fallback = || self.redirect_uri.clone();
        Box::new(OAuth2Flow::new(
            client,
            Endpoints {
                authorize_url: self.authorize_url.clone().unwrap_or_else(fallback),
                token_url: self.token_url.clone().unwrap_or_else(fallback),
                userinfo_url: self.userinfo_url.clone(),
                issuer: self.issuer.clone(),
                revocation_url: self.revocation_url.clone(),
            },
        ))
    }
}

impl Raw {
    /// Validates the keys every provider takes, then those of `protocol`.
    fn resolve(
        mut self,
        name: &str,
        protocol: Protocol,
        tls: bool,
    ) -> Result<ProviderConfig, ConfigError> {
        let keys = Keys(name);
        self.fill_placeholders(&keys)?;
        let (mut oidc, mut oauth1) = (None, None);
        match protocol {
            Protocol::OAuth2 => {
                self.refuse_oidc_keys(&keys, protocol)?;
                self.refuse_oauth1_keys(&keys, protocol)?;
            }
            Protocol::OpenIdConnect => {
                self.refuse_oauth1_keys(&keys, protocol)?;
                oidc = Some(self.oidc(&keys)?);
            }
            Protocol::OAuth1 => {
                self.refuse_oidc_keys(&keys, protocol)?;
                oauth1 = Some(self.oauth1(&keys)?);
            }
        }
        // OAuth 1.0a names the same keys differently.
        let field = |oauth2: &'static str, oauth1_name: &'static str| match protocol {
            Protocol::OAuth1 => oauth1_name,
            _ => oauth2,
        };
        let client_id = keys.required(self.client_id, field("client_id", "consumer_key"))?;
        // The browser comes back there with the code: https, except on loopback.
        let redirect_field = field("redirect_uri", "callback_url");
        let redirect_uri = keys.endpoint(
            &keys.required(self.redirect_uri, redirect_field)?,
            redirect_field,
        )?;
        let rsa = oauth1
            .as_ref()
            .is_some_and(|o: &OAuth1Config| o.signature_method == SignatureMethod::RsaSha1);
        if protocol == Protocol::OAuth1
            && !rsa
            && self.client_secret.as_ref().is_none_or(Secret::is_empty)
        {
            return Err(keys.missing("consumer_secret"));
        }
        let issuer = non_empty(self.issuer);
        #[cfg(feature = "apple")]
        let signed_secret = Self::signed_secret(
            &keys,
            self.client_secret_jwt.take(),
            self.client_secret.as_ref(),
            &client_id,
            issuer.as_deref(),
        )?;
        #[cfg(not(feature = "apple"))]
        if self.client_secret_jwt.is_some() {
            return Err(keys.invalid(
                "client_secret_jwt",
                "a signed client secret needs rocket_oauth's `apple` feature",
            ));
        }
        // OpenID Connect discovers the endpoints that are not configured.
        let endpoint = |value: Option<String>, field: &str| match non_empty(value) {
            Some(url) => keys.endpoint(&url, field).map(Some),
            None if oidc.is_some() => Ok(None),
            None => Err(keys.missing(field)),
        };
        let authorize_url = endpoint(self.authorize_url, "authorize_url")?;
        let token_url = match protocol {
            Protocol::OAuth1 => None,
            _ => endpoint(self.token_url, "token_url")?,
        };
        let userinfo_url = keys.optional_endpoint(self.userinfo_url, "userinfo_url")?;
        let revocation_url = keys.optional_endpoint(self.revocation_url, "revocation_url")?;
        let api_base_url = keys.optional_endpoint(self.api_base_url, "api_base_url")?;
        let scopes = match self.scopes {
            Scopes::List(list) => list,
            Scopes::Spaced(s) => s.split_whitespace().map(str::to_owned).collect(),
        };
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(keys.invalid("scopes", format!("`{bad}` is not a single scope")));
        }
        let base_path = self.base_path.unwrap_or_else(|| format!("/auth/{name}"));
        let base_path = base_path.trim_end_matches('/').to_owned();
        if !base_path.starts_with('/') || rocket::http::uri::Origin::parse(&base_path).is_err() {
            return Err(keys.invalid(
                "base_path",
                "must be an absolute path such as `/auth/github`",
            ));
        }
        if let Some(param) = self
            .auth_params
            .keys()
            .find(|k| RESERVED_PARAMS.contains(&k.as_str()))
        {
            return Err(keys.invalid(
                "auth_params",
                format!("`{param}` is set by rocket_oauth itself"),
            ));
        }
        // Behind a TLS-terminating proxy Rocket serves plain http, but the browser speaks
        // https: the redirect URI says so.
        let secure_cookies = self
            .secure_cookies
            .unwrap_or(tls || redirect_uri.scheme() == "https");
        let client_secret = self.client_secret.filter(|s| !s.is_empty());
        if !self.pkce && client_secret.is_none() && protocol != Protocol::OAuth1 {
            return Err(keys.invalid(
                "pkce",
                "a public client (no client_secret) needs PKCE: nothing else binds the code to it",
            ));
        }
        let seconds = |value: u64, field: &str| match value {
            0 => Err(keys.invalid(field, "must be at least 1 second")),
            s => Ok(Duration::from_secs(s)),
        };
        Ok(ProviderConfig {
            client_id,
            client_secret,
            redirect_uri,
            protocol,
            authorize_url,
            token_url,
            userinfo_url,
            issuer,
            scopes,
            base_path,
            display_name: non_empty(self.display_name.take()).unwrap_or_else(|| name.to_owned()),
            confirm: self.confirm,
            pkce: self.pkce,
            client_auth: self.client_auth,
            form_post: self.form_post,
            logout_via_get: self.logout_via_get,
            secure_cookies,
            timeout: seconds(self.timeout, "timeout")?,
            connect_timeout: seconds(self.connect_timeout, "connect_timeout")?,
            auth_params: self.auth_params,
            access: self.access,
            revocation_url,
            refresh_skew: Duration::from_secs(self.refresh_skew),
            api_base_url,
            oidc,
            oauth1,
            #[cfg(feature = "apple")]
            signed_secret,
        })
    }

    /// The signed client secret (`client_secret_jwt`), if configured.
    #[cfg(feature = "apple")]
    fn signed_secret(
        keys: &Keys<'_>,
        config: Option<SignedSecretConfig>,
        client_secret: Option<&Secret>,
        client_id: &str,
        issuer: Option<&str>,
    ) -> Result<Option<std::sync::Arc<crate::protocol::signed_secret::SignedSecret>>, ConfigError>
    {
        let Some(config) = config else {
            return Ok(None);
        };
        if client_secret.is_some_and(|s| !s.is_empty()) {
            return Err(keys.invalid(
                "client_secret_jwt",
                "give either `client_secret` or `client_secret_jwt`, not both",
            ));
        }
        let pem = match (config.private_key, config.private_key_file) {
            (Some(key), None) => key.expose().to_owned(),
            (None, Some(file)) => std::fs::read_to_string(&file).map_err(|e| {
                keys.invalid(
                    "client_secret_jwt.private_key_file",
                    format!("`{file}`: {e}"),
                )
            })?,
            _ => {
                return Err(keys.invalid(
                    "client_secret_jwt",
                    "give exactly one of `private_key` and `private_key_file`",
                ))
            }
        };
        let audience = match config.audience.or(issuer.map(str::to_owned)) {
            Some(audience) => audience,
            None => return Err(keys.missing("client_secret_jwt.audience")),
        };
        let signer = crate::protocol::signed_secret::SignedSecret::new(
            config.team_id,
            config.key_id,
            client_id.to_owned(),
            audience,
            &pem,
        )
        .map_err(|e| {
            keys.invalid(
                "client_secret_jwt.private_key",
                format!("not an EC private key that can sign ES256 ({e})"),
            )
        })?;
        Ok(Some(std::sync::Arc::new(signer)))
    }

    /// The OAuth 1.0a keys must not be set on an OAuth 2 or OpenID Connect provider.
    fn refuse_oauth1_keys(&self, keys: &Keys<'_>, protocol: Protocol) -> Result<(), ConfigError> {
        let set = [
            ("request_token_url", self.request_token_url.is_some()),
            ("access_token_url", self.access_token_url.is_some()),
            ("signature_method", self.signature_method.is_some()),
            ("signature_placement", self.signature_placement.is_some()),
            ("private_key", self.private_key.is_some()),
            ("realm", self.realm.is_some()),
        ];
        refuse(keys, protocol, &set)
    }

    /// The OAuth 1.0a keys, validated.
    fn oauth1(&mut self, keys: &Keys<'_>) -> Result<OAuth1Config, ConfigError> {
        let url = |value: Option<String>, field: &str| {
            keys.endpoint(&keys.required(value, field)?, field)
        };
        let request_token_url = url(self.request_token_url.take(), "request_token_url")?;
        let access_token_url = url(self.access_token_url.take(), "access_token_url")?;
        if self.token_url.is_some() {
            return Err(ConfigError::NotApplicable {
                key: keys.key("token_url"),
                protocol: Protocol::OAuth1.name(),
            });
        }
        let signature_method = self.signature_method.unwrap_or_default();
        let plain_http = [&request_token_url, &access_token_url]
            .iter()
            .any(|u| u.scheme() != "https");
        if signature_method == SignatureMethod::Plaintext && plain_http {
            return Err(keys.invalid(
                "signature_method",
                "PLAINTEXT sends the secrets themselves: it needs https endpoints",
            ));
        }
        let rsa_key = match (signature_method, self.private_key.take()) {
            (SignatureMethod::RsaSha1, Some(pem)) => {
                Some(parse_rsa_key(pem.expose()).map_err(|e| {
                    keys.invalid(
                        "private_key",
                        format!("not an RSA private key in PEM ({e})"),
                    )
                })?)
            }
            (SignatureMethod::RsaSha1, None) => return Err(keys.missing("private_key")),
            (_, Some(_)) => {
                return Err(keys.invalid(
                    "private_key",
                    "only used with `signature_method = \"RSA-SHA1\"`",
                ))
            }
            (_, None) => None,
        };
        Ok(OAuth1Config {
            request_token_url,
            access_token_url,
            signature_method,
            placement: self.signature_placement.unwrap_or_default(),
            realm: non_empty(self.realm.take()),
            rsa_key,
        })
    }

    /// Fills `{base_url}`, `{tenant}`, `{realm}`, `{domain}` and `{graph_version}` in the
    /// URLs from the keys of the same names; a placeholder without a value is a missing key.
    fn fill_placeholders(&mut self, keys: &Keys<'_>) -> Result<(), ConfigError> {
        let values: Vec<(&str, Option<String>)> = vec![
            (
                "base_url",
                self.base_url
                    .clone()
                    .map(|b| b.trim_end_matches('/').to_owned()),
            ),
            ("tenant", self.tenant.clone()),
            // OAuth 1.0a's `realm` is not a URL placeholder there.
            (
                "realm",
                self.realm
                    .clone()
                    .filter(|_| self.request_token_url.is_none()),
            ),
            ("domain", self.domain.clone()),
            ("graph_version", self.graph_version.clone()),
        ];
        debug_assert_eq!(values.len(), PLACEHOLDERS.len());
        let fields = [
            &mut self.authorize_url,
            &mut self.token_url,
            &mut self.userinfo_url,
            &mut self.issuer,
            &mut self.revocation_url,
            &mut self.api_base_url,
            &mut self.discovery_url,
            &mut self.request_token_url,
            &mut self.access_token_url,
        ];
        let mut used = Vec::new();
        for url in fields.into_iter().flatten() {
            for (name, value) in &values {
                let placeholder = format!("{{{name}}}");
                if !url.contains(&placeholder) {
                    continue;
                }
                let Some(value) = value else {
                    return Err(keys.missing(name));
                };
                if value.is_empty() || value.contains(['{', '}', '?', '#', ' ']) {
                    return Err(keys.invalid(name, "must be a host, path segment or URL"));
                }
                *url = url.replace(&placeholder, value);
                used.push(*name);
            }
        }
        // Keycloak's realm filled a URL: it is not OAuth 1.0a's `realm`. (A placeholder no
        // URL uses, e.g. a default whose URLs were all overridden, is ignored.)
        if used.contains(&"realm") {
            self.realm = None;
        }
        Ok(())
    }

    /// The OpenID Connect keys must not be set on other providers.
    fn refuse_oidc_keys(&self, keys: &Keys<'_>, protocol: Protocol) -> Result<(), ConfigError> {
        let set = [
            ("discovery_url", self.discovery_url.is_some()),
            ("tenants", self.tenants.is_some()),
            ("issuer_aliases", self.issuer_aliases.is_some()),
            ("require_nonce", self.require_nonce.is_some()),
            ("discover_at_launch", self.discover_at_launch.is_some()),
            ("provider_logout", self.provider_logout.is_some()),
            (
                "post_logout_redirect_uri",
                self.post_logout_redirect_uri.is_some(),
            ),
        ];
        refuse(keys, protocol, &set)
    }

    /// The OpenID Connect keys, validated; `issuer` is required.
    #[cfg(feature = "oidc")]
    fn oidc(&mut self, keys: &Keys<'_>) -> Result<OidcConfig, ConfigError> {
        use crate::protocol::oidc::TENANT_PLACEHOLDER;
        let issuer = keys.required(self.issuer.clone(), "issuer")?;
        keys.endpoint(&issuer.replace(TENANT_PLACEHOLDER, "tenant"), "issuer")?;
        let tenants = self.tenants.take().unwrap_or_default();
        if let Some(tenant) = tenants.iter().find(|t| {
            t.is_empty()
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }) {
            return Err(keys.invalid(
                "tenants",
                format!("`{tenant}` is not a tenant id or domain"),
            ));
        }
        let discovery_url = keys.optional_endpoint(self.discovery_url.take(), "discovery_url")?;
        if issuer.contains(TENANT_PLACEHOLDER) {
            if tenants.is_empty() {
                return Err(keys.missing("tenants"));
            }
            if discovery_url.is_none() {
                return Err(keys.missing("discovery_url"));
            }
        }
        Ok(OidcConfig {
            discovery_url,
            tenants,
            issuer_aliases: self.issuer_aliases.take().unwrap_or_default(),
            require_nonce: self.require_nonce.unwrap_or(true),
            discover_at_launch: self.discover_at_launch.unwrap_or(false),
            provider_logout: self.provider_logout.unwrap_or(false),
            post_logout_redirect_uri: non_empty(self.post_logout_redirect_uri.take())
                .map(|u| keys.url(&u, "post_logout_redirect_uri"))
                .transpose()?,
        })
    }

    #[cfg(not(feature = "oidc"))]
    fn oidc(&mut self, keys: &Keys<'_>) -> Result<OidcConfig, ConfigError> {
        Err(keys.invalid(
            "issuer",
            "OpenID Connect providers need rocket_oauth's `oidc` feature",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figment_errors_name_the_full_key_once() {
        let defaults = ProviderDefaults::oauth2("https://p.example/a", "https://p.example/t");
        let cases = [
            (
                r#"{"client_id": 5, "redirect_uri": "http://127.0.0.1/cb"}"#,
                "oauth.gh.client_id",
                "expected a string",
            ),
            (
                r#"{"client_id": "x", "redirect_uri": "http://127.0.0.1/cb", "scopez": 1}"#,
                "oauth.gh.scopez",
                "unknown key",
            ),
            (
                r#"{"client_id": "x", "redirect_uri": "http://127.0.0.1/cb", "access": {"policy": 3}}"#,
                "oauth.gh.access.policy",
                "",
            ),
        ];
        for (json, key, reason) in cases {
            let figment = Figment::new().merge(rocket::figment::providers::Serialized::default(
                "oauth.gh",
                serde_json::from_str::<serde_json::Value>(json).unwrap(),
            ));
            let err = ProviderConfig::from_figment(&figment, "gh", &defaults, false).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("invalid configuration key `{key}`: ")),
                "{text}"
            );
            assert!(text.contains(reason), "{text}");
            assert!(!text.contains("``") && !text.contains("GH"), "{text}");
        }
        let figment = Figment::new().merge(rocket::figment::providers::Serialized::default(
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

    const DEFAULTS: ProviderDefaults =
        ProviderDefaults::oauth2("https://p.example/authorize", "https://p.example/token");

    fn resolve(json: &str, defaults: &ProviderDefaults) -> Result<ProviderConfig, ConfigError> {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let figment = Figment::from(Serialized::default("oauth.p", value));
        ProviderConfig::from_figment(&figment, "p", defaults, false)
    }

    #[test]
    fn names_missing_and_invalid_keys() {
        let err = resolve("{}", &DEFAULTS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.client_id`"
        );
        let err = resolve(r#"{"client_id":"x"}"#, &DEFAULTS).unwrap_err();
        assert!(err.to_string().contains("oauth.p.redirect_uri"), "{err}");
        let err = resolve(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","token_url":"http://evil.example/t"}"#,
            &DEFAULTS,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`oauth.p.token_url`"), "{err}");
        let err = resolve(r#"{"client_idd":"x"}"#, &DEFAULTS).unwrap_err();
        assert!(err.to_string().contains("client_idd"), "{err}");
        let err = resolve(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb"}"#,
            &ProviderDefaults::oauth2_from_config(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.authorize_url`"
        );
    }

    #[test]
    fn overrides_and_scopes() {
        let config = resolve(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback",
                "token_url":"http://127.0.0.1:9/token","scopes":"a b"}"#,
            &DEFAULTS,
        )
        .unwrap();
        assert_eq!(
            config.token_url.unwrap().as_str(),
            "http://127.0.0.1:9/token"
        );
        assert_eq!(
            config.authorize_url.unwrap().as_str(),
            "https://p.example/authorize"
        );
        assert_eq!(config.scopes, ["a", "b"]);
        assert_eq!(config.base_path, "/auth/p");
        assert!(config.pkce && config.oidc.is_none());
        let defaults = DEFAULTS.scopes(&["x"]).pkce(false);
        let config = resolve(
            r#"{"client_id":"x","client_secret":"s","redirect_uri":"http://localhost/cb"}"#,
            &defaults,
        );
        let config = config.unwrap();
        assert_eq!(config.scopes, ["x"]);
        assert!(!config.pkce);
    }

    #[test]
    fn redirect_uri_decides_secure_cookies_and_must_be_https_off_loopback() {
        let base = r#""client_id":"x","client_secret":"s""#;
        let err = resolve(
            &format!(r#"{{{base},"redirect_uri":"http://app.example/cb"}}"#),
            &DEFAULTS,
        )
        .unwrap_err();
        assert!(err.to_string().contains("oauth.p.redirect_uri"), "{err}");
        let https = resolve(
            &format!(r#"{{{base},"redirect_uri":"https://app.example/cb"}}"#),
            &DEFAULTS,
        );
        assert!(https.unwrap().secure_cookies);
        let local = resolve(
            &format!(r#"{{{base},"redirect_uri":"http://127.0.0.1/cb"}}"#),
            &DEFAULTS,
        );
        assert!(!local.unwrap().secure_cookies);
    }

    #[test]
    fn a_public_client_needs_pkce() {
        let err = resolve(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","pkce":false}"#,
            &DEFAULTS,
        )
        .unwrap_err();
        assert!(err.to_string().contains("oauth.p.pkce"), "{err}");
    }

    #[test]
    fn oauth1_keys_are_validated() {
        let oauth1 = ProviderDefaults::oauth1(
            "https://p.example/request",
            "https://p.example/authorize",
            "https://p.example/access",
        );
        let base = r#""consumer_key":"k","callback_url":"http://127.0.0.1/cb""#;
        let err = |extra: &str| {
            resolve(&format!("{{{base}{extra}}}"), &oauth1)
                .unwrap_err()
                .to_string()
        };
        assert!(err("").contains("oauth.p.consumer_secret"));
        let secret = r#","consumer_secret":"s""#;
        assert!(
            err(&format!(r#"{secret},"token_url":"https://p.example/t""#))
                .contains("oauth.p.token_url")
        );
        assert!(err(r#","signature_method":"RSA-SHA1""#).contains("oauth.p.private_key"));
        assert!(
            err(r#","signature_method":"RSA-SHA1","private_key":"not a key""#)
                .contains("oauth.p.private_key")
        );
        let config = resolve(&format!("{{{base}{secret}}}"), &oauth1).unwrap();
        let oauth1_config = config.oauth1.unwrap();
        assert_eq!(oauth1_config.signature_method, SignatureMethod::HmacSha1);
        assert_eq!(config.client_id, "k");
        let err = resolve(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","request_token_url":"https://p.example/r"}"#,
            &DEFAULTS,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("oauth.p.request_token_url"),
            "{err}"
        );
    }

    #[test]
    fn keys_of_another_protocol_are_refused() {
        let err = resolve(
            r#"{"client_id":"x","redirect_uri":"http://a/cb","tenants":["t"]}"#,
            &DEFAULTS,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration key `oauth.p.tenants` does not apply to OAuth 2 providers"
        );
    }

    #[cfg(feature = "oidc")]
    #[test]
    fn oidc_needs_an_issuer_and_tenants_for_templates() {
        let oidc = ProviderDefaults::oidc_from_config();
        let base = r#""client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback""#;
        let err = resolve(&format!("{{{base}}}"), &oidc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.issuer`"
        );
        let config = resolve(
            &format!(r#"{{{base},"issuer":"https://idp.example"}}"#),
            &oidc,
        )
        .unwrap();
        assert!(config.authorize_url.is_none() && config.token_url.is_none());
        assert!(config.oidc.unwrap().require_nonce);
        let ms = r#""issuer":"https://login.microsoftonline.com/{tenantid}/v2.0""#;
        let err = resolve(&format!("{{{base},{ms}}}"), &oidc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.tenants`"
        );
        let tenants = r#""tenants":["9188040d-6c67-4c5b-b112-36a304b66dad"]"#;
        let err = resolve(&format!("{{{base},{ms},{tenants}}}"), &oidc).unwrap_err();
        assert!(err.to_string().contains("oauth.p.discovery_url"), "{err}");
        let url = r#""discovery_url":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration""#;
        resolve(&format!("{{{base},{ms},{tenants},{url}}}"), &oidc).unwrap();
    }
}
