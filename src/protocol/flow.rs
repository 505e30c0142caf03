//! The one interface every protocol's login flow implements (crate-private).
//!
//! A flow *begins* a login (where to send the browser, and what to remember until it comes
//! back) and *completes* it from the callback (the credentials and the user's profile).
//! Everything else — the attempt cookie, `next`, identity, access rules, hooks, the session
//! — is the same for every protocol and lives in the web layer, so a new protocol is a new
//! file implementing [`Flow`].

use serde_json::Value;
use url::Url;

use super::credentials::Credentials;
use super::error::{FlowError, LogoutTokenError};
use super::http::{HttpClient, HttpError};

/// The parameters a provider sent back to the callback (query or form fields).
#[derive(Debug, Default)]
pub(crate) struct CallbackParams(Vec<(String, String)>);

/// Why callback parameters were refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadParameters {
    /// A parameter was given twice (RFC 6749 §3.1).
    Repeated,
    /// More parameters than allowed.
    TooMany,
}

impl CallbackParams {
    /// Parses `application/x-www-form-urlencoded` text of at most `max` parameters (counted
    /// before anything is decoded); a parameter given twice is refused. Linear in the input.
    pub fn parse(raw: &[u8], max: usize) -> Result<Self, BadParameters> {
        if raw.iter().filter(|&&b| b == b'&').count() >= max {
            return Err(BadParameters::TooMany);
        }
        let params: Vec<(String, String)> = url::form_urlencoded::parse(raw)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let mut seen = std::collections::HashSet::with_capacity(params.len());
        if params.iter().any(|(name, _)| !seen.insert(name.as_str())) {
            return Err(BadParameters::Repeated);
        }
        Ok(CallbackParams(params))
    }

    /// The value of `name`, unless absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// A login that has begun.
#[derive(Debug)]
pub(crate) struct Begin {
    /// Where to send the browser.
    pub url: Url,
    /// What names this attempt in the callback (OAuth 2's `state`); random, at least 12
    /// URL-safe characters.
    pub key: String,
    /// What the flow needs back at the callback (verifiers, nonces); kept encrypted.
    pub pending: Value,
}

/// A completed login.
#[derive(Debug)]
pub(crate) struct Completed {
    pub credentials: Credentials,
    /// The user's profile: the userinfo document, or (OpenID Connect) the ID token's claims
    /// merged with it.
    pub userinfo: Option<Value>,
}

/// What a valid back-channel logout token ends: the sessions of `sid` (the provider's session,
/// as ID tokens name it), or, without one, every session of `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogoutClaims {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// Until when (seconds since the epoch) the token would be accepted: its `jti` is
    /// remembered that long.
    pub until: i64,
}

/// A provider's endpoints, as configured or (OpenID Connect) discovered; read them with
/// [`ProviderInfo`](crate::guards::ProviderInfo).
///
/// ```rust
/// use rocket_oauth::config::ProviderEndpoints;
///
/// fn can_revoke(endpoints: &ProviderEndpoints) -> bool {
///     endpoints.revocation_url.is_some()
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderEndpoints {
    /// The issuer (OpenID Connect: as discovery names it, possibly a `{tenantid}` template).
    pub issuer: Option<String>,
    /// The authorization endpoint (OAuth 1.0a: the resource owner authorization URI).
    pub authorize_url: Option<Url>,
    /// The token endpoint (OAuth 1.0a: the token credentials URI).
    pub token_url: Option<Url>,
    /// OAuth 1.0a: the temporary credentials URI.
    pub request_token_url: Option<Url>,
    /// The userinfo endpoint.
    pub userinfo_url: Option<Url>,
    /// The RFC 7009 revocation endpoint.
    pub revocation_url: Option<Url>,
    /// OpenID Connect: the RP-initiated logout endpoint.
    pub end_session_url: Option<Url>,
    /// OpenID Connect: the JWKS.
    pub jwks_url: Option<Url>,
    /// OpenID Connect: the provider sends back-channel logout tokens
    /// (`backchannel_logout_supported`).
    pub backchannel_logout: bool,
    /// OpenID Connect: its logout tokens name the session (`sid`), not only the user
    /// (`backchannel_logout_session_supported`).
    pub backchannel_logout_session: bool,
}

/// One protocol's login flow, built once per provider at ignite.
#[async_trait::async_trait]
pub(crate) trait Flow: Send + Sync + 'static {
    /// Begins a login.
    async fn begin(&self, http: &HttpClient) -> Result<Begin, FlowError>;

    /// The key of the attempt this callback belongs to (what [`Begin::key`] was).
    fn attempt_key<'a>(&self, callback: &'a CallbackParams) -> Option<&'a str>;

    /// The error the provider reported in the callback, if any (checked before the attempt).
    fn reported_error(&self, callback: &CallbackParams) -> Option<FlowError>;

    /// Completes the login begun with `pending`.
    async fn complete(
        &self,
        http: &HttpClient,
        callback: &CallbackParams,
        pending: Value,
    ) -> Result<Completed, FlowError>;

    /// New credentials for `old`, from its refresh token.
    async fn refresh(&self, http: &HttpClient, old: &Credentials)
        -> Result<Credentials, FlowError>;

    /// Authorizes an API request with `credentials`: the `Authorization` header value (the
    /// bearer token of OAuth 2 — `DPoP` for a DPoP-bound one, whose proof the caller adds —,
    /// an OAuth 1.0a signature over `url` and the form body `form`), or `None` when the
    /// signature went into `url` or `form` itself.
    fn authorize_request(
        &self,
        _method: &str,
        _url: &mut Url,
        _form: Option<&mut Vec<(String, String)>>,
        credentials: &Credentials,
    ) -> Result<Option<String>, HttpError> {
        let scheme = match credentials.dpop_key.is_some() {
            true => "DPoP",
            false => "Bearer",
        };
        Ok(Some(format!("{scheme} {}", credentials.access_token())))
    }

    /// The provider's endpoints (OpenID Connect: discovering them first, if not yet done).
    async fn endpoints(&self, http: &HttpClient) -> Result<ProviderEndpoints, FlowError>;

    /// Revokes the credentials at the provider, if it has a revocation endpoint. Best
    /// effort: never fails.
    async fn revoke(&self, _http: &HttpClient, _credentials: &Credentials) {}

    /// Where to send the browser to end its session at the provider as well, if the
    /// provider has such an endpoint.
    async fn end_session_url(
        &self,
        _http: &HttpClient,
        _credentials: Option<&Credentials>,
        _post_logout_redirect_uri: Option<&Url>,
    ) -> Option<Url> {
        None
    }

    /// Validates a back-channel logout token (OpenID Connect Back-Channel Logout 1.0); `now`:
    /// seconds since the epoch. The caller checks that its `jti` is new.
    async fn logout_token(
        &self,
        _http: &HttpClient,
        _raw: &str,
        _now: i64,
    ) -> Result<LogoutClaims, LogoutTokenError> {
        Err(LogoutTokenError::Unsupported)
    }

    /// RFC 6749 §4.4: a token for the client itself, for `scopes` (the configured ones when
    /// empty).
    async fn client_credentials(
        &self,
        _http: &HttpClient,
        _scopes: &[String],
    ) -> Result<Credentials, FlowError> {
        Err(FlowError::Unsupported("the client credentials grant"))
    }

    /// RFC 8628: starts a device authorization.
    async fn device_start(
        &self,
        _http: &HttpClient,
        _scopes: &[String],
    ) -> Result<DeviceStart, FlowError> {
        Err(FlowError::Unsupported("the device authorization grant"))
    }

    /// RFC 8628: polls until the user answered, the code expired or `timeout` passed.
    async fn device_finish(
        &self,
        _http: &HttpClient,
        _start: &DeviceStart,
        _timeout: std::time::Duration,
    ) -> Result<Credentials, FlowError> {
        Err(FlowError::Unsupported("the device authorization grant"))
    }

    /// The issuer, once known; may hold a tenant placeholder.
    async fn issuer(&self, _http: &HttpClient) -> Option<String> {
        None
    }

    /// Whether `iss` (a front-channel logout request's) names this provider: its issuer, an
    /// alias of it, or one of its tenants'.
    async fn is_issuer(&self, _http: &HttpClient, _iss: &str) -> bool {
        false
    }
}

/// A started device authorization (RFC 8628): what to show the user, and what to poll with.
#[derive(Debug, Clone)]
pub(crate) struct DeviceStart {
    pub details: ::oauth2::StandardDeviceAuthorizationResponse,
    /// The scopes asked for (the token's, when the answer names none).
    pub scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params() {
        let params = CallbackParams::parse(b"code=a%20b&state=&x=1", 32).unwrap();
        assert_eq!(params.get("code"), Some("a b"));
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("missing"), None);
        let repeated = CallbackParams::parse(b"code=a&code=b", 32);
        assert_eq!(repeated.unwrap_err(), BadParameters::Repeated);
    }

    /// Issue 25, item 1: many distinct parameters are refused before any work, and a
    /// callback at the bound still parses (in linear time: the bound is not what keeps it
    /// fast, the set of names is).
    #[test]
    fn callback_params_are_bounded() {
        let many: String = (0..9000).map(|i| format!("p{i}=&")).collect();
        let refused = CallbackParams::parse(many.as_bytes(), 32);
        assert_eq!(refused.unwrap_err(), BadParameters::TooMany);
        let at_bound: String = (0..32)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(CallbackParams::parse(at_bound.as_bytes(), 32).is_ok());
        let over: String = (0..33)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(CallbackParams::parse(over.as_bytes(), 32).is_err());
        let roomy = CallbackParams::parse(many.trim_end_matches('&').as_bytes(), 10_000);
        assert_eq!(roomy.unwrap().0.len(), 9000);
    }

    proptest::proptest! {
        /// Any bytes: no panic; distinct parameters round-trip through form encoding.
        #[test]
        fn parse_never_panics_and_round_trips(
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            params in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{1,16}", 0..6),
        ) {
            let _ = CallbackParams::parse(&raw, 32);
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let parsed = CallbackParams::parse(encoded.as_bytes(), 32).unwrap();
            for (name, value) in &params {
                proptest::prop_assert_eq!(parsed.get(name), Some(value.as_str()));
            }
        }
    }
}
