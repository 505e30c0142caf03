//! [`Credentials`]: what a completed login hands the application to act on the user's behalf.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The user's credentials with the provider: an access token (with its type, expiry,
/// scopes and refresh token) and, for OpenID Connect, the ID token.
///
/// Reached through [`Login::credentials`](crate::Login::credentials) in hooks and through the
/// guards. `Debug` never prints a token.
///
/// ```rust
/// use rocket_oauth::Login;
///
/// fn authorization_header(login: &Login) -> String {
///     format!("Bearer {}", login.credentials().access_token())
/// }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "t")]
    pub(crate) access_token: Secret,
    #[serde(rename = "y")]
    pub(crate) token_type: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<i64>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<Secret>,
    #[serde(rename = "s", default)]
    pub(crate) scopes: Vec<String>,
    /// When the tokens were received (seconds since the Unix epoch).
    #[serde(rename = "a", default)]
    pub(crate) received_at: i64,
    /// OAuth 1.0a: the token secret that signs requests with the token.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_secret: Option<Secret>,
    /// The ID token, kept as `id_token_hint` for logout at the provider.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token: Option<Secret>,
    /// DPoP (RFC 9449): the private key the tokens are bound to (PKCS#8, base64url), made
    /// for this login and kept with its session (encrypted like the tokens).
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub(crate) dpop_key: Option<Secret>,
}

impl Credentials {
    /// The access token, for calling the provider's API (`Authorization: Bearer …`); for
    /// OAuth 1.0a, the token of the token credentials.
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn access_token(&self) -> &str {
        self.access_token.expose()
    }

    /// The DPoP key the tokens are bound to, if they are.
    pub(crate) fn dpop_signing_key(&self) -> Option<super::jose::SigningKey> {
        use base64::Engine;
        let pkcs8 = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(self.dpop_key.as_ref()?.expose())
            .ok()?;
        super::jose::SigningKey::es256(&pkcs8).ok()
    }

    /// The token type, lowercase (`bearer`, or `dpop` for DPoP-bound tokens).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// The granted scopes: those the provider reported, or else those requested.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// When the access token expires, if the provider said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let at = u64::try_from(self.expires_at?).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(at))
    }

    /// Whether the access token is within `skew` seconds of its expiry at `now` (the skew is
    /// at most half the token's lifetime, so short-lived tokens are not refreshed at once).
    pub(crate) fn expires_within(&self, skew: i64, now: i64) -> bool {
        self.expires_at.is_some_and(|at| {
            let skew = skew.min(at.saturating_sub(self.received_at) / 2).max(0);
            at.saturating_sub(skew) <= now
        })
    }

    /// Whether the access token has expired at `now` (seconds since the Unix epoch); with no
    /// expiry, it never does.
    pub(crate) fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The refresh token, if the provider issued one.
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(Secret::expose)
    }

    /// OAuth 1.0a: the token secret (requests are signed with it; [`ApiClient`](crate::ApiClient)
    /// does that for you).
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn token_secret(&self) -> Option<&str> {
        self.token_secret.as_ref().map(Secret::expose)
    }

    /// The OpenID Connect ID token (validated at login), if one is kept.
    ///
    /// # Security Warning
    ///
    /// Never log it or show it in a page.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_ref().map(Secret::expose)
    }

    /// A string claim of the ID token: its `sid` is the provider's session (what the
    /// provider's logout ends), its `sub` the user as the provider names them.
    pub(crate) fn id_token_claim(&self, name: &str) -> Option<String> {
        let claims = crate::util::jwt_payload(self.id_token()?)?;
        claims.get(name)?.as_str().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_expiries_do_not_overflow() {
        let mut credentials = Credentials {
            access_token: Secret::new("a"),
            token_type: "bearer".into(),
            expires_at: Some(i64::MAX),
            refresh_token: None,
            scopes: vec![],
            received_at: 0,
            id_token: None,
            token_secret: None,
            dpop_key: None,
        };
        let _ = credentials.expires_at();
        assert!(!credentials.expires_within(i64::MAX, 0));
        credentials.expires_at = Some(-5);
        assert_eq!(credentials.expires_at(), None);
        assert!(credentials.is_expired(0));
    }
}
