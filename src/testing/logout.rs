//! Logout tokens signed by the mock provider (OpenID Connect Back-Channel Logout 1.0), to
//! test an app's `backchannel_logout`.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{JsonWebKey, PrivateSigningKey};
use serde_json::{json, Map, Value};

use super::mock::MockProvider;
use super::state::{Shared, CLIENT_ID};

/// A back-channel logout token from the [`MockProvider`], signed with its current key: valid
/// for its client ([`CLIENT_ID`]) for two minutes, naming the user (`sub`) and their provider
/// session (`sid`), unless changed to test what an app must refuse.
///
/// ```rust
/// let mock = rocket_oauth::testing::MockProvider::start();
/// let token = mock.logout_token("alice").without("sub").claim("nonce", "n");
/// assert_eq!(token.encode().split('.').count(), 3);
/// ```
#[derive(Clone)]
pub struct LogoutToken {
    shared: Arc<Shared>,
    claims: Map<String, Value>,
    forged: bool,
}

impl std::fmt::Debug for LogoutToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutToken")
            .field("claims", &self.claims)
            .field("forged", &self.forged)
            .finish()
    }
}

impl MockProvider {
    /// `subject`'s provider session: the `sid` every ID token for them names, and their
    /// logout tokens end.
    ///
    /// ```rust
    /// let mock = rocket_oauth::testing::MockProvider::start();
    /// assert_eq!(mock.provider_session("alice"), mock.provider_session("alice"));
    /// ```
    pub fn provider_session(&self, subject: &str) -> String {
        self.shared.provider_session(subject, false)
    }

    /// Starts a new provider session for `subject` (as when they sign in again in another
    /// browser): later ID tokens name the returned `sid`.
    ///
    /// ```rust
    /// let mock = rocket_oauth::testing::MockProvider::start();
    /// let first = mock.provider_session("alice");
    /// assert_ne!(mock.new_provider_session("alice"), first);
    /// ```
    pub fn new_provider_session(&self, subject: &str) -> String {
        self.shared.provider_session(subject, true)
    }

    /// A valid logout token for `subject`'s current provider session (see [`LogoutToken`]).
    ///
    /// ```rust
    /// let mock = rocket_oauth::testing::MockProvider::start();
    /// let token = mock.logout_token("alice");
    /// assert_eq!(token.claims()["sub"], "alice");
    /// ```
    pub fn logout_token(&self, subject: &str) -> LogoutToken {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.shared.issuer(),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": self.shared.random("jti"),
            "sub": subject,
            "sid": self.shared.provider_session(subject, false),
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        LogoutToken {
            shared: self.shared.clone(),
            claims: claims.as_object().cloned().unwrap_or_default(),
            forged: false,
        }
    }
}

impl LogoutToken {
    /// The claims it will carry.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Sets claim `name` (e.g. another `aud`, an old `exp`, a `nonce`).
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Leaves claim `name` out.
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Signs it with a key that is not the provider's (its key id is the published one's):
    /// a forgery.
    pub fn forged(mut self) -> Self {
        self.forged = true;
        self
    }

    /// The compact JWS (`typ: logout+jwt`, RS256), signed by openidconnect's signing key.
    ///
    /// # Panics
    ///
    /// When the kit's test key cannot sign (it always can).
    pub fn encode(&self) -> String {
        let keys = &self.shared.keys;
        let current = keys.current();
        // A forgery: the other (unpublished) key under the published key's id.
        let signer = &keys.rsa[if self.forged { current ^ 1 } else { current }];
        let kid = keys.rsa[current].as_verification_key().key_id().cloned();
        let header = json!({ "alg": "RS256", "typ": "logout+jwt", "kid": kid });
        let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!(
            "{}.{}",
            part(&header),
            part(&Value::Object(self.claims.clone()))
        );
        let signature = signer
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .expect("the kit's key signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Posts it to `url` as a provider does (a `logout_token` form field); returns the
    /// status and body of the answer.
    ///
    /// # Panics
    ///
    /// When `url` cannot be reached.
    pub async fn post_to(&self, url: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .post(url)
            .form(&[("logout_token", self.encode())])
            .send()
            .await
            .expect("the app's back-channel logout endpoint answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}
