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
use crate::fairing::ProviderState;
use crate::guards::{current, AccessToken};
use crate::hooks::DenialKind;
use crate::next;
use crate::oauth2::{authorize, exchange_code};
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
        return start(req, state, next);
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
            start(req, state, next)
        }
        _ => error_page(req, state, LoginError::Csrf).await,
    }
}

/// Starts the flow: a new attempt cookie and a 303 to the provider.
fn start<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    next: Option<String>,
) -> Outcome<'r> {
    let auth = authorize(
        &state.client,
        &state.config.scopes,
        state.config.pkce,
        &state.auth_params,
    );
    let attempt = Attempt {
        state: auth.state.secret().clone(),
        verifier: auth.pkce_verifier.map(|v| v.secret().clone()),
        next,
        created: now(),
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
    if let (Some(iss), Some(issuer)) = (params.iss.as_deref(), state.config.issuer.as_deref()) {
        if iss != issuer {
            return Err(LoginError::IssuerMismatch);
        }
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or(LoginError::MissingCode)?;
    let tokens = exchange_code(&state.client, &state.http, code, attempt.verifier)
        .await
        .map_err(|e| match e {
            TokenError::Rejected { error, description } => LoginError::TokenRejected {
                error: displayable_code(&error),
                description,
            },
            other => LoginError::TokenEndpoint(other.to_string()),
        })?;
    let mut session = SessionData::from_token_response(&tokens, &state.config.scopes, now());
    if let Some(url) = &state.config.userinfo_url {
        let userinfo = state
            .http
            .get_json_with_bearer(url, &session.access_token)
            .await
            .map_err(|e| LoginError::Userinfo(e.to_string()))?;
        session.userinfo = Some(userinfo);
    }
    let token = AccessToken::<P>::new(session);
    if let Err(denial) = state.provider.after_login(&token, req, jar).await {
        log::info!("login with `{}` refused by after_login", P::NAME);
        return Ok(match denial.kind {
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
        });
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
    state.cookies.remove_session(req.cookies());
    state.provider.after_logout(req, req.cookies()).await;
    let next = query_next(req).unwrap_or_else(|| "/".to_owned());
    Outcome::from(req, Redirect::to(next))
}
