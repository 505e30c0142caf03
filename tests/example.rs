//! The black-box contract of `examples/oauth2_login.rs`: the real example binary, started
//! with `ROCKET_CONFIG=<file>`, against the test provider.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use rocket::serde::json::Value;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example_binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/examples/<name>
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    path.pop();
    path.push("examples");
    path.push(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is built by `cargo test`", path.display());
    path
}

async fn start_example(idp: &Idp) -> (Running, String) {
    let port = free_port();
    let config = format!(
        r#"[default]
address = "127.0.0.1"
port = {port}
log_level = "off"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth.idp]
client_id = "test-client"
client_secret = "test-secret"
authorize_url = "{idp}/authorize"
token_url = "{idp}/token"
userinfo_url = "{idp}/userinfo"
redirect_uri = "http://127.0.0.1:{port}/auth/idp/callback"
scopes = ["read", "write"]
"#,
        idp = idp.url
    );
    let dir = std::env::temp_dir().join(format!("rocket_oauth-example-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("Rocket.toml");
    std::fs::write(&file, config).unwrap();
    let child = Command::new(example_binary("oauth2_login"))
        .env("ROCKET_CONFIG", &file)
        .env_remove("ROCKET_PROFILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(&url).send().await.is_ok() {
            return (running, url);
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the example did not start");
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

    let (r, visited) = browser.follow(&url, &format!("{url}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    assert!(r.text().await.unwrap().contains("Test User"));
    let me: Value = browser
        .get(&format!("{url}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["provider"], "idp");
    assert_eq!(me["user"]["sub"], "u1");
    let r = browser.get(&format!("{url}/auth/idp/check")).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"authorized": true})
    );

    let r = browser.post(&format!("{url}/auth/idp/logout")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
}

#[rocket::async_test]
async fn oauth2_login_example_refuses_to_start_without_config() {
    let dir = std::env::temp_dir().join(format!("rocket_oauth-example-bad-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("Rocket.toml");
    std::fs::write(&file, "[default.oauth.idp]\nclient_id = \"x\"\n").unwrap();
    let output = Command::new(example_binary("oauth2_login"))
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
