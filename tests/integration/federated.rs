//! Federated logout as a client, over loopback HTTP: the provider's back-channel logout
//! tokens (valid ones end the sessions they name, in every instance sharing the store; forged,
//! replayed, nonce-carrying, wrong-audience and expired ones are refused), and the
//! front-channel page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;
use rocket::figment::Figment;
use rocket::{get, routes, Request};
use rocket_oauth::testing::{self, Browser, MockProvider, MockUser};
use rocket_oauth::{AccessToken, Hooks, Login, Provider, ProviderDefaults};

struct Idp;

impl Provider for Idp {
    const NAME: &'static str = "idp";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config()
    }
}

/// Counts the sessions `after_logout` hears of.
struct Counting(Arc<AtomicUsize>);

#[rocket::async_trait]
impl Hooks for Counting {
    async fn after_logout(&self, login: Option<&Login>, _request: &Request<'_>) {
        if login.is_some() {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[get("/me")]
fn me(token: AccessToken<Idp>) -> String {
    token
        .identity()
        .map(|i| i.subject.clone())
        .unwrap_or_default()
}

struct App {
    url: String,
    logouts: Arc<AtomicUsize>,
}

impl App {
    fn backchannel(&self) -> String {
        format!("{}/auth/idp/backchannel-logout", self.url)
    }

    async fn me(&self, browser: &Browser) -> u16 {
        browser
            .get(&format!("{}/me", self.url))
            .await
            .status()
            .as_u16()
    }
}

async fn start(mock: &MockProvider, tweak: impl FnOnce(Figment) -> Figment) -> App {
    let logouts = Arc::new(AtomicUsize::new(0));
    let figment = mock
        .configure::<Idp>(testing::figment())
        .merge(("oauth.session.store", "memory"))
        .merge(("oauth.idp.backchannel_logout", true))
        .merge(("oauth.idp.frontchannel_logout", true));
    let rocket = rocket::custom(tweak(figment))
        .attach(Idp.fairing().hooks(Counting(logouts.clone())))
        .mount("/", routes![me]);
    App {
        url: launch(rocket).await,
        logouts,
    }
}

async fn logged_in(mock: &MockProvider, app: &App, user: &str) -> Browser {
    let browser = Browser::new();
    let landing = mock.log_in_http::<Idp>(&browser, &app.url, user).await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    assert_eq!(app.me(&browser).await, 200);
    browser
}

#[rocket::async_test]
async fn a_valid_logout_token_ends_every_session_of_its_provider_session() {
    let mock = MockProvider::start();
    mock.add_user(MockUser::new("bob"));
    let app = start(&mock, |f| f).await;
    let (first, second) = (
        logged_in(&mock, &app, "alice").await,
        logged_in(&mock, &app, "alice").await,
    );
    let bob = logged_in(&mock, &app, "bob").await;

    let response = reqwest::Client::new()
        .post(app.backchannel())
        .form(&[("logout_token", mock.logout_token("alice").encode())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(app.me(&first).await, 401);
    assert_eq!(app.me(&second).await, 401);
    assert_eq!(app.me(&bob).await, 200, "another user's session stays");
    assert_eq!(
        app.logouts.load(Ordering::SeqCst),
        2,
        "after_logout for each"
    );
}

#[rocket::async_test]
async fn a_logout_token_ends_only_the_provider_session_it_names() {
    let mock = MockProvider::start();
    let app = start(&mock, |f| f).await;
    let old_sid = mock.provider_session("alice");
    let old = logged_in(&mock, &app, "alice").await;
    mock.new_provider_session("alice");
    let new = logged_in(&mock, &app, "alice").await;

    let token = mock.logout_token("alice").claim("sid", old_sid.as_str());
    assert_eq!(token.post_to(&app.backchannel()).await.0, 200);
    assert_eq!(app.me(&old).await, 401);
    assert_eq!(
        app.me(&new).await,
        200,
        "the user's other provider session stays"
    );

    // A token naming only the provider session (no `sub`) finds it too.
    let token = mock.logout_token("alice").without("sub");
    assert_eq!(token.post_to(&app.backchannel()).await.0, 200);
    assert_eq!(app.me(&new).await, 401);

    // A token naming only the user ends all of their sessions.
    let again = logged_in(&mock, &app, "alice").await;
    let token = mock.logout_token("alice").without("sid");
    assert_eq!(token.post_to(&app.backchannel()).await.0, 200);
    assert_eq!(app.me(&again).await, 401);
}

/// Files the user's sessions under an id of the app's own, not the provider's `sub`.
struct LocalIds;

#[rocket::async_trait]
impl Hooks for LocalIds {
    async fn identify(
        &self,
        login: &Login,
        _api: &rocket_oauth::ApiClient<'_>,
    ) -> Result<Option<rocket_oauth::Identity>, rocket_oauth::Denial> {
        let sub = &login
            .identity()
            .expect("an OpenID Connect identity")
            .subject;
        Ok(Some(rocket_oauth::Identity::new(format!("local-{sub}"))))
    }
}

/// A logout token names the provider's `sub` and `sid`; the app's sessions are filed under
/// its own ids (`Hooks::identify`): the token still finds them, by either claim.
#[rocket::async_test]
async fn a_logout_token_finds_sessions_the_app_files_under_its_own_ids() {
    let mock = MockProvider::start();
    let figment = mock
        .configure::<Idp>(testing::figment())
        .merge(("oauth.session.store", "memory"))
        .merge(("oauth.idp.backchannel_logout", true));
    let rocket = rocket::custom(figment)
        .attach(Idp.fairing().hooks(LocalIds))
        .mount("/", routes![me]);
    let app = App {
        url: launch(rocket).await,
        logouts: Arc::default(),
    };
    for token in [
        mock.logout_token("alice"),
        mock.logout_token("alice").without("sid"),
        mock.logout_token("alice").without("sub"),
    ] {
        let browser = logged_in(&mock, &app, "alice").await;
        let me = browser.get(&format!("{}/me", app.url)).await;
        assert_eq!(me.text().await.unwrap(), "local-alice");
        assert_eq!(token.post_to(&app.backchannel()).await.0, 200);
        assert_eq!(app.me(&browser).await, 401);
    }
}

#[rocket::async_test]
async fn forged_replayed_nonce_carrying_wrong_audience_and_expired_tokens_are_refused() {
    let mock = MockProvider::start();
    let app = start(&mock, |f| f).await;
    let browser = logged_in(&mock, &app, "alice").await;
    let now = unix_now();
    let token = || mock.logout_token("alice");
    let refused = [
        ("forged", token().forged()),
        ("nonce", token().claim("nonce", "n-1")),
        ("audience", token().claim("aud", "another-client")),
        (
            "expired",
            token().claim("iat", now - 600).claim("exp", now - 300),
        ),
        ("issuer", token().claim("iss", "https://evil.example")),
        ("no event", token().without("events")),
        ("no jti", token().without("jti")),
        ("nobody", token().without("sub").without("sid")),
    ];
    for (what, token) in refused {
        let (status, body) = token.post_to(&app.backchannel()).await;
        assert_eq!(status, 400, "{what}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "invalid_request", "{what}");
        assert_eq!(app.me(&browser).await, 200, "{what} ended the session");
    }
    // Not a token, not a form, no form at all: 400 too.
    let client = reqwest::Client::new();
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            "logout_token=not.a.jwt",
        ),
        ("application/x-www-form-urlencoded", "other=1"),
        ("application/json", r#"{"logout_token":"x"}"#),
        ("application/x-www-form-urlencoded", "logout_token=%FF%FE"),
    ] {
        let r = client
            .post(app.backchannel())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    assert_eq!(app.me(&browser).await, 200);

    // The valid token works once; its replay is refused.
    let valid = token();
    assert_eq!(valid.post_to(&app.backchannel()).await.0, 200);
    assert_eq!(app.me(&browser).await, 401);
    let again = logged_in(&mock, &app, "alice").await;
    let (status, body) = valid.post_to(&app.backchannel()).await;
    assert_eq!(status, 400, "a replay: {body}");
    assert!(body.contains("invalid_request"), "{body}");
    assert_eq!(app.me(&again).await, 200, "a replay ends nothing");
}

#[rocket::async_test]
async fn the_frontchannel_page_ends_the_browsers_provider_session() {
    let mock = MockProvider::start();
    let app = start(&mock, |f| f).await;
    let browser = logged_in(&mock, &app, "alice").await;
    let sid = mock.provider_session("alice");
    let page = |iss: &str, sid: &str| {
        format!(
            "{}/auth/idp/frontchannel-logout?iss={}&sid={}",
            app.url,
            urlencode(iss),
            urlencode(sid)
        )
    };
    let r = browser.get(&page("https://evil.example", &sid)).await;
    assert_eq!(r.status(), 400, "another issuer's");
    assert_eq!(app.me(&browser).await, 200);
    // §2: `iss` and `sid` come together, or not at all.
    let only_sid = format!(
        "{}/auth/idp/frontchannel-logout?sid={}",
        app.url,
        urlencode(&sid)
    );
    assert_eq!(
        browser.get(&only_sid).await.status(),
        400,
        "sid without iss"
    );
    let only_iss = format!(
        "{}/auth/idp/frontchannel-logout?iss={}",
        app.url,
        urlencode(&mock.issuer())
    );
    assert_eq!(
        browser.get(&only_iss).await.status(),
        400,
        "iss without sid"
    );
    assert_eq!(app.me(&browser).await, 200);
    let r = browser.get(&page(&mock.issuer(), "another-sid")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.me(&browser).await, 200, "another provider session's");

    let r = browser.get(&page(&mock.issuer(), &sid)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache, no-store");
    assert_eq!(r.headers()["pragma"], "no-cache");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, format!("frame-ancestors 'self' {}", mock.url()));
    assert_eq!(app.me(&browser).await, 401);
    assert_eq!(app.logouts.load(Ordering::SeqCst), 1);

    // A browser whose cookie does not reach the provider's iframe (third-party cookies
    // blocked) is logged out through the store, by `sid`.
    let other = logged_in(&mock, &app, "alice").await;
    let r = Browser::new().get(&page(&mock.issuer(), &sid)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.me(&other).await, 401);
}

#[rocket::async_test]
async fn backchannel_logout_with_cookie_sessions_fails_at_ignite_naming_the_fix() {
    let mock = MockProvider::start();
    let figment = mock
        .configure::<Idp>(testing::figment())
        .merge(("oauth.idp.backchannel_logout", true));
    let error = rocket::custom(figment)
        .attach(Idp.fairing())
        .ignite()
        .await
        .expect_err("cookie sessions cannot be ended from outside");
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
    // Front-channel logout alone works with cookie sessions (same-site providers).
    let figment = mock
        .configure::<Idp>(testing::figment())
        .merge(("oauth.idp.frontchannel_logout", true));
    let ok = rocket::custom(figment).attach(Idp.fairing()).ignite().await;
    assert!(ok.is_ok());
}

/// Two instances sharing Redis: a logout token posted to one ends the session in both.
#[cfg(feature = "redis")]
#[rocket::async_test]
async fn a_logout_at_one_instance_ends_the_session_in_every_instance() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL is not set (a Redis server for the shared session store)");
        return;
    };
    let mock = MockProvider::start();
    let shared = |f: Figment| {
        // One secret key: every instance reads the others' cookies.
        f.merge(("oauth.session.store", "redis"))
            .merge(("oauth.session.url", url.clone()))
            .merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="))
    };
    let (one, two) = (start(&mock, shared).await, start(&mock, shared).await);
    let browser = logged_in(&mock, &one, "alice").await;
    // The browser's cookies go to both instances (same host, other port).
    assert_eq!(two.me(&browser).await, 200, "the session is shared");
    assert_eq!(
        mock.logout_token("alice")
            .post_to(&one.backchannel())
            .await
            .0,
        200
    );
    assert_eq!(two.me(&browser).await, 401);
    assert_eq!(one.me(&browser).await, 401);
}
