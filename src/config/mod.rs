//! Per-provider configuration, in the manner of `rocket_db_pools`: the provider's defaults
//! are a figment layer under `oauth.<name>`, the application's configuration overrides them,
//! and the result ([`ProviderConfig`]) is validated for the provider's protocol
//! ([`ProtocolConfig`]); who may log in is [`AccessConfig`]. Guards read a provider's
//! resolved configuration and endpoints with
//! [`ProviderInfo`](crate::guards::ProviderInfo).
//!
//! Inside: the keys every provider takes are read here; each protocol's own keys are
//! declared once, as the fields of its `*Keys` struct (`config/oidc.rs`, `config/oauth1.rs`),
//! and refused by name on the other protocols; URL placeholders are the provider's own.

mod apple;
mod keys;
mod oauth1;
mod oidc;
mod placeholders;
#[cfg(feature = "oidc")]
mod resource;
mod sender;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use rocket::figment::providers::Serialized;
use rocket::figment::value::Value;
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

pub(crate) use self::keys::figment_error;
pub(crate) use self::keys::Keys;
use self::keys::{fields, non_empty, Scopes};
pub use self::oauth1::OAuth1Config;
use self::oauth1::OAuth1Keys;
pub use self::oidc::OidcConfig;
use self::oidc::OidcKeys;
use self::placeholders::Placeholders;
#[cfg(feature = "oidc")]
pub use self::resource::{ResourceConfig, TokenFormat};
use self::sender::SenderKeys;
pub use self::sender::{AssertionAudience, SenderConfig};
pub use crate::access::{AccessConfig, Policy, Rule};
use crate::error::ConfigError;
use crate::protocol::build::FlowSettings;
pub use crate::protocol::flow::ProviderEndpoints;
pub use crate::protocol::oauth1::SignatureMethod;
pub use crate::protocol::oauth1::SignaturePlacement;
use crate::protocol::oauth1::{Consumer, OAuth1Settings};
pub use crate::protocol::oauth2::ClientAuth;
use crate::protocol::oauth2::{ClientSettings, Endpoints};
pub use crate::provider::Protocol;
use crate::provider::ProviderDefaults;
use crate::secret::Secret;

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
/// # use rocket_oauth::config::ProviderConfig;
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
    /// The protocol, with the keys only it takes (from the provider's definition).
    pub protocol: ProtocolConfig,
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
    /// Show the success page after every login, also one with a `next`: its Continue link
    /// leads there. _Default:_ `false` (a login with a `next` goes straight there; one
    /// without shows the page).
    pub success_page: bool,
    /// The success page continues to `next` (or `/`) by itself after this many seconds.
    /// _Default:_ none (the user follows the link).
    pub success_continue_after: Option<Duration>,
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
    /// The RFC 8628 device authorization endpoint, for [`ApiHandle::start_device_flow`](crate::api::ApiHandle::start_device_flow).
    /// _Default:_ for OpenID Connect, the discovered `device_authorization_endpoint`; else
    /// none.
    pub device_authorization_url: Option<Url>,
    /// An access token this close to its expiry is refreshed before use, in seconds.
    /// _Default:_ `5`.
    pub refresh_skew: Duration,
    /// The base of relative URLs given to [`ApiClient`](crate::ApiClient).
    /// _Default:_ none.
    pub api_base_url: Option<Url>,
    /// Other origins [`ApiClient`](crate::ApiClient) may send the user's credentials to
    /// (`https`, or `http` on loopback), besides those of `api_base_url`, `userinfo_url` and
    /// `issuer`: e.g. `["https://uploads.github.com"]`. _Default:_ none.
    pub api_origins: Vec<Url>,
    /// The most parameters a callback may carry; more are refused (`400`) before anything
    /// is decoded. Providers send fewer than ten. _Default:_ `32`.
    pub max_callback_params: usize,
    /// Client assertions, DPoP and pushed authorization requests.
    pub sender: SenderConfig,
    /// The signed client secret (`client_secret_jwt`, feature `apple`).
    #[cfg(feature = "apple")]
    pub(crate) signed_secret: Option<std::sync::Arc<crate::protocol::signed_secret::SignedSecret>>,
}

/// A provider's protocol, with the keys only that protocol takes: an OAuth 2 provider has no
/// OpenID Connect keys, an OAuth 1.0a provider no OAuth 2 ones.
///
/// ```rust
/// use rocket_oauth::config::{ProtocolConfig, ProviderConfig};
///
/// fn logs_out_at_the_provider(config: &ProviderConfig) -> bool {
///     matches!(&config.protocol, ProtocolConfig::Oidc(oidc) if oidc.provider_logout)
/// }
/// ```
// One per provider, built at ignite: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProtocolConfig {
    /// OAuth 2.0 (authorization code, PKCE).
    OAuth2,
    /// OpenID Connect, with its keys.
    Oidc(OidcConfig),
    /// OAuth 1.0a, with its keys.
    OAuth1(OAuth1Config),
}

impl ProtocolConfig {
    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        match self {
            ProtocolConfig::OAuth2 => Protocol::OAuth2,
            ProtocolConfig::Oidc(_) => Protocol::OpenIdConnect,
            ProtocolConfig::OAuth1(_) => Protocol::OAuth1,
        }
    }

    /// The OpenID Connect keys, for an OpenID Connect provider.
    pub fn oidc(&self) -> Option<&OidcConfig> {
        match self {
            ProtocolConfig::Oidc(oidc) => Some(oidc),
            _ => None,
        }
    }

    /// The OAuth 1.0a keys, for an OAuth 1.0a provider.
    pub fn oauth1(&self) -> Option<&OAuth1Config> {
        match self {
            ProtocolConfig::OAuth1(oauth1) => Some(oauth1),
            _ => None,
        }
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

/// The keys every provider takes, with the defaults layer under them; the rest (each
/// protocol's own keys, the provider's placeholders) is checked by name.
#[derive(Debug, Default, Deserialize)]
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
    #[serde(default)]
    success_page: bool,
    success_continue_after: Option<u64>,
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
    device_authorization_url: Option<String>,
    #[serde(default = "five")]
    refresh_skew: u64,
    api_base_url: Option<String>,
    #[serde(default)]
    api_origins: Vec<String>,
    #[serde(default = "thirty_two")]
    max_callback_params: usize,

    client_secret_jwt: Option<apple::SignedSecretConfig>,
    /// Every other key: a protocol's own, a placeholder, or unknown.
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
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
fn thirty_two() -> usize {
    32
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

impl ProviderConfig {
    /// Reads `oauth.<name>` from `figment` over the provider's `defaults` and validates it;
    /// `tls`: whether Rocket serves TLS.
    pub(crate) fn from_figment(
        figment: &Figment,
        name: &str,
        defaults: &ProviderDefaults,
        tls: bool,
    ) -> Result<Self, ConfigError> {
        let table = format!("oauth.{name}");
        Self::from_table(
            figment,
            Keys {
                table: &table,
                name,
            },
            defaults,
            tls,
        )
    }

    /// Reads the provider's table (`keys.table`) from `figment` over its `defaults`.
    pub(crate) fn from_table(
        figment: &Figment,
        keys: Keys<'_>,
        defaults: &ProviderDefaults,
        tls: bool,
    ) -> Result<Self, ConfigError> {
        let key = keys.table;
        let layered = figment
            .clone()
            .join(Serialized::default(key, DefaultsLayer::from(defaults)));
        let extract = |error| figment_error(key, error);
        let mut raw: Raw = layered.extract_inner(key).map_err(extract)?;
        let placeholders = Placeholders::read(defaults.placeholders, &raw.rest, &keys)?;
        raw.check_keys(&keys, defaults.protocol, &placeholders)?;
        for url in [
            &mut raw.authorize_url,
            &mut raw.token_url,
            &mut raw.userinfo_url,
            &mut raw.issuer,
            &mut raw.revocation_url,
            &mut raw.device_authorization_url,
            &mut raw.api_base_url,
        ] {
            *url = placeholders.fill(url.take(), &keys)?;
        }
        let protocol = match defaults.protocol {
            Protocol::OAuth2 => ProtocolConfig::OAuth2,
            Protocol::OpenIdConnect => {
                let oidc: OidcKeys = layered.extract_inner(key).map_err(extract)?;
                let issuer = non_empty(raw.issuer.clone());
                ProtocolConfig::Oidc(oidc.resolve(&keys, issuer.as_deref(), &placeholders)?)
            }
            Protocol::OAuth1 => {
                let oauth1: OAuth1Keys = layered.extract_inner(key).map_err(extract)?;
                ProtocolConfig::OAuth1(oauth1.resolve(&keys, &placeholders)?)
            }
        };
        let sender: SenderKeys = layered.extract_inner(key).map_err(extract)?;
        raw.resolve(&keys, protocol, tls, sender)
    }

    /// The protocol's settings for its flow, built once at ignite.
    pub(crate) fn flow_settings(&self) -> FlowSettings {
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
            assertion: self.sender.assertion.clone(),
            dpop: self.sender.dpop,
            par: self.sender.par,
        };
        // Resolution guarantees the endpoints each protocol needs.
        let fallback = || self.redirect_uri.clone();
        match &self.protocol {
            ProtocolConfig::OAuth1(oauth1) => FlowSettings::OAuth1(OAuth1Settings {
                consumer: Consumer {
                    key: self.client_id.clone(),
                    secret: self.client_secret.clone().unwrap_or_default(),
                    method: oauth1.signature_method,
                    rsa_key: oauth1.rsa_key.clone(),
                },
                placement: oauth1.placement,
                callback_url: self.redirect_uri.clone(),
                request_token_url: oauth1.request_token_url.clone(),
                authorize_url: self.authorize_url.clone().unwrap_or_else(fallback),
                access_token_url: oauth1.access_token_url.clone(),
                userinfo_url: self.userinfo_url.clone(),
                realm: oauth1.realm.clone(),
            }),
            #[cfg(feature = "oidc")]
            ProtocolConfig::Oidc(oidc) => FlowSettings::Oidc(crate::protocol::oidc::OidcSettings {
                client,
                issuer: self.issuer.clone().unwrap_or_default(),
                discovery_url: oidc.discovery_url.clone(),
                authorize_url: self.authorize_url.clone(),
                token_url: self.token_url.clone(),
                userinfo_url: self.userinfo_url.clone(),
                revocation_url: self.revocation_url.clone(),
                device_authorization_url: self.device_authorization_url.clone(),
                tenants: oidc.tenants.clone(),
                issuer_aliases: oidc.issuer_aliases.clone(),
                require_nonce: oidc.require_nonce,
                backchannel_logout: oidc.backchannel_logout,
                par_url: self.sender.par_url.clone(),
            }),
            _ => FlowSettings::OAuth2(
                client,
                Endpoints {
                    authorize_url: self.authorize_url.clone().unwrap_or_else(fallback),
                    token_url: self.token_url.clone().unwrap_or_else(fallback),
                    userinfo_url: self.userinfo_url.clone(),
                    issuer: self.issuer.clone(),
                    revocation_url: self.revocation_url.clone(),
                    device_authorization_url: self.device_authorization_url.clone(),
                    par_url: self.sender.par_url.clone(),
                    par_required: false,
                    issuer_id: self.issuer.clone(),
                },
            ),
        }
    }
}

impl Raw {
    /// Refuses unknown keys, and keys of another protocol (each protocol's keys are the
    /// fields of its `*Keys` struct); a placeholder the provider declares is its own key.
    fn check_keys(
        &self,
        keys: &Keys<'_>,
        protocol: Protocol,
        placeholders: &Placeholders,
    ) -> Result<(), ConfigError> {
        let oidc = fields::<OidcKeys>();
        let oauth1 = fields::<OAuth1Keys>();
        let sender = fields::<SenderKeys>();
        let token_url =
            (protocol == Protocol::OAuth1 && self.token_url.is_some()).then_some("token_url");
        for key in token_url
            .into_iter()
            .chain(self.rest.keys().map(String::as_str))
        {
            if placeholders.declares(key) {
                continue;
            }
            if key == "protocol" {
                // Listed providers choose theirs; a typed provider's is its own.
                let said = self.rest.get(key).and_then(Value::as_str);
                if said != Some(protocol.key()) {
                    return Err(
                        keys.invalid(key, format!("this provider speaks `{}`", protocol.key()))
                    );
                }
                continue;
            }
            let foreign = match protocol {
                Protocol::OAuth2 => oidc.contains(&key) || oauth1.contains(&key),
                Protocol::OpenIdConnect => oauth1.contains(&key),
                Protocol::OAuth1 => {
                    oidc.contains(&key) || sender.contains(&key) || key == "token_url"
                }
            };
            if foreign {
                return Err(ConfigError::NotApplicable {
                    key: keys.key(key),
                    protocol: protocol.name(),
                });
            }
            if !oidc.contains(&key) && !oauth1.contains(&key) && !sender.contains(&key) {
                return Err(keys.invalid(key, "unknown key"));
            }
        }
        Ok(())
    }

    /// Validates the keys every provider takes.
    fn resolve(
        mut self,
        keys: &Keys<'_>,
        protocol: ProtocolConfig,
        tls: bool,
        sender: SenderKeys,
    ) -> Result<ProviderConfig, ConfigError> {
        let kind = protocol.protocol();
        let (client_id, client_secret, redirect_uri) = self.client(keys, &protocol)?;
        let discovered = matches!(protocol, ProtocolConfig::Oidc(_));
        let sender = sender.resolve(keys, self.client_auth, client_secret.as_ref(), discovered)?;
        let issuer = non_empty(self.issuer.take());
        #[cfg(feature = "apple")]
        let signed_secret = self.signed_secret(keys, &client_id, &client_secret, &issuer)?;
        #[cfg(not(feature = "apple"))]
        apple::refuse(keys, self.client_secret_jwt.as_ref())?;
        // OpenID Connect discovers the endpoints that are not configured; OAuth 1.0a has
        // its own token endpoints.
        let endpoint = |value: Option<String>, field: &str| match non_empty(value) {
            Some(url) => keys.endpoint(&url, field).map(Some),
            None if discovered => Ok(None),
            None => Err(keys.missing(field)),
        };
        let authorize_url = endpoint(self.authorize_url.take(), "authorize_url")?;
        let token_url = match kind {
            Protocol::OAuth1 => None,
            _ => endpoint(self.token_url.take(), "token_url")?,
        };
        let scopes = self.scopes(keys)?;
        let base_path = self.base_path(keys)?;
        // Behind a TLS-terminating proxy Rocket serves plain http, but the browser speaks
        // https: the redirect URI says so.
        let secure_cookies = self
            .secure_cookies
            .unwrap_or(tls || redirect_uri.scheme() == "https");
        let api_origins = self.api_origins(keys)?;
        let (max_callback_params, success_continue_after) = self.bounds(keys)?;
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
            userinfo_url: keys.optional_endpoint(self.userinfo_url, "userinfo_url")?,
            issuer,
            scopes,
            base_path,
            display_name: non_empty(self.display_name).unwrap_or_else(|| keys.name.to_owned()),
            confirm: self.confirm,
            success_page: self.success_page,
            success_continue_after,
            pkce: self.pkce,
            client_auth: self.client_auth,
            form_post: self.form_post,
            logout_via_get: self.logout_via_get,
            secure_cookies,
            timeout: seconds(self.timeout, "timeout")?,
            connect_timeout: seconds(self.connect_timeout, "connect_timeout")?,
            auth_params: self.auth_params,
            access: self.access,
            revocation_url: keys.optional_endpoint(self.revocation_url, "revocation_url")?,
            device_authorization_url: keys
                .optional_endpoint(self.device_authorization_url, "device_authorization_url")?,
            refresh_skew: Duration::from_secs(self.refresh_skew),
            api_base_url: keys.optional_endpoint(self.api_base_url, "api_base_url")?,
            api_origins,
            max_callback_params,
            sender,
            #[cfg(feature = "apple")]
            signed_secret,
        })
    }

    /// Sign in with Apple's signed client secret, if configured.
    #[cfg(feature = "apple")]
    fn signed_secret(
        &mut self,
        keys: &Keys<'_>,
        client_id: &str,
        client_secret: &Option<Secret>,
        issuer: &Option<String>,
    ) -> Result<Option<std::sync::Arc<crate::protocol::signed_secret::SignedSecret>>, ConfigError>
    {
        apple::signed_secret(
            keys,
            self.client_secret_jwt.take(),
            client_secret.as_ref(),
            client_id,
            issuer.as_deref(),
        )
    }

    /// `max_callback_params` and `success_continue_after`, checked.
    fn bounds(&self, keys: &Keys<'_>) -> Result<(usize, Option<Duration>), ConfigError> {
        if self.max_callback_params == 0 {
            return Err(keys.invalid("max_callback_params", "must be at least 1"));
        }
        let continue_after = match self.success_continue_after {
            Some(0) => {
                return Err(keys.invalid("success_continue_after", "must be at least 1 second"))
            }
            seconds => seconds.map(Duration::from_secs),
        };
        Ok((self.max_callback_params, continue_after))
    }

    /// The client's id, secret and redirect URI (OAuth 1.0a names them differently).
    fn client(
        &mut self,
        keys: &Keys<'_>,
        protocol: &ProtocolConfig,
    ) -> Result<(String, Option<Secret>, Url), ConfigError> {
        let oauth1 = protocol.oauth1();
        let field = |oauth2: &'static str, oauth1_name: &'static str| match oauth1 {
            Some(_) => oauth1_name,
            None => oauth2,
        };
        let client_id = keys.required(self.client_id.take(), field("client_id", "consumer_key"))?;
        // The browser comes back there with the code: https, except on loopback.
        let redirect_field = field("redirect_uri", "callback_url");
        let redirect_uri = keys.endpoint(
            &keys.required(self.redirect_uri.take(), redirect_field)?,
            redirect_field,
        )?;
        let client_secret = self.client_secret.take().filter(|s| !s.is_empty());
        match oauth1 {
            Some(o)
                if o.signature_method != SignatureMethod::RsaSha1 && client_secret.is_none() =>
            {
                return Err(keys.missing("consumer_secret"));
            }
            None if !self.pkce && client_secret.is_none() && !self.client_auth.by_assertion() => {
                return Err(keys.invalid(
                    "pkce",
                    "a public client (no client_secret) needs PKCE: nothing else binds the code to it",
                ));
            }
            _ => {}
        }
        Ok((client_id, client_secret, redirect_uri))
    }

    /// The scopes: a list, or one space-separated string.
    fn scopes(&mut self, keys: &Keys<'_>) -> Result<Vec<String>, ConfigError> {
        let scopes = match std::mem::take(&mut self.scopes) {
            Scopes::List(list) => list,
            Scopes::Spaced(s) => s.split_whitespace().map(str::to_owned).collect(),
        };
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(keys.invalid("scopes", format!("`{bad}` is not a single scope")));
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
        Ok(scopes)
    }

    /// The other origins the API client may call.
    fn api_origins(&self, keys: &Keys<'_>) -> Result<Vec<Url>, ConfigError> {
        self.api_origins
            .iter()
            .map(|origin| keys.endpoint(origin, "api_origins"))
            .collect()
    }

    /// Where the routes are mounted.
    fn base_path(&mut self, keys: &Keys<'_>) -> Result<String, ConfigError> {
        let base_path = self
            .base_path
            .take()
            .unwrap_or_else(|| format!("/auth/{}", keys.name));
        let base_path = base_path.trim_end_matches('/').to_owned();
        if !base_path.starts_with('/') || rocket::http::uri::Origin::parse(&base_path).is_err() {
            return Err(keys.invalid(
                "base_path",
                "must be an absolute path such as `/auth/github`",
            ));
        }
        Ok(base_path)
    }
}
