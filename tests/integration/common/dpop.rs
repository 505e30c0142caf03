//! A client's ES256 key for the tests: DPoP proofs (RFC 9449) and `private_key_jwt`
//! assertions (RFC 7523), made with `p256` as any client would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::unix_now;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An ES256 key of a client's: it signs DPoP proofs and client assertions.
pub struct Key(p256::ecdsa::SigningKey);

impl Key {
    pub fn new() -> Key {
        use p256::elliptic_curve::Generate;
        Key(p256::ecdsa::SigningKey::try_generate().unwrap())
    }

    /// The private key in PKCS#8 PEM (what `oauth.<name>.client_key` takes).
    pub fn pem(&self) -> String {
        use p256::pkcs8::EncodePrivateKey;
        self.0
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        let point = self.0.verifying_key().to_sec1_point(false);
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64(point.x().unwrap()),
            "y": b64(point.y().unwrap()),
        })
    }

    /// RFC 7638: what a bound token's `cnf.jkt` is.
    pub fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    fn sign(&self, header: Value, claims: Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: p256::ecdsa::Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }

    /// A DPoP proof with exactly `claims`.
    pub fn proof_with(&self, claims: Value) -> String {
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk() });
        self.sign(header, claims)
    }

    /// A fresh proof for `htm htu`, bound to `token` when given.
    pub fn proof(&self, htm: &str, htu: &str, token: Option<&str>) -> String {
        let mut claims = json!({
            "jti": random_id(),
            "htm": htm,
            "htu": htu,
            "iat": unix_now(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(b64(&Sha256::digest(token.as_bytes())));
        }
        self.proof_with(claims)
    }

    /// A `private_key_jwt` assertion of `client` for `aud`, valid a minute.
    pub fn assertion(&self, client: &str, aud: &str) -> String {
        self.assertion_with(json!({
            "iss": client,
            "sub": client,
            "aud": aud,
            "jti": random_id(),
            "iat": unix_now(),
            "exp": unix_now() + 60,
        }))
    }

    pub fn assertion_with(&self, claims: Value) -> String {
        self.sign(json!({ "alg": "ES256", "typ": "JWT" }), claims)
    }
}

/// A unique `jti`: the clock and a counter.
pub fn random_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
