// tests/login.rs of an app: the README's "Testing your app", compiled and run as written.
#[macro_use]
extern crate rocket;

use rocket::figment::Figment;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rocket::serde::json::json;
use rocket::{Build, Rocket};
use rocket_oauth::testing::{self, MockProvider, MockUser, TokenReply};
use rocket_oauth::{OAuth2Provider, User};

// The app (in a real project, in src/: build it from a figment so tests can configure it).
#[derive(OAuth2Provider)]
#[oauth(
    name = "corp",
    authorize_url = "https://login.corp.example/oauth/authorize",
    token_url = "https://login.corp.example/oauth/token",
    userinfo_url = "https://login.corp.example/api/me"
)]
struct Corp;

#[get("/dashboard")]
fn dashboard(user: User<Corp>) -> String {
    format!("Welcome, {}", user.subject)
}

fn app(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(Corp.fairing())
        .mount("/", routes![dashboard])
}

/// The app, with `corp` pointed at the mock: only example.com accounts get in.
fn configured(mock: &MockProvider) -> Figment {
    mock.configure::<Corp>(testing::figment()).merge((
        "oauth.corp.access",
        json!({ "policy": "listed", "domains": ["example.com"] }),
    ))
}

#[rocket::async_test]
async fn a_colleague_logs_in_and_sees_the_dashboard() {
    let mock = MockProvider::start(); // its current user: alice@example.com
    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    let page = client.get("/dashboard").dispatch().await;
    assert_eq!(page.status(), Status::Unauthorized);

    mock.log_in::<Corp>(&client, "alice").await;
    let page = client.get("/dashboard").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    assert_eq!(page.into_string().await.unwrap(), "Welcome, alice");
}

#[rocket::async_test]
async fn an_outsider_is_refused() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("mallory").email("mallory@elsewhere.example"));
    let client = Client::tracked(app(configured(&mock))).await.unwrap();

    let landing = mock.log_in::<Corp>(&client, "mallory").await;
    assert_eq!(landing.status, Status::Forbidden);
    assert!(landing.body.contains("Access denied"));
    let page = client.get("/dashboard").dispatch().await;
    assert_eq!(page.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn a_provider_outage_ends_on_the_error_page() {
    let mock = MockProvider::start();
    mock.script(|s| s.token = TokenReply::ServerError);
    let client = Client::tracked(app(configured(&mock))).await.unwrap();

    let landing = mock.log_in::<Corp>(&client, "alice").await;
    assert_eq!(landing.status, Status::BadGateway);
    assert!(landing.body.contains("Provider unavailable"));
    let page = client.get("/dashboard").dispatch().await;
    assert_eq!(page.status(), Status::Unauthorized);
}
