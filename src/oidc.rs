//! OpenID Connect: discovery, the JWKS cache and ID token validation.
//!
//! Protocol layer: no Rocket types. Signatures and claims are checked by the `openidconnect`
//! crate; this module feeds it the right keys (a TTL cache, refetched once — single-flight
//! and rate-limited — when a token names an unknown key), the algorithms the provider
//! advertises (asymmetric only: never `none`, never HS*), a small clock leeway, the nonce,
//! and the `at_hash` check.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::error::HttpError;
use crate::http::HttpClient;

/// Clock leeway for `exp` and `iat`.
pub(crate) const LEEWAY: Duration = Duration::from_secs(60);
/// How long fetched signing keys are trusted before they are fetched again.
pub(crate) const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two refetches caused by unknown key ids.
pub(crate) const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The placeholder in multi-tenant issuers (Microsoft's `common` endpoint).
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// An OpenID Provider's discovery document, parsed leniently: unknown fields and algorithm
/// names are ignored, booleans may be strings.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    #[serde(default, deserialize_with = "string_list")]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub authorization_response_iss_parameter_supported: bool,
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiscoveryError {
    #[error("the discovery document could not be fetched: {0}")]
    Http(#[from] HttpError),
    #[error("the discovery document names issuer `{found}`, not `{expected}`")]
    IssuerMismatch { expected: String, found: String },
}

/// Fetches the discovery document (by default `<issuer>/.well-known/openid-configuration`)
/// and checks that it names `issuer`.
pub(crate) async fn discover(
    http: &HttpClient,
    issuer: &str,
    url: Option<&Url>,
) -> Result<Discovery, DiscoveryError> {
    let url = match url {
        Some(url) => url.clone(),
        None => {
            let url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            Url::parse(&url).map_err(|e| HttpError::Request(e.to_string()))?
        }
    };
    let discovery: Discovery = http.get_json(&url, None).await?;
    if discovery.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.to_owned(),
            found: discovery.issuer,
        });
    }
    Ok(discovery)
}

/// The asymmetric algorithms among `advertised` that we can verify; RS256 when the provider
/// advertises none we know (RS256 is what OIDC Discovery makes mandatory to support).
pub(crate) fn allowed_algs(advertised: &[String]) -> Vec<CoreJwsSigningAlgorithm> {
    let algs: Vec<CoreJwsSigningAlgorithm> = advertised
        .iter()
        .filter(|name| !name.starts_with("HS") && name.as_str() != "none")
        .filter_map(|name| serde_json::from_value(Value::String(name.clone())).ok())
        .collect();
    if algs.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

/// A provider's signing keys, cached with a TTL and refetched (single-flight,
/// rate-limited) when a token names a key we do not have.
pub(crate) struct Jwks {
    uri: Url,
    cache: RwLock<Option<(Arc<CoreJsonWebKeySet>, Instant)>>,
    /// Held while fetching; remembers the last refetch caused by an unknown key.
    fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    pub fn new(uri: Url) -> Self {
        Jwks {
            uri,
            cache: RwLock::new(None),
            fetch: Mutex::new(None),
        }
    }

    async fn download(&self, http: &HttpClient) -> Result<Arc<CoreJsonWebKeySet>, HttpError> {
        let keys: CoreJsonWebKeySet = http.get_json(&self.uri, None).await?;
        let keys = Arc::new(keys);
        *self.cache.write().await = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    /// The cached keys, fetched if absent or older than [`JWKS_TTL`].
    pub async fn keys(&self, http: &HttpClient) -> Result<Arc<CoreJsonWebKeySet>, HttpError> {
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        let _guard = self.fetch.lock().await;
        // Another request may have fetched while we waited.
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        self.download(http).await
    }

    /// Refetches because a token named an unknown key, unless `seen` is already stale (keys
    /// changed meanwhile: use the new ones) or a refetch happened within
    /// [`JWKS_REFETCH_INTERVAL`]. Returns the keys to retry with, if any.
    pub async fn refetch(
        &self,
        http: &HttpClient,
        seen: &Arc<CoreJsonWebKeySet>,
    ) -> Result<Option<Arc<CoreJsonWebKeySet>>, HttpError> {
        let mut last = self.fetch.lock().await;
        if let Some((keys, _)) = self.cache.read().await.as_ref() {
            if !Arc::ptr_eq(keys, seen) {
                return Ok(Some(keys.clone()));
            }
        }
        if last.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        self.download(http).await.map(Some)
    }
}

/// Why an ID token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token response carried no `id_token`.
    #[error("the token response carried no ID token")]
    Missing,
    /// The ID token is not a well-formed JWT.
    #[error("the ID token is malformed")]
    Malformed,
    /// The signature or algorithm is not acceptable.
    #[error("the ID token signature is invalid: {0}")]
    Signature(String),
    /// A claim check (`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) failed.
    #[error("the ID token was refused: {0}")]
    Claims(String),
    /// `at_hash` does not match the access token.
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHash,
    /// A multi-tenant issuer's token came from a tenant that is not allowed.
    #[error("the ID token's tenant is not allowed")]
    Tenant,
    /// The signing keys could not be fetched.
    #[error("the provider's signing keys could not be fetched: {0}")]
    Keys(HttpError),
}

/// What to check an ID token against.
pub(crate) struct Expectations<'a> {
    pub client_id: &'a str,
    /// The issuer, possibly with [`TENANT_PLACEHOLDER`].
    pub issuer: &'a str,
    pub tenants: &'a [String],
    pub algs: &'a [CoreJwsSigningAlgorithm],
    pub nonce: &'a str,
    /// Accept an ID token without `nonce` (LinkedIn sends none); a present one must match.
    pub nonce_optional: bool,
    /// Other exact `iss` values this issuer uses (Google: `accounts.google.com`).
    pub issuer_aliases: &'a [String],
    pub access_token: &'a str,
}

/// The payload of a compact JWS, unverified. Only for reading claims of a token that is then
/// verified (the tenant, before the issuer check) or already was.
fn payload(jwt: &str) -> Option<Map<String, Value>> {
    let part = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Validates `raw` and returns all of its claims.
pub(crate) async fn verify_id_token(
    raw: &str,
    expect: &Expectations<'_>,
    jwks: &Jwks,
    http: &HttpClient,
) -> Result<Map<String, Value>, IdTokenError> {
    let token = CoreIdToken::from_str(raw).map_err(|_| IdTokenError::Malformed)?;
    // The tenant (Microsoft) or an alias (Google) is read from the unverified payload only to
    // pick the exact issuer to expect; the signature check below then covers it.
    let claimed = |name: &str| {
        payload(raw).and_then(|c| c.get(name).and_then(Value::as_str).map(str::to_owned))
    };
    let (issuer, alias) = if expect.issuer.contains(TENANT_PLACEHOLDER) {
        let tid = claimed("tid").ok_or(IdTokenError::Tenant)?;
        if !expect.tenants.iter().any(|t| t == &tid) {
            return Err(IdTokenError::Tenant);
        }
        (expect.issuer.replace(TENANT_PLACEHOLDER, &tid), false)
    } else {
        let alias = claimed("iss").is_some_and(|iss| expect.issuer_aliases.contains(&iss));
        (expect.issuer.to_owned(), alias)
    };
    let issuer = IssuerUrl::new(issuer).map_err(|e| IdTokenError::Claims(e.to_string()))?;

    let mut keys = jwks.keys(http).await.map_err(IdTokenError::Keys)?;
    loop {
        match check(&token, expect, &issuer, alias, &keys) {
            Err(IdTokenError::Signature(ref why)) if why == NO_MATCHING_KEY => {
                match jwks
                    .refetch(http, &keys)
                    .await
                    .map_err(IdTokenError::Keys)?
                {
                    Some(fresh) if !Arc::ptr_eq(&fresh, &keys) => keys = fresh,
                    _ => return Err(IdTokenError::Signature(NO_MATCHING_KEY.into())),
                }
            }
            Err(e) => return Err(e),
            Ok(()) => return payload(raw).ok_or(IdTokenError::Malformed),
        }
    }
}

const NO_MATCHING_KEY: &str = "no key matches the token";

/// `iss_is_alias`: the token's `iss` is one of the issuer's aliases (already compared
/// exactly), so the crate's check against the issuer URL is skipped.
fn check(
    token: &CoreIdToken,
    expect: &Expectations<'_>,
    issuer: &IssuerUrl,
    iss_is_alias: bool,
    keys: &CoreJsonWebKeySet,
) -> Result<(), IdTokenError> {
    let now = chrono::Utc::now();
    let leeway = chrono::Duration::from_std(LEEWAY).unwrap_or_default();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(expect.client_id.to_owned()),
        issuer.clone(),
        keys.clone(),
    )
    .require_issuer_match(!iss_is_alias)
    .set_allowed_algs(expect.algs.iter().cloned().collect::<HashSet<_>>())
    .set_time_fn(move || now - leeway)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > now + leeway {
            Err("the ID token was issued in the future".into())
        } else {
            Ok(())
        }
    });
    let sent = Nonce::new(expect.nonce.to_owned());
    let nonce_check = |found: Option<&Nonce>| match found {
        Some(found) if bool::from(found.secret().as_bytes().ct_eq(sent.secret().as_bytes())) => {
            Ok(())
        }
        None if expect.nonce_optional => Ok(()),
        None => Err("the ID token has no nonce".to_owned()),
        Some(_) => Err("the ID token's nonce does not match".to_owned()),
    };
    let claims = token.claims(&verifier, nonce_check).map_err(|e| match e {
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => IdTokenError::Signature(NO_MATCHING_KEY.into()),
        ClaimsVerificationError::SignatureVerification(e) => IdTokenError::Signature(e.to_string()),
        other => IdTokenError::Claims(other.to_string()),
    })?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = token
            .signing_alg()
            .map_err(|e| IdTokenError::Signature(e.to_string()))?;
        let key = token
            .signing_key(&verifier)
            .map_err(|e| IdTokenError::Signature(e.to_string()))?;
        let actual = AccessTokenHash::from_token(
            &AccessToken::new(expect.access_token.to_owned()),
            alg,
            key,
        )
        .map_err(|_| IdTokenError::AccessTokenHash)?;
        if actual != *expected {
            return Err(IdTokenError::AccessTokenHash);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_from_discovery() {
        let advertised = ["RS256", "ES256K", "EdDSA", "HS256", "none", "ES256"].map(String::from);
        let algs = allowed_algs(&advertised);
        assert!(algs.contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
        assert!(algs.contains(&CoreJwsSigningAlgorithm::EcdsaP256Sha256));
        assert!(!algs.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!algs.contains(&CoreJwsSigningAlgorithm::None));
        assert_eq!(
            allowed_algs(&[]),
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
    }

    #[test]
    fn lenient_discovery() {
        let doc: Discovery = serde_json::from_value(serde_json::json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/a",
            "jwks_uri": "https://idp.example/jwks",
            "id_token_signing_alg_values_supported": ["ES256K", "RS256"],
            "authorization_response_iss_parameter_supported": "true",
            "claims_supported": 7
        }))
        .unwrap();
        assert!(doc.authorization_response_iss_parameter_supported);
        assert_eq!(doc.id_token_signing_alg_values_supported.len(), 2);
    }
}
