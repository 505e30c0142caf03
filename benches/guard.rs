//! What a guarded request costs: a plain route, a route reading one private cookie by hand,
//! and a route behind `AccessToken` (which reads and decrypts the session cookie, parses it,
//! checks its lifetime and expiry and applies the access rules, with no network I/O). The
//! guard should cost about the cookie read.
//!
//! ```sh
//! cargo bench --bench guard
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::local::blocking::Client;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_oauth::{AccessToken, OAuth2Provider};

#[derive(OAuth2Provider)]
#[oauth(
    name = "idp",
    authorize_url = "https://idp.example/authorize",
    token_url = "https://idp.example/token"
)]
struct Idp;

#[get("/plain")]
fn plain() -> &'static str {
    "ok"
}

#[get("/cookie")]
fn cookie(jar: &CookieJar<'_>) -> Result<&'static str, Status> {
    let cookie = jar.get_private("oauth_idp").ok_or(Status::Unauthorized)?;
    // The value is one chunk, `<tag>.<index>.<count>.<json>`, as the crate writes it.
    let json = cookie.value().splitn(4, '.').nth(3).unwrap_or_default();
    serde_json::from_str::<Value>(json).map_err(|_| Status::Unauthorized)?;
    Ok("ok")
}

#[get("/guarded")]
fn guarded(token: AccessToken<Idp>) -> &'static str {
    if token.secret().is_empty() {
        "empty"
    } else {
        "ok"
    }
}

/// Stores a session like the callback does (same cookie, same JSON shape).
#[get("/seed")]
fn seed(jar: &CookieJar<'_>) {
    let issued = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let session = json!({
        "c": {
            "t": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "y": "bearer",
            "e": 4_102_444_800i64,
            "s": ["read:user", "user:email"],
            "a": issued,
        },
        "u": {"id": 1, "login": "octocat", "name": "The Octocat", "email": "octocat@github.com",
              "avatar_url": "https://github.com/images/error/octocat_happy.gif"},
        "i": issued
    });
    jar.add_private(Cookie::new("oauth_idp", format!("benchtag.0.1.{session}")));
}

fn bench(c: &mut Criterion) {
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="))
        .merge((
            "oauth.idp",
            json!({"client_id": "id", "client_secret": "s",
                   "redirect_uri": "http://127.0.0.1:8000/auth/idp/callback"}),
        ));
    let rocket = rocket::custom(figment)
        .attach(Idp.fairing())
        .mount("/", routes![plain, cookie, guarded, seed]);
    let client = Client::tracked(rocket).expect("valid rocket");
    client.get("/seed").dispatch();
    for path in ["/plain", "/cookie", "/guarded"] {
        assert_eq!(client.get(path).dispatch().status(), Status::Ok, "{path}");
    }

    let mut group = c.benchmark_group("request");
    for path in ["/plain", "/cookie", "/guarded"] {
        group.bench_function(path.trim_start_matches('/'), |b| {
            b.iter(|| client.get(path).dispatch().status())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
