//! The mock's OpenID Connect parts: discovery, a JWKS whose RSA key rotates, and ID tokens
//! signed by openidconnect (or forged, when scripted).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration as ChronoDuration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreHmacKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, ClientId, IdToken, IdTokenClaims, IssuerUrl, Nonce,
    StandardClaims, SubjectIdentifier,
};
use rocket::{get, routes, Route, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::exchange::{Head, MockResponse};
use super::script::{AtHash, IdTokenFault, NonceReply, SigningAlg};
use super::state::{Shared, CLIENT_ID};

pub(super) fn routes() -> Vec<Route> {
    routes![discovery, jwks]
}

#[get("/.well-known/openid-configuration")]
async fn discovery(head: Head, shared: &State<Arc<Shared>>) -> MockResponse {
    shared.record(&head.with_body(String::new()));
    let script = shared.script();
    if let Some(answer) = script.discovery.misbehave().await {
        return answer;
    }
    let url = shared.url();
    MockResponse::json(json!({
        "issuer": shared.issuer(),
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "userinfo_endpoint": format!("{url}/userinfo"),
        "jwks_uri": format!("{url}/jwks"),
        "end_session_endpoint": format!("{url}/end_session"),
        "revocation_endpoint": format!("{url}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": script.advertised_algorithms,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": script.advertise_iss_parameter,
    }))
}

#[get("/jwks")]
async fn jwks(head: Head, shared: &State<Arc<Shared>>) -> MockResponse {
    shared.record(&head.with_body(String::new()));
    let script = shared.script();
    if let Some(answer) = script.jwks.misbehave().await {
        return answer;
    }
    let mut keys: Vec<Value> = shared
        .keys
        .jwks()
        .iter()
        .filter_map(|k| serde_json::to_value(k).ok())
        .collect();
    keys.extend(script.extra_jwks);
    MockResponse::json(json!({ "keys": keys }))
}

/// The user's claims, minus the registered ones the provider sets itself.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for Claims {}

const REGISTERED: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "auth_time",
    "acr",
];

type MockIdToken =
    IdToken<Claims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// An ID token for `subject`, as scripted; `None` if the scripted `iss` is not a URL or
/// the user is unknown.
pub(super) fn id_token(
    shared: &Shared,
    subject: &str,
    nonce: Option<&str>,
    access_token: &str,
) -> Option<String> {
    let user = shared.user(subject)?;
    let script = shared.script().id_token;
    let mut claims = user.claims().clone();
    claims.retain(|name, _| !REGISTERED.contains(&name.as_str()));
    claims
        .entry("sid")
        .or_insert_with(|| shared.provider_session(subject, false).into());
    let now = Utc::now();
    let audiences = script
        .aud
        .clone()
        .unwrap_or_else(|| vec![CLIENT_ID.to_owned()])
        .into_iter()
        .map(Audience::new)
        .collect();
    let issuer = IssuerUrl::new(script.iss.clone().unwrap_or_else(|| shared.issuer())).ok()?;
    let nonce = match &script.nonce {
        NonceReply::Echo => nonce.map(str::to_owned),
        NonceReply::Omit => None,
        NonceReply::Value(value) => Some(value.clone()),
    };
    let claims = IdTokenClaims::new(
        issuer,
        audiences,
        now + ChronoDuration::seconds(script.exp_offset),
        now + ChronoDuration::seconds(script.iat_offset),
        StandardClaims::new(SubjectIdentifier::new(subject.to_owned())),
        Claims { claims },
    )
    .set_nonce(nonce.map(Nonce::new))
    .set_authorized_party(script.azp.clone().map(ClientId::new));
    let hashed = match script.at_hash {
        AtHash::Correct => Some(AccessToken::new(access_token.to_owned())),
        AtHash::Wrong => Some(AccessToken::new(format!("not-{access_token}"))),
        AtHash::Omit => None,
    };
    let keys = &shared.keys;
    let rsa = &keys.rsa[keys.current()];
    let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    let signed = match (script.fault, script.alg) {
        (Some(IdTokenFault::UnknownKeyId), _) => {
            MockIdToken::new(claims, &keys.unlisted, rs256, hashed.as_ref(), None)
        }
        (Some(IdTokenFault::Hs256WithPublicKey), _) => MockIdToken::new(
            claims,
            &CoreHmacKey::new(keys.rsa_public_pem().into_bytes()),
            CoreJwsSigningAlgorithm::HmacSha256,
            hashed.as_ref(),
            None,
        ),
        (_, SigningAlg::EdDsa) => MockIdToken::new(
            claims,
            &keys.ed25519,
            CoreJwsSigningAlgorithm::EdDsa,
            hashed.as_ref(),
            None,
        ),
        (_, SigningAlg::Rs256) => MockIdToken::new(claims, rsa, rs256, hashed.as_ref(), None),
    }
    .ok()?;
    let token = serde_json::to_value(&signed).ok()?.as_str()?.to_owned();
    Some(match script.fault {
        Some(IdTokenFault::TamperedSignature) => tamper(&token),
        Some(IdTokenFault::AlgNone) => unsigned(&token),
        _ => token,
    })
}

/// The token with one byte of its signature changed.
fn tamper(token: &str) -> String {
    let Some((input, signature)) = token.rsplit_once('.') else {
        return token.to_owned();
    };
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if let Some(byte) = bytes.get_mut(10) {
        *byte ^= 0x55;
    }
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The token's claims under `alg: none`, without a signature.
fn unsigned(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{payload}.")
}
