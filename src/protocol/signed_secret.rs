//! A client secret that is a signed JWT (Sign in with Apple): ES256 over `iss` (the team
//! id), `sub` (the client id), `aud`, `iat` and `exp`, with the key's id in the header;
//! signed by the `p256` crate (ECDSA over SHA-256, the signature as `r || s`: RFC 7518
//! §3.4), re-signed before it expires.

use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey as _;
use serde::Serialize;

use crate::secret::Secret;
use crate::util::now;

/// How long each signed secret is valid, in seconds (Apple allows up to six months).
const LIFETIME: i64 = 3600;

/// The settings of a signed client secret.
pub(crate) struct SignedSecret {
    team_id: String,
    key_id: String,
    client_id: String,
    audience: String,
    key: SigningKey,
    /// The current secret and when it expires.
    current: Mutex<Option<(Secret, i64)>>,
}

impl std::fmt::Debug for SignedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedSecret")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The key cannot sign ES256 (not a PKCS#8 P-256 private key).
#[derive(Debug, thiserror::Error)]
#[error("not a PKCS#8 P-256 private key: {0}")]
pub(crate) struct KeyError(String);

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl SignedSecret {
    /// The signer; `pem`: the PKCS#8 EC private key (Apple's `AuthKey_<key id>.p8`).
    pub fn new(
        team_id: String,
        key_id: String,
        client_id: String,
        audience: String,
        pem: &str,
    ) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError(e.to_string()))?;
        let signer = SignedSecret {
            team_id,
            key_id,
            client_id,
            audience,
            key,
            current: Mutex::new(None),
        };
        Ok(signer)
    }

    /// A compact JWS (RFC 7515 §7.1) of the claims for `now`, and when it expires.
    fn sign(&self, now: i64) -> (Secret, i64) {
        let header = Header {
            alg: "ES256",
            kid: &self.key_id,
        };
        let exp = now + LIFETIME;
        let claims = Claims {
            iss: &self.team_id,
            sub: &self.client_id,
            aud: &self.audience,
            iat: now,
            exp,
        };
        // Plain structs of strings and integers: serialising cannot fail.
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let claims = serde_json::to_vec(&claims).unwrap_or_default();
        let mut token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature: Signature = self.key.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        (Secret::new(token), exp)
    }

    /// The secret to send now: the current one, or a new one when it has less than a
    /// minute left.
    pub fn current(&self) -> Option<Secret> {
        let now = now();
        let mut current = self.current.lock().ok()?;
        match &*current {
            Some((secret, exp)) if *exp - 60 > now => Some(secret.clone()),
            _ => {
                let (secret, exp) = self.sign(now);
                *current = Some((secret.clone(), exp));
                Some(secret)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 test key (PKCS#8), as Apple's `.p8` files are.
    pub(crate) const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQgtcXVOAihPnRtH8
/Ykv8qPrZePwzkc4CMkH8MVkOo2hRANCAATEn3tI0FRx0usHF2tvNfymSxyo0u9Y
RnoU4HAGSVASAJYRtbh7dP5mWNiZ4qbl614PlnyXH4AnZ2youvbhXDr/
-----END PRIVATE KEY-----";

    #[test]
    fn signs_es256_with_the_key_id_and_re_signs_before_expiry() {
        let signer = SignedSecret::new(
            "TEAM123456".into(),
            "KEY1234567".into(),
            "com.example.web".into(),
            "https://appleid.apple.com".into(),
            KEY,
        )
        .unwrap();
        let secret = signer.current().unwrap();
        let token = secret.expose();
        let parts: Vec<&str> = token.split('.').collect();
        let json = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        assert_eq!(
            json(parts[0]),
            serde_json::json!({"alg": "ES256", "kid": "KEY1234567"})
        );
        let claims = json(parts[1]);
        // The signature verifies with the public key (ring's verifier, not the signer's crate).
        let public = SigningKey::from_pkcs8_pem(KEY)
            .unwrap()
            .verifying_key()
            .to_sec1_point(false);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(signature.len(), 64, "r || s");
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            public.as_bytes(),
        )
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("a valid ES256 signature");
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            LIFETIME
        );
        // The same secret until it nears its expiry, then a new one.
        assert_eq!(signer.current().unwrap().expose(), token);
        *signer.current.lock().unwrap() = Some((secret.clone(), now() + 30));
        signer.current().unwrap();
        let renewed = signer.current.lock().unwrap().as_ref().unwrap().1;
        assert!(
            renewed >= now() + LIFETIME - 1,
            "re-signed with a new expiry"
        );
        // A key that is not an EC key is refused up front.
        assert!(
            SignedSecret::new("T".into(), "K".into(), "c".into(), "a".into(), "not a key").is_err()
        );
    }
}
