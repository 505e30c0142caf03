//! A test OAuth 1.0a provider whose signature check is written here from RFC 5849 §3.4
//! (independently of the signing code under test): temporary credentials, authorization,
//! token credentials, and a signed userinfo endpoint.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, post, routes, State};

pub const CONSUMER_KEY: &str = "test-consumer";
pub const CONSUMER_SECRET: &str = "consumer s3cret&+";

/// How the provider's credential endpoints answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum O1Mode {
    Ok,
    /// Temporary credentials without `oauth_callback_confirmed=true`.
    NoCallbackConfirmed,
    /// `oauth_problem=signature_invalid` with HTTP 401.
    Problem,
    /// Token credentials without a secret.
    NoSecret,
    /// A body that is not a form.
    Garbage,
    /// Sleeps past the client's timeout.
    Hang,
    /// A 2 MiB answer.
    Huge,
}

#[derive(Debug)]
pub struct O1State {
    pub mode: Mutex<O1Mode>,
    /// temporary token → (secret, callback)
    temporary: Mutex<HashMap<String, (String, String)>>,
    /// temporary token → verifier
    verifiers: Mutex<HashMap<String, String>>,
    /// token → secret
    tokens: Mutex<HashMap<String, String>>,
    pub bad_signatures: AtomicUsize,
    counter: AtomicUsize,
    pub url: Mutex<String>,
}

pub struct O1 {
    pub url: String,
    pub state: Arc<O1State>,
}

impl O1 {
    pub fn set_mode(&self, mode: O1Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }
}

/// RFC 5849 §3.6: everything but unreserved characters, uppercase hex.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// RFC 5849 §3.4.1: the signature base string.
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        enc(base_uri),
        enc(&normalized)
    )
}

/// RFC 5849 §3.4.2: HMAC-SHA1, base64.
pub fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", enc(consumer_secret), enc(token_secret));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization: OAuth …` parameters, decoded (`realm` left out).
pub fn oauth_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim_matches('"');
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .ok()?
            .into_owned();
        if k != "realm" {
            params.push((k.to_owned(), v));
        }
    }
    Some(params)
}

/// What a request brings: its `Authorization` header and query.
struct Signed {
    header: Option<String>,
    query: Vec<(String, String)>,
    path: String,
    /// The form body's parameters (set by routes that read the body).
    form: Vec<(String, String)>,
}

impl Signed {
    fn with_form(mut self, body: &str) -> Self {
        self.form = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        self
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Signed {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let query = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_str().as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Outcome::Success(Signed {
            header: req.headers().get_one("Authorization").map(str::to_owned),
            query,
            path: req.uri().path().to_string(),
            form: Vec::new(),
        })
    }
}

impl O1State {
    /// Checks the request's signature with `token_secret`; returns its oauth parameters.
    fn verify(
        &self,
        method: &str,
        signed: &Signed,
        token_secret: &str,
    ) -> Option<HashMap<String, String>> {
        // The protocol parameters come in the header, or in the query (RFC 5849 §3.5.3).
        let mut all = match signed.header.as_deref() {
            Some(header) => oauth_params(header)?,
            None => Vec::new(),
        };
        all.extend(signed.query.iter().cloned());
        all.extend(signed.form.iter().cloned());
        let given = all
            .iter()
            .find(|(k, _)| k == "oauth_signature")
            .map(|(_, v)| v.clone())?;
        let signed_params: Vec<(String, String)> = all
            .iter()
            .filter(|(k, _)| k != "oauth_signature")
            .cloned()
            .collect();
        let params: Vec<(String, String)> = all
            .into_iter()
            .filter(|(k, _)| k.starts_with("oauth_"))
            .collect();
        let base_uri = format!("{}{}", self.url.lock().unwrap(), signed.path);
        let base = base_string(method, &base_uri, &signed_params);
        let expected = hmac_sha1(&base, CONSUMER_SECRET, token_secret);
        let map: HashMap<String, String> = params.into_iter().collect();
        let ok = expected == given
            && map.get("oauth_consumer_key").map(String::as_str) == Some(CONSUMER_KEY)
            && map.get("oauth_signature_method").map(String::as_str) == Some("HMAC-SHA1");
        if !ok {
            self.bad_signatures.fetch_add(1, Ordering::SeqCst);
        }
        ok.then_some(map)
    }

    fn next(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::SeqCst))
    }
}

type Answer = (Status, (ContentType, String));

fn form(status: Status, body: String) -> Answer {
    (status, (ContentType::Form, body))
}

fn unauthorized(problem: &str) -> Answer {
    form(Status::Unauthorized, format!("oauth_problem={problem}"))
}

async fn misbehave(o1: &O1State) -> Option<Answer> {
    match *o1.mode.lock().unwrap() {
        O1Mode::Problem => Some(unauthorized("signature_invalid")),
        O1Mode::Garbage => Some((Status::Ok, (ContentType::HTML, "<h1>hi</h1>".into()))),
        _ => None,
    }
}

#[post("/oauth1/request_token", data = "<body>")]
async fn request_token(signed: Signed, body: String, o1: &State<Arc<O1State>>) -> Answer {
    let signed = signed.with_form(&body);
    if *o1.mode.lock().unwrap() == O1Mode::Huge {
        return form(Status::Ok, "x".repeat(2 * 1024 * 1024));
    }
    if *o1.mode.lock().unwrap() == O1Mode::Hang {
        rocket::tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if let Some(answer) = misbehave(o1).await {
        return answer;
    }
    let Some(params) = o1.verify("POST", &signed, "") else {
        return unauthorized("signature_invalid");
    };
    let Some(callback) = params.get("oauth_callback").cloned() else {
        return unauthorized("parameter_absent");
    };
    let (token, secret) = (o1.next("temp-"), o1.next("temp-secret-"));
    o1.temporary
        .lock()
        .unwrap()
        .insert(token.clone(), (secret.clone(), callback));
    let confirmed = if *o1.mode.lock().unwrap() == O1Mode::NoCallbackConfirmed {
        ""
    } else {
        "&oauth_callback_confirmed=true"
    };
    form(
        Status::Ok,
        format!("oauth_token={token}&oauth_token_secret={secret}{confirmed}"),
    )
}

#[get("/oauth1/authorize?<oauth_token>&<deny>")]
fn authorize(
    oauth_token: String,
    deny: Option<bool>,
    o1: &State<Arc<O1State>>,
) -> Result<Redirect, Status> {
    let (_, callback) = o1
        .temporary
        .lock()
        .unwrap()
        .get(&oauth_token)
        .cloned()
        .ok_or(Status::BadRequest)?;
    let sep = if callback.contains('?') { '&' } else { '?' };
    if deny == Some(true) {
        return Ok(Redirect::to(format!("{callback}{sep}denied={oauth_token}")));
    }
    let verifier = o1.next("verifier-");
    o1.verifiers
        .lock()
        .unwrap()
        .insert(oauth_token.clone(), verifier.clone());
    Ok(Redirect::to(format!(
        "{callback}{sep}oauth_token={oauth_token}&oauth_verifier={verifier}"
    )))
}

#[post("/oauth1/access_token", data = "<body>")]
async fn access_token(signed: Signed, body: String, o1: &State<Arc<O1State>>) -> Answer {
    let signed = signed.with_form(&body);
    if let Some(answer) = misbehave(o1).await {
        return answer;
    }
    let params = protocol_params(&signed);
    let Some(temp) = params.get("oauth_token") else {
        return unauthorized("token_rejected");
    };
    let Some((secret, _)) = o1.temporary.lock().unwrap().remove(temp) else {
        return unauthorized("token_rejected");
    };
    if o1.verify("POST", &signed, &secret).is_none() {
        return unauthorized("signature_invalid");
    }
    let expected = o1.verifiers.lock().unwrap().remove(temp);
    if expected.is_none() || params.get("oauth_verifier") != expected.as_ref() {
        return unauthorized("verifier_invalid");
    }
    let (token, secret) = (o1.next("token-"), o1.next("token-secret-"));
    o1.tokens
        .lock()
        .unwrap()
        .insert(token.clone(), secret.clone());
    if *o1.mode.lock().unwrap() == O1Mode::NoSecret {
        return form(Status::Ok, format!("oauth_token={token}"));
    }
    form(
        Status::Ok,
        format!("oauth_token={token}&oauth_token_secret={secret}"),
    )
}

/// The `oauth_*` parameters of a request, from its header or its query.
fn protocol_params(signed: &Signed) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = signed
        .header
        .as_deref()
        .and_then(oauth_params)
        .unwrap_or_default()
        .into_iter()
        .collect();
    params.extend(
        signed
            .query
            .iter()
            .chain(&signed.form)
            .filter(|(k, _)| k.starts_with("oauth_"))
            .cloned(),
    );
    params
}

/// An API endpoint with a form body: echoes its (non-protocol) parameters when signed.
#[post("/oauth1/form", data = "<body>")]
fn form_api(
    signed: Signed,
    body: String,
    o1: &State<Arc<O1State>>,
) -> (Status, (ContentType, String)) {
    let signed = signed.with_form(&body);
    let params = protocol_params(&signed);
    let secret = params
        .get("oauth_token")
        .and_then(|t| o1.tokens.lock().unwrap().get(t).cloned());
    match secret.and_then(|s| o1.verify("POST", &signed, &s)) {
        Some(_) => {
            let fields: serde_json::Map<String, serde_json::Value> = signed
                .form
                .iter()
                .filter(|(k, _)| !k.starts_with("oauth_"))
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            (
                Status::Ok,
                (
                    ContentType::JSON,
                    serde_json::Value::Object(fields).to_string(),
                ),
            )
        }
        None => (
            Status::Unauthorized,
            (ContentType::JSON, r#"{"error":"bad signature"}"#.into()),
        ),
    }
}

/// An endpoint for the consumer itself (2-legged: no token).
#[get("/oauth1/app")]
fn app(signed: Signed, o1: &State<Arc<O1State>>) -> (Status, (ContentType, String)) {
    match o1.verify("GET", &signed, "") {
        Some(params) if !params.contains_key("oauth_token") => (
            Status::Ok,
            (
                ContentType::JSON,
                format!(r#"{{"consumer":"{}"}}"#, params["oauth_consumer_key"]),
            ),
        ),
        _ => (
            Status::Unauthorized,
            (ContentType::JSON, r#"{"error":"bad signature"}"#.into()),
        ),
    }
}

#[get("/oauth1/userinfo?<_fields>")]
fn userinfo(
    signed: Signed,
    _fields: Option<String>,
    o1: &State<Arc<O1State>>,
) -> (Status, (ContentType, String)) {
    let params = protocol_params(&signed);
    let secret = params
        .get("oauth_token")
        .and_then(|t| o1.tokens.lock().unwrap().get(t).cloned());
    match secret.and_then(|s| o1.verify("GET", &signed, &s)) {
        Some(_) => (
            Status::Ok,
            (
                ContentType::JSON,
                r#"{"id":"o1-user","name":"Ada Lovelace"}"#.into(),
            ),
        ),
        None => (
            Status::Unauthorized,
            (ContentType::JSON, r#"{"error":"bad signature"}"#.into()),
        ),
    }
}

/// Starts a test OAuth 1.0a provider.
pub async fn start_o1() -> O1 {
    let state = Arc::new(O1State {
        mode: Mutex::new(O1Mode::Ok),
        temporary: Mutex::default(),
        verifiers: Mutex::default(),
        tokens: Mutex::default(),
        bad_signatures: AtomicUsize::new(0),
        counter: AtomicUsize::new(0),
        url: Mutex::new(String::new()),
    });
    let rocket = rocket::custom(super::base_figment())
        .manage(state.clone())
        .mount(
            "/",
            routes![
                request_token,
                authorize,
                access_token,
                userinfo,
                app,
                form_api
            ],
        );
    let url = super::launch(rocket).await;
    *state.url.lock().unwrap() = url.clone();
    O1 { url, state }
}

/// The `oauth.<name>` table for a provider served by `o1`, for an app at `app_port`.
pub fn o1_config(o1: &O1, name: &str, app_port: u16) -> serde_json::Value {
    serde_json::json!({
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "request_token_url": format!("{}/oauth1/request_token", o1.url),
        "authorize_url": format!("{}/oauth1/authorize", o1.url),
        "access_token_url": format!("{}/oauth1/access_token", o1.url),
        "userinfo_url": format!("{}/oauth1/userinfo?fields=id,name", o1.url),
        "callback_url": format!("http://127.0.0.1:{app_port}/auth/{name}/callback"),
        "timeout": 2,
    })
}
