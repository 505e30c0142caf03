//! The mock's signing keys (test keys published with the crate), through openidconnect's own
//! signing key types.

use std::sync::atomic::{AtomicUsize, Ordering};

use openidconnect::core::{CoreEdDsaPrivateSigningKey, CoreJsonWebKey, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};

/// Test keys, published with the crate: never use them for anything but tests.
const RSA_KEYS: [&str; 2] = [include_str!("keys/rsa1.pem"), include_str!("keys/rsa2.pem")];
const ED25519_KEY: &str = include_str!("keys/ed25519.pem");

/// The mock's signing keys.
pub(super) struct Keys {
    pub(super) rsa: [CoreRsaPrivateSigningKey; 2],
    /// The same key material as `rsa[1]` under a key id the JWKS never lists.
    pub(super) unlisted: CoreRsaPrivateSigningKey,
    pub(super) ed25519: CoreEdDsaPrivateSigningKey,
    /// The index of the RSA key in use (and published).
    current: AtomicUsize,
}

fn rsa_key(pem: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into())))
        .expect("the kit's RSA test key")
}

impl Keys {
    pub(super) fn load() -> Keys {
        Keys {
            rsa: [rsa_key(RSA_KEYS[0], "rsa-0"), rsa_key(RSA_KEYS[1], "rsa-1")],
            unlisted: rsa_key(RSA_KEYS[1], "rsa-unlisted"),
            ed25519: CoreEdDsaPrivateSigningKey::from_ed25519_pem(
                ED25519_KEY,
                Some(JsonWebKeyId::new("ed25519-0".into())),
            )
            .expect("the kit's Ed25519 test key"),
            current: AtomicUsize::new(0),
        }
    }

    pub(super) fn rotate(&self) {
        self.current.fetch_xor(1, Ordering::SeqCst);
    }

    pub(super) fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    /// The published keys.
    pub(super) fn jwks(&self) -> Vec<CoreJsonWebKey> {
        vec![
            self.rsa[self.current()].as_verification_key(),
            self.ed25519.as_verification_key(),
        ]
    }

    /// The current RSA public key as PEM (what a key-confusion attacker would HMAC with).
    pub(super) fn rsa_public_pem(&self) -> String {
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_KEYS[self.current()])
            .expect("the kit's RSA test key");
        key.to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a PEM public key")
    }
}
