//! A browser for tests over real HTTP: it keeps cookies and follows no redirect by itself.

use std::sync::Arc;
use std::time::Duration;

/// A test browser over real HTTP: a `reqwest` client with its own cookie jar that follows
/// no redirect by itself (so each step can be checked). Transport failures panic: they fail
/// the test.
///
/// ```rust
/// use rocket_oauth::testing::Browser;
///
/// # rocket::async_test(async {
/// let mock = rocket_oauth::testing::MockProvider::start();
/// let browser = Browser::new();
/// let response = browser.get(&format!("{}/.well-known/openid-configuration", mock.url())).await;
/// # #[cfg(feature = "oidc")]
/// assert_eq!(response.status(), 200);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies; each request times out after 20 seconds.
    pub fn new() -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        // A browser's navigation asks for HTML (a `LoginRequired` page redirects it).
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("a reqwest client");
        Browser { client, jar }
    }

    /// The underlying client (for requests these methods do not cover).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The cookie jar.
    pub fn jar(&self) -> &Arc<reqwest::cookie::Jar> {
        &self.jar
    }

    /// GETs `url`.
    ///
    /// # Panics
    ///
    /// When the request cannot be made (connection refused, timeout).
    pub async fn get(&self, url: &str) -> reqwest::Response {
        let sent = self.client.get(url).send().await;
        sent.unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// POSTs to `url` with no body.
    ///
    /// # Panics
    ///
    /// When the request cannot be made.
    pub async fn post(&self, url: &str) -> reqwest::Response {
        let sent = self.client.post(url).send().await;
        sent.unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// POSTs a form to `url`.
    ///
    /// # Panics
    ///
    /// When the request cannot be made.
    pub async fn post_form(&self, url: &str, fields: &[(String, String)]) -> reqwest::Response {
        let sent = self.client.post(url).form(fields).send().await;
        sent.unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }

    /// GETs `url` and follows redirects (absolute, or relative to `url`'s origin) until an
    /// answer that is not one, at most 10; returns it and every URL visited.
    ///
    /// # Panics
    ///
    /// When a request cannot be made.
    pub async fn follow(&self, url: &str) -> (reqwest::Response, Vec<String>) {
        let mut visited = vec![url.to_owned()];
        let mut response = self.get(url).await;
        for _ in 0..10 {
            if !response.status().is_redirection() {
                break;
            }
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default();
            let Ok(next) = response.url().join(location) else {
                break;
            };
            visited.push(next.to_string());
            response = self.get(next.as_str()).await;
        }
        (response, visited)
    }
}
