//! The resource server's request guard: a valid access token of the issuer, granted every
//! scope of `S`.

use std::marker::PhantomData;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};
use serde_json::{Map, Value};

use super::fairing::{Resource, ResourceState};
use crate::scopes::ScopeSet;
use crate::util::now;

/// A valid access token of resource `R`'s issuer, presented as `Authorization: Bearer …`,
/// granted every scope of `S` (none by default).
///
/// | the request | the answer |
/// |---|---|
/// | no token | `401`, `WWW-Authenticate: Bearer` (with `resource_metadata` when configured) |
/// | an invalid, expired, other issuer's or other audience's token | `401`, `error="invalid_token"` |
/// | a valid token without a scope of `S` | `403`, `error="insufficient_scope"`, `scope="…"` |
/// | the issuer unreachable or answering garbage | `502` (`504` when it timed out) |
///
/// Refusals have RFC 6750's JSON body (`{"error": …, "error_description": …}`) unless the
/// route's catcher gives one of its own. See [the module](crate::resource) for an example.
#[non_exhaustive]
pub struct Bearer<R, S = ()> {
    /// `sub`: the user, or (for a client's own token) often the client.
    pub subject: Option<String>,
    /// The client the token was issued to (`client_id`, else `azp` or `appid`).
    pub client_id: Option<String>,
    /// The granted scopes (`scope`, or `scp`).
    pub scopes: Vec<String>,
    /// `exp`, seconds since the Unix epoch (an introspection answer may have none).
    pub expires_at: Option<i64>,
    /// Every claim of the token (a JWT's), or of the issuer's introspection answer.
    pub claims: Map<String, Value>,
    _marker: PhantomData<fn() -> (R, S)>,
}

impl<R, S> std::fmt::Debug for Bearer<R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("subject", &self.subject)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl<R, S> Bearer<R, S> {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The claim `name`, if the token has it.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
}

/// Why a [`Bearer`] guard refused the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    Missing,
    /// The token is malformed, forged, expired, another issuer's or audience's, or bound to
    /// a key.
    #[error("the access token is invalid")]
    InvalidToken,
    /// The token lacks a scope the route requires.
    #[error("the access token lacks a required scope")]
    InsufficientScope,
    /// The issuer could not check the token (unreachable, slow, or answering garbage).
    #[error("the token's issuer is unavailable")]
    IssuerUnavailable,
}

impl ResourceError {
    fn code(self) -> Option<&'static str> {
        match self {
            ResourceError::Missing => None,
            ResourceError::InvalidToken => Some("invalid_token"),
            ResourceError::InsufficientScope => Some("insufficient_scope"),
            ResourceError::IssuerUnavailable => Some("temporarily_unavailable"),
        }
    }
}

/// Fails the guard: `status`, and (for 401/403) the RFC 6750 challenge with `detail` and
/// the resource's metadata URL.
fn fail<T, R: Resource>(
    req: &Request<'_>,
    state: &ResourceState<R>,
    status: Status,
    error: ResourceError,
    detail: &str,
) -> Outcome<T, ResourceError> {
    let challenge = matches!(status.code, 401 | 403).then(|| {
        let mut params: Vec<String> = Vec::new();
        if let Some(code) = error.code() {
            params.push(format!("error=\"{code}\""));
        }
        if !detail.is_empty() {
            params.push(detail.to_owned());
        }
        if let Some(url) = &state.metadata_url {
            params.push(format!("resource_metadata=\"{url}\""));
        }
        match params.is_empty() {
            true => "Bearer".to_owned(),
            false => format!("Bearer {}", params.join(", ")),
        }
    });
    crate::bearer::refuse(req, status, challenge, error.code(), &error.to_string());
    Outcome::Error((status, error))
}

/// Checks a DPoP-bound token came with its proof (and a bearer token without one). The
/// proof's `htu` names the resource identifier's origin, else the request's host (`https`,
/// `http` on loopback).
fn binding<R: Resource>(
    req: &Request<'_>,
    state: &ResourceState<R>,
    presented: (crate::bearer::Scheme, &str),
    jkt: Option<&str>,
) -> Result<(), crate::protocol::oidc::dpop::ProofError> {
    let origin = match &state.origin {
        Some(origin) => origin.clone(),
        None => {
            let host = req.host().map(|h| h.to_string()).unwrap_or_default();
            let loopback = ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .any(|l| host == *l || host.starts_with(&format!("{l}:")));
            format!("{}://{host}", if loopback { "http" } else { "https" })
        }
    };
    crate::bearer::check_binding(req, &state.dpop, presented, jkt, &origin)
}

#[rocket::async_trait]
impl<'r, R: Resource, S: ScopeSet> FromRequest<'r> for Bearer<R, S> {
    type Error = ResourceError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ResourceError> {
        let Some(state) = req.rocket().state::<ResourceState<R>>() else {
            // The sentinel stops a launch without the fairing.
            return Outcome::Error((
                Status::InternalServerError,
                ResourceError::IssuerUnavailable,
            ));
        };
        let Some(presented) = crate::bearer::presented(req) else {
            return fail(req, state, Status::Unauthorized, ResourceError::Missing, "");
        };
        let raw = presented.1;
        let claims = match state.validator.validate(&state.http, raw, now()).await {
            Ok(claims) => claims,
            Err(e) => {
                let status = match e.issuer_fault() {
                    None => {
                        log::info!("resource `{}`: a token was refused: {e}", R::NAME);
                        return fail(
                            req,
                            state,
                            Status::Unauthorized,
                            ResourceError::InvalidToken,
                            "",
                        );
                    }
                    Some(true) => Status::GatewayTimeout,
                    Some(false) => Status::BadGateway,
                };
                log::warn!("resource `{}`: {e}", R::NAME);
                return fail(req, state, status, ResourceError::IssuerUnavailable, "");
            }
        };
        if let Err(e) = binding(req, state, presented, claims.jkt()) {
            log::info!(
                "resource `{}`: a token's presentation was refused: {e}",
                R::NAME
            );
            crate::bearer::refuse_proof(req, &state.dpop, e);
            return Outcome::Error((Status::Unauthorized, ResourceError::InvalidToken));
        }
        let scopes = claims.scopes();
        if !S::granted_in(&scopes) {
            let detail = format!("scope=\"{}\"", S::SCOPES.join(" "));
            return fail(
                req,
                state,
                Status::Forbidden,
                ResourceError::InsufficientScope,
                &detail,
            );
        }
        Outcome::Success(Bearer {
            subject: claims.subject().map(str::to_owned),
            client_id: claims.client_id().map(str::to_owned),
            expires_at: claims.expires_at(),
            scopes,
            claims: claims.0,
            _marker: PhantomData,
        })
    }
}

impl<R: Resource, S> Sentinel for Bearer<R, S> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<ResourceState<R>>().is_none() {
            log::error!(
                "a `Bearer<{}>` guard is used, but `{}.fairing()` is not attached",
                std::any::type_name::<R>(),
                std::any::type_name::<R>(),
            );
            return true;
        }
        false
    }
}
