//! Providers listed in configuration (`oauth.providers.<name>`), named at run time through
//! the `Providers` guard: logins over real loopback HTTP with two listed providers (OAuth 2
//! and OpenID Connect) beside a typed one, per-provider sessions, API clients, hooks, the
//! redirect for page navigations, and what fails launch.

use std::sync::{Arc, Mutex};

use rocket::error::ErrorKind;
use rocket::http::Method;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Request};
use rocket_oauth::config::Protocol;
use rocket_oauth::guards::NotLoggedIn;
use rocket_oauth::testing::{self, Browser, MockProvider, MockResponse, MockUser};
use rocket_oauth::{AnyUser, Denial, Hooks, Login, OAuth2Provider, Providers, User};

#[derive(OAuth2Provider)]
#[oauth(
    name = "corp",
    authorize_url = "https://corp.invalid/authorize",
    token_url = "https://corp.invalid/token"
)]
struct Corp;

#[get("/t/<tenant>/me")]
async fn me(providers: Providers<'_>, tenant: &str) -> Result<String, NotLoggedIn> {
    let user = providers.require_user(tenant).await?;
    Ok(format!("{} at {}", user.subject, user.provider()))
}

#[get("/t/<tenant>/repos")]
async fn repos(providers: Providers<'_>, tenant: &str) -> Option<Value> {
    let client = providers.api(tenant).await?;
    client.get("repos").await.ok()?.json().ok()
}

#[get("/listed")]
fn listed(providers: Providers<'_>) -> Value {
    json!(providers.names().collect::<Vec<_>>())
}

#[get("/anyone")]
fn anyone(user: AnyUser) -> Value {
    json!(user.providers().collect::<Vec<_>>())
}

#[get("/corp")]
fn corp(user: User<Corp>) -> String {
    user.subject.clone()
}

/// Records `(provider, event)` for each login and logout: the hooks are made per listed
/// provider, with its name.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<(String, &'static str)>>>);

struct TenantHooks {
    tenant: String,
    events: Events,
}

#[rocket::async_trait]
impl Hooks for TenantHooks {
    async fn after_login(&self, _login: &Login, _req: &Request<'_>) -> Result<(), Denial> {
        self.events
            .0
            .lock()
            .unwrap()
            .push((self.tenant.clone(), "login"));
        Ok(())
    }

    async fn after_logout(&self, _login: Option<&Login>, _req: &Request<'_>) {
        self.events
            .0
            .lock()
            .unwrap()
            .push((self.tenant.clone(), "logout"));
    }
}

/// Each mock's `/repos` answers with the provider's tag and the bearer's subject.
fn serve_repos(mock: &MockProvider, tag: &'static str) {
    mock.endpoint(Method::Get, "/repos", move |request| match request.user() {
        Some(user) => MockResponse::json(json!({ "at": tag, "owner": user.subject() })),
        None => MockResponse::unauthorized(),
    });
}

#[rocket::async_test]
async fn listed_providers_log_in_by_name_over_http() {
    let (acme, globex, corp_mock) = (
        MockProvider::start(),
        MockProvider::start(),
        MockProvider::start(),
    );
    globex.add_user(MockUser::new("bob"));
    corp_mock.add_user(MockUser::new("carol"));
    serve_repos(&acme, "acme");
    serve_repos(&globex, "globex");
    let figment = acme.configure_listed(testing::figment(), "acme", Protocol::OAuth2);
    // OpenID Connect needs the `oidc` feature; without it both speak OAuth 2.
    #[cfg(feature = "oidc")]
    let globex_protocol = Protocol::OpenIdConnect;
    #[cfg(not(feature = "oidc"))]
    let globex_protocol = Protocol::OAuth2;
    let figment = globex.configure_listed(figment, "globex", globex_protocol);
    let figment = corp_mock.configure::<Corp>(figment);
    let events = Events::default();
    let hooks = events.clone();
    let rocket = rocket::custom(figment)
        .attach(Corp.fairing())
        .attach(Providers::fairing().hooks(move |name| TenantHooks {
            tenant: name.to_owned(),
            events: hooks.clone(),
        }))
        .mount("/", routes![me, repos, listed, anyone, corp]);
    let app = testing::serve(rocket).await;
    let browser = Browser::new();
    let url = |path: &str| format!("{app}{path}");
    // A page's text, as the browser gets it.
    let text = |path: &str| {
        let request = browser.client().get(url(path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    // A script's request (not a page navigation).
    let fetch = |path: &str| {
        let request = browser.client().get(url(path));
        async move {
            let sent = request.header("Sec-Fetch-Mode", "cors").send().await;
            sent.unwrap().status()
        }
    };

    assert_eq!(
        browser
            .get(&url("/listed"))
            .await
            .json::<Value>()
            .await
            .unwrap(),
        json!(["acme", "globex"])
    );
    // Logged out: an API call gets 401, a page navigation the provider's login, a name not
    // listed 404.
    assert_eq!(fetch("/t/acme/me").await, 401);
    let page = browser.get(&url("/t/acme/me")).await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        page.headers()["location"],
        "/auth/acme/login?next=/t/acme/me"
    );
    assert_eq!(browser.get(&url("/t/initech/me")).await.status(), 404);
    assert_eq!(browser.get(&url("/auth/initech/login")).await.status(), 404);

    // One login per provider, each with its own session.
    let landing = acme
        .log_in_http_listed(&browser, &app, "acme", "alice")
        .await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    assert_eq!(text("/t/acme/me").await, "alice at acme");
    assert_eq!(fetch("/t/globex/me").await, 401);
    let landing = globex
        .log_in_http_listed(&browser, &app, "globex", "bob")
        .await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    assert_eq!(text("/t/globex/me").await, "bob at globex");
    assert_eq!(text("/t/acme/me").await, "alice at acme");
    #[cfg(feature = "oidc")]
    {
        // The OpenID Connect one went through discovery and an ID token with a nonce.
        assert_eq!(
            globex
                .requests_to("/.well-known/openid-configuration")
                .len(),
            1
        );
        assert!(globex.requests_to("/authorize")[0]
            .query_param("nonce")
            .is_some());
    }
    assert!(acme.requests_to("/authorize")[0]
        .query_param("nonce")
        .is_none());

    // Each API client carries its own provider's credentials, to that provider.
    let repos: Value = browser
        .get(&url("/t/acme/repos"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repos, json!({"at": "acme", "owner": "alice"}));
    let repos: Value = browser
        .get(&url("/t/globex/repos"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repos, json!({"at": "globex", "owner": "bob"}));

    // The typed provider beside them is unaffected; AnyUser sees every session.
    assert_eq!(fetch("/corp").await, 401);
    let landing = corp_mock.log_in_http::<Corp>(&browser, &app, "carol").await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    assert_eq!(text("/corp").await, "carol");
    let anyone: Value = browser.get(&url("/anyone")).await.json().await.unwrap();
    assert_eq!(anyone, json!(["corp", "acme", "globex"]));

    // Logging out of one ends that session only.
    let check: Value = browser
        .get(&url("/auth/acme/check"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check, json!({"authorized": true}));
    let out = browser.post(&format!("{app}/auth/acme/logout")).await;
    assert_eq!(out.status(), 303);
    assert_eq!(fetch("/t/acme/me").await, 401);
    assert_eq!(text("/t/globex/me").await, "bob at globex");
    assert_eq!(text("/corp").await, "carol");
    assert_eq!(
        *events.0.lock().unwrap(),
        [
            ("acme".to_owned(), "login"),
            ("globex".to_owned(), "login"),
            ("acme".to_owned(), "logout"),
        ]
    );
}

#[rocket::async_test]
async fn the_sign_in_page_lists_listed_providers_by_display_name() {
    let (acme, globex) = (MockProvider::start(), MockProvider::start());
    let figment = acme.configure_listed(testing::figment(), "acme", Protocol::OAuth2);
    let figment = globex
        .configure_listed(figment, "globex", Protocol::OAuth2)
        .merge(("oauth.providers.globex.display_name", "Globex SSO"));
    let app = testing::serve(rocket::custom(figment).attach(Providers::fairing())).await;
    let page = Browser::new().get(&format!("{app}/auth/login")).await;
    assert_eq!(page.status(), 200);
    let body = crate::common::html_unescape(&page.text().await.unwrap());
    assert!(body.contains("/auth/acme/login"), "{body}");
    assert!(body.contains("Globex SSO"), "{body}");
}

#[rocket::async_test]
async fn bad_listings_fail_at_ignite() {
    let mock = MockProvider::start();
    let good = || mock.configure_listed(testing::figment(), "acme", Protocol::OAuth2);
    let cases = [
        // Nothing listed.
        testing::figment(),
        testing::figment().merge(("oauth.providers", json!({}))),
        // A name with `_` (cookie names would be ambiguous), or reserved.
        mock.configure_listed(testing::figment(), "acme_eu", Protocol::OAuth2),
        mock.configure_listed(testing::figment(), "session", Protocol::OAuth2),
        // OAuth 1.0a, or a protocol that does not exist.
        good().merge(("oauth.providers.acme.protocol", "oauth1")),
        good().merge(("oauth.providers.acme.protocol", "saml")),
        // A provider's own keys are checked as a typed provider's are.
        good().merge(("oauth.providers.acme.client_id", "")),
        good().merge(("oauth.providers.acme.unknown_key", 1)),
        // The name of a typed provider too.
        mock.configure_listed(testing::figment(), "corp", Protocol::OAuth2),
        // OpenID Connect keys on an OAuth 2 provider.
        good().merge(("oauth.providers.acme.require_nonce", true)),
    ];
    for figment in cases {
        let figment = mock.configure::<Corp>(figment);
        let rocket = rocket::custom(figment.clone())
            .attach(Corp.fairing())
            .attach(Providers::fairing());
        let listed = figment.find_value("oauth.providers");
        let error = rocket.ignite().await.expect_err(&format!("{listed:?}"));
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{error:?}"
        );
    }
    let rocket = rocket::custom(mock.configure::<Corp>(good()))
        .attach(Corp.fairing())
        .attach(Providers::fairing());
    assert!(rocket.ignite().await.is_ok());
}

#[rocket::async_test]
async fn the_providers_guard_needs_its_fairing_and_user_of_listed_aborts() {
    #[get("/typed")]
    fn typed(_user: User<rocket_oauth::Listed>) {}

    let mock = MockProvider::start();
    let figment = mock.configure_listed(testing::figment(), "acme", Protocol::OAuth2);
    let without = rocket::custom(figment.clone()).mount("/", routes![listed]);
    let error = without.ignite().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::SentinelAborts(_)),
        "{error:?}"
    );
    let typed_guard = rocket::custom(figment.clone())
        .attach(Providers::fairing())
        .mount("/", routes![typed]);
    let error = typed_guard.ignite().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::SentinelAborts(_)),
        "{error:?}"
    );
    // `Listed`'s own fairing is refused: its name is the table's.
    let own = rocket::custom(figment).attach(rocket_oauth::Provider::fairing(rocket_oauth::Listed));
    let error = own.ignite().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::FailedFairings(_)),
        "{error:?}"
    );
}
