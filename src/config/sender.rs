//! The keys of a client that proves who it is and that its tokens are its own: client
//! assertions (`client_auth = "private_key_jwt"` with `client_key`, or `client_secret_jwt`),
//! DPoP-bound tokens (`dpop`) and pushed authorization requests (`par`). OAuth 2 and OpenID
//! Connect providers take them; OAuth 1.0a providers refuse them by name.

use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::keys::{non_empty, Keys};
use crate::error::ConfigError;
pub use crate::protocol::assertion::AssertionAudience;
use crate::protocol::assertion::{AssertionKey, ClientAssertion};
use crate::protocol::jose::SigningKey;
use crate::protocol::oauth2::ClientAuth;
use crate::secret::Secret;

/// How the client authenticates and binds its tokens, beyond a secret (the FAPI 2.0
/// client's keys).
///
/// ```toml
/// [default.oauth.bank]
/// client_auth = "private_key_jwt"
/// client_key = "keys/bank-client.pem"   # an ES256 or RS256 private key
/// par = true
/// dpop = true
/// ```
///
/// ```rust
/// # use rocket_oauth::config::ProviderConfig;
/// fn sender_constrained(config: &ProviderConfig) -> bool {
///     config.sender.dpop
/// }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SenderConfig {
    /// RFC 9449: tokens bound to a key made for each login (kept encrypted in its session),
    /// DPoP proofs on token, refresh and API requests, the server's nonces followed.
    /// _Default:_ `false`.
    pub dpop: bool,
    /// RFC 9126: push authorization requests first (`true`: always, failing if the
    /// provider offers no endpoint; `false`: never, unless the provider requires it).
    /// _Default:_ when the provider advertises `pushed_authorization_request_endpoint`.
    pub par: Option<bool>,
    /// Where to push them, for a provider without discovery (or instead of the discovered
    /// endpoint). _Default:_ none.
    pub par_url: Option<Url>,
    /// Whom client assertions are for: `token_endpoint` or `issuer`. _Default:_
    /// `token_endpoint`.
    pub client_assertion_audience: AssertionAudience,
    /// With `private_key_jwt`: serve the public key as a JWK Set at `<base_path>/jwks`, for
    /// a provider that fetches the client's keys (`jwks_uri`). _Default:_ `false`.
    pub jwks_route: bool,
    /// The assertions' signer.
    pub(crate) assertion: Option<Arc<ClientAssertion>>,
}

/// The keys as configured (OAuth 1.0a refuses these names).
#[derive(Debug, Default, Deserialize)]
pub(super) struct SenderKeys {
    client_key: Option<String>,
    client_key_id: Option<String>,
    client_assertion_audience: Option<AssertionAudience>,
    dpop: Option<bool>,
    par: Option<bool>,
    par_url: Option<String>,
    jwks_route: Option<bool>,
}

impl SenderKeys {
    /// Validates the keys for a client authenticating with `auth` (with `secret`, if it has
    /// one); `discovered`: the provider's endpoints come from discovery.
    pub fn resolve(
        self,
        keys: &Keys<'_>,
        auth: ClientAuth,
        secret: Option<&Secret>,
        discovered: bool,
    ) -> Result<SenderConfig, ConfigError> {
        let audience = self.client_assertion_audience.unwrap_or_default();
        let key = match (auth, non_empty(self.client_key)) {
            (ClientAuth::PrivateKeyJwt, Some(key)) => {
                let key = read_key(keys, &key)?.with_kid(non_empty(self.client_key_id));
                Some(AssertionKey::Private(key))
            }
            (ClientAuth::PrivateKeyJwt, None) => return Err(keys.missing("client_key")),
            (_, Some(_)) => {
                return Err(keys.invalid(
                    "client_key",
                    "is used only with client_auth = \"private_key_jwt\"",
                ))
            }
            (ClientAuth::ClientSecretJwt, None) => match secret {
                Some(secret) => Some(AssertionKey::Secret(secret.clone())),
                None => return Err(keys.missing("client_secret")),
            },
            (_, None) => None,
        };
        let jwks_route = self.jwks_route.unwrap_or(false);
        if jwks_route && auth != ClientAuth::PrivateKeyJwt {
            return Err(keys.invalid(
                "jwks_route",
                "publishes the key of client_auth = \"private_key_jwt\"",
            ));
        }
        let par_url = keys.optional_endpoint(self.par_url, "par_url")?;
        if self.par == Some(true) && par_url.is_none() && !discovered {
            return Err(keys.missing("par_url"));
        }
        Ok(SenderConfig {
            dpop: self.dpop.unwrap_or(false),
            par: self.par,
            par_url,
            client_assertion_audience: audience,
            jwks_route,
            assertion: key.map(|key| Arc::new(ClientAssertion { key, audience })),
        })
    }
}

/// The private key `value` names: PEM text, or the path of a PEM file.
fn read_key(keys: &Keys<'_>, value: &str) -> Result<SigningKey, ConfigError> {
    let pem = if value.contains("-----BEGIN") {
        value.to_owned()
    } else {
        std::fs::read_to_string(value)
            .map_err(|e| keys.invalid("client_key", format!("`{value}` cannot be read: {e}")))?
    };
    SigningKey::from_pem(&pem).map_err(|e| keys.invalid("client_key", e.to_string()))
}
