//! Guards for API routes: an access token issued by this server, presented as a bearer token
//! (RFC 6750) or, when it is bound to a key, as `DPoP` with a proof of that key (RFC 9449).

use std::marker::PhantomData;
use std::ops::Deref;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use super::store::{TokenHash, TokenKind};
use super::ServerState;
use crate::protocol::oidc::dpop::ProofError;
use crate::util::now;
pub use crate::ScopeSet;

/// A valid access token presented as `Authorization: Bearer …`, or (a DPoP-bound token) as
/// `Authorization: DPoP …` with a `DPoP` proof of its key for this request.
///
/// Missing, unknown, expired or revoked tokens fail with `401` and a
/// `WWW-Authenticate: Bearer` challenge (`error="invalid_token"` when a token was given); a
/// bound token presented as a bearer token, or with a missing, replayed or wrong proof, with
/// `401` and a `WWW-Authenticate: DPoP` challenge.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::server::BearerToken;
///
/// #[get("/api/whoami")]
/// fn whoami(token: BearerToken) -> String {
///     match &token.owner {
///         Some(user) => format!("{user} via {}", token.client_id),
///         None => format!("the client {} itself", token.client_id),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BearerToken {
    /// The resource owner (`None` for `client_credentials` tokens).
    pub owner: Option<String>,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: i64,
    /// The resources it is for (RFC 8707); empty: not bound to one. A token bound to
    /// another API than this application's (`oauth_server.resource`) is refused.
    pub audience: Vec<String>,
    /// DPoP: the thumbprint of the key the token is bound to (the request proved it holds
    /// the key); `None` for a bearer token.
    pub jkt: Option<String>,
}

impl BearerToken {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a bearer guard failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    Missing,
    /// The token is unknown, expired or revoked.
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    /// The token lacks a required scope.
    #[error("the access token lacks a required scope")]
    InsufficientScope,
    /// The authorization server is not attached, or its store failed.
    #[error("the authorization server is unavailable")]
    Unavailable,
}

impl BearerError {
    /// The RFC 6750 error code (none when the request had no credentials, §3.1).
    fn code(self) -> Option<&'static str> {
        match self {
            BearerError::InvalidToken => Some("invalid_token"),
            BearerError::InsufficientScope => Some("insufficient_scope"),
            BearerError::Missing | BearerError::Unavailable => None,
        }
    }
}

/// Fails the guard with `status`, leaving the `WWW-Authenticate` challenge (with `detail`
/// after the realm) and the JSON error body for the server's fairing to answer with.
fn fail<T>(
    req: &Request<'_>,
    status: Status,
    error: BearerError,
    detail: &str,
) -> Outcome<T, BearerError> {
    let state = req.rocket().state::<ServerState>();
    let realm = state.map(|s| s.config.issuer.as_str()).unwrap_or_default();
    // RFC 9728 §5.1: where a client finds out which authorization server to ask.
    let metadata = state
        .map(|s| s.resources.metadata_url())
        .unwrap_or_default();
    let challenge = format!("Bearer realm=\"{realm}\"{detail}, resource_metadata=\"{metadata}\"");
    crate::bearer::refuse(
        req,
        status,
        Some(challenge),
        error.code(),
        &error.to_string(),
    );
    Outcome::Error((status, error))
}

/// Fails the guard for a DPoP presentation that does not hold (RFC 9449 §7.1).
fn fail_dpop<T>(
    req: &Request<'_>,
    state: &ServerState,
    error: ProofError,
) -> Outcome<T, BearerError> {
    crate::bearer::refuse_proof(req, &state.dpop, error);
    Outcome::Error((Status::Unauthorized, BearerError::InvalidToken))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BearerToken {
    type Error = BearerError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, BearerError> {
        let Some(state) = req.rocket().state::<ServerState>() else {
            return Outcome::Error((Status::InternalServerError, BearerError::Unavailable));
        };
        let Some(presented) = crate::bearer::presented(req) else {
            return fail(req, Status::Unauthorized, BearerError::Missing, "");
        };
        let invalid = r#", error="invalid_token""#;
        match state.store.token(&TokenHash::of(presented.1)).await {
            Ok(Some(record))
                if record.kind == TokenKind::Access
                    && !record.revoked
                    && record.expires_at > now()
                    && state.resources.is_for_own(&record.audience) =>
            {
                if let Err(e) = state.check_binding(req, presented, record.jkt.as_deref()) {
                    return fail_dpop(req, state, e);
                }
                Outcome::Success(BearerToken {
                    owner: record.owner,
                    client_id: record.client_id,
                    scopes: record.scopes,
                    expires_at: record.expires_at,
                    audience: record.audience,
                    jkt: record.jkt,
                })
            }
            Ok(_) => fail(
                req,
                Status::Unauthorized,
                BearerError::InvalidToken,
                invalid,
            ),
            Err(e) => {
                log::error!("{e}");
                Outcome::Error((Status::ServiceUnavailable, BearerError::Unavailable))
            }
        }
    }
}

impl Sentinel for BearerToken {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<ServerState>().is_none() {
            log::error!(
                "a bearer guard is used, but the `AuthorizationServer` fairing is not attached"
            );
            return true;
        }
        false
    }
}

/// A [`BearerToken`] granted every scope of `S`; `403` with `error="insufficient_scope"`
/// otherwise.
#[derive(Debug)]
pub struct Scoped<S>(pub BearerToken, PhantomData<fn() -> S>);

impl<S> Deref for Scoped<S> {
    type Target = BearerToken;

    fn deref(&self) -> &BearerToken {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r, S: ScopeSet> FromRequest<'r> for Scoped<S> {
    type Error = BearerError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, BearerError> {
        let token = match BearerToken::from_request(req).await {
            Outcome::Success(token) => token,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        if S::granted_in(&token.scopes) {
            return Outcome::Success(Scoped(token, PhantomData));
        }
        let detail = format!(
            r#", error="insufficient_scope", scope="{}""#,
            S::SCOPES.join(" ")
        );
        fail(
            req,
            Status::Forbidden,
            BearerError::InsufficientScope,
            &detail,
        )
    }
}

impl<S: ScopeSet> Sentinel for Scoped<S> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        BearerToken::abort(rocket)
    }
}
