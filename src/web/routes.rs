//! The routes a provider's fairing mounts: `login`, `callback`, `logout`, `check`. They are
//! the same for every protocol: the protocol's part is behind [`Flow`](crate::protocol::flow::Flow).

use std::sync::Arc;

use rocket::data::{Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, Header, Method, Status};
use rocket::response::Redirect;
use rocket::route::{Handler, Outcome, Route};
use rocket::serde::json::Json;
use rocket::Request;
use serde::Serialize;

use crate::error::LoginError;
use crate::pages::templates::{self, render};
use crate::protocol::credentials::Credentials;
use crate::protocol::flow::CallbackParams;
use crate::provider::Provider;
use crate::session::cookie::Attempt;
use crate::util::now;
use crate::web::callback::callback;
use crate::web::federated;
use crate::web::guards::session_with;
use crate::web::next;
use crate::web::pages::error_page;
use crate::web::state::ProviderState;

/// The largest callback form body read (`response_mode=form_post`).
const CALLBACK_FORM_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Login,
    LoginConfirmed,
    Callback,
    CallbackPost,
    Logout,
    Check,
    BackchannelLogout,
    FrontchannelLogout,
    Jwks,
}

struct ProviderRoute<P> {
    endpoint: Endpoint,
    state: Arc<ProviderState<P>>,
}

impl<P> Clone for ProviderRoute<P> {
    fn clone(&self) -> Self {
        ProviderRoute {
            endpoint: self.endpoint,
            state: self.state.clone(),
        }
    }
}

/// The routes of `state`'s provider, relative to its base path.
pub(crate) fn routes<P: Provider>(state: &Arc<ProviderState<P>>) -> Vec<Route> {
    let config = &state.config;
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
    if let Some(oidc) = config.protocol.oidc() {
        if oidc.backchannel_logout {
            let path = federated::BACKCHANNEL_PATH;
            list.push((Method::Post, path, Endpoint::BackchannelLogout));
        }
        if oidc.frontchannel_logout {
            let path = federated::FRONTCHANNEL_PATH;
            list.push((Method::Get, path, Endpoint::FrontchannelLogout));
        }
    }
    if config.sender.jwks_route {
        list.push((Method::Get, "/jwks", Endpoint::Jwks));
    }
    list.into_iter()
        .map(|(method, path, endpoint)| {
            let mut route = Route::new(
                method,
                path,
                ProviderRoute {
                    endpoint,
                    state: state.clone(),
                },
            );
            route.name = Some(format!("rocket_oauth {} {path}", state.name).into());
            route
        })
        .collect()
}

#[rocket::async_trait]
impl<P: Provider> Handler for ProviderRoute<P> {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let state = &*self.state;
        let outcome = match self.endpoint {
            Endpoint::Login => login(req, state).await,
            // Rare routes are boxed: their futures would otherwise size every request's.
            Endpoint::LoginConfirmed => Box::pin(login_confirmed(req, data, state)).await,
            Endpoint::Callback => {
                let query = req.uri().query().map_or("", |q| q.as_str());
                let max = state.config.max_callback_params;
                callback(
                    req,
                    state,
                    CallbackParams::parse(query.as_bytes(), max).ok(),
                )
                .await
            }
            Endpoint::CallbackPost => {
                let params = callback_form(req, data, state.config.max_callback_params).await;
                callback(req, state, params).await
            }
            Endpoint::Logout => Box::pin(logout(req, state)).await,
            Endpoint::BackchannelLogout => Box::pin(federated::backchannel(req, data, state)).await,
            Endpoint::FrontchannelLogout => Box::pin(federated::frontchannel(req, state)).await,
            Endpoint::Jwks => {
                // The client's public key (`private_key_jwt`), for a provider that fetches it.
                let jwks = state
                    .config
                    .sender
                    .assertion
                    .as_ref()
                    .and_then(|a| a.public_jwks());
                match jwks {
                    Some(jwks) => Outcome::from(req, Json(jwks)),
                    None => Outcome::Error(Status::NotFound),
                }
            }
            Endpoint::Check => {
                #[derive(Serialize)]
                struct Check {
                    authorized: bool,
                }
                let authorized = session_with(req, state).await.is_some();
                Outcome::from(req, Json(Check { authorized }))
            }
        };
        // Login pages, redirects carrying state, and login results must never be cached
        // (the front-channel page says so itself, as its specification asks).
        outcome.map(|mut response| {
            if !response.headers().contains("Cache-Control") {
                response.set_header(Header::new("Cache-Control", "no-store"));
            }
            response
        })
    }
}

/// A `response_mode=form_post` callback's form fields.
async fn callback_form(req: &Request<'_>, data: Data<'_>, max: usize) -> Option<CallbackParams> {
    if req.content_type() != Some(&ContentType::Form) {
        return None;
    }
    let bytes = data
        .open(CALLBACK_FORM_LIMIT.bytes())
        .into_bytes()
        .await
        .ok()?;
    if !bytes.is_complete() {
        return None;
    }
    CallbackParams::parse(&bytes.into_inner(), max).ok()
}

/// `next` from the query string, if it is a safe same-site path.
fn query_next(req: &Request<'_>) -> Option<String> {
    let next = req.query_value::<String>("next")?.ok()?;
    next::sanitize(&next)
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
        provider: state.name,
        action: state.login_url(),
        csrf_token: state.csrf.token(req.cookies()),
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
        Some(form) if state.csrf.check(req.cookies(), &form.csrf_token) => {
            let next = form.next.as_deref().and_then(next::sanitize);
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
    let allowed = state
        .begin_limit
        .as_ref()
        .is_none_or(|limit| limit.allow(req.client_ip(), now()));
    if !allowed {
        return error_page(req, state, LoginError::TooManyLogins).await;
    }
    let begun = match state.flow.begin(&state.http).await {
        Ok(begun) => begun,
        Err(err) => return error_page(req, state, err.into()).await,
    };
    let attempt = Attempt {
        key: begun.key,
        pending: begun.pending,
        next,
        created: now(),
    };
    state.cookies.add_attempt(req.cookies(), &attempt);
    Outcome::from(req, Redirect::to(begun.url.to_string()))
}

/// Whether the request comes from this application's own pages (or the user's address
/// bar).
fn same_origin<P>(req: &Request<'_>, state: &ProviderState<P>) -> bool {
    let origin = state.config.redirect_uri.origin().ascii_serialization();
    crate::pages::csrf::same_origin(req, &origin)
}

async fn logout<'r, P: Provider>(req: &'r Request<'_>, state: &ProviderState<P>) -> Outcome<'r> {
    if !same_origin(req, state) {
        // Logout CSRF: another site must not end the session (or bounce it to the provider).
        return error_page(req, state, LoginError::CrossSite).await;
    }
    let ended = state.sessions.end(req.cookies()).await;
    if let Some(login) = &ended {
        revoke_in_background(state, login.credentials.clone());
    }
    state.hooks.after_logout(ended.as_ref(), req).await;
    let provider_logout = state.config.protocol.oidc().filter(|o| o.provider_logout);
    if let Some(oidc) = provider_logout {
        let credentials = ended.as_ref().map(|login| &login.credentials);
        let after = oidc.post_logout_redirect_uri.as_ref();
        if let Some(url) = state
            .flow
            .end_session_url(&state.http, credentials, after)
            .await
        {
            return Outcome::from(req, Redirect::to(url.to_string()));
        }
    }
    let next = query_next(req).unwrap_or_else(|| "/".to_owned());
    Outcome::from(req, Redirect::to(next))
}

/// Revokes the ended session's tokens at the provider (RFC 7009) without holding up the
/// logout: best effort, bounded by the provider's timeouts.
fn revoke_in_background<P>(state: &ProviderState<P>, credentials: Credentials) {
    let (flow, http) = (state.flow.clone(), state.http.clone());
    tokio::spawn(async move { flow.revoke(&http, &credentials).await });
}
