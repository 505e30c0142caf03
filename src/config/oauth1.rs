//! The keys only OAuth 1.0a providers take, and their validation.

use rsa::RsaPrivateKey;
use serde::Deserialize;
use url::Url;

use super::keys::{non_empty, Keys};
use super::placeholders::Placeholders;
use crate::error::ConfigError;
use crate::protocol::oauth1::{SignatureMethod, SignaturePlacement};
use crate::secret::Secret;

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
    /// The most logins a minute from one client address: each `GET login` costs a signed
    /// request-token call at the provider (more get `429` and cost nothing); key
    /// `login_calls_per_client`. _Default:_ `20`.
    pub login_calls_per_client: u32,
    /// The same, from every client together; key `login_calls_per_minute`. _Default:_ `600`.
    pub login_calls_per_minute: u32,
    /// The consumer's RSA private key (PEM, PKCS#8 or PKCS#1), for RSA-SHA1.
    pub(crate) rsa_key: Option<RsaPrivateKey>,
}

/// The OAuth 1.0a keys as configured: the one list of them (other protocols refuse these
/// names).
#[derive(Debug, Default, Deserialize)]
pub(super) struct OAuth1Keys {
    request_token_url: Option<String>,
    access_token_url: Option<String>,
    signature_method: Option<SignatureMethod>,
    signature_placement: Option<SignaturePlacement>,
    private_key: Option<Secret>,
    realm: Option<String>,
    login_calls_per_client: Option<u32>,
    login_calls_per_minute: Option<u32>,
}

impl OAuth1Keys {
    /// The OAuth 1.0a keys, validated.
    pub fn resolve(
        self,
        keys: &Keys<'_>,
        placeholders: &Placeholders,
    ) -> Result<OAuth1Config, ConfigError> {
        let url = |value: Option<String>, field: &str| {
            let value = placeholders.fill(value, keys)?;
            keys.endpoint(&keys.required(value, field)?, field)
        };
        let request_token_url = url(self.request_token_url, "request_token_url")?;
        let access_token_url = url(self.access_token_url, "access_token_url")?;
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
        let rsa_key = match (signature_method, self.private_key) {
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
            // A provider's own `realm` placeholder is not OAuth 1.0a's realm.
            realm: non_empty(self.realm).filter(|_| !placeholders.declares("realm")),
            login_calls_per_client: self.login_calls_per_client.unwrap_or(20),
            login_calls_per_minute: self.login_calls_per_minute.unwrap_or(600),
            rsa_key,
        })
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
