//! Typed errors: configuration problems (reported at ignite) and login failures (rendered as
//! 4xx error pages by the callback route; their statuses are chosen by the web layer).

use crate::protocol::error::{FlowError, TokenError};

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
/// use rocket_oauth::{FlowError, LoginError};
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
                | FlowError::Userinfo(_),
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
            _ if self.provider_unavailable() => "Provider unavailable",
            LoginError::Flow(FlowError::Provider { .. }) => "The provider refused the login",
            _ => "Login failed",
        }
    }
}
