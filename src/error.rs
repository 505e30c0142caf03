//! Typed errors: configuration problems (reported at ignite) and login failures
//! (rendered as 4xx error pages by the callback route).

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
    /// The same provider (or two providers with the same name) was attached twice.
    #[error("a provider named `{name}` is already attached; provider names must be unique")]
    DuplicateProvider {
        /// The provider's name.
        name: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation failed).
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// An outbound HTTP call (token endpoint, userinfo endpoint) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The server did not answer within the configured time.
    #[error("the request timed out")]
    Timeout,
    /// The connection could not be established or broke.
    #[error("could not reach the server: {0}")]
    Connect(String),
    /// The response body exceeded the size cap.
    #[error("the response body exceeded {limit} bytes")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The server answered with an unexpected HTTP status and no OAuth error body.
    #[error("the server answered with HTTP status {0}")]
    Status(u16),
    /// The response body is not the JSON document that was expected.
    #[error("the response is not valid JSON")]
    InvalidJson,
    /// The request could not be built (a bad URL or header).
    #[error("the request could not be built: {0}")]
    Request(String),
}

impl HttpError {
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            HttpError::Timeout
        } else if err.is_connect() || err.is_request() || err.is_body() {
            // `without_url` keeps query strings (which may carry codes) out of messages.
            HttpError::Connect(err.without_url().to_string())
        } else {
            HttpError::Request(err.without_url().to_string())
        }
    }
}

/// A token endpoint call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The endpoint answered with an OAuth error (`{"error": ...}`), whatever its HTTP status.
    #[error("the token endpoint refused the request: {error}")]
    Rejected {
        /// The OAuth error code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The call itself failed (timeout, connection, status, size).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The endpoint answered 2xx with a body that is not a usable token response.
    #[error("the token response is unusable: {0}")]
    InvalidResponse(String),
}

/// Why a login did not complete.
///
/// Every variant is rendered by the callback route as a 4xx error page; the visitor stays
/// logged out. Messages never contain tokens, codes or secrets.
///
/// ```rust
/// use rocket_oauth::LoginError;
///
/// assert_eq!(LoginError::StateMismatch.status().code, 400);
/// assert_eq!(LoginError::Cancelled.to_string(), "the login was cancelled at the provider");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The provider reported `error=access_denied`: the user pressed "Deny".
    #[error("the login was cancelled at the provider")]
    Cancelled,
    /// The provider redirected back with another `error`.
    #[error("the provider reported an error: {error}")]
    Provider {
        /// The OAuth error code (`error`).
        error: String,
        /// The provider's human-readable `error_description`, if any.
        description: Option<String>,
    },
    /// The callback carried no `state` parameter.
    #[error("the callback carried no state parameter")]
    MissingState,
    /// No login attempt cookie matches the callback: it expired, was already used, was
    /// tampered with, or the browser blocks cookies.
    #[error("the login expired or cookies are blocked")]
    Expired,
    /// The callback's `state` does not match the login attempt.
    #[error("the state parameter does not match the login attempt")]
    StateMismatch,
    /// The callback's RFC 9207 `iss` parameter names another issuer (mix-up attack).
    #[error("the callback came from an unexpected issuer")]
    IssuerMismatch,
    /// The callback carried no `code` parameter.
    #[error("the callback carried no authorization code")]
    MissingCode,
    /// OpenID Connect discovery failed (the provider is down or misconfigured).
    #[error("the provider's configuration could not be discovered")]
    Discovery(String),
    /// The ID token failed validation.
    #[error("{0}")]
    IdToken(#[from] crate::oidc::IdTokenError),
    /// The userinfo `sub` differs from the ID token's.
    #[error("the userinfo subject does not match the ID token")]
    SubjectMismatch,
    /// The access rules do not let this user in.
    #[error("your account is not allowed to log in here")]
    NotAllowed,
    /// The token endpoint refused the code.
    #[error("the token endpoint refused the authorization code: {error}")]
    TokenRejected {
        /// The OAuth error code returned by the token endpoint.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint could not be reached or answered something unusable.
    #[error("the token endpoint failed: {0}")]
    TokenEndpoint(String),
    /// The userinfo endpoint could not be reached or answered something unusable.
    #[error("the userinfo endpoint failed: {0}")]
    Userinfo(String),
    /// The confirmation form was posted without a valid CSRF token.
    #[error("the login form expired; please try again")]
    Csrf,
    /// The tokens do not fit in the session cookie.
    #[error("the provider's tokens are too large to store in a cookie")]
    SessionTooLarge,
    /// A hook refused the login.
    #[error("the login was refused")]
    Refused,
}

impl LoginError {
    /// The HTTP status this failure is answered with (always 4xx).
    pub fn status(&self) -> rocket::http::Status {
        use rocket::http::Status;
        match self {
            LoginError::Cancelled | LoginError::Refused => Status::Forbidden,
            LoginError::Csrf | LoginError::NotAllowed => Status::Forbidden,
            _ => Status::BadRequest,
        }
    }

    /// A short title for the error page.
    pub fn title(&self) -> &'static str {
        match self {
            LoginError::Cancelled => "Login cancelled",
            LoginError::Expired => "Login expired",
            LoginError::Refused => "Login refused",
            LoginError::Csrf => "Login form expired",
            LoginError::NotAllowed => "Access denied",
            LoginError::TokenEndpoint(_) | LoginError::Userinfo(_) | LoginError::Discovery(_) => {
                "Provider unavailable"
            }
            _ => "Login failed",
        }
    }
}
