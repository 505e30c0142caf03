//! OAuth 1.0a over loopback HTTP, against the testing kit's mock provider (whose signature
//! check is written from RFC 5849, independently of the signing code): the login, signed API
//! calls, and every failure a 4xx with the visitor logged out and no secret in a URL or page.

use std::time::{Duration, Instant};

use crate::common::*;
use rocket::http::Method;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_oauth::api::ApiHandle;
use rocket_oauth::error::ApiError;
use rocket_oauth::oauth1::ConsumerClient;
use rocket_oauth::testing::{AuthorizeReply, OAuth1Reply, CLIENT_ID};
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
        .map_err(|e: rocket_oauth::error::ApiError| e.to_string())
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
        .map_err(|e: rocket_oauth::error::ApiError| e.to_string())
}

/// A call as the application itself (2-legged), outside any session: the kit's guard.
#[get("/as-app")]
async fn as_app(client: ConsumerClient<'_, O1Idp>) -> Result<Value, ApiError> {
    client.get("oauth1/app").await?.json()
}

/// The same from a spawned task, with the owned handle.
#[get("/as-app-later")]
async fn as_app_later(handle: ApiHandle<O1Idp>) -> Result<Value, ApiError> {
    let job = rocket::tokio::spawn(async move { handle.consumer().get("oauth1/app").await });
    job.await.expect("the job")?.json()
}

/// The mock provider with Ada signed in, and two API endpoints: `POST /oauth1/form` echoes
/// the form's own fields of a request signed with token credentials, `GET /oauth1/app`
/// answers a request signed by the consumer alone.
fn start_o1() -> MockProvider {
    let o1 = MockProvider::start();
    o1.add_user(MockUser::new("o1-user").name("Ada Lovelace"));
    o1.set_current_user("o1-user");
    o1.endpoint(Method::Post, "/oauth1/form", |request| {
        if request.user().is_none() {
            return MockResponse::json(json!({"error": "bad signature"})).status(401);
        }
        let fields: serde_json::Map<String, Value> = request
            .request()
            .form_params()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("oauth_"))
            .map(|(k, v)| (k, v.into()))
            .collect();
        MockResponse::json(Value::Object(fields))
    });
    o1.endpoint(Method::Get, "/oauth1/app", |request| {
        if !request.consumer_signed() {
            return MockResponse::json(json!({"error": "bad signature"})).status(401);
        }
        MockResponse::json(json!({ "consumer": CLIENT_ID }))
    });
    o1
}

/// The `oauth.<name>` table for an app at `port`: the kit's, with a userinfo URL that has
/// a query (signed too) and a short timeout.
fn o1_config(o1: &MockProvider, name: &str, port: u16) -> Value {
    let mut table = o1.provider_config::<O1Idp>(
        &format!("http://127.0.0.1:{port}"),
        &format!("/auth/{name}"),
    );
    table["userinfo_url"] = format!("{}/oauth1/userinfo?fields=id,name", o1.url()).into();
    table["timeout"] = 2.into();
    table
}

async fn start(o1: &MockProvider) -> String {
    start_with(o1, |config| config).await
}

async fn start_with(o1: &MockProvider, tweak: impl FnOnce(Value) -> Value) -> String {
    let port = free_port();
    let config = tweak(o1_config(o1, "o1", port));
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.o1", config));
    launch(
        rocket::custom(figment)
            .attach(O1Idp.fairing())
            .mount("/", routes![me, api, api_form, as_app, as_app_later]),
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
    assert!(r.status().is_redirection(), "{}", r.status());
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
    let o1 = start_o1();
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
    assert_eq!(o1.bad_signatures(), 0);
}

#[rocket::async_test]
async fn a_wrong_verifier_is_refused() {
    let o1 = start_o1();
    let app = start(&o1).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    let tampered = callback.replace("oauth_verifier=", "oauth_verifier=x");
    let r = browser.get(&tampered).await;
    assert_refused(&browser, &app, r, "verifier_invalid").await;
}

#[rocket::async_test]
async fn another_browsers_token_is_refused() {
    let o1 = start_o1();
    let app = start(&o1).await;
    let victim = Browser::new();
    let callback = callback_url(&victim, &app).await;
    let attacker = Browser::new();
    let r = attacker.get(&callback).await;
    assert_refused(&attacker, &app, r, "expired").await;
}

#[rocket::async_test]
async fn provider_failures_are_4xx() {
    let o1 = start_o1();
    let app = start(&o1).await;
    for (mode, expected) in [
        (
            OAuth1Reply::CallbackNotConfirmed,
            "oauth_callback_confirmed",
        ),
        (
            OAuth1Reply::Problem("signature_invalid".into()),
            "signature_invalid",
        ),
        (OAuth1Reply::NotForm, "oauth_token"),
        (OAuth1Reply::Hang, "timed out"),
        (OAuth1Reply::Oversized, "exceeded"),
    ] {
        o1.script(|s| s.oauth1 = mode.clone());
        let browser = Browser::new();
        let started = Instant::now();
        let r = browser.get(&format!("{app}/auth/o1/login")).await;
        assert!(started.elapsed() < Duration::from_secs(4), "{mode:?}");
        assert_refused(&browser, &app, r, expected).await;
    }
}

#[rocket::async_test]
async fn token_credentials_without_a_secret_are_refused() {
    let o1 = start_o1();
    let app = start(&o1).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app).await;
    o1.script(|s| s.oauth1 = OAuth1Reply::NoTokenSecret);
    let r = browser.get(&callback).await;
    assert_refused(&browser, &app, r, "oauth_token_secret").await;
}

#[rocket::async_test]
async fn a_denied_authorization_is_a_cancelled_login() {
    let o1 = start_o1();
    let app = start(&o1).await;
    let browser = Browser::new();
    o1.script(|s| s.authorize = AuthorizeReply::Deny { description: None });
    let r = browser.get(&format!("{app}/auth/o1/login")).await;
    let authorize = location(&r);
    let callback = location(&browser.get(&authorize).await);
    assert!(callback.contains("denied="), "{callback}");
    let r = browser.get(&callback).await;
    assert_refused(&browser, &app, r, "Login cancelled").await;
}

/// The black-box contract of `examples/oauth1_login.rs`.
#[rocket::async_test]
async fn oauth1_login_example_contract() {
    let o1 = start_o1();
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
    let (r, visited) = browser.follow(&format!("{url}/private")).await;
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
    let o1 = start_o1();
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
    assert_eq!(o1.bad_signatures(), 0);
}

/// 2-legged: a call signed with the consumer's credentials only.
#[rocket::async_test]
async fn the_application_can_call_as_itself() {
    let o1 = start_o1();
    let app = start(&o1).await;
    let answer = Browser::new().json(&format!("{app}/as-app")).await;
    assert_eq!(answer["consumer"], CLIENT_ID);
    let answer = Browser::new().json(&format!("{app}/as-app-later")).await;
    assert_eq!(answer["consumer"], CLIENT_ID);
}

/// Form bodies are signed (RFC 5849 §3.4.1.3.1), and the signature can go in the body too.
#[rocket::async_test]
async fn form_bodies_are_signed_and_can_carry_the_signature() {
    let o1 = start_o1();
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
    assert_eq!(o1.bad_signatures(), 0);
}

/// Issue 25, item 6: every `GET login` costs a signed request-token call at the provider, so
/// logins that begin are bounded per client address (`login_calls_per_client`, 20 a minute)
/// and overall (`login_calls_per_minute`, 600): a flood gets `429` and spends no more.
#[rocket::async_test]
async fn a_flood_of_logins_spends_a_bounded_number_of_provider_calls() {
    let o1 = start_o1();
    let app = start_with(&o1, |mut config| {
        config["login_calls_per_client"] = 5.into();
        config
    })
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = client
            .get(format!("{app}/auth/o1/login"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [303, 303, 303, 303, 303, 429, 429, 429]);
    assert_eq!(o1.requests_to("/oauth1/request_token").len(), 5);
    // The overall bound holds whatever the clients.
    let o1 = start_o1();
    let app = start_with(&o1, |mut config| {
        config["login_calls_per_minute"] = 2.into();
        config
    })
    .await;
    for expected in [303, 303, 429] {
        let r = client
            .get(format!("{app}/auth/o1/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expected);
    }
    assert_eq!(o1.requests_to("/oauth1/request_token").len(), 2);
}
