//! [`Secret`]: a string that never shows itself in `Debug` output, logs or pages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret value: a client secret, an access, refresh or ID token.
///
/// `Debug` prints `[redacted]`, there is no `Display`, and no `PartialEq` (compare secrets
/// in constant time). The value is reached only through [`Secret::expose`].
///
/// ```rust
/// use rocket_oauth::Secret;
///
/// let secret = Secret::new("s3cret");
/// assert_eq!(format!("{secret:?}"), "Secret([redacted])");
/// assert_eq!(secret.expose(), "s3cret");
/// ```
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself.
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}
