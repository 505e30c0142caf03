//! Client authentication by assertion (RFC 7523 §2.2, OpenID Connect Core §9):
//! `private_key_jwt` (a JWT signed with one of the client's keys: its `jwks`, or those at its
//! `jwks_uri`) and `client_secret_jwt` (HS256 with its secret). The signature is checked by
//! the shared JWS module; each assertion's `jti` is used once (in the store, so across
//! instances) until it expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
use openidconnect::{JsonWebKey, JsonWebKeySet};
use serde_json::Value;
use url::Url;

use super::config::{ClientAuthMethod, RegisteredClient};
use super::store::TokenHash;
use super::ServerState;
use crate::protocol::http::HttpClient;
use crate::protocol::oidc::jwks::{Jwks, KeySet, ProviderKey};
use crate::protocol::oidc::jws::{
    audience_matches, time_claim, typ_allows, verify_jws, verify_with, JwsError,
};
use crate::util::now;

/// The `client_assertion_type` of a JWT assertion.
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What `private_key_jwt` assertions may be signed with (advertised).
pub(crate) const KEY_ALGS: [Alg; 9] = [
    Alg::EcdsaP256Sha256,
    Alg::EcdsaP384Sha384,
    Alg::RsaSsaPkcs1V15Sha256,
    Alg::RsaSsaPkcs1V15Sha384,
    Alg::RsaSsaPkcs1V15Sha512,
    Alg::RsaSsaPssSha256,
    Alg::RsaSsaPssSha384,
    Alg::RsaSsaPssSha512,
    Alg::EdDsa,
];

/// What `client_secret_jwt` assertions may be signed with.
const SECRET_ALGS: [Alg; 3] = [Alg::HmacSha256, Alg::HmacSha384, Alg::HmacSha512];

/// The longest an assertion may live (its `jti` is kept that long).
const MAX_LIFETIME: i64 = 600;
/// Clock skew allowed, seconds.
const LEEWAY: i64 = 30;

/// Why an assertion was refused.
#[derive(Debug)]
pub(crate) enum AssertionError {
    /// It does not authenticate the client (logged at debug level, the client told only
    /// `invalid_client`).
    Refused(&'static str),
    /// The client's keys could not be fetched, or the store failed.
    Unavailable,
}

/// The keys of `private_key_jwt` clients that publish them at a `jwks_uri`, cached per URI.
pub(crate) struct ClientKeys {
    sets: Mutex<HashMap<String, Arc<Jwks>>>,
    /// For configured clients and the registry's.
    trusted: HttpClient,
    /// For self-registered clients: public addresses only (no SSRF through registration).
    public_only: HttpClient,
}

impl ClientKeys {
    /// On the clients that deliver logout tokens (no redirects, short timeouts).
    pub fn new(delivery: &super::logout::Delivery) -> Self {
        ClientKeys {
            sets: Mutex::default(),
            trusted: HttpClient::wrap(delivery.trusted.clone()),
            public_only: HttpClient::wrap(delivery.public_only.clone()),
        }
    }

    fn jwks(&self, uri: &str) -> Option<Arc<Jwks>> {
        let url = Url::parse(uri).ok()?;
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        if sets.len() > 1000 {
            // Registered clients come and go: never grow without bound.
            sets.clear();
        }
        Some(
            sets.entry(uri.to_owned())
                .or_insert_with(|| Arc::new(Jwks::new(url)))
                .clone(),
        )
    }
}

/// The client an assertion says it is (`sub`, else `iss`), before it is verified: whose keys
/// to check it with.
pub(crate) fn claimed_client(raw: &str) -> Option<String> {
    let claims = crate::util::jwt_payload(raw)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    text("sub").or_else(|| text("iss"))
}

/// Checks `raw` authenticates `client`, for one of `audiences` (the issuer, the token
/// endpoint, the endpoint called), and records its `jti`.
pub(crate) async fn verify(
    state: &ServerState,
    client: &RegisteredClient,
    raw: &str,
    audiences: &[String],
) -> Result<(), AssertionError> {
    let refused = AssertionError::Refused;
    let verified = match client.token_endpoint_auth_method {
        Some(ClientAuthMethod::PrivateKeyJwt) => signed_by_keys(state, client, raw).await?,
        Some(ClientAuthMethod::ClientSecretJwt) => {
            // Runtime clients' secrets are kept hashed: only a configured secret signs.
            let secret = client.secret.as_ref().ok_or(refused(
                "the client has no secret to check an assertion with",
            ))?;
            let key = ProviderKey::new_symmetric(secret.expose().as_bytes().to_vec());
            verify_with(raw, &SECRET_ALGS, &JsonWebKeySet::new(vec![key])).map_err(signature)?
        }
        _ => return Err(refused("the client does not authenticate with assertions")),
    };
    if !typ_allows(verified.typ.as_deref(), "client-authentication+jwt") {
        return Err(refused("the assertion is another kind of JWT"));
    }
    let claims = &verified.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client.id.as_str()) || text("sub") != Some(client.id.as_str()) {
        return Err(refused("iss and sub must be the client id"));
    }
    if !audience_matches(claims, audiences) {
        return Err(refused("the assertion is for another audience"));
    }
    let now = now();
    let exp = match time_claim(claims, "exp") {
        Ok(Some(exp)) if exp + LEEWAY > now && exp <= now + MAX_LIFETIME => exp,
        _ => return Err(refused("exp is missing, past, or too far ahead")),
    };
    for early in ["nbf", "iat"] {
        match time_claim(claims, early) {
            Ok(None) => {}
            Ok(Some(at)) if at <= now + LEEWAY => {}
            _ => return Err(refused("the assertion is not valid yet")),
        }
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(refused("jti is required"))?;
    let once = TokenHash::of(&format!("client_assertion\0{}\0{jti}", client.id));
    match state.store.use_once(&once, exp + LEEWAY).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused("the assertion was used already")),
        Err(e) => {
            log::error!("rocket_oauth: recording a client assertion failed: {e}");
            Err(AssertionError::Unavailable)
        }
    }
}

fn signature(e: JwsError) -> AssertionError {
    match e {
        JwsError::Keys(e) => {
            log::warn!("rocket_oauth: a client's keys could not be fetched: {e}");
            AssertionError::Unavailable
        }
        _ => AssertionError::Refused("the assertion's signature is refused"),
    }
}

/// Checks a `private_key_jwt` assertion's signature with the client's registered keys.
async fn signed_by_keys(
    state: &ServerState,
    client: &RegisteredClient,
    raw: &str,
) -> Result<crate::protocol::oidc::jws::Verified, AssertionError> {
    if let Some(jwks) = &client.jwks {
        let keys: KeySet = serde_json::from_value(jwks.clone())
            .map_err(|_| AssertionError::Refused("the client's jwks cannot be read"))?;
        // Public keys only: a symmetric key in a JWK Set is not the client's to sign with.
        let shared = openidconnect::core::CoreJsonWebKeyType::Symmetric;
        if keys.keys().iter().any(|k| *k.key_type() == shared) {
            return Err(AssertionError::Refused(
                "the client's jwks holds a shared key",
            ));
        }
        return verify_with(raw, &KEY_ALGS, &keys).map_err(signature);
    }
    let uri = client
        .jwks_uri
        .as_deref()
        .ok_or(AssertionError::Refused("the client registered no keys"))?;
    let keys = &state.client_keys;
    let jwks = keys.jwks(uri).ok_or(AssertionError::Refused(
        "the client's jwks_uri is not a URL",
    ))?;
    let http = match client.registered_at {
        Some(_) => &keys.public_only,
        None => &keys.trusted,
    };
    verify_jws(raw, &KEY_ALGS, &jwks, http)
        .await
        .map_err(signature)
}
