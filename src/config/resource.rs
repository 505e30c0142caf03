//! A resource server's configuration (`oauth.resource.<name>`): whose access tokens an API
//! accepts, and how they are checked.

use std::time::Duration;

use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::JwsSigningAlgorithm;
use rocket::figment::Figment;
use serde::Deserialize;
use url::Url;

use super::keys::{figment_error, non_empty, Keys, Scopes};
use crate::error::ConfigError;
use crate::protocol::oauth2::ClientAuth;
use crate::protocol::resource::ResourceSettings;
pub use crate::protocol::resource::TokenFormat;
use crate::secret::Secret;

/// The algorithms accepted when `algorithms` is not set: every asymmetric one.
const ASYMMETRIC: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

/// A resource server's resolved configuration: the issuer whose access tokens an API
/// accepts (`[default.oauth.resource.<name>]`), and how they are checked.
///
/// ```toml
/// [default.oauth.resource.idp]
/// issuer = "https://tenant.eu.auth0.com/"      # discovery, and the tokens' `iss`
/// audience = "https://api.example.com"          # the tokens' `aud` must name it
/// resource = "https://api.example.com/api"      # RFC 9728 metadata (optional)
/// scopes = ["profile", "orders:read"]           # advertised in that metadata
/// # opaque tokens: RFC 7662 introspection, as this client of the issuer
/// # client_id = "api"
/// # client_secret = "<secret>"
/// ```
///
/// A missing or invalid key stops the launch with a [`ConfigError`] naming it; `Debug`
/// never shows the secret:
///
/// ```rust
/// # use rocket_oauth::config::ResourceConfig;
/// fn describe(config: &ResourceConfig) -> String {
///     format!("tokens of {} for {:?}", config.issuer, config.audience)
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResourceConfig {
    /// The issuer: its metadata is discovered from it (OpenID configuration, else RFC 8414),
    /// and JWT access tokens must name it in `iss`. _Required._
    pub issuer: String,
    /// The values a token's `aud` must name one of: the API's identifier at the issuer (a
    /// list, or one string). _Default:_ `resource`; one of the two is required.
    pub audience: Vec<String>,
    /// The API's resource identifier (RFC 8707, RFC 9728), an absolute URL without query or
    /// fragment, kept as written: when given, its protected resource metadata is served at
    /// `/.well-known/oauth-protected-resource<its path>` and 401s point to it. _Default:_
    /// none.
    pub resource: Option<String>,
    /// Where the issuer's metadata is, when not at the well-known place. _Default:_ none.
    pub discovery_url: Option<Url>,
    /// The issuer's keys, instead of the discovered `jwks_uri`. _Default:_ none.
    pub jwks_uri: Option<Url>,
    /// The issuer's RFC 7662 endpoint, instead of the discovered `introspection_endpoint`.
    /// _Default:_ none.
    pub introspection_url: Option<Url>,
    /// `auto` (a JWT-shaped token is checked with the issuer's keys, any other
    /// introspected), `jwt` or `opaque`. _Default:_ `auto`.
    pub token_format: TokenFormat,
    /// The JWS algorithms accepted (never `none` or a shared-secret one). _Default:_ every
    /// asymmetric algorithm.
    pub algorithms: Vec<String>,
    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds. _Default:_ `30`.
    pub leeway: u64,
    /// The API's client id at the issuer, to introspect opaque tokens. _Default:_ none (no
    /// introspection).
    pub client_id: Option<String>,
    /// Its secret. _Default:_ none.
    pub client_secret: Option<Secret>,
    /// How it authenticates at the introspection endpoint. _Default:_ `client_secret_basic`.
    pub client_auth: ClientAuth,
    /// How long a positive introspection answer is reused, in seconds (never past the
    /// token's expiry; `0`: every request is introspected). _Default:_ `30`.
    pub introspection_cache: u64,
    /// The scopes the API understands, advertised in its metadata (`scopes_supported`).
    /// _Default:_ none.
    pub scopes: Vec<String>,
    /// Total time allowed for each call to the issuer, in seconds. _Default:_ `10`.
    pub timeout: Duration,
    /// Time allowed to connect to the issuer, in seconds. _Default:_ `5`.
    pub connect_timeout: Duration,
}

/// The keys as configured.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    issuer: Option<String>,
    audience: Option<Scopes>,
    resource: Option<String>,
    discovery_url: Option<String>,
    jwks_uri: Option<String>,
    introspection_url: Option<String>,
    #[serde(default)]
    token_format: TokenFormat,
    algorithms: Option<Vec<String>>,
    #[serde(default = "thirty")]
    leeway: u64,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    #[serde(default)]
    client_auth: ClientAuth,
    #[serde(default = "thirty")]
    introspection_cache: u64,
    #[serde(default)]
    scopes: Scopes,
    #[serde(default = "ten")]
    timeout: u64,
    #[serde(default = "five")]
    connect_timeout: u64,
}

fn thirty() -> u64 {
    30
}

fn ten() -> u64 {
    10
}

fn five() -> u64 {
    5
}

/// Introspection authenticates with a secret: the assertion methods are the login's.
fn refuse_assertions(keys: &Keys<'_>, auth: ClientAuth) -> Result<(), ConfigError> {
    match auth.by_assertion() {
        true => Err(keys.invalid(
            "client_auth",
            "introspection authenticates with client_secret_basic or client_secret_post",
        )),
        false => Ok(()),
    }
}

impl ResourceConfig {
    /// Reads and checks `oauth.resource.<name>` of `figment`.
    pub fn from_figment(figment: &Figment, name: &str) -> Result<Self, ConfigError> {
        let table = format!("oauth.resource.{name}");
        let keys = Keys {
            table: &table,
            name,
        };
        if !figment.contains(&table) {
            return Err(keys.missing("issuer"));
        }
        let raw: Raw = figment
            .extract_inner(&table)
            .map_err(|e| figment_error(&table, e))?;
        raw.resolve(&keys)
    }

    /// What the protocol layer checks tokens with.
    pub(crate) fn settings(&self) -> ResourceSettings {
        ResourceSettings {
            issuer: self.issuer.clone(),
            discovery_url: self.discovery_url.clone(),
            jwks_uri: self.jwks_uri.clone(),
            introspection_url: self.introspection_url.clone(),
            audiences: self.audience.clone(),
            algs: self.algorithms.iter().filter_map(|a| alg(a)).collect(),
            leeway: i64::try_from(self.leeway).unwrap_or(i64::MAX),
            format: self.token_format,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_auth: self.client_auth,
            cache_ttl: i64::try_from(self.introspection_cache).unwrap_or(i64::MAX),
        }
    }
}

fn alg(name: &str) -> Option<CoreJwsSigningAlgorithm> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

impl Raw {
    fn resolve(self, keys: &Keys<'_>) -> Result<ResourceConfig, ConfigError> {
        refuse_assertions(keys, self.client_auth)?;
        let issuer = keys.required(self.issuer, "issuer")?;
        keys.endpoint(&issuer, "issuer")?;
        let resource = non_empty(self.resource).map(|r| r.trim().to_owned());
        if let Some(resource) = &resource {
            keys.url(resource, "resource")?;
            if crate::util::resource_identifier(resource).is_none() {
                return Err(keys.invalid(
                    "resource",
                    "a resource identifier has a plain path and no query or fragment",
                ));
            }
        }
        let audience = match self.audience {
            Some(Scopes::List(list)) => list,
            Some(Scopes::Spaced(one)) => vec![one],
            None => resource.iter().cloned().collect(),
        };
        let audience: Vec<String> = audience.into_iter().filter(|a| !a.is_empty()).collect();
        if audience.is_empty() {
            return Err(keys.missing("audience"));
        }
        let algorithms = self
            .algorithms
            .unwrap_or_else(|| ASYMMETRIC.map(str::to_owned).to_vec());
        for name in &algorithms {
            match alg(name) {
                Some(a) if !a.uses_shared_secret() && a != CoreJwsSigningAlgorithm::None => {}
                _ => {
                    return Err(keys.invalid(
                        "algorithms",
                        format!("`{name}` is not an asymmetric JWS algorithm"),
                    ))
                }
            }
        }
        let client_id = non_empty(self.client_id);
        let client_secret = self.client_secret.filter(|s| !s.is_empty());
        if client_id.is_some() && client_secret.is_none() {
            return Err(keys.invalid(
                "client_secret",
                "introspection needs the API's client secret (RFC 7662 §2.1)",
            ));
        }
        if self.token_format == TokenFormat::Opaque && client_id.is_none() {
            return Err(keys.invalid(
                "client_id",
                "opaque tokens are introspected, which needs the API's client_id at the issuer",
            ));
        }
        let seconds = |value: u64, field: &str| match value {
            0 => Err(keys.invalid(field, "must be at least 1 second")),
            s => Ok(Duration::from_secs(s)),
        };
        let scopes = match self.scopes {
            Scopes::List(list) => list,
            Scopes::Spaced(s) => s.split_whitespace().map(str::to_owned).collect(),
        };
        Ok(ResourceConfig {
            issuer,
            audience,
            resource,
            discovery_url: keys.optional_endpoint(self.discovery_url, "discovery_url")?,
            jwks_uri: keys.optional_endpoint(self.jwks_uri, "jwks_uri")?,
            introspection_url: keys
                .optional_endpoint(self.introspection_url, "introspection_url")?,
            token_format: self.token_format,
            algorithms,
            leeway: self.leeway,
            client_id,
            client_secret,
            client_auth: self.client_auth,
            introspection_cache: self.introspection_cache,
            scopes,
            timeout: seconds(self.timeout, "timeout")?,
            connect_timeout: seconds(self.connect_timeout, "connect_timeout")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(toml: &str) -> Result<ResourceConfig, ConfigError> {
        use rocket::figment::providers::Format as _;
        let figment = Figment::new().merge(rocket::figment::providers::Toml::string(toml));
        ResourceConfig::from_figment(&figment, "idp")
    }

    #[test]
    fn keys_are_checked_by_name() {
        let ok = resolve(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\nresource = \"https://api.example/api\"",
        )
        .unwrap();
        assert_eq!(ok.audience, ["https://api.example/api"]);
        assert_eq!(ok.leeway, 30);
        assert_eq!(ok.settings().algs.len(), 10);
        let err = |toml: &str| resolve(toml).unwrap_err().to_string();
        assert_eq!(
            err(""),
            "missing configuration key `oauth.resource.idp.issuer`"
        );
        assert_eq!(
            err("[oauth.resource.idp]\nissuer = \"https://idp.example\""),
            "missing configuration key `oauth.resource.idp.audience`"
        );
        assert!(
            err("[oauth.resource.idp]\nissuer = \"http://idp.example\"\naudience = \"a\"")
                .contains("oauth.resource.idp.issuer")
        );
        assert!(err(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\naudience = \"a\"\nalgorithms = [\"HS256\"]"
        )
        .contains("oauth.resource.idp.algorithms"));
        assert!(err(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\naudience = \"a\"\nalgorithms = [\"none\"]"
        )
        .contains("oauth.resource.idp.algorithms"));
        assert!(err(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\naudience = \"a\"\ntoken_format = \"opaque\""
        )
        .contains("oauth.resource.idp.client_id"));
        assert!(err(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\naudience = \"a\"\nclient_id = \"api\""
        )
        .contains("oauth.resource.idp.client_secret"));
        assert!(err(
            "[oauth.resource.idp]\nissuer = \"https://idp.example\"\naudience = \"a\"\nbogus = 1"
        )
        .contains("oauth.resource.idp.bogus"));
    }
}
