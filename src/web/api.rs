//! [`ApiClient`]: the provider's API, called with the user's credentials.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Orbit, Rocket, Sentinel};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::login::Login;
use crate::protocol::http::HttpError;
use crate::provider::Provider;
use crate::session::manager::Session;
use crate::web::guards::current;
use crate::web::state::ProviderState;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The URL is not absolute and no `api_base_url` is configured, or it is malformed.
    #[error("`{0}` is not an absolute URL (and no api_base_url is configured)")]
    Url(String),
    /// The call failed (timeout, connection, size).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The provider answered `401` again after the access token was refreshed (or it could
    /// not be refreshed): the user must log in again.
    #[error("the provider refused the user's credentials")]
    Unauthorized,
    /// A GraphQL answer carried `errors`.
    #[error("the GraphQL query failed: {0}")]
    GraphQl(Value),
    /// The body is not the JSON expected.
    #[error("the response is not the JSON expected")]
    InvalidJson,
}

/// A request body.
enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

/// An API response: status and body (at most 1 MiB).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    status: u16,
    body: Vec<u8>,
}

impl ApiResponse {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|_| ApiError::InvalidJson)
    }
}

/// Calls provider `P`'s API on the logged-in user's behalf, on the provider's pooled client:
/// `Authorization: Bearer <access token>` on every request, relative URLs against
/// `oauth.<name>.api_base_url`, the access token refreshed when it expires, and one retry
/// after a refresh when the provider answers `401`.
///
/// As a request guard it forwards with `401` when nobody is logged in, like
/// [`AccessToken`](crate::AccessToken). Outside requests (background jobs), build one from
/// stored credentials with [`ApiClient::detached`]; refreshed credentials then reach
/// [`Hooks::on_token_update`](crate::Hooks::on_token_update).
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::Value;
/// use rocket_oauth::{ApiClient, ApiError, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(
///     name = "github",
///     authorize_url = "https://github.com/login/oauth/authorize",
///     token_url = "https://github.com/login/oauth/access_token"
/// )]
/// struct GitHub; // with `api_base_url = "https://api.github.com/"` in `oauth.github`
///
/// #[get("/repos")]
/// async fn repos(api: ApiClient<'_, GitHub>) -> Result<Value, String> {
///     let response = api.get("user/repos").await.map_err(|e| e.to_string())?;
///     response.json().map_err(|e: ApiError| e.to_string())
/// }
/// ```
pub struct ApiClient<'r, P> {
    state: &'r ProviderState<P>,
    session: Mutex<Session>,
    jar: Option<&'r CookieJar<'r>>,
    _provider: PhantomData<fn() -> P>,
}

impl<P> fmt::Debug for ApiClient<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient").finish_non_exhaustive()
    }
}

impl<'r, P: Provider> ApiClient<'r, P> {
    /// A client for `login` outside any request (e.g. a background job with credentials the
    /// application stored); `None` when `P`'s fairing is not attached.
    pub fn detached(rocket: &'r Rocket<Orbit>, login: Login) -> Option<Self> {
        Some(ApiClient {
            state: rocket.state::<ProviderState<P>>()?,
            session: Mutex::new(Session {
                login: Arc::new(login),
                id: None,
            }),
            jar: None,
            _provider: PhantomData,
        })
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

    /// The session the client calls with (after any refresh).
    pub fn login(&self) -> Arc<Login> {
        self.current().login
    }

    fn current(&self) -> Session {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn url(&self, url: &str) -> Result<Url, ApiError> {
        let parsed = match &self.state.config.api_base_url {
            Some(base) => base.join(url),
            None => Url::parse(url),
        };
        parsed
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ApiError::Url(url.to_owned()))
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<ApiResponse, ApiError> {
        self.send(Method::GET, url, None).await
    }

    /// `DELETE url`.
    pub async fn delete(&self, url: &str) -> Result<ApiResponse, ApiError> {
        self.send(Method::DELETE, url, None).await
    }

    /// `POST url` with a JSON body.
    pub async fn post<T: Serialize>(&self, url: &str, body: &T) -> Result<ApiResponse, ApiError> {
        let body = serde_json::to_value(body).map_err(|_| ApiError::InvalidJson)?;
        self.send(Method::POST, url, Some(body)).await
    }

    /// `PUT url` with a JSON body.
    pub async fn put<T: Serialize>(&self, url: &str, body: &T) -> Result<ApiResponse, ApiError> {
        let body = serde_json::to_value(body).map_err(|_| ApiError::InvalidJson)?;
        self.send(Method::PUT, url, Some(body)).await
    }

    /// A GraphQL query (`POST url` with `query` and `variables`); the answer's `data`, or
    /// [`ApiError::GraphQl`] with its `errors`.
    pub async fn graphql(
        &self,
        url: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, ApiError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let response = self.send(Method::POST, url, Some(body)).await?;
        let mut answer: Value = response.json()?;
        match answer.get("errors") {
            Some(errors) if errors.as_array().is_some_and(|e| !e.is_empty()) => {
                Err(ApiError::GraphQl(errors.clone()))
            }
            _ if !response.is_success() => Err(ApiError::Http(HttpError::Status(response.status))),
            _ => Ok(answer["data"].take()),
        }
    }

    /// `POST url` with a form body (`application/x-www-form-urlencoded`); for OAuth 1.0a its
    /// parameters are part of the signature (RFC 5849 §3.4.1.3.1).
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<ApiResponse, ApiError> {
        let form = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.send_body(Method::POST, url, Some(Body::Form(form)))
            .await
    }

    /// Any request, with an optional JSON body. A `401` is retried once with refreshed
    /// credentials.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<ApiResponse, ApiError> {
        self.send_body(method, url, body.map(Body::Json)).await
    }

    async fn send_body(
        &self,
        method: Method,
        url: &str,
        body: Option<Body>,
    ) -> Result<ApiResponse, ApiError> {
        let url = self.url(url)?;
        let session = self.current();
        let response = self
            .call(&method, &url, body.as_ref(), &session.login)
            .await?;
        if response.status != Status::Unauthorized.code {
            return Ok(response);
        }
        let refreshed = self.refresh(session).await.ok_or(ApiError::Unauthorized)?;
        let response = self
            .call(&method, &url, body.as_ref(), &refreshed.login)
            .await?;
        if response.status == Status::Unauthorized.code {
            return Err(ApiError::Unauthorized);
        }
        Ok(response)
    }

    async fn call(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Body>,
        login: &Login,
    ) -> Result<ApiResponse, ApiError> {
        let http = &self.state.http;
        let mut url = url.clone();
        let mut form = match body {
            Some(Body::Form(form)) => Some(form.clone()),
            _ => None,
        };
        let authorization = self.state.flow.authorize_request(
            method.as_str(),
            &mut url,
            form.as_mut(),
            &login.credentials,
        )?;
        let mut request = http.request(method.clone(), url);
        if let Some(authorization) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        match (body, form) {
            (Some(Body::Json(json)), _) => {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json.to_string());
            }
            (_, Some(form)) => {
                let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&form)
                    .finish();
                request = request
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(encoded);
            }
            _ => {}
        }
        let request = request
            .build()
            .map_err(|e| HttpError::Request(e.without_url().to_string()))?;
        let response = http.send(request).await?;
        Ok(ApiResponse {
            status: response.status,
            body: response.body,
        })
    }

    /// New credentials after a `401`.
    async fn refresh(&self, session: Session) -> Option<Session> {
        let state = self.state;
        let refreshed = match self.jar {
            Some(jar) => state
                .sessions
                .refresh(jar, session, &*state.flow, &state.http, &state.provider)
                .await
                .ok()?,
            None => {
                let credentials = state
                    .flow
                    .refresh(&state.http, &session.login.credentials)
                    .await
                    .map_err(|e| log::warn!("refreshing `{}` credentials failed: {e}", P::NAME))
                    .ok()?;
                let mut login = Login::clone(&session.login);
                login.credentials = credentials;
                state.provider.on_token_update(&session.login, &login).await;
                Session {
                    login: Arc::new(login),
                    id: None,
                }
            }
        };
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = refreshed.clone();
        Some(refreshed)
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
        Outcome::Success(ApiClient {
            state,
            session: Mutex::new(token.session()),
            jar: Some(req.cookies()),
            _provider: PhantomData,
        })
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
/// use rocket_oauth::{OAuth2Provider, SessionAdmin, User};
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
    /// [`SessionStoreError::CookieSessions`](crate::SessionStoreError::CookieSessions).
    pub async fn end_sessions(&self, subject: &str) -> Result<usize, crate::SessionStoreError> {
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
