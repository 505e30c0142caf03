//! Test support: the testing kit's mock provider (with the API the test app calls), the
//! application under test on another loopback port, and a browser (the kit's, which keeps
//! cookies and follows no redirects).
#![allow(dead_code)]

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rocket::figment::Figment;
use rocket::http::Method;
use rocket::serde::json::{json, Value};
use rocket::{Build, Rocket};
pub use rocket_oauth::testing::{
    self, Browser, MockProvider, MockRequest, MockResponse, MockUser, RefreshReply, TokenReply,
};

/// The mock provider with an API for the test app: `GET /api/me` and `POST /api/echo` (the
/// bearer's subject and token), `POST /graphql` (`{ viewer }`; a query naming `fail`
/// answers GraphQL errors).
pub struct Idp {
    pub mock: MockProvider,
    pub url: String,
    /// The API answers 401 to this many calls, whatever the token.
    pub api_rejections: Arc<AtomicUsize>,
    /// Calls of the API.
    pub api_calls: Arc<AtomicUsize>,
}

impl Deref for Idp {
    type Target = MockProvider;

    fn deref(&self) -> &MockProvider {
        &self.mock
    }
}

impl Idp {
    /// How the token endpoint answers codes from now on.
    pub fn set_mode(&self, reply: TokenReply) {
        self.script(|s| s.token = reply);
    }

    /// How many refreshes the provider was asked for.
    pub fn refresh_calls(&self) -> usize {
        self.refresh_requests().len()
    }
}

/// Starts the mock provider with the test app's API.
pub async fn start_idp() -> Idp {
    let mock = MockProvider::start();
    let rejections = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let api = |rejections: Arc<AtomicUsize>, calls: Arc<AtomicUsize>| {
        move |request: &MockRequest| {
            calls.fetch_add(1, Ordering::SeqCst);
            let reject = rejections
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            match request.user() {
                Some(user) if !reject => MockResponse::json(json!({
                    "sub": user.subject(),
                    "token": request.request().bearer_token(),
                    "body": request.request().body,
                })),
                _ => MockResponse::unauthorized(),
            }
        }
    };
    mock.endpoint(
        Method::Get,
        "/api/me",
        api(rejections.clone(), calls.clone()),
    );
    mock.endpoint(
        Method::Post,
        "/api/echo",
        api(rejections.clone(), calls.clone()),
    );
    mock.endpoint(Method::Get, "/api/garbage", |_| {
        MockResponse::text("text/html", "<html>not JSON</html>")
    });
    mock.endpoint(Method::Post, "/graphql", |request| {
        let Some(user) = request.user() else {
            return MockResponse::unauthorized();
        };
        let query: Value = request.json().unwrap_or_default();
        if query["query"].as_str().unwrap_or("").contains("fail") {
            return MockResponse::json(json!({"errors": [{"message": "no such field"}]}));
        }
        MockResponse::json(
            json!({"data": {"viewer": {"sub": user.subject(), "variables": query["variables"]}}}),
        )
    });
    Idp {
        url: mock.url().to_owned(),
        mock,
        api_rejections: rejections,
        api_calls: calls,
    }
}

/// A figment for a quiet server on a free loopback port.
pub fn base_figment() -> Figment {
    rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", 0))
        .merge(("log_level", "off"))
        .merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="))
}

/// Launches `rocket` and returns its base URL once it listens.
pub async fn launch(rocket: Rocket<Build>) -> String {
    testing::serve(rocket).await
}

/// The `oauth.<name>` table of an OAuth 2 provider served by the mock, for an app at
/// `app_port`: the kit's table, with scopes and a short timeout.
pub fn provider_config(mock: &MockProvider, name: &str, app_port: u16) -> Value {
    let mut table = mock.provider_config::<app::Other>(
        &format!("http://127.0.0.1:{app_port}"),
        &format!("/auth/{name}"),
    );
    table["scopes"] = json!(["read", "write"]);
    table["timeout"] = json!(2);
    table
}

/// Seconds since the Unix epoch (for tokens' `iat`, `exp`).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    testing::free_port()
}

/// Runs `futures` concurrently (each on its own task) and returns their outputs in order.
pub async fn futures_join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(rocket::tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// GETs `url` and reads a JSON answer.
pub async fn get_json(browser: &Browser, url: &str) -> Value {
    let response = browser.get(url).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} {text}"))
}

/// Submits the authorization server's consent form on `page` to `{url}/oauth/authorize`
/// with `decision` (`Accept` or `Decline`).
pub async fn submit_consent(
    browser: &Browser,
    url: &str,
    page: &str,
    decision: &str,
) -> reqwest::Response {
    let mut form = hidden_fields(page);
    form.push(("decision".into(), decision.into()));
    browser
        .client()
        .post(format!("{url}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Form-urlencodes `s`.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `Location` header.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A query parameter of an absolute URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub mod app;
pub mod dpop;
pub mod example;
pub mod rfc5849;

/// Undoes Tera's HTML escaping of an attribute value.
pub fn html_unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `<input type="hidden">` fields of a rendered form, as (name, value) pairs.
pub fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), html_unescape(value)))
        })
        .collect()
}

/// JSON answers for the browser.
pub trait BrowserJson {
    /// GETs `url` and reads a JSON answer (panicking with the status and body otherwise).
    async fn json(&self, url: &str) -> Value;
}

impl BrowserJson for Browser {
    async fn json(&self, url: &str) -> Value {
        get_json(self, url).await
    }
}
