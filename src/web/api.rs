//! [`ApiClient`] in the web layer: the request guard, the constructors for background work,
//! and how its credentials are refreshed (the session's, or stored ones); [`SessionAdmin`];
//! [`ApiError`] as a response.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Ignite, Orbit, Phase, Rocket, Sentinel};

use crate::api::{consumer_login, ApiClient, ApiHandle, ApiTarget, Background, Refresh};
use crate::error::ApiError;
use crate::login::Login;
use crate::protocol::flow::Flow;
use crate::protocol::http::{HttpClient, HttpError};
use crate::provider::Provider;
use crate::session::manager::Session;
use crate::web::guards::session_with;
use crate::web::state::ProviderState;

/// Refreshes the request's session (the cookie or the store is updated).
struct SessionRefresh<'r, P> {
    state: &'r ProviderState<P>,
    jar: &'r CookieJar<'r>,
    id: Mutex<Option<String>>,
}

#[rocket::async_trait]
impl<P: Provider> Refresh for SessionRefresh<'_, P> {
    async fn refresh(&self, login: Arc<Login>) -> Option<Arc<Login>> {
        let state = self.state;
        let id = self.id.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let session = Session { login, id };
        let refreshed = state
            .sessions
            .refresh(self.jar, session, &*state.flow, &state.http, &*state.hooks)
            .await
            .ok()?;
        *self.id.lock().unwrap_or_else(|e| e.into_inner()) = refreshed.id.clone();
        Some(refreshed.login)
    }
}

/// Refreshes stored credentials outside any session (through the provider's ledger of
/// rotated refresh tokens, so that the user's sessions and the job never spend each other's).
struct DetachedRefresh<'r, P> {
    state: &'r ProviderState<P>,
}

#[rocket::async_trait]
impl<P: Provider> Refresh for DetachedRefresh<'_, P> {
    async fn refresh(&self, old: Arc<Login>) -> Option<Arc<Login>> {
        let state = self.state;
        let renewed = state
            .sessions
            .renew(&*state.flow, &state.http, &old.credentials)
            .await
            .map_err(|e| log::warn!("refreshing `{}` credentials failed: {e}", state.name))
            .ok()?;
        Some(Arc::new(renewed.apply(&old, &*state.hooks).await))
    }
}

impl<'r, P: Provider> ApiClient<'r, P> {
    /// A client of `state`'s provider for `login`.
    pub(crate) fn of(
        state: &'r ProviderState<P>,
        login: Arc<Login>,
        refresh: Arc<dyn Refresh + 'r>,
    ) -> Self {
        ApiClient::new(&state.http, &*state.flow, &state.api, login, refresh)
    }

    /// A client for `login` outside any request (e.g. a background job with credentials the
    /// application stored); `None` when `P`'s fairing is not attached. A refresh goes through
    /// the provider's ledger of rotated refresh tokens: the user's sessions take the new
    /// credentials at their next refresh instead of spending the old refresh token, and a
    /// token a session already rotated is not sent again.
    pub fn detached(rocket: &'r Rocket<Orbit>, login: Login) -> Option<Self> {
        let state = ProviderState::<P>::of(rocket)?;
        Some(Self::of(
            state,
            Arc::new(login),
            Arc::new(DetachedRefresh { state }),
        ))
    }

    /// An OAuth 1.0a client that signs with the consumer's credentials only (2-legged), for
    /// calls that act as the application rather than a user; `None` when `P`'s fairing is not
    /// attached. (Other protocols have no such calls: the requests carry no token.)
    pub fn consumer(rocket: &'r Rocket<Orbit>) -> Option<Self> {
        Self::detached(rocket, consumer_login())
    }
}

impl<P: Provider> Background for ProviderState<P> {
    fn http(&self) -> &HttpClient {
        &self.http
    }

    fn flow(&self) -> &dyn Flow {
        &*self.flow
    }

    fn target(&self) -> &ApiTarget {
        &self.api
    }

    fn refresher(&self) -> Arc<dyn Refresh + '_> {
        Arc::new(DetachedRefresh { state: self })
    }
}

impl<P: Provider> ApiHandle<P> {
    /// `P`'s handle; `None` when `P`'s fairing is not attached. At liftoff (or wherever a
    /// `Rocket` is at hand); a route can take the handle as a request guard instead.
    pub fn of<Ph: Phase>(rocket: &Rocket<Ph>) -> Option<Self> {
        Some(Self::with(ProviderState::<P>::shared(rocket)?))
    }

    /// The handle of `state`'s provider.
    pub(crate) fn with(state: Arc<ProviderState<P>>) -> Self {
        ApiHandle {
            inner: state,
            _provider: PhantomData,
        }
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for ApiHandle<P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match ApiHandle::of(req.rocket()) {
            Some(handle) => Outcome::Success(handle),
            // Unreachable: the sentinel refuses to launch without the fairing.
            None => Outcome::Forward(Status::NotFound),
        }
    }
}

impl<P: Provider> Sentinel for ApiHandle<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        crate::web::guards::abort_without_fairing::<P>(rocket, "ApiHandle")
    }
}

/// OAuth 1.0a provider `P`'s consumer-only (2-legged) client, as a request guard: calls
/// signed with the consumer's credentials alone, acting as the application (whoever is
/// logged in). Dereferences to [`ApiClient`].
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::Value;
/// use rocket_oauth::error::ApiError;
/// use rocket_oauth::oauth1::ConsumerClient;
/// use rocket_oauth::OAuth1Provider;
///
/// #[derive(OAuth1Provider)]
/// #[oauth(
///     name = "odesk",
///     request_token_url = "https://odesk.example/request_token",
///     authorize_url = "https://odesk.example/authorize",
///     access_token_url = "https://odesk.example/access_token"
/// )]
/// struct ODesk;
///
/// #[get("/categories")]
/// async fn categories(api: ConsumerClient<'_, ODesk>) -> Result<Value, ApiError> {
///     api.get("profiles/v1/metadata/categories.json").await?.json()
/// }
/// ```
pub struct ConsumerClient<'r, P>(ApiClient<'r, P>);

impl<'r, P> Deref for ConsumerClient<'r, P> {
    type Target = ApiClient<'r, P>;

    fn deref(&self) -> &ApiClient<'r, P> {
        &self.0
    }
}

impl<P> fmt::Debug for ConsumerClient<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConsumerClient").finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for ConsumerClient<'r, P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match ApiClient::consumer(req.rocket()) {
            Some(client) => Outcome::Success(ConsumerClient(client)),
            // Unreachable: the sentinel refuses to launch without the fairing.
            None => Outcome::Forward(Status::NotFound),
        }
    }
}

impl<P: Provider> Sentinel for ConsumerClient<'_, P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        crate::web::guards::abort_without_fairing::<P>(rocket, "ConsumerClient")
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for ApiClient<'r, P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(state) = ProviderState::<P>::of(req.rocket()) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        match ApiClient::of_session(req, state).await {
            Some(client) => Outcome::Success(client),
            None => Outcome::Forward(Status::Unauthorized),
        }
    }
}

impl<'r, P: Provider> ApiClient<'r, P> {
    /// A client with the request's session with `state`'s provider, refreshing it in place;
    /// `None` when there is none.
    pub(crate) async fn of_session(
        req: &'r Request<'_>,
        state: &'r ProviderState<P>,
    ) -> Option<Self> {
        let session = session_with(req, state).await?.session();
        let refresh = SessionRefresh {
            state,
            jar: req.cookies(),
            id: Mutex::new(session.id),
        };
        Some(ApiClient::of(state, session.login, Arc::new(refresh)))
    }
}

impl<P: Provider> Sentinel for ApiClient<'_, P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        crate::web::guards::abort_without_fairing::<P>(rocket, "ApiClient")
    }
}

/// Provider `P`'s sessions, to end them from outside the session itself — "log out
/// everywhere", or a user removed by an administrator. A request guard (it aborts launch when
/// `P`'s fairing is not attached), or [`SessionAdmin::of`] outside requests. Needs a session
/// store (`oauth.session.store`): cookie sessions cannot be ended from elsewhere.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{OAuth2Provider, User};
/// use rocket_oauth::guards::SessionAdmin;
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[post("/logout-everywhere")]
/// async fn everywhere(user: User<Idp>, sessions: SessionAdmin<'_, Idp>) -> String {
///     match sessions.end_sessions(&user.subject).await {
///         Ok(n) => format!("{n} sessions ended"),
///         Err(e) => e.to_string(),
///     }
/// }
/// ```
pub struct SessionAdmin<'r, P> {
    state: &'r ProviderState<P>,
}

impl<P> fmt::Debug for SessionAdmin<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAdmin").finish_non_exhaustive()
    }
}

impl<'r, P: Provider> SessionAdmin<'r, P> {
    /// `P`'s sessions, outside requests; `None` when `P`'s fairing is not attached.
    pub fn of(rocket: &'r Rocket<Orbit>) -> Option<Self> {
        Some(SessionAdmin {
            state: ProviderState::<P>::of(rocket)?,
        })
    }

    /// Ends every session of the user `subject` (as in [`Identity::subject`](crate::Identity::subject));
    /// returns how many there were. With cookie sessions it fails with
    /// [`SessionStoreError::CookieSessions`](crate::error::SessionStoreError::CookieSessions).
    pub async fn end_sessions(
        &self,
        subject: &str,
    ) -> Result<usize, crate::error::SessionStoreError> {
        self.state.sessions.end_user(subject).await
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for SessionAdmin<'r, P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match ProviderState::<P>::of(req.rocket()) {
            Some(state) => Outcome::Success(SessionAdmin { state }),
            // Unreachable: the sentinel refuses to launch without the fairing.
            None => Outcome::Forward(Status::NotFound),
        }
    }
}

impl<P: Provider> Sentinel for SessionAdmin<'_, P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        crate::web::guards::abort_without_fairing::<P>(rocket, "SessionAdmin")
    }
}

impl ApiError {
    /// The status a route answers with when it returns this error: `401` when the provider
    /// refused the user's credentials (they must log in again), `504` when it did not answer
    /// in time, `502` when it failed or answered what was not expected, `500` for a call the
    /// application got wrong (a URL that is not on the provider's API).
    ///
    /// ```rust
    /// use rocket::http::Status;
    /// use rocket_oauth::error::ApiError;
    ///
    /// assert_eq!(ApiError::Unauthorized.status(), Status::Unauthorized);
    /// assert_eq!(ApiError::InvalidJson.status(), Status::BadGateway);
    /// ```
    pub fn status(&self) -> Status {
        match self {
            ApiError::Unauthorized => Status::Unauthorized,
            ApiError::Http(HttpError::Timeout) => Status::GatewayTimeout,
            ApiError::Url(_) | ApiError::Origin(_) | ApiError::Http(HttpError::Request(_)) => {
                Status::InternalServerError
            }
            _ => Status::BadGateway,
        }
    }
}

/// A route may return `Result<_, ApiError>`: the error answers with its
/// [`status`](ApiError::status) and a JSON body `{"error": "…"}` saying what went wrong (for
/// a `500`, only that the call is misconfigured; the details are logged).
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::Value;
/// use rocket_oauth::error::ApiError;
/// use rocket_oauth::{ApiClient, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/repos")]
/// async fn repos(api: ApiClient<'_, Idp>) -> Result<Value, ApiError> {
///     api.get("user/repos").await?.json()
/// }
/// ```
impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        let message = if status == Status::InternalServerError {
            log::error!("rocket_oauth: an API call failed: {self}");
            "the application's call of the provider's API is misconfigured".to_owned()
        } else {
            self.to_string()
        };
        (status, Json(serde_json::json!({ "error": message }))).respond_to(req)
    }
}
