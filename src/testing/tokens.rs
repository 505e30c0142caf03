//! Tokens signed by the mock provider other than ID tokens: back-channel logout tokens
//! (OpenID Connect Back-Channel Logout 1.0), to test an app's `backchannel_logout`, and JWT
//! access tokens (RFC 9068), to test an API's resource-server guard.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{JsonWebKey, PrivateSigningKey};
use serde_json::{json, Map, Value};

use super::mock::MockProvider;
use super::state::{Shared, CLIENT_ID};

/// A JWT from the [`MockProvider`], signed with its current key (RS256): a back-channel
/// logout token ([`MockProvider::logout_token`]) or an access token
/// ([`MockProvider::access_token`]), valid unless changed to test what an app must refuse.
///
/// ```rust
/// let mock = rocket_oauth::testing::MockProvider::start();
/// let token = mock.logout_token("alice").without("sub").claim("nonce", "n");
/// assert_eq!(token.encode().split('.').count(), 3);
/// ```
#[derive(Clone)]
pub struct SignedToken {
    shared: Arc<Shared>,
    typ: Option<String>,
    claims: Map<String, Value>,
    forgery: Option<Forgery>,
}

/// How a [`SignedToken`] is forged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forgery {
    /// Signed with a key that is not the provider's, under the published key's id.
    OtherKey,
    /// `alg: none`, no signature.
    Unsigned,
    /// HS256 with the provider's public key as the secret (algorithm confusion).
    Hs256WithPublicKey,
}

impl std::fmt::Debug for SignedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedToken")
            .field("typ", &self.typ)
            .field("claims", &self.claims)
            .field("forgery", &self.forgery)
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

    /// A valid back-channel logout token for `subject`'s current provider session, for the
    /// [`CLIENT_ID`] client, for two minutes, naming the user (`sub`) and their provider
    /// session (`sid`) (see [`SignedToken`]).
    ///
    /// ```rust
    /// let mock = rocket_oauth::testing::MockProvider::start();
    /// let token = mock.logout_token("alice");
    /// assert_eq!(token.claims()["sub"], "alice");
    /// ```
    pub fn logout_token(&self, subject: &str) -> SignedToken {
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
        self.signed("logout+jwt", claims)
    }

    /// A valid JWT access token (RFC 9068, `typ: at+jwt`) for `subject`, for five minutes,
    /// to the [`CLIENT_ID`] client, for the API `audience`, granting `scopes` (space-separated):
    /// what an API protected by [`Bearer`](crate::resource::Bearer) with this mock as its
    /// issuer accepts.
    ///
    /// ```rust
    /// let mock = rocket_oauth::testing::MockProvider::start();
    /// let token = mock.access_token("alice", "https://api.example", "profile");
    /// assert_eq!(token.claims()["scope"], "profile");
    /// let expired = token.claim("exp", 1);
    /// # let _ = expired.encode();
    /// ```
    pub fn access_token(&self, subject: &str, audience: &str, scopes: &str) -> SignedToken {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.shared.issuer(),
            "aud": audience,
            "sub": subject,
            "client_id": CLIENT_ID,
            "scope": scopes,
            "iat": now,
            "exp": now + 300,
            "jti": self.shared.random("jti"),
        });
        self.signed("at+jwt", claims)
    }

    /// `figment` with `oauth.resource.<R::NAME>` trusting this mock as the issuer of access
    /// tokens for `audience` (with a short timeout): for testing an API guarded by
    /// [`Bearer<R>`](crate::resource::Bearer) with [`access_token`](Self::access_token)s.
    ///
    /// ```rust
    /// use rocket_oauth::resource::Resource;
    /// use rocket_oauth::testing::{self, MockProvider};
    ///
    /// struct Idp;
    /// impl Resource for Idp {
    ///     const NAME: &'static str = "idp";
    /// }
    ///
    /// let mock = MockProvider::start();
    /// let figment = mock.configure_resource::<Idp>(testing::figment(), "https://api.example");
    /// assert_eq!(figment.extract_inner::<String>("oauth.resource.idp.issuer").unwrap(), mock.issuer());
    /// ```
    pub fn configure_resource<R: crate::resource::Resource>(
        &self,
        figment: rocket::figment::Figment,
        audience: &str,
    ) -> rocket::figment::Figment {
        let table = json!({ "issuer": self.shared.issuer(), "audience": audience, "timeout": 2 });
        figment.merge((format!("oauth.resource.{}", R::NAME), table))
    }

    fn signed(&self, typ: &str, claims: Value) -> SignedToken {
        SignedToken {
            shared: self.shared.clone(),
            typ: Some(typ.to_owned()),
            claims: claims.as_object().cloned().unwrap_or_default(),
            forgery: None,
        }
    }
}

impl SignedToken {
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

    /// Sets its header's `typ` (`None`: no `typ`, as many providers' access tokens).
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        self.typ = typ.map(str::to_owned);
        self
    }

    /// Signs it with a key that is not the provider's (its key id is the published one's):
    /// a forgery.
    pub fn forged(mut self) -> Self {
        self.forgery = Some(Forgery::OtherKey);
        self
    }

    /// Makes it unsigned (`alg: none`): a forgery.
    pub fn unsigned(mut self) -> Self {
        self.forgery = Some(Forgery::Unsigned);
        self
    }

    /// Signs it with HS256, the provider's public key (PEM) as the secret: the algorithm
    /// confusion attack a verifier must refuse.
    pub fn hs256_with_public_key(mut self) -> Self {
        self.forgery = Some(Forgery::Hs256WithPublicKey);
        self
    }

    /// The compact JWS (RS256, by openidconnect's signing key), or its forgery.
    ///
    /// # Panics
    ///
    /// When the kit's test key cannot sign (it always can).
    pub fn encode(&self) -> String {
        let keys = &self.shared.keys;
        let current = keys.current();
        let kid = keys.rsa[current].as_verification_key().key_id().cloned();
        let alg = match self.forgery {
            Some(Forgery::Unsigned) => "none",
            Some(Forgery::Hs256WithPublicKey) => "HS256",
            _ => "RS256",
        };
        let mut header = json!({ "alg": alg, "kid": kid });
        if let Some(typ) = &self.typ {
            header["typ"] = typ.clone().into();
        }
        let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!(
            "{}.{}",
            part(&header),
            part(&Value::Object(self.claims.clone()))
        );
        let signature = match self.forgery {
            Some(Forgery::Unsigned) => Vec::new(),
            Some(Forgery::Hs256WithPublicKey) => {
                let mut mac =
                    Hmac::<sha2::Sha256>::new_from_slice(keys.rsa_public_pem().as_bytes())
                        .expect("HMAC takes any key");
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // A forgery: the other (unpublished) key under the published key's id.
            forgery => {
                let other = forgery == Some(Forgery::OtherKey);
                keys.rsa[if other { current ^ 1 } else { current }]
                    .sign(
                        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                        input.as_bytes(),
                    )
                    .expect("the kit's key signs")
            }
        };
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
