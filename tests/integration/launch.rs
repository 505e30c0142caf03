//! Launch-time checks: configuration errors and missing fairings stop the launch.

use crate::common::app::Other;
use crate::common::*;
use rocket::error::ErrorKind;
use rocket::{get, routes};
use rocket_oauth::{AccessToken, LoginRequired};

#[get("/me")]
fn me(_token: AccessToken<Other>) {}

#[get("/page")]
fn page(_user: LoginRequired<Other>) {}

#[get("/maybe")]
fn maybe(_token: Option<AccessToken<Other>>) {}

fn good_config() -> serde_json::Value {
    serde_json::json!({
        "client_id": "id",
        "client_secret": "secret",
        "redirect_uri": "http://127.0.0.1:8000/auth/other/callback",
    })
}

#[rocket::async_test]
async fn a_guard_without_its_fairing_aborts_launch() {
    for routes in [routes![me], routes![page], routes![maybe]] {
        let rocket = rocket::custom(base_figment()).mount("/", routes);
        let error = rocket.ignite().await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::SentinelAborts(_)),
            "{error:?}"
        );
    }
    let rocket = rocket::custom(base_figment().merge(("oauth.other", good_config())))
        .attach(Other.fairing())
        .mount("/", routes![me, page, maybe]);
    assert!(rocket.ignite().await.is_ok());
}

#[rocket::async_test]
async fn bad_configuration_fails_at_ignite() {
    let cases = [
        serde_json::json!({}),
        serde_json::json!({"client_id": "id"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "not a url"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://app.example/cb"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "pkce": false}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "token_url": "http://evil.example/t"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "unknown_key": 1}),
        serde_json::json!({"client_id": 5, "redirect_uri": "http://127.0.0.1/cb"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "timeout": 0}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "base_path": "auth"}),
        serde_json::json!({"client_id": "id", "redirect_uri": "http://127.0.0.1/cb", "auth_params": {"state": "fixed"}}),
    ];
    for config in cases {
        let rocket = rocket::custom(base_figment().merge(("oauth.other", config.clone())))
            .attach(Other.fairing());
        let error = rocket.ignite().await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{config}: {error:?}"
        );
    }
}

#[rocket::async_test]
async fn bad_session_configuration_fails_at_ignite() {
    let cases = [
        serde_json::json!({"store": "mongo"}),
        serde_json::json!({"store": "redis"}),
        serde_json::json!({"lifetime": 0}),
        serde_json::json!({"store": "memory", "unknown": 1}),
        serde_json::json!({"store": "redis", "url": "not a redis url"}),
    ];
    for session in cases {
        let figment = base_figment()
            .merge(("oauth.other", good_config()))
            .merge(("oauth.session", session.clone()));
        let rocket = rocket::custom(figment).attach(Other.fairing());
        let error = rocket.ignite().await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{session}: {error:?}"
        );
    }
    let figment = base_figment().merge(("oauth.other", good_config())).merge((
        "oauth.session",
        serde_json::json!({"store": "memory", "lifetime": 60}),
    ));
    assert!(rocket::custom(figment)
        .attach(Other.fairing())
        .ignite()
        .await
        .is_ok());
}

#[rocket::async_test]
async fn keys_of_another_protocol_fail_at_ignite() {
    let mut config = good_config();
    config["tenants"] = serde_json::json!(["t"]);
    let rocket =
        rocket::custom(base_figment().merge(("oauth.other", config))).attach(Other.fairing());
    let error = rocket.ignite().await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::FailedFairings(_)));
}

#[rocket::async_test]
async fn the_same_provider_cannot_be_attached_twice() {
    let rocket = rocket::custom(base_figment().merge(("oauth.other", good_config())))
        .attach(Other.fairing())
        .attach(Other.fairing());
    let error = rocket.ignite().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::FailedFairings(_)),
        "{error:?}"
    );
}

#[rocket::async_test]
async fn base_path_is_configurable() {
    let idp = start_idp().await;
    let port = free_port();
    let mut config = provider_config(&idp, "other", port);
    config["base_path"] = "/login/other".into();
    config["redirect_uri"] = format!("http://127.0.0.1:{port}/login/other/callback").into();
    let rocket = rocket::custom(
        base_figment()
            .merge(("port", port))
            .merge(("oauth.other", config)),
    )
    .attach(Other.fairing())
    .mount("/", routes![me]);
    let url = launch(rocket).await;
    let browser = Browser::new();
    let (r, visited) = browser
        .follow(&format!("{url}/login/other/login?next=/me"))
        .await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert_eq!(
        Browser::new()
            .get(&format!("{url}/auth/other/login"))
            .await
            .status(),
        404
    );
}

#[rocket::async_test]
async fn discover_at_launch_is_for_openid_connect_only() {
    let mut config = good_config();
    config["discover_at_launch"] = true.into();
    let rocket =
        rocket::custom(base_figment().merge(("oauth.other", config))).attach(Other.fairing());
    let error = rocket.ignite().await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::FailedFairings(_)),
        "{error:?}"
    );
}
