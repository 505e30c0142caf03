//! [`TokenHash`]: what the server's configuration and stores keep instead of a secret.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The SHA-256 of a code or token, hex-encoded: what stores keep instead of the secret.
///
/// ```rust
/// use rocket_oauth::server::TokenHash;
///
/// let hash = TokenHash::of("secret-token");
/// assert_eq!(hash.as_str().len(), 64);
/// assert!(!hash.as_str().contains("secret"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes `secret`.
    pub fn of(secret: &str) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(secret.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        TokenHash(hex)
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a digest read back from storage.
    pub fn from_hex(hex: String) -> Self {
        TokenHash(hex)
    }
}
