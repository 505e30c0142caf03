//! What the mock provider receives and answers: recorded requests, responses, and the
//! test's own endpoints (a provider's API, or its documented odd answers).

use std::sync::Arc;

use rocket::http::{ContentType, Method, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};
use serde_json::Value;

use super::user::MockUser;

/// One request the mock provider received, as [`MockProvider::requests`](super::MockProvider::requests)
/// lists them.
///
/// ```rust
/// # use rocket_oauth::testing::RecordedRequest;
/// fn used_pkce(token_request: &RecordedRequest) -> bool {
///     token_request.form_param("code_verifier").is_some()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, e.g. `/token`.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// Every header, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, as text (at most 1 MiB is read).
    pub body: String,
}

impl RecordedRequest {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The query's parameters, decoded.
    pub fn query_params(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        find(self.query_params(), name)
    }

    /// The body's parameters, when it is a form (`application/x-www-form-urlencoded`).
    pub fn form_params(&self) -> Vec<(String, String)> {
        let is_form = self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Vec::new();
        }
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    /// A form body parameter, decoded.
    pub fn form_param(&self, name: &str) -> Option<String> {
        find(self.form_params(), name)
    }

    /// The bearer token of the `Authorization` header.
    pub fn bearer_token(&self) -> Option<&str> {
        let header = self.header("authorization")?;
        let (scheme, token) = header.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }
}

fn find(pairs: Vec<(String, String)>, name: &str) -> Option<String> {
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Reads what every mock route records: method, path, query and headers.
pub(super) struct Head(RecordedRequest);

impl Head {
    /// The request with its body.
    pub(super) fn with_body(self, body: String) -> RecordedRequest {
        RecordedRequest { body, ..self.0 }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Head {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Head(head(req)))
    }
}

pub(super) fn head(req: &Request<'_>) -> RecordedRequest {
    RecordedRequest {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_string(),
        query: req
            .uri()
            .query()
            .map(|q| q.as_str().to_owned())
            .unwrap_or_default(),
        headers: req
            .headers()
            .iter()
            .map(|h| (h.name().as_str().to_ascii_lowercase(), h.value().to_owned()))
            .collect(),
        body: String::new(),
    }
}

/// An answer of the mock provider: a status, a content type and a body.
///
/// ```rust
/// use rocket_oauth::testing::MockResponse;
///
/// let ok = MockResponse::json(serde_json::json!({ "ok": true }));
/// let denied = MockResponse::json(serde_json::json!({ "error": "invalid_token" })).status(401);
/// let page = MockResponse::text("text/html", "<h1>Down for maintenance</h1>").status(503);
/// assert_eq!(denied.status_code(), 401);
/// # let _ = (ok, page);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    status: u16,
    content_type: String,
    body: String,
}

impl MockResponse {
    /// HTTP 200 with this JSON body.
    pub fn json(body: Value) -> Self {
        Self::text("application/json", body.to_string())
    }

    /// HTTP 200 with this form-encoded body (`a=1&b=2`).
    pub fn form(body: impl Into<String>) -> Self {
        Self::text("application/x-www-form-urlencoded", body)
    }

    /// HTTP 200 with this body and content type.
    pub fn text(content_type: &str, body: impl Into<String>) -> Self {
        MockResponse {
            status: 200,
            content_type: content_type.to_owned(),
            body: body.into(),
        }
    }

    /// HTTP 401 `{"error": "invalid_token"}`.
    pub fn unauthorized() -> Self {
        Self::json(serde_json::json!({ "error": "invalid_token" })).status(401)
    }

    /// The same answer with another status code.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The status code.
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl<'r> Responder<'r, 'static> for MockResponse {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let content_type =
            ContentType::parse_flexible(&self.content_type).unwrap_or(ContentType::Text);
        let mut response = (content_type, self.body).respond_to(req)?;
        response.set_status(Status::new(self.status));
        Ok(response)
    }
}

/// A request to one of the test's own endpoints ([`MockProvider::endpoint`](super::MockProvider::endpoint)),
/// with the user it is made for.
///
/// ```rust
/// use rocket_oauth::testing::{MockRequest, MockResponse};
///
/// fn me(request: &MockRequest) -> MockResponse {
///     match request.user() {
///         Some(user) => MockResponse::json(serde_json::json!({ "login": user.subject() })),
///         None => MockResponse::unauthorized(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct MockRequest {
    pub(super) request: RecordedRequest,
    pub(super) user: Option<MockUser>,
    pub(super) consumer_signed: bool,
}

impl MockRequest {
    /// What was received.
    pub fn request(&self) -> &RecordedRequest {
        &self.request
    }

    /// The user whose live access token (a bearer token, or OAuth 1.0a token credentials
    /// with a valid signature) the request carries.
    pub fn user(&self) -> Option<&MockUser> {
        self.user.as_ref()
    }

    /// Whether the request is signed OAuth 1.0a with the consumer's credentials alone
    /// (2-legged, no token).
    pub fn consumer_signed(&self) -> bool {
        self.consumer_signed
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.request.body).ok()
    }
}

/// The answer function of a test's endpoint.
pub(super) type Answer = Arc<dyn Fn(&MockRequest) -> MockResponse + Send + Sync>;

/// A test's endpoint.
pub(super) struct Endpoint {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) answer: Answer,
}
