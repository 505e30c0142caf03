//! The testing kit's own tests: its login helpers (local async and blocking clients, a real
//! HTTP browser) for each protocol, its scripts, records, endpoints, refresh, revocation and
//! keys, used the way an app's tests use them.

use std::time::Duration;

use rocket::http::{Method, Status};
use rocket::local::{asynchronous, blocking};
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Build, Rocket};
use rocket_oauth::testing::{
    self, AuthorizeReply, Browser, EndpointReply, LoginAs, MockProvider, MockResponse, MockUser,
    RefreshReply, TokenReply, CLIENT_ID, CLIENT_SECRET,
};
use rocket_oauth::{AccessToken, ApiClient, OAuth1Provider, OAuth2Provider, User};

#[derive(OAuth2Provider)]
#[oauth(
    name = "corp",
    authorize_url = "https://corp.invalid/authorize",
    token_url = "https://corp.invalid/token",
    scopes("profile")
)]
struct Corp;

#[derive(OAuth1Provider)]
#[oauth(
    name = "legacy",
    request_token_url = "https://legacy.invalid/request_token",
    authorize_url = "https://legacy.invalid/authorize",
    access_token_url = "https://legacy.invalid/access_token"
)]
struct Legacy;

#[get("/whoami")]
fn whoami(user: User<Corp>) -> Value {
    json!({ "subject": user.subject, "email": user.verified_email(), "groups": user.groups })
}

#[get("/legacy")]
fn legacy(token: AccessToken<Legacy>) -> Value {
    json!({ "user": token.userinfo() })
}

#[get("/corp-token")]
fn corp_token(_token: AccessToken<Corp>) -> &'static str {
    "ok"
}

#[get("/repos")]
async fn repos(client: ApiClient<'_, Corp>) -> Result<Value, String> {
    let response = client.get("repos").await.map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::error::ApiError| e.to_string())
}

/// The provider's API the `/repos` route calls: the bearer's repositories.
fn serve_repos(mock: &MockProvider) {
    mock.endpoint(Method::Get, "/repos", |request| match request.user() {
        Some(user) => MockResponse::json(json!([{ "owner": user.subject() }])),
        None => MockResponse::unauthorized(),
    });
}

fn app(figment: rocket::figment::Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(Corp.fairing())
        .attach(Legacy.fairing())
        .mount("/", routes![whoami, legacy, repos, corp_token])
}

fn configured(mock: &MockProvider) -> rocket::figment::Figment {
    let figment = mock.configure::<Corp>(testing::figment());
    mock.configure::<Legacy>(figment)
        .merge(("oauth.corp.timeout", 1))
}

#[rocket::async_test]
async fn an_async_client_logs_in_as_any_user_through_the_real_flow() {
    let mock = MockProvider::start();
    mock.add_user(
        MockUser::new("bob")
            .email("bob@example.com")
            .groups(["staff"]),
    );
    let client = asynchronous::Client::tracked(app(configured(&mock)))
        .await
        .unwrap();
    let landing = mock.log_in::<Corp>(&client, "bob").await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    let who: Value = client
        .get("/whoami")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(
        who,
        json!({"subject": "bob", "email": "bob@example.com", "groups": ["staff"]})
    );
    // What the provider received: an authorization request with PKCE, a token request
    // with the client's credentials and the verifier, a userinfo call.
    let authorize = &mock.requests_to("/authorize")[0];
    assert_eq!(
        authorize.query_param("code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(authorize.query_param("scope").as_deref(), Some("profile"));
    let token = &mock.requests_to("/token")[0];
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert!(token.form_param("code_verifier").is_some());
    assert_eq!(mock.requests_to("/userinfo").len(), 1);
}

#[test]
fn a_blocking_client_logs_in_and_a_refused_user_stays_out() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("eve").email("eve@elsewhere.example"));
    let figment = configured(&mock).merge((
        "oauth.corp.access",
        json!({"policy": "listed", "domains": ["example.com"]}),
    ));
    let client = blocking::Client::tracked(app(figment.clone())).unwrap();
    mock.log_in_blocking::<Corp>(&client, "alice");
    assert_eq!(client.get("/whoami").dispatch().status(), Status::Ok);

    let client = blocking::Client::tracked(app(figment)).unwrap();
    let landing = mock.log_in_blocking::<Corp>(&client, "eve");
    assert_eq!(landing.status, Status::Forbidden);
    assert!(landing.body.contains("Access denied"), "{}", landing.body);
    assert_eq!(
        client.get("/whoami").dispatch().status(),
        Status::Unauthorized
    );
}

/// Issue 26, item 4: one `log_in` call goes through the confirmation page (`confirm =
/// true`) and lands on `next`, for each kind of client.
#[rocket::async_test]
async fn logins_go_through_the_confirmation_page_to_next() {
    let mock = MockProvider::start();
    let figment = configured(&mock).merge(("oauth.corp.confirm", true));
    let to_whoami = || LoginAs::user("alice").next("/whoami");

    let client = asynchronous::Client::tracked(app(figment.clone()))
        .await
        .unwrap();
    let landing = mock.log_in::<Corp>(&client, to_whoami()).await;
    assert_eq!(landing.status, Status::SeeOther, "{}", landing.body);
    assert_eq!(landing.location.as_deref(), Some("/whoami"));
    assert_eq!(client.get("/whoami").dispatch().await.status(), Status::Ok);

    let url = testing::serve(app(figment.clone())).await;
    let browser = Browser::new();
    let landing = mock.log_in_http::<Corp>(&browser, &url, to_whoami()).await;
    assert_eq!(
        landing.location.as_deref(),
        Some("/whoami"),
        "{}",
        landing.body
    );
    assert_eq!(browser.get(&format!("{url}/whoami")).await.status(), 200);

    // Plain user names still work, and the blocking client confirms too.
    let handle = rocket::tokio::task::spawn_blocking(move || {
        let client = blocking::Client::tracked(app(figment)).unwrap();
        let landing = mock.log_in_blocking::<Corp>(&client, "alice");
        let whoami = client.get("/whoami").dispatch().status();
        (landing.status, whoami)
    });
    assert_eq!(handle.await.unwrap(), (Status::Ok, Status::Ok));
}

#[rocket::async_test]
async fn a_browser_logs_in_over_http_with_oauth1() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("ada").name("Ada Lovelace"));
    let url = testing::serve(app(configured(&mock))).await;
    let browser = Browser::new();
    let landing = mock.log_in_http::<Legacy>(&browser, &url, "ada").await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    let me: Value = browser
        .get(&format!("{url}/legacy"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"], json!({"id": "ada", "name": "Ada Lovelace"}));
    assert_eq!(mock.bad_signatures(), 0);
    // The whole exchange reached the provider over HTTP.
    for path in [
        "/oauth1/request_token",
        "/oauth1/authorize",
        "/oauth1/access_token",
        "/oauth1/userinfo",
    ] {
        assert_eq!(mock.requests_to(path).len(), 1, "{path}");
    }
}

#[rocket::async_test]
async fn scripted_failures_end_on_the_error_page() {
    let mock = MockProvider::start();
    let client = asynchronous::Client::tracked(app(configured(&mock)))
        .await
        .unwrap();
    type Change = Box<dyn Fn(&mut testing::Script)>;
    let cases: Vec<(Change, Status, &str)> = vec![
        (
            Box::new(|s| s.authorize = AuthorizeReply::Deny { description: None }),
            Status::Forbidden,
            "Login cancelled",
        ),
        (
            Box::new(|s| {
                s.authorize = AuthorizeReply::Error {
                    error: "invalid_scope".into(),
                    description: None,
                }
            }),
            Status::BadRequest,
            "invalid_scope",
        ),
        (
            Box::new(|s| s.token = TokenReply::ServerError),
            Status::BadGateway,
            "Provider unavailable",
        ),
        (
            Box::new(|s| s.token = TokenReply::Hang),
            Status::BadGateway,
            "timed out",
        ),
        (
            Box::new(|s| s.userinfo = EndpointReply::NotJson),
            Status::BadGateway,
            "Provider unavailable",
        ),
    ];
    for (script, status, text) in cases {
        mock.script(|s| *s = testing::Script::default());
        mock.script(script);
        let landing = mock.log_in::<Corp>(&client, "alice").await;
        assert_eq!(landing.status, status, "{text}: {}", landing.body);
        assert!(landing.body.contains(text), "{text}: {}", landing.body);
        assert_eq!(
            client.get("/whoami").dispatch().await.status(),
            Status::Unauthorized
        );
    }
    // An unknown user: the provider's own error page.
    mock.script(|s| *s = testing::Script::default());
    let landing = mock.log_in::<Corp>(&client, "nobody").await;
    assert_eq!(landing.status, Status::BadRequest);
    assert!(landing.body.contains("no such user"));
}

#[rocket::async_test]
async fn endpoints_see_the_user_of_the_token() {
    let mock = MockProvider::start();
    serve_repos(&mock);
    let client = asynchronous::Client::tracked(app(configured(&mock)))
        .await
        .unwrap();
    mock.log_in::<Corp>(&client, "alice").await;
    let repos: Value = client
        .get("/repos")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(repos, json!([{ "owner": "alice" }]));
    // Without a token, the endpoint answers 401; unknown paths 404.
    let browser = Browser::new();
    let r = browser.get(&format!("{}/repos", mock.url())).await;
    assert_eq!(r.status(), 401);
    let r = browser.get(&format!("{}/nothing-here", mock.url())).await;
    assert_eq!(r.status(), 404);
}

#[rocket::async_test]
async fn a_slow_provider_still_logs_in_and_expired_tokens_are_refreshed() {
    let mock = MockProvider::start();
    serve_repos(&mock);
    mock.script(|s| {
        s.token = TokenReply::Slow(Duration::from_millis(300));
        s.userinfo = EndpointReply::Slow(Duration::from_millis(300));
    });
    let client = asynchronous::Client::tracked(app(configured(&mock)))
        .await
        .unwrap();
    let landing = mock.log_in::<Corp>(&client, "alice").await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    // The provider expires the token early: the API answers 401, the app refreshes once
    // and retries.
    mock.expire_access_tokens();
    let repos: Value = client
        .get("/repos")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(repos, json!([{ "owner": "alice" }]));
    assert_eq!(mock.refresh_requests().len(), 1);
    assert_eq!(mock.requests_to("/repos").len(), 2);
}

/// Token requests straight to the mock, as a client would make them.
async fn token_request(mock: &MockProvider, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", mock.url()))
        .basic_auth(
            CLIENT_ID,
            Some(
                url::form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>(),
            ),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Logs in with tokens that live 2 s and uses the session until it was refreshed twice:
/// the client, and the refresh tokens the two refreshes used.
async fn two_refreshes(mock: &MockProvider) -> (asynchronous::Client, Vec<String>) {
    mock.script(|s| s.expires_in = Some(2));
    let client = asynchronous::Client::tracked(app(configured(mock)))
        .await
        .unwrap();
    mock.log_in::<Corp>(&client, "alice").await;
    for _ in 0..2 {
        rocket::tokio::time::sleep(Duration::from_millis(1500)).await;
        let r = client.get("/corp-token").dispatch().await;
        assert_eq!(r.status(), Status::Ok);
    }
    let used: Vec<String> = mock
        .refresh_requests()
        .iter()
        .filter_map(|r| r.form_param("refresh_token"))
        .collect();
    assert_eq!(used.len(), 2, "{used:?}");
    (client, used)
}

#[rocket::async_test]
async fn refresh_tokens_rotate_and_logout_revokes() {
    let mock = MockProvider::start();
    let (client, used) = two_refreshes(&mock).await;
    assert_ne!(used[0], used[1], "each refresh brought a new refresh token");
    // The spent one is refused.
    let (status, body) = token_request(
        &mock,
        &[("grant_type", "refresh_token"), ("refresh_token", &used[0])],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Logging out revokes the tokens at the provider (in the background).
    let r = client.post("/auth/corp/logout").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    for _ in 0..50 {
        if mock.revoked_tokens().len() == 2 {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let revoked = mock.revoked_tokens();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    let (status, _) = token_request(
        &mock,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &revoked[1]),
        ],
    )
    .await;
    assert_eq!(status, 400, "a revoked refresh token is dead");
}

#[rocket::async_test]
async fn kept_refresh_tokens_are_reused() {
    let mock = MockProvider::start();
    mock.script(|s| s.refresh = RefreshReply::KeepRefreshToken);
    let (_, used) = two_refreshes(&mock).await;
    assert_eq!(used[0], used[1]);
}

#[rocket::async_test]
async fn form_post_providers_are_logged_in_too() {
    let mock = MockProvider::start();
    let figment = configured(&mock).merge(("oauth.corp.form_post", true));
    // form_post callbacks are cross-site POSTs: the attempt cookie must be SameSite=None,
    // which needs Secure, which the local client sends over plain HTTP as any other.
    let client = asynchronous::Client::tracked(app(figment)).await.unwrap();
    let landing = mock.log_in::<Corp>(&client, "alice").await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    let form = mock.requests_to("/authorize")[0].query_param("response_mode");
    assert_eq!(form.as_deref(), Some("form_post"));
    assert_eq!(client.get("/whoami").dispatch().await.status(), Status::Ok);
}

#[cfg(feature = "oidc")]
mod oidc {
    use super::*;
    use rocket_oauth::OidcProvider;

    #[derive(OidcProvider)]
    #[oauth(name = "sso", issuer = "https://sso.invalid", scopes("email"))]
    struct Sso;

    #[get("/sso")]
    fn sso(user: User<Sso>) -> Value {
        json!({ "subject": user.subject, "email": user.verified_email() })
    }

    #[test]
    fn an_oidc_login_validates_a_signed_id_token() {
        let mock = MockProvider::start();
        let figment = mock.configure::<Sso>(testing::figment());
        let rocket = rocket::custom(figment)
            .attach(Sso.fairing())
            .mount("/", routes![sso]);
        let client = blocking::Client::tracked(rocket).unwrap();
        let landing = mock.log_in_blocking::<Sso>(&client, "alice");
        assert_eq!(landing.status, Status::Ok, "{}", landing.body);
        let who: Value = client.get("/sso").dispatch().into_json().unwrap();
        assert_eq!(
            who,
            json!({"subject": "alice", "email": "alice@example.com"})
        );
        let authorize = &mock.requests_to("/authorize")[0];
        assert!(authorize.query_param("nonce").is_some());
        assert_eq!(
            authorize.query_param("scope").as_deref(),
            Some("openid email")
        );
        assert_eq!(mock.requests_to("/jwks").len(), 1);
    }

    #[rocket::async_test]
    async fn the_jwks_rotates_and_publishes_only_public_keys() {
        let mock = MockProvider::start();
        let browser = Browser::new();
        let jwks = |browser: Browser, url: String| async move {
            let keys: Value = browser
                .get(&format!("{url}/jwks"))
                .await
                .json()
                .await
                .unwrap();
            keys
        };
        let before = jwks(browser.clone(), mock.url().to_owned()).await;
        mock.rotate_keys();
        let after = jwks(browser, mock.url().to_owned()).await;
        let kids = |keys: &Value| -> Vec<String> {
            keys["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(kids(&before), ["rsa-0", "ed25519-0"]);
        assert_eq!(kids(&after), ["rsa-1", "ed25519-0"]);
        for key in before["keys"].as_array().unwrap() {
            assert!(key.get("d").is_none(), "no private part: {key}");
        }
    }
}

/// The README's "Testing your app" is `tests/readme_testing.rs`, which runs as written.
#[test]
fn the_readme_shows_the_test_file_that_runs() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let file = std::fs::read_to_string(format!("{root}/tests/readme_testing.rs")).unwrap();
    assert!(
        readme.contains(&format!("```rust\n{file}```")),
        "README.md's \"Testing your app\" block differs from tests/readme_testing.rs"
    );
}
