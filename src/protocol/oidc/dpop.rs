//! DPoP (RFC 9449) at a server: the checks of a proof (§4.3): the type, an asymmetric
//! signature by the key the header carries, `htm`, `htu`, a fresh `iat`, a `jti` used once,
//! `ath` for an access token, and (when the server asks for them) its own nonces.
use std::collections::HashSet;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
use serde_json::Value;
use sha2::Sha256;

use crate::protocol::dpop::htu;
use crate::protocol::jose::{sha256_b64, thumbprint};
use crate::protocol::oidc::jws::{time_claim, verify_embedded};
use crate::util::ct_eq;

/// The algorithms proofs may be signed with (advertised as
/// `dpop_signing_alg_values_supported`).
pub(crate) const DPOP_ALGS: [Alg; 6] = [
    Alg::EcdsaP256Sha256,
    Alg::EcdsaP384Sha384,
    Alg::RsaSsaPkcs1V15Sha256,
    Alg::RsaSsaPssSha256,
    Alg::RsaSsaPssSha384,
    Alg::EdDsa,
];

/// Their names, for metadata and challenges.
pub(crate) const DPOP_ALG_NAMES: [&str; 6] = ["ES256", "ES384", "RS256", "PS256", "PS384", "EdDSA"];

/// How old a proof's `iat` may be, in seconds.
const MAX_AGE: i64 = 120;
/// How far ahead of this clock a proof's `iat` may be, in seconds.
const MAX_AHEAD: i64 = 60;
/// A server nonce's period: a nonce is good for this period and the next.
const NONCE_PERIOD: i64 = 60;

/// Why a proof was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProofError {
    /// Not one `DPoP` header with a `dpop+jwt` JWS carrying a public key.
    #[error("the DPoP proof is malformed")]
    Malformed,
    /// The algorithm or the signature is refused.
    #[error("the DPoP proof's signature is refused")]
    Signature,
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another method")]
    Method,
    /// `htu` is not the request's URL.
    #[error("the DPoP proof is for another URL")]
    Url,
    /// `iat` is missing, too old or too far ahead.
    #[error("the DPoP proof is stale or from the future")]
    Time,
    /// `ath` is missing or not the presented token's hash.
    #[error("the DPoP proof is for another access token")]
    AccessToken,
    /// Its `jti` was seen already.
    #[error("the DPoP proof was used already")]
    Replayed,
    /// It lacks a nonce of this server's, or the nonce is stale.
    #[error("the DPoP proof lacks a fresh nonce of this server")]
    Nonce,
    /// It is signed by another key than the one the token is bound to.
    #[error("the DPoP proof's key is not the one the token is bound to")]
    Key,
}

impl ProofError {
    /// The error code of the answer (RFC 9449 §7.1, §8, §9).
    pub fn code(self) -> &'static str {
        match self {
            ProofError::Nonce => crate::protocol::http::USE_DPOP_NONCE,
            ProofError::Key => "invalid_token",
            _ => "invalid_dpop_proof",
        }
    }
}

/// A checked proof.
#[derive(Debug)]
pub(crate) struct Proof {
    /// The thumbprint of the key that signed it (what a bound token's `cnf.jkt` is).
    pub jkt: String,
}

/// What the request a proof came with was.
pub(crate) struct Request<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The request's URL (its query and fragment are ignored).
    pub url: &'a str,
    /// The access token presented with it, if any.
    pub access_token: Option<&'a str>,
}

/// The `jti`s of recent proofs: two generations, the older dropped as a whole, so that a
/// proof is remembered for at least as long as its `iat` is acceptable and no sweep ever
/// walks the set.
#[derive(Default)]
struct Seen {
    current: HashSet<String>,
    previous: HashSet<String>,
    /// When `current` was started.
    since: i64,
}

/// Checks proofs: one per server or resource guard, shared by its requests.
pub(crate) struct Checker {
    seen: Mutex<Seen>,
    /// The key of this server's nonces, when it asks for them.
    nonces: Option<[u8; 32]>,
}

impl Checker {
    /// A checker that asks for server nonces when `nonce_key` is given (a secret shared by
    /// every instance, so that any of them accepts the nonce another gave).
    pub fn new(nonce_key: Option<[u8; 32]>) -> Checker {
        Checker {
            seen: Mutex::default(),
            nonces: nonce_key,
        }
    }

    /// The nonce to hand out now (`DPoP-Nonce`), when this server asks for them.
    pub fn nonce(&self) -> Option<String> {
        self.nonce_for(crate::util::now().div_euclid(NONCE_PERIOD))
    }

    fn nonce_for(&self, period: i64) -> Option<String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.nonces.as_ref()?).ok()?;
        mac.update(b"rocket_oauth DPoP nonce");
        mac.update(&period.to_be_bytes());
        Some(base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            mac.finalize().into_bytes(),
        ))
    }

    /// Checks `raw` (the `DPoP` header) for `request`, at `now`.
    pub fn check(&self, raw: &str, request: &Request<'_>, now: i64) -> Result<Proof, ProofError> {
        if raw.len() > 8192 {
            return Err(ProofError::Malformed);
        }
        let (verified, jwk) = verify_embedded(raw, &DPOP_ALGS).map_err(|e| match e {
            crate::protocol::oidc::jws::JwsError::Signature(_) => ProofError::Signature,
            _ => ProofError::Malformed,
        })?;
        if !verified
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
        {
            return Err(ProofError::Malformed);
        }
        let claims = &verified.claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let jti = text("jti").filter(|j| !j.is_empty() && j.len() <= 256);
        let (Some(jti), Some(htm), Some(proof_htu)) = (jti, text("htm"), text("htu")) else {
            return Err(ProofError::Malformed);
        };
        if htm != request.method {
            return Err(ProofError::Method);
        }
        if htu(proof_htu).is_none() || htu(proof_htu) != htu(request.url) {
            return Err(ProofError::Url);
        }
        match time_claim(claims, "iat") {
            Ok(Some(iat)) if iat >= now - MAX_AGE && iat <= now + MAX_AHEAD => {}
            _ => return Err(ProofError::Time),
        }
        match (request.access_token, text("ath")) {
            (None, _) => {}
            (Some(token), Some(ath)) if ct_eq(&sha256_b64(token), ath) => {}
            (Some(_), _) => return Err(ProofError::AccessToken),
        }
        self.check_nonce(text("nonce"), now)?;
        let jkt = thumbprint(&jwk).ok_or(ProofError::Malformed)?;
        self.first_use(&format!("{jkt}.{jti}"), now)?;
        Ok(Proof { jkt })
    }

    fn check_nonce(&self, given: Option<&str>, now: i64) -> Result<(), ProofError> {
        if self.nonces.is_none() {
            return Ok(());
        }
        let given = given.ok_or(ProofError::Nonce)?;
        let period = now.div_euclid(NONCE_PERIOD);
        let fresh = [period, period - 1]
            .into_iter()
            .filter_map(|p| self.nonce_for(p))
            .any(|nonce| ct_eq(&nonce, given));
        fresh.then_some(()).ok_or(ProofError::Nonce)
    }

    /// Records `id`; `Replayed` when it was seen within the acceptance window.
    fn first_use(&self, id: &str, now: i64) -> Result<(), ProofError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if now - seen.since >= MAX_AGE + MAX_AHEAD {
            let current = std::mem::take(&mut seen.current);
            seen.previous = current;
            seen.since = now;
        }
        if seen.previous.contains(id) || !seen.current.insert(id.to_owned()) {
            return Err(ProofError::Replayed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dpop::proof;
    use crate::protocol::jose::SigningKey;
    use crate::util::now;
    use serde_json::{json, Map};

    fn new_key() -> SigningKey {
        SigningKey::generate_es256().unwrap().0
    }

    const URL: &str = "https://as.example/oauth/token";

    fn post(url: &str) -> Request<'_> {
        Request {
            method: "POST",
            url,
            access_token: None,
        }
    }

    #[test]
    fn a_proof_checks_once() {
        let key = new_key();
        let checker = Checker::new(None);
        let raw = proof(
            &key,
            "POST",
            "https://as.example/oauth/token?x=1#y",
            None,
            None,
        )
        .unwrap();
        let checked = checker.check(&raw, &post(URL), now()).unwrap();
        assert_eq!(checked.jkt, key.thumbprint());
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Replayed
        );
    }

    #[test]
    fn wrong_method_url_time_and_token_are_refused() {
        let key = new_key();
        let checker = Checker::new(None);
        let raw = proof(&key, "GET", URL, None, None).unwrap();
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Method
        );
        let raw = proof(
            &key,
            "POST",
            "https://other.example/oauth/token",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Url
        );
        let raw = proof(&key, "POST", URL, None, None).unwrap();
        assert_eq!(
            checker
                .check(&raw, &post(URL), now() + MAX_AGE + 5)
                .unwrap_err(),
            ProofError::Time
        );
        assert_eq!(
            checker
                .check(&raw, &post(URL), now() - MAX_AHEAD - 5)
                .unwrap_err(),
            ProofError::Time
        );
        let api = Request {
            method: "GET",
            url: "https://api.example/me",
            access_token: Some("the token"),
        };
        let raw = proof(&key, "GET", api.url, None, Some("another token")).unwrap();
        assert_eq!(
            checker.check(&raw, &api, now()).unwrap_err(),
            ProofError::AccessToken
        );
        let raw = proof(&key, "GET", api.url, None, None).unwrap();
        assert_eq!(
            checker.check(&raw, &api, now()).unwrap_err(),
            ProofError::AccessToken
        );
        let raw = proof(&key, "GET", api.url, None, Some("the token")).unwrap();
        assert!(checker.check(&raw, &api, now()).is_ok());
    }

    #[test]
    fn forged_and_mistyped_proofs_are_refused() {
        let key = new_key();
        let checker = Checker::new(None);
        let raw = proof(&key, "POST", URL, None, None).unwrap();
        // Another key's signature over the same header and claims.
        let (input, _) = raw.rsplit_once('.').unwrap();
        let stranger = new_key().sign(Map::new(), &json!({})).unwrap();
        let forged = format!("{input}.{}", stranger.rsplit_once('.').unwrap().1);
        assert_eq!(
            checker.check(&forged, &post(URL), now()).unwrap_err(),
            ProofError::Signature
        );
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        header.insert("jwk".into(), key.public_jwk());
        let claims = json!({"jti": "j", "htm": "POST", "htu": URL, "iat": now()});
        let raw = key.sign(header, &claims).unwrap();
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Malformed
        );
        assert_eq!(
            checker.check("a.b.c", &post(URL), now()).unwrap_err(),
            ProofError::Malformed
        );
    }

    #[test]
    fn server_nonces() {
        let key = new_key();
        let checker = Checker::new(Some([7; 32]));
        let raw = proof(&key, "POST", URL, None, None).unwrap();
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Nonce
        );
        assert_eq!(ProofError::Nonce.code(), "use_dpop_nonce");
        let nonce = checker.nonce().unwrap();
        let raw = proof(&key, "POST", URL, Some(&nonce), None).unwrap();
        assert!(checker.check(&raw, &post(URL), now()).is_ok());
        let raw = proof(&key, "POST", URL, Some(&nonce), None).unwrap();
        assert_eq!(
            checker
                .check(&raw, &post(URL), now() + 2 * NONCE_PERIOD)
                .unwrap_err(),
            ProofError::Nonce
        );
        // Another server's nonce.
        let stranger = Checker::new(Some([8; 32])).nonce().unwrap();
        let raw = proof(&key, "POST", URL, Some(&stranger), None).unwrap();
        assert_eq!(
            checker.check(&raw, &post(URL), now()).unwrap_err(),
            ProofError::Nonce
        );
    }

    #[test]
    fn replays_are_remembered_across_a_generation() {
        let checker = Checker::new(None);
        let start = now();
        checker.first_use("a", start).unwrap();
        // Rotated once: still remembered.
        assert!(checker.first_use("a", start + MAX_AGE + MAX_AHEAD).is_err());
        checker.first_use("b", start + MAX_AGE + MAX_AHEAD).unwrap();
        assert!(checker
            .first_use("b", start + 2 * (MAX_AGE + MAX_AHEAD) - 1)
            .is_err());
    }

    proptest::proptest! {
        /// Outside input: any header value is refused or checked, never a panic.
        #[test]
        fn any_proof_text_is_harmless(raw in "\\PC{0,400}", parts in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 0..5)) {
            let checker = Checker::new(Some([1; 32]));
            let _ = checker.check(&raw, &post(URL), now());
            let _ = checker.check(&parts.join("."), &post(URL), now());
        }
    }
}
