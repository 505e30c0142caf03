//! Defects found in a review and an attack run, each pinned by a test: logout CSRF, cookies
//! behind TLS, session lifetime, access rules on sessions already issued.

use std::time::Duration;

use crate::common::app::{log_in, me_status, start_app};
use crate::common::*;
use rocket::serde::json::json;

#[rocket::async_test]
async fn a_cross_site_logout_is_refused() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let logout = format!("{}/auth/idp/logout", app.url);
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let r = browser
            .client()
            .post(&logout)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
        assert_eq!(me_status(&browser, &app).await, 200, "still logged in");
    }
    // The application's own form (same origin) logs out, without JavaScript.
    let r = browser
        .client()
        .post(&logout)
        .header("origin", app.url.as_str())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(me_status(&browser, &app).await, 401);
}

#[rocket::async_test]
async fn an_https_redirect_uri_makes_cookies_secure_and_host_prefixed() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| {
        let port: u16 = f.extract_inner("port").unwrap();
        f.merge((
            "oauth.idp.redirect_uri",
            format!("https://127.0.0.1:{port}/auth/idp/callback"),
        ))
    })
    .await;
    let r = Browser::new()
        .get(&format!("{}/auth/idp/login", app.url))
        .await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-oauth_idp_login_"), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/;"),
        "{cookie}"
    );
}

#[rocket::async_test]
async fn a_session_ends_at_its_lifetime() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| {
        f.merge(("oauth.session", json!({ "lifetime": 1 })))
    })
    .await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(me_status(&browser, &app).await, 401);
}

/// Removing someone from `access.*` applies to the sessions they already have.
#[rocket::async_test]
async fn access_rules_apply_to_sessions_already_issued() {
    let idp = start_idp().await;
    let open = start_app(&idp, false, |f| f).await;
    let closed = start_app(&idp, false, |f| {
        f.merge((
            "oauth.idp.access",
            json!({ "policy": "listed", "emails": ["someone@else.example"] }),
        ))
    })
    .await;
    let browser = Browser::new();
    log_in(&browser, &open).await;
    assert_eq!(me_status(&browser, &open).await, 200);
    // The same cookie (same secret key), read by an instance whose rules exclude the user.
    assert_eq!(me_status(&browser, &closed).await, 401);
}

/// Issue 25, item 1: a callback with more parameters than `max_callback_params` (32 by
/// default) is refused before they are decoded or compared; real providers send fewer than
/// ten.
#[rocket::async_test]
async fn a_callback_with_too_many_parameters_is_refused() {
    let idp = start_idp().await;
    let junk: Vec<(String, String)> = (0..40).map(|i| (format!("p{i}"), String::new())).collect();
    idp.script(|s| s.authorization_extra = junk.clone());
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (r, _) = browser
        .follow(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(me_status(&browser, &app).await, 401, "not logged in");
    // The bound is configurable.
    let roomy = start_app(&idp, false, |f| {
        f.merge(("oauth.idp.max_callback_params", 64))
    })
    .await;
    let browser = Browser::new();
    log_in(&browser, &roomy).await;
    assert_eq!(me_status(&browser, &roomy).await, 200);
}

/// Issue 25, item 2: `ApiClient` sends the user's token only to the provider's API origins;
/// an absolute URL elsewhere, or a scheme-relative one joined onto `api_base_url`, is refused
/// without a request, unless `api_origins` lists it.
#[rocket::async_test]
async fn the_api_client_keeps_the_token_on_the_apis_origin() {
    let idp = start_idp().await;
    let elsewhere = rocket_oauth::testing::MockProvider::start();
    let other = elsewhere.url().trim_end_matches('/').to_owned();
    let host = other.trim_start_matches("http://").to_owned();
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let call = |url: String| {
        let browser = &browser;
        let app = &app;
        async move {
            let target = url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>();
            let r = browser
                .get(&format!("{}/api-to?url={target}", app.url))
                .await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for url in [format!("{other}/userinfo"), format!("//{host}/userinfo")] {
        let (status, body) = call(url.clone()).await;
        assert_ne!(status, 200, "{url}: {body}");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "no request left for another origin"
    );
    // The API's own origin works, relative or absolute.
    assert_eq!(call("api/me".into()).await.0, 200);
    assert_eq!(
        call(format!("{}/api/me", idp.url().trim_end_matches('/')))
            .await
            .0,
        200
    );
    // Listed in `api_origins`, another origin is allowed.
    let listed = start_app(&idp, false, |f| {
        f.merge(("oauth.idp.api_origins", [other.clone()]))
    })
    .await;
    let browser = Browser::new();
    log_in(&browser, &listed).await;
    let target = url::form_urlencoded::byte_serialize(format!("{other}/anything").as_bytes())
        .collect::<String>();
    browser
        .get(&format!("{}/api-to?url={target}", listed.url))
        .await;
    assert_eq!(elsewhere.requests().len(), 1);
}
