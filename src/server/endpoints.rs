//! The server's routes: authorize (consent), token, revoke, introspect, metadata.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::utf8_percent_encode;
use rocket::data::{Data, ToByteUnit};
use rocket::http::{ContentType, Cookie, Header, Method, SameSite, Status};
use rocket::response::Redirect;
use rocket::route::{Handler, Outcome, Route};
use rocket::Request;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::config::ClientConfig;
use super::store::{CodeGrant, TakenCode, TokenHash, TokenKind, TokenRecord};
use super::ServerState;
use crate::util::now;
use crate::web::templates::{self, render};

const CSRF_COOKIE: &str = "oauth_server_csrf";
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
}

#[derive(Clone)]
struct ServerRoute(Endpoint);

pub(super) fn routes() -> Vec<Route> {
    [
        (Method::Get, "/authorize", Endpoint::Authorize),
        (Method::Post, "/authorize", Endpoint::Consent),
        (Method::Post, "/token", Endpoint::Token),
        (Method::Post, "/revoke", Endpoint::Revoke),
        (Method::Post, "/introspect", Endpoint::Introspect),
    ]
    .into_iter()
    .map(|(method, path, endpoint)| Route::new(method, path, ServerRoute(endpoint)))
    .collect()
}

pub(super) fn metadata_routes() -> Vec<Route> {
    vec![Route::new(
        Method::Get,
        "/.well-known/oauth-authorization-server",
        ServerRoute(Endpoint::Metadata),
    )]
}

/// Request parameters; a parameter given twice is an error (RFC 6749 §3.1).
struct Params {
    values: HashMap<String, String>,
    duplicate: Option<String>,
}

impl Params {
    fn parse(raw: &[u8]) -> Params {
        let mut values = HashMap::new();
        let mut duplicate = None;
        for (k, v) in url::form_urlencoded::parse(raw) {
            if values.insert(k.to_string(), v.into_owned()).is_some() {
                duplicate.get_or_insert_with(|| k.into_owned());
            }
        }
        Params { values, duplicate }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

async fn read_form(req: &Request<'_>, data: Data<'_>) -> Option<Params> {
    if req.content_type() != Some(&ContentType::Form) {
        return None;
    }
    let bytes = data.open(FORM_LIMIT.bytes()).into_bytes().await.ok()?;
    bytes
        .is_complete()
        .then(|| Params::parse(&bytes.into_inner()))
}

/// The space-separated `scope` parameter, or `default` when absent.
fn requested_scopes(params: &Params, default: &[String]) -> Vec<String> {
    match params.get("scope") {
        Some(scope) => scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => default.to_vec(),
    }
}

fn random() -> String {
    ::oauth2::CsrfToken::new_random_len(32).secret().clone()
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
            Endpoint::Authorize => authorize(req, state).await,
            Endpoint::Consent => consent(req, data, state).await,
            Endpoint::Token => token(req, data, state).await,
            Endpoint::Revoke => revoke(req, data, state).await,
            Endpoint::Introspect => introspect(req, data, state).await,
            Endpoint::Metadata => metadata(req, state),
        }
    }
}

/// TLS is required unless turned off, Rocket serves TLS, or the issuer (checked at ignite)
/// and the client are both on loopback.
fn transport_ok(req: &Request<'_>, state: &ServerState) -> bool {
    !state.config.require_tls
        || req.rocket().config().tls_enabled()
        || (crate::util::is_loopback(&state.issuer)
            && req.client_ip().is_some_and(|ip| ip.is_loopback()))
}

fn json_response<'r>(req: &'r Request<'_>, status: Status, body: Value) -> Outcome<'r> {
    let mut outcome = Outcome::from(req, (status, (ContentType::JSON, body.to_string())));
    if let Outcome::Success(response) = &mut outcome {
        response.set_header(Header::new("Cache-Control", "no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
    }
    outcome
}

fn oauth_error<'r>(
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

// ------------------------------------------------------------------ authorization endpoint

/// A validated authorization request.
struct AuthzRequest<'s> {
    client: &'s ClientConfig,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: Option<(String, String)>,
}

/// Why an authorization request is refused.
enum AuthzError {
    /// The redirect URI cannot be trusted: show a page, never redirect.
    Page(String),
    /// Tell the client, at its registered redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

fn validate<'s>(state: &'s ServerState, params: &Params) -> Result<AuthzRequest<'s>, AuthzError> {
    for trusted in ["client_id", "redirect_uri"] {
        if params.duplicate.as_deref() == Some(trusted) {
            return Err(AuthzError::Page(format!("the request repeats `{trusted}`")));
        }
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AuthzError::Page("the request has no client_id".into()))?;
    let client = state
        .clients
        .get(client_id)
        .ok_or_else(|| AuthzError::Page("the client is not registered".into()))?;
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => {
            return Err(AuthzError::Page(
                "the redirect_uri is not registered for this client".into(),
            ))
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(AuthzError::Page("the request has no redirect_uri".into())),
    };
    let client_state = params.get("state").map(str::to_owned);
    let fail = |error: &'static str, description: &str| AuthzError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: client_state.clone(),
        error,
        description: description.to_owned(),
    };
    if let Some(name) = &params.duplicate {
        return Err(fail(
            "invalid_request",
            &format!("the request repeats `{name}`"),
        ));
    }
    if params.get("response_type") != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if state.config.require_state && client_state.is_none() {
        return Err(fail("invalid_request", "state is required"));
    }
    let scopes: Vec<String> = requested_scopes(params, &client.scopes);
    if scopes.iter().any(|s| !client.scopes.contains(s)) {
        return Err(fail(
            "invalid_scope",
            "a requested scope is not allowed for this client",
        ));
    }
    let challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, Some(_)) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ))
        }
        (None, None) if !client.is_confidential() => {
            return Err(fail(
                "invalid_request",
                "PKCE (code_challenge) is required for public clients",
            ))
        }
        (None, None) => None,
        (Some(challenge), method) => {
            let method = method.unwrap_or("plain");
            let ok_len = (43..=128).contains(&challenge.len());
            match method {
                "S256" if ok_len => Some((challenge.to_owned(), "S256".to_owned())),
                "plain" if ok_len && state.config.allow_plain_pkce => {
                    Some((challenge.to_owned(), "plain".to_owned()))
                }
                "plain" => {
                    return Err(fail(
                        "invalid_request",
                        "code_challenge_method must be S256",
                    ))
                }
                _ => {
                    return Err(fail(
                        "invalid_request",
                        "unsupported or malformed code_challenge",
                    ))
                }
            }
        }
    };
    Ok(AuthzRequest {
        client,
        redirect_uri,
        scopes,
        state: client_state,
        challenge,
    })
}

/// `redirect_uri` plus the response parameters, `state` and `iss` (RFC 9207).
fn redirect_with(
    state: &ServerState,
    redirect_uri: &str,
    client_state: Option<&str>,
    pairs: &[(&str, &str)],
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(s) = client_state {
            query.append_pair("state", s);
        }
        query.append_pair("iss", &state.config.issuer);
    }
    url.to_string()
}

async fn refuse<'r>(req: &'r Request<'_>, state: &ServerState, err: AuthzError) -> Outcome<'r> {
    match err {
        AuthzError::Redirect {
            redirect_uri,
            state: s,
            error,
            description,
        } => {
            let to = redirect_with(
                state,
                &redirect_uri,
                s.as_deref(),
                &[("error", error), ("error_description", &description)],
            );
            Outcome::from(req, Redirect::to(to))
        }
        AuthzError::Page(message) => {
            #[derive(Serialize)]
            struct Context<'a> {
                provider: &'a str,
                status: u16,
                title: &'a str,
                message: &'a str,
                retry_url: Option<String>,
            }
            let context = Context {
                provider: "",
                status: 400,
                title: "Invalid authorization request",
                message: &message,
                retry_url: None,
            };
            Outcome::from(
                req,
                render(req, Status::BadRequest, templates::ERROR, &context).await,
            )
        }
    }
}

fn csrf_token(req: &Request<'_>, state: &ServerState) -> String {
    if let Some(cookie) = req.cookies().get_private(CSRF_COOKIE) {
        return cookie.value().to_owned();
    }
    let token = random();
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path(state.config.base_path.clone())
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.issuer.scheme() == "https");
    req.cookies().add_private(cookie);
    token
}

const NEXT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

async fn authorize<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let query = req.uri().query().map(|q| q.as_str()).unwrap_or_default();
    let params = Params::parse(query.as_bytes());
    let request = match validate(state, &params) {
        Ok(request) => request,
        Err(err) => return refuse(req, state, err).await,
    };
    let Some(owner) = state.owner.current(req).await else {
        let here = req.uri().to_string();
        let login = format!(
            "{}?next={}",
            state.config.login_url,
            utf8_percent_encode(&here, NEXT)
        );
        return Outcome::from(req, Redirect::to(login));
    };
    #[derive(Serialize)]
    struct ScopeView<'a> {
        name: &'a str,
        description: &'a str,
    }
    #[derive(Serialize)]
    struct ParamView<'a> {
        name: &'a str,
        value: &'a str,
    }
    #[derive(Serialize)]
    struct Consent<'a> {
        client_name: &'a str,
        client_image: Option<&'a str>,
        owner: &'a str,
        scopes: Vec<ScopeView<'a>>,
        action: String,
        csrf_token: String,
        params: Vec<ParamView<'a>>,
    }
    let mut params_view: Vec<ParamView<'_>> = params
        .values
        .iter()
        .filter(|(k, _)| k.as_str() != "csrf_token" && k.as_str() != "decision")
        .map(|(name, value)| ParamView { name, value })
        .collect();
    params_view.sort_by_key(|p| p.name);
    let context = Consent {
        client_name: request.client.display_name(),
        client_image: request.client.image_url.as_deref(),
        owner: &owner,
        scopes: request
            .scopes
            .iter()
            .map(|name| ScopeView {
                name,
                description: state
                    .config
                    .scopes
                    .get(name)
                    .map(String::as_str)
                    .unwrap_or(name),
            })
            .collect(),
        action: format!("{}/authorize", state.config.base_path.trim_end_matches('/')),
        csrf_token: csrf_token(req, state),
        params: params_view,
    };
    let mut outcome = Outcome::from(
        req,
        render(req, Status::Ok, templates::CONSENT, &context).await,
    );
    if let Outcome::Success(response) = &mut outcome {
        // Clickjacking defence for the consent page.
        response.set_header(Header::new("X-Frame-Options", "DENY"));
        response.set_header(Header::new(
            "Content-Security-Policy",
            "frame-ancestors 'none'",
        ));
        response.set_header(Header::new("Cache-Control", "no-store"));
    }
    outcome
}

async fn consent<'r>(req: &'r Request<'_>, data: Data<'r>, state: &ServerState) -> Outcome<'r> {
    let Some(params) = read_form(req, data).await else {
        return refuse(
            req,
            state,
            AuthzError::Page("the consent form is malformed".into()),
        )
        .await;
    };
    let csrf_ok = match (
        req.cookies().get_private(CSRF_COOKIE),
        params.get("csrf_token"),
    ) {
        (Some(cookie), Some(sent)) => bool::from(cookie.value().as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    if !csrf_ok {
        return refuse(
            req,
            state,
            AuthzError::Page("the consent form expired; please try again".into()),
        )
        .await;
    }
    let request = match validate(state, &params) {
        Ok(request) => request,
        Err(err) => return refuse(req, state, err).await,
    };
    let Some(owner) = state.owner.current(req).await else {
        return refuse(req, state, AuthzError::Page("you are not signed in".into())).await;
    };
    if params.get("decision") != Some("Accept") {
        let to = redirect_with(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &[("error", "access_denied")],
        );
        return Outcome::from(req, Redirect::to(to));
    }
    let code = random();
    let grant = CodeGrant {
        client_id: request.client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes,
        owner,
        challenge: request.challenge,
        expires_at: now() + state.config.code_ttl as i64,
        family: random(),
    };
    if let Err(e) = state.store.save_code(TokenHash::of(&code), grant).await {
        log::error!("{e}");
        let to = redirect_with(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &[("error", "server_error")],
        );
        return Outcome::from(req, Redirect::to(to));
    }
    let to = redirect_with(
        state,
        &request.redirect_uri,
        request.state.as_deref(),
        &[("code", &code)],
    );
    Outcome::from(req, Redirect::to(to))
}

// ------------------------------------------------------------------ client authentication

enum ClientAuthError {
    Invalid(&'static str),
    Unauthenticated { basic: bool },
}

/// Authenticates the client (`client_secret_basic`, `client_secret_post`, or a public
/// client's bare `client_id`), comparing secrets in constant time.
fn authenticate<'s>(
    req: &Request<'_>,
    state: &'s ServerState,
    params: &Params,
) -> Result<&'s ClientConfig, ClientAuthError> {
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
    let unauthenticated = ClientAuthError::Unauthenticated {
        basic: basic.is_some(),
    };
    let client = state.clients.get(&id).ok_or(unauthenticated)?;
    let ok = match (&client.secret, &secret) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        (None, None) => true,
        _ => false,
    };
    if ok {
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

// ------------------------------------------------------------------ token endpoint

async fn issue<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    client: &ClientConfig,
    owner: Option<String>,
    scopes: Vec<String>,
    family: String,
    with_refresh: bool,
) -> Outcome<'r> {
    let access = random();
    let ttl = state.config.access_token_ttl as i64;
    let record = |hash, kind, expires_at| TokenRecord {
        hash,
        kind,
        client_id: client.id.clone(),
        owner: owner.clone(),
        scopes: scopes.clone(),
        expires_at,
        family: family.clone(),
        revoked: false,
        used: false,
    };
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scopes.join(" "),
    });
    let mut records = vec![record(
        TokenHash::of(&access),
        TokenKind::Access,
        now() + ttl,
    )];
    if with_refresh {
        let refresh = random();
        records.push(record(
            TokenHash::of(&refresh),
            TokenKind::Refresh,
            now() + state.config.refresh_token_ttl as i64,
        ));
        body["refresh_token"] = json!(refresh);
    }
    for record in records {
        if let Err(e) = state.store.save_token(record).await {
            log::error!("{e}");
            return oauth_error(
                req,
                Status::InternalServerError,
                "server_error",
                "the token could not be stored",
            );
        }
    }
    json_response(req, Status::Ok, body)
}

fn pkce_ok(challenge: &Option<(String, String)>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (Some((challenge, method)), Some(verifier)) => {
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
        }
        // A verifier without a challenge (or the reverse) is a downgrade attempt.
        _ => false,
    }
}

async fn token<'r>(req: &'r Request<'_>, data: Data<'r>, state: &ServerState) -> Outcome<'r> {
    let (params, client) = match authenticated_form(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let grant_type = match params.get("grant_type") {
        Some(g) => g,
        None => {
            return oauth_error(
                req,
                Status::BadRequest,
                "invalid_request",
                "grant_type is required",
            )
        }
    };
    let invalid_grant = |why: &str| oauth_error(req, Status::BadRequest, "invalid_grant", why);
    let store_failed = |e: super::StoreError| {
        log::error!("{e}");
        oauth_error(
            req,
            Status::InternalServerError,
            "server_error",
            "the token store failed",
        )
    };
    match grant_type {
        "authorization_code" => {
            let (Some(code), Some(redirect_uri)) = (params.get("code"), params.get("redirect_uri"))
            else {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "invalid_request",
                    "code and redirect_uri are required",
                );
            };
            let grant = match state.store.take_code(&TokenHash::of(code)).await {
                Ok(TakenCode::Fresh(grant)) => grant,
                Ok(TakenCode::Replayed(grant)) => {
                    // RFC 6749 §4.1.2: a reused code revokes what it issued.
                    log::warn!(
                        "authorization code replayed by `{}`: revoking its tokens",
                        grant.client_id
                    );
                    if let Err(e) = state.store.revoke_family(&grant.family).await {
                        return store_failed(e);
                    }
                    return invalid_grant("the authorization code was already used");
                }
                Ok(TakenCode::Unknown) => return invalid_grant("unknown authorization code"),
                Err(e) => return store_failed(e),
            };
            if grant.client_id != client.id {
                return invalid_grant("the code was issued to another client");
            }
            if grant.expires_at <= now() {
                return invalid_grant("the authorization code expired");
            }
            if grant.redirect_uri != redirect_uri {
                return invalid_grant("redirect_uri does not match the authorization request");
            }
            if !pkce_ok(&grant.challenge, params.get("code_verifier")) {
                return invalid_grant("PKCE verification failed");
            }
            issue(
                req,
                state,
                client,
                Some(grant.owner),
                grant.scopes,
                grant.family,
                true,
            )
            .await
        }
        "refresh_token" => {
            let Some(refresh) = params.get("refresh_token") else {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            let hash = TokenHash::of(refresh);
            let record = match state.store.token(&hash).await {
                Ok(Some(r)) if r.kind == TokenKind::Refresh && r.client_id == client.id => r,
                Ok(_) => return invalid_grant("unknown refresh token"),
                Err(e) => return store_failed(e),
            };
            if record.revoked || record.expires_at <= now() {
                return invalid_grant("the refresh token expired or was revoked");
            }
            match state.store.use_refresh_token(&hash).await {
                Ok(true) => {}
                Ok(false) => {
                    log::warn!(
                        "refresh token reused by `{}`: revoking its family",
                        client.id
                    );
                    if let Err(e) = state.store.revoke_family(&record.family).await {
                        return store_failed(e);
                    }
                    return invalid_grant("the refresh token was already used");
                }
                Err(e) => return store_failed(e),
            }
            let scopes = requested_scopes(&params, &record.scopes);
            if scopes.iter().any(|s| !record.scopes.contains(s)) {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "invalid_scope",
                    "a scope exceeds the original grant",
                );
            }
            issue(
                req,
                state,
                client,
                record.owner,
                scopes,
                record.family,
                true,
            )
            .await
        }
        "client_credentials" => {
            if !client.is_confidential() {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "unauthorized_client",
                    "public clients cannot use client_credentials",
                );
            }
            let scopes: Vec<String> = requested_scopes(&params, &client.scopes);
            if scopes.iter().any(|s| !client.scopes.contains(s)) {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "invalid_scope",
                    "a requested scope is not allowed for this client",
                );
            }
            issue(req, state, client, None, scopes, random(), false).await
        }
        _ => oauth_error(
            req,
            Status::BadRequest,
            "unsupported_grant_type",
            "unsupported grant_type",
        ),
    }
}

// ------------------------------------------------------------------ revocation, introspection

/// The form body of a token, revocation or introspection request (no parameter given twice)
/// and the client it authenticates.
async fn authenticated_form<'r, 's>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &'s ServerState,
) -> Result<(Params, &'s ClientConfig), Outcome<'r>> {
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
    let client = authenticate(req, state, &params).map_err(|e| client_auth_failure(req, e))?;
    Ok((params, client))
}

async fn client_and_token<'r, 's>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &'s ServerState,
) -> Result<(&'s ClientConfig, Option<TokenRecord>), Outcome<'r>> {
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

async fn revoke<'r>(req: &'r Request<'_>, data: Data<'r>, state: &ServerState) -> Outcome<'r> {
    let (client, record) = match client_and_token(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    // RFC 7009 §2.2: unknown tokens and other clients' tokens get the same 200.
    if let Some(record) = record.filter(|r| r.client_id == client.id) {
        let result = match record.kind {
            TokenKind::Refresh => state.store.revoke_family(&record.family).await,
            TokenKind::Access => state.store.revoke_token(&record.hash).await,
        };
        if let Err(e) = result {
            log::error!("{e}");
            return oauth_error(
                req,
                Status::ServiceUnavailable,
                "temporarily_unavailable",
                "try again",
            );
        }
    }
    json_response(req, Status::Ok, json!({}))
}

async fn introspect<'r>(req: &'r Request<'_>, data: Data<'r>, state: &ServerState) -> Outcome<'r> {
    let (client, record) = match client_and_token(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    if !client.is_confidential() {
        return oauth_error(
            req,
            Status::Unauthorized,
            "invalid_client",
            "introspection needs a confidential client",
        );
    }
    let body = match record {
        Some(r) if r.is_active(now()) => {
            json!({
                "active": true,
                "scope": r.scopes.join(" "),
                "client_id": r.client_id,
                "username": r.owner,
                "exp": r.expires_at,
                "token_type": if r.kind == TokenKind::Access { "Bearer" } else { "refresh_token" },
                "iss": state.config.issuer,
            })
        }
        _ => json!({ "active": false }),
    };
    json_response(req, Status::Ok, body)
}

fn metadata<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let mut methods = vec!["S256"];
    if state.config.allow_plain_pkce {
        methods.push("plain");
    }
    let body = json!({
        "issuer": state.config.issuer,
        "authorization_endpoint": state.endpoint("authorize"),
        "token_endpoint": state.endpoint("token"),
        "revocation_endpoint": state.endpoint("revoke"),
        "introspection_endpoint": state.endpoint("introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": methods,
        "scopes_supported": state.config.scopes.keys().collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
    });
    json_response(req, Status::Ok, body)
}
