//! [`ApiClient`]: a provider's API, called with a user's credentials (from routes, hooks and
//! background work alike). Plain HTTP over the protocol layer; how credentials are refreshed
//! after a `401` is given by whoever makes the client (the web layer).

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::error::ApiError;
use crate::login::Login;
use crate::protocol::flow::{DeviceStart, Flow};
use crate::protocol::http::{HttpClient, HttpError};

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

/// Where a provider's API is: the base of relative URLs, and the only origins the user's
/// credentials are sent to (the base's, the userinfo endpoint's, and `api_origins`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ApiTarget {
    pub base: Option<Url>,
    pub origins: Vec<url::Origin>,
}

impl ApiTarget {
    /// `url` resolved against the base, if the user's credentials may go there: an allowed
    /// origin, and `https` (or `http` on loopback).
    fn resolve(&self, url: &str) -> Result<Url, ApiError> {
        let parsed = match &self.base {
            Some(base) => base.join(url),
            None => Url::parse(url),
        };
        let resolved = parsed
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ApiError::Url(url.to_owned()))?;
        let secure = resolved.scheme() == "https" || crate::util::is_loopback(&resolved);
        if !secure || !self.origins.contains(&resolved.origin()) {
            return Err(ApiError::Origin(resolved.origin().ascii_serialization()));
        }
        Ok(resolved)
    }
}

/// How an [`ApiClient`] gets new credentials after a `401` (none: the call fails).
#[rocket::async_trait]
pub(crate) trait Refresh: Send + Sync {
    /// New credentials for `login`, if they can be had.
    async fn refresh(&self, login: Arc<Login>) -> Option<Arc<Login>>;
}

/// No refresh (the credentials of a login that is being made).
pub(crate) struct NoRefresh;

#[rocket::async_trait]
impl Refresh for NoRefresh {
    async fn refresh(&self, _login: Arc<Login>) -> Option<Arc<Login>> {
        None
    }
}

/// What an [`ApiHandle`] keeps of a provider: its pooled client, its flow, where its API is,
/// and how stored credentials are refreshed (implemented by the web layer's provider state).
pub(crate) trait Background: Send + Sync + 'static {
    fn http(&self) -> &HttpClient;
    fn flow(&self) -> &dyn Flow;
    fn target(&self) -> &ApiTarget;
    fn refresher(&self) -> Arc<dyn Refresh + '_>;
}

/// Provider `P`'s API for background work: an owned handle (cheap to clone, `'static`), so a
/// task the application spawns (a periodic job) keeps it for as long as it runs, and makes
/// [`ApiClient`]s from stored credentials with [`client`](ApiHandle::client), or OAuth
/// 1.0a's consumer-only client with [`consumer`](ApiHandle::consumer). Take it at liftoff
/// ([`ApiHandle::of`]) or as a request guard. Refreshes go through the provider's ledger of
/// rotated refresh tokens, like the sessions' own, and reach
/// [`Hooks::on_token_update`](crate::Hooks::on_token_update).
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use std::time::Duration;
/// use rocket::fairing::AdHoc;
/// use rocket_oauth::api::ApiHandle;
/// use rocket_oauth::{Login, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// /// The credentials the application stored (from `after_login` and `on_token_update`).
/// fn stored_logins() -> Vec<Login> { Vec::new() }
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build()
///         .attach(Idp.fairing())
///         .attach(AdHoc::on_liftoff("nightly sync", |rocket| Box::pin(async move {
///             let Some(idp) = ApiHandle::<Idp>::of(rocket) else { return };
///             rocket::tokio::spawn(async move {
///                 let mut every = rocket::tokio::time::interval(Duration::from_secs(3600));
///                 loop {
///                     every.tick().await;
///                     for login in stored_logins() {
///                         let _ = idp.client(login).get("me").await;
///                     }
///                 }
///             });
///         })))
/// }
/// ```
pub struct ApiHandle<P> {
    pub(crate) inner: Arc<dyn Background>,
    pub(crate) _provider: PhantomData<fn() -> P>,
}

impl<P> Clone for ApiHandle<P> {
    fn clone(&self) -> Self {
        ApiHandle {
            inner: self.inner.clone(),
            _provider: PhantomData,
        }
    }
}

impl<P> fmt::Debug for ApiHandle<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiHandle").finish_non_exhaustive()
    }
}

impl<P> ApiHandle<P> {
    /// A client calling with `login`'s credentials (stored by the application).
    pub fn client(&self, login: Login) -> ApiClient<'_, P> {
        let inner = &*self.inner;
        ApiClient::new(
            inner.http(),
            inner.flow(),
            inner.target(),
            Arc::new(login),
            inner.refresher(),
        )
    }

    /// A client calling as the application itself (service to service): a fresh client
    /// credentials token (RFC 6749 §4.4) for `scopes` (the provider's configured scopes
    /// when empty), asked for on the provider's pooled client. Keep the client while its
    /// token lives (it has no refresh token: ask again when calls answer
    /// [`ApiError::Unauthorized`]).
    ///
    /// ```rust,no_run
    /// # async fn run(reports: rocket_oauth::api::ApiHandle<()>) -> Result<(), rocket_oauth::error::ApiError> {
    /// let api = reports.service_client(&["reports:read"]).await?;
    /// let nightly = api.get("reports/nightly").await?.json::<serde_json::Value>()?;
    /// # let _ = nightly; Ok(()) }
    /// ```
    pub async fn service_client(&self, scopes: &[&str]) -> Result<ApiClient<'_, P>, ApiError> {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let inner = &*self.inner;
        let credentials = inner
            .flow()
            .client_credentials(inner.http(), &scopes)
            .await?;
        Ok(self.client(Login::new(credentials, None, crate::util::now())))
    }

    /// Starts the device authorization grant (RFC 8628) for a CLI or another program
    /// without a browser of its own: show the user [`DeviceFlow::user_code`] and
    /// [`DeviceFlow::verification_uri`], then wait with
    /// [`finish_device_flow`](Self::finish_device_flow). `scopes`: the provider's configured
    /// scopes when empty. The endpoint is `oauth.<name>.device_authorization_url` (or, for
    /// OpenID Connect, the discovered one).
    ///
    /// ```rust,no_run
    /// # async fn run(idp: rocket_oauth::api::ApiHandle<()>) -> Result<(), rocket_oauth::error::ApiError> {
    /// let flow = idp.start_device_flow(&["profile"]).await?;
    /// println!("Open {} and enter {}", flow.verification_uri, flow.user_code);
    /// let login = idp.finish_device_flow(&flow).await?; // keep it: it has the refresh token
    /// let me = idp.client(login).get("me").await?;
    /// # let _ = me; Ok(()) }
    /// ```
    pub async fn start_device_flow(&self, scopes: &[&str]) -> Result<DeviceFlow, ApiError> {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let inner = &*self.inner;
        let start = inner.flow().device_start(inner.http(), &scopes).await?;
        let details = &start.details;
        Ok(DeviceFlow {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            verification_uri_complete: details
                .verification_uri_complete()
                .map(|uri| uri.secret().clone()),
            expires_in: details.expires_in(),
            start,
        })
    }

    /// Waits for the user's answer to `flow`, polling the token endpoint at the interval
    /// the provider asks for (slowing down when it says so), and returns the login: its
    /// credentials (with a refresh token, if the provider gave one), no profile. Fails
    /// with [`ApiError::Grant`] when the user declines or the code expires.
    pub async fn finish_device_flow(&self, flow: &DeviceFlow) -> Result<Login, ApiError> {
        let inner = &*self.inner;
        let credentials = inner
            .flow()
            .device_finish(inner.http(), &flow.start, flow.expires_in)
            .await?;
        Ok(Login::new(credentials, None, crate::util::now()))
    }

    /// An OAuth 1.0a client that signs with the consumer's credentials only (2-legged), for
    /// calls that act as the application rather than a user. (Other protocols have no such
    /// calls: the requests carry no token.)
    pub fn consumer(&self) -> ApiClient<'_, P> {
        self.client(consumer_login())
    }
}

/// A device authorization in progress (RFC 8628), from
/// [`ApiHandle::start_device_flow`]: what to show the user.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceFlow {
    /// The code the user enters.
    pub user_code: String,
    /// Where the user enters it.
    pub verification_uri: String,
    /// The same page with the code filled in (for a QR code), if the provider gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the codes live.
    pub expires_in: std::time::Duration,
    start: DeviceStart,
}

/// The "login" of OAuth 1.0a's 2-legged calls: no token, only the consumer's credentials.
pub(crate) fn consumer_login() -> Login {
    let credentials = crate::protocol::credentials::Credentials {
        access_token: crate::Secret::default(),
        token_type: "oauth1".into(),
        expires_at: None,
        refresh_token: None,
        scopes: Vec::new(),
        received_at: crate::util::now(),
        token_secret: None,
        id_token: None,
        dpop_key: None,
    };
    Login::new(credentials, None, crate::util::now())
}

/// Calls provider `P`'s API on the logged-in user's behalf, on the provider's pooled client:
/// `Authorization: Bearer <access token>` on every request, relative URLs against
/// `oauth.<name>.api_base_url`, the access token refreshed when it expires, and one retry
/// after a refresh when the provider answers `401`.
///
/// The one API client, wherever the call is made:
///
/// - in a route, as a request guard (`ApiClient<'_, P>`): it forwards with `401` when nobody
///   is logged in, like [`AccessToken`](crate::AccessToken), and a refresh updates the
///   session;
/// - in [`Hooks::identify`](crate::Hooks::identify) (and [`Provider::identify`](crate::Provider::identify)),
///   as `&ApiClient<'_>`: the login's new credentials;
/// - outside requests (background jobs), from stored credentials with
///   [`ApiClient::detached`]; refreshed credentials then reach
///   [`Hooks::on_token_update`](crate::Hooks::on_token_update).
///
/// `P` only names the provider for the request guard and the constructors; `ApiClient<'_>`
/// (`P = ()`) is the same client not tied to a provider type.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::Value;
/// use rocket_oauth::{ApiClient, OAuth2Provider};
/// use rocket_oauth::error::ApiError;
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
/// async fn repos(api: ApiClient<'_, GitHub>) -> Result<Value, ApiError> {
///     api.get("user/repos").await?.json()
/// }
/// ```
///
/// Clones are cheap and share the credentials: a refresh through one is seen by all.
pub struct ApiClient<'r, P = ()> {
    http: &'r HttpClient,
    flow: &'r dyn Flow,
    target: &'r ApiTarget,
    login: Arc<Mutex<Arc<Login>>>,
    refresh: Arc<dyn Refresh + 'r>,
    headers: Vec<(String, String)>,
    _provider: PhantomData<fn() -> P>,
}

impl<P> Clone for ApiClient<'_, P> {
    fn clone(&self) -> Self {
        ApiClient {
            http: self.http,
            flow: self.flow,
            target: self.target,
            login: self.login.clone(),
            refresh: self.refresh.clone(),
            headers: self.headers.clone(),
            _provider: PhantomData,
        }
    }
}

impl<P> fmt::Debug for ApiClient<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient").finish_non_exhaustive()
    }
}

impl<'r, P> ApiClient<'r, P> {
    /// A client calling with `login`'s credentials on the provider's pooled client.
    pub(crate) fn new(
        http: &'r HttpClient,
        flow: &'r dyn Flow,
        target: &'r ApiTarget,
        login: Arc<Login>,
        refresh: Arc<dyn Refresh + 'r>,
    ) -> Self {
        ApiClient {
            http,
            flow,
            target,
            login: Arc::new(Mutex::new(login)),
            refresh,
            headers: Vec::new(),
            _provider: PhantomData,
        }
    }

    /// The same client, not tied to a provider type (what hooks receive).
    pub fn erased(self) -> ApiClient<'r> {
        ApiClient {
            http: self.http,
            flow: self.flow,
            target: self.target,
            login: self.login,
            refresh: self.refresh,
            headers: self.headers,
            _provider: PhantomData,
        }
    }

    /// The client with a header sent on every request (e.g. a tenant id); `clone()` first to
    /// keep the client without it.
    ///
    /// ```rust
    /// # async fn f(api: &rocket_oauth::ApiClient<'_>) -> Result<(), rocket_oauth::error::ApiError> {
    /// let data = api
    ///     .clone()
    ///     .with_header("X-Tenant", "t1")
    ///     .graphql("graphql", "query { user { id } }", serde_json::json!({}))
    ///     .await?;
    /// # let _ = data; Ok(()) }
    /// ```
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The session the client calls with (after any refresh).
    pub fn login(&self) -> Arc<Login> {
        self.current()
    }

    fn current(&self) -> Arc<Login> {
        self.login.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn url(&self, url: &str) -> Result<Url, ApiError> {
        self.target.resolve(url)
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
        let login = self.current();
        let response = self.call(&method, &url, body.as_ref(), &login).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let refreshed = self
            .refresh
            .refresh(login)
            .await
            .ok_or(ApiError::Unauthorized)?;
        *self.login.lock().unwrap_or_else(|e| e.into_inner()) = refreshed.clone();
        let response = self.call(&method, &url, body.as_ref(), &refreshed).await?;
        if response.status == 401 {
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
        let http = self.http;
        let mut url = url.clone();
        let mut form = match body {
            Some(Body::Form(form)) => Some(form.clone()),
            _ => None,
        };
        let authorization = self.flow.authorize_request(
            method.as_str(),
            &mut url,
            form.as_mut(),
            &login.credentials,
        )?;
        let mut request = http.request(method.clone(), url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
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
        let response =
            crate::protocol::dpop::send_proven(http, request, &login.credentials).await?;
        Ok(ApiResponse {
            status: response.status,
            body: response.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_only_to_the_apis_origins() {
        let base = Url::parse("https://api.example.com/v1/").unwrap();
        let uploads = Url::parse("https://uploads.example.com").unwrap();
        let target = ApiTarget {
            origins: vec![base.origin(), uploads.origin()],
            base: Some(base),
        };
        let ok = |url: &str| target.resolve(url).map(|u| u.to_string());
        assert_eq!(ok("user").unwrap(), "https://api.example.com/v1/user");
        assert_eq!(ok("/user").unwrap(), "https://api.example.com/user");
        assert_eq!(
            ok("https://uploads.example.com/x").unwrap(),
            "https://uploads.example.com/x"
        );
        for refused in [
            "https://evil.example/",
            "//evil.example/x",
            "http://api.example.com/v1/user",
            "https://api.example.com:8443/",
            "ftp://api.example.com/",
        ] {
            assert!(target.resolve(refused).is_err(), "{refused}");
        }
        // Loopback may be plain http (development, tests).
        let local = Url::parse("http://127.0.0.1:9000/").unwrap();
        let target = ApiTarget {
            origins: vec![local.origin()],
            base: Some(local),
        };
        assert!(target.resolve("api/me").is_ok());
        // Without a base or origins, nothing.
        assert!(ApiTarget::default()
            .resolve("https://api.example.com/")
            .is_err());
    }
}
