//! Client authentication at the token, revocation, introspection and pushed authorization
//! request endpoints: `client_secret_basic`, `client_secret_post`, an assertion
//! (`private_key_jwt`, `client_secret_jwt`), or a public client's bare `client_id`.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::data::Data;
use rocket::http::{Header, Status};
use rocket::route::Outcome;
use rocket::Request;

use super::{oauth_error, read_form, Params};
use crate::server::assertion::{self, AssertionError, ASSERTION_TYPE};
use crate::server::config::{ClientAuthMethod, RegisteredClient};
use crate::server::store::{TokenHash, TokenRecord};
use crate::server::ServerState;

enum ClientAuthError {
    Invalid(&'static str),
    /// The client registry (the store) failed.
    Unavailable,
    Unauthenticated {
        basic: bool,
    },
}

/// Loads the client `id`; `Unauthenticated` when there is none.
async fn load<'s>(
    state: &'s ServerState,
    id: &str,
    basic: bool,
) -> Result<Cow<'s, RegisteredClient>, ClientAuthError> {
    match state.client(id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(ClientAuthError::Unauthenticated { basic }),
        Err(e) => {
            log::error!("rocket_oauth: {e}");
            Err(ClientAuthError::Unavailable)
        }
    }
}

/// Authenticates the client by its `client_assertion` (RFC 7523 §2.2).
async fn by_assertion<'s>(
    req: &Request<'_>,
    state: &'s ServerState,
    params: &Params,
    raw: &str,
) -> Result<Cow<'s, RegisteredClient>, ClientAuthError> {
    if params.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(ClientAuthError::Invalid(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    if params.get("client_secret").is_some() || req.headers().get_one("Authorization").is_some() {
        return Err(ClientAuthError::Invalid(
            "use one client authentication method",
        ));
    }
    let unauthenticated = ClientAuthError::Unauthenticated { basic: false };
    let id = assertion::claimed_client(raw).ok_or(unauthenticated)?;
    if params.get("client_id").is_some_and(|given| given != id) {
        return Err(ClientAuthError::Invalid(
            "client_id does not match the assertion",
        ));
    }
    let client = load(state, &id, false).await?;
    let here = req.uri().path().segments().last().unwrap_or("token");
    let audiences = [
        state.config.issuer.clone(),
        state.endpoint("token"),
        state.endpoint(here),
    ];
    match assertion::verify(state, &client, raw, &audiences).await {
        Ok(()) => Ok(client),
        Err(AssertionError::Refused(why)) => {
            log::debug!("rocket_oauth: client `{id}`'s assertion refused: {why}");
            Err(ClientAuthError::Unauthenticated { basic: false })
        }
        Err(AssertionError::Unavailable) => Err(ClientAuthError::Unavailable),
    }
}

/// Authenticates the client (`client_secret_basic`, `client_secret_post`, an assertion, or
/// a public client's bare `client_id`), comparing secrets in constant time. A client that
/// authenticates with assertions is authenticated by nothing else; with `fapi2`, only
/// `private_key_jwt` clients are.
async fn authenticate<'s>(
    req: &Request<'_>,
    state: &'s ServerState,
    params: &Params,
) -> Result<Cow<'s, RegisteredClient>, ClientAuthError> {
    if let Some(raw) = params.get("client_assertion") {
        let client = by_assertion(req, state, params, raw).await?;
        if state.config.fapi2 && !client.uses_keys() {
            return Err(ClientAuthError::Unauthenticated { basic: false });
        }
        return Ok(client);
    }
    let header = req.headers().get_one("Authorization");
    let basic = header.and_then(|h| {
        let (scheme, value) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(value.trim())
    });
    let (id, secret) = match basic {
        Some(value) => {
            if params.get("client_secret").is_some() {
                return Err(ClientAuthError::Invalid(
                    "use one client authentication method",
                ));
            }
            let decoded = STANDARD
                .decode(value)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(ClientAuthError::Unauthenticated { basic: true })?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or(ClientAuthError::Unauthenticated { basic: true })?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            (
                decode(id).ok_or(ClientAuthError::Unauthenticated { basic: true })?,
                decode(secret),
            )
        }
        None => (
            params
                .get("client_id")
                .ok_or(ClientAuthError::Invalid(
                    "client authentication is required",
                ))?
                .to_owned(),
            params.get("client_secret").map(str::to_owned),
        ),
    };
    if let (Some(form_id), true) = (params.get("client_id"), basic.is_some()) {
        if form_id != id {
            return Err(ClientAuthError::Invalid(
                "client_id does not match the credentials",
            ));
        }
    }
    let client = load(state, &id, basic.is_some()).await?;
    let by_assertion_only = matches!(
        client.token_endpoint_auth_method,
        Some(ClientAuthMethod::PrivateKeyJwt | ClientAuthMethod::ClientSecretJwt)
    );
    if !by_assertion_only && !state.config.fapi2 && client.secret_matches(secret.as_deref()) {
        Ok(client)
    } else {
        Err(ClientAuthError::Unauthenticated {
            basic: basic.is_some(),
        })
    }
}

fn client_auth_failure<'r>(req: &'r Request<'_>, err: ClientAuthError) -> Outcome<'r> {
    match err {
        ClientAuthError::Invalid(why) => {
            oauth_error(req, Status::BadRequest, "invalid_request", why)
        }
        ClientAuthError::Unavailable => oauth_error(
            req,
            Status::ServiceUnavailable,
            "temporarily_unavailable",
            "the client registry is unavailable",
        ),
        ClientAuthError::Unauthenticated { basic } => {
            let mut outcome = oauth_error(
                req,
                Status::Unauthorized,
                "invalid_client",
                "client authentication failed",
            );
            if let (Outcome::Success(response), true) = (&mut outcome, basic) {
                response.set_header(Header::new("WWW-Authenticate", "Basic realm=\"oauth\""));
            }
            outcome
        }
    }
}

/// The form body of a token, revocation or introspection request (no parameter given twice)
/// and the client it authenticates.
pub(super) async fn authenticated_form<'r, 's>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &'s ServerState,
) -> Result<(Params, Cow<'s, RegisteredClient>), Outcome<'r>> {
    let Some(params) = read_form(req, data).await else {
        return Err(oauth_error(
            req,
            Status::BadRequest,
            "invalid_request",
            "expected an application/x-www-form-urlencoded body",
        ));
    };
    if let Some(name) = &params.duplicate {
        return Err(oauth_error(
            req,
            Status::BadRequest,
            "invalid_request",
            &format!("the request repeats `{name}`"),
        ));
    }
    let client = authenticate(req, state, &params)
        .await
        .map_err(|e| client_auth_failure(req, e))?;
    Ok((params, client))
}

pub(super) async fn client_and_token<'r, 's>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &'s ServerState,
) -> Result<(Cow<'s, RegisteredClient>, Option<TokenRecord>), Outcome<'r>> {
    let (params, client) = authenticated_form(req, data, state).await?;
    let Some(token) = params.get("token") else {
        return Err(oauth_error(
            req,
            Status::BadRequest,
            "invalid_request",
            "token is required",
        ));
    };
    match state.store.token(&TokenHash::of(token)).await {
        Ok(record) => Ok((client, record)),
        Err(e) => {
            log::error!("{e}");
            Err(oauth_error(
                req,
                Status::InternalServerError,
                "server_error",
                "the token store failed",
            ))
        }
    }
}
