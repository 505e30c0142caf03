//! Sealing what the server keeps secret in its store (generated signing keys): AES-256-GCM
//! (the `aes-gcm` crate) with a fresh random nonce per value and the record's id as associated
//! data, so a sealed value moved to another record does not open. The key is derived with
//! HKDF-SHA256 from the application's `secret_key`, so every instance sharing it opens what
//! any of them sealed.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;

/// The length of an AES-GCM nonce.
const NONCE: usize = 12;

/// Seals and opens values under one key.
pub(crate) struct Sealer(Aes256Gcm);

impl Sealer {
    /// The sealer of `secret` (the application's `secret_key`) for `purpose`.
    pub fn derive(secret: &[u8], purpose: &str) -> Sealer {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(Some(b"rocket_oauth"), secret)
            .expand(purpose.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Sealer(Aes256Gcm::new(&key.into()))
    }

    /// A sealer with a random key (what it seals opens only in this process).
    pub fn random() -> Sealer {
        Sealer(Aes256Gcm::new(&Aes256Gcm::generate_key(OsRng)))
    }

    /// `plaintext` sealed for record `id`: base64url of the nonce and the ciphertext.
    pub fn seal(&self, id: &str, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: id.as_bytes(),
        };
        // Encryption fails only for inputs of 64 GiB and more.
        let sealed = self.0.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of `sealed`, if it was sealed by this key for record `id`.
    pub fn open(&self, id: &str, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE);
        let payload = Payload {
            msg: ciphertext,
            aad: id.as_bytes(),
        };
        let plain = self.0.decrypt(Nonce::from_slice(nonce), payload).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_for_one_record_and_one_key() {
        let sealer = Sealer::derive(b"the app's secret_key", "signing keys");
        let sealed = sealer.seal("kid-1", "-----BEGIN PRIVATE KEY-----");
        assert!(!sealed.contains("PRIVATE"));
        assert_ne!(
            sealed,
            sealer.seal("kid-1", "-----BEGIN PRIVATE KEY-----"),
            "fresh nonce"
        );
        assert_eq!(
            sealer.open("kid-1", &sealed).as_deref(),
            Some("-----BEGIN PRIVATE KEY-----")
        );
        // Another instance with the same secret_key opens it ...
        let twin = Sealer::derive(b"the app's secret_key", "signing keys");
        assert!(twin.open("kid-1", &sealed).is_some());
        // ... another record, key, purpose or a tampered value does not.
        assert_eq!(sealer.open("kid-2", &sealed), None);
        assert_eq!(
            Sealer::derive(b"another secret", "signing keys").open("kid-1", &sealed),
            None
        );
        assert_eq!(
            Sealer::derive(b"the app's secret_key", "other").open("kid-1", &sealed),
            None
        );
        assert_eq!(Sealer::random().open("kid-1", &sealed), None);
        let mut tampered = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            sealer.open("kid-1", &URL_SAFE_NO_PAD.encode(tampered)),
            None
        );
        for garbage in ["", "!!", "AAAA", &sealed[..10]] {
            assert_eq!(sealer.open("kid-1", garbage), None);
        }
    }
}
