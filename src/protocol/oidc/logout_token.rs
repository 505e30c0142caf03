//! OpenID Connect Back-Channel Logout 1.0, §2.4 and §2.6: a logout token's checks.
//!
//! `openidconnect` has no logout-token type (its ID token type requires `sub`, and a logout
//! token may name only `sid`), so the compact JWS is split here; its signature is checked
//! with the provider's keys exactly as an ID token's is: the same cached JWKS (refetched once
//! for an unknown `kid`), the same advertised asymmetric algorithms, and the key's own
//! `JsonWebKey::verify_signature` (openidconnect's, or `ring`'s for the common algorithms).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, JwsSigningAlgorithm,
};
use serde_json::{Map, Value};

use super::id_token::{expected_issuer, Expectations, LEEWAY};
use super::jwks::{Jwks, KeySet, ProviderKey};
use crate::protocol::error::LogoutTokenError;
use crate::protocol::flow::LogoutClaims;
use crate::protocol::http::HttpClient;

/// The event a logout token's `events` claim must carry.
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// How long after its `iat` a logout token without `exp` is accepted (some providers omit
/// `exp`, which the specification's errata made required), in seconds.
pub(crate) const NO_EXP_LIFETIME: i64 = 120;

/// The longest `jti` kept (a provider's are UUIDs or shorter).
const MAX_JTI: usize = 256;

/// Validates `raw` and returns what it ends. `now`: seconds since the epoch.
pub(crate) async fn verify_logout_token(
    raw: &str,
    expect: &Expectations<'_>,
    jwks: &Jwks,
    http: &HttpClient,
    now: i64,
) -> Result<LogoutClaims, LogoutTokenError> {
    let jws = Jws::parse(raw)?;
    if !expect.algs.contains(&jws.alg) || jws.alg.uses_shared_secret() {
        return Err(LogoutTokenError::Signature(
            "the algorithm is not one the provider signs ID tokens with".into(),
        ));
    }
    let mut keys = jwks.keys(http).await.map_err(LogoutTokenError::Keys)?;
    loop {
        match jws.verify(&keys) {
            Verified::Yes => break,
            Verified::No => return Err(LogoutTokenError::Signature("it does not verify".into())),
            Verified::NoKey => match jwks
                .refetch(http, &keys)
                .await
                .map_err(LogoutTokenError::Keys)?
            {
                Some(fresh) if !Arc::ptr_eq(&fresh, &keys) => keys = fresh,
                _ => return Err(LogoutTokenError::Signature("no key matches it".into())),
            },
        }
    }
    check_claims(&jws.claims, expect, now)
}

/// A compact JWS, split and decoded (not yet verified).
struct Jws<'a> {
    alg: CoreJwsSigningAlgorithm,
    kid: Option<JsonWebKeyId>,
    /// `header.payload`, what the signature covers.
    input: &'a str,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

enum Verified {
    Yes,
    No,
    /// No key of the set may have made it.
    NoKey,
}

fn decode(part: &str) -> Result<Vec<u8>, LogoutTokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| LogoutTokenError::Malformed)
}

fn json_object(part: &str) -> Result<Map<String, Value>, LogoutTokenError> {
    serde_json::from_slice(&decode(part)?).map_err(|_| LogoutTokenError::Malformed)
}

impl<'a> Jws<'a> {
    fn parse(raw: &'a str) -> Result<Self, LogoutTokenError> {
        let mut parts = raw.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            // An encrypted (five-part) or otherwise shaped token.
            return Err(LogoutTokenError::Malformed);
        };
        let header = json_object(header)?;
        if header.contains_key("crit") {
            // No extension is understood here, so none may be critical (RFC 7515 §4.1.11).
            return Err(LogoutTokenError::Malformed);
        }
        let alg = header
            .get("alg")
            .cloned()
            .and_then(|alg| serde_json::from_value(alg).ok())
            .ok_or(LogoutTokenError::Malformed)?;
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(JsonWebKeyId::new(kid.clone())),
            Some(_) => return Err(LogoutTokenError::Malformed),
        };
        Ok(Jws {
            alg,
            kid,
            input: &raw[..header_and_payload_len(raw)],
            signature: decode(signature)?,
            claims: json_object(payload)?,
        })
    }

    /// Checks the signature with the keys that may have made it: the one named by `kid` (or,
    /// without `kid`, each), of the algorithm's key type, allowed to sign with it (the same
    /// rules openidconnect applies to ID tokens).
    fn verify(&self, keys: &KeySet) -> Verified {
        let mut candidates = keys
            .keys()
            .iter()
            .filter(|key| self.kid.is_none() || key.key_id() == self.kid.as_ref())
            .filter(|key| compatible(key, &self.alg))
            .peekable();
        if candidates.peek().is_none() {
            return Verified::NoKey;
        }
        let verified = candidates.any(|key| {
            key.verify_signature(&self.alg, self.input.as_bytes(), &self.signature)
                .is_ok()
        });
        if verified {
            Verified::Yes
        } else {
            Verified::No
        }
    }
}

fn header_and_payload_len(raw: &str) -> usize {
    raw.rfind('.').unwrap_or(raw.len())
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

fn refused(why: &str) -> LogoutTokenError {
    LogoutTokenError::Claims(why.to_owned())
}

/// The claims checks of §2.6, steps 3 to 6 (the signature was step 2).
fn check_claims(
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
    now: i64,
) -> Result<LogoutClaims, LogoutTokenError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let issuer = expected_issuer(expect, claims).map_err(|_| refused("another issuer's"))?;
    if !text("iss").is_some_and(|iss| iss == issuer.0 || issuer.1) {
        return Err(refused("its iss is another issuer"));
    }
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.client_id)),
        _ => false,
    };
    if !audience {
        return Err(refused("its aud is not this client"));
    }
    let leeway = i64::try_from(LEEWAY.as_secs()).unwrap_or(60);
    let iat = time("iat").ok_or_else(|| refused("it has no iat"))?;
    if iat > now + leeway {
        return Err(refused("it was issued in the future"));
    }
    let until = match claims.get("exp") {
        None => iat.saturating_add(NO_EXP_LIFETIME),
        Some(exp) => exp
            .as_i64()
            .ok_or_else(|| refused("its exp is not a time"))?,
    };
    if until.saturating_add(leeway) <= now {
        return Err(refused("it has expired"));
    }
    let jti = text("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI)
        .ok_or_else(|| refused("it has no jti"))?;
    let event = claims
        .get("events")
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(refused("its events claim has no back-channel logout event"));
    }
    if claims.contains_key("nonce") {
        // §2.4: a nonce is forbidden, so that an ID token can never pass for a logout token.
        return Err(refused("it carries a nonce"));
    }
    let name = |claim: &str| match claims.get(claim) {
        None => Ok(None),
        Some(Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
        Some(_) => Err(refused("its sub or sid is not a string")),
    };
    let (sub, sid) = (name("sub")?, name("sid")?);
    if sub.is_none() && sid.is_none() {
        return Err(refused("it names neither sub nor sid"));
    }
    Ok(LogoutClaims {
        sub,
        sid,
        jti: jti.to_owned(),
        until: until.saturating_add(leeway),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_900_000_000;

    fn expect<'a>(algs: &'a [CoreJwsSigningAlgorithm]) -> Expectations<'a> {
        Expectations {
            client_id: "rp",
            issuer: "https://op.example",
            tenants: &[],
            algs,
            nonce: None,
            nonce_optional: true,
            issuer_aliases: &[],
            access_token: "",
        }
    }

    fn good() -> Map<String, Value> {
        let value = json!({
            "iss": "https://op.example", "aud": ["rp", "other"], "iat": NOW, "exp": NOW + 120,
            "jti": "j1", "sub": "alice", "sid": "s1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        });
        value.as_object().cloned().unwrap()
    }

    fn check(change: impl FnOnce(&mut Map<String, Value>)) -> Result<LogoutClaims, String> {
        let algs = [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256];
        let mut claims = good();
        change(&mut claims);
        check_claims(&claims, &expect(&algs), NOW).map_err(|e| e.to_string())
    }

    #[test]
    fn the_claims_are_checked_as_the_specification_says() {
        let ok = check(|_| {}).unwrap();
        assert_eq!(
            (ok.sub.as_deref(), ok.sid.as_deref(), ok.jti.as_str()),
            (Some("alice"), Some("s1"), "j1")
        );
        assert_eq!(ok.until, NOW + 120 + 60);
        assert!(check(|c| drop(c.remove("sub"))).is_ok());
        assert!(check(|c| drop(c.remove("sid"))).is_ok());
        // Without exp: accepted shortly after iat, remembered that long.
        let no_exp = check(|c| drop(c.remove("exp"))).unwrap();
        assert_eq!(no_exp.until, NOW + NO_EXP_LIFETIME + 60);
        type Change = Box<dyn FnOnce(&mut Map<String, Value>)>;
        let refusals: [(&str, Change); 13] = [
            (
                "nonce",
                Box::new(|c| drop(c.insert("nonce".into(), "n".into()))),
            ),
            (
                "iss",
                Box::new(|c| drop(c.insert("iss".into(), "https://evil.example".into()))),
            ),
            (
                "aud",
                Box::new(|c| drop(c.insert("aud".into(), "another-rp".into()))),
            ),
            ("aud", Box::new(|c| drop(c.remove("aud")))),
            (
                "expired",
                Box::new(|c| drop(c.insert("exp".into(), (NOW - 61).into()))),
            ),
            (
                "future",
                Box::new(|c| drop(c.insert("iat".into(), (NOW + 61).into()))),
            ),
            ("iat", Box::new(|c| drop(c.remove("iat")))),
            ("jti", Box::new(|c| drop(c.remove("jti")))),
            ("events", Box::new(|c| drop(c.remove("events")))),
            (
                "events",
                Box::new(|c| {
                    drop(c.insert("events".into(), json!({BACKCHANNEL_LOGOUT_EVENT: "x"})))
                }),
            ),
            (
                "neither",
                Box::new(|c| {
                    c.remove("sub");
                    c.remove("sid");
                }),
            ),
            (
                "string",
                Box::new(|c| drop(c.insert("sid".into(), 7.into()))),
            ),
            (
                "expired",
                Box::new(|c| {
                    c.remove("exp");
                    c.insert("iat".into(), (NOW - NO_EXP_LIFETIME - 61).into());
                }),
            ),
        ];
        for (what, change) in refusals {
            assert!(check(change).is_err(), "{what} was accepted");
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for raw in ["", "a.b", "a.b.c.d.e", "e30.e30.", "!!.e30.e30"] {
            assert!(Jws::parse(raw).is_err(), "{raw}");
        }
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","crit":["b64"]}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA")).is_err());
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":3}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA")).is_err());
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#);
        let raw = format!("{header}.e30.AA");
        let jws = Jws::parse(&raw).unwrap();
        assert_eq!(jws.input, format!("{header}.e30"));
        assert!(jws.claims.is_empty());
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
