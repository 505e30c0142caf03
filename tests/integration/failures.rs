//! Every way a login can fail ends in a clear 4xx page, never a 500, and the visitor stays
//! logged out.

use std::time::{Duration, Instant};

use crate::common::app::{start_app, App};
use crate::common::*;
use rocket_oauth::testing::AuthorizeReply;

/// Starts a login and returns the callback URL the provider sends the browser to.
async fn callback_url(browser: &Browser, app: &App, next: &str) -> String {
    let r = browser
        .get(&format!(
            "{}/auth/idp/login?next={}",
            app.url,
            urlencode(next)
        ))
        .await;
    assert_eq!(r.status(), 303);
    let r = browser.get(&location(&r)).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    location(&r)
}

async fn assert_logged_out(browser: &Browser, app: &App) {
    assert_eq!(browser.get(&format!("{}/me", app.url)).await.status(), 401);
}

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    parsed.to_string()
}

#[rocket::async_test]
async fn state_mismatch_is_refused() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    let state = query_param(&callback, "state").unwrap();
    // A state one character off names no attempt of this browser.
    let mut forged = state.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let r = browser.get(&with_param(&callback, "state", &forged)).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));
    assert_logged_out(&browser, &app).await;
    assert_eq!(idp.requests_to("/token").len(), 0);
}

#[rocket::async_test]
async fn missing_state_or_attempt_cookie_gets_a_retry_page() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;

    // Another browser (cookies blocked, or the attempt expired) with a valid-looking callback.
    let stranger = Browser::new();
    let r = stranger.get(&callback).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("expired or cookies are blocked"), "{body}");
    assert!(
        body.contains("href=\"&#x2F;auth&#x2F;idp&#x2F;login\""),
        "retry link: {body}"
    );

    // No state at all.
    let r = browser
        .get(&format!("{}/auth/idp/callback?code=abc", app.url))
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no state"));
    assert_logged_out(&browser, &app).await;
}

#[rocket::async_test]
async fn provider_errors_are_shown_safely() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();

    // The user presses "Deny" at the provider.
    idp.script(|s| s.authorize = AuthorizeReply::Deny { description: None });
    let r = browser.get(&format!("{}/auth/idp/login", app.url)).await;
    let r = browser.get(&location(&r)).await;
    let callback = location(&r);
    assert!(callback.contains("error=access_denied"));
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Login cancelled"));

    // For this browser's own attempt, what the provider said is shown (escaped).
    idp.script(|s| {
        s.authorize = AuthorizeReply::Deny {
            description: Some("No scope was requested <b>".into()),
        }
    });
    let r = browser.get(&format!("{}/auth/idp/login", app.url)).await;
    let deny = location(&r);
    let r = browser.get(&location(&browser.get(&deny).await)).await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("The provider said: “No scope was requested &lt;b&gt;”"),
        "{body}"
    );

    // A forged callback (no attempt of this browser): its description is never echoed.
    let r = browser
        .get(&format!(
            "{}/auth/idp/callback?error=server_error&error_description=%3Cb%3Ecall+us%3C%2Fb%3E&state=x",
            app.url
        ))
        .await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("server_error") && !body.contains("call us"),
        "{body}"
    );
    assert!(body.contains("The provider refused the login"), "{body}");
    let r = browser
        .get(&format!("{}/auth/idp/callback?error=%3Cscript%3E", app.url))
        .await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("unknown_error") && !body.contains("<script>"),
        "{body}"
    );
    assert_logged_out(&browser, &app).await;
}

#[rocket::async_test]
async fn token_endpoint_failures_are_error_pages() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    // A refusal is the login's problem (400); a provider that fails or answers garbage is
    // unavailable (502): not the visitor's fault.
    for (mode, expected, status) in [
        (TokenReply::ServerError, "HTTP status 500", 502),
        (TokenReply::NotJson, "not valid JSON", 502),
        (TokenReply::ErrorIn200, "bad_verification_code", 400),
        (TokenReply::NoAccessToken, "access_token", 502),
        (TokenReply::Hang, "timed out", 502),
    ] {
        idp.set_mode(mode.clone());
        let browser = Browser::new();
        let callback = callback_url(&browser, &app, "/me").await;
        let started = Instant::now();
        let r = browser.get(&callback).await;
        assert_eq!(r.status(), status, "{mode:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "{mode:?}: {body}");
        assert!(!body.contains("at-"), "no token in the page: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{mode:?} honours the timeout"
        );
        assert_logged_out(&browser, &app).await;
    }
}

/// RFC 6749 §7.1: a token of a type the client does not understand is not used.
#[rocket::async_test]
async fn a_token_that_is_not_bearer_is_refused() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    idp.set_mode(TokenReply::TokenType("mac".into()));
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`mac` token"));
    assert_logged_out(&browser, &app).await;
    assert_eq!(app.log.logins.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// A `next` that passes the same-site check but holds characters a `Location` cannot
/// (non-ASCII, quotes, braces) is percent-encoded: the login still lands, never a 500.
#[rocket::async_test]
async fn a_next_with_unusual_characters_still_lands() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/café?q=\"{x}\"&y=<b>").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(location(&r), "/caf%C3%A9?q=%22%7Bx%7D%22&y=%3Cb%3E");
    assert_eq!(
        browser.get(&format!("{}/me", app.url)).await.status(),
        200,
        "the session was stored"
    );
}

#[rocket::async_test]
async fn an_unreachable_provider_is_a_502() {
    let idp = start_idp().await;
    let dead = format!("http://127.0.0.1:{}/token", free_port());
    let app = start_app(&idp, false, move |f| f.merge(("oauth.idp.token_url", dead))).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("could not reach"));
}

#[rocket::async_test]
async fn replayed_callback_is_refused() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    assert_eq!(browser.get(&callback).await.status(), 303);
    browser.post(&format!("{}/auth/idp/logout", app.url)).await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));
    assert_logged_out(&browser, &app).await;
}

#[rocket::async_test]
async fn next_cannot_redirect_off_site() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    for evil in [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/%2F%2Fevil.example",
        "javascript:alert(1)",
        "/ok\r\nX-Injected: 1",
    ] {
        let browser = Browser::new();
        let callback = callback_url(&browser, &app, evil).await;
        let r = browser.get(&callback).await;
        assert_eq!(
            r.status(),
            200,
            "{evil:?} is dropped: the success page is shown"
        );
        assert!(r.headers().get("location").is_none());
        let r = browser
            .post(&format!(
                "{}/auth/idp/logout?next={}",
                app.url,
                urlencode(evil)
            ))
            .await;
        assert_eq!(location(&r), "/", "{evil:?}");
    }
}

#[rocket::async_test]
async fn tampered_cookies_read_as_logged_out() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    let r = browser.get(&callback).await;
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("oauth_idp="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let me = format!("{}/me", app.url);
    let r = raw
        .get(&me)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the genuine cookie works");

    let (name, value) = session.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    for cookie in [tampered.as_str(), "oauth_idp=garbage", "oauth_idp="] {
        let r = raw.get(&me).header("cookie", cookie).send().await.unwrap();
        assert_eq!(r.status(), 401, "{cookie}");
        let r = raw
            .get(format!("{}/private", app.url))
            .header("cookie", cookie)
            .header("sec-fetch-mode", "navigate")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{cookie}");
    }
    // A forged attempt cookie is treated as missing.
    let r = raw
        .get(format!(
            "{}/auth/idp/callback?code=x&state=abcdefghijklmnopqrstuv",
            app.url
        ))
        .header("cookie", "oauth_idp_login_abcdefghijkl=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[rocket::async_test]
async fn malformed_callbacks_are_4xx() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f).await;
    let raw = reqwest::Client::new();
    let base = format!("{}/auth/idp/callback", app.url);
    for query in [
        "",
        "?",
        "?state=%ZZ&code=%",
        "?state=&code=",
        "?state=short",
        "?code=a&code=b&state=c",
    ] {
        let r = raw.get(format!("{base}{query}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query:?}");
    }
    let r = raw
        .post(&base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("state=%ZZ&&&==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = raw
        .post(&base)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[rocket::async_test]
async fn form_post_callback_completes_a_login() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| f.merge(("oauth.idp.form_post", true))).await;
    let browser = Browser::new();
    let r = browser
        .get(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("SameSite=None") && cookie.contains("Secure"),
        "{cookie}"
    );
    // reqwest's cookie store won't send a Secure cookie over http: replay it by hand.
    let attempt = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        query_param(&location(&r), "response_mode").as_deref(),
        Some("form_post")
    );
    // The provider answers with a page that POSTs the response to the callback.
    let page = browser.get(&location(&r)).await.text().await.unwrap();
    let form = hidden_fields(&page);
    assert!(form.iter().any(|(k, _)| k == "code"), "{page}");
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/auth/idp/callback", app.url))
        .header("cookie", attempt)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/me");
}

#[rocket::async_test]
async fn rfc9207_issuer_is_checked_when_known() {
    let idp = start_idp().await;
    let app = start_app(&idp, false, |f| {
        f.merge(("oauth.idp.issuer", "https://idp.example"))
    })
    .await;
    idp.script(|s| s.authorization_iss = Some("https://evil.example".into()));
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unexpected issuer"));

    idp.script(|s| s.authorization_iss = Some("https://idp.example".into()));
    let callback = callback_url(&browser, &app, "/me").await;
    assert_eq!(browser.get(&callback).await.status(), 303);

    // A provider with no configured issuer ignores `iss` (GitHub's 2026 change).
    let app = start_app(&idp, false, |f| f).await;
    idp.script(|s| s.authorization_iss = Some("https://anything.example".into()));
    let browser = Browser::new();
    let callback = callback_url(&browser, &app, "/me").await;
    assert_eq!(browser.get(&callback).await.status(), 303);
}
