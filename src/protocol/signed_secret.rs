//! A client secret that is a signed JWT (Sign in with Apple): ES256 over `iss` (the team
//! id), `sub` (the client id), `aud`, `iat` and `exp`, with the key's id in the header;
//! signed by `jsonwebtoken`, re-signed before it expires.

use std::sync::Mutex;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
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
    key: EncodingKey,
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
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let key = EncodingKey::from_ec_pem(pem.as_bytes())?;
        let signer = SignedSecret {
            team_id,
            key_id,
            client_id,
            audience,
            key,
            current: Mutex::new(None),
        };
        // Sign once now, so that a key that cannot sign fails at launch.
        signer.sign(now())?;
        Ok(signer)
    }

    fn sign(&self, now: i64) -> Result<(Secret, i64), jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let exp = now + LIFETIME;
        let claims = Claims {
            iss: &self.team_id,
            sub: &self.client_id,
            aud: &self.audience,
            iat: now,
            exp,
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok((Secret::new(token), exp))
    }

    /// The secret to send now: the current one, or a new one when it has less than a
    /// minute left.
    pub fn current(&self) -> Option<Secret> {
        let now = now();
        let mut current = self.current.lock().ok()?;
        match &*current {
            Some((secret, exp)) if *exp - 60 > now => Some(secret.clone()),
            _ => match self.sign(now) {
                Ok((secret, exp)) => {
                    *current = Some((secret.clone(), exp));
                    Some(secret)
                }
                Err(e) => {
                    log::error!("signing the client secret failed: {e}");
                    None
                }
            },
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
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
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
