//! What a resource server checks of an access token, whoever issued it: a JWT's signature
//! with the issuer's keys (RFC 9068 `at+jwt`, and the untyped JWTs of Auth0, Entra ID and
//! Keycloak), or for an opaque token the issuer's RFC 7662 introspection answer (a positive
//! one kept a short while); then the same claims checks for both: issuer, audience, expiry,
//! and no sender constraint (a DPoP- or certificate-bound token is not a bearer token).

use std::collections::HashMap;
use std::sync::Mutex;

use openidconnect::core::CoreJwsSigningAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use url::Url;

use super::error::DiscoveryError;
use super::http::{HttpClient, HttpError};
use super::oauth2::{client_form, ClientAuth};
use super::oidc::discovery::{discover_server, usable};
use super::oidc::jwks::Jwks;
use super::oidc::jws::{audience_matches, time_claim, typ_allows, verify_jws, JwsError};
use crate::secret::Secret;
use crate::util::truthy;

/// How a resource server checks the access tokens it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// A token shaped like a JWT (three dot-separated parts) is checked as one, when the
    /// issuer publishes keys; any other is introspected, when introspection is configured.
    #[default]
    Auto,
    /// Every token is a JWT, checked with the issuer's keys.
    Jwt,
    /// Every token is introspected at the issuer (RFC 7662).
    Opaque,
}

/// The longest access token read (the largest JWTs in the wild are a few kilobytes).
pub(crate) const MAX_TOKEN: usize = 16 * 1024;

/// The most introspection answers kept at once.
const CACHE_LIMIT: usize = 10_000;

/// What a resource server trusts, from its configuration.
#[derive(Debug, Clone)]
pub(crate) struct ResourceSettings {
    /// The `iss` of its tokens, and where its metadata is discovered.
    pub issuer: String,
    pub discovery_url: Option<Url>,
    pub jwks_uri: Option<Url>,
    pub introspection_url: Option<Url>,
    /// Tokens must name one of these in `aud`.
    pub audiences: Vec<String>,
    pub algs: Vec<CoreJwsSigningAlgorithm>,
    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds.
    pub leeway: i64,
    pub format: TokenFormat,
    /// Who the resource server is at the introspection endpoint.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_auth: ClientAuth,
    /// How long a positive introspection answer is kept, in seconds (never past the token's
    /// `exp`); `0`: not kept.
    pub cache_ttl: i64,
}

/// Why an access token was refused, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessTokenError {
    /// Not a token this resource server can read.
    #[error("the access token is malformed")]
    Malformed,
    /// The JWT's algorithm or signature is not acceptable.
    #[error("the access token's signature is refused: {0}")]
    Signature(&'static str),
    /// A claim check failed, or the issuer says the token is not active.
    #[error("the access token is refused: {0}")]
    Refused(&'static str),
    /// The issuer's keys or introspection endpoint could not be reached or answered badly.
    #[error("the issuer could not check the token: {0}")]
    Issuer(#[source] HttpError),
    /// The issuer's metadata could not be fetched or is unusable.
    #[error("the issuer's metadata could not be discovered: {0}")]
    Discovery(#[source] DiscoveryError),
}

impl AccessTokenError {
    /// Whether the issuer is at fault (unreachable, slow, answering garbage), not the token;
    /// `Some(true)` when it timed out.
    pub fn issuer_fault(&self) -> Option<bool> {
        let http = match self {
            AccessTokenError::Issuer(e) | AccessTokenError::Discovery(DiscoveryError::Http(e)) => e,
            AccessTokenError::Discovery(_) => return Some(false),
            _ => return None,
        };
        Some(matches!(http, HttpError::Timeout))
    }
}

impl From<JwsError> for AccessTokenError {
    fn from(e: JwsError) -> Self {
        match e {
            JwsError::Malformed => AccessTokenError::Malformed,
            JwsError::Signature(why) => AccessTokenError::Signature(why),
            JwsError::Keys(e) => AccessTokenError::Issuer(e),
        }
    }
}

/// A token's claims, checked: a JWT's, or an introspection answer's.
#[derive(Debug, Clone)]
pub(crate) struct TokenClaims(pub Map<String, Value>);

impl TokenClaims {
    fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// DPoP (RFC 9449 §6): the thumbprint of the key the token is bound to (`cnf.jkt`).
    pub fn jkt(&self) -> Option<&str> {
        self.0.get("cnf")?.get("jkt")?.as_str()
    }

    /// `sub`: the user (or, for a client's own token, often the client).
    pub fn subject(&self) -> Option<&str> {
        self.text("sub")
    }

    /// The client the token was issued to: `client_id` (RFC 9068, RFC 7662), else `azp`
    /// (Auth0, Keycloak) or `appid` (Entra ID v1).
    pub fn client_id(&self) -> Option<&str> {
        ["client_id", "azp", "appid"]
            .into_iter()
            .find_map(|name| self.text(name))
    }

    /// The granted scopes: `scope` (a space-separated string, RFC 9068 and RFC 7662) or `scp`
    /// (Entra ID's string, Okta's list).
    pub fn scopes(&self) -> Vec<String> {
        let claim = self.0.get("scope").or_else(|| self.0.get("scp"));
        match claim {
            Some(Value::String(scopes)) => scopes.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(scopes)) => scopes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `exp`, seconds since the epoch.
    pub fn expires_at(&self) -> Option<i64> {
        time_claim(&self.0, "exp").ok().flatten()
    }
}

/// Where the issuer's keys and introspection endpoint are, once known.
struct Endpoints {
    jwks: Option<Jwks>,
    introspection: Option<Url>,
}

/// Checks one issuer's access tokens. Its metadata is discovered on first use (and again
/// until that succeeds); keys are cached as for ID tokens.
pub(crate) struct TokenValidator {
    settings: ResourceSettings,
    endpoints: OnceCell<Endpoints>,
    /// Positive introspection answers, by the token's SHA-256, with when they lapse.
    cache: Mutex<HashMap<[u8; 32], (TokenClaims, i64)>>,
}

impl TokenValidator {
    pub fn new(settings: ResourceSettings) -> Self {
        TokenValidator {
            settings,
            endpoints: OnceCell::new(),
            cache: Mutex::default(),
        }
    }

    async fn endpoints(&self, http: &HttpClient) -> Result<&Endpoints, AccessTokenError> {
        self.endpoints
            .get_or_try_init(|| async {
                let s = &self.settings;
                let introspects = s.format != TokenFormat::Jwt && s.client_id.is_some();
                let needs_keys = s.format != TokenFormat::Opaque && s.jwks_uri.is_none();
                let needs_introspection = introspects && s.introspection_url.is_none();
                let discovered = if needs_keys || needs_introspection {
                    Some(
                        discover_server(http, &s.issuer, s.discovery_url.as_ref())
                            .await
                            .map_err(AccessTokenError::Discovery)?,
                    )
                } else {
                    None
                };
                let (jwks, introspection) = match discovered {
                    Some(d) => (d.jwks_uri, d.introspection_endpoint),
                    None => (None, None),
                };
                let jwks = s.jwks_uri.clone().or(jwks).filter(usable);
                let introspection = s.introspection_url.clone().or(introspection);
                Ok(Endpoints {
                    jwks: jwks.map(Jwks::new),
                    introspection: introspection.filter(|u| introspects && usable(u)),
                })
            })
            .await
    }

    /// Checks `raw`; `now` in seconds since the epoch.
    pub async fn validate(
        &self,
        http: &HttpClient,
        raw: &str,
        now: i64,
    ) -> Result<TokenClaims, AccessTokenError> {
        if raw.len() > MAX_TOKEN || raw.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(AccessTokenError::Malformed);
        }
        let endpoints = self.endpoints(http).await?;
        let looks_like_jwt = raw.split('.').count() == 3;
        let as_jwt = match self.settings.format {
            TokenFormat::Jwt => true,
            TokenFormat::Opaque => false,
            TokenFormat::Auto => looks_like_jwt && endpoints.jwks.is_some(),
        };
        if as_jwt {
            let Some(jwks) = &endpoints.jwks else {
                return Err(AccessTokenError::Discovery(DiscoveryError::Endpoint {
                    field: "jwks_uri",
                }));
            };
            let verified = verify_jws(raw, &self.settings.algs, jwks, http).await?;
            let typed = verified.typ.as_deref();
            if !typ_allows(typed, "at+jwt") {
                return Err(AccessTokenError::Refused("it is another kind of token"));
            }
            // An untyped JWT could be an ID token or a logout token with this audience
            // (Entra ID's API app id is both): their own claims give them away.
            let explicit = typed.is_some_and(|t| t.to_ascii_lowercase().ends_with("at+jwt"));
            let other_kind = ["nonce", "at_hash", "c_hash", "events"]
                .iter()
                .any(|claim| verified.claims.contains_key(*claim));
            if !explicit && other_kind {
                return Err(AccessTokenError::Refused("it is an ID or logout token"));
            }
            let claims = TokenClaims(verified.claims);
            check_claims(&claims, &self.settings, now, true)?;
            return Ok(claims);
        }
        let Some(url) = &endpoints.introspection else {
            return Err(AccessTokenError::Refused(
                "opaque tokens cannot be checked: no introspection endpoint is configured",
            ));
        };
        let claims = self.introspect(http, url, raw, now).await?;
        check_claims(&claims, &self.settings, now, false)?;
        Ok(claims)
    }

    /// The issuer's answer for `raw` (RFC 7662), or the one kept from a moment ago.
    async fn introspect(
        &self,
        http: &HttpClient,
        url: &Url,
        raw: &str,
        now: i64,
    ) -> Result<TokenClaims, AccessTokenError> {
        let key: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
        if let Some((claims, until)) = self.cached(&key) {
            if until > now {
                return Ok(claims);
            }
        }
        let s = &self.settings;
        let client_id = s.client_id.as_deref().unwrap_or_default();
        let client = (client_id, s.client_secret.as_ref(), s.client_auth);
        let form = [("token", raw), ("token_type_hint", "access_token")];
        let request = client_form(http, url, client, &form).map_err(AccessTokenError::Issuer)?;
        let response = http.send(request).await.map_err(AccessTokenError::Issuer)?;
        if response.status != 200 {
            return Err(AccessTokenError::Issuer(HttpError::Status(response.status)));
        }
        let answer: Map<String, Value> = serde_json::from_slice(&response.body)
            .map_err(|_| AccessTokenError::Issuer(HttpError::InvalidJson))?;
        if !truthy(answer.get("active")) {
            return Err(AccessTokenError::Refused(
                "the issuer says it is not active",
            ));
        }
        // A refresh token is active too, for its own client: it is no access token.
        let token_type = answer.get("token_type").and_then(Value::as_str);
        let access = |t: &str| {
            t.eq_ignore_ascii_case("bearer")
                || t.eq_ignore_ascii_case("dpop")
                || t == "access_token"
        };
        if token_type.is_some_and(|t| !access(t)) {
            return Err(AccessTokenError::Refused("it is not an access token"));
        }
        let claims = TokenClaims(answer);
        if s.cache_ttl > 0 {
            let until = claims
                .expires_at()
                .map_or(now + s.cache_ttl, |exp| exp.min(now + s.cache_ttl));
            self.keep(key, claims.clone(), until, now);
        }
        Ok(claims)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<(TokenClaims, i64)> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).cloned()
    }

    fn keep(&self, key: [u8; 32], claims: TokenClaims, until: i64, now: i64) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            cache.retain(|_, (_, until)| *until > now);
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
        }
        cache.insert(key, (claims, until));
    }
}

/// The checks every access token passes, a JWT's claims or an introspection answer: `iss`
/// (required of a JWT), `aud` (required), `exp` (required of a JWT), `nbf` and `iat` (when
/// present), with the leeway; and no `cnf` other than a DPoP key's (`jkt`, whose proof the
/// guard then asks for): a certificate-bound token (RFC 8705) cannot be proven here.
fn check_claims(
    claims: &TokenClaims,
    settings: &ResourceSettings,
    now: i64,
    jwt: bool,
) -> Result<(), AccessTokenError> {
    let c = &claims.0;
    match c.get("iss").and_then(Value::as_str) {
        Some(iss) if iss.trim_end_matches('/') == settings.issuer.trim_end_matches('/') => {}
        None if !jwt => {}
        _ => {
            return Err(AccessTokenError::Refused(
                "its issuer is not the one trusted",
            ))
        }
    }
    if !audience_matches(c, &settings.audiences) {
        return Err(AccessTokenError::Refused(
            "its audience is not this resource",
        ));
    }
    let time = |name: &str| {
        time_claim(c, name).map_err(|()| AccessTokenError::Refused("a time claim is not a time"))
    };
    let leeway = settings.leeway;
    match time("exp")? {
        Some(exp) if exp.saturating_add(leeway) <= now => {
            return Err(AccessTokenError::Refused("it has expired"))
        }
        None if jwt => return Err(AccessTokenError::Refused("it has no expiry")),
        _ => {}
    }
    if time("nbf")?.is_some_and(|nbf| nbf.saturating_sub(leeway) > now) {
        return Err(AccessTokenError::Refused("it is not valid yet"));
    }
    if time("iat")?.is_some_and(|iat| iat.saturating_sub(leeway) > now) {
        return Err(AccessTokenError::Refused("it was issued in the future"));
    }
    match c.get("cnf") {
        None => {}
        Some(Value::Object(cnf)) if cnf.len() == 1 && claims.jkt().is_some() => {}
        Some(_) => {
            return Err(AccessTokenError::Refused(
                "it is bound to something other than a DPoP key (mTLS)",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_900_000_000;

    fn settings() -> ResourceSettings {
        ResourceSettings {
            issuer: "https://idp.example/".into(),
            discovery_url: None,
            jwks_uri: None,
            introspection_url: None,
            audiences: vec!["https://api.example".into()],
            algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            leeway: 30,
            format: TokenFormat::Auto,
            client_id: None,
            client_secret: None,
            client_auth: ClientAuth::ClientSecretBasic,
            cache_ttl: 30,
        }
    }

    fn claims(value: Value) -> TokenClaims {
        TokenClaims(value.as_object().cloned().unwrap())
    }

    fn good() -> Value {
        json!({"iss": "https://idp.example", "aud": ["https://api.example"], "exp": NOW + 60,
               "iat": NOW, "sub": "alice", "scope": "read write", "client_id": "cli"})
    }

    fn check(
        change: impl FnOnce(&mut Map<String, Value>),
        jwt: bool,
    ) -> Result<(), AccessTokenError> {
        let mut value = good();
        change(value.as_object_mut().unwrap());
        check_claims(&claims(value), &settings(), NOW, jwt)
    }

    #[test]
    fn the_claims_every_token_passes() {
        check(|_| {}, true).unwrap();
        let c = claims(good());
        assert_eq!(
            (c.subject(), c.client_id(), c.scopes()),
            (
                Some("alice"),
                Some("cli"),
                vec!["read".to_owned(), "write".to_owned()]
            )
        );
        type Change = Box<dyn FnOnce(&mut Map<String, Value>)>;
        let refused: [(&str, Change); 10] = [
            (
                "issuer",
                Box::new(|c| drop(c.insert("iss".into(), "https://evil.example".into()))),
            ),
            ("no issuer", Box::new(|c| drop(c.remove("iss")))),
            (
                "audience",
                Box::new(|c| drop(c.insert("aud".into(), "https://other.example".into()))),
            ),
            ("no audience", Box::new(|c| drop(c.remove("aud")))),
            (
                "expired",
                Box::new(|c| drop(c.insert("exp".into(), (NOW - 31).into()))),
            ),
            ("no expiry", Box::new(|c| drop(c.remove("exp")))),
            (
                "not yet",
                Box::new(|c| drop(c.insert("nbf".into(), (NOW + 31).into()))),
            ),
            (
                "future",
                Box::new(|c| drop(c.insert("iat".into(), (NOW + 31).into()))),
            ),
            (
                "certificate-bound",
                Box::new(|c| drop(c.insert("cnf".into(), json!({"x5t#S256": "x"})))),
            ),
            (
                "bound twice",
                Box::new(|c| drop(c.insert("cnf".into(), json!({"jkt": "x", "x5t#S256": "y"})))),
            ),
        ];
        for (what, change) in refused {
            assert!(check(change, true).is_err(), "{what} was accepted");
        }
        // Within the leeway.
        check(|c| drop(c.insert("exp".into(), (NOW - 29).into())), true).unwrap();
        // DPoP-bound: the guard asks for the proof.
        check(|c| drop(c.insert("cnf".into(), json!({"jkt": "x"}))), true).unwrap();
        // An introspection answer may leave out `iss` and `exp`, not `aud`.
        check(|c| drop(c.remove("iss")), false).unwrap();
        check(|c| drop(c.remove("exp")), false).unwrap();
        assert!(check(|c| drop(c.remove("aud")), false).is_err());
    }

    #[test]
    fn scopes_in_every_shape() {
        let scopes = |v: Value| claims(v).scopes();
        assert_eq!(scopes(json!({"scp": "a b"})), ["a", "b"]);
        assert_eq!(scopes(json!({"scp": ["a", "b", 3]})), ["a", "b"]);
        assert_eq!(scopes(json!({"scope": "  a  "})), ["a"]);
        assert!(scopes(json!({"scope": 7})).is_empty());
        assert_eq!(claims(json!({"azp": "x"})).client_id(), Some("x"));
    }

    /// Any JSON value of a few shapes: what a token's claim may be.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            proptest::collection::vec(inner, 0..4).prop_map(Value::Array)
        })
    }

    proptest::proptest! {
        /// Outside input (a verified JWT's claims, an introspection answer): any claims are
        /// refused or accepted, never a panic.
        #[test]
        fn any_claims_are_harmless(
            claims in proptest::collection::btree_map(
                proptest::sample::select(vec!["iss", "aud", "exp", "nbf", "iat", "cnf", "scope", "scp", "sub", "client_id", "azp"]),
                any_value(),
                0..11,
            ),
        ) {
            let map: Map<String, Value> = claims.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let c = TokenClaims(map);
            for jwt in [true, false] {
                let _ = check_claims(&c, &settings(), NOW, jwt);
            }
            let _ = (c.scopes(), c.client_id(), c.expires_at(), c.subject());
        }
    }
}
