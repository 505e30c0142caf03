//! Test support: a real identity provider on a loopback port, the application under test on
//! another, and a browser (a reqwest client with a cookie store that follows no redirects).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::form::Form;
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::{get, post, routes, Build, FromForm, Rocket, State};
use sha2::{Digest, Sha256};

/// How the test provider's token endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// A tidy JSON token response.
    Ok,
    /// GitHub style: form-encoded unless JSON is asked for, `token_type=bearer`, comma scopes,
    /// and `expires_in` as a string.
    Untidy,
    /// HTTP 500 with an HTML body.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// HTTP 200 with `{"error": "bad_verification_code"}` (GitHub, Slack).
    ErrorIn200,
    /// HTTP 200 JSON without `access_token`.
    NoAccessToken,
    /// Sleeps 5 s before answering.
    Slow,
    /// A token of another type than bearer.
    Mac,
}

#[derive(Debug)]
struct Grant {
    challenge: Option<String>,
    redirect_uri: String,
}

/// How the provider answers refresh requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    /// New tokens; the refresh token rotates (the old one is spent).
    Rotate,
    /// New access token, no refresh token in the answer (Google).
    KeepRefreshToken,
    /// `invalid_grant` for every refresh.
    InvalidGrant,
}

/// An issued access token.
#[derive(Debug, Clone)]
struct Issued {
    sub: String,
    expires: std::time::Instant,
}

/// What the provider saw and how it behaves; shared with the test.
#[derive(Debug)]
pub struct IdpState {
    pub mode: Mutex<TokenMode>,
    pub refresh_mode: Mutex<RefreshMode>,
    /// `expires_in` of issued access tokens, seconds.
    pub expires_in: AtomicUsize,
    /// How long a refresh takes, so that concurrent requests overlap.
    pub refresh_delay: Mutex<Duration>,
    /// Extra userinfo fields (to make sessions large).
    pub extra_userinfo: Mutex<Option<Value>>,
    /// The API answers 401 to this many calls, whatever the token.
    pub api_rejections: AtomicUsize,
    pub refresh_calls: AtomicUsize,
    pub api_calls: AtomicUsize,
    /// Tokens revoked at `/revoke`.
    pub revoked: Mutex<Vec<String>>,
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Issued>>,
    refresh_tokens: Mutex<HashMap<String, String>>,
    pub verifiers: Mutex<Vec<String>>,
    pub token_calls: AtomicUsize,
    pub userinfo_calls: AtomicUsize,
    pub authorize_queries: Mutex<Vec<String>>,
    counter: AtomicUsize,
    /// An `iss` the authorize endpoint appends to its redirect, if set.
    pub iss: Mutex<Option<String>>,
}

/// A running test provider.
pub struct Idp {
    pub url: String,
    pub state: Arc<IdpState>,
}

impl Idp {
    pub fn set_mode(&self, mode: TokenMode) {
        *self.state.mode.lock().unwrap() = mode;
    }
}

fn random_token(state: &IdpState, prefix: &str) -> String {
    let n = state.counter.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{n}-{}", oauth2::CsrfToken::new_random().secret())
}

#[derive(FromForm)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    deny: Option<bool>,
    /// With `deny`: the `error_description` to send.
    deny_reason: Option<String>,
}

#[get("/authorize?<q..>")]
fn authorize(
    q: AuthorizeQuery,
    req: RawQuery,
    idp: &State<Arc<IdpState>>,
) -> Result<Redirect, Status> {
    idp.authorize_queries.lock().unwrap().push(req.0);
    if q.client_id != "test-client" {
        return Err(Status::BadRequest);
    }
    if q.code_challenge.is_some() && q.code_challenge_method.as_deref() != Some("S256") {
        return Err(Status::BadRequest);
    }
    let sep = if q.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let state = urlencode(&q.state);
    if q.deny == Some(true) {
        let reason = match &q.deny_reason {
            Some(reason) => format!("&error_description={}", urlencode(reason)),
            None => String::new(),
        };
        return Ok(Redirect::to(format!(
            "{}{sep}error=access_denied&state={state}{reason}",
            q.redirect_uri
        )));
    }
    let code = random_token(idp, "code");
    idp.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            challenge: q.code_challenge,
            redirect_uri: q.redirect_uri.clone(),
        },
    );
    let iss = match idp.iss.lock().unwrap().as_deref() {
        Some(iss) => format!("&iss={}", urlencode(iss)),
        None => String::new(),
    };
    Ok(Redirect::to(format!(
        "{}{sep}code={code}&state={state}{iss}",
        q.redirect_uri
    )))
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The raw query string of a request.
struct RawQuery(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RawQuery {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(RawQuery(
            req.uri().query().map(|q| q.to_string()).unwrap_or_default(),
        ))
    }
}

/// The `Authorization` header, if any.
pub struct AuthHeader(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthHeader {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(AuthHeader(
            req.headers().get_one("Authorization").map(str::to_owned),
        ))
    }
}

#[derive(FromForm)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

impl IdpState {
    /// Issues an access token for `sub`, with the configured lifetime.
    fn issue(&self, sub: &str) -> (String, u64) {
        let token = random_token(self, "at");
        let expires_in = self.expires_in.load(Ordering::SeqCst) as u64;
        let expires = std::time::Instant::now() + Duration::from_secs(expires_in);
        self.tokens.lock().unwrap().insert(
            token.clone(),
            Issued {
                sub: sub.into(),
                expires,
            },
        );
        (token, expires_in)
    }

    fn new_refresh_token(&self, sub: &str) -> String {
        let token = random_token(self, "rt");
        self.refresh_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), sub.into());
        token
    }

    /// The subject of a live access token.
    fn subject(&self, token: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap();
        let issued = tokens.get(token)?;
        (issued.expires > std::time::Instant::now()).then(|| issued.sub.clone())
    }
}

async fn refresh_grant(form: &TokenForm, idp: &IdpState) -> Answer {
    idp.refresh_calls.fetch_add(1, Ordering::SeqCst);
    let delay = *idp.refresh_delay.lock().unwrap();
    rocket::tokio::time::sleep(delay).await;
    let mode = *idp.refresh_mode.lock().unwrap();
    let given = form.refresh_token.clone().unwrap_or_default();
    let sub = match mode {
        RefreshMode::InvalidGrant => None,
        RefreshMode::Rotate => idp.refresh_tokens.lock().unwrap().remove(&given),
        RefreshMode::KeepRefreshToken => idp.refresh_tokens.lock().unwrap().get(&given).cloned(),
    };
    let Some(sub) = sub else {
        return json_answer(Status::BadRequest, json!({"error": "invalid_grant"}));
    };
    let (access_token, expires_in) = idp.issue(&sub);
    let mut body =
        json!({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in});
    if mode == RefreshMode::Rotate {
        body["refresh_token"] = json!(idp.new_refresh_token(&sub));
    }
    json_answer(Status::Ok, body)
}

type Answer = (Status, (ContentType, String));

fn json_answer(status: Status, value: Value) -> Answer {
    (status, (ContentType::JSON, value.to_string()))
}

#[post("/token", data = "<form>")]
async fn token(form: Form<TokenForm>, auth: AuthHeader, idp: &State<Arc<IdpState>>) -> Answer {
    idp.token_calls.fetch_add(1, Ordering::SeqCst);
    let mode = *idp.mode.lock().unwrap();
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("test-client:test-secret")
    );
    if auth.0.as_deref() != Some(expected_auth.as_str()) {
        return json_answer(Status::Unauthorized, json!({"error": "invalid_client"}));
    }
    if form.grant_type == "refresh_token" {
        return refresh_grant(&form, idp).await;
    }
    if form.grant_type != "authorization_code" {
        return json_answer(
            Status::BadRequest,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    let code = form.code.clone().unwrap_or_default();
    let Some(grant) = idp.grants.lock().unwrap().remove(&code) else {
        return json_answer(Status::BadRequest, json!({"error": "invalid_grant"}));
    };
    if Some(&grant.redirect_uri) != form.redirect_uri.as_ref() {
        return json_answer(Status::BadRequest, json!({"error": "invalid_grant"}));
    }
    if let Some(verifier) = &form.code_verifier {
        idp.verifiers.lock().unwrap().push(verifier.clone());
    }
    match (&grant.challenge, &form.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if &computed != challenge {
                return json_answer(
                    Status::BadRequest,
                    json!({"error": "invalid_grant", "error_description": "PKCE verification failed"}),
                );
            }
        }
        (None, None) => {}
        _ => return json_answer(Status::BadRequest, json!({"error": "invalid_grant"})),
    }
    let (access_token, expires_in) = idp.issue("u1");
    match mode {
        TokenMode::Ok => json_answer(
            Status::Ok,
            json!({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, "refresh_token": idp.new_refresh_token("u1"), "scope": "read write"}),
        ),
        TokenMode::Untidy => (
            Status::Created,
            (
                ContentType::Form,
                format!("access_token={access_token}&token_type=bearer&scope=read%2Cwrite&expires_in=3600"),
            ),
        ),
        TokenMode::ServerError => (Status::InternalServerError, (ContentType::HTML, "<h1>Internal error</h1>".into())),
        TokenMode::Garbage => (Status::Ok, (ContentType::JSON, "this is { not json".into())),
        TokenMode::ErrorIn200 => json_answer(Status::Ok, json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})),
        TokenMode::NoAccessToken => json_answer(Status::Ok, json!({"token_type": "bearer"})),
        TokenMode::Mac => json_answer(
            Status::Ok,
            json!({"access_token": access_token, "token_type": "mac", "mac_key": "k"}),
        ),
        TokenMode::Slow => {
            rocket::tokio::time::sleep(Duration::from_secs(5)).await;
            json_answer(Status::Ok, json!({"access_token": access_token}))
        }
    }
}

fn bearer(auth: &AuthHeader) -> &str {
    auth.0
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("")
}

#[get("/userinfo")]
fn userinfo(auth: AuthHeader, idp: &State<Arc<IdpState>>) -> Answer {
    idp.userinfo_calls.fetch_add(1, Ordering::SeqCst);
    match idp.subject(bearer(&auth)) {
        Some(sub) => {
            let mut user = json!({"sub": sub, "name": "Test User", "email": "user@example.com", "email_verified": true});
            if let Some(Value::Object(extra)) = idp.extra_userinfo.lock().unwrap().clone() {
                user.as_object_mut().unwrap().extend(extra);
            }
            json_answer(Status::Ok, user)
        }
        None => json_answer(Status::Unauthorized, json!({"error": "invalid_token"})),
    }
}

/// The provider's API: who the bearer is, and how it was called.
#[post("/api/echo", data = "<body>")]
fn api_echo(auth: AuthHeader, body: String, idp: &State<Arc<IdpState>>) -> Answer {
    api_answer(auth, idp, json!({"body": body}))
}

#[get("/api/me")]
fn api_me(auth: AuthHeader, idp: &State<Arc<IdpState>>) -> Answer {
    api_answer(auth, idp, json!({}))
}

fn api_answer(auth: AuthHeader, idp: &IdpState, mut extra: Value) -> Answer {
    idp.api_calls.fetch_add(1, Ordering::SeqCst);
    let reject = idp
        .api_rejections
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    match idp.subject(bearer(&auth)) {
        Some(sub) if !reject => {
            extra["sub"] = json!(sub);
            extra["token"] = json!(bearer(&auth));
            json_answer(Status::Ok, extra)
        }
        _ => json_answer(Status::Unauthorized, json!({"error": "invalid_token"})),
    }
}

/// A GraphQL endpoint: `{ viewer }` answers the bearer's subject; a query naming `fail`
/// answers GraphQL errors.
#[post("/graphql", data = "<body>")]
fn graphql(auth: AuthHeader, body: String, idp: &State<Arc<IdpState>>) -> Answer {
    let Some(sub) = idp.subject(bearer(&auth)) else {
        return json_answer(Status::Unauthorized, json!({"error": "invalid_token"}));
    };
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    if request["query"].as_str().unwrap_or("").contains("fail") {
        return json_answer(
            Status::Ok,
            json!({"errors": [{"message": "no such field"}]}),
        );
    }
    json_answer(
        Status::Ok,
        json!({"data": {"viewer": {"sub": sub, "variables": request["variables"]}}}),
    )
}

#[derive(FromForm)]
struct RevokeForm {
    token: String,
}

#[post("/revoke", data = "<form>")]
fn revoke(form: Form<RevokeForm>, idp: &State<Arc<IdpState>>) -> Status {
    idp.revoked.lock().unwrap().push(form.token.clone());
    Status::Ok
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
    let (tx, rx) = rocket::tokio::sync::oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let rocket = rocket.attach(AdHoc::on_liftoff("port", move |r| {
        let port = r.config().port;
        Box::pin(async move {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(port);
            }
        })
    }));
    rocket::tokio::spawn(async move {
        if let Err(e) = rocket.launch().await {
            panic!("launch failed: {e}");
        }
    });
    let port = rx.await.expect("server started");
    format!("http://127.0.0.1:{port}")
}

/// Starts a test provider.
pub async fn start_idp() -> Idp {
    let state = Arc::new(IdpState {
        mode: Mutex::new(TokenMode::Ok),
        refresh_mode: Mutex::new(RefreshMode::Rotate),
        expires_in: AtomicUsize::new(3600),
        refresh_delay: Mutex::new(Duration::ZERO),
        extra_userinfo: Mutex::new(None),
        api_rejections: AtomicUsize::new(0),
        refresh_calls: AtomicUsize::new(0),
        api_calls: AtomicUsize::new(0),
        revoked: Mutex::default(),
        grants: Mutex::default(),
        tokens: Mutex::default(),
        refresh_tokens: Mutex::default(),
        verifiers: Mutex::default(),
        token_calls: AtomicUsize::new(0),
        userinfo_calls: AtomicUsize::new(0),
        authorize_queries: Mutex::default(),
        counter: AtomicUsize::new(0),
        iss: Mutex::new(None),
    });
    let rocket = rocket::custom(base_figment()).manage(state.clone()).mount(
        "/",
        routes![authorize, token, userinfo, api_me, api_echo, graphql, revoke],
    );
    Idp {
        url: launch(rocket).await,
        state,
    }
}

/// The `oauth.<name>` table for a provider served by `idp`, for an app at `app_port`.
pub fn provider_config(idp: &Idp, name: &str, app_port: u16) -> Value {
    json!({
        "client_id": "test-client",
        "client_secret": "test-secret",
        "authorize_url": format!("{}/authorize", idp.url),
        "token_url": format!("{}/token", idp.url),
        "userinfo_url": format!("{}/userinfo", idp.url),
        "redirect_uri": format!("http://127.0.0.1:{app_port}/auth/{name}/callback"),
        "scopes": ["read", "write"],
        "timeout": 2,
        "revocation_url": format!("{}/revoke", idp.url),
        "api_base_url": format!("{}/", idp.url),
    })
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A browser: keeps cookies, follows no redirects by itself.
pub struct Browser {
    pub client: reqwest::Client,
    /// Its cookies.
    pub jar: Arc<reqwest::cookie::Jar>,
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

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Browser { client, jar }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    /// GETs `url` and reads a JSON answer.
    pub async fn json(&self, url: &str) -> Value {
        let response = self.get(url).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} {text}"))
    }

    pub async fn post(&self, url: &str) -> reqwest::Response {
        self.client.post(url).send().await.unwrap()
    }

    /// GETs `url` and follows redirects (absolute or relative to `base`) until a non-3xx.
    /// Returns the final response and every URL visited.
    pub async fn follow(&self, base: &str, url: &str) -> (reqwest::Response, Vec<String>) {
        let mut visited = vec![url.to_owned()];
        let mut response = self.get(url).await;
        for _ in 0..10 {
            if !response.status().is_redirection() {
                break;
            }
            let location = location(&response);
            let next = if location.starts_with('/') {
                format!("{base}{location}")
            } else {
                location
            };
            visited.push(next.clone());
            response = self.get(&next).await;
        }
        (response, visited)
    }
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
pub mod example;
pub mod oauth1;
pub mod oidc;

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
