//! OpenID Connect Back-Channel Logout 1.0, §2.4 and §2.6: a logout token's checks. Its
//! signature is checked as an ID token's is ([`verify_jws`]).

use serde_json::{Map, Value};

use super::id_token::{expected_issuer, Expectations, LEEWAY};
use super::jwks::Jwks;
use super::jws::{audience_matches, time_claim, typ_allows, verify_jws, JwsError};
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
    let verified = verify_jws(raw, expect.algs, jwks, http)
        .await
        .map_err(|e| match e {
            JwsError::Malformed => LogoutTokenError::Malformed,
            JwsError::Signature(why) => LogoutTokenError::Signature(why.to_owned()),
            JwsError::Keys(e) => LogoutTokenError::Keys(e),
        })?;
    if !typ_allows(verified.typ.as_deref(), "logout+jwt") {
        return Err(refused("it is another kind of token"));
    }
    check_claims(&verified.claims, expect, now)
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
    let time = |name: &str| time_claim(claims, name).ok().flatten();
    let issuer = expected_issuer(expect, claims).map_err(|_| refused("another issuer's"))?;
    if !text("iss").is_some_and(|iss| iss == issuer.0 || issuer.1) {
        return Err(refused("its iss is another issuer"));
    }
    if !audience_matches(claims, &[expect.client_id.to_owned()]) {
        return Err(refused("its aud is not this client"));
    }
    let leeway = i64::try_from(LEEWAY.as_secs()).unwrap_or(60);
    let iat = time("iat").ok_or_else(|| refused("it has no iat"))?;
    if iat > now + leeway {
        return Err(refused("it was issued in the future"));
    }
    let until = match time_claim(claims, "exp") {
        Ok(None) => iat.saturating_add(NO_EXP_LIFETIME),
        Ok(Some(exp)) => exp,
        Err(()) => return Err(refused("its exp is not a time")),
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
    use openidconnect::core::CoreJwsSigningAlgorithm;
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
}
