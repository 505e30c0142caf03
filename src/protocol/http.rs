//! The one pooled HTTP client a provider uses for every outbound call.
//!
//! Protocol layer: no Rocket types. Redirects are never followed (SSRF and credential leaks),
//! every call has connect and total timeouts, and bodies are capped.

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT};
use url::Url;

/// An outbound HTTP call (token, userinfo, discovery or keys endpoint) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The server did not answer within the configured time.
    #[error("the request timed out")]
    Timeout,
    /// The connection could not be established or broke.
    #[error("could not reach the server: {0}")]
    Connect(String),
    /// The response body exceeded the size cap.
    #[error("the response body exceeded {limit} bytes")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The server answered with an unexpected HTTP status and no OAuth error body.
    #[error("the server answered with HTTP status {0}")]
    Status(u16),
    /// The response body is not the JSON document that was expected.
    #[error("the response is not valid JSON")]
    InvalidJson,
    /// The request could not be built (a bad URL or header).
    #[error("the request could not be built: {0}")]
    Request(String),
}

impl HttpError {
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            HttpError::Timeout
        } else if err.is_connect() || err.is_request() || err.is_body() {
            // `without_url` keeps query strings (which may carry codes) out of messages.
            HttpError::Connect(err.without_url().to_string())
        } else {
            HttpError::Request(err.without_url().to_string())
        }
    }
}

/// The largest response body read from a provider, in bytes.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// A buffered HTTP response.
#[derive(Debug)]
pub(crate) struct Buffered {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// A `DPoP-Nonce` header (RFC 9449 §8): the nonce the server wants in the next proof.
    pub dpop_nonce: Option<String>,
    /// The server refused the request for want of that nonce (`use_dpop_nonce`: a `400`'s
    /// error from an authorization server, a `401`'s challenge from a resource server).
    pub wants_dpop_nonce: bool,
}

/// The `error` of an answer asking for a DPoP proof with a server nonce (RFC 9449 §8, §9).
pub(crate) const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// A pooled `reqwest` client (the version `oauth2` is built against) with the crate's policy.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// Builds the client: no redirects, the given timeouts, a crate User-Agent (GitHub's API
    /// refuses requests without one).
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, reqwest::Error> {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .user_agent(concat!("rocket_oauth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpClient { inner })
    }

    /// A client of the caller's making (its own timeouts, resolver and redirect policy).
    #[cfg(feature = "server")]
    pub fn wrap(inner: reqwest::Client) -> Self {
        HttpClient { inner }
    }

    /// A request on the pooled client.
    pub fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.inner.request(method, url)
    }

    /// Sends `request`, asking for JSON, and reads at most [`BODY_LIMIT`] bytes of the answer.
    pub async fn send(&self, mut request: reqwest::Request) -> Result<Buffered, HttpError> {
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut response = self
            .inner
            .execute(request)
            .await
            .map_err(HttpError::from_reqwest)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type =
            header(reqwest::header::CONTENT_TYPE.as_str()).map(|t| t.to_ascii_lowercase());
        let dpop_nonce = header("dpop-nonce");
        // A resource server says it in its challenge (RFC 9449 §9).
        let challenge = header(reqwest::header::WWW_AUTHENTICATE.as_str());
        if response
            .content_length()
            .is_some_and(|len| len > BODY_LIMIT as u64)
        {
            return Err(HttpError::BodyTooLarge { limit: BODY_LIMIT });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::from_reqwest)? {
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(HttpError::BodyTooLarge { limit: BODY_LIMIT });
            }
            body.extend_from_slice(&chunk);
        }
        let named = |text: &[u8]| {
            let word = USE_DPOP_NONCE.as_bytes();
            text.windows(word.len()).any(|w| w == word)
        };
        let wants_dpop_nonce = dpop_nonce.is_some()
            && match status {
                400 => named(&body),
                401 => challenge.is_some_and(|c| named(c.as_bytes())),
                _ => false,
            };
        Ok(Buffered {
            status,
            content_type,
            body,
            dpop_nonce,
            wants_dpop_nonce,
        })
    }

    /// `GET url` (with a bearer token, if given), expecting a JSON document.
    #[cfg(feature = "oidc")]
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        token: Option<&str>,
    ) -> Result<T, HttpError> {
        let mut request = self.inner.get(url.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let request = request
            .build()
            .map_err(|e| HttpError::Request(e.without_url().to_string()))?;
        let response = self.send(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(HttpError::Status(response.status));
        }
        serde_json::from_slice(&response.body).map_err(|_| HttpError::InvalidJson)
    }
}
