//! [`ApiClient`] in the web layer: the request guard, the constructors for background work,
//! and how its credentials are refreshed (the session's, or stored ones); [`SessionAdmin`].

use std::fmt;
use std::sync::{Arc, Mutex};

use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Orbit, Rocket, Sentinel};

use crate::api::{ApiClient, Refresh};
use crate::login::Login;
use crate::provider::Provider;
use crate::session::manager::Session;
use crate::web::guards::current;
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
            .map_err(|e| log::warn!("refreshing `{}` credentials failed: {e}", P::NAME))
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
        let state = rocket.state::<ProviderState<P>>()?;
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
        let credentials = crate::protocol::credentials::Credentials {
            access_token: crate::Secret::default(),
            token_type: "oauth1".into(),
            expires_at: None,
            refresh_token: None,
            scopes: Vec::new(),
            received_at: crate::util::now(),
            token_secret: None,
            id_token: None,
        };
        Self::detached(rocket, Login::new(credentials, None, crate::util::now()))
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for ApiClient<'r, P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let (Some(state), Some(token)) = (
            req.rocket().state::<ProviderState<P>>(),
            current::<P>(req).await,
        ) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        let session = token.session();
        let refresh = SessionRefresh {
            state,
            jar: req.cookies(),
            id: Mutex::new(session.id),
        };
        Outcome::Success(ApiClient::of(state, session.login, Arc::new(refresh)))
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
            state: rocket.state::<ProviderState<P>>()?,
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
        match req.rocket().state::<ProviderState<P>>() {
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
