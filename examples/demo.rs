//! A self-contained demo: a toy identity provider on port 8001 and an application on port
//! 8000 that logs in through it with `rocket_oauth`. No accounts or keys needed:
//!
//! ```sh
//! cargo run --example demo
//! ```
//!
//! then open <http://127.0.0.1:8000>. The toy provider is for the demo only: it accepts any
//! user name.

#[macro_use]
extern crate rocket;

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::form::Form;
use rocket::http::{RawStr, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::{Request, State};
use rocket_oauth::{AccessToken, Hooks, LoginRequired, OAuthFairing, Provider, ProviderDefaults};
use sha2::{Digest, Sha256};

const APP: &str = "http://127.0.0.1:8000";
const IDP: &str = "http://127.0.0.1:8001";
const CLIENT_ID: &str = "demo-client";
const CLIENT_SECRET: &str = "demo-secret";

// ---------------------------------------------------------------- the application

/// The toy provider, configured in `main`.
struct Demo;

impl Provider for Demo {
    const NAME: &'static str = "demo";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oauth2_from_config().scopes(&["profile"])
    }
}

impl Hooks for Demo {}

#[get("/")]
fn index(token: Option<AccessToken<Demo>>) -> RawHtml<String> {
    let body = match token.as_ref().and_then(|t| t.userinfo()) {
        Some(user) => format!(
            r#"<p>Logged in as <b>{}</b>. <a href="/me">/me</a> · <a href="/private">/private</a></p>
<form method="post" action="/auth/demo/logout"><button>Log out</button></form>"#,
            RawStr::new(user["name"].as_str().unwrap_or("?")).html_escape()
        ),
        None => r#"<p>Not logged in. <a href="/auth/demo/login">Log in with the demo provider</a>
or visit <a href="/private">a private page</a>.</p>"#
            .to_owned(),
    };
    RawHtml(format!(
        "<!DOCTYPE html><title>rocket_oauth demo</title><h1>rocket_oauth demo</h1>{body}"
    ))
}

#[get("/me")]
fn me(token: AccessToken<Demo>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo(), "scopes": token.scopes() })
}

#[get("/private")]
fn private(user: LoginRequired<Demo>) -> RawHtml<String> {
    let name = user
        .userinfo()
        .and_then(|u| u["name"].as_str())
        .unwrap_or("?");
    RawHtml(format!(
        r#"<!DOCTYPE html><title>Private</title><p>Hello, {}. This page needs a login.</p><a href="/">Home</a>"#,
        RawStr::new(name).html_escape()
    ))
}

// ---------------------------------------------------------------- the toy provider

struct Grant {
    user: String,
    challenge: String,
}

#[derive(Default)]
struct IdpState {
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, String>>,
}

/// A random URL-safe string (from the `oauth2` crate's CSPRNG-backed generator).
fn random() -> String {
    oauth2::CsrfToken::new_random().secret().clone()
}

#[derive(FromForm)]
struct AuthorizeQuery<'r> {
    client_id: &'r str,
    redirect_uri: &'r str,
    state: &'r str,
    code_challenge: &'r str,
    code_challenge_method: &'r str,
}

fn registered(q: &AuthorizeQuery<'_>) -> bool {
    q.client_id == CLIENT_ID
        && q.redirect_uri == format!("{APP}/auth/demo/callback")
        && q.code_challenge_method == "S256"
}

#[get("/authorize?<q..>")]
fn authorize(q: AuthorizeQuery<'_>) -> Result<RawHtml<String>, Status> {
    if !registered(&q) {
        return Err(Status::BadRequest);
    }
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            RawStr::new(value).html_escape()
        )
    };
    Ok(RawHtml(format!(
        r#"<!DOCTYPE html><title>Toy provider</title><h1>Toy identity provider</h1>
<p>The application <b>{CLIENT_ID}</b> asks who you are.</p>
<form method="get" action="/approve">{}{}{}{}{}
<label>User name <input name="user" value="alice" required></label>
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button>
</form>"#,
        hidden("client_id", q.client_id),
        hidden("redirect_uri", q.redirect_uri),
        hidden("state", q.state),
        hidden("code_challenge", q.code_challenge),
        hidden("code_challenge_method", q.code_challenge_method),
    )))
}

#[get("/approve?<user>&<decision>&<q..>")]
fn approve(
    q: AuthorizeQuery<'_>,
    user: &str,
    decision: &str,
    idp: &State<IdpState>,
) -> Result<Redirect, Status> {
    if !registered(&q) {
        return Err(Status::BadRequest);
    }
    let state: String = url::form_urlencoded::byte_serialize(q.state.as_bytes()).collect();
    if decision != "allow" {
        return Ok(Redirect::to(format!(
            "{}?error=access_denied&state={state}",
            q.redirect_uri
        )));
    }
    let code = random();
    idp.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            user: user.chars().take(64).collect(),
            challenge: q.code_challenge.to_owned(),
        },
    );
    Ok(Redirect::to(format!(
        "{}?code={code}&state={state}",
        q.redirect_uri
    )))
}

struct Authorization(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authorization {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Authorization(
            req.headers().get_one("Authorization").map(str::to_owned),
        ))
    }
}

#[derive(FromForm)]
struct TokenRequest<'r> {
    code: &'r str,
    code_verifier: &'r str,
}

#[post("/token", data = "<form>")]
fn token(
    form: Form<TokenRequest<'_>>,
    auth: Authorization,
    idp: &State<IdpState>,
) -> (Status, Value) {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if auth.0.as_deref() != Some(expected.as_str()) {
        return (Status::Unauthorized, json!({"error": "invalid_client"}));
    }
    let Some(grant) = idp.grants.lock().unwrap().remove(form.code) else {
        return (Status::BadRequest, json!({"error": "invalid_grant"}));
    };
    if URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes())) != grant.challenge {
        return (
            Status::BadRequest,
            json!({"error": "invalid_grant", "error_description": "PKCE check failed"}),
        );
    }
    let access_token = random();
    idp.tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), grant.user);
    (
        Status::Ok,
        json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "scope": "profile"}),
    )
}

#[get("/userinfo")]
fn userinfo(auth: Authorization, idp: &State<IdpState>) -> (Status, Value) {
    let token = auth
        .0
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    match idp.tokens.lock().unwrap().get(token) {
        Some(user) => (Status::Ok, json!({"sub": user, "name": user})),
        None => (Status::Unauthorized, json!({"error": "invalid_token"})),
    }
}

// ---------------------------------------------------------------- both servers

#[rocket::main]
async fn main() -> Result<(), Box<rocket::Error>> {
    let idp = rocket::custom(
        rocket::Config::figment()
            .merge(("port", 8001))
            .merge(("address", "127.0.0.1")),
    )
    .manage(IdpState::default())
    .mount("/", routes![authorize, approve, token, userinfo]);
    let app_config = rocket::Config::figment()
        .merge(("port", 8000))
        .merge(("address", "127.0.0.1"))
        .merge((
            "oauth.demo",
            json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "authorize_url": format!("{IDP}/authorize"),
                "token_url": format!("{IDP}/token"),
                "userinfo_url": format!("{IDP}/userinfo"),
                "redirect_uri": format!("{APP}/auth/demo/callback"),
            }),
        ));
    let app = rocket::custom(app_config)
        .attach(OAuthFairing::new(Demo))
        .mount("/", routes![index, me, private]);
    let (idp, app) = rocket::tokio::join!(idp.launch(), app.launch());
    idp?;
    app?;
    Ok(())
}
