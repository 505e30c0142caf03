//! The mock's OAuth 1.0a endpoints. Signatures are checked as RFC 5849 §3.4 describes,
//! written here independently of the crate's signing code, so that a mistake there shows.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rocket::{get, post, routes, Route, State};
use subtle::ConstantTimeEq;

use super::exchange::{Head, MockResponse, RecordedRequest};
use super::oauth2::{AuthorizeAnswer, AuthorizeResponse};
use super::script::HANG;
use super::script::{AuthorizeReply, OAuth1Reply};
use super::state::{Shared, Temporary, CLIENT_ID, CLIENT_SECRET};

pub(super) fn routes() -> Vec<Route> {
    routes![request_token, authorize, access_token, userinfo]
}

/// RFC 5849 §3.6: everything but unreserved characters, uppercase hex.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The `Authorization: OAuth …` parameters, decoded (`realm` left out).
fn header_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    for part in rest.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.trim().split_once('=')?;
        let v = percent_encoding::percent_decode_str(v.trim_matches('"'))
            .decode_utf8()
            .ok()?
            .into_owned();
        if k != "realm" {
            params.push((k.to_owned(), v));
        }
    }
    Some(params)
}

/// A request with a valid signature.
pub(super) struct Verified {
    /// Its `oauth_token`, if any.
    pub(super) token: Option<String>,
    pub(super) params: HashMap<String, String>,
}

/// Checks an HMAC-SHA1 signature (RFC 5849 §3.4.1–3.4.2) with the consumer secret and the
/// secret of the request's token (temporary or token credentials). `None` when the request
/// is unsigned or the signature is wrong (counted).
pub(super) fn verify(shared: &Shared, request: &RecordedRequest) -> Option<Verified> {
    let mut all = match request.header("authorization") {
        Some(header) if header.starts_with("OAuth ") => header_params(header)?,
        _ => Vec::new(),
    };
    all.extend(request.query_params());
    all.extend(request.form_params());
    let given = all
        .iter()
        .find(|(k, _)| k == "oauth_signature")
        .map(|(_, v)| v.clone())?;
    let params: HashMap<String, String> = all
        .iter()
        .filter(|(k, _)| k.starts_with("oauth_"))
        .cloned()
        .collect();
    let token = params.get("oauth_token").cloned();
    let token_secret = match &token {
        None => Some(String::new()),
        Some(token) => token_secret(shared, token),
    };
    // §3.4.1.3.2: every parameter but the signature, encoded, sorted, joined.
    let mut encoded: Vec<(String, String)> = all
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (enc(k), enc(v)))
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base_uri = format!("{}{}", shared.url(), request.path);
    let base = format!(
        "{}&{}&{}",
        request.method.to_ascii_uppercase(),
        enc(&base_uri),
        enc(&normalized)
    );
    let ok = token_secret.is_some_and(|token_secret| {
        let key = format!("{}&{}", enc(CLIENT_SECRET), enc(&token_secret));
        let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()) else {
            return false;
        };
        mac.update(base.as_bytes());
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    }) && params.get("oauth_consumer_key").map(String::as_str) == Some(CLIENT_ID)
        && params.get("oauth_signature_method").map(String::as_str) == Some("HMAC-SHA1");
    if !ok {
        shared.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return None;
    }
    Some(Verified { token, params })
}

fn token_secret(shared: &Shared, token: &str) -> Option<String> {
    if let Some(temporary) = shared.temporary.lock().unwrap().get(token) {
        return Some(temporary.secret.clone());
    }
    let tokens = shared.oauth1_tokens.lock().unwrap();
    tokens.get(token).map(|(secret, _)| secret.clone())
}

fn problem(problem: &str) -> MockResponse {
    MockResponse::form(format!("oauth_problem={problem}")).status(401)
}

/// The scripted misbehaviour of the credential endpoints, if any.
async fn misbehave(shared: &Shared) -> Option<MockResponse> {
    match shared.script().oauth1 {
        OAuth1Reply::Problem(p) => Some(problem(&p)),
        OAuth1Reply::NotForm => Some(MockResponse::text("text/html", "<h1>hi</h1>")),
        OAuth1Reply::Oversized => Some(MockResponse::form("x".repeat(2 * 1024 * 1024))),
        OAuth1Reply::Hang => {
            rocket::tokio::time::sleep(HANG).await;
            Some(MockResponse::text("text/plain", "too late").status(504))
        }
        _ => None,
    }
}

/// A request to a credential endpoint: recorded, answered as scripted, its signature
/// checked.
async fn credential_request(
    head: Head,
    body: String,
    shared: &Shared,
) -> Result<Verified, MockResponse> {
    let request = head.with_body(body);
    shared.record(&request);
    if let Some(answer) = misbehave(shared).await {
        return Err(answer);
    }
    verify(shared, &request).ok_or_else(|| problem("signature_invalid"))
}

#[post("/oauth1/request_token", data = "<body>")]
async fn request_token(head: Head, body: String, shared: &State<Arc<Shared>>) -> MockResponse {
    let verified = match credential_request(head, body, shared).await {
        Ok(verified) => verified,
        Err(answer) => return answer,
    };
    let Some(callback) = verified.params.get("oauth_callback").cloned() else {
        return problem("parameter_absent");
    };
    let (token, secret) = (shared.random("temp"), shared.random("temp-secret"));
    shared.temporary.lock().unwrap().insert(
        token.clone(),
        Temporary {
            secret: secret.clone(),
            callback,
            approved: None,
        },
    );
    let confirmed = match shared.script().oauth1 {
        OAuth1Reply::CallbackNotConfirmed => "",
        _ => "&oauth_callback_confirmed=true",
    };
    MockResponse::form(format!(
        "oauth_token={}&oauth_token_secret={}{confirmed}",
        enc(&token),
        enc(&secret)
    ))
}

/// Answers an OAuth 1.0a authorization request (§2.2), approving for `login_as` or the
/// current user.
pub(super) fn authorize_request(
    shared: &Shared,
    params: &[(String, String)],
    login_as: Option<&str>,
) -> AuthorizeAnswer {
    let Some(token) = params
        .iter()
        .find(|(k, _)| k == "oauth_token")
        .map(|(_, v)| v.clone())
    else {
        return AuthorizeAnswer::Invalid("oauth_token is required".into());
    };
    let user = shared.approving_user(login_as);
    let mut temporary = shared.temporary.lock().unwrap();
    let Some(pending) = temporary.get_mut(&token) else {
        return AuthorizeAnswer::Invalid("unknown oauth_token".into());
    };
    let Ok(mut target) = url::Url::parse(&pending.callback) else {
        return AuthorizeAnswer::Invalid("the callback is not a URL".into());
    };
    match (shared.script().authorize, user) {
        (AuthorizeReply::Approve, Some(user)) => {
            let verifier = shared.random("verifier");
            pending.approved = Some((verifier.clone(), user.subject().to_owned()));
            target
                .query_pairs_mut()
                .append_pair("oauth_token", &token)
                .append_pair("oauth_verifier", &verifier);
        }
        (AuthorizeReply::Approve, None) => return AuthorizeAnswer::Invalid("no such user".into()),
        _ => {
            target.query_pairs_mut().append_pair("denied", &token);
        }
    }
    AuthorizeAnswer::Redirect(target.to_string())
}

#[get("/oauth1/authorize")]
fn authorize(head: Head, shared: &State<Arc<Shared>>) -> AuthorizeResponse {
    let request = head.with_body(String::new());
    shared.record(&request);
    let params = request.query_params();
    let login_as = request.query_param("login_as");
    authorize_request(shared, &params, login_as.as_deref()).into()
}

#[post("/oauth1/access_token", data = "<body>")]
async fn access_token(head: Head, body: String, shared: &State<Arc<Shared>>) -> MockResponse {
    let verified = match credential_request(head, body, shared).await {
        Ok(verified) => verified,
        Err(answer) => return answer,
    };
    let Some(temporary) = verified
        .token
        .and_then(|t| shared.temporary.lock().unwrap().remove(&t))
    else {
        return problem("token_rejected");
    };
    let Some((verifier, subject)) = temporary.approved else {
        return problem("permission_unknown");
    };
    if verified.params.get("oauth_verifier") != Some(&verifier) {
        return problem("verifier_invalid");
    }
    let (token, secret) = (shared.random("token"), shared.random("token-secret"));
    shared
        .oauth1_tokens
        .lock()
        .unwrap()
        .insert(token.clone(), (secret.clone(), subject));
    if shared.script().oauth1 == OAuth1Reply::NoTokenSecret {
        return MockResponse::form(format!("oauth_token={}", enc(&token)));
    }
    MockResponse::form(format!(
        "oauth_token={}&oauth_token_secret={}",
        enc(&token),
        enc(&secret)
    ))
}

#[get("/oauth1/userinfo")]
fn userinfo(head: Head, shared: &State<Arc<Shared>>) -> MockResponse {
    let request = head.with_body(String::new());
    shared.record(&request);
    let user = verify(shared, &request)
        .and_then(|v| v.token)
        .and_then(|t| shared.oauth1_user(&t));
    match user {
        Some(user) => MockResponse::json(user.profile("id", None)),
        None => MockResponse::json(serde_json::json!({ "error": "bad signature" })).status(401),
    }
}
