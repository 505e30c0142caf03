//! The mock's OAuth 2 endpoints: authorize, token (code and refresh), userinfo, revocation,
//! end session.

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Responder, Route, State};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::exchange::{Head, MockResponse, RecordedRequest};
use super::script::{AuthorizeReply, IssuedTokens, RefreshReply, TokenReply, HANG};
use super::state::{Grant, RefreshGrant, Shared, CLIENT_ID, CLIENT_SECRET};

pub(super) fn routes() -> Vec<Route> {
    routes![authorize, token, userinfo, revoke, end_session]
}

/// Where the authorization endpoint sends the browser.
#[derive(Debug)]
pub(super) enum AuthorizeAnswer {
    /// A redirect to this URL.
    Redirect(String),
    /// `response_mode=form_post`: a form POSTing `fields` to `action`.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
    /// A request that must not be redirected (unknown client, bad `redirect_uri`): an error
    /// page with this text.
    Invalid(String),
}

/// The parameters of an authorization request.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers an OAuth 2 authorization request, approving for `login_as` or the current user.
pub(super) fn authorize_request(
    shared: &Shared,
    params: &[(String, String)],
    login_as: Option<&str>,
) -> AuthorizeAnswer {
    if param(params, "client_id") != Some(CLIENT_ID) {
        return AuthorizeAnswer::Invalid("unknown client_id".into());
    }
    let Some(redirect_uri) = param(params, "redirect_uri").and_then(|u| url::Url::parse(u).ok())
    else {
        return AuthorizeAnswer::Invalid("a valid redirect_uri is required".into());
    };
    let script = shared.script();
    let mut answer: Vec<(String, String)> = Vec::new();
    let error = |error: &str, description: Option<&str>| {
        let mut fields = vec![("error".to_owned(), error.to_owned())];
        if let Some(description) = description {
            fields.push(("error_description".into(), description.into()));
        }
        fields
    };
    let challenge = param(params, "code_challenge");
    let method = param(params, "code_challenge_method");
    let user = shared.approving_user(login_as);
    if param(params, "response_type") != Some("code") {
        answer = error("unsupported_response_type", None);
    } else if challenge.is_some() && method != Some("S256") {
        answer = error("invalid_request", Some("only S256 code challenges"));
    } else {
        match (&script.authorize, user) {
            (AuthorizeReply::Deny { description }, _) => {
                answer = error("access_denied", description.as_deref());
            }
            (
                AuthorizeReply::Error {
                    error: e,
                    description,
                },
                _,
            ) => {
                answer = error(e, description.as_deref());
            }
            (_, None) => return AuthorizeAnswer::Invalid("no such user".into()),
            (_, Some(user)) => {
                let code = shared.random("code");
                shared.grants.lock().unwrap().insert(
                    code.clone(),
                    Grant {
                        subject: user.subject().to_owned(),
                        redirect_uri: redirect_uri.to_string(),
                        challenge: challenge.map(str::to_owned),
                        nonce: param(params, "nonce").map(str::to_owned),
                        scope: param(params, "scope").unwrap_or_default().to_owned(),
                    },
                );
                answer.push(("code".into(), code));
            }
        }
    }
    if let Some(state) = param(params, "state") {
        answer.push(("state".into(), state.into()));
    }
    if let Some(iss) = script.authorization_iss {
        answer.push(("iss".into(), iss));
    }
    answer.extend(script.authorization_extra);
    if param(params, "response_mode") == Some("form_post") {
        return AuthorizeAnswer::FormPost {
            action: redirect_uri.to_string(),
            fields: answer,
        };
    }
    let mut target = redirect_uri;
    target.query_pairs_mut().extend_pairs(answer);
    AuthorizeAnswer::Redirect(target.to_string())
}

/// An authorization answer as Rocket sends it.
#[derive(Responder)]
pub(super) enum AuthorizeResponse {
    Redirect(Box<Redirect>),
    Page(RawHtml<String>),
    Invalid((Status, String)),
}

impl From<AuthorizeAnswer> for AuthorizeResponse {
    fn from(answer: AuthorizeAnswer) -> Self {
        match answer {
            AuthorizeAnswer::Redirect(to) => {
                AuthorizeResponse::Redirect(Box::new(Redirect::found(to)))
            }
            AuthorizeAnswer::FormPost { action, fields } => {
                AuthorizeResponse::Page(RawHtml(form_post_page(&action, &fields)))
            }
            AuthorizeAnswer::Invalid(why) => AuthorizeResponse::Invalid((Status::BadRequest, why)),
        }
    }
}

/// The `form_post` page: a form that POSTs `fields` to `action` as soon as it loads.
pub(super) fn form_post_page(action: &str, fields: &[(String, String)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        r#"<!doctype html><body onload="document.forms[0].submit()"><form method="post" action="{}">{inputs}<noscript><button>Continue</button></noscript></form></body>"#,
        escape(action)
    )
}

/// HTML-escapes an attribute value.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[get("/authorize")]
fn authorize(head: Head, shared: &State<Arc<Shared>>) -> AuthorizeResponse {
    let request = head.with_body(String::new());
    shared.record(&request);
    let params = request.query_params();
    let login_as = param(&params, "login_as").map(str::to_owned);
    authorize_request(shared, &params, login_as.as_deref()).into()
}

/// The client of a token request, authenticated by `client_secret_basic` or
/// `client_secret_post` (the id alone for a public client, which must then use PKCE).
fn client_authenticated(request: &RecordedRequest) -> Option<bool> {
    let (id, secret) = match request.header("authorization") {
        Some(header) => {
            let encoded = header.strip_prefix("Basic ")?;
            let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
            let (id, secret) = decoded.split_once(':')?;
            let unescape = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            (unescape(id)?, Some(unescape(secret)?))
        }
        None => (
            request.form_param("client_id")?,
            request.form_param("client_secret"),
        ),
    };
    if id != CLIENT_ID {
        return None;
    }
    match secret {
        Some(secret) => {
            bool::from(secret.as_bytes().ct_eq(CLIENT_SECRET.as_bytes())).then_some(true)
        }
        None => Some(false),
    }
}

/// The client id a token request names (Basic or form).
fn client_id(request: &RecordedRequest) -> Option<String> {
    if let Some(encoded) = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
        return decoded.split_once(':').map(|(id, _)| id.to_owned());
    }
    request.form_param("client_id")
}

fn error(status: u16, error: &str, description: &str) -> MockResponse {
    MockResponse::json(json!({ "error": error, "error_description": description })).status(status)
}

#[post("/token", data = "<body>")]
async fn token(head: Head, body: String, shared: &State<Arc<Shared>>) -> MockResponse {
    let request = head.with_body(body);
    shared.record(&request);
    let confidential = match client_authenticated(&request) {
        Some(confidential) => confidential,
        None if shared.script().ignore_client_secret
            && client_id(&request).as_deref() == Some(CLIENT_ID) =>
        {
            true
        }
        None => return error(401, "invalid_client", "unknown client or wrong secret"),
    };
    match request.form_param("grant_type").as_deref() {
        Some("authorization_code") => code_grant(shared, &request, confidential).await,
        Some("refresh_token") => refresh_grant(shared, &request).await,
        _ => error(
            400,
            "unsupported_grant_type",
            "authorization_code or refresh_token",
        ),
    }
}

async fn code_grant(
    shared: &Shared,
    request: &RecordedRequest,
    confidential: bool,
) -> MockResponse {
    let code = request.form_param("code").unwrap_or_default();
    let Some(grant) = shared.grants.lock().unwrap().remove(&code) else {
        return error(400, "invalid_grant", "unknown or spent code");
    };
    if request.form_param("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str()) {
        return error(400, "invalid_grant", "redirect_uri differs");
    }
    let verifier = request.form_param("code_verifier");
    match (&grant.challenge, &verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if &computed != challenge {
                return error(400, "invalid_grant", "PKCE verification failed");
            }
        }
        (None, None) if confidential => {}
        _ => {
            return error(
                400,
                "invalid_grant",
                "PKCE verifier and challenge do not match",
            )
        }
    }
    let script = shared.script();
    match script.token {
        TokenReply::Hang => rocket::tokio::time::sleep(HANG).await,
        TokenReply::Slow(delay) => rocket::tokio::time::sleep(delay).await,
        _ => {}
    }
    let tokens = issue(shared, &grant.subject, &grant.scope, grant.nonce.as_deref());
    match script.token {
        TokenReply::Json | TokenReply::Hang | TokenReply::Slow(_) => {
            MockResponse::json(tokens.json())
        }
        TokenReply::FormEncoded => MockResponse::form(format!(
            "access_token={}&token_type=bearer&scope={}&expires_in=3600",
            tokens.access_token,
            tokens.scope.replace(' ', "%2C")
        ))
        .status(201),
        TokenReply::ServerError => {
            MockResponse::text("text/html", "<h1>Internal error</h1>").status(500)
        }
        TokenReply::NotJson => MockResponse::text("application/json", "this is { not json"),
        TokenReply::ErrorIn200 => MockResponse::json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired."
        })),
        TokenReply::NoAccessToken => MockResponse::json(json!({ "token_type": "bearer" })),
        TokenReply::TokenType(kind) => MockResponse::json(json!({
            "access_token": tokens.access_token, "token_type": kind, "mac_key": "k"
        })),
        TokenReply::Custom(answer) => answer(&tokens),
    }
}

/// Issues an access token, a refresh token and (for `openid`) an ID token.
fn issue(shared: &Shared, subject: &str, scope: &str, nonce: Option<&str>) -> IssuedTokens {
    let (access_token, expires_in) = shared.issue_access_token(subject);
    let refresh_token = shared.issue_refresh_token(RefreshGrant {
        subject: subject.to_owned(),
        scope: scope.to_owned(),
    });
    let openid = scope.split(' ').any(|s| s == "openid");
    #[cfg(feature = "oidc")]
    let id_token = openid
        .then(|| super::oidc::id_token(shared, subject, nonce, &access_token))
        .flatten();
    #[cfg(not(feature = "oidc"))]
    let id_token = {
        let _ = (openid, nonce);
        None
    };
    IssuedTokens {
        subject: subject.to_owned(),
        access_token,
        refresh_token,
        id_token,
        expires_in,
        scope: scope.to_owned(),
    }
}

async fn refresh_grant(shared: &Shared, request: &RecordedRequest) -> MockResponse {
    let script = shared.script();
    rocket::tokio::time::sleep(script.refresh_delay).await;
    let given = request.form_param("refresh_token").unwrap_or_default();
    let grant = match script.refresh {
        RefreshReply::InvalidGrant => None,
        RefreshReply::Rotate => shared.refresh_tokens.lock().unwrap().remove(&given),
        RefreshReply::KeepRefreshToken => {
            shared.refresh_tokens.lock().unwrap().get(&given).cloned()
        }
    };
    let Some(grant) = grant else {
        return error(400, "invalid_grant", "unknown or spent refresh token");
    };
    // A refreshed ID token carries no nonce (as Keycloak's).
    let tokens = issue(shared, &grant.subject, &grant.scope, None);
    let mut body = tokens.json();
    if script.refresh == RefreshReply::KeepRefreshToken {
        shared
            .refresh_tokens
            .lock()
            .unwrap()
            .remove(&tokens.refresh_token);
        if let Some(fields) = body.as_object_mut() {
            fields.remove("refresh_token");
        }
    }
    MockResponse::json(body)
}

#[get("/userinfo")]
async fn userinfo(head: Head, shared: &State<Arc<Shared>>) -> MockResponse {
    let request = head.with_body(String::new());
    shared.record(&request);
    let script = shared.script();
    if let Some(answer) = script.userinfo.misbehave().await {
        return answer;
    }
    match request.bearer_token().and_then(|t| shared.token_user(t)) {
        Some(user) => {
            let shape = shared.shape.lock().unwrap().clone();
            match shape.filter(|_| !user.has_own_userinfo()) {
                Some(shape) => MockResponse::json(shape(&user)),
                None => MockResponse::json(user.profile("sub", script.userinfo_subject.as_deref())),
            }
        }
        None => MockResponse::unauthorized(),
    }
}

#[post("/revoke", data = "<body>")]
fn revoke(head: Head, body: String, shared: &State<Arc<Shared>>) -> MockResponse {
    let request = head.with_body(body);
    shared.record(&request);
    match request.form_param("token") {
        Some(token) => {
            shared.revoke(&token);
            MockResponse::text("text/plain", "")
        }
        None => error(400, "invalid_request", "token is required"),
    }
}

#[get("/end_session")]
fn end_session(head: Head, shared: &State<Arc<Shared>>) -> &'static str {
    shared.record(&head.with_body(String::new()));
    "signed out at the provider"
}
