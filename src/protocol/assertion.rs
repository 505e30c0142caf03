//! Client authentication by assertion (RFC 7523 §2.2, OpenID Connect Core §9), as a client:
//! `private_key_jwt` (signed with the app's private key, whose public half the app may
//! publish) and `client_secret_jwt` (HS256 with the client secret). Each request gets a
//! fresh assertion: a new `jti`, valid for a minute.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use url::Url;

use super::jose::SigningKey;
use crate::secret::Secret;
use crate::util::{now, random_token};

/// The `client_assertion_type` of a JWT assertion.
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid, seconds.
const LIFETIME: i64 = 60;

/// Whom an assertion is for (`aud`): the token endpoint's URL (OpenID Connect Core §9, what
/// most providers expect) or the issuer (FAPI 2.0, RFC 7523bis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionAudience {
    /// The token endpoint's URL.
    #[default]
    TokenEndpoint,
    /// The provider's issuer identifier.
    Issuer,
}

/// What signs the assertions.
#[derive(Debug)]
pub(crate) enum AssertionKey {
    /// `private_key_jwt`.
    Private(SigningKey),
    /// `client_secret_jwt`.
    Secret(Secret),
}

/// Makes the client's assertions.
#[derive(Debug)]
pub(crate) struct ClientAssertion {
    pub key: AssertionKey,
    pub audience: AssertionAudience,
}

impl ClientAssertion {
    /// A fresh assertion of `client_id` for the server whose token endpoint is `token_url`
    /// and issuer `issuer` (when known).
    pub fn make(&self, client_id: &str, token_url: &Url, issuer: Option<&str>) -> Option<String> {
        let aud = match (self.audience, issuer) {
            (AssertionAudience::Issuer, Some(issuer)) => issuer.to_owned(),
            _ => token_url.to_string(),
        };
        let now = now();
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "jti": random_token(),
            "iat": now,
            "exp": now + LIFETIME,
        });
        match &self.key {
            AssertionKey::Private(key) => {
                let mut header = Map::new();
                header.insert("kid".into(), json!(key.kid()));
                header.insert("typ".into(), json!("JWT"));
                key.sign(header, &claims)
            }
            AssertionKey::Secret(secret) => hs256(secret.expose(), &claims),
        }
    }

    /// The app's public keys as a JWK Set (for a provider that fetches them); `None` for
    /// `client_secret_jwt`.
    pub fn public_jwks(&self) -> Option<Value> {
        match &self.key {
            AssertionKey::Private(key) => Some(json!({ "keys": [key.published_jwk()] })),
            AssertionKey::Secret(_) => None,
        }
    }

    /// `form` (an encoded form body) with a fresh assertion added.
    pub fn add_to(
        &self,
        form: &mut String,
        client_id: &str,
        token_url: &Url,
        issuer: Option<&str>,
    ) {
        let Some(assertion) = self.make(client_id, token_url, issuer) else {
            log::error!("rocket_oauth: a client assertion could not be signed");
            return;
        };
        let mut body = url::form_urlencoded::Serializer::for_suffix(std::mem::take(form), 0);
        // `for_suffix(_, 0)` appends with a separator whenever the body is not empty.
        body.append_pair("client_assertion_type", ASSERTION_TYPE)
            .append_pair("client_assertion", &assertion);
        *form = body.finish();
    }
}

/// A compact JWS of `claims`, HS256 with `secret` (the `hmac` crate's MAC).
fn hs256(secret: &str, claims: &Value) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(input.as_bytes());
    Some(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_are_fresh_and_for_their_audience() {
        let key = SigningKey::generate_es256().unwrap().0;
        let assertion = ClientAssertion {
            key: AssertionKey::Private(key),
            audience: AssertionAudience::TokenEndpoint,
        };
        let token_url = Url::parse("https://as.example/token").unwrap();
        let a = assertion
            .make("app", &token_url, Some("https://as.example"))
            .unwrap();
        let b = assertion
            .make("app", &token_url, Some("https://as.example"))
            .unwrap();
        let claims = crate::util::jwt_payload(&a).unwrap();
        assert_eq!(claims["aud"], "https://as.example/token");
        assert_eq!(claims["iss"], "app");
        assert_eq!(claims["sub"], "app");
        assert_ne!(claims["jti"], crate::util::jwt_payload(&b).unwrap()["jti"]);
        assert_eq!(assertion.public_jwks().unwrap()["keys"][0]["alg"], "ES256");

        let by_issuer = ClientAssertion {
            key: AssertionKey::Secret(Secret::new("s")),
            audience: AssertionAudience::Issuer,
        };
        let c = by_issuer
            .make("app", &token_url, Some("https://as.example"))
            .unwrap();
        assert_eq!(
            crate::util::jwt_payload(&c).unwrap()["aud"],
            "https://as.example"
        );
        assert!(by_issuer.public_jwks().is_none());

        let mut form = "grant_type=refresh_token".to_owned();
        by_issuer.add_to(&mut form, "app", &token_url, None);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs[0].0, "grant_type");
        assert_eq!(
            pairs[1],
            ("client_assertion_type".into(), ASSERTION_TYPE.into())
        );
        assert_eq!(pairs[2].0, "client_assertion");
    }
}
