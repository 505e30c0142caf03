//! Compact JWS tokens that `openidconnect` has no type for (a logout token may lack `sub`; an
//! access token is not an ID token): split and decoded here, their signatures checked with a
//! provider's keys exactly as an ID token's are — the same cached JWKS (refetched once for an
//! unknown `kid`), asymmetric algorithms only, the key chosen by `kid` and compatibility, and
//! the key's own `JsonWebKey::verify_signature` (openidconnect's, or `ring`'s for the common
//! algorithms).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, JwsSigningAlgorithm,
};
use serde_json::{Map, Value};

use super::jwks::{Jwks, KeySet, ProviderKey};
use crate::protocol::http::{HttpClient, HttpError};

/// Why a JWS was refused before its claims were read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwsError {
    /// Not a compact JWS with a JSON header and JSON claims.
    #[error("it is not a signed JWT")]
    Malformed,
    /// The algorithm or the signature is not acceptable.
    #[error("its signature is refused: {0}")]
    Signature(&'static str),
    /// The provider's keys could not be fetched.
    #[error("the signing keys could not be fetched: {0}")]
    Keys(#[source] HttpError),
}

/// A compact JWS whose signature was checked: its header's `typ`, and its claims.
#[derive(Debug)]
pub(crate) struct Verified {
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
}

/// Checks `raw`'s signature: its `alg` must be one of `algs` (never a shared-secret one)
/// and a key of `jwks` must verify it.
pub(crate) async fn verify_jws(
    raw: &str,
    algs: &[CoreJwsSigningAlgorithm],
    jwks: &Jwks,
    http: &HttpClient,
) -> Result<Verified, JwsError> {
    let jws = Jws::parse(raw)?;
    if !algs.contains(&jws.alg) || jws.alg.uses_shared_secret() {
        return Err(JwsError::Signature("the algorithm is not allowed"));
    }
    let mut keys = jwks.keys(http).await.map_err(JwsError::Keys)?;
    loop {
        match jws.verify(&keys) {
            Check::Yes => break,
            Check::No => return Err(JwsError::Signature("it does not verify")),
            Check::NoKey => match jwks.refetch(http, &keys).await.map_err(JwsError::Keys)? {
                Some(fresh) if !Arc::ptr_eq(&fresh, &keys) => keys = fresh,
                _ => return Err(JwsError::Signature("no key matches it")),
            },
        }
    }
    Ok(Verified {
        typ: jws.typ,
        claims: jws.claims,
    })
}

/// Checks `raw`'s signature with a key of `keys` (a client's registered keys, or a shared
/// secret as an `oct` key): its `alg` must be one of `algs`.
#[cfg(feature = "server")]
pub(crate) fn verify_with(
    raw: &str,
    algs: &[CoreJwsSigningAlgorithm],
    keys: &KeySet,
) -> Result<Verified, JwsError> {
    let jws = Jws::parse(raw)?;
    if !algs.contains(&jws.alg) {
        return Err(JwsError::Signature("the algorithm is not allowed"));
    }
    match jws.verify(keys) {
        Check::Yes => Ok(Verified {
            typ: jws.typ,
            claims: jws.claims,
        }),
        Check::No => Err(JwsError::Signature("it does not verify")),
        Check::NoKey => Err(JwsError::Signature("no key matches it")),
    }
}

/// Checks a JWS that carries its own public key in its header (`jwk`, a DPoP proof, RFC
/// 9449 §4.2): the key must be public, the `alg` asymmetric and one of `algs`. Returns the
/// claims and the key.
pub(crate) fn verify_embedded(
    raw: &str,
    algs: &[CoreJwsSigningAlgorithm],
) -> Result<(Verified, Map<String, Value>), JwsError> {
    let jws = Jws::parse(raw)?;
    if !algs.contains(&jws.alg) || jws.alg.uses_shared_secret() {
        return Err(JwsError::Signature("the algorithm is not allowed"));
    }
    let Some(jwk) = jws.jwk.clone() else {
        return Err(JwsError::Malformed);
    };
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if PRIVATE.iter().any(|m| jwk.contains_key(*m)) {
        return Err(JwsError::Signature("the header carries a private key"));
    }
    let key: ProviderKey =
        serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| JwsError::Malformed)?;
    if !compatible(&key, &jws.alg)
        || key
            .verify_signature(&jws.alg, jws.input.as_bytes(), &jws.signature)
            .is_err()
    {
        return Err(JwsError::Signature("it does not verify"));
    }
    Ok((
        Verified {
            typ: jws.typ,
            claims: jws.claims,
        },
        jwk,
    ))
}

/// A compact JWS, split and decoded (not yet verified).
struct Jws<'a> {
    alg: CoreJwsSigningAlgorithm,
    kid: Option<JsonWebKeyId>,
    typ: Option<String>,
    /// The public key the header carries, if any.
    jwk: Option<Map<String, Value>>,
    /// `header.payload`, what the signature covers.
    input: &'a str,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

enum Check {
    Yes,
    No,
    /// No key of the set may have made it.
    NoKey,
}

fn decode(part: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed)
}

fn json_object(part: &str) -> Result<Map<String, Value>, JwsError> {
    serde_json::from_slice(&decode(part)?).map_err(|_| JwsError::Malformed)
}

impl<'a> Jws<'a> {
    fn parse(raw: &'a str) -> Result<Self, JwsError> {
        let mut parts = raw.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            // An encrypted (five-part) or otherwise shaped token.
            return Err(JwsError::Malformed);
        };
        let header = json_object(header)?;
        if header.contains_key("crit") {
            // No extension is understood here, so none may be critical (RFC 7515 §4.1.11).
            return Err(JwsError::Malformed);
        }
        let alg = header
            .get("alg")
            .cloned()
            .and_then(|alg| serde_json::from_value(alg).ok())
            .ok_or(JwsError::Malformed)?;
        let text = |name: &str| match header.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(JwsError::Malformed),
        };
        Ok(Jws {
            alg,
            kid: text("kid")?.map(JsonWebKeyId::new),
            typ: text("typ")?,
            jwk: match header.get("jwk") {
                None => None,
                Some(Value::Object(jwk)) => Some(jwk.clone()),
                Some(_) => return Err(JwsError::Malformed),
            },
            input: &raw[..raw.rfind('.').unwrap_or(raw.len())],
            signature: decode(signature)?,
            claims: json_object(payload)?,
        })
    }

    /// Checks the signature with the keys that may have made it: the one named by `kid` (or,
    /// without `kid`, each; a key published without a `kid` may have made any), of the
    /// algorithm's key type, allowed to sign with it (the same rules openidconnect applies
    /// to ID tokens).
    fn verify(&self, keys: &KeySet) -> Check {
        let mut candidates = keys
            .keys()
            .iter()
            .filter(|key| {
                self.kid.is_none() || key.key_id().is_none() || key.key_id() == self.kid.as_ref()
            })
            .filter(|key| compatible(key, &self.alg))
            .peekable();
        if candidates.peek().is_none() {
            return Check::NoKey;
        }
        let verified = candidates.any(|key| {
            key.verify_signature(&self.alg, self.input.as_bytes(), &self.signature)
                .is_ok()
        });
        if verified {
            Check::Yes
        } else {
            Check::No
        }
    }
}

/// Whether `key` may verify an `alg` signature: for signing (or of no stated use), of the
/// algorithm's key type, and not bound to another algorithm.
fn compatible(key: &ProviderKey, alg: &CoreJwsSigningAlgorithm) -> bool {
    key.key_use().is_none_or(|u| u.allows_signature())
        && alg.key_type().as_ref() == Some(key.key_type())
        && match key.signing_alg() {
            JsonWebKeyAlgorithm::Unspecified => true,
            JsonWebKeyAlgorithm::Algorithm(only) => only == alg,
            JsonWebKeyAlgorithm::Unsupported => false,
        }
}

/// Whether a JWS's `typ` is absent, plain `JWT`, or `expected` (a media type, compared
/// case-insensitively, with or without its `application/` prefix, RFC 7515 §4.1.9): explicit
/// typing keeps one kind of token from passing for another (RFC 8725 §3.11).
pub(crate) fn typ_allows(typ: Option<&str>, expected: &str) -> bool {
    let Some(typ) = typ else {
        return true;
    };
    let lower = typ.to_ascii_lowercase();
    let bare = lower.strip_prefix("application/").unwrap_or(&lower);
    bare == "jwt" || bare == expected
}

/// A claim that is a time (seconds since the epoch), if present: `Err` when it is not one.
pub(crate) fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, ()> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(()),
    }
}

/// Whether an `aud` claim (a string or a list) names one of `audiences`.
pub(crate) fn audience_matches(claims: &Map<String, Value>, audiences: &[String]) -> bool {
    let named = |aud: &str| audiences.iter().any(|a| a == aud);
    match claims.get("aud") {
        Some(Value::String(aud)) => named(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(named),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_refused() {
        for raw in ["", "a.b", "a.b.c.d.e", "e30.e30.", "!!.e30.e30"] {
            assert!(Jws::parse(raw).is_err(), "{raw}");
        }
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","crit":["b64"]}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA")).is_err());
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":3}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA")).is_err());
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":["at+jwt"]}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA")).is_err());
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k","typ":"at+jwt"}"#);
        let raw = format!("{header}.e30.AA");
        let jws = Jws::parse(&raw).unwrap();
        assert_eq!(jws.input, format!("{header}.e30"));
        assert_eq!(jws.typ.as_deref(), Some("at+jwt"));
        assert!(jws.claims.is_empty());
    }

    #[test]
    fn explicit_types() {
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/AT+JWT"),
        ] {
            assert!(typ_allows(typ, "at+jwt"), "{typ:?}");
        }
        for typ in [
            Some("logout+jwt"),
            Some("dpop+jwt"),
            Some(""),
            Some("application/jwt+x"),
        ] {
            assert!(!typ_allows(typ, "at+jwt"), "{typ:?}");
        }
    }

    #[test]
    fn audiences_and_times() {
        let claims = |v: Value| v.as_object().cloned().unwrap();
        let api = ["https://api.example".to_owned()];
        assert!(audience_matches(
            &claims(serde_json::json!({"aud": "https://api.example"})),
            &api
        ));
        assert!(audience_matches(
            &claims(serde_json::json!({"aud": ["x", "https://api.example"]})),
            &api
        ));
        assert!(!audience_matches(
            &claims(serde_json::json!({"aud": ["x"]})),
            &api
        ));
        assert!(!audience_matches(&claims(serde_json::json!({})), &api));
        let c = claims(serde_json::json!({"exp": 5, "nbf": 5.5, "iat": "soon"}));
        assert_eq!(time_claim(&c, "exp"), Ok(Some(5)));
        assert_eq!(time_claim(&c, "nbf"), Ok(Some(5)));
        assert_eq!(time_claim(&c, "iat"), Err(()));
        assert_eq!(time_claim(&c, "other"), Ok(None));
    }

    proptest::proptest! {
        /// Outside input: any text is refused or parsed, never a panic.
        #[test]
        fn any_token_text_is_harmless(raw in "\\PC{0,300}", parts in proptest::collection::vec("[A-Za-z0-9_-]{0,40}", 0..6)) {
            let _ = Jws::parse(&raw);
            let _ = Jws::parse(&parts.join("."));
        }
    }
}
