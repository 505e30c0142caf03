//! The routes a provider's fairing mounts: `login`, `callback`, `logout`, `check`.

use std::marker::PhantomData;

use rocket::data::{Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Header, Method, RawStr, Status};
use rocket::response::Redirect;
use rocket::route::{Handler, Outcome, Route};
use rocket::serde::json::Json;
use rocket::Request;
use serde::Serialize;

use crate::config::ProviderConfig;
use crate::error::{LoginError, TokenError};
use crate::fairing::{Endpoints, ProviderState};
use crate::guards::{current, AccessToken};
use crate::hooks::{Api, Denial, DenialKind};
use crate::next;
use crate::oauth2::{authorize, exchange_code};
use crate::oidc::{verify_id_token, Expectations, IdTokenError, TENANT_PLACEHOLDER};
use crate::provider::Provider;
use crate::session::{now, Attempt, SessionData};
use crate::templates::{self, render};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Login,
    LoginConfirmed,
    Callback,
    CallbackPost,
    Logout,
    Check,
}

struct ProviderRoute<P> {
    endpoint: Endpoint,
    _provider: PhantomData<fn() -> P>,
}

impl<P> Clone for ProviderRoute<P> {
    fn clone(&self) -> Self {
        ProviderRoute {
            endpoint: self.endpoint,
            _provider: PhantomData,
        }
    }
}

/// The routes for `P`, relative to its base path.
pub(crate) fn routes<P: Provider>(config: &ProviderConfig) -> Vec<Route> {
    let mut list = vec![
        (Method::Get, "/login", Endpoint::Login),
        (Method::Get, "/callback", Endpoint::Callback),
        (Method::Post, "/callback", Endpoint::CallbackPost),
        (Method::Post, "/logout", Endpoint::Logout),
        (Method::Get, "/check", Endpoint::Check),
    ];
    if config.confirm {
        list.push((Method::Post, "/login", Endpoint::LoginConfirmed));
    }
    if config.logout_via_get {
        list.push((Method::Get, "/logout", Endpoint::Logout));
    }
    list.into_iter()
        .map(|(method, path, endpoint)| {
            let mut route = Route::new(
                method,
                path,
                ProviderRoute::<P> {
                    endpoint,
                    _provider: PhantomData,
                },
            );
            route.name = Some(format!("rocket_oauth {} {path}", P::NAME).into());
            route
        })
        .collect()
}

#[rocket::async_trait]
impl<P: Provider> Handler for ProviderRoute<P> {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let Some(state) = req.rocket().state::<ProviderState<P>>() else {
            return Outcome::Error(Status::InternalServerError);
        };
        let outcome = match self.endpoint {
            Endpoint::Login => login(req, state).await,
            Endpoint::LoginConfirmed => login_confirmed(req, data, state).await,
            Endpoint::Callback => {
                let params = match req.uri().query() {
                    Some(query) => {
                        Form::<CallbackParams>::parse_encoded(RawStr::new(query.as_str())).ok()
                    }
                    None => Some(<CallbackParams as Default>::default()),
                };
                callback(req, state, params).await
            }
            Endpoint::CallbackPost => {
                let params = Form::<CallbackParams>::from_data(req, data)
                    .await
                    .succeeded()
                    .map(Form::into_inner);
                callback(req, state, params).await
            }
            Endpoint::Logout => logout(req, state).await,
            Endpoint::Check => {
                #[derive(Serialize)]
                struct Check {
                    authorized: bool,
                }
                let authorized = current::<P>(req).is_some();
                Outcome::from(req, Json(Check { authorized }))
            }
        };
        // Login pages, redirects carrying state, and login results must never be cached.
        outcome.map(|mut response| {
            response.set_header(Header::new("Cache-Control", "no-store"));
            response
        })
    }
}

fn login_url<P>(state: &ProviderState<P>) -> String {
    format!("{}/login", state.config.base_path)
}

/// `next` from the query string, if it is a safe same-site path.
fn query_next(req: &Request<'_>) -> Option<String> {
    let next = req.query_value::<String>("next")?.ok()?;
    next::sanitize(&next).map(str::to_owned)
}

async fn login<'r, P: Provider>(req: &'r Request<'_>, state: &ProviderState<P>) -> Outcome<'r> {
    let next = query_next(req);
    if !state.config.confirm {
        return start(req, state, next).await;
    }
    #[derive(Serialize)]
    struct Confirm<'a> {
        provider: &'a str,
        action: String,
        csrf_token: String,
        next: String,
    }
    let context = Confirm {
        provider: P::NAME,
        action: login_url(state),
        csrf_token: state.cookies.csrf_token(req.cookies()),
        next: next.unwrap_or_default(),
    };
    Outcome::from(
        req,
        render(req, Status::Ok, templates::CONFIRM, &context).await,
    )
}

#[derive(Debug, FromForm)]
struct ConfirmForm {
    csrf_token: String,
    next: Option<String>,
}

async fn login_confirmed<'r, P: Provider>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ProviderState<P>,
) -> Outcome<'r> {
    let form = Form::<ConfirmForm>::from_data(req, data).await.succeeded();
    match form {
        Some(form) if state.cookies.check_csrf(req.cookies(), &form.csrf_token) => {
            let next = form
                .next
                .as_deref()
                .and_then(next::sanitize)
                .map(str::to_owned);
            start(req, state, next).await
        }
        _ => error_page(req, state, LoginError::Csrf).await,
    }
}

/// Starts the flow: a new attempt cookie and a 303 to the provider.
async fn start<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    next: Option<String>,
) -> Outcome<'r> {
    let endpoints = match state.endpoints().await {
        Ok(endpoints) => endpoints,
        Err(err) => return error_page(req, state, err).await,
    };
    let mut params = state.auth_params.clone();
    let mut scopes = state.config.scopes.clone();
    let mut nonce = None;
    if endpoints.oidc.is_some() {
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        let value = ::oauth2::CsrfToken::new_random().secret().clone();
        params.push(("nonce".into(), value.clone()));
        nonce = Some(value);
    }
    let auth = authorize(&endpoints.client, &scopes, state.config.pkce, &params);
    let attempt = Attempt {
        state: auth.state.secret().clone(),
        verifier: auth.pkce_verifier.map(|v| v.secret().clone()),
        next,
        created: now(),
        nonce,
    };
    state.cookies.add_attempt(req.cookies(), &attempt);
    Outcome::from(req, Redirect::to(auth.url.to_string()))
}

/// What a provider sends back to `callback`, as query or form fields.
#[derive(Debug, Default, FromForm)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// OAuth error codes are short ASCII words; anything else is not shown.
fn displayable_code(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        code.to_owned()
    } else {
        "unknown_error".to_owned()
    }
}

async fn callback<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    params: Option<CallbackParams>,
) -> Outcome<'r> {
    match finish_login(req, state, params).await {
        Ok(outcome) => outcome,
        Err(err) => error_page(req, state, err).await,
    }
}

async fn finish_login<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    params: Option<CallbackParams>,
) -> Result<Outcome<'r>, LoginError> {
    let params = params.ok_or(LoginError::MissingState)?;
    let jar = req.cookies();
    let attempt = params
        .state
        .as_deref()
        .map(|s| state.cookies.take_attempt(jar, s));
    if let Some(error) = params.error.as_deref() {
        if let Some(description) = &params.error_description {
            log::debug!("provider `{}` error description: {description:?}", P::NAME);
        }
        return Err(match error {
            "access_denied" => LoginError::Cancelled,
            _ => LoginError::Provider {
                error: displayable_code(error),
                description: None,
            },
        });
    }
    let attempt = match attempt {
        None => return Err(LoginError::MissingState),
        Some(None) => return Err(LoginError::Expired),
        Some(Some(Err(()))) => return Err(LoginError::StateMismatch),
        Some(Some(Ok(attempt))) => attempt,
    };
    let endpoints = state.endpoints().await?;
    check_iss(state, endpoints, params.iss.as_deref())?;
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or(LoginError::MissingCode)?;
    let tokens = exchange_code(&endpoints.client, &state.http, code, attempt.verifier)
        .await
        .map_err(|e| match e {
            TokenError::Rejected { error, description } => LoginError::TokenRejected {
                error: displayable_code(&error),
                description,
            },
            other => LoginError::TokenEndpoint(other.to_string()),
        })?;
    let mut session = SessionData::from_token_response(&tokens, &state.config.scopes, now());
    let mut claims = None;
    if let Some(oidc) = &endpoints.oidc {
        let raw = tokens
            .extra
            .get("id_token")
            .and_then(|v| v.as_str())
            .ok_or(IdTokenError::Missing)?;
        let expect = Expectations {
            client_id: &state.config.client_id,
            issuer: &oidc.issuer,
            tenants: &state.config.tenants,
            algs: &oidc.algs,
            nonce: attempt.nonce.as_deref().unwrap_or_default(),
            nonce_optional: !state.config.require_nonce,
            issuer_aliases: &state.config.issuer_aliases,
            access_token: &session.access_token,
        };
        claims = Some(verify_id_token(raw, &expect, &oidc.jwks, &state.http).await?);
        session.id_token = Some(raw.to_owned());
    }
    let userinfo = match &endpoints.userinfo_url {
        Some(url) => Some(
            state
                .http
                .get_json::<serde_json::Value>(url, Some(&session.access_token))
                .await
                .map_err(|e| LoginError::Userinfo(e.to_string()))?,
        ),
        None => None,
    };
    session.userinfo = match (claims, userinfo) {
        (Some(claims), userinfo) => Some(merge_claims(claims, userinfo)?),
        (None, userinfo) => userinfo,
    };
    let token = AccessToken::<P>::new(session);
    let api = Api { http: &state.http };
    let identity = state.provider.identify(&token, &api).await;
    let mut session = token.session().clone();
    match identity {
        Ok(identity) => session.identity = identity,
        Err(denial) => return Ok(refuse(req, state, denial).await),
    }
    let access = &state.config.access;
    session.roles = access.roles_of(session.identity.as_ref());
    if !access.allows(session.identity.as_ref(), &session.roles) {
        return Err(LoginError::NotAllowed);
    }
    let token = AccessToken::<P>::new(session);
    if let Err(denial) = state.provider.after_login(&token, req, jar).await {
        return Ok(refuse(req, state, denial).await);
    }
    let mut session = token.session().clone();
    if state.cookies.write_session(jar, &mut session).is_err() {
        return Err(LoginError::SessionTooLarge);
    }
    Ok(match attempt.next {
        Some(next) => Outcome::from(req, Redirect::to(next)),
        None => {
            #[derive(Serialize)]
            struct Success<'a> {
                provider: &'a str,
                next: &'a str,
                userinfo: Option<&'a serde_json::Value>,
            }
            let context = Success {
                provider: P::NAME,
                next: "/",
                userinfo: session.userinfo.as_ref(),
            };
            Outcome::from(
                req,
                render(req, Status::Ok, templates::SUCCESS, &context).await,
            )
        }
    })
}

/// RFC 9207: a provider that says it sends `iss` must send its own; any `iss` we get is
/// compared with the issuer we know (and ignored when we know none).
fn check_iss<P>(
    state: &ProviderState<P>,
    endpoints: &Endpoints,
    iss: Option<&str>,
) -> Result<(), LoginError> {
    let (known, required) = match &endpoints.oidc {
        // A `{tenantid}` issuer is only known once the ID token names the tenant.
        Some(oidc) if oidc.issuer.contains(TENANT_PLACEHOLDER) => (None, false),
        Some(oidc) => (Some(oidc.issuer.as_str()), oidc.iss_parameter),
        None => (state.config.issuer.as_deref(), false),
    };
    match (iss, known) {
        (Some(iss), Some(known)) if iss != known => Err(LoginError::IssuerMismatch),
        (None, Some(_)) if required => Err(LoginError::IssuerMismatch),
        _ => Ok(()),
    }
}

/// Claims that describe the ID token itself, not the user: userinfo never overrides them.
const TOKEN_CLAIMS: [&str; 10] = [
    "iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash",
];

/// The ID token's claims with userinfo merged in; their subjects must agree.
fn merge_claims(
    mut claims: serde_json::Map<String, serde_json::Value>,
    userinfo: Option<serde_json::Value>,
) -> Result<serde_json::Value, LoginError> {
    if let Some(userinfo) = userinfo {
        let serde_json::Value::Object(userinfo) = userinfo else {
            return Err(LoginError::Userinfo(
                "the userinfo response is not a JSON object".into(),
            ));
        };
        if userinfo.get("sub") != claims.get("sub") {
            return Err(LoginError::SubjectMismatch);
        }
        for (key, value) in userinfo {
            if !TOKEN_CLAIMS.contains(&key.as_str()) {
                claims.insert(key, value);
            }
        }
    }
    Ok(serde_json::Value::Object(claims))
}

async fn refuse<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    denial: Denial,
) -> Outcome<'r> {
    log::info!("login with `{}` refused by a hook", P::NAME);
    match denial.kind {
        DenialKind::Page { status, message } => {
            page(
                req,
                state,
                status,
                LoginError::Refused.title(),
                &message,
                false,
            )
            .await
        }
        DenialKind::Redirect(location) => Outcome::from(req, Redirect::to(location)),
        DenialKind::Response(response) => Outcome::Success(response),
    }
}

async fn error_page<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    err: LoginError,
) -> Outcome<'r> {
    log::warn!("login with `{}` failed: {err}", P::NAME);
    let retry = !matches!(err, LoginError::Refused);
    page(
        req,
        state,
        err.status(),
        err.title(),
        &err.to_string(),
        retry,
    )
    .await
}

async fn page<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    status: Status,
    title: &str,
    message: &str,
    retry: bool,
) -> Outcome<'r> {
    #[derive(Serialize)]
    struct ErrorContext<'a> {
        provider: &'a str,
        status: u16,
        title: &'a str,
        message: &'a str,
        retry_url: Option<String>,
    }
    let context = ErrorContext {
        provider: P::NAME,
        status: status.code,
        title,
        message,
        retry_url: retry.then(|| login_url(state)),
    };
    Outcome::from(req, render(req, status, templates::ERROR, &context).await)
}

async fn logout<'r, P: Provider>(req: &'r Request<'_>, state: &ProviderState<P>) -> Outcome<'r> {
    let id_token = state
        .cookies
        .read_session(req.cookies())
        .and_then(|s| s.id_token);
    state.cookies.remove_session(req.cookies());
    state.provider.after_logout(req, req.cookies()).await;
    if state.config.provider_logout {
        if let Some(url) = end_session_url(state, id_token).await {
            return Outcome::from(req, Redirect::to(url));
        }
    }
    let next = query_next(req).unwrap_or_else(|| "/".to_owned());
    Outcome::from(req, Redirect::to(next))
}

/// RP-Initiated Logout: the provider's `end_session_endpoint` with `id_token_hint`,
/// `client_id` and `post_logout_redirect_uri`.
async fn end_session_url<P>(state: &ProviderState<P>, id_token: Option<String>) -> Option<String> {
    let endpoints = state.endpoints().await.ok()?;
    let mut url = endpoints.oidc.as_ref()?.end_session.clone()?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(hint) = &id_token {
            query.append_pair("id_token_hint", hint);
        }
        query.append_pair("client_id", &state.config.client_id);
        if let Some(after) = &state.config.post_logout_redirect_uri {
            query.append_pair("post_logout_redirect_uri", after.as_str());
        }
    }
    Some(url.to_string())
}
