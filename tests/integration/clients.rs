//! Clients registered while the server runs: the registry through `examples/client_admin.rs`
//! (its admin API), RFC 7591 dynamic registration, and two instances sharing one
//! PostgreSQL database. Black box: real processes, real HTTP.

use base64::Engine;
use reqwest::{Method, StatusCode};
use rocket::serde::json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::example::{rocket_toml_header, start, Running};
use crate::common::*;

const ADMIN_TOKEN: &str = "an-admin-token-long-enough-to-be-a-secret";
const REGISTRATION_TOKEN: &str = "initial-access-token-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9999/cb";

/// `client_admin` with `extra` lines in `[default.oauth_server]`.
async fn start_admin(extra: &str) -> (Running, String) {
    start_admin_on(free_port(), extra).await
}

async fn start_admin_on(port: u16, extra: &str) -> (Running, String) {
    let header = rocket_toml_header(port);
    // The `openid` scope below needs signing keys (unless the test says which).
    let keys = match extra.contains("signing_keys") {
        true => String::new(),
        false => format!(
            "signing_keys = [\"{}/tests/keys/rsa1.pem\"]",
            env!("CARGO_MANIFEST_DIR")
        ),
    };
    let config = format!(
        r#"{header}
[default.admin]
token = "{ADMIN_TOKEN}"
users = ["root"]

[default.oauth_server]
issuer = "http://127.0.0.1:{port}"
{keys}
{extra}

[default.oauth_server.scopes]
openid = "Sign you in"
profile = "Read your profile"
admin = "Administer everything"

[[default.oauth_server.clients]]
id = "fixed"
secret = "fixed-secret"
redirect_uris = ["{REDIRECT}"]
scopes = ["profile"]
"#
    );
    start("client_admin", &config, port).await
}

/// A call of the admin API: its status and JSON answer.
async fn admin(url: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!("v{}", "x".repeat(50));
    let digest = Sha256::digest(verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    (verifier, challenge)
}

/// Signs alice in at `url` and runs the consent for `client_id` up to the code.
async fn code(url: &str, client_id: &str, redirect: &str, scope: &str) -> String {
    let (browser, page) = consent_page(url, client_id, redirect, scope).await;
    let r = submit_consent(&browser, url, &page, "Accept").await;
    assert_eq!(r.status(), 303);
    query_param(&location(&r), "code").expect("a code")
}

/// Signs alice in at `url` and opens the consent page for `client_id`: the browser and
/// the page.
async fn consent_page(
    url: &str,
    client_id: &str,
    redirect: &str,
    scope: &str,
) -> (Browser, String) {
    let browser = Browser::new();
    let r = browser
        .client()
        .post(format!("{url}/login"))
        .form(&[("username", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, challenge) = pkce();
    let authorize = format!(
        "{url}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope={}&state=s1&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(redirect),
        urlencode(scope),
    );
    let r = browser.get(&authorize).await;
    assert_eq!(r.status(), 200, "the consent page");
    let page = r.text().await.unwrap();
    (browser, page)
}

/// `POST /oauth/token` with `form`, as `client_id` (basic auth with `secret`, or none).
async fn token(
    url: &str,
    client_id: &str,
    secret: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{url}/oauth/token"));
    let mut form = form.to_vec();
    match secret {
        Some(secret) => request = request.basic_auth(client_id, Some(secret)),
        None => form.push(("client_id", client_id)),
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn exchange(
    url: &str,
    client_id: &str,
    secret: Option<&str>,
    code: &str,
    redirect: &str,
) -> (StatusCode, Value) {
    let (verifier, _) = pkce();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    token(url, client_id, secret, &form).await
}

async fn api_me(url: &str, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{url}/api/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

#[rocket::async_test]
async fn clients_are_created_changed_rekeyed_and_removed_while_the_server_runs() {
    let (_app, url) = start_admin("").await;
    // Only the admin.
    let r = reqwest::get(format!("{url}/admin/clients")).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .get(format!("{url}/admin/clients"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Create: the secret is shown once, never listed.
    let (status, created) = admin(
        &url,
        Method::POST,
        "/admin/clients",
        Some(json!({"name": "Reports", "redirect_uris": [REDIRECT], "scopes": ["profile"]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let (status, listed) = admin(&url, Method::GET, "/admin/clients", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["client_id"], id.as_str());
    assert_eq!(listed[0]["name"], "Reports");
    assert!(!listed.to_string().contains(&secret));

    // The new client works at once: consent (its name on the page), code, token, API.
    let code1 = code(&url, &id, REDIRECT, "profile").await;
    let (status, tokens) = exchange(&url, &id, Some(&secret), &code1, REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(api_me(&url, &access).await, 200);

    // Update: a new redirect URI replaces the old one, which is refused (a page, never a
    // redirect); undeclared scopes are refused.
    let other = "http://127.0.0.1:9999/other";
    let (status, updated) = admin(
        &url,
        Method::PATCH,
        &format!("/admin/clients/{id}"),
        Some(json!({"redirect_uris": [other], "name": "Reports v2"})),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["redirect_uris"], json!([other]));
    let r = Browser::new()
        .get(&format!(
            "{url}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}&state=s",
            urlencode(REDIRECT)
        ))
        .await;
    assert_eq!(r.status(), 400);
    let (status, _) = admin(
        &url,
        Method::PATCH,
        &format!("/admin/clients/{id}"),
        Some(json!({"scopes": ["undeclared"]})),
    )
    .await;
    assert_eq!(status, 422);

    // Rotate: the old secret stops working at once, the new one works.
    let (status, rotated) = admin(
        &url,
        Method::POST,
        &format!("/admin/clients/{id}/secret"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, refused) = token(&url, &id, Some(&secret), &refresh_form).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (status, refreshed) = token(&url, &id, Some(&new_secret), &refresh_form).await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    let refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

    // Configured clients are read-only; unknown ones are 404.
    let (status, _) = admin(&url, Method::DELETE, "/admin/clients/fixed", None).await;
    assert_eq!(status, 409);
    let (status, _) = admin(&url, Method::POST, "/admin/clients/fixed/secret", None).await;
    assert_eq!(status, 409);
    let (status, _) = admin(&url, Method::DELETE, "/admin/clients/nobody", None).await;
    assert_eq!(status, 404);

    // Remove: its tokens stop working, and so does the client.
    let (status, _) = admin(&url, Method::DELETE, &format!("/admin/clients/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(api_me(&url, &access).await, 401);
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, _) = token(&url, &id, Some(&new_secret), &refresh_form).await;
    assert_eq!(status, 401);
    let (_, listed) = admin(&url, Method::GET, "/admin/clients", None).await;
    assert_eq!(listed, json!([]));

    // A public client: no secret, PKCE.
    let (status, public) = admin(
        &url,
        Method::POST,
        "/admin/clients",
        Some(json!({"name": "CLI", "redirect_uris": [REDIRECT], "scopes": ["profile"], "confidential": false})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(public["client_secret"].is_null());
    let id = public["client_id"].as_str().unwrap();
    let code2 = code(&url, id, REDIRECT, "profile").await;
    let (status, tokens) = exchange(&url, id, None, &code2, REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");

    // Dynamic registration is off by default.
    let r = reqwest::Client::new()
        .post(format!("{url}/oauth/register"))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Issue 26's black-box contract: a scope declared at runtime through instance `a` is
/// listed by `b`, a client created on `b` right after gets it at `a`'s consent page and in
/// its token, and its removal is seen at once.
async fn runtime_scopes_are_seen_at_once(a: &str, b: &str) {
    let scope = json!({"name": "reports:read", "description": "Read your reports"});
    let (status, created) = admin(a, Method::POST, "/admin/scopes", Some(scope)).await;
    assert_eq!(status, 201, "{created}");
    let (status, listed) = admin(b, Method::GET, "/admin/scopes", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"reports:read") && names.contains(&"profile"),
        "{listed}"
    );
    let metadata: Value = reqwest::get(format!("{b}/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(metadata["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("reports:read")));

    let new = json!({"name": "Reports", "redirect_uris": [REDIRECT], "scopes": ["reports:read"]});
    let (status, created) = admin(b, Method::POST, "/admin/clients", Some(new)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let (browser, page) = consent_page(a, &id, REDIRECT, "reports:read").await;
    assert!(
        page.contains("Read your reports"),
        "the description: {page}"
    );
    let r = submit_consent(&browser, a, &page, "Accept").await;
    let code = query_param(&location(&r), "code").expect("a code");
    let (status, tokens) = exchange(b, &id, Some(&secret), &code, REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "reports:read");

    // Configured scopes are read-only; names are RFC 6749 scope tokens.
    let configured = json!({"name": "profile", "description": "Mine now"});
    let (status, _) = admin(a, Method::POST, "/admin/scopes", Some(configured)).await;
    assert_eq!(status, 409);
    let spaced = json!({"name": "two words", "description": "No"});
    let (status, _) = admin(a, Method::POST, "/admin/scopes", Some(spaced)).await;
    assert_eq!(status, 422);

    // Removed on `b`: `a` no longer grants it, and the client no longer has it.
    let (status, _) = admin(b, Method::DELETE, "/admin/scopes/reports:read", None).await;
    assert_eq!(status, 200);
    let r = Browser::new()
        .get(&format!(
            "{a}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}\
             &scope=reports:read&state=s",
            urlencode(REDIRECT)
        ))
        .await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_scope")
    );
    let (_, clients) = admin(a, Method::GET, "/admin/clients", None).await;
    let ours = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id.as_str());
    assert_eq!(ours.unwrap()["scopes"], json!([]));
    let (status, _) = admin(a, Method::DELETE, "/admin/scopes/reports:read", None).await;
    assert_eq!(status, 404);
}

#[rocket::async_test]
async fn runtime_scopes_in_memory() {
    let (_app, url) = start_admin("").await;
    runtime_scopes_are_seen_at_once(&url, &url).await;
}

#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn runtime_scopes_in_sqlite_across_instances() {
    let db = std::env::temp_dir().join(format!("rocket_oauth-scopes-{}.db", free_port()));
    let _ = std::fs::remove_file(&db);
    let extra = format!("database_url = \"sqlite://{}\"", db.display());
    let (_a, a) = start_admin(&extra).await;
    let (_b, b) = start_admin(&extra).await;
    runtime_scopes_are_seen_at_once(&a, &b).await;
}

#[cfg(feature = "postgres")]
#[rocket::async_test]
async fn runtime_scopes_in_postgres_across_instances() {
    let Some(database) = crate::store::postgres::fresh_database().await else {
        return;
    };
    let extra = format!("database_url = \"{database}\"");
    let (_a, a) = start_admin(&extra).await;
    let (_b, b) = start_admin(&extra).await;
    runtime_scopes_are_seen_at_once(&a, &b).await;
}

async fn register(url: &str, token: Option<&str>, metadata: Value) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{url}/oauth/register"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.json(&metadata).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn dynamic_registration_follows_rfc_7591() {
    let (_app, url) = start_admin(&format!(
        r#"dynamic_registration = true
registration_token = "{REGISTRATION_TOKEN}"
registration_scopes = ["openid", "profile"]"#
    ))
    .await;
    let metadata = reqwest::get(format!("{url}/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        metadata["registration_endpoint"],
        format!("{url}/oauth/register")
    );

    let good = json!({"redirect_uris": [REDIRECT], "client_name": "Dynamic", "scope": "profile",
                      "contacts": ["ops@example.com"]});
    // The initial access token is required.
    let (status, _) = register(&url, None, good.clone()).await;
    assert_eq!(status, 401);
    let (status, _) = register(&url, Some("wrong-token-wrong-token"), good.clone()).await;
    assert_eq!(status, 401);
    // Bad metadata: the RFC's errors.
    for (metadata, error) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": [REDIRECT], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "not a list"}),
            "invalid_client_metadata",
        ),
        // Where the server itself posts logout tokens: never its own network (SSRF).
        (
            json!({"redirect_uris": [REDIRECT], "backchannel_logout_uri": "http://127.0.0.1:8000/logout"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "backchannel_logout_uri": "https://localhost/logout"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "backchannel_logout_uri": "https://169.254.169.254/latest"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "backchannel_logout_uri": "https://[::1]/logout"}),
            "invalid_client_metadata",
        ),
    ] {
        let (status, body) = register(&url, Some(REGISTRATION_TOKEN), metadata.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{metadata}"
        );
    }
    let r = reqwest::Client::new()
        .post(format!("{url}/oauth/register"))
        .bearer_auth(REGISTRATION_TOKEN)
        .body("redirect_uris=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A confidential client: 201 with its id and secret; it completes a flow.
    let (status, registered) = register(&url, Some(REGISTRATION_TOKEN), good).await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["client_name"], "Dynamic");
    assert_eq!(registered["scope"], "profile");
    assert_eq!(
        registered["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    assert_eq!(registered["client_secret_expires_at"], 0);
    assert_eq!(registered["grant_types"], json!(["authorization_code"]));
    let id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let code1 = code(&url, id, REDIRECT, "profile").await;
    let (status, tokens) = exchange(&url, id, Some(secret), &code1, REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    // The administrator sees it.
    let (_, listed) = admin(&url, Method::GET, "/admin/clients", None).await;
    assert_eq!(listed[0]["name"], "Dynamic");

    // A public (native) client: no secret; no scope named gets the registrable ones.
    let (status, native) = register(
        &url,
        Some(REGISTRATION_TOKEN),
        json!({"redirect_uris": ["http://127.0.0.1:45123/callback"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(native.get("client_secret").is_none());
    assert_eq!(native["scope"], "openid profile");
}

/// Two instances of the app on one PostgreSQL database: a client created on one works on
/// the other; the same code and the same refresh token raced at both are used once;
/// removal on one is seen by the other; generated signing keys are shared.
#[cfg(feature = "postgres")]
#[rocket::async_test]
async fn two_instances_share_one_postgres_database() {
    let Some(database) = crate::store::postgres::fresh_database().await else {
        return;
    };
    let extra = format!(
        "database_url = \"{database}\"\ngenerate_signing_keys = true\nid_token_signing_alg = \"ES256\""
    );
    let (_a, a) = start_admin(&extra).await;
    let (_b, b) = start_admin(&extra).await;
    let jwks = |url: String| async move {
        reqwest::get(format!("{url}/oauth/jwks"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let (jwks_a, jwks_b) = (jwks(a.clone()).await, jwks(b.clone()).await);
    assert_eq!(jwks_a["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks_a, jwks_b, "one key, shared");

    let (status, created) = admin(
        &a,
        Method::POST,
        "/admin/clients",
        Some(
            json!({"name": "Shared", "redirect_uris": [REDIRECT], "scopes": ["openid", "profile"]}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let (_, listed) = admin(&b, Method::GET, "/admin/clients", None).await;
    assert_eq!(listed[0]["client_id"], id.as_str());

    // The code, from instance a, raced at both: used at most once, and the replay revokes
    // whatever it granted (RFC 6749 §4.1.2), on both instances.
    let code1 = code(&a, &id, REDIRECT, "openid profile").await;
    let (first, second) = rocket::tokio::join!(
        exchange(&a, &id, Some(&secret), &code1, REDIRECT),
        exchange(&b, &id, Some(&secret), &code1, REDIRECT),
    );
    assert_at_most_one_use_and_nothing_left(&a, &b, [first, second]).await;

    // A refresh token raced at both: the same.
    let code2 = code(&a, &id, REDIRECT, "openid profile").await;
    let (status, tokens) = exchange(&b, &id, Some(&secret), &code2, REDIRECT).await;
    assert_eq!(status, 200);
    assert!(tokens["id_token"].is_string(), "an ID token for openid");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api_me(&a, &access).await, 200);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    let (first, second) = rocket::tokio::join!(
        token(&a, &id, Some(&secret), &form),
        token(&b, &id, Some(&secret), &form),
    );
    assert_at_most_one_use_and_nothing_left(&a, &b, [first, second]).await;
    assert_eq!(api_me(&b, &access).await, 401, "the family is revoked");

    // Removal on b is seen by a at once.
    let code3 = code(&a, &id, REDIRECT, "profile").await;
    let (status, tokens) = exchange(&b, &id, Some(&secret), &code3, REDIRECT).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api_me(&a, &access).await, 200);
    let (status, _) = admin(&b, Method::DELETE, &format!("/admin/clients/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(api_me(&a, &access).await, 401);
    let code_form = [("grant_type", "client_credentials")];
    let (status, _) = token(&a, &id, Some(&secret), &code_form).await;
    assert_eq!(status, 401);
}

/// Two answers to the same grant raced at two instances: at most one succeeded, the other
/// was refused as `invalid_grant`, and no token it issued still works anywhere.
#[cfg(feature = "postgres")]
async fn assert_at_most_one_use_and_nothing_left(
    a: &str,
    b: &str,
    answers: [(StatusCode, Value); 2],
) {
    let successes: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, v)| v)
        .collect();
    assert!(successes.len() <= 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|(s, v)| *s == 400 && v["error"] == "invalid_grant"),
        "{answers:?}"
    );
    for tokens in successes {
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(api_me(a, access).await, 401);
        assert_eq!(api_me(b, access).await, 401);
    }
}

/// Issue 25, item 10: a self-registered client's redirect URI is not trusted before the user
/// has acted: a malformed request is a page, never a redirect there (RFC 9700 §4.11.2).
#[rocket::async_test]
async fn open_registration_is_no_open_redirector() {
    let (_app, url) = start_admin("dynamic_registration = true").await;
    let (status, evil) = register(
        &url,
        None,
        json!({"redirect_uris": ["https://evil.example/"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(status, 201, "{evil}");
    let id = evil["client_id"].as_str().unwrap();
    let browser = Browser::new();
    for extra in ["&response_type=x", "&response_type=code&prompt=none"] {
        let r = browser
            .get(&format!(
                "{url}/oauth/authorize?client_id={id}&redirect_uri={}{extra}",
                urlencode("https://evil.example/")
            ))
            .await;
        assert_eq!(r.status(), 400, "a page, not a redirect ({extra})");
        assert!(r.headers().get("location").is_none());
    }
    // Configured clients are trusted: their errors go back to them.
    let r = browser
        .get(&format!(
            "{url}/oauth/authorize?client_id=fixed&redirect_uri={}&response_type=x",
            urlencode(REDIRECT)
        ))
        .await;
    assert_eq!(r.status(), 303);
}

/// Issue 25, item 10: registrations are bounded in number and in rate.
#[rocket::async_test]
async fn registrations_are_bounded() {
    let (_app, url) = start_admin(
        "dynamic_registration = true\nregistration_limit = 3\nregistrations_per_minute = 100",
    )
    .await;
    let metadata = json!({"redirect_uris": [REDIRECT]});
    for _ in 0..3 {
        assert_eq!(register(&url, None, metadata.clone()).await.0, 201);
    }
    let (status, body) = register(&url, None, metadata.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");

    let (_app, url) =
        start_admin("dynamic_registration = true\nregistrations_per_minute = 2").await;
    for _ in 0..2 {
        assert_eq!(register(&url, None, metadata.clone()).await.0, 201);
    }
    let (status, body) = register(&url, None, metadata).await;
    assert_eq!(status, 429, "{body}");
}

/// Issue 25, item 10: a registered client that is never used expires; one that was used stays.
#[rocket::async_test]
async fn unused_registrations_expire() {
    let (_app, url) = start_admin(
        "dynamic_registration = true\nregistration_scopes = [\"profile\"]\n\
         registration_unused_ttl = 1\npurge_interval = 1",
    )
    .await;
    let metadata = json!({"redirect_uris": [REDIRECT], "scope": "profile"});
    let (_, unused) = register(&url, None, metadata.clone()).await;
    let (_, used) = register(&url, None, metadata).await;
    let used_id = used["client_id"].as_str().unwrap();
    code(&url, used_id, REDIRECT, "profile").await;
    rocket::tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let (_, listed) = admin(&url, Method::GET, "/admin/clients", None).await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["client_id"].as_str())
        .collect();
    assert!(ids.contains(&used_id), "{listed}");
    assert!(
        !ids.contains(&unused["client_id"].as_str().unwrap()),
        "{listed}"
    );
}

/// Signs `user` in at `url` with `password`.
async fn signed_in(url: &str, user: &str, password: &str) -> Browser {
    let browser = Browser::new();
    let r = browser
        .client()
        .post(format!("{url}/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    browser
}

/// Submits one of the admin page's forms: `action` with `fields`, and the page's token.
async fn admin_form(
    browser: &Browser,
    url: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = hidden_fields(page)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .expect("a form token")
        .1;
    let mut form: Vec<(String, String)> = vec![("csrf_token".into(), token)];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let r = browser
        .client()
        .post(format!("{url}/oauth/admin"))
        .header("Origin", url)
        .form(&form)
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return r;
    }
    // The page, with what the form did.
    browser.get(&format!("{url}{}", location(&r))).await
}

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    let to = text[from..].find(end).expect("the end") + from;
    &text[from..to]
}

/// Issue 26, item 10: the admin pages, for the app's administrators only: a client created
/// from a form (its secret shown once) works at once; a scope declared there is seen by the
/// JSON API; a user's grant revoked there stops its tokens; forms are CSRF-protected.
#[rocket::async_test]
async fn administrators_manage_the_server_from_its_pages() {
    let (_app, url) = start_admin("").await;
    let pages = format!("{url}/oauth/admin");
    assert_eq!(Browser::new().get(&pages).await.status(), 403);
    let alice = signed_in(&url, "alice", "").await;
    assert_eq!(
        alice.get(&pages).await.status(),
        403,
        "not an administrator"
    );
    // An administrator's name alone signs nobody in.
    let r = reqwest::Client::new()
        .post(format!("{url}/login"))
        .form(&[("username", "root"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let root = signed_in(&url, "root", ADMIN_TOKEN).await;
    let r = root.get(&pages).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, "frame-ancestors 'none'");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<code>fixed</code>"),
        "the configured client: {page}"
    );

    // Create a client: its secret is shown this once.
    let create = [
        ("action", "create_client"),
        ("name", "Reports"),
        ("redirect_uris", REDIRECT),
        ("scopes", "profile"),
        ("confidential", "yes"),
    ];
    let r = admin_form(&root, &url, &page, &create).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let id = between(&page, "client `", "` created").to_owned();
    let secret = between(&page, r#"<code class="secret">"#, "</code>").to_owned();
    assert!(secret.len() >= 32, "{page}");
    let again = root.get(&pages).await.text().await.unwrap();
    assert!(!again.contains(&secret), "the secret is shown once");
    assert!(!again.contains("` created"), "reloading repeats nothing");
    let code1 = code(&url, &id, REDIRECT, "profile").await;
    let (status, tokens) = exchange(&url, &id, Some(&secret), &code1, REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api_me(&url, &access).await, 200);

    // Forms are the administrator's, from this origin.
    let r = root
        .client()
        .post(&pages)
        .header("Origin", "https://evil.example")
        .form(&[("action", "remove_client"), ("client_id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = admin_form(
        &alice,
        &url,
        &again,
        &[("action", "remove_client"), ("client_id", &id)],
    )
    .await;
    assert_eq!(r.status(), 403);

    // Declare a scope: the JSON API sees it.
    let scope = [
        ("action", "put_scope"),
        ("scope", "reports:read"),
        ("description", "Read your reports"),
    ];
    let page = admin_form(&root, &url, &again, &scope)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("scope `reports:read` declared"), "{page}");
    let (_, scopes) = admin(&url, Method::GET, "/admin/scopes", None).await;
    assert!(scopes.to_string().contains("Read your reports"), "{scopes}");

    // Alice's grants: revoking the client's stops its token.
    let page = root
        .get(&format!("{pages}?user=alice"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<b>Reports</b>"), "alice's grant: {page}");
    let revoke = [
        ("action", "revoke_grant"),
        ("user", "alice"),
        ("client_id", id.as_str()),
    ];
    let page = admin_form(&root, &url, &page, &revoke)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("grant to"), "{page}");
    assert_eq!(api_me(&url, &access).await, 401, "revoked");

    // Remove the client.
    let remove = [("action", "remove_client"), ("client_id", id.as_str())];
    let page = admin_form(&root, &url, &page, &remove)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("removed"), "{page}");
    let (_, listed) = admin(&url, Method::GET, "/admin/clients", None).await;
    assert_eq!(listed, json!([]));
}
