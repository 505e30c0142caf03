//! The authorization server as an OpenID Provider, logged in to by this crate's own OpenID
//! Connect client in the same app: discovery, the consent page, the code exchange, the ID
//! token (signature against the JWKS, nonce, at_hash, aud) and userinfo, end to end.

use rocket::http::{Cookie, CookieJar};
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Request};
use rocket_oauth::server::{AuthorizationServer, ResourceOwner, SignOut};
use rocket_oauth::{AccessToken, ApiClient, Provider, ProviderDefaults, User};

use crate::common::*;

/// The app's users: whoever `/sign-in?user=` named (a plain cookie: a test).
struct Users;

#[rocket::async_trait]
impl ResourceOwner for Users {
    async fn current(&self, request: &Request<'_>) -> Option<String> {
        request.cookies().get("user").map(|c| c.value().to_owned())
    }

    async fn sign_out(&self, request: &Request<'_>) {
        request.cookies().remove(Cookie::from("user"));
    }

    async fn authenticated_at(&self, request: &Request<'_>) -> Option<i64> {
        request.cookies().get("at")?.value().parse().ok()
    }

    async fn claims(&self, owner: &str, scopes: &[String]) -> serde_json::Map<String, Value> {
        let mut claims = serde_json::Map::new();
        if scopes.iter().any(|s| s == "profile") {
            claims.insert("name".into(), json!(format!("{owner} Example")));
        }
        if scopes.iter().any(|s| s == "email") {
            claims.insert("email".into(), json!(format!("{owner}@example.com")));
            claims.insert("email_verified".into(), json!(true));
            // An app's claim cannot override the provider's own.
            claims.insert("iss".into(), json!("https://evil.example"));
        }
        claims
    }
}

#[get("/sign-in?<user>&<next>&<at>")]
fn sign_in(user: &str, next: Option<&str>, at: Option<i64>, cookies: &CookieJar<'_>) -> Redirect {
    cookies.add(Cookie::new("user", user.to_owned()));
    if let Some(at) = at {
        cookies.add(Cookie::new("at", at.to_string()));
    }
    Redirect::to(next.unwrap_or("/").to_owned())
}

/// The app's own logout: signs the user out here and ends their sign-in session at the
/// provider (its clients are told).
#[rocket::post("/app-logout")]
async fn app_logout(sign_out: SignOut<'_>, cookies: &CookieJar<'_>) -> String {
    cookies.remove(Cookie::from("user"));
    sign_out.sign_out().await.join(" ")
}

/// This crate's OpenID Connect client, logging in against the same app.
struct Sso;

impl Provider for Sso {
    const NAME: &'static str = "sso";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["profile", "email"])
    }
}

#[get("/id-token")]
fn id_token(token: AccessToken<Sso>) -> String {
    token
        .credentials()
        .id_token()
        .unwrap_or_default()
        .to_owned()
}

/// The login's access token and its type.
#[get("/access-token")]
fn access_token(token: AccessToken<Sso>) -> Value {
    let credentials = token.credentials();
    json!({ "token": credentials.access_token(), "type": credentials.token_type() })
}

/// The provider's userinfo, fetched with the API client (refreshing when needed).
#[get("/userinfo-via-api?<url>")]
async fn userinfo_via_api(api: ApiClient<'_, Sso>, url: &str) -> Value {
    match api.get(url).await {
        Ok(response) => {
            json!({ "status": response.status(), "body": response.json::<Value>().ok() })
        }
        Err(e) => json!({ "error": e.to_string() }),
    }
}

#[get("/whoami")]
fn whoami(user: User<Sso>) -> Value {
    json!({ "subject": user.subject, "email": user.verified_email(), "name": user.name })
}

async fn start() -> String {
    start_with(json!({})).await
}

/// The app with `server` merged over its `oauth_server` configuration.
async fn start_with(server: Value) -> String {
    start_app(|_| server, |_| json!({})).await
}

/// The app with `server(url)` merged over its `oauth_server` configuration and `oauth(url)`
/// over its `oauth`'s.
async fn start_app(
    server: impl FnOnce(&str) -> Value,
    oauth: impl FnOnce(&str) -> Value,
) -> String {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let figment = base_figment()
        .merge(("port", port))
        .merge((
            "oauth_server",
            json!({
                "issuer": url,
                "signing_keys": ["tests/keys/rsa1.pem", "tests/keys/rsa2.pem"],
                "login_url": "/sign-in",
                "scopes": {"openid": "Sign you in", "profile": "Your name", "email": "Your email"},
                "clients": [{
                    "id": "app", "secret": "app-secret", "name": "The app",
                    "redirect_uris": [format!("{url}/auth/sso/callback")],
                    "post_logout_redirect_uris": [format!("{url}/bye")],
                    "scopes": ["openid", "profile", "email"],
                }],
            }),
        ))
        .merge((
            "oauth.sso",
            json!({
                "client_id": "app", "client_secret": "app-secret", "issuer": url,
                "redirect_uri": format!("{url}/auth/sso/callback"), "timeout": 5,
                "provider_logout": true, "post_logout_redirect_uri": format!("{url}/bye"),
            }),
        ))
        .merge(("oauth_server", server(&url)))
        .merge(("oauth", oauth(&url)));
    let rocket = rocket::custom(figment)
        .attach(AuthorizationServer::new(Users))
        .attach(Sso.fairing())
        .mount(
            "/",
            routes![
                sign_in,
                whoami,
                id_token,
                access_token,
                userinfo_via_api,
                app_logout
            ],
        );
    launch(rocket).await
}

/// Signs in at the app as alice, then logs in with its own provider (consent accepted):
/// the landing answer.
async fn log_in(browser: &Browser, url: &str) -> reqwest::Response {
    browser.get(&format!("{url}/sign-in?user=alice")).await;
    let r = browser
        .get(&format!("{url}/auth/sso/login?next=/whoami"))
        .await;
    let authorize = location(&r);
    if !authorize.starts_with(&format!("{url}/oauth/authorize?")) {
        panic!(
            "no redirect to the provider: {} {}",
            r.status(),
            r.text().await.unwrap()
        );
    }
    // The provider advertises pushed requests (RFC 9126): the browser carries only the
    // client id and the `request_uri`, never the nonce, PKCE challenge or scopes.
    assert!(
        query_param(&authorize, "request_uri").is_some(),
        "{authorize}"
    );
    assert!(query_param(&authorize, "nonce").is_none());
    let consent = browser.get(&authorize).await;
    assert_eq!(consent.status(), 200);
    let page = consent.text().await.unwrap();
    let r = submit_consent(browser, url, &page, "Accept").await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let (r, visited) = browser.follow(&location(&r)).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    r
}

#[rocket::async_test]
async fn this_crates_oidc_client_logs_in_against_its_own_openid_provider() {
    let url = start().await;
    let browser = Browser::new();
    // Discovery, as OpenID Connect Discovery 1.0 §3 asks.
    let discovery = browser
        .json(&format!("{url}/.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery["issuer"], url.as_str());
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        assert!(!discovery[field].is_null(), "{field}");
    }
    let jwks = browser.json(discovery["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "both keys published"
    );
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");

    // Sign in at the app, then log in with its own provider: consent, code, ID token.
    let r = log_in(&browser, &url).await;
    let who: Value = r.json().await.unwrap();
    assert_eq!(
        who,
        json!({"subject": "alice", "email": "alice@example.com", "name": "alice Example"})
    );
}

#[rocket::async_test]
async fn userinfo_needs_a_live_openid_token() {
    let url = start().await;
    let r = Browser::new()
        .client()
        .get(format!("{url}/oauth/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

#[rocket::async_test]
async fn prompt_and_max_age_are_honoured() {
    let url = start().await;
    let browser = Browser::new();
    let callback = urlencode(&format!("{url}/auth/sso/callback"));
    let authorize = |extra: &str| {
        format!(
            "{url}/oauth/authorize?response_type=code&client_id=app&redirect_uri={callback}\
             &scope=openid&state=s1&nonce=n1{extra}"
        )
    };
    // prompt=none: never a page; the client hears why.
    let r = browser.get(&authorize("&prompt=none")).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&location(&r), "state").as_deref(), Some("s1"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    browser
        .get(&format!("{url}/sign-in?user=alice&at={}", now - 3600))
        .await;
    let r = browser.get(&authorize("&prompt=none")).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("consent_required")
    );
    let r = browser.get(&authorize("&prompt=none%20login")).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );

    // prompt=login: to the sign-in page, and back with the same request: a fresh login
    // then gets the consent page (the browser was marked as sent: no loop).
    let r = browser.get(&authorize("&prompt=login")).await;
    let to = location(&r);
    assert!(to.starts_with("/sign-in?next="), "{to}");
    let next = query_param(&format!("http://x{to}"), "next").unwrap();
    assert!(
        next.starts_with("/oauth/authorize?") && next.contains("prompt=login"),
        "{next}"
    );
    assert!(next.contains("nonce=n1"), "{next}");
    let r = sign_in_again(&browser, &url, &to, &format!("&user=alice&at={}", now + 1)).await;
    assert_eq!(r.status(), 200, "the consent page after a fresh login");
    browser
        .get(&format!("{url}/sign-in?user=alice&at={}", now - 3600))
        .await;

    // max_age: signed in an hour ago is too long ago for 60 s, not for 2 hours.
    let r = browser.get(&authorize("&max_age=60")).await;
    assert!(
        location(&r).starts_with("/sign-in?next="),
        "{}",
        location(&r)
    );
    let r = browser.get(&authorize("&max_age=7200")).await;
    assert_eq!(r.status(), 200, "the consent page");
    browser
        .get(&format!("{url}/sign-in?user=alice&at={now}"))
        .await;
    let r = browser.get(&authorize("&max_age=60")).await;
    assert_eq!(r.status(), 200, "signed in just now");
}

#[rocket::async_test]
async fn logout_ends_the_session_at_the_provider_too() {
    let url = start().await;
    let browser = Browser::new();
    assert_eq!(log_in(&browser, &url).await.status(), 200);
    // The client's logout sends the browser to the provider's end_session with the ID
    // token as hint; the provider signs the user out and sends them back.
    let r = browser.post(&format!("{url}/auth/sso/logout")).await;
    let end_session = location(&r);
    assert!(
        end_session.starts_with(&format!("{url}/oauth/end_session?")),
        "{end_session}"
    );
    let r = browser.get(&end_session).await;
    assert_eq!(location(&r), format!("{url}/bye"));
    // Signed out at the provider: a silent login now needs one.
    let callback = urlencode(&format!("{url}/auth/sso/callback"));
    let r = browser
        .get(&format!(
            "{url}/oauth/authorize?response_type=code&client_id=app&redirect_uri={callback}\
             &scope=openid&state=s&prompt=none"
        ))
        .await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("login_required")
    );

    // A hint the provider did not sign names no client: no redirect, just a page.
    let hint = query_param(&end_session, "id_token_hint").unwrap();
    let forged = format!("{}x", &hint[..hint.len() - 1]);
    let r = browser
        .get(&format!(
            "{url}/oauth/end_session?id_token_hint={forged}&post_logout_redirect_uri={}",
            urlencode(&format!("{url}/bye"))
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("signed out"));
    // An unregistered destination is never redirected to.
    let r = browser
        .get(&format!(
            "{url}/oauth/end_session?client_id=app&post_logout_redirect_uri={}",
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(r.status(), 200);
}

/// The JOSE header of a compact JWT.
fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Logs in, then starts the client's logout: the ID token it sends as hint.
async fn id_token_of_a_login(url: &str) -> String {
    let browser = Browser::new();
    assert_eq!(log_in(&browser, url).await.status(), 200);
    let r = browser.post(&format!("{url}/auth/sso/logout")).await;
    query_param(&location(&r), "id_token_hint").expect("an id_token_hint")
}

#[rocket::async_test]
async fn es256_keys_sign_id_tokens_when_chosen() {
    // An ES256 key and an RSA key: ES256 chosen; both published, ES256 listed first.
    let url = start_with(json!({
        "signing_keys": ["tests/keys/rsa1.pem", "tests/keys/ec1.pem"],
        "id_token_signing_alg": "ES256",
    }))
    .await;
    let browser = Browser::new();
    let discovery = browser
        .json(&format!("{url}/.well-known/openid-configuration"))
        .await;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    let jwks = browser.json(&format!("{url}/oauth/jwks")).await;
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["RSA", "EC"]);
    assert_eq!(jwks["keys"][1]["crv"], "P-256");
    assert!(jwks["keys"][1].get("d").is_none(), "no private part");
    // This crate's client validated the ES256 ID token (the login landed); its header says
    // so, with the EC key's id.
    let header = jwt_header(&id_token_of_a_login(&url).await);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], jwks["keys"][1]["kid"]);
}

#[rocket::async_test]
async fn a_wrong_signing_configuration_fails_at_ignite() {
    for (server, key) in [
        (
            json!({"id_token_signing_alg": "ES256"}),
            "id_token_signing_alg",
        ),
        (
            json!({"id_token_signing_alg": "HS256"}),
            "id_token_signing_alg",
        ),
        (
            json!({"generate_signing_keys": true}),
            "generate_signing_keys",
        ),
        (
            json!({"signing_keys": ["tests/keys/apple_authkey.pub.pem"]}),
            "signing_keys",
        ),
        (
            json!({"generate_signing_keys": true, "signing_keys": [], "signing_key_rotation": 60}),
            "signing_key_rotation",
        ),
    ] {
        let mut config = json!({
            "issuer": "http://127.0.0.1:8000",
            "signing_keys": ["tests/keys/rsa1.pem"],
        });
        for (k, v) in server.as_object().unwrap() {
            config[k] = v.clone();
        }
        let rocket = rocket::custom(base_figment().merge(("oauth_server", config)))
            .attach(AuthorizationServer::new(Users));
        let error = rocket.ignite().await.unwrap_err();
        assert!(
            matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{key}"
        );
    }
}

#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn generated_keys_are_kept_in_the_store_and_shared_by_instances() {
    let path = std::env::temp_dir().join(format!("rocket_oauth-keys-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let database = format!("sqlite://{}", path.display());
    let server = json!({
        "signing_keys": [],
        "generate_signing_keys": true,
        "id_token_signing_alg": "ES256",
        "database_url": database,
    });
    let first = start_with(server.clone()).await;
    let browser = Browser::new();
    let jwks = browser.json(&format!("{first}/oauth/jwks")).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "one key made");
    let kid = jwks["keys"][0]["kid"].clone();
    let header = jwt_header(&id_token_of_a_login(&first).await);
    assert_eq!((&header["alg"], &header["kid"]), (&json!("ES256"), &kid));
    // Another instance on the same database (the same secret_key) signs with the same key.
    let second = start_with(server).await;
    let jwks = browser.json(&format!("{second}/oauth/jwks")).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], kid);
    let header = jwt_header(&id_token_of_a_login(&second).await);
    assert_eq!(header["kid"], kid);
    // The private key is stored sealed, never as PEM.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"));
    let _ = std::fs::remove_file(&path);
}

#[rocket::async_test]
async fn generated_rs256_keys_by_default() {
    let url = start_with(json!({"signing_keys": [], "generate_signing_keys": true})).await;
    let discovery = Browser::new()
        .json(&format!("{url}/.well-known/openid-configuration"))
        .await;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let header = jwt_header(&id_token_of_a_login(&url).await);
    assert_eq!(header["alg"], "RS256");
}

/// Issue 25, items 11 and 10: `end_session` without a valid hint for the signed-in user
/// (a cross-site link) only asks, with a CSRF-checked POST; and it redirects only with a
/// valid hint, never on a bare `client_id`.
#[rocket::async_test]
async fn end_session_without_a_valid_hint_asks_and_never_redirects() {
    let url = start().await;
    let browser = Browser::new();
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    browser
        .get(&format!("{url}/sign-in?user=alice&at={now}"))
        .await;
    /// Whether the OP still has the user signed in (a silent authorization then needs
    /// consent, not a login).
    async fn signed_in_at(browser: &Browser, url: &str) -> bool {
        let callback = urlencode(&format!("{url}/auth/sso/callback"));
        let authorize = format!(
            "{url}/oauth/authorize?response_type=code&client_id=app&redirect_uri={callback}\
             &scope=openid&state=s&prompt=none"
        );
        let r = browser.get(&authorize).await;
        query_param(&location(&r), "error").as_deref() == Some("consent_required")
    }
    let signed_in = |browser| signed_in_at(browser, &url);
    assert!(signed_in(&browser).await);
    // A cross-site GET: a question, not a sign-out, and no redirect.
    let bye = urlencode(&format!("{url}/bye"));
    let r = browser
        .get(&format!(
            "{url}/oauth/end_session?client_id=app&post_logout_redirect_uri={bye}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Sign out of"), "{page}");
    assert!(signed_in(&browser).await, "still signed in");
    // The form without its token (a forged POST) is refused.
    let refused = browser
        .client()
        .post(format!("{url}/oauth/end_session"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(signed_in(&browser).await, "still signed in");
    // The user's own answer signs out.
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let r = browser
        .client()
        .post(format!("{url}/oauth/end_session"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!signed_in(&browser).await, "signed out");
    // Signed out, a bare client_id still gets no redirect to its registered URI.
    let r = browser
        .get(&format!(
            "{url}/oauth/end_session?client_id=app&post_logout_redirect_uri={bye}"
        ))
        .await;
    assert_eq!(r.status(), 200);
}

/// An authorization request of the app's own client, with `extra` parameters.
fn authorize_url(url: &str, extra: &str) -> String {
    let callback = urlencode(&format!("{url}/auth/sso/callback"));
    format!(
        "{url}/oauth/authorize?response_type=code&client_id=app&redirect_uri={callback}\
         &state=s1&nonce=n1{extra}"
    )
}

/// Accepts the consent `page` (its hidden fields changed by `edit`) and redeems the code: the
/// ID token's claims.
async fn id_token_claims(
    browser: &Browser,
    url: &str,
    page: &str,
    edit: impl FnOnce(&mut Vec<(String, String)>),
) -> Result<Value, reqwest::Response> {
    use base64::Engine;
    let mut form = hidden_fields(page);
    edit(&mut form);
    form.push(("decision".into(), "Accept".into()));
    let r = browser
        .client()
        .post(format!("{url}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return Err(r);
    }
    let code = query_param(&location(&r), "code").expect("a code");
    let tokens: Value = reqwest::Client::new()
        .post(format!("{url}/oauth/token"))
        .basic_auth("app", Some("app-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &format!("{url}/auth/sso/callback")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    Ok(serde_json::from_slice(&payload).unwrap())
}

/// Follows the server's redirect to the app's sign-in (which signs in again, as `query`
/// says) and back: the answer of the authorization endpoint then.
async fn sign_in_again(browser: &Browser, url: &str, to: &str, query: &str) -> reqwest::Response {
    assert!(to.starts_with("/sign-in?"), "to the sign-in: {to}");
    let r = browser.get(&format!("{url}{to}{query}")).await;
    browser.get(&format!("{url}{}", location(&r))).await
}

/// Issue 25, item 12: without `authenticated_at`, consent is never reported as
/// authentication: freshness asked of a signed-in user cannot be proven (`login_required`,
/// also when the browser skips the sign-in), and a signed-out user sent to sign in gets the
/// time they were sent.
#[rocket::async_test]
async fn auth_time_is_never_the_consent_time() {
    let url = start().await;
    let browser = Browser::new();
    browser.get(&format!("{url}/sign-in?user=alice")).await;
    // No freshness asked, login time unknown: no auth_time at all.
    let page = browser
        .get(&authorize_url(&url, "&scope=openid"))
        .await
        .text()
        .await
        .unwrap();
    let claims = id_token_claims(&browser, &url, &page, |_| {})
        .await
        .unwrap();
    assert!(claims.get("auth_time").is_none(), "{claims}");

    // Signed in, login time unknown, max_age=0: nothing can prove a fresh login.
    let r = browser
        .get(&authorize_url(&url, "&scope=openid&max_age=0"))
        .await;
    let to = location(&r);
    assert!(to.starts_with(&format!("{url}/auth/sso/callback?")), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));

    // Signed out: to the sign-in, back to the consent page (no loop), and auth_time is
    // when the user was sent to sign in.
    let browser = Browser::new();
    let before = unix_now();
    let r = browser
        .get(&authorize_url(&url, "&scope=openid&max_age=0"))
        .await;
    let r = sign_in_again(&browser, &url, &location(&r), "&user=alice").await;
    assert_eq!(r.status(), 200, "the consent page after signing in");
    let page = r.text().await.unwrap();
    let claims = id_token_claims(&browser, &url, &page, |_| {})
        .await
        .unwrap();
    let auth_time = claims["auth_time"].as_i64().expect("auth_time for max_age");
    assert!((before..=unix_now()).contains(&auth_time), "{claims}");
}

/// Reviewer's finding on issue 25, item 12: a browser sent to authenticate again that opens
/// the way back without signing in gets `login_required`, not the consent page.
#[rocket::async_test]
async fn skipping_the_sign_in_does_not_make_a_login_fresh() {
    let url = start().await;
    let browser = Browser::new();
    let old = unix_now() - 3600;
    browser
        .get(&format!("{url}/sign-in?user=alice&at={old}"))
        .await;
    let r = browser
        .get(&authorize_url(&url, "&scope=openid&prompt=login"))
        .await;
    let to = location(&r);
    assert!(to.contains("prompt=login"), "asked to authenticate: {to}");
    let next = query_param(&format!("{url}{to}"), "next").expect("a next");
    let r = browser.get(&format!("{url}{next}")).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("login_required"),
        "{to}"
    );
}

/// Issue 25, item 12: a sign-in that does not authenticate again (the login time stays old)
/// ends with `login_required` at the client, not a loop.
#[rocket::async_test]
async fn a_sign_in_that_does_not_refresh_the_login_is_no_loop() {
    let url = start().await;
    let browser = Browser::new();
    let old = unix_now() - 3600;
    browser
        .get(&format!("{url}/sign-in?user=alice&at={old}"))
        .await;
    let r = browser
        .get(&authorize_url(&url, "&scope=openid&max_age=60"))
        .await;
    let r = sign_in_again(&browser, &url, &location(&r), "&user=alice").await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with(&format!("{url}/auth/sso/callback?")), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
}

/// Issue 25, item 13: the consent form is bound to the exact request shown: an edited
/// `scope` is refused.
#[rocket::async_test]
async fn the_consent_form_grants_only_what_it_showed() {
    let url = start().await;
    let browser = Browser::new();
    browser.get(&format!("{url}/sign-in?user=alice")).await;
    let page = browser
        .get(&authorize_url(&url, "&scope=openid"))
        .await
        .text()
        .await
        .unwrap();
    let edited = id_token_claims(&browser, &url, &page, |form| {
        form.retain(|(k, _)| k != "scope");
        form.push(("scope".into(), "openid profile email".into()));
    })
    .await;
    let refused = edited.expect_err("an edited scope is refused");
    assert_eq!(refused.status(), 400);
    // The form as shown still works.
    let claims = id_token_claims(&browser, &url, &page, |_| {})
        .await
        .unwrap();
    assert_eq!(claims["sub"], "alice");
}

/// Issue 25, item 13: an attacker's consent form and CSRF cookie planted in the victim's
/// browser do not hand the victim's code to the attacker's request.
#[rocket::async_test]
async fn a_planted_consent_form_does_not_act_for_the_victim() {
    use reqwest::cookie::CookieStore;
    let url = start().await;
    let (attacker, victim) = (Browser::new(), Browser::new());
    attacker.get(&format!("{url}/sign-in?user=mallory")).await;
    let page = attacker
        .get(&authorize_url(&url, "&scope=openid"))
        .await
        .text()
        .await
        .unwrap();
    victim.get(&format!("{url}/sign-in?user=alice")).await;
    // The attacker's CSRF cookie, planted in the victim's browser (a sibling origin can).
    let origin: url::Url = url.parse().unwrap();
    let cookies = attacker.jar().cookies(&origin).unwrap();
    for cookie in cookies.to_str().unwrap().split("; ") {
        if cookie.contains("csrf") {
            victim.jar().add_cookie_str(cookie, &origin);
        }
    }
    let r = id_token_claims(&victim, &url, &page, |_| {}).await;
    assert_eq!(r.expect_err("refused").status(), 400);
}

/// Issue 25, item 13: a consent POST from another origin is refused.
#[rocket::async_test]
async fn a_cross_origin_consent_is_refused() {
    let url = start().await;
    let browser = Browser::new();
    browser.get(&format!("{url}/sign-in?user=alice")).await;
    let page = browser
        .get(&authorize_url(&url, "&scope=openid"))
        .await
        .text()
        .await
        .unwrap();
    let mut form = hidden_fields(&page);
    form.push(("decision".into(), "Accept".into()));
    let r = browser
        .client()
        .post(format!("{url}/oauth/authorize"))
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// Issue 25, item 13: on an https issuer the consent form's cookie is `__Host-` prefixed.
#[rocket::async_test]
async fn an_https_issuer_host_prefixes_the_consent_cookie() {
    let port = free_port();
    let figment = base_figment().merge(("port", port)).merge((
        "oauth_server",
        json!({
            "issuer": format!("https://127.0.0.1:{port}"),
            "require_tls": false,
            "login_url": "/sign-in",
            "clients": [{
                "id": "app", "secret": "app-secret",
                "redirect_uris": ["https://127.0.0.1/cb"], "scopes": [],
            }],
        }),
    ));
    let rocket = rocket::custom(figment)
        .attach(AuthorizationServer::new(Users))
        .mount("/", routes![sign_in]);
    let url = launch(rocket).await;
    let browser = Browser::new();
    browser.get(&format!("{url}/sign-in?user=alice")).await;
    let r = browser
        .get(&format!(
            "{url}/oauth/authorize?response_type=code&client_id=app&state=s"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-oauth_server_csrf="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/;"),
        "{cookie}"
    );
}

/// Polls `/whoami` until it answers `status` (a back-channel logout is delivered in the
/// background); panics after five seconds.
async fn eventually(browser: &Browser, url: &str, status: u16) {
    for _ in 0..50 {
        if browser.get(&format!("{url}/whoami")).await.status() == status {
            return;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/whoami never answered {status}");
}

/// The app whose provider has the client register back- and front-channel logout, and
/// whose client (this crate's) takes them.
async fn start_federated() -> String {
    start_app(
        |url| {
            json!({ "clients": [{
                "id": "app", "secret": "app-secret", "name": "The app",
                "redirect_uris": [format!("{url}/auth/sso/callback")],
                "scopes": ["openid", "profile", "email"],
                "backchannel_logout_uri": format!("{url}/auth/sso/backchannel-logout"),
                "backchannel_logout_session_required": true,
                "frontchannel_logout_uri": format!("{url}/auth/sso/frontchannel-logout"),
            }]})
        },
        |_| {
            json!({
                "session": { "store": "memory" },
                "sso": { "backchannel_logout": true, "frontchannel_logout": true, "provider_logout": false },
            })
        },
    )
    .await
}

/// Issue 27: this crate's OpenID Provider and client interoperate over the back channel:
/// ID tokens carry the sign-in session (`sid`), and when the user signs out at the provider
/// (`end_session`, or the app's own logout through `SignOut`) the client receives a logout
/// token it accepts, and the user's session there ends.
#[rocket::async_test]
async fn the_providers_logout_reaches_its_clients_over_the_back_channel() {
    let url = start_app(|_| json!({}), |_| json!({})).await;
    let discovery = Browser::new()
        .json(&format!("{url}/.well-known/openid-configuration"))
        .await;
    for supported in [
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
    ] {
        assert_eq!(discovery[supported], true, "{supported}");
    }
    drop(url);

    let url = start_federated().await;
    let browser = Browser::new();
    assert_eq!(log_in(&browser, &url).await.status(), 200);
    // end_session with the client's ID token as hint (it names the sign-in session).
    let hint = id_token_of(&browser, &url).await;
    let claims = jwt_claims(&hint);
    let sid = claims["sid"]
        .as_str()
        .expect("the ID token names the sign-in session");
    // Another login in the same sign-in session names the same one.
    assert_eq!(log_in(&browser, &url).await.status(), 200);
    assert_eq!(jwt_claims(&id_token_of(&browser, &url).await)["sid"], sid);

    let r = browser
        .get(&format!("{url}/oauth/end_session?id_token_hint={hint}"))
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    // The end-session page frames the client's front-channel logout, with iss and sid.
    let frame = format!(
        "{url}/auth/sso/frontchannel-logout?iss={}&amp;sid={sid}",
        urlencode(&url)
    );
    assert!(page.contains(&frame), "{page}");
    eventually(&browser, &url, 401).await;

    // The app's own logout, through `SignOut`, tells the client as well.
    assert_eq!(log_in(&browser, &url).await.status(), 200);
    assert_eq!(browser.get(&format!("{url}/whoami")).await.status(), 200);
    let r = browser.post(&format!("{url}/app-logout")).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("frontchannel-logout?iss="));
    eventually(&browser, &url, 401).await;
}

/// The client's ID token.
async fn id_token_of(browser: &Browser, url: &str) -> String {
    let r = browser.get(&format!("{url}/id-token")).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Issue 29: this crate's client with `private_key_jwt`, pushed requests and DPoP logs in to
/// its own OpenID Provider in FAPI 2.0 mode (which requires all three; with DPoP server
/// nonces, which it follows at every endpoint), calls userinfo with DPoP-bound tokens (at
/// login and through the API client), refreshes, and logs out (its tokens revoked with an
/// assertion).
#[rocket::async_test]
async fn a_fapi2_login_with_private_key_jwt_pushed_requests_and_dpop() {
    use crate::common::dpop::Key;
    let key = Key::new();
    let jwk = key.jwk();
    let url = start_app(
        |url| {
            json!({
                "fapi2": true,
                "dpop_nonces": true,
                "access_token_ttl": 2,
                "clients": [{
                    "id": "app", "name": "The app",
                    "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [jwk]},
                    "redirect_uris": [format!("{url}/auth/sso/callback")],
                    "post_logout_redirect_uris": [format!("{url}/bye")],
                    "scopes": ["openid", "profile", "email"],
                }],
            })
        },
        |_| {
            json!({"sso": {
                "client_secret": "",
                "client_auth": "private_key_jwt",
                "client_key": key.pem(),
                "client_assertion_audience": "issuer",
                "par": true,
                "dpop": true,
            }})
        },
    )
    .await;
    let browser = Browser::new();
    let who: Value = log_in(&browser, &url).await.json().await.unwrap();
    assert_eq!(
        who["email"], "alice@example.com",
        "userinfo with a DPoP-bound token"
    );
    let token = browser.json(&format!("{url}/access-token")).await;
    assert_eq!(token["type"], "dpop");
    let raw = token["token"].as_str().unwrap().to_owned();
    // The stolen token alone is useless.
    let r = reqwest::Client::new()
        .get(format!("{url}/oauth/userinfo"))
        .bearer_auth(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let via_api = format!(
        "{url}/userinfo-via-api?url={}",
        urlencode(&format!("{url}/oauth/userinfo"))
    );
    let answer = browser.json(&via_api).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(answer["body"]["sub"], "alice");
    // The access token expires: the next call refreshes (a proof of the same key) first.
    rocket::tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let answer = browser.json(&via_api).await;
    assert_eq!(answer["status"], 200, "{answer}");
    let refreshed = browser.json(&format!("{url}/access-token")).await;
    assert_ne!(refreshed["token"], token["token"], "refreshed");
    assert_eq!(refreshed["type"], "dpop");

    // Logging out revokes the tokens at the provider, authenticated by an assertion.
    let r = browser.post(&format!("{url}/auth/sso/logout")).await;
    assert!(location(&r).starts_with(&format!("{url}/oauth/end_session?")));
    let introspect = |token: String| {
        let assertion = key.assertion("app", &url);
        let endpoint = format!("{url}/oauth/introspect");
        async move {
            let r = reqwest::Client::new()
                .post(endpoint)
                .form(&[
                    ("token", token.as_str()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let current = refreshed["token"].as_str().unwrap().to_owned();
    let mut active = true;
    for _ in 0..50 {
        active = introspect(current.clone()).await["active"] == true;
        if !active {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!active, "revoked at logout");
}
