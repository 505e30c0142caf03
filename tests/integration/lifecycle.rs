//! Life after login, over loopback HTTP: transparent refresh (once, however many requests
//! and instances), refusal → clean logout, revocation at logout, the API client, server-side
//! sessions that really end, and sessions larger than one cookie.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::app::{log_in, me_status, start_app, App};
use crate::common::*;
use rocket::figment::Figment;
use rocket::serde::json::{json, Value};

fn memory_store(figment: Figment) -> Figment {
    figment.merge(("oauth.session", json!({ "store": "memory" })))
}

/// The Redis URL of the test server, or `None` (the test then says it skipped).
#[cfg(feature = "redis")]
fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        println!("skipped {test}: REDIS_URL is not set");
    }
    url
}

/// Sessions in Redis.
#[cfg(feature = "redis")]
fn redis_store(url: String) -> impl Fn(Figment) -> Figment {
    move |f| f.merge(("oauth.session", json!({ "store": "redis", "url": url })))
}

/// The `Cookie` header a browser sends to `app` (to replay it from another client).
fn cookie_header(browser: &Browser, app: &App) -> String {
    use reqwest::cookie::CookieStore;
    let url = app.url.parse().unwrap();
    browser
        .jar()
        .cookies(&url)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[rocket::async_test]
async fn an_expired_access_token_is_refreshed_transparently() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = browser.get(&format!("{}/me", app.url)).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["user"]["name"], "Alice Example", "nothing lost: {me}");
    // One refresh (two when a loaded machine took a second to land the login).
    let refreshes = idp.refresh_calls();
    assert!((1..=2).contains(&refreshes), "{refreshes}");
    assert_eq!(app.log.token_updates.load(Ordering::SeqCst), refreshes);
}

#[rocket::async_test]
async fn sessions_outlive_short_tokens() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    for _ in 0..8 {
        rocket::tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(me_status(&browser, &app).await, 200);
    }
    let refreshes = idp.refresh_calls();
    assert!((1..=4).contains(&refreshes), "{refreshes} refreshes");
}

#[rocket::async_test]
async fn a_refresh_answer_without_a_refresh_token_keeps_the_old_one() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    idp.script(|s| s.refresh = RefreshReply::KeepRefreshToken);
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    for _ in 0..2 {
        rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(me_status(&browser, &app).await, 200);
    }
    // At least two refreshes (a slow machine may add one at login), all with the one
    // refresh token the provider never replaced.
    let used: Vec<String> = idp
        .refresh_requests()
        .iter()
        .filter_map(|r| r.form_param("refresh_token"))
        .collect();
    assert!(used.len() >= 2, "{used:?}");
    assert!(used.iter().all(|t| *t == used[0]), "{used:?}");
}

/// 50 requests at once with an expired token: one refresh at the provider. (Tokens live 4 s
/// here, so that the new one cannot look due again while the waiting requests read it.)
async fn concurrent_requests_refresh_once(apps: &[&App], idp: &Idp, browser: &Browser) {
    idp.script(|s| s.refresh_delay = Duration::from_millis(300));
    rocket::tokio::time::sleep(Duration::from_millis(4100)).await;
    let requests = (0..50).map(|i| {
        let app = apps[i % apps.len()];
        browser.client().get(format!("{}/me", app.url)).send()
    });
    let responses = futures_join_all(requests.collect()).await;
    for response in responses {
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(idp.refresh_calls(), 1);
}

#[rocket::async_test]
async fn fifty_concurrent_requests_cause_one_refresh() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(4));
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    concurrent_requests_refresh_once(&[&app], &idp, &browser).await;
    assert_eq!(app.log.token_updates.load(Ordering::SeqCst), 1);
}

#[rocket::async_test]
async fn fifty_concurrent_requests_cause_one_refresh_with_a_memory_store() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(4));
    let app = start_app(&idp, false, memory_store).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    concurrent_requests_refresh_once(&[&app], &idp, &browser).await;
}

#[cfg(feature = "redis")]
#[rocket::async_test]
async fn two_instances_on_one_redis_refresh_once() {
    let Some(url) = redis_url("two_instances_on_one_redis_refresh_once") else {
        return;
    };
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(4));
    let a = start_app(&idp, false, redis_store(url.clone())).await;
    let b = start_app(&idp, false, redis_store(url)).await;
    let browser = Browser::new();
    log_in(&browser, &a).await;
    concurrent_requests_refresh_once(&[&a, &b], &idp, &browser).await;
}

#[rocket::async_test]
async fn a_refused_refresh_logs_the_visitor_out_cleanly() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    idp.script(|s| s.refresh = RefreshReply::InvalidGrant);
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = browser.get(&format!("{}/me", app.url)).await;
    assert_eq!(r.status(), 401);
    let removed = r.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("oauth_idp=") && c.contains("Max-Age=0")
    });
    assert!(removed, "the session cookie is removed");
    let r = browser.get(&format!("{}/private", app.url)).await;
    assert_eq!(r.status(), 303, "the login redirect, never a 5xx");
    assert!(location(&r).starts_with("/auth/idp/login?next="));
    // The session was ended: no second refresh attempt.
    assert_eq!(me_status(&browser, &app).await, 401);
    assert_eq!(idp.refresh_calls(), 1);
    assert_eq!(app.log.token_updates.load(Ordering::SeqCst), 0);
}

#[rocket::async_test]
async fn logout_revokes_the_tokens_at_the_provider() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let r = browser.post(&format!("{}/auth/idp/logout", app.url)).await;
    assert_eq!(r.status(), 303);
    for _ in 0..50 {
        if idp.revoked_tokens().len() == 2 {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let revoked = idp.revoked_tokens().clone();
    assert_eq!(revoked.len(), 2, "refresh and access token: {revoked:?}");
    assert!(revoked[0].starts_with("rt-") && revoked[1].starts_with("at-"));
}

#[rocket::async_test]
async fn logout_works_when_the_provider_is_down() {
    let idp = start_idp().await;
    let dead = format!("http://127.0.0.1:{}/revoke", free_port());
    let app = start_app(&idp, false, |f| f.merge(("oauth.idp.revocation_url", dead))).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let started = std::time::Instant::now();
    let r = browser.post(&format!("{}/auth/idp/logout", app.url)).await;
    assert_eq!(r.status(), 303);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "logout is not held up"
    );
    assert_eq!(me_status(&browser, &app).await, 401);
}

#[rocket::async_test]
async fn the_api_client_sends_the_users_token() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let answer: Value = browser.json(&format!("{}/api", app.url)).await;
    assert_eq!(answer["sub"], "alice");
    assert!(answer["token"].as_str().unwrap().starts_with("at-"));
    let echo: Value = browser.json(&format!("{}/api-post", app.url)).await;
    assert_eq!(echo["body"], r#"{"hello":"world"}"#);
    // Logged out, the guard forwards: 401.
    let r = Browser::new().get(&format!("{}/api", app.url)).await;
    assert_eq!(r.status(), 401);
}

#[rocket::async_test]
async fn the_api_client_refreshes_and_retries_once_on_401() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    idp.api_rejections.store(1, Ordering::SeqCst);
    let r = browser.get(&format!("{}/api", app.url)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(idp.api_calls.load(Ordering::SeqCst), 2);
    assert_eq!(idp.refresh_calls(), 1);
    // The refreshed session was kept: the next call needs no refresh.
    assert_eq!(browser.get(&format!("{}/api", app.url)).await.status(), 200);
    assert_eq!(idp.refresh_calls(), 1);
    // Refused twice: an error, one refresh, no loop.
    idp.api_rejections.store(2, Ordering::SeqCst);
    let r = browser.get(&format!("{}/api", app.url)).await;
    assert_eq!(r.status(), 401, "the user must log in again");
    assert!(r.text().await.unwrap().contains("refused"));
    assert_eq!(idp.refresh_calls(), 2);
}

/// Issue 26, item 2: a route returning `ApiError` answers honestly: `502` for a provider's
/// garbage, `500` without details for a call the app got wrong.
#[rocket::async_test]
async fn api_errors_answer_with_their_status() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let r = browser
        .get(&format!("{}/api?path=api/garbage", app.url))
        .await;
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    let r = browser
        .get(&format!("{}/api?path=https://evil.example/x", app.url))
        .await;
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(!body.contains("evil"), "no details: {body}");
}

/// With a store, a copied cookie stops working at logout.
async fn logout_ends_the_session_for_copied_cookies(login_on: &App, logout_on: &App) {
    let browser = Browser::new();
    log_in(&browser, login_on).await;
    let copied = cookie_header(&browser, login_on);
    let replay = |app: &App| {
        reqwest::Client::new()
            .get(format!("{}/me", app.url))
            .header("cookie", copied.clone())
            .send()
    };
    assert_eq!(replay(logout_on).await.unwrap().status(), 200);
    let r = browser
        .post(&format!("{}/auth/idp/logout", logout_on.url))
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(replay(logout_on).await.unwrap().status(), 401);
    assert_eq!(replay(login_on).await.unwrap().status(), 401);
}

#[rocket::async_test]
async fn a_memory_store_ends_sessions_at_logout() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, memory_store).await;
    logout_ends_the_session_for_copied_cookies(&app, &app).await;
}

#[cfg(feature = "redis")]
#[rocket::async_test]
async fn two_instances_share_sessions_in_redis() {
    let Some(url) = redis_url("two_instances_share_sessions_in_redis") else {
        return;
    };
    let idp = start_idp().await;
    let a = start_app(&idp, false, redis_store(url.clone())).await;
    let b = start_app(&idp, false, redis_store(url)).await;
    logout_ends_the_session_for_copied_cookies(&a, &b).await;
}

#[rocket::async_test]
async fn cookie_sessions_larger_than_one_cookie_lose_nothing() {
    let idp = start_idp().await;
    // A realistic large profile: 6 KB of userinfo besides the tokens.
    let bio = "x".repeat(6000);
    idp.add_user(
        MockUser::default()
            .claim("bio", bio.clone())
            .claim("teams", json!(["a", "b"])),
    );
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let (r, visited) = browser.follow(&format!("{}/auth/idp/login", app.url)).await;
    assert_eq!(r.status(), 200);
    let _ = visited;
    let me: Value = browser.json(&format!("{}/me", app.url)).await;
    assert_eq!(me["user"]["bio"].as_str().unwrap().len(), 6000);
    assert_eq!(me["user"]["teams"], json!(["a", "b"]));
}

#[rocket::async_test]
async fn every_session_cookie_stays_under_the_browser_limit() {
    let idp = start_idp().await;
    idp.add_user(MockUser::default().claim("bio", "é".repeat(4000)));
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let r = browser
        .get(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    let callback = location(&browser.get(&location(&r)).await);
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 303);
    let sizes: Vec<usize> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter(|c| c.to_str().unwrap().starts_with("oauth_idp"))
        .map(|c| c.len())
        .collect();
    assert!(sizes.len() >= 3, "split across cookies: {sizes:?}");
    assert!(sizes.iter().all(|s| *s < 4096), "{sizes:?}");
    assert_eq!(me_status(&browser, &app).await, 200);
}

#[rocket::async_test]
async fn a_user_can_be_logged_out_everywhere() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, memory_store).await;
    let (laptop, phone) = (Browser::new(), Browser::new());
    log_in(&laptop, &app).await;
    log_in(&phone, &app).await;
    let r = laptop.post(&format!("{}/logout-everywhere", app.url)).await;
    assert_eq!(r.text().await.unwrap(), "2 sessions ended");
    assert_eq!(me_status(&laptop, &app).await, 401);
    assert_eq!(me_status(&phone, &app).await, 401);
}

#[rocket::async_test]
async fn cookie_sessions_cannot_be_ended_from_elsewhere() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let r = browser
        .post(&format!("{}/logout-everywhere", app.url))
        .await;
    assert!(r.text().await.unwrap().contains("oauth.session.store"));
}

#[rocket::async_test]
async fn the_api_client_runs_graphql_queries() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let data = browser
        .json(&format!("{}/graphql?query=%7Bviewer%7D", app.url))
        .await;
    assert_eq!(data["viewer"]["sub"], "alice");
    assert_eq!(data["viewer"]["variables"], json!({"x": 1}));
    let r = browser
        .get(&format!("{}/graphql?query=fail", app.url))
        .await;
    assert!(r.text().await.unwrap().contains("no such field"));
}

#[rocket::async_test]
async fn a_detached_api_client_refreshes_and_reports_new_tokens() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    let me: Value = browser.json(&format!("{}/detached", app.url)).await;
    assert_eq!(me["sub"], "alice");
    // Refused once: refreshed outside any session, reported through `on_token_update`.
    idp.api_rejections.store(1, Ordering::SeqCst);
    let me: Value = browser.json(&format!("{}/detached", app.url)).await;
    assert_eq!(me["sub"], "alice");
    assert_eq!(idp.refresh_calls(), 1);
    assert_eq!(app.log.token_updates.load(Ordering::SeqCst), 1);
}

/// Tokens are refreshed when they have expired, not before.
fn exact_expiry(figment: Figment) -> Figment {
    figment.merge(("oauth.idp.refresh_skew", 0))
}

/// Issue 25, item 3: a refresh in flight while the user's sessions are ended ("log out
/// everywhere", from another device) does not bring the ended session back, for the browser
/// or for a copy of its cookie.
async fn a_refresh_in_flight_cannot_revive(app: &App, idp: &Idp) {
    let (laptop, phone) = (Browser::new(), Browser::new());
    log_in(&laptop, app).await;
    let copied = cookie_header(&laptop, app);
    let replay = || {
        reqwest::Client::new()
            .get(format!("{}/me", app.url))
            .header("cookie", copied.clone())
            .send()
    };
    idp.script(|s| s.refresh_delay = Duration::from_millis(1000));
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    // The laptop's session refreshes (slowly); meanwhile the user logs in on the phone and
    // logs out everywhere from there.
    let in_flight = rocket::tokio::spawn(replay());
    log_in(&phone, app).await;
    let r = phone.post(&format!("{}/logout-everywhere", app.url)).await;
    // At least the two (a shared Redis may hold other tests' sessions of alice).
    let ended = r.text().await.unwrap();
    let count: usize = ended.split(' ').next().unwrap().parse().expect(&ended);
    assert!(count >= 2, "{ended}");
    let landed = in_flight.await.unwrap().unwrap();
    assert_eq!(
        landed.status(),
        401,
        "the refresh landed on an ended session"
    );
    // What the refresh got for the ended session is revoked: nobody holds it.
    let revoked = idp.revoked_tokens();
    assert!(
        revoked.iter().any(|t| t.starts_with("rt-")),
        "the new refresh token is revoked: {revoked:?}"
    );
    assert_eq!(
        replay().await.unwrap().status(),
        401,
        "the session stays ended"
    );
    assert_eq!(me_status(&laptop, app).await, 401);
}

#[rocket::async_test]
async fn a_refresh_in_flight_cannot_bring_back_an_ended_session() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    let app = start_app(&idp, false, |f| exact_expiry(memory_store(f))).await;
    a_refresh_in_flight_cannot_revive(&app, &idp).await;
}

#[cfg(feature = "redis")]
#[rocket::async_test]
async fn a_refresh_in_flight_cannot_bring_back_a_session_in_redis() {
    let Some(url) = redis_url("a_refresh_in_flight_cannot_bring_back_a_session_in_redis") else {
        return;
    };
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    let app = start_app(&idp, false, |f| exact_expiry(redis_store(url.clone())(f))).await;
    a_refresh_in_flight_cannot_revive(&app, &idp).await;
}

/// Issue 25, item 4: a background job refreshes the user's credentials (the provider rotates
/// the refresh token); the user's own session then refreshes without being logged out, and
/// the job's next refresh works too.
async fn a_background_refresh_keeps_the_user_logged_in(tweak: fn(Figment) -> Figment) {
    let idp = start_idp().await;
    let app = start_app(&idp, false, tweak).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    // The job's refresh spends the session's refresh token.
    idp.api_rejections.store(1, Ordering::SeqCst);
    let me: Value = browser.json(&format!("{}/detached", app.url)).await;
    assert_eq!(me["sub"], "alice");
    assert_eq!(idp.refresh_calls(), 1);
    // The session's next refresh (the API refuses its token) must not log the user out.
    idp.api_rejections.store(1, Ordering::SeqCst);
    let r = browser.get(&format!("{}/api", app.url)).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_eq!(me_status(&browser, &app).await, 200, "still logged in");
    let spent: Vec<String> = idp
        .refresh_requests()
        .iter()
        .filter_map(|r| r.form_param("refresh_token"))
        .collect();
    let unique: std::collections::HashSet<_> = spent.iter().collect();
    assert_eq!(
        unique.len(),
        spent.len(),
        "no spent refresh token was sent again: {spent:?}"
    );
    // And the session goes on refreshing with the newest refresh token.
    idp.api_rejections.store(1, Ordering::SeqCst);
    let r = browser.get(&format!("{}/api", app.url)).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_eq!(me_status(&browser, &app).await, 200, "still logged in");
}

#[rocket::async_test]
async fn a_background_refresh_keeps_cookie_sessions() {
    a_background_refresh_keeps_the_user_logged_in(|f| f).await;
}

#[rocket::async_test]
async fn a_background_refresh_keeps_stored_sessions() {
    a_background_refresh_keeps_the_user_logged_in(memory_store).await;
}

/// Reviewer's finding on issue 25, item 4: a background job and the user's session that
/// refresh at the same moment spend the refresh token once (the other takes the result).
async fn a_job_and_a_session_refreshing_at_once_spend_the_token_once(
    tweak: fn(Figment) -> Figment,
) {
    let idp = start_idp().await;
    let app = start_app(&idp, false, tweak).await;
    let browser = Browser::new();
    log_in(&browser, &app).await;
    idp.script(|s| s.refresh_delay = Duration::from_millis(300));
    // Both calls are refused, so both want a refresh, at once.
    idp.api_rejections.store(2, Ordering::SeqCst);
    let (job, session) = (format!("{}/detached", app.url), format!("{}/api", app.url));
    let (job, session) = rocket::tokio::join!(browser.get(&job), browser.get(&session));
    assert_eq!(job.status(), 200, "{:?}", job.text().await);
    assert_eq!(session.status(), 200, "{:?}", session.text().await);
    assert_eq!(idp.refresh_calls(), 1, "one refresh at the provider");
    assert_eq!(me_status(&browser, &app).await, 200, "still logged in");
}

#[rocket::async_test]
async fn a_job_and_a_cookie_session_refreshing_at_once_spend_the_token_once() {
    a_job_and_a_session_refreshing_at_once_spend_the_token_once(|f| f).await;
}

#[rocket::async_test]
async fn a_job_and_a_stored_session_refreshing_at_once_spend_the_token_once() {
    a_job_and_a_session_refreshing_at_once_spend_the_token_once(memory_store).await;
}

/// Reviewer's finding on issue 25, item 4: with `store = "memory"`, the rotated refresh
/// tokens the ledger keeps never take the sessions' places in the store.
#[rocket::async_test]
async fn rotations_do_not_crowd_sessions_out_of_the_memory_store() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| {
        f.merge(("oauth.session", json!({ "store": "memory", "capacity": 2 })))
    })
    .await;
    let (alice, bob) = (Browser::new(), Browser::new());
    log_in(&alice, &app).await;
    for refreshes in 1..=3 {
        idp.api_rejections.store(1, Ordering::SeqCst);
        let r = alice.get(&format!("{}/api", app.url)).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        assert_eq!(idp.refresh_calls(), refreshes);
    }
    log_in(&bob, &app).await;
    assert_eq!(
        me_status(&alice, &app).await,
        200,
        "alice's session is kept"
    );
    assert_eq!(me_status(&bob, &app).await, 200);
}

/// Issue 26, item 1: a periodic job spawned at liftoff keeps the provider's API handle and
/// calls the API with stored credentials, outside any request.
#[rocket::async_test]
async fn a_periodic_job_calls_the_api_with_stored_credentials() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    log_in(&Browser::new(), &app).await;
    for _ in 0..50 {
        if !app.log.job_answers.lock().unwrap().is_empty() {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(*app.log.job_answers.lock().unwrap(), ["alice"]);
}

#[rocket::get("/other-private")]
fn other_private(_user: rocket_oauth::LoginRequired<crate::common::app::Other>) -> &'static str {
    "other's page"
}

/// With several fairings, the redirect of one provider's `OrLogin` (made by whichever
/// fairing answers first) still carries the removal of that provider's ended session.
#[rocket::async_test]
async fn a_refused_refresh_of_a_later_provider_removes_its_cookie_in_the_redirect() {
    use crate::common::app::{Idp, Other};
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    idp.script(|s| s.refresh = RefreshReply::InvalidGrant);
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", provider_config(&idp, "idp", port)))
        .merge(("oauth.other", provider_config(&idp, "other", port)));
    let rocket = rocket::custom(figment)
        .attach(Idp.fairing())
        .attach(Other.fairing())
        .mount("/", rocket::routes![other_private]);
    let url = launch(rocket).await;
    let browser = Browser::new();
    let (r, _) = browser
        .follow(&format!("{url}/auth/other/login?next=/other-private"))
        .await;
    assert_eq!(r.text().await.unwrap(), "other's page");
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = browser.get(&format!("{url}/other-private")).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/auth/other/login?next="));
    let removed = r.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("oauth_other=") && c.contains("Max-Age=0")
    });
    assert!(removed, "the ended session's cookie is removed");
}
