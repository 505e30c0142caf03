//! The guards for many providers and for HTML pages, and the app's own session fields: on
//! the testing kit, through the real flow.

use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{Accept, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Build, Request, Rocket};
use rocket_oauth::session::SessionData;
use rocket_oauth::testing::{self, MockProvider, MockUser};
use rocket_oauth::{AnyUser, Denial, HasRole, Hooks, Login, OAuth2Provider, OrLogin, Staff, User};
use serde::{Deserialize, Serialize};

/// The app's own session fields.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Local {
    user_id: u64,
    tenant: String,
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "corp",
    authorize_url = "https://corp.invalid/a",
    token_url = "https://corp.invalid/t"
)]
struct Corp;

/// Keeps the app's local fields in each session.
struct LocalFields;

#[rocket::async_trait]
impl Hooks for LocalFields {
    async fn session_data(
        &self,
        login: &Login,
        _request: &Request<'_>,
    ) -> Result<Option<SessionData>, Denial> {
        let subject = login.identity().map_or("", |i| i.subject.as_str());
        if subject == "greedy" {
            // Too much for a session: the app's mistake shows as a refused login.
            return SessionData::new(&"x".repeat(5000))
                .map(Some)
                .map_err(|e| Denial::forbidden(e.to_string()));
        }
        let local = Local {
            user_id: subject.len() as u64,
            tenant: format!("{subject}-tenant"),
        };
        Ok(Some(SessionData::new(&local).expect("small")))
    }
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "lab",
    authorize_url = "https://lab.invalid/a",
    token_url = "https://lab.invalid/t"
)]
struct Lab;

#[get("/local")]
fn local(user: User<Corp>) -> Value {
    json!({ "data": user.token().data::<Local>(), "wrong type": user.token().data::<u64>() })
}

#[get("/anyone")]
fn anyone(user: AnyUser) -> Value {
    let providers: Vec<_> = user.providers().collect();
    json!({
        "providers": providers,
        "first": user.provider(),
        "subject": user.identity().map(|i| i.subject.clone()),
        "lab": user.login("lab").and_then(|l| l.identity()).map(|i| i.subject.clone()),
    })
}

#[get("/profile")]
fn profile(user: OrLogin<User<Corp>>) -> String {
    format!("profile of {}", user.subject)
}

#[get("/staff")]
fn staff(_staff: OrLogin<HasRole<Corp, Staff>>) -> &'static str {
    "staff only"
}

fn app(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(Corp.fairing().hooks(LocalFields))
        .attach(Lab.fairing())
        .mount("/", routes![local, anyone, profile, staff])
}

fn configured(mock: &MockProvider) -> Figment {
    let figment = mock.configure::<Corp>(testing::figment());
    mock.configure::<Lab>(figment).merge((
        "oauth.corp.access.roles.staff.emails",
        ["alice@example.com"],
    ))
}

async fn get_json(client: &Client, path: &str) -> (Status, Value) {
    let response = client.get(path).dispatch().await;
    let status = response.status();
    (status, response.into_json().await.unwrap_or_default())
}

#[rocket::async_test]
async fn any_user_lists_every_provider_logged_in() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("bob").email("bob@example.com"));
    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    assert_eq!(get_json(&client, "/anyone").await.0, Status::Unauthorized);

    mock.log_in::<Lab>(&client, "bob").await;
    let (status, one) = get_json(&client, "/anyone").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        one,
        json!({"providers": ["lab"], "first": "lab", "subject": "bob", "lab": "bob"})
    );

    mock.log_in::<Corp>(&client, "alice").await;
    let (_, both) = get_json(&client, "/anyone").await;
    assert_eq!(
        both,
        json!({"providers": ["corp", "lab"], "first": "corp", "subject": "alice", "lab": "bob"}),
        "attach order: corp first"
    );

    client.post("/auth/corp/logout").dispatch().await;
    let (_, after) = get_json(&client, "/anyone").await;
    assert_eq!(after["providers"], json!(["lab"]));
}

#[rocket::async_test]
async fn html_guards_redirect_to_the_login_and_roles_still_forbid() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("bob").email("bob@example.com"));
    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    for path in ["/profile", "/staff"] {
        let r = client.get(path).header(Accept::HTML).dispatch().await;
        assert_eq!(r.status(), Status::SeeOther, "{path}");
        assert_eq!(
            r.headers().get_one("Location"),
            Some(format!("/auth/corp/login?next={path}").as_str())
        );
    }
    mock.log_in::<Corp>(&client, "bob").await;
    let r = client.get("/profile").dispatch().await;
    assert_eq!(r.into_string().await.as_deref(), Some("profile of bob"));
    assert_eq!(
        client.get("/staff").dispatch().await.status(),
        Status::Forbidden,
        "logged in without the role: 403, not a redirect"
    );

    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    mock.log_in::<Corp>(&client, "alice").await;
    let r = client.get("/staff").dispatch().await;
    assert_eq!(r.into_string().await.as_deref(), Some("staff only"));
}

#[rocket::async_test]
async fn session_data_round_trips_through_cookies_stores_and_refreshes() {
    let mock = MockProvider::start();
    mock.script(|s| s.expires_in = Some(2));
    for store in ["cookie", "memory"] {
        let figment = configured(&mock).merge(("oauth.session.store", store));
        let client = Client::tracked(app(figment)).await.unwrap();
        mock.log_in::<Corp>(&client, "alice").await;
        let (status, body) = get_json(&client, "/local").await;
        assert_eq!(status, Status::Ok, "{store}");
        let expected = json!({"user_id": 5, "tenant": "alice-tenant"});
        assert_eq!(body["data"], expected, "{store}");
        assert_eq!(body["wrong type"], Value::Null, "{store}");
        // After a refresh, the fields are still there.
        let refreshes = mock.refresh_requests().len();
        rocket::tokio::time::sleep(Duration::from_millis(1500)).await;
        let (_, body) = get_json(&client, "/local").await;
        assert_eq!(body["data"], expected, "{store} after a refresh");
        assert_eq!(mock.refresh_requests().len(), refreshes + 1, "{store}");
    }
}

#[rocket::async_test]
async fn oversized_session_data_refuses_the_login() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("greedy"));
    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    let landing = mock.log_in::<Corp>(&client, "greedy").await;
    assert_eq!(landing.status, Status::Forbidden);
    assert!(
        landing.body.contains("exceeds the limit of 1024 bytes"),
        "{}",
        landing.body
    );
    assert_eq!(get_json(&client, "/local").await.0, Status::Unauthorized);
}

#[rocket::async_test]
async fn the_sign_in_page_lists_every_provider_and_carries_next() {
    let mock = MockProvider::start();
    let client = Client::tracked(app(configured(&mock))).await.unwrap();
    let page = client.get("/auth/login?next=/profile").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().await.unwrap();
    for (name, display) in [("corp", "corp"), ("lab", "lab")] {
        let link = format!("href=\"&#x2F;auth&#x2F;{name}&#x2F;login?next=%2Fprofile\"");
        assert!(html.contains(&link), "{link} in {html}");
        assert!(html.contains(&format!("Continue with {display}")), "{html}");
    }
    // An off-site `next` is dropped.
    let html = client
        .get("/auth/login?next=//evil.example")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!html.contains("evil"), "{html}");
    // Following a button logs in.
    let r = client
        .get("/auth/corp/login?next=%2Fprofile")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);

    // With one provider, the page goes straight to its login; the path is configurable.
    let figment = mock
        .configure::<Corp>(testing::figment())
        .merge(("oauth.signin.path", "/login"))
        .merge(("oauth.corp.display_name", "Corp SSO"));
    let rocket = rocket::custom(figment).attach(Corp.fairing().hooks(LocalFields));
    let client = Client::tracked(rocket).await.unwrap();
    let r = client.get("/login?next=/x").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/auth/corp/login?next=%2Fx")
    );
}

#[test]
fn presets_show_their_display_names() {
    use rocket_oauth::Provider;
    let defaults = <rocket_oauth::presets::GitHub as Provider>::defaults();
    let json = serde_json::to_value(&defaults).unwrap();
    assert_eq!(json["display_name"], "GitHub");
}
