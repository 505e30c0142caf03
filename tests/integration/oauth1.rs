//! OAuth 1.0a over loopback HTTP, against a test provider whose signature check is written
//! from RFC 5849 in the test itself: the login, signed API calls, and every failure a 4xx
//! with the visitor logged out and no secret in a URL or page.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::oauth1::{o1_config, start_o1, O1Mode, O1};
use crate::common::*;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_oauth::{AccessToken, ApiClient, OAuth1Provider};

#[derive(OAuth1Provider)]
#[oauth(
    name = "o1",
    request_token_url = "https://o1.invalid/request_token",
    authorize_url = "https://o1.invalid/authorize",
    access_token_url = "https://o1.invalid/access_token"
)]
struct O1Idp;

#[get("/me")]
fn me(token: AccessToken<O1Idp>) -> Value {
    json!({ "user": token.userinfo(), "type": token.token_type() })
}

/// A signed API call made by `ApiClient`, with a query in the URL.
#[get("/api")]
async fn api(client: ApiClient<'_, O1Idp>) -> Result<Value, String> {
    let response = client
        .get("oauth1/userinfo?fields=id")
        .await
        .map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::ApiError| e.to_string())
}

/// A form-bodied API call: its parameters are signed.
#[get("/api-form")]
async fn api_form(client: ApiClient<'_, O1Idp>) -> Result<Value, String> {
    let response = client
        .post_form("oauth1/form", &[("status", "hello world"), ("c@", "1+1")])
        .await
        .map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::ApiError| e.to_string())
}

/// A call as the application itself (2-legged), outside any session.
#[get("/as-app")]
async fn as_app(orbit: Orbit<'_>) -> Result<Value, String> {
    let client = ApiClient::<O1Idp>::consumer(orbit.0).ok_or("no fairing")?;
    let response = client.get("oauth1/app").await.map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::ApiError| e.to_string())
}

/// The Rocket handling a request.
struct Orbit<'r>(&'r rocket::Rocket<rocket::Orbit>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Orbit<'r> {
    type Error = ();
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
        rocket::request::Outcome::Success(Orbit(req.rocket()))
    }
}

async fn start(o1: &O1) -> String {
    start_with(o1, |config| config).await
}

async fn start_with(o1: &O1, tweak: impl FnOnce(Value) -> Value) -> String {
    let port = free_port();
    let mut config = o1_config(o1, "o1", port);
    config["api_base_url"] = format!("{}/", o1.url).into();
    let config = tweak(config);
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.o1", config));
    launch(
        rocket::custom(figment)
            .attach(O1Idp.fairing())
            .mount("/", routes![me, api, api_form, as_app]),
    )
    .await
}

/// `GET login`, then the provider's authorization: the callback URL.
async fn callback_url(browser: &Browser, app: &str) -> String {
    let r = browser.get(&format!("{app}/auth/o1/login?next=/me")).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let authorize = location(&r);
    assert!(
        !authorize.contains("secret"),
        "no secret in the URL: {authorize}"
    );
    let r = browser.get(&authorize).await;
    assert_eq!(r.status(), 303);
    location(&r)
}

async fn assert_refused(browser: &Browser, app: &str, r: reqwest::Response, expected: &str) {
    // 4xx, or 502 when the provider failed: an error page, never a 500.
    assert!(
        r.status().is_client_error() || r.status() == 502,
        "{}",
        r.status()
    );
    let page = r.text().await.unwrap();
    assert!(page.contains(expected), "{expected}: {page}");
    for secret in ["temp-secret-", "token-secret-", "s3cret"] {
        assert!(!page.contains(secret), "no secret in the page: {page}");
    }
    let me = browser.get(&format!("{app}/me")).await;
    assert_eq!(me.status(), 401, "logged out");
}

#[rocket::async_test]
async fn an_oauth1_login_signs_every_request() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    assert!(callback.contains("oauth_verifier="), "{callback}");
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(location(&r), "/me");
    let me = browser.json(&format!("{app}/me")).await;
    assert_eq!(me["user"]["name"], "Ada Lovelace");
    assert_eq!(me["type"], "oauth1");
    let api = browser.json(&format!("{app}/api")).await;
    assert_eq!(api["id"], "o1-user");
    assert_eq!(o1.state.bad_signatures.load(Ordering::SeqCst), 0);
}

#[rocket::async_test]
async fn a_wrong_verifier_is_refused() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    let tampered = callback.replace("oauth_verifier=", "oauth_verifier=x");
    let r = browser.get(&tampered).await;
    assert_refused(&browser, &app, r, "verifier_invalid").await;
}

#[rocket::async_test]
async fn another_browsers_token_is_refused() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let victim = Browser::new();
    let callback = callback_url(&victim, &app).await;
    let attacker = Browser::new();
    let r = attacker.get(&callback).await;
    assert_refused(&attacker, &app, r, "expired").await;
}

#[rocket::async_test]
async fn provider_failures_are_4xx() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    for (mode, expected) in [
        (O1Mode::NoCallbackConfirmed, "oauth_callback_confirmed"),
        (O1Mode::Problem, "signature_invalid"),
        (O1Mode::Garbage, "oauth_token"),
        (O1Mode::Hang, "timed out"),
        (O1Mode::Huge, "exceeded"),
    ] {
        o1.set_mode(mode);
        let browser = Browser::new();
        let started = Instant::now();
        let r = browser.get(&format!("{app}/auth/o1/login")).await;
        assert!(started.elapsed() < Duration::from_secs(4), "{mode:?}");
        assert_refused(&browser, &app, r, expected).await;
    }
}

#[rocket::async_test]
async fn token_credentials_without_a_secret_are_refused() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    o1.set_mode(O1Mode::NoSecret);
    let r = browser.get(&callback).await;
    assert_refused(&browser, &app, r, "oauth_token_secret").await;
}

#[rocket::async_test]
async fn a_denied_authorization_is_a_cancelled_login() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let browser = Browser::new();
    let r = browser.get(&format!("{app}/auth/o1/login")).await;
    let authorize = format!("{}&deny=true", location(&r));
    let callback = location(&browser.get(&authorize).await);
    assert!(callback.contains("denied="), "{callback}");
    let r = browser.get(&callback).await;
    assert_refused(&browser, &app, r, "Login cancelled").await;
}

/// The black-box contract of `examples/oauth1_login.rs`.
#[rocket::async_test]
async fn oauth1_login_example_contract() {
    let o1 = start_o1().await;
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let table = o1_config(&o1, "idp", port);
    let mut config = format!("{header}\n[default.oauth.idp]\n");
    for (key, value) in table.as_object().unwrap() {
        config.push_str(&format!("{key} = {value}\n"));
    }
    let (_running, url) = crate::common::example::start("oauth1_login", &config, port).await;
    let browser = Browser::new();
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
    let r = browser.get(&format!("{url}/private")).await;
    assert_eq!(location(&r), "/auth/idp/login?next=/private");
    let (r, visited) = browser.follow(&url, &format!("{url}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    let me = browser.json(&format!("{url}/me")).await;
    assert_eq!(
        me,
        json!({"provider": "idp", "user": {"id": "o1-user", "name": "Ada Lovelace"}})
    );
}

/// RFC 5849 §3.5.3: the protocol parameters in the query, for providers that need it.
#[rocket::async_test]
async fn signatures_can_go_in_the_query() {
    let o1 = start_o1().await;
    let app = start_with(&o1, |mut config| {
        config["signature_placement"] = "query".into();
        config
    })
    .await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    assert_eq!(browser.get(&callback).await.status(), 303);
    let api = browser.json(&format!("{app}/api")).await;
    assert_eq!(api["id"], "o1-user");
    assert_eq!(o1.state.bad_signatures.load(Ordering::SeqCst), 0);
}

/// 2-legged: a call signed with the consumer's credentials only.
#[rocket::async_test]
async fn the_application_can_call_as_itself() {
    let o1 = start_o1().await;
    let app = start(&o1).await;
    let answer = Browser::new().json(&format!("{app}/as-app")).await;
    assert_eq!(answer["consumer"], crate::common::oauth1::CONSUMER_KEY);
}

/// Form bodies are signed (RFC 5849 §3.4.1.3.1), and the signature can go in the body too.
#[rocket::async_test]
async fn form_bodies_are_signed_and_can_carry_the_signature() {
    let o1 = start_o1().await;
    for placement in ["header", "form"] {
        let app = start_with(&o1, |mut config| {
            config["signature_placement"] = placement.into();
            config
        })
        .await;
        let browser = Browser::new();
        let callback = callback_url(&browser, &app).await;
        assert_eq!(browser.get(&callback).await.status(), 303, "{placement}");
        let echo = browser.json(&format!("{app}/api-form")).await;
        assert_eq!(
            echo,
            json!({"status": "hello world", "c@": "1+1"}),
            "{placement}"
        );
    }
    assert_eq!(o1.state.bad_signatures.load(Ordering::SeqCst), 0);
}
