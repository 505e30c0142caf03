//! The server's routes: authorize (consent), token, revoke, introspect, metadata — one file
//! each — and what they share: form parsing, JSON answers, the TLS requirement.

mod admin;
mod authorize;
mod client_auth;
mod consent;
mod device;
mod forms;
mod grants;
mod introspect;
mod metadata;
mod openid;
mod par;
mod pushed;
mod register;
mod revoke;
mod token;

use std::collections::HashMap;

use rocket::data::{Data, ToByteUnit};
use rocket::http::{ContentType, Header, Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::Request;
use serde_json::{json, Value};

use super::ServerState;

/// The largest form body read.
const FORM_LIMIT: u64 = 16 * 1024;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Authorize,
    Consent,
    Token,
    Revoke,
    Introspect,
    Metadata,
    Discovery,
    ProtectedResource,
    Jwks,
    Userinfo,
    EndSession,
    EndSessionConfirmed,
    Register,
    Grants,
    RevokeGrant,
    Admin,
    AdminAction,
    DeviceAuthorization,
    Device,
    DeviceSubmit,
    PushedRequest,
}

#[derive(Clone)]
struct ServerRoute(Endpoint);

/// Which optional routes are mounted.
pub(super) struct Mounted {
    /// The OpenID Provider's.
    pub openid: bool,
    /// RFC 7591 dynamic registration.
    pub register: bool,
    /// The users' grants page.
    pub grants: bool,
    /// The admin pages.
    pub admin: bool,
}

/// The routes under `base_path`.
pub(super) fn routes(mounted: Mounted) -> Vec<Route> {
    let Mounted {
        openid,
        register,
        grants,
        admin,
    } = mounted;
    let mut routes = vec![
        (Method::Get, "/authorize", Endpoint::Authorize),
        (Method::Post, "/authorize", Endpoint::Consent),
        (Method::Post, "/token", Endpoint::Token),
        (Method::Post, "/revoke", Endpoint::Revoke),
        (Method::Post, "/introspect", Endpoint::Introspect),
        (
            Method::Post,
            "/device_authorization",
            Endpoint::DeviceAuthorization,
        ),
        (Method::Get, "/device", Endpoint::Device),
        (Method::Post, "/device", Endpoint::DeviceSubmit),
        (Method::Post, "/par", Endpoint::PushedRequest),
    ];
    if openid {
        routes.extend([
            (Method::Get, "/jwks", Endpoint::Jwks),
            (Method::Get, "/userinfo", Endpoint::Userinfo),
            (Method::Post, "/userinfo", Endpoint::Userinfo),
            (Method::Get, "/end_session", Endpoint::EndSession),
            (Method::Post, "/end_session", Endpoint::EndSessionConfirmed),
        ]);
    }
    if register {
        routes.push((Method::Post, "/register", Endpoint::Register));
    }
    if grants {
        routes.push((Method::Get, "/grants", Endpoint::Grants));
        routes.push((Method::Post, "/grants", Endpoint::RevokeGrant));
    }
    if admin {
        routes.push((Method::Get, "/admin", Endpoint::Admin));
        routes.push((Method::Post, "/admin", Endpoint::AdminAction));
    }
    routes
        .into_iter()
        .map(|(method, path, endpoint)| Route::new(method, path, ServerRoute(endpoint)))
        .collect()
}

/// RFC 8414 §3: the metadata lives at `/.well-known/oauth-authorization-server` followed by
/// the issuer's path, if it has one.
/// OpenID Connect Discovery §4: the provider's document is at the issuer followed by
/// `/.well-known/openid-configuration`. RFC 9728: the own API's document is at
/// `resource_path`.
pub(super) fn metadata_routes(issuer: &url::Url, openid: bool, resource_path: &str) -> Vec<Route> {
    let path = issuer.path().trim_end_matches('/');
    let mut routes = vec![
        Route::new(
            Method::Get,
            &format!("/.well-known/oauth-authorization-server{path}"),
            ServerRoute(Endpoint::Metadata),
        ),
        Route::new(
            Method::Get,
            resource_path,
            ServerRoute(Endpoint::ProtectedResource),
        ),
    ];
    if openid {
        routes.push(Route::new(
            Method::Get,
            &format!("{path}/.well-known/openid-configuration"),
            ServerRoute(Endpoint::Discovery),
        ));
    }
    routes
}

/// Request parameters; a parameter given twice is an error (RFC 6749 §3.1).
pub(super) struct Params {
    pub values: HashMap<String, String>,
    pub duplicate: Option<String>,
    /// RFC 8707's `resource`, the one parameter that may be repeated.
    pub resources: Vec<String>,
    /// An authorization request pushed first (RFC 9126): read from its `request_uri`.
    pub pushed: bool,
}

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        let mut values = HashMap::new();
        let mut duplicate = None;
        let mut resources = Vec::new();
        for (k, v) in url::form_urlencoded::parse(raw) {
            if k == "resource" {
                resources.push(v.into_owned());
            } else if values.insert(k.to_string(), v.into_owned()).is_some() {
                duplicate.get_or_insert_with(|| k.into_owned());
            }
        }
        Params {
            values,
            duplicate,
            resources,
            pushed: false,
        }
    }

    /// Parameters from `pairs` (as [`parse`](Self::parse) reads them).
    pub fn from_pairs(pairs: &[(String, String)]) -> Params {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Params::parse(encoded.as_bytes())
    }

    /// Every parameter, as given (each `resource` too).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let values = self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        values.chain(self.resources.iter().map(|v| ("resource", v.as_str())))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

pub(super) async fn read_form(req: &Request<'_>, data: Data<'_>) -> Option<Params> {
    if req.content_type() != Some(&ContentType::Form) {
        return None;
    }
    let bytes = data.open(FORM_LIMIT.bytes()).into_bytes().await.ok()?;
    bytes
        .is_complete()
        .then(|| Params::parse(&bytes.into_inner()))
}

/// A page of the user's (consent, sign-out, grants): never framed — clickjacking defence by
/// CSP's `frame-ancestors`, which modern browsers obey over `X-Frame-Options` (that one is
/// Shield's, which warns when a response has it already) — and never cached.
pub(super) fn unframed(mut outcome: Outcome<'_>) -> Outcome<'_> {
    if let Outcome::Success(response) = &mut outcome {
        response.set_header(Header::new(
            "Content-Security-Policy",
            "frame-ancestors 'none'",
        ));
        response.set_header(Header::new("Cache-Control", "no-store"));
    }
    outcome
}

/// The space-separated `scope` parameter, or `default` when absent.
pub(super) fn requested_scopes(params: &Params, default: &[String]) -> Vec<String> {
    match params.get("scope") {
        Some(scope) => scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => default.to_vec(),
    }
}

#[rocket::async_trait]
impl Handler for ServerRoute {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let Some(state) = req.rocket().state::<ServerState>() else {
            return Outcome::Error(Status::InternalServerError);
        };
        if !transport_ok(req, state) {
            let body = json!({"error": "invalid_request", "error_description": "TLS is required"});
            return json_response(req, Status::BadRequest, body);
        }
        match self.0 {
            Endpoint::Authorize => authorize::authorize(req, state).await,
            Endpoint::Consent => authorize::consent(req, data, state).await,
            Endpoint::Token => token::token(req, data, state).await,
            Endpoint::Revoke => revoke::revoke(req, data, state).await,
            Endpoint::Introspect => introspect::introspect(req, data, state).await,
            Endpoint::Metadata => metadata::metadata(req, state).await,
            Endpoint::Discovery => metadata::discovery(req, state).await,
            Endpoint::ProtectedResource => metadata::protected_resource(req, state).await,
            Endpoint::Jwks => openid::jwks(req, state).await,
            Endpoint::Userinfo => openid::userinfo(req, state).await,
            Endpoint::EndSession => openid::end_session(req, state).await,
            Endpoint::EndSessionConfirmed => {
                Box::pin(openid::end_session_confirmed(req, data, state)).await
            }
            Endpoint::Register => register::register(req, data, state).await,
            Endpoint::Grants => grants::page(req, state).await,
            Endpoint::RevokeGrant => grants::revoke(req, data, state).await,
            Endpoint::Admin => admin::page(req, state).await,
            Endpoint::AdminAction => Box::pin(admin::act(req, data, state)).await,
            Endpoint::DeviceAuthorization => device::authorization(req, data, state).await,
            Endpoint::Device => device::page(req, state).await,
            Endpoint::DeviceSubmit => Box::pin(device::submit(req, data, state)).await,
            Endpoint::PushedRequest => Box::pin(par::push(req, data, state)).await,
        }
    }
}

/// TLS is required unless turned off, Rocket serves TLS, or the issuer (checked at ignite)
/// and the client are both on loopback.
fn transport_ok(req: &Request<'_>, state: &ServerState) -> bool {
    !state.config.require_tls
        || req.rocket().config().tls_enabled()
        || (crate::util::is_loopback(&state.issuer)
            // The socket's address: headers such as X-Real-IP are the client's to forge.
            && req.remote().is_some_and(|addr| addr.ip().is_loopback()))
}

pub(super) fn json_response<'r>(req: &'r Request<'_>, status: Status, body: Value) -> Outcome<'r> {
    let mut outcome = Outcome::from(req, (status, (ContentType::JSON, body.to_string())));
    if let Outcome::Success(response) = &mut outcome {
        response.set_header(Header::new("Cache-Control", "no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
    }
    outcome
}

/// 401 `invalid_token`, with its RFC 6750 challenge.
pub(super) fn invalid_token<'r>(req: &'r Request<'_>) -> Outcome<'r> {
    let body = json!({"error": "invalid_token"});
    json_response(req, Status::Unauthorized, body).map(|mut response| {
        response.set_header(Header::new(
            "WWW-Authenticate",
            r#"Bearer error="invalid_token""#,
        ));
        response
    })
}

pub(super) fn oauth_error<'r>(
    req: &'r Request<'_>,
    status: Status,
    error: &str,
    description: &str,
) -> Outcome<'r> {
    json_response(
        req,
        status,
        json!({ "error": error, "error_description": description }),
    )
}

/// The key of the request's DPoP proof (its thumbprint) for `endpoint` (`token`, `par`), if
/// it has one; a refused proof is answered at once (`use_dpop_nonce` with a fresh `DPoP-Nonce`, or `invalid_dpop_proof`).
pub(super) fn proof_key<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    endpoint: &str,
) -> Result<Option<String>, Box<Outcome<'r>>> {
    let refuse = |e: crate::protocol::oidc::dpop::ProofError| {
        let mut outcome = oauth_error(req, Status::BadRequest, e.code(), &e.to_string());
        if let (Outcome::Success(response), Some(nonce)) = (&mut outcome, state.dpop.nonce()) {
            response.set_header(Header::new("DPoP-Nonce", nonce));
        }
        Box::new(outcome)
    };
    let Some(raw) = crate::bearer::proof(req).map_err(refuse)? else {
        return Ok(None);
    };
    let url = state.endpoint(endpoint);
    let request = crate::protocol::oidc::dpop::Request {
        method: "POST",
        url: &url,
        access_token: None,
    };
    match state.dpop.check(raw, &request, crate::util::now()) {
        Ok(proof) => Ok(Some(proof.jkt)),
        Err(e) => Err(refuse(e)),
    }
}
