//! Per-provider configuration, read from `oauth.<name>` in Rocket's figment.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::access::AccessConfig;
use crate::error::ConfigError;
use crate::oauth2::ClientAuth;
use crate::provider::{Protocol, ProviderDefaults};

/// A provider's resolved configuration: the attributes' defaults overridden by `oauth.<name>`.
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
/// The fairing resolves it at ignite, where a missing or invalid key stops the launch with
/// a [`ConfigError`] naming it. Its `Debug` output never shows the secret:
///
/// ```rust
/// # use rocket_oauth::ProviderConfig;
/// fn describe(config: &ProviderConfig) -> String {
///     format!("{} comes back to {}", config.client_id, config.redirect_uri)
/// }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The client identifier issued by the provider. _Required._
    pub client_id: String,
    /// The client secret issued by the provider; absent for public clients (PKCE only).
    /// Never logged. _Default:_ none.
    pub client_secret: Option<String>,
    /// The absolute callback URL registered at the provider; its path should be
    /// `<base_path>/callback`. Taken from configuration, never derived from the request, so
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
    /// access token. _Default:_ the provider's attribute, or none.
    pub userinfo_url: Option<Url>,
    /// The provider's issuer identifier. For OpenID Connect it is required: discovery reads
    /// `<issuer>/.well-known/openid-configuration` and ID tokens must carry it. For OAuth 2 it
    /// is compared with an RFC 9207 `iss` callback parameter. A `{tenantid}` placeholder
    /// (Microsoft's multi-tenant issuer) is filled from the ID token's `tid`, which must be
    /// in `tenants`. _Default:_ the provider's attribute, or none (then `iss` is ignored).
    pub issuer: Option<String>,
    /// Where the discovery document is. _Default:_
    /// `<issuer>/.well-known/openid-configuration` (give it for a `{tenantid}` issuer, e.g.
    /// Microsoft's `https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration`).
    pub discovery_url: Option<Url>,
    /// Tenants allowed by a `{tenantid}` issuer. _Default:_ none.
    pub tenants: Vec<String>,
    /// Other exact `iss` values the issuer uses in ID tokens, e.g. a trailing-slash variant.
    /// They must be URLs: the `openidconnect` crate parses `iss` as one, so a bare host
    /// such as Google's legacy `accounts.google.com` cannot be accepted. _Default:_ none.
    pub issuer_aliases: Vec<String>,
    /// Require the `nonce` claim in ID tokens. Turn off only for providers that never send
    /// one (LinkedIn); a nonce that is present must still match. _Default:_ `true`.
    pub require_nonce: bool,
    /// Who may log in and which roles they get (see [`AccessConfig`]).
    /// _Default:_ everyone, no roles.
    pub access: AccessConfig,
    /// On logout, also end the session at the provider when its discovery document has an
    /// `end_session_endpoint`. _Default:_ `false`.
    pub provider_logout: bool,
    /// Where the provider sends the browser after `provider_logout` (registered at the
    /// provider). _Default:_ none.
    pub post_logout_redirect_uri: Option<Url>,
    /// The scopes requested at login: a list or one space-separated string.
    /// _Default:_ the provider's attribute, or none.
    pub scopes: Vec<String>,
    /// Where the fairing mounts `login`, `callback`, `logout` and `check`.
    /// _Default:_ `/auth/<name>`.
    pub base_path: String,
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
    /// Mark cookies `Secure`. _Default:_ `true` when Rocket serves TLS, else `false`; set it
    /// to `true` behind a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// Total time allowed for each call to the provider, in seconds. _Default:_ `10`.
    pub timeout: Duration,
    /// Time allowed to connect to the provider, in seconds. _Default:_ `5`.
    pub connect_timeout: Duration,
    /// Extra parameters for the authorization URL (e.g. `prompt = "consent"`).
    /// _Default:_ none.
    pub auth_params: BTreeMap<String, String>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("protocol", &self.protocol)
            .field(
                "authorize_url",
                &self.authorize_url.as_ref().map(Url::as_str),
            )
            .field("token_url", &self.token_url.as_ref().map(Url::as_str))
            .field("userinfo_url", &self.userinfo_url.as_ref().map(Url::as_str))
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .field("base_path", &self.base_path)
            .finish_non_exhaustive()
    }
}

/// `oauth.<name>` as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    issuer: Option<String>,
    scopes: Option<Scopes>,
    base_path: Option<String>,
    confirm: Option<bool>,
    pkce: Option<bool>,
    client_auth: Option<ClientAuth>,
    form_post: Option<bool>,
    logout_via_get: Option<bool>,
    secure_cookies: Option<bool>,
    timeout: Option<u64>,
    connect_timeout: Option<u64>,
    #[serde(default)]
    auth_params: BTreeMap<String, String>,
    discovery_url: Option<String>,
    #[serde(default)]
    tenants: Vec<String>,
    #[serde(default)]
    issuer_aliases: Vec<String>,
    require_nonce: Option<bool>,
    #[serde(default)]
    access: AccessConfig,
    provider_logout: Option<bool>,
    post_logout_redirect_uri: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

impl RawConfig {
    /// Applies `defaults` and validates, naming the offending key on error.
    pub(crate) fn resolve(
        self,
        name: &str,
        defaults: &ProviderDefaults,
        tls: bool,
    ) -> Result<ProviderConfig, ConfigError> {
        let key = |field: &str| format!("oauth.{name}.{field}");
        let required = |value: Option<String>, field: &str| {
            value
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError::Missing { key: key(field) })
        };
        let endpoint = |value: String, field: &str| parse_endpoint(&value, &key(field));

        let client_id = required(self.client_id, "client_id")?;
        let redirect_uri = parse_url(
            &required(self.redirect_uri, "redirect_uri")?,
            &key("redirect_uri"),
        )?;
        let oidc = defaults.protocol == Protocol::OpenIdConnect;
        let issuer = self
            .issuer
            .or_else(|| defaults.issuer.map(Into::into))
            .filter(|i| !i.is_empty());
        let issuer = match issuer {
            Some(issuer) if oidc => {
                let checkable = issuer.replace(crate::oidc::TENANT_PLACEHOLDER, "tenant");
                parse_endpoint(&checkable, &key("issuer"))?;
                Some(issuer)
            }
            None if oidc => return Err(ConfigError::Missing { key: key("issuer") }),
            other => other,
        };
        // OpenID Connect discovers the endpoints that are not configured.
        let url_key = |value: Option<String>, default: Option<&str>, field: &str| match value
            .or(default.map(Into::into))
            .filter(|v| !v.is_empty())
        {
            Some(url) => endpoint(url, field).map(Some),
            None if oidc => Ok(None),
            None => Err(ConfigError::Missing { key: key(field) }),
        };
        let authorize_url = url_key(self.authorize_url, defaults.authorize_url, "authorize_url")?;
        let token_url = url_key(self.token_url, defaults.token_url, "token_url")?;
        if let Some(tenant) = self.tenants.iter().find(|t| {
            t.is_empty()
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }) {
            return Err(ConfigError::Invalid {
                key: key("tenants"),
                reason: format!("`{tenant}` is not a tenant id or domain"),
            });
        }
        if issuer
            .as_deref()
            .is_some_and(|i| i.contains(crate::oidc::TENANT_PLACEHOLDER))
            && self.tenants.is_empty()
        {
            return Err(ConfigError::Missing {
                key: key("tenants"),
            });
        }
        let discovery_url = self
            .discovery_url
            .map(|u| endpoint(u, "discovery_url"))
            .transpose()?;
        if discovery_url.is_none()
            && issuer
                .as_deref()
                .is_some_and(|i| i.contains(crate::oidc::TENANT_PLACEHOLDER))
        {
            return Err(ConfigError::Missing {
                key: key("discovery_url"),
            });
        }
        let post_logout_redirect_uri = self
            .post_logout_redirect_uri
            .map(|u| parse_url(&u, &key("post_logout_redirect_uri")))
            .transpose()?;
        let userinfo_url = self
            .userinfo_url
            .or_else(|| defaults.userinfo_url.map(Into::into))
            .filter(|u| !u.is_empty())
            .map(|u| endpoint(u, "userinfo_url"))
            .transpose()?;
        let scopes = match self.scopes {
            Some(Scopes::List(list)) => list,
            Some(Scopes::Spaced(s)) => s.split_whitespace().map(str::to_owned).collect(),
            None => defaults.scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(ConfigError::Invalid {
                key: key("scopes"),
                reason: format!("`{bad}` is not a single scope"),
            });
        }
        let base_path = self.base_path.unwrap_or_else(|| format!("/auth/{name}"));
        let base_path = base_path.trim_end_matches('/').to_owned();
        if !base_path.starts_with('/') || rocket::http::uri::Origin::parse(&base_path).is_err() {
            return Err(ConfigError::Invalid {
                key: key("base_path"),
                reason: "must be an absolute path such as `/auth/github`".into(),
            });
        }
        const RESERVED: [&str; 8] = [
            "response_type",
            "client_id",
            "state",
            "code_challenge",
            "code_challenge_method",
            "redirect_uri",
            "scope",
            "nonce",
        ];
        if let Some(name) = self
            .auth_params
            .keys()
            .find(|k| RESERVED.contains(&k.as_str()))
        {
            return Err(ConfigError::Invalid {
                key: key("auth_params"),
                reason: format!("`{name}` is set by rocket_oauth itself"),
            });
        }
        let seconds = |value: Option<u64>, default: u64, field: &str| match value.unwrap_or(default)
        {
            0 => Err(ConfigError::Invalid {
                key: key(field),
                reason: "must be at least 1 second".into(),
            }),
            s => Ok(Duration::from_secs(s)),
        };

        Ok(ProviderConfig {
            client_id,
            client_secret: self.client_secret.filter(|s| !s.is_empty()),
            redirect_uri,
            protocol: defaults.protocol,
            authorize_url,
            token_url,
            userinfo_url,
            issuer,
            discovery_url,
            tenants: self.tenants,
            issuer_aliases: self.issuer_aliases,
            require_nonce: self.require_nonce.unwrap_or(true),
            access: self.access,
            provider_logout: self.provider_logout.unwrap_or(false),
            post_logout_redirect_uri,
            scopes,
            base_path,
            confirm: self.confirm.unwrap_or(defaults.confirm),
            pkce: self.pkce.unwrap_or(defaults.pkce),
            client_auth: self.client_auth.unwrap_or(defaults.client_auth),
            form_post: self.form_post.unwrap_or(defaults.form_post),
            logout_via_get: self.logout_via_get.unwrap_or(false),
            secure_cookies: self.secure_cookies.unwrap_or(tls),
            timeout: seconds(self.timeout, 10, "timeout")?,
            connect_timeout: seconds(self.connect_timeout, 5, "connect_timeout")?,
            auth_params: self.auth_params,
        })
    }
}

fn parse_url(value: &str, key: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| ConfigError::Invalid {
        key: key.into(),
        reason: format!("`{value}` is not an absolute URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!("`{value}` is not an http(s) URL"),
        });
    }
    Ok(url)
}

/// Provider endpoints must use `https`, except on loopback (development and tests).
pub(crate) fn parse_endpoint(value: &str, key: &str) -> Result<Url, ConfigError> {
    let url = parse_url(value, key)?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!("`{value}` must use https (http is allowed only on loopback)"),
        });
    }
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: ProviderDefaults =
        ProviderDefaults::oauth2("https://p.example/authorize", "https://p.example/token");

    fn raw(json: &str) -> RawConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn names_missing_and_invalid_keys() {
        let err = raw("{}").resolve("p", &DEFAULTS, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.client_id`"
        );
        let err = raw(r#"{"client_id":"x"}"#)
            .resolve("p", &DEFAULTS, false)
            .unwrap_err();
        assert!(err.to_string().contains("oauth.p.redirect_uri"), "{err}");
        let err = raw(
            r#"{"client_id":"x","redirect_uri":"http://a/cb","token_url":"http://evil.example/t"}"#,
        )
        .resolve("p", &DEFAULTS, false)
        .unwrap_err();
        assert!(err.to_string().contains("`oauth.p.token_url`"), "{err}");
        assert!(serde_json::from_str::<RawConfig>(r#"{"client_idd":"x"}"#).is_err());
        let err = raw(r#"{"client_id":"x","redirect_uri":"http://a/cb"}"#)
            .resolve("p", &ProviderDefaults::oauth2_from_config(), false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.authorize_url`"
        );
    }

    #[test]
    fn overrides_and_scopes() {
        let config = raw(
            r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback",
                "token_url":"http://127.0.0.1:9/token","scopes":"a b"}"#,
        )
        .resolve("p", &DEFAULTS, false)
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
        assert!(config.pkce);
    }

    #[test]
    fn oidc_needs_an_issuer_and_tenants_for_templates() {
        let oidc = ProviderDefaults::oidc_from_config();
        let base = r#""client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback""#;
        let err = raw(&format!("{{{base}}}"))
            .resolve("p", &oidc, false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.issuer`"
        );
        let config = raw(&format!(r#"{{{base},"issuer":"https://idp.example"}}"#))
            .resolve("p", &oidc, false)
            .unwrap();
        assert!(config.authorize_url.is_none() && config.token_url.is_none());
        let ms = r#""issuer":"https://login.microsoftonline.com/{tenantid}/v2.0""#;
        let err = raw(&format!("{{{base},{ms}}}"))
            .resolve("p", &oidc, false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.p.tenants`"
        );
        let tenants = r#""tenants":["9188040d-6c67-4c5b-b112-36a304b66dad"]"#;
        let err = raw(&format!("{{{base},{ms},{tenants}}}"))
            .resolve("p", &oidc, false)
            .unwrap_err();
        assert!(err.to_string().contains("oauth.p.discovery_url"), "{err}");
        let url = r#""discovery_url":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration""#;
        raw(&format!("{{{base},{ms},{tenants},{url}}}"))
            .resolve("p", &oidc, false)
            .unwrap();
    }
}
