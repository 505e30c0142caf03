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
