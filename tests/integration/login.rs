//! Successful logins over real loopback HTTP: cookies, PKCE, next, hooks, logout, check,
//! several providers and tabs, confirmation, templates.

use std::sync::atomic::Ordering;

use crate::common::app::{start_app, App};
use crate::common::*;
use rocket::serde::json::Value;

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `/me`, `check` and an `Option` guard agree on whether `browser` is logged in.
async fn assert_session(browser: &Browser, app: &str, logged_in: bool) {
    let me = browser.get(&format!("{app}/me")).await.status();
    assert_eq!(me, if logged_in { 200 } else { 401 });
    let check: Value = browser
        .get(&format!("{app}/auth/idp/check"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check, serde_json::json!({ "authorized": logged_in }));
    let maybe = browser
        .get(&format!("{app}/maybe"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(maybe, if logged_in { "in" } else { "out" });
}

/// `GET login?next=…`, then the provider's redirect: the callback URL and the login response.
async fn start_login(browser: &Browser, app: &App, next: &str) -> (String, reqwest::Response) {
    let r = browser
        .get(&format!("{}/auth/idp/login?next={next}", app.url))
        .await;
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    let callback = location(&browser.get(&authorize).await);
    (callback, r)
}

#[rocket::async_test]
async fn login_redirects_to_the_provider_with_state_pkce_and_scopes() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let r = Browser::new()
        .get(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let authorize = location(&r);
    assert!(
        authorize.starts_with(&format!("{}/authorize?", idp.url)),
        "{authorize}"
    );
    let param = |name| query_param(&authorize, name);
    assert_eq!(param("response_type").as_deref(), Some("code"));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert!(param("code_challenge").is_some());
    assert_eq!(param("scope").as_deref(), Some("read write"));
    let state = param("state").unwrap();
    assert!(state.len() >= 22, "state is random and long: {state}");
    assert!(!authorize.contains("next"), "next stays in the cookie");
}

#[rocket::async_test]
async fn the_attempt_cookie_is_encrypted_httponly_lax_and_scoped() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let r = Browser::new()
        .get(&format!("{}/auth/idp/login", app.url))
        .await;
    let state = query_param(&location(&r), "state").unwrap();
    let cookies = set_cookies(&r);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let attempt = &cookies[0];
    assert!(attempt.starts_with("oauth_idp_login_"), "{attempt}");
    assert!(
        attempt.contains("HttpOnly") && attempt.contains("SameSite=Lax"),
        "{attempt}"
    );
    assert!(attempt.contains("Path=/auth/idp"), "{attempt}");
    assert!(!attempt.contains(&state), "the attempt cookie is encrypted");
}

#[rocket::async_test]
async fn the_callback_stores_the_session_and_redirects_to_next() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (callback, _) = start_login(&browser, &app, "/me").await;
    assert!(callback.starts_with(&format!("{}/auth/idp/callback?code=", app.url)));
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(location(&r), "/me");
    let cookies = set_cookies(&r);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("oauth_idp="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        session.contains("Max-Age="),
        "expires with the token: {session}"
    );
    assert!(session.len() < 4096);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("oauth_idp_login_") && c.contains("Max-Age=0")),
        "the attempt cookie is cleared: {cookies:?}"
    );
    assert_session(&browser, &app.url, true).await;
}

#[rocket::async_test]
async fn the_pkce_verifier_reaches_the_token_endpoint() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (callback, _) = start_login(&browser, &app, "/me").await;
    assert_eq!(browser.get(&callback).await.status(), 303);
    // The test provider refuses a verifier that does not match the challenge.
    assert_eq!(
        idp.requests_to("/token")
            .iter()
            .filter(|r| r.form_param("code_verifier").is_some())
            .count(),
        1
    );
    assert_eq!(idp.requests_to("/token").len(), 1);
}

#[rocket::async_test]
async fn guarded_routes_see_the_userinfo_and_after_login_ran() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (callback, _) = start_login(&browser, &app, "/me").await;
    browser.get(&callback).await;
    let r = browser.get(&format!("{}/me", app.url)).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["provider"], "idp");
    assert_eq!(me["user"]["name"], "Alice Example");
    assert_eq!(me["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(app.log.logins.load(Ordering::SeqCst), 1);
    assert_eq!(
        app.log.last_user.lock().unwrap().as_ref().unwrap()["sub"],
        "alice"
    );
}

#[rocket::async_test]
async fn logout_is_a_post_that_ends_the_session_and_tells_after_logout_who() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (callback, _) = start_login(&browser, &app, "/me").await;
    browser.get(&callback).await;
    assert_session(&browser, &app.url, true).await;
    // GET logout is off by default.
    let r = browser.get(&format!("{}/auth/idp/logout", app.url)).await;
    assert_eq!(r.status(), 404);
    let r = browser.post(&format!("{}/auth/idp/logout", app.url)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    assert_eq!(app.log.logouts.load(Ordering::SeqCst), 1);
    assert_eq!(
        app.log.last_logout.lock().unwrap().as_deref(),
        Some("alice")
    );
    assert_session(&browser, &app.url, false).await;
}

#[rocket::async_test]
async fn untidy_token_responses_are_accepted() {
    let idp = start_idp().await;
    idp.set_mode(TokenReply::FormEncoded);
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (r, _) = browser
        .follow(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        me["scopes"],
        serde_json::json!(["read", "write"]),
        "comma-separated scopes split"
    );
}

#[rocket::async_test]
async fn without_next_the_success_page_is_shown() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (r, visited) = browser.follow(&format!("{}/auth/idp/login", app.url)).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    let body = r.text().await.unwrap();
    assert!(body.contains("Logged in"), "{body}");
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 200);
}

/// Issue 26, item 5: with `success_page`, a login with a `next` shows the success page,
/// which leads there (by a link, and after `success_continue_after` seconds by itself).
#[rocket::async_test]
async fn the_success_page_can_lead_to_next() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| {
        f.merge(("oauth.idp.success_page", true))
            .merge(("oauth.idp.success_continue_after", 3))
    })
    .await;
    let browser = Browser::new();
    let (r, visited) = browser
        .follow(&format!("{}/auth/idp/login?next=/private", app.url))
        .await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(
        visited.last().unwrap().contains("/auth/idp/callback"),
        "{visited:?}"
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("Logged in"), "{body}");
    assert!(
        body.contains(r#"href="&#x2F;private""#),
        "a link to next: {body}"
    );
    assert!(
        body.contains(r#"content="3;url=&#x2F;private""#),
        "continues by itself: {body}"
    );
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 200);
}

#[rocket::async_test]
async fn redirecting_guard_sends_to_login_and_back() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let r = browser.get(&format!("{}/private", app.url)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/auth/idp/login?next=/private");
    let (r, visited) = browser.follow(&format!("{}/private", app.url)).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert_eq!(r.text().await.unwrap(), "private page");
    assert_eq!(visited.last().unwrap(), &format!("{}/private", app.url));
    // A guard that is not the redirecting one still answers 401.
    assert_eq!(
        Browser::new()
            .get(&format!("{}/me", app.url))
            .await
            .status(),
        401
    );
}

/// Issue 26, item 7: only page navigations are redirected to the login; a script's fetch or
/// an API client gets the `401` it can act on.
#[rocket::async_test]
async fn fetch_calls_to_a_login_required_route_get_401() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/private", app.url);
    let fetch = client
        .get(&url)
        .header("Sec-Fetch-Mode", "cors")
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch.status(), 401, "fetch()");
    let api = client.get(&url).header("Accept", "application/json");
    assert_eq!(api.send().await.unwrap().status(), 401, "an API client");
    let navigation = client.get(&url).header("Sec-Fetch-Mode", "navigate");
    assert_eq!(navigation.send().await.unwrap().status(), 303, "a page");
}

#[rocket::async_test]
async fn two_providers_and_parallel_tabs_do_not_interfere() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();

    // Start three logins (two tabs of `idp`, one of `other`) before finishing any.
    let mut callbacks = Vec::new();
    for (provider, next) in [("idp", "/me"), ("other", "/other-me"), ("idp", "/maybe")] {
        let r = browser
            .get(&format!("{}/auth/{provider}/login?next={next}", app.url))
            .await;
        let r = browser.get(&location(&r)).await;
        callbacks.push(location(&r));
    }
    // Finish them in reverse order: each finds its own attempt.
    for (callback, next) in callbacks.iter().rev().zip(["/maybe", "/other-me", "/me"]) {
        let r = browser.get(callback).await;
        assert_eq!(r.status(), 303, "{callback}: {:?}", r.text().await);
        assert_eq!(location(&r), next);
    }
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 200);
    let other: Value = browser
        .get(&format!("{}/other-me", app.url))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["provider"], "other");

    // Logging out of one leaves the other.
    browser.post(&format!("{}/auth/idp/logout", app.url)).await;
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 401);
    assert_eq!(
        browser.get(&format!("{}/other-me", app.url)).await.status(),
        200
    );
}

#[rocket::async_test]
async fn pending_attempts_are_bounded() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let mut callbacks = Vec::new();
    for _ in 0..6 {
        let r = browser
            .get(&format!("{}/auth/idp/login?next=/me", app.url))
            .await;
        let r = browser.get(&location(&r)).await;
        callbacks.push(location(&r));
        // Distinct creation times order the eviction.
        rocket::tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    // The two oldest were evicted; the newest works.
    let r = browser.get(&callbacks[0]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));
    let r = browser.get(&callbacks[5]).await;
    assert_eq!(r.status(), 303);
}

#[rocket::async_test]
async fn after_login_can_refuse() {
    let idp = start_idp().await;
    let app = start_app(&idp, true, |f| f).await;
    let browser = Browser::new();
    let (r, _) = browser
        .follow(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("test accounts are not welcome here"),
        "{body}"
    );
    assert_eq!(app.log.logins.load(Ordering::SeqCst), 1);
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 401);
}

#[rocket::async_test]
async fn confirmation_page_requires_a_csrf_checked_post() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f.merge(("oauth.idp.confirm", true))).await;
    let browser = Browser::new();

    let r = browser
        .get(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let token = hidden_fields(&page)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .expect("csrf field")
        .1;
    assert!(idp.requests_to("/authorize").is_empty());

    // A forged POST (wrong token, or another browser without the cookie) is refused.
    let login = format!("{}/auth/idp/login", app.url);
    let r = browser
        .client()
        .post(&login)
        .form(&[("csrf_token", "forged"), ("next", "/me")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = Browser::new()
        .client()
        .post(&login)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = browser
        .client()
        .post(&login)
        .form(&[("csrf_token", token.as_str()), ("next", "/me")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = browser.get(&location(&r)).await;
    let r = browser.get(&location(&r)).await;
    assert_eq!(location(&r), "/me");
}

#[rocket::async_test]
async fn application_templates_override_the_defaults() {
    let idp = start_idp().await;
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("template_dir", "tests/templates"))
        .merge(("oauth.other", provider_config(&idp, "other", port)));
    let rocket = rocket::custom(figment)
        .attach(rocket_dyn_templates::Template::fairing())
        .attach(crate::common::app::Other.fairing());
    let url = launch(rocket).await;
    let browser = Browser::new();
    let (r, _) = browser.follow(&format!("{url}/auth/other/login")).await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("CUSTOM SUCCESS TEMPLATE for other"));
    // Templates the app does not override keep the embedded default.
    let r = browser
        .get(&format!(
            "{url}/auth/other/callback?state=abcdefghijklmnop&code=x"
        ))
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Login expired"));
}

/// RFC 9126 §2.1: a pushed request carries the whole authorization request, `client_id`
/// included, also when the client authenticates with HTTP Basic (node oidc-provider refuses
/// a pushed request without it); the browser then carries only `client_id` and `request_uri`.
#[rocket::async_test]
async fn a_pushed_request_names_the_client_beside_basic_authentication() {
    use rocket::http::Method;
    const URI: &str = "urn:ietf:params:oauth:request_uri:pushed";
    let idp = start_idp().await;
    idp.endpoint(Method::Post, "/par", |_| {
        MockResponse::json(serde_json::json!({ "request_uri": URI, "expires_in": 60 })).status(201)
    });
    let par = format!("{}/par", idp.url);
    let app = start_app(&idp, false, |f| {
        f.merge(("oauth.idp.par", true))
            .merge(("oauth.idp.par_url", par))
    })
    .await;
    let r = Browser::new()
        .get(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    let client_id = query_param(&authorize, "client_id").expect(&authorize);
    assert_eq!(query_param(&authorize, "request_uri").as_deref(), Some(URI));
    assert_eq!(query_param(&authorize, "state"), None, "{authorize}");
    let pushed = idp.requests_to("/par");
    assert_eq!(pushed.len(), 1);
    let pushed = &pushed[0];
    assert!(pushed
        .header("authorization")
        .unwrap()
        .starts_with("Basic "));
    assert_eq!(pushed.form_param("client_id"), Some(client_id));
    assert_eq!(pushed.form_param("client_secret"), None);
    assert_eq!(
        pushed.form_param("code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(pushed.form_param("state").is_some());
}
