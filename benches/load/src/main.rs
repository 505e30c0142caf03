//! The login load benchmark (see BENCHMARKS.md): full logins with fresh cookie jars against
//! each app at a fixed concurrency, the apps in their own processes (release builds), a
//! stateless mock provider in this one. Reports logins/s, the app's CPU per login (from
//! /proc), callback p50/p99, RSS, and the guarded `/me`'s CPU per request, as medians of
//! interleaved repetitions and as ratios against the floor app and rocket_oauth2.
//!
//! ```sh
//! bash benches/load/run.sh [--logins 20000] [--concurrency 32] [--reps 3] [--memory 100000]
//! ```

mod mock;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The apps measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    /// A hand-written Rocket flow without outbound calls.
    Floor,
    /// rocket_oauth2 0.5.
    Peer,
    /// rocket_oauth's `examples/oauth2_login`.
    OAuth2,
    /// rocket_oauth's `examples/oidc_login` (ES256 ID tokens).
    Oidc,
}

impl App {
    fn parse(name: &str) -> Option<App> {
        match name {
            "floor" => Some(App::Floor),
            "rocket_oauth2" => Some(App::Peer),
            "oauth2_login" => Some(App::OAuth2),
            "oidc_login" => Some(App::Oidc),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            App::Floor => "floor",
            App::Peer => "rocket_oauth2",
            App::OAuth2 => "oauth2_login",
            App::Oidc => "oidc_login",
        }
    }

    fn binary(self, dir: &Path) -> PathBuf {
        match self {
            App::Floor => dir.join("floor"),
            App::Peer => dir.join("peer"),
            App::OAuth2 => dir.join("examples/oauth2_login"),
            App::Oidc => dir.join("examples/oidc_login"),
        }
    }

    fn login_path(self) -> &'static str {
        match self {
            App::Floor | App::Peer => "/login",
            App::OAuth2 | App::Oidc => "/auth/idp/login?next=/me",
        }
    }

    /// The app's `Rocket.toml` on `port`, against the provider at `mock`.
    fn config(self, port: u16, mock: &str) -> String {
        let base = format!("http://127.0.0.1:{port}");
        let (id, secret) = (mock::CLIENT_ID, mock::CLIENT_SECRET);
        let provider = match self {
            App::Floor => String::new(),
            App::Peer => format!(
                r#"[default.oauth.idp]
auth_uri = "{mock}/authorize"
token_uri = "{mock}/token"
client_id = "{id}"
client_secret = "{secret}"
redirect_uri = "{base}/auth"
"#
            ),
            App::OAuth2 => format!(
                r#"[default.oauth.idp]
client_id = "{id}"
client_secret = "{secret}"
authorize_url = "{mock}/authorize"
token_url = "{mock}/token"
userinfo_url = "{mock}/userinfo"
redirect_uri = "{base}/auth/idp/callback"
scopes = ["profile"]
"#
            ),
            App::Oidc => format!(
                r#"[default.oauth.idp]
client_id = "{id}"
client_secret = "{secret}"
issuer = "{mock}"
redirect_uri = "{base}/auth/idp/callback"
"#
            ),
        };
        format!(
            r#"[default]
address = "127.0.0.1"
port = {port}
log_level = "off"
cli_colors = false
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.bench]
authorize = "{mock}/authorize"
redirect_uri = "{base}/callback"
userinfo = "{mock}/userinfo"

{provider}"#
        )
    }
}

struct Options {
    logins: usize,
    concurrency: usize,
    reps: usize,
    max_seconds: u64,
    me_requests: usize,
    memory: usize,
    apps: Vec<App>,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            logins: 20_000,
            concurrency: 32,
            reps: 3,
            max_seconds: 60,
            me_requests: 50_000,
            memory: 0,
            apps: vec![App::Floor, App::Peer, App::OAuth2, App::Oidc],
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
            match flag.as_str() {
                "--logins" => options.logins = number()?,
                "--concurrency" => options.concurrency = number()?.max(1),
                "--reps" => options.reps = number()?.max(1),
                "--max-seconds" => options.max_seconds = number()? as u64,
                "--me-requests" => options.me_requests = number()?,
                "--memory" => options.memory = number()?,
                "--apps" => {
                    options.apps = value
                        .split(',')
                        .map(|name| App::parse(name).ok_or(format!("unknown app {name}")))
                        .collect::<Result<_, _>>()?
                }
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        Ok(options)
    }
}

/// An app running in its own process.
struct Running {
    child: Child,
    base: String,
    ticks_per_second: f64,
}

impl Running {
    async fn start(app: App, dir: &Path, mock: &str, ticks_per_second: f64) -> Running {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            listener.local_addr().expect("its address").port()
        };
        let config = std::env::temp_dir().join(format!("rocket_oauth-load-{port}.toml"));
        std::fs::write(&config, app.config(port, mock)).expect("the app's config");
        let binary = app.binary(dir);
        let child = Command::new(&binary)
            .env("ROCKET_CONFIG", &config)
            .env_remove("ROCKET_PROFILE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (run benches/load/run.sh)", binary.display()));
        let running = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
            ticks_per_second,
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{} did not start", app.name());
    }

    fn stat(&self, file: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).unwrap_or_default()
    }

    /// CPU time so far, seconds: the sum of its threads' on-CPU time from
    /// `/proc/<pid>/task/*/schedstat` (nanoseconds; `/proc/<pid>/stat`'s clock ticks are
    /// too coarse for a few microseconds per request), or the ticks where that is missing.
    fn cpu_seconds(&self) -> f64 {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        let nanos: u64 = tasks
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        if nanos > 0 {
            return nanos as f64 / 1e9;
        }
        let stat = self.stat("stat");
        // Fields after the command name (which may contain spaces): utime is the 14th field.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / self.ticks_per_second
    }

    /// Resident set size, MiB.
    fn rss_mib(&self) -> f64 {
        let status = self.stat("status");
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser's cookie jar for one login.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let mut parts = value.split(';');
            let Some((name, val)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let removed =
                val.is_empty() || parts.any(|p| p.trim().eq_ignore_ascii_case("max-age=0"));
            if removed {
                self.0.remove(name.trim());
            } else {
                self.0.insert(name.trim().to_owned(), val.to_owned());
            }
        }
    }
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    jar: &mut Jar,
) -> Result<reqwest::Response, String> {
    let mut request = client.get(url);
    if !jar.0.is_empty() {
        request = request.header("cookie", jar.header());
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    jar.keep(&response);
    Ok(response)
}

fn location(response: &reqwest::Response, base: &str) -> Result<String, String> {
    let to = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or(format!("{} without a location", response.status()))?;
    Ok(if to.starts_with('/') {
        format!("{base}{to}")
    } else {
        to.to_owned()
    })
}

/// One login with a fresh jar: login → provider → callback → `/me`. The callback's
/// latency, and the jar (logged in).
async fn login(client: &reqwest::Client, base: &str, app: App) -> Result<(Duration, Jar), String> {
    let mut jar = Jar::default();
    let r = get(client, &format!("{base}{}", app.login_path()), &mut jar).await?;
    let authorize = location(&r, base)?;
    let r = client
        .get(&authorize)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let callback = location(&r, base)?;
    let started = Instant::now();
    let r = get(client, &callback, &mut jar).await?;
    let latency = started.elapsed();
    if !r.status().is_redirection() {
        return Err(format!(
            "callback: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ));
    }
    let me = location(&r, base)?;
    let r = get(client, &me, &mut jar).await?;
    if r.status() != 200 {
        return Err(format!("/me: {}", r.status()));
    }
    r.bytes().await.map_err(|e| e.to_string())?;
    Ok((latency, jar))
}

/// `count` logins by `concurrency` workers, for at most `deadline`: the callback latencies.
async fn logins(
    client: &reqwest::Client,
    base: &str,
    app: App,
    count: usize,
    concurrency: usize,
    deadline: Duration,
) -> Vec<Duration> {
    let remaining = Arc::new(AtomicUsize::new(count));
    let stop = Instant::now() + deadline;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, base, remaining) = (client.clone(), base.to_owned(), remaining.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
                && Instant::now() < stop
            {
                match login(&client, &base, app).await {
                    Ok((latency, _)) => latencies.push(latency),
                    Err(e) => panic!("{}: a login failed: {e}", app.name()),
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("a worker"));
    }
    all
}

/// `count` GETs of `/me` with one logged-in jar, by `concurrency` workers.
async fn me_requests(
    client: &reqwest::Client,
    base: &str,
    cookie: String,
    count: usize,
    concurrency: usize,
) {
    let remaining = Arc::new(AtomicUsize::new(count));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, cookie, remaining) = (
            client.clone(),
            format!("{base}/me"),
            cookie.clone(),
            remaining.clone(),
        );
        workers.push(tokio::spawn(async move {
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let r = client
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect("/me");
                assert_eq!(r.status(), 200, "/me");
                r.bytes().await.expect("/me's body");
            }
        }));
    }
    for worker in workers {
        worker.await.expect("a worker");
    }
}

/// What one measurement of one app found.
#[derive(Debug, Clone, Copy)]
struct Measurement {
    logins_per_second: f64,
    cpu_us_per_login: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_start: f64,
    rss_after: f64,
    me_cpu_us: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(
    app: App,
    dir: &Path,
    mock: &str,
    client: &reqwest::Client,
    options: &Options,
    ticks: f64,
) -> Measurement {
    let running = Running::start(app, dir, mock, ticks).await;
    let deadline = Duration::from_secs(options.max_seconds);
    // Warm up: connections, discovery, allocator.
    logins(
        client,
        &running.base,
        app,
        500,
        options.concurrency,
        deadline,
    )
    .await;
    let rss_start = running.rss_mib();
    let cpu_before = running.cpu_seconds();
    let started = Instant::now();
    let mut latencies = logins(
        client,
        &running.base,
        app,
        options.logins,
        options.concurrency,
        deadline,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = running.cpu_seconds() - cpu_before;
    let rss_after = running.rss_mib();
    latencies.sort();
    let n = latencies.len() as f64;
    // The guarded `/me`: one logged-in jar, many requests.
    let (_, jar) = login(client, &running.base, app).await.expect("a login");
    let cpu_before = running.cpu_seconds();
    me_requests(
        client,
        &running.base,
        jar.header(),
        options.me_requests,
        options.concurrency,
    )
    .await;
    let me_cpu = running.cpu_seconds() - cpu_before;
    Measurement {
        logins_per_second: n / seconds,
        cpu_us_per_login: cpu * 1e6 / n,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        rss_start,
        rss_after,
        me_cpu_us: me_cpu * 1e6 / options.me_requests.max(1) as f64,
    }
}

/// The mock provider's own rate: provider legs (authorize, token — with an ES256 ID token
/// when `nonce` — and userinfo) per second, for two seconds.
async fn mock_rate(client: &reqwest::Client, mock: &str, concurrency: usize, nonce: bool) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Instant::now() + Duration::from_secs(2);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, mock, done) = (client.clone(), mock.to_owned(), done.clone());
        let nonce = if nonce { "&nonce=n" } else { "" };
        workers.push(tokio::spawn(async move {
            while Instant::now() < stop {
                let r = client
                    .get(format!(
                        "{mock}/authorize?redirect_uri=http://127.0.0.1:1/cb&state=s{nonce}"
                    ))
                    .send()
                    .await
                    .expect("authorize");
                let code = location(&r, "").expect("a code");
                let code = url::Url::parse(&code)
                    .expect("a URL")
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let r = client
                    .post(format!("{mock}/token"))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                    ])
                    .send()
                    .await
                    .expect("token");
                r.bytes().await.expect("token body");
                let r = client
                    .get(format!("{mock}/userinfo"))
                    .send()
                    .await
                    .expect("userinfo");
                r.bytes().await.expect("userinfo body");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for worker in workers {
        worker.await.expect("a worker");
    }
    done.load(Ordering::Relaxed) as f64 / 2.0
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "–".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

fn main() {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}\nusage: load [--logins N] [--concurrency N] [--reps N] [--max-seconds N] [--me-requests N] [--memory N] [--apps floor,rocket_oauth2,oauth2_login,oidc_login]");
            std::process::exit(2);
        }
    };
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .expect("the binaries' folder");
    let ticks: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let mock = mock::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(options.concurrency * 2)
            .tcp_nodelay(true)
            .build()
            .expect("a client");
        println!("# Login load benchmark");
        println!();
        println!(
            "{} logins per measurement (after 500 to warm up), {} concurrent clients, {} interleaved repetitions, medians; `/me`: {} requests with one session.",
            options.logins, options.concurrency, options.reps, options.me_requests
        );
        println!("Machine: {} cores, {}.", std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_model());
        println!();
        let plain = mock_rate(&client, &mock, options.concurrency, false).await;
        let signed = mock_rate(&client, &mock, options.concurrency, true).await;
        println!("Mock provider alone (with this driver): {plain:.0} provider legs/s (authorize + token + userinfo); {signed:.0}/s with an ES256 ID token.");
        println!();
        let mut results: HashMap<&str, Vec<Measurement>> = HashMap::new();
        for rep in 0..options.reps {
            for &app in &options.apps {
                let m = measure(app, &dir, &mock, &client, &options, ticks).await;
                eprintln!("rep {}: {:>13}: {:>7.0} logins/s, {:>6.1} µs CPU/login, p99 {:.2} ms, /me {:.1} µs", rep + 1, app.name(), m.logins_per_second, m.cpu_us_per_login, m.p99_ms, m.me_cpu_us);
                results.entry(app.name()).or_default().push(m);
            }
        }
        let med = |name: &str, f: fn(&Measurement) -> f64| {
            results.get(name).map_or(0.0, |ms| median(ms.iter().map(f)))
        };
        println!("| app | logins/s | app CPU µs/login | callback p50 ms | callback p99 ms | RSS MiB (start → after) | `/me` CPU µs/request |");
        println!("|---|---|---|---|---|---|---|");
        for &app in &options.apps {
            let n = app.name();
            println!(
                "| {n} | {:.0} | {:.0} | {:.2} | {:.2} | {:.1} → {:.1} | {:.1} |",
                med(n, |m| m.logins_per_second),
                med(n, |m| m.cpu_us_per_login),
                med(n, |m| m.p50_ms),
                med(n, |m| m.p99_ms),
                med(n, |m| m.rss_start),
                med(n, |m| m.rss_after),
                med(n, |m| m.me_cpu_us),
            );
        }
        println!();
        let ours = "oauth2_login";
        if results.contains_key(ours) {
            println!("| target | measured |");
            println!("|---|---|");
            let (floor, peer) = ("floor", "rocket_oauth2");
            println!("| logins/s ≥ 1.5× rocket_oauth2 | {} |", ratio(med(ours, |m| m.logins_per_second), med(peer, |m| m.logins_per_second)));
            println!("| logins/s ≥ 0.55× floor | {} |", ratio(med(ours, |m| m.logins_per_second), med(floor, |m| m.logins_per_second)));
            println!("| CPU per login ≤ 0.7× rocket_oauth2 | {} |", ratio(med(ours, |m| m.cpu_us_per_login), med(peer, |m| m.cpu_us_per_login)));
            println!("| callback p99 ≤ rocket_oauth2 | {} |", ratio(med(ours, |m| m.p99_ms), med(peer, |m| m.p99_ms)));
            println!("| RSS after the run ≤ rocket_oauth2 | {} |", ratio(med(ours, |m| m.rss_after), med(peer, |m| m.rss_after)));
            if results.contains_key("oidc_login") {
                println!("| OpenID Connect CPU over OAuth 2 ≤ 150 µs | {:.0} µs |", med("oidc_login", |m| m.cpu_us_per_login) - med(ours, |m| m.cpu_us_per_login));
            }
            println!("| `/me` ≥ 0.95× the floor's (CPU floor ÷ ours) | {} |", ratio(med(floor, |m| m.me_cpu_us), med(ours, |m| m.me_cpu_us)));
        }
        if options.memory > 0 {
            println!();
            println!("Memory: RSS MiB after N logins (one process each).");
            println!();
            println!("| app | start | 10k | {} |", options.memory);
            println!("|---|---|---|---|");
            for &app in &options.apps {
                let running = Running::start(app, &dir, &mock, ticks).await;
                let deadline = Duration::from_secs(options.max_seconds * 10);
                logins(&client, &running.base, app, 500, options.concurrency, deadline).await;
                let start = running.rss_mib();
                logins(&client, &running.base, app, 10_000, options.concurrency, deadline).await;
                let ten = running.rss_mib();
                logins(&client, &running.base, app, options.memory.saturating_sub(10_000), options.concurrency, deadline).await;
                println!("| {} | {start:.1} | {ten:.1} | {:.1} |", app.name(), running.rss_mib());
            }
        }
    });
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
