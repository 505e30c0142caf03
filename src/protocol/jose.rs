//! The JWTs this crate signs as a client: private_key_jwt client assertions (RFC 7523) and
//! DPoP proofs (RFC 9449). The keys are `ring`'s (ES256 on P-256, RS256), the signatures
//! `ring`'s too; this file only reads key files, lays out the compact JWS and computes JWK
//! thumbprints (RFC 7638).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Why a private key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    /// Not PEM at all.
    #[error("it is not a PEM file")]
    NotPem,
    /// PEM, but not a key `ring` signs with.
    #[error(
        "it is not an RSA (PKCS#1 or PKCS#8) or P-256 (PKCS#8) private key; convert an \
         `EC PRIVATE KEY` with `openssl pkcs8 -topk8 -nocrypt`"
    )]
    Unsupported,
    /// The system's random generator failed.
    #[error("no key could be generated")]
    Generate,
}

enum Pair {
    Ec(Box<EcdsaKeyPair>),
    Rsa(Box<RsaKeyPair>),
}

/// A private key that signs JWTs: ES256 or RS256, with its public JWK's thumbprint.
pub(crate) struct SigningKey {
    pair: Pair,
    /// The public key as a JWK (`kty` and its parameters only).
    public: Map<String, Value>,
    /// The `kid` it is published under: the configured one, else the thumbprint.
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private half.
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// A new P-256 key and its PKCS#8 document (to keep it, e.g. in a session).
    pub fn generate_es256() -> Result<(SigningKey, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Generate)?;
        let key = SigningKey::es256(pkcs8.as_ref())?;
        Ok((key, pkcs8.as_ref().to_vec()))
    }

    /// A P-256 key from its PKCS#8 document.
    pub fn es256(pkcs8: &[u8]) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| KeyError::Unsupported)?;
        // An uncompressed SEC1 point: 0x04, x, y.
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return Err(KeyError::Unsupported);
        }
        let public = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64(&point[1..33]),
            "y": b64(&point[33..]),
        });
        Ok(SigningKey::with_public(Pair::Ec(Box::new(pair)), public))
    }

    /// A private key from a PEM file: RSA (PKCS#1 or PKCS#8) or P-256 (PKCS#8).
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let (label, der) = rsa::pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|_| KeyError::NotPem)?;
        match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(SigningKey::rsa)
                .map_err(|_| KeyError::Unsupported),
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(&der) {
                Ok(pair) => Ok(SigningKey::rsa(pair)),
                Err(_) => SigningKey::es256(&der),
            },
            _ => Err(KeyError::Unsupported),
        }
    }

    fn rsa(pair: RsaKeyPair) -> SigningKey {
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let public = json!({ "kty": "RSA", "n": b64(&components.n), "e": b64(&components.e) });
        SigningKey::with_public(Pair::Rsa(Box::new(pair)), public)
    }

    fn with_public(pair: Pair, public: Value) -> SigningKey {
        let public = match public {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        SigningKey {
            pair,
            kid: thumbprint(&public).unwrap_or_default(),
            public,
        }
    }

    /// Publishes the key under `kid` instead of its thumbprint.
    pub fn with_kid(mut self, kid: Option<String>) -> SigningKey {
        if let Some(kid) = kid {
            self.kid = kid;
        }
        self
    }

    /// `ES256` or `RS256`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Ec(_) => "ES256",
            Pair::Rsa(_) => "RS256",
        }
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The RFC 7638 thumbprint of its public key (DPoP's `jkt`).
    #[cfg(test)]
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.public).unwrap_or_default()
    }

    /// The public key as a bare JWK (what a DPoP proof's header carries).
    pub fn public_jwk(&self) -> Value {
        Value::Object(self.public.clone())
    }

    /// The public key as a JWKS entry (`kid`, `alg`, `use`), for providers that fetch the
    /// client's keys.
    pub fn published_jwk(&self) -> Value {
        let mut jwk = self.public.clone();
        jwk.insert("kid".into(), json!(self.kid));
        jwk.insert("alg".into(), json!(self.alg()));
        jwk.insert("use".into(), json!("sig"));
        Value::Object(jwk)
    }

    /// A compact JWS of `claims` with `header` (to which `alg` is added).
    pub fn sign(&self, mut header: Map<String, Value>, claims: &Value) -> Option<String> {
        header.insert("alg".into(), json!(self.alg()));
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            Pair::Ec(pair) => pair.sign(&rng, input.as_bytes()).ok()?.as_ref().to_vec(),
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                    .ok()?;
                signature
            }
        };
        Some(format!("{input}.{}", b64(&signature)))
    }
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 of its required members, in
/// lexicographic order, without whitespace; `None` for a key type it does not define.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let members: &[&str] = match text("kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = Map::new();
    for name in members {
        canonical.insert((*name).to_owned(), json!(text(name)?));
    }
    // serde_json's map is sorted by key: the canonical order.
    let canonical = Value::Object(canonical).to_string();
    Some(b64(&Sha256::digest(canonical.as_bytes())))
}

/// `base64url(SHA-256(value))`: a DPoP proof's `ath`, a code challenge.
pub(crate) fn sha256_b64(value: &str) -> String {
    b64(&Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(jwk.as_object().unwrap()).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(thumbprint(json!({"kty": "oct"}).as_object().unwrap()), None);
        assert_eq!(thumbprint(json!({"kty": "EC"}).as_object().unwrap()), None);
    }

    #[test]
    fn generated_keys_sign_what_their_public_half_verifies() {
        let (key, pkcs8) = SigningKey::generate_es256().unwrap();
        let again = SigningKey::es256(&pkcs8).unwrap();
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_eq!(key.kid(), key.thumbprint());
        let jws = key.sign(Map::new(), &json!({"a": 1})).unwrap();
        let (input, signature) = jws.rsplit_once('.').unwrap();
        let point = again.pair_public();
        let verifier = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            point,
        );
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        verifier.verify(input.as_bytes(), &signature).unwrap();
        assert_eq!(key.published_jwk()["use"], "sig");
        assert!(key.public_jwk().get("d").is_none());
    }

    #[test]
    fn key_files() {
        assert!(matches!(
            SigningKey::from_pem("not a key"),
            Err(KeyError::NotPem)
        ));
        let rsa = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::EncodePrivateKey;
        let pkcs1 = rsa.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let pkcs8 = rsa.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let a = SigningKey::from_pem(&pkcs1).unwrap();
        let b = SigningKey::from_pem(&pkcs8).unwrap();
        assert_eq!(a.alg(), "RS256");
        assert_eq!(a.thumbprint(), b.thumbprint());
        assert!(a.sign(Map::new(), &json!({})).is_some());
        let other = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            SigningKey::from_pem(other),
            Err(KeyError::Unsupported)
        ));
    }

    impl SigningKey {
        fn pair_public(&self) -> Vec<u8> {
            match &self.pair {
                Pair::Ec(pair) => pair.public_key().as_ref().to_vec(),
                Pair::Rsa(_) => Vec::new(),
            }
        }
    }
}
