//! Every error type of the crate, named for what went wrong: configuration problems
//! (reported at ignite), login failures (rendered as 4xx/5xx error pages by the callback
//! route), the protocol's (token endpoint, flow, discovery, ID tokens, HTTP), API calls, the
//! session store, session data, roles and incoming signed requests.

use serde_json::Value;

pub use crate::login::SessionDataError;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use crate::protocol::error::{DiscoveryError, IdTokenError};
pub use crate::protocol::error::{FlowError, TokenError};
pub use crate::protocol::http::HttpError;

/// A provider's configuration is missing or invalid.
///
/// Returned while the fairing ignites; Rocket then refuses to launch and the message, which
/// always names the offending key (e.g. `oauth.github.token_url`), is logged.
///
/// ```rust
/// use rocket_oauth::ConfigError;
///
/// let err = ConfigError::Missing { key: "oauth.github.client_id".into() };
/// assert_eq!(err.to_string(), "missing configuration key `oauth.github.client_id`");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required key is absent.
    #[error("missing configuration key `{key}`")]
    Missing {
        /// The full key, e.g. `oauth.github.client_id`.
        key: String,
    },
    /// A key is present but its value is unusable.
    #[error("invalid configuration key `{key}`: {reason}")]
    Invalid {
        /// The full key, e.g. `oauth.github.token_url`.
        key: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// A key that only applies to another protocol (e.g. an OpenID Connect key on a plain
    /// OAuth 2 provider).
    #[error("configuration key `{key}` does not apply to {protocol} providers")]
    NotApplicable {
        /// The full key, e.g. `oauth.github.tenants`.
        key: String,
        /// The provider's protocol.
        protocol: &'static str,
    },
    /// The same provider (or two providers with the same name) was attached twice.
    #[error("a provider named `{name}` is already attached; provider names must be unique")]
    DuplicateProvider {
        /// The provider's name.
        name: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation failed).
    #[error("could not build the HTTP client")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a login did not complete.
///
/// Every variant is answered with an error page ([`LoginError::status`]): 4xx, `502` when
/// the provider is unavailable, `503` when the session store is down; the visitor stays
/// logged out. Messages never contain tokens, codes or secrets.
///
/// ```rust
/// use rocket_oauth::LoginError;
/// use rocket_oauth::error::FlowError;
///
/// assert_eq!(LoginError::StateMismatch.status().code, 400);
/// let cancelled = LoginError::from(FlowError::Cancelled);
/// assert_eq!(cancelled.to_string(), "the login was cancelled at the provider");
/// assert_eq!(cancelled.title(), "Login cancelled");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The callback carried no `state` (or was malformed).
    #[error("the callback carried no state parameter")]
    MissingState,
    /// No login attempt cookie matches the callback: it expired, was already used, was
    /// tampered with, or the browser blocks cookies.
    #[error("the login expired or cookies are blocked")]
    Expired,
    /// The callback's `state` does not match the login attempt.
    #[error("the state parameter does not match the login attempt")]
    StateMismatch,
    /// The confirmation form was posted without a valid CSRF token.
    #[error("the login form expired; please try again")]
    Csrf,
    /// The access rules do not let this user in.
    #[error("your account is not allowed to log in here")]
    NotAllowed,
    /// The session does not fit in cookies.
    #[error("the session is too large for cookies; keep sessions on the server with `oauth.session.store = \"memory\"` or `\"redis\"`")]
    SessionTooLarge,
    /// The session store failed (answered with `503 Service Unavailable`).
    #[error("the session could not be stored; please try again later")]
    SessionStore,
    /// A logout (or confirmed login) came from another site (login/logout CSRF).
    #[error("the request came from another site")]
    CrossSite,
    /// A hook refused the login.
    #[error("the login was refused")]
    Refused,
    /// Too many logins were started (answered with `429 Too Many Requests`): for a provider
    /// that is called when a login starts (OAuth 1.0a's request token), the calls are bounded
    /// per client and overall.
    #[error("too many logins were started; please try again in a minute")]
    TooManyLogins,
    /// The protocol flow failed: the provider refused, failed or answered something unusable.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl LoginError {
    /// Whether the provider could not be reached or answered something unusable.
    pub(crate) fn provider_unavailable(&self) -> bool {
        match self {
            LoginError::Flow(
                FlowError::Token(TokenError::Http(_) | TokenError::InvalidResponse(_))
                | FlowError::Userinfo(_)
                | FlowError::Pushed(_),
            ) => true,
            #[cfg(feature = "oidc")]
            LoginError::Flow(FlowError::Discovery(_)) => true,
            _ => false,
        }
    }

    /// A short title for the error page.
    pub fn title(&self) -> &'static str {
        match self {
            LoginError::Flow(FlowError::Cancelled) => "Login cancelled",
            LoginError::Expired => "Login expired",
            LoginError::Refused => "Login refused",
            LoginError::Csrf => "Login form expired",
            LoginError::CrossSite => "Request refused",
            LoginError::NotAllowed => "Access denied",
            LoginError::SessionStore => "Service unavailable",
            LoginError::TooManyLogins => "Too many logins",
            _ if self.provider_unavailable() => "Provider unavailable",
            LoginError::Flow(FlowError::Provider { .. }) => "The provider refused the login",
            _ => "Login failed",
        }
    }
}

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The URL is not absolute and no `api_base_url` is configured, or it is malformed.
    #[error("`{0}` is not an absolute URL (and no api_base_url is configured)")]
    Url(String),
    /// The URL is not on the provider's API: the user's credentials go only to the origins
    /// of `api_base_url` and `userinfo_url`, and those listed in `api_origins` (over `https`,
    /// or `http` on loopback).
    #[error("`{0}` is not one of the provider's API origins (list it in `api_origins`)")]
    Origin(String),
    /// The call failed (timeout, connection, size).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The provider answered `401` again after the access token was refreshed (or it could
    /// not be refreshed): the user must log in again.
    #[error("the provider refused the user's credentials")]
    Unauthorized,
    /// A GraphQL answer carried `errors`.
    #[error("the GraphQL query failed: {0}")]
    GraphQl(Value),
    /// The body is not the JSON expected.
    #[error("the response is not the JSON expected")]
    InvalidJson,
    /// A grant without a user's browser (client credentials, the device grant) failed: the
    /// provider refused (`access_denied`, `expired_token`, ...), failed, or has no such grant.
    #[error("the grant failed: {0}")]
    Grant(#[from] FlowError),
}

/// The error of a [`HasRole`](crate::HasRole) guard: the user lacks this role.
#[derive(Debug, thiserror::Error)]
#[error("the `{0}` role is required")]
pub struct MissingRole(pub &'static str);

/// Why a signed request was refused; [`SignedRequestError::problem`] is the
/// `oauth_problem` of the challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedRequestError {
    /// No `Authorization: OAuth` header, or a required parameter is missing.
    #[error("the request is not signed")]
    Missing,
    /// The consumer key is not configured.
    #[error("the consumer key is unknown")]
    UnknownConsumer,
    /// The signature method is not HMAC-SHA1 (or PLAINTEXT over https).
    #[error("the signature method is not accepted")]
    SignatureMethod,
    /// The timestamp is outside the window.
    #[error("the timestamp is too old or in the future")]
    Timestamp,
    /// The nonce was used already within the window (a replay).
    #[error("the nonce was used already")]
    NonceUsed,
    /// The signature does not match.
    #[error("the signature is invalid")]
    Signature,
    /// The nonce store failed or is full.
    #[error("the request could not be checked")]
    Unavailable,
}

impl SignedRequestError {
    /// The `oauth_problem` value (OAuth Problem Reporting).
    pub fn problem(&self) -> &'static str {
        match self {
            SignedRequestError::Missing => "parameter_absent",
            SignedRequestError::UnknownConsumer => "consumer_key_unknown",
            SignedRequestError::SignatureMethod => "signature_method_rejected",
            SignedRequestError::Timestamp => "timestamp_refused",
            SignedRequestError::NonceUsed => "nonce_used",
            SignedRequestError::Signature => "signature_invalid",
            SignedRequestError::Unavailable => "temporarily_unavailable",
        }
    }
}

/// A session store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionStoreError {
    /// The backend (Redis, a database) failed or could not be reached.
    #[error("the session store failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Sessions live in cookies (`oauth.session.store = "cookie"`): they cannot be ended
    /// from outside a request.
    #[error(
        "sessions live in cookies; set `oauth.session.store` to end them from outside a request"
    )]
    CookieSessions,
    /// The store does not do what was asked (a store of the application's own that does not
    /// implement the named [`SessionStore`](crate::session::SessionStore) method).
    #[error("the session store does not implement `{0}`")]
    Unsupported(&'static str),
}

impl SessionStoreError {
    /// A backend failure.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        SessionStoreError::Backend(Box::new(error))
    }
}
