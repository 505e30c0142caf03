//! Runs an example binary (built by `cargo test`) with a `ROCKET_CONFIG` file.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running example; killed on drop.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/<profile>/examples/<name>`.
pub fn binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/examples/<name>
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    path.pop();
    path.push("examples");
    path.push(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is built by `cargo test`", path.display());
    path
}

/// Writes `config` to a temporary `Rocket.toml` and returns its path.
pub fn config_file(config: &str, tag: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rocket_oauth-example-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("Rocket.toml");
    std::fs::write(&file, config).unwrap();
    file
}

/// Starts example `name` with `config` (which must make it listen on `port`) and waits
/// until it answers.
pub async fn start(name: &str, config: &str, port: u16) -> (Running, String) {
    let file = config_file(config, port);
    spawn(name, &[("ROCKET_CONFIG", file.to_str().unwrap())], port).await
}

/// Starts example `name` with `env` (it must listen on `port`) and waits until it answers.
pub async fn spawn(name: &str, env: &[(&str, &str)], port: u16) -> (Running, String) {
    let child = Command::new(binary(name))
        .envs(env.iter().copied())
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

/// The `[default]` table of an example's `Rocket.toml`: quiet, on `port`, a fixed key.
pub fn rocket_toml_header(port: u16) -> String {
    format!(
        r#"[default]
address = "127.0.0.1"
port = {port}
log_level = "off"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="
"#
    )
}
