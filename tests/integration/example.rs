//! The black-box contract of `examples/oauth2_login.rs`: the real example binary, started
//! with `ROCKET_CONFIG=<file>`, against the test provider.

use std::process::Command;

use crate::common::example::{binary, config_file};
use crate::common::*;
use rocket::serde::json::Value;

/// `examples/oauth2_login.rs`, started against `idp`.
async fn start_example(idp: &Idp) -> (crate::common::example::Running, String) {
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let config = format!(
        r#"{header}
[default.oauth.idp]
client_id = "{id}"
client_secret = "{secret}"
authorize_url = "{idp}/authorize"
token_url = "{idp}/token"
userinfo_url = "{idp}/userinfo"
redirect_uri = "http://127.0.0.1:{port}/auth/idp/callback"
scopes = ["read", "write"]
"#,
        idp = idp.url,
        id = rocket_oauth::testing::CLIENT_ID,
        secret = rocket_oauth::testing::CLIENT_SECRET,
    );
    crate::common::example::start("oauth2_login", &config, port).await
}

#[rocket::async_test]
async fn oauth2_login_example_contract() {
    let idp = start_idp().await;
    let (_running, url) = start_example(&idp).await;
    let browser = Browser::new();

    let r = browser.get(&format!("{url}/")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
    let r = browser.get(&format!("{url}/private")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/auth/idp/login?next=/private");
    let r = browser.get(&format!("{url}/auth/idp/check")).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"authorized": false})
    );

    let (r, visited) = browser.follow(&format!("{url}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(r.text().await.unwrap().contains("Alice Example"));
    let me: Value = browser
        .get(&format!("{url}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["provider"], "idp");
    assert_eq!(me["user"]["sub"], "alice");
    let r = browser.get(&format!("{url}/auth/idp/check")).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"authorized": true})
    );

    let r = browser.post(&format!("{url}/auth/idp/logout")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
}

/// Tokens that live 2 seconds: `/me` keeps answering while the browser stays on the site.
#[rocket::async_test]
async fn oauth2_login_example_outlives_short_tokens() {
    let idp = start_idp().await;
    idp.script(|s| s.expires_in = Some(2));
    let (_running, url) = start_example(&idp).await;
    let browser = Browser::new();
    let (r, _) = browser.follow(&format!("{url}/private")).await;
    assert_eq!(r.status(), 200);
    for _ in 0..12 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(browser.get(&format!("{url}/me")).await.status(), 200);
    }
    let refreshes = idp.refresh_calls();
    assert!(
        (2..=12).contains(&refreshes),
        "{refreshes} refreshes: at most one per request"
    );
}

#[rocket::async_test]
async fn oauth2_login_example_refuses_to_start_without_config() {
    let file = config_file("[default.oauth.idp]\nclient_id = \"x\"\n", free_port());
    let output = Command::new(binary("oauth2_login"))
        .env("ROCKET_CONFIG", &file)
        .env("ROCKET_PORT", free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("oauth.idp.redirect_uri"),
        "the log names the key: {log}"
    );
}

/// The README's first command: the demo hosts the authorization server and logs in against
/// it, in one process.
#[cfg(feature = "server")]
#[rocket::async_test]
async fn demo_logs_in_against_its_own_authorization_server() {
    let port = free_port();
    let env = [
        ("ROCKET_PORT", port.to_string()),
        ("ROCKET_LOG_LEVEL", "off".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_running, url) = crate::common::example::spawn("demo", &env, port).await;
    let browser = Browser::new();
    // Not logged in: the private page leads to the server, which asks for a sign-in.
    let (r, visited) = browser.follow(&format!("{url}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(
        visited.last().unwrap().contains("/login?next="),
        "{visited:?}"
    );
    let page = r.text().await.unwrap();
    let next = hidden_fields(&page)
        .into_iter()
        .find(|(name, _)| name == "next")
        .expect("next field")
        .1;
    let r = browser
        .client()
        .post(format!("{url}/login"))
        .form(&[
            ("username", "demo"),
            ("password", "demo"),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    // Signed in: the consent page.
    let (r, _) = browser.follow(&format!("{url}{}", location(&r))).await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Accept") && page.contains("Know your user name"),
        "{page}"
    );
    let r = submit_consent(&browser, &url, &page, "Accept").await;
    let (r, visited) = browser.follow(&location(&r)).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(r.text().await.unwrap().contains("Hello, demo"));
    let me: Value = browser
        .get(&format!("{url}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "demo");
    // An OpenID Connect login: the profile holds the verified ID token's claims.
    assert_eq!(me["user"]["iss"], url.as_str());
    assert_eq!(
        me["user"]["aud"],
        rocket::serde::json::json!(["demo-client"])
    );
    assert_eq!(me["user"]["sub"], "demo");
}

/// The black-box contract of `examples/multi.rs`: an OpenID Connect provider and a
/// GitHub-shaped OAuth 2 provider (each a mock of the testing kit) logged in at once.
#[cfg(feature = "oidc")]
#[rocket::async_test]
async fn multi_provider_example_contract() {
    use rocket::serde::json::json;
    use rocket_oauth::testing::{CLIENT_ID, CLIENT_SECRET};
    let sso = MockProvider::start();
    let gh = MockProvider::start();
    gh.add_user(MockUser::new("octo").userinfo(json!({"id": 1234, "login": "octocat"})));
    gh.set_current_user("octo");
    gh.endpoint(
        rocket::http::Method::Get,
        "/user/repos",
        |request| match request.user() {
            Some(_) => MockResponse::json(json!([{"full_name": "octocat/hello"}])),
            None => MockResponse::unauthorized(),
        },
    );
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let app = format!("http://127.0.0.1:{port}");
    let config = format!(
        r#"{header}
[default.oauth.sso]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
issuer = "{sso}"
redirect_uri = "{app}/auth/sso/callback"

[default.oauth.sso.access.roles]
staff = {{ emails = ["alice@example.com"] }}

[default.oauth.gh]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
authorize_url = "{gh}/authorize"
token_url = "{gh}/token"
userinfo_url = "{gh}/userinfo"
api_base_url = "{gh}/"
redirect_uri = "{app}/auth/gh/callback"
"#,
        sso = sso.url(),
        gh = gh.url(),
    );
    let (_running, url) = crate::common::example::start("multi", &config, port).await;
    let browser = Browser::new();
    assert_eq!(browser.get(&format!("{url}/whoami")).await.status(), 401);
    let r = browser.get(&format!("{url}/staff")).await;
    assert_eq!(location(&r), "/auth/sso/login?next=/staff");

    let (r, visited) = browser.follow(&format!("{url}/staff")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert_eq!(r.text().await.unwrap(), "staff page for alice");
    let (r, _) = browser.follow(&format!("{url}/auth/gh/login?next=/")).await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Hello alice, logged in with sso and gh"));

    let who = browser.json(&format!("{url}/whoami")).await;
    assert_eq!(
        who,
        json!([{"provider": "sso", "subject": "alice"}, {"provider": "gh", "subject": "1234"}])
    );
    let repos = browser.json(&format!("{url}/repos")).await;
    assert_eq!(repos, json!([{"full_name": "octocat/hello"}]));
    let seen = browser.json(&format!("{url}/seen")).await;
    assert_eq!(seen, json!(["gh:1234", "sso:alice"]));
    // The GitHub token went to GitHub's mock only.
    assert_eq!(gh.requests_to("/user/repos").len(), 1);
    assert!(sso.requests_to("/user/repos").is_empty());
}

/// The black-box contract of `examples/tenants.rs`: two tenants' providers, listed in
/// configuration only (OpenID Connect and OAuth 2, each a mock of the testing kit).
#[cfg(feature = "oidc")]
#[rocket::async_test]
async fn tenants_example_contract() {
    use rocket::serde::json::json;
    use rocket_oauth::testing::{CLIENT_ID, CLIENT_SECRET};
    let (acme, globex) = (MockProvider::start(), MockProvider::start());
    globex.add_user(MockUser::new("bob").name("Bob <B>"));
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let app = format!("http://127.0.0.1:{port}");
    let config = format!(
        r#"{header}
[default.oauth.providers.acme]
protocol = "oidc"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
issuer = "{acme}"
redirect_uri = "{app}/auth/acme/callback"

[default.oauth.providers.globex]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
authorize_url = "{globex}/authorize"
token_url = "{globex}/token"
userinfo_url = "{globex}/userinfo"
redirect_uri = "{app}/auth/globex/callback"
"#,
        acme = acme.url(),
        globex = globex.url(),
    );
    let (_running, url) = crate::common::example::start("tenants", &config, port).await;
    let browser = Browser::new();
    let index = browser.get(&format!("{url}/")).await.text().await.unwrap();
    assert!(index.contains(r#"href="/t/acme""#) && index.contains(r#"href="/t/globex""#));
    assert_eq!(browser.get(&format!("{url}/t/initech")).await.status(), 404);
    let r = browser.get(&format!("{url}/t/acme")).await;
    assert_eq!(location(&r), "/auth/acme/login?next=/t/acme");

    let (r, visited) = browser.follow(&format!("{url}/t/acme")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Hello Alice Example, signed in to acme."));
    // Logged in with acme only: globex's page sends the visitor to globex.
    let r = browser.get(&format!("{url}/t/globex")).await;
    assert_eq!(location(&r), "/auth/globex/login?next=/t/globex");
    let landing = globex
        .log_in_http_listed(&browser, &url, "globex", "bob")
        .await;
    assert_eq!(landing.status.code, 200, "{}", landing.body);
    let page = browser
        .get(&format!("{url}/t/globex"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Hello Bob &lt;B&gt;, signed in to globex."),
        "{page}"
    );
    assert_eq!(
        browser.json(&format!("{url}/logins")).await,
        json!({"acme": 1, "globex": 1})
    );
    // Signing out of one tenant keeps the other.
    let out = browser.post(&format!("{url}/auth/acme/logout")).await;
    assert_eq!(out.status(), 303);
    let r = browser.get(&format!("{url}/t/acme")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(browser.get(&format!("{url}/t/globex")).await.status(), 200);
}

/// `cargo run --example presets` prints a JSON array, one object per preset.
#[test]
fn presets_example_prints_every_preset() {
    let output = Command::new(binary("presets")).output().unwrap();
    assert!(output.status.success());
    let presets: Value = serde_json::from_slice(&output.stdout).unwrap();
    let presets = presets.as_array().unwrap();
    // The binary may have been built with more features than this test (`oidc`).
    assert!(presets.len() >= rocket_oauth::presets::all().len());
    #[cfg(feature = "oidc")]
    assert!(presets.len() >= 24);
    let keys = [
        "name",
        "protocol",
        "issuer",
        "authorize_url",
        "token_url",
        "userinfo_url",
        "scopes",
        "pkce",
        "client_auth",
        "revocation_url",
    ];
    for preset in presets {
        let object = preset.as_object().unwrap();
        assert_eq!(object.len(), keys.len(), "{preset}");
        assert!(keys.iter().all(|k| object.contains_key(*k)), "{preset}");
        assert!(["oauth2", "oidc", "oauth1"].contains(&preset["protocol"].as_str().unwrap()));
        assert!(
            preset["authorize_url"].is_string() || preset["protocol"] == "oidc",
            "{preset}"
        );
    }
    let github = presets.iter().find(|p| p["name"] == "github").unwrap();
    assert_eq!(
        github["authorize_url"],
        "https://github.com/login/oauth/authorize"
    );
    assert_eq!(github["client_auth"], "client_secret_post");
    #[cfg(feature = "oidc")]
    {
        let auth0 = presets.iter().find(|p| p["name"] == "auth0").unwrap();
        assert_eq!(
            auth0["issuer"], "https://{domain}/",
            "a required placeholder stays"
        );
        let google = presets.iter().find(|p| p["name"] == "google").unwrap();
        assert_eq!(google["scopes"][0], "openid");
    }
}
