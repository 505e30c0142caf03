//! The protocol layer's errors: what a token call, a login flow, discovery or an ID token
//! check can fail with. Every protocol's flow (and the generic [`Flow`](super::flow::Flow))
//! names them here, so no protocol's file depends on another's for its errors.

use super::http::HttpError;

/// A token endpoint call (or, for OAuth 1.0a, a credentials request) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The endpoint answered with an OAuth error (`{"error": ...}`), whatever its HTTP status.
    #[error("the token endpoint refused the authorization code: {error}")]
    Rejected {
        /// The OAuth error code (`unknown_error` when it is not a plain word).
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The call itself failed (timeout, connection, status, size).
    #[error("the token endpoint failed: {0}")]
    Http(#[from] HttpError),
    /// The token is not a bearer token (`mac`, `DPoP`, …): it cannot be used.
    #[error("the provider issued a `{0}` token, which this client cannot use")]
    UnsupportedTokenType(String),
    /// The endpoint answered 2xx with a body that is not a usable token response.
    #[error("the token endpoint failed: the token response is unusable: {0}")]
    InvalidResponse(String),
}

/// Why a protocol flow could not begin or complete a login.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The provider reported `error=access_denied`: the user pressed "Deny".
    #[error("the login was cancelled at the provider")]
    Cancelled,
    /// The provider redirected back with another error.
    #[error("the provider reported an error: {error}")]
    Provider {
        /// The OAuth error code (`error`), or `unknown_error` when it is not a plain word.
        error: String,
        /// The provider's human-readable `error_description`, if any.
        description: Option<String>,
    },
    /// The callback's RFC 9207 `iss` parameter names another issuer (mix-up attack).
    #[error("the callback came from an unexpected issuer")]
    IssuerMismatch,
    /// The callback carried no authorization code.
    #[error("the callback carried no authorization code")]
    MissingCode,
    /// The token endpoint refused the code, failed or answered something unusable.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The userinfo endpoint failed.
    #[error("the userinfo endpoint failed: {0}")]
    Userinfo(#[source] HttpError),
    /// A refresh was needed, but there is no refresh token.
    #[error("the session has no refresh token")]
    NoRefreshToken,
    /// The userinfo `sub` differs from the ID token's (or a refreshed ID token names
    /// another user).
    #[error("the userinfo subject does not match the ID token")]
    SubjectMismatch,
    /// OpenID Connect discovery failed (the provider is down or misconfigured).
    #[cfg(feature = "oidc")]
    #[error("the provider's configuration could not be discovered")]
    Discovery(#[from] DiscoveryError),
    /// The ID token failed validation.
    #[cfg(feature = "oidc")]
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// The provider's protocol (or configuration) has no such grant: OAuth 1.0a has no
    /// client credentials or device grant, and the device grant needs a device
    /// authorization endpoint.
    #[error("the provider does not offer {0}")]
    Unsupported(&'static str),
    /// The pushed authorization request (RFC 9126) was refused (the OAuth error code) or
    /// failed.
    #[error("the pushed authorization request failed: {0}")]
    Pushed(String),
}

impl FlowError {
    /// Whether the provider refused a refresh outright (any OAuth error, e.g.
    /// `invalid_grant`): the user must log in again.
    pub(crate) fn refresh_refused(&self) -> bool {
        matches!(
            self,
            FlowError::Token(TokenError::Rejected { .. })
                | FlowError::NoRefreshToken
                | FlowError::SubjectMismatch
        ) || self.is_id_token_error()
    }

    #[cfg(feature = "oidc")]
    fn is_id_token_error(&self) -> bool {
        matches!(self, FlowError::IdToken(_))
    }

    #[cfg(not(feature = "oidc"))]
    fn is_id_token_error(&self) -> bool {
        false
    }
}

#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
/// Why OpenID Connect discovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The document could not be fetched or parsed.
    #[error("the discovery document could not be fetched: {0}")]
    Http(#[from] HttpError),
    /// The document names another issuer.
    #[error("the discovery document names issuer `{found}`, not `{expected}`")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
    /// An endpoint the document names is unusable (not `https` off loopback) or missing.
    #[error("the discovery document's `{field}` is unusable")]
    Endpoint {
        /// The document's field, e.g. `token_endpoint`.
        field: &'static str,
    },
}

#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
/// Why an ID token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token response carried no `id_token`.
    #[error("the token response carried no ID token")]
    Missing,
    /// The ID token is not a well-formed JWT.
    #[error("the ID token is malformed")]
    Malformed,
    /// The signature or algorithm is not acceptable.
    #[error("the ID token signature is invalid: {0}")]
    Signature(String),
    /// A claim check (`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) failed.
    #[error("the ID token was refused: {0}")]
    Claims(String),
    /// `at_hash` does not match the access token.
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHash,
    /// A multi-tenant issuer's token came from a tenant that is not allowed.
    #[error("the ID token's tenant is not allowed")]
    Tenant,
    /// The signing keys could not be fetched.
    #[error("the provider's signing keys could not be fetched: {0}")]
    Keys(#[source] HttpError),
}

/// Why a back-channel logout token was refused (OpenID Connect Back-Channel Logout 1.0 §2.6).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogoutTokenError {
    /// The provider's protocol has no back-channel logout (not OpenID Connect).
    #[error("this provider does not log out over the back channel")]
    Unsupported,
    #[cfg(feature = "oidc")]
    /// The token is not a compact JWS with JSON header and claims.
    #[error("the logout token is malformed")]
    Malformed,
    #[cfg(feature = "oidc")]
    /// The signature or algorithm is not acceptable.
    #[error("the logout token's signature is refused: {0}")]
    Signature(String),
    #[cfg(feature = "oidc")]
    /// A claim check failed.
    #[error("the logout token was refused: {0}")]
    Claims(String),
    /// The token's `jti` was accepted before.
    #[error("the logout token was used before")]
    Replayed,
    #[cfg(feature = "oidc")]
    /// The provider's signing keys (or configuration) could not be fetched.
    #[error("the provider's signing keys could not be fetched: {0}")]
    Keys(#[source] HttpError),
    #[cfg(feature = "oidc")]
    /// OpenID Connect discovery failed.
    #[error("the provider's configuration could not be discovered")]
    Discovery,
}
