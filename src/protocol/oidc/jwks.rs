//! A provider's signing keys (JWKS): cached with a TTL, refetched once (single-flight and
//! rate-limited) when a token names a key we do not have.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeySet, JsonWebKeyUse,
    SignatureVerificationError,
};
use ring::signature::{self as ring_sig, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::protocol::http::{HttpClient, HttpError};

/// A provider's key set, with each key prepared for verification.
pub(crate) type KeySet = JsonWebKeySet<ProviderKey>;

/// A provider's public signing key: openidconnect's JWK (which every check but the
/// signature arithmetic goes through), with its key material decoded once, at fetch time,
/// for `ring`'s verifiers: ES256 and RS/PS256–512 signatures are checked by `ring` (several
/// times faster than the pure-Rust verifiers), other algorithms by openidconnect. Cloning
/// is a reference count (the ID token verifier takes the set by value).
#[derive(Clone, Debug)]
pub(crate) struct ProviderKey(Arc<Prepared>);

#[derive(Debug)]
struct Prepared {
    jwk: CoreJsonWebKey,
    fast: Option<Fast>,
}

/// Key material in `ring`'s form.
#[derive(Debug)]
enum Fast {
    /// An uncompressed P-256 point (`0x04 ‖ x ‖ y`).
    P256(Vec<u8>),
    /// An RSA modulus of at least 2048 bits, and its exponent.
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
}

impl ProviderKey {
    fn new(jwk: CoreJsonWebKey) -> Self {
        let fast = Self::prepare(&jwk);
        ProviderKey(Arc::new(Prepared { jwk, fast }))
    }

    /// The JWK's public parameters in `ring`'s form (read through its JSON form: the
    /// crate keeps them private).
    fn prepare(jwk: &CoreJsonWebKey) -> Option<Fast> {
        let value = serde_json::to_value(jwk).ok()?;
        let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        let bytes = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(text(name)?.trim_end_matches('='))
                .ok()
        };
        match text("kty")? {
            "EC" if text("crv")? == "P-256" => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                Some(Fast::P256([&[4u8][..], &x, &y].concat()))
            }
            // ring verifies 2048-bit and larger moduli; smaller ones go to openidconnect.
            "RSA" => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                let n: Vec<u8> = n.into_iter().skip_while(|b| *b == 0).collect();
                (n.len() >= 256).then_some(Fast::Rsa(RsaPublicKeyComponents { n, e }))
            }
            _ => None,
        }
    }

    /// `ring`'s verifier for `alg` with this key, when it applies and the JWK allows the
    /// algorithm (its `use` and `alg`, as openidconnect checks them).
    fn fast_check(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        use CoreJwsSigningAlgorithm as A;
        let jwk = &self.0.jwk;
        if jwk.key_use().is_some_and(|u| !u.allows_signature()) {
            return None;
        }
        match jwk.signing_alg() {
            JsonWebKeyAlgorithm::Unspecified => {}
            JsonWebKeyAlgorithm::Algorithm(only) if only == alg => {}
            _ => return None,
        }
        let verified = match (self.0.fast.as_ref()?, alg) {
            (Fast::P256(point), A::EcdsaP256Sha256) => {
                UnparsedPublicKey::new(&ring_sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
            }
            (Fast::Rsa(key), alg) => {
                let params: &ring_sig::RsaParameters = match alg {
                    A::RsaSsaPkcs1V15Sha256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
                    A::RsaSsaPkcs1V15Sha384 => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
                    A::RsaSsaPkcs1V15Sha512 => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
                    A::RsaSsaPssSha256 => &ring_sig::RSA_PSS_2048_8192_SHA256,
                    A::RsaSsaPssSha384 => &ring_sig::RSA_PSS_2048_8192_SHA384,
                    A::RsaSsaPssSha512 => &ring_sig::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                key.verify(params, message, signature)
            }
            _ => return None,
        };
        Some(verified.is_ok())
    }
}

impl Serialize for ProviderKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.jwk.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ProviderKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        CoreJsonWebKey::deserialize(deserializer).map(ProviderKey::new)
    }
}

impl JsonWebKey for ProviderKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.0.jwk.key_id()
    }

    fn key_type(&self) -> &openidconnect::core::CoreJsonWebKeyType {
        self.0.jwk.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.0.jwk.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.0.jwk.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        ProviderKey::new(CoreJsonWebKey::new_symmetric(key))
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        match self.fast_check(alg, message, signature) {
            Some(true) => Ok(()),
            Some(false) => Err(SignatureVerificationError::CryptoError(
                "the signature does not verify".into(),
            )),
            None => self.0.jwk.verify_signature(alg, message, signature),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.0.jwk.hash_bytes(bytes, alg)
    }
}

/// How long fetched signing keys are trusted before they are fetched again.
pub(crate) const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two refetches caused by unknown key ids.
pub(crate) const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// A provider's signing keys, cached with a TTL and refetched (single-flight,
/// rate-limited) when a token names a key we do not have.
pub(crate) struct Jwks {
    uri: Url,
    cache: RwLock<Option<(Arc<KeySet>, Instant)>>,
    /// Held while fetching; remembers the last refetch caused by an unknown key.
    fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    /// Where the keys are.
    pub fn uri(&self) -> &Url {
        &self.uri
    }

    pub fn new(uri: Url) -> Self {
        Jwks {
            uri,
            cache: RwLock::new(None),
            fetch: Mutex::new(None),
        }
    }

    async fn download(&self, http: &HttpClient) -> Result<Arc<KeySet>, HttpError> {
        let keys: KeySet = http.get_json(&self.uri, None).await?;
        let keys = Arc::new(keys);
        *self.cache.write().await = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    /// The cached keys, fetched if absent or older than [`JWKS_TTL`].
    pub async fn keys(&self, http: &HttpClient) -> Result<Arc<KeySet>, HttpError> {
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        let _guard = self.fetch.lock().await;
        // Another request may have fetched while we waited.
        if let Some((keys, at)) = self.cache.read().await.as_ref() {
            if at.elapsed() < JWKS_TTL {
                return Ok(keys.clone());
            }
        }
        self.download(http).await
    }

    /// Refetches because a token named an unknown key, unless `seen` is already stale (keys
    /// changed meanwhile: use the new ones) or a refetch happened within
    /// [`JWKS_REFETCH_INTERVAL`]. Returns the keys to retry with, if any.
    pub async fn refetch(
        &self,
        http: &HttpClient,
        seen: &Arc<KeySet>,
    ) -> Result<Option<Arc<KeySet>>, HttpError> {
        let mut last = self.fetch.lock().await;
        if let Some((keys, _)) = self.cache.read().await.as_ref() {
            if !Arc::ptr_eq(keys, seen) {
                return Ok(Some(keys.clone()));
            }
        }
        if last.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        self.download(http).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::DecodePrivateKey as _;

    const MESSAGE: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";

    fn key(json: serde_json::Value) -> ProviderKey {
        serde_json::from_value(json).expect("a JWK")
    }

    fn ec() -> (p256::ecdsa::SigningKey, serde_json::Value) {
        let pem = std::fs::read_to_string("tests/keys/ec1.pem").unwrap();
        let signing = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
        let point = signing.verifying_key().to_sec1_point(false);
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "e1",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        });
        (signing, jwk)
    }

    #[test]
    fn es256_signatures_are_checked_by_ring_with_the_jwks_constraints() {
        let (signing, jwk) = ec();
        let signature: p256::ecdsa::Signature = signing.sign(MESSAGE);
        let signature = signature.to_bytes().to_vec();
        let es256 = CoreJwsSigningAlgorithm::EcdsaP256Sha256;
        let k = key(jwk.clone());
        assert!(matches!(k.0.fast, Some(Fast::P256(_))));
        assert!(k.verify_signature(&es256, MESSAGE, &signature).is_ok());
        assert!(k
            .verify_signature(&es256, b"another message", &signature)
            .is_err());
        let mut tampered = signature.clone();
        tampered[10] ^= 1;
        assert!(k.verify_signature(&es256, MESSAGE, &tampered).is_err());
        // The wrong algorithm for the key, a key for encryption, a key bound to another
        // algorithm: refused (by openidconnect's own checks).
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        assert!(k.verify_signature(&rs256, MESSAGE, &signature).is_err());
        let mut enc = jwk.clone();
        enc["use"] = "enc".into();
        assert!(key(enc)
            .verify_signature(&es256, MESSAGE, &signature)
            .is_err());
        let mut bound = jwk.clone();
        bound["alg"] = "ES384".into();
        assert!(key(bound)
            .verify_signature(&es256, MESSAGE, &signature)
            .is_err());
        let mut allowed = jwk;
        allowed["alg"] = "ES256".into();
        allowed["use"] = "sig".into();
        assert!(key(allowed)
            .verify_signature(&es256, MESSAGE, &signature)
            .is_ok());
    }

    #[test]
    fn rsa_signatures_are_checked_by_ring() {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        use sha2::Digest as _;
        let pem = std::fs::read_to_string("tests/keys/rsa1.pem").unwrap();
        let private: rsa::RsaPrivateKey = rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&pem))
            .unwrap();
        let digest = sha2::Sha256::digest(MESSAGE);
        let signature = private
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
            .unwrap();
        let k = key(serde_json::json!({
            "kty": "RSA", "kid": "r1",
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }));
        assert!(matches!(k.0.fast, Some(Fast::Rsa(_))));
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        assert!(k.verify_signature(&rs256, MESSAGE, &signature).is_ok());
        assert!(k.verify_signature(&rs256, b"other", &signature).is_err());
        let ps256 = CoreJwsSigningAlgorithm::RsaSsaPssSha256;
        assert!(k.verify_signature(&ps256, MESSAGE, &signature).is_err());
        let es256 = CoreJwsSigningAlgorithm::EcdsaP256Sha256;
        assert!(k.verify_signature(&es256, MESSAGE, &signature).is_err());
        // The JWK itself round-trips unchanged.
        let back = serde_json::to_value(&k).unwrap();
        assert_eq!(back["kid"], "r1");
        assert!(back.get("d").is_none());
    }
}
