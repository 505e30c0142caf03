//! A self-contained demo: one process on <http://127.0.0.1:8000> hosts this crate's OAuth 2
//! authorization server and OpenID Provider (with its own sign-in page and a demo user)
//! *and* an application that logs in against it with this crate's OpenID Connect client (a
//! signed ID token, verified end to end). No keys to make, no network:
//!
//! ```sh
//! cargo run --example demo --features server
//! ```
//!
//! (`ROCKET_PORT=9000 cargo run --example demo` for another port.) Open
//! <http://127.0.0.1:8000>, follow "Log in", sign in as `demo`, accept the consent
//! page, and you are back, logged in, with the ID token's and userinfo's claims as your
//! profile. The server's API, `/api/me`, takes its access tokens too.

#[macro_use]
extern crate rocket;

use rocket::form::Form;
use rocket::http::{Cookie, CookieJar, RawStr, SameSite};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::Request;
use rocket_oauth::server::{
    AuthorizationServer, RegisteredClient, ResourceOwner, ScopeSet, Scoped,
};
use rocket_oauth::{AccessToken, LoginRequired, Provider, ProviderDefaults};

const CLIENT_ID: &str = "demo-client";
const CLIENT_SECRET: &str = "demo-secret";

// ------------------------------------------------------------ the authorization server side

/// The server's users sign in with a name (any password); `demo` is filled in.
struct Users;

#[rocket::async_trait]
impl ResourceOwner for Users {
    async fn current(&self, request: &Request<'_>) -> Option<String> {
        request
            .cookies()
            .get_private("server_user")
            .map(|c| c.value().to_owned())
    }

    /// What the ID token and userinfo say for `profile`.
    async fn claims(&self, owner: &str, scopes: &[String]) -> serde_json::Map<String, Value> {
        let mut claims = serde_json::Map::new();
        if scopes.iter().any(|s| s == "profile") {
            claims.insert("username".into(), json!(owner));
            claims.insert("name".into(), json!(owner));
        }
        claims
    }
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[get("/login?<next>")]
fn server_login_page(next: Option<&str>) -> RawHtml<String> {
    let next = RawStr::new(&safe_next(next)).html_escape().into_owned();
    RawHtml(format!(
        r#"<!DOCTYPE html><title>Sign in — demo authorization server</title>
<h1>Demo authorization server</h1><p>Sign in (any password).</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>User name <input name="username" value="demo" required></label>
<label>Password <input name="password" type="password" value="demo"></label>
<button type="submit">Sign in</button></form>"#
    ))
}

#[derive(FromForm)]
struct SignIn<'r> {
    username: &'r str,
    next: Option<&'r str>,
}

#[post("/login", data = "<form>")]
fn server_login(form: Form<SignIn<'_>>, cookies: &CookieJar<'_>) -> Redirect {
    let name: String = form.username.trim().chars().take(64).collect();
    if !name.is_empty() {
        cookies.add_private(
            Cookie::build(("server_user", name))
                .same_site(SameSite::Lax)
                .http_only(true),
        );
    }
    Redirect::to(safe_next(form.next))
}

#[derive(ScopeSet)]
#[scopes("profile")]
struct Profile;

/// The server's API, called by the client side as its userinfo endpoint.
#[get("/api/me")]
fn api_me(token: Scoped<Profile>) -> Value {
    json!({ "sub": token.owner, "username": token.owner, "name": token.owner, "scopes": token.scopes })
}

// ------------------------------------------------------------ the client side

/// This crate's OpenID Connect client, pointed at the server above (its OpenID Provider):
/// discovery, a signed ID token verified against the server's keys, userinfo.
struct Demo;

impl Provider for Demo {
    const NAME: &'static str = "demo";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["profile"])
    }
}

#[get("/")]
fn index(token: Option<AccessToken<Demo>>) -> RawHtml<String> {
    let body = match token.as_ref().and_then(|t| t.userinfo()) {
        Some(user) => format!(
            r#"<p>Logged in as <b>{}</b> through the demo authorization server.
<a href="/me">/me</a> · <a href="/private">/private</a></p>
<form method="post" action="/auth/demo/logout"><button>Log out</button></form>"#,
            RawStr::new(user["username"].as_str().unwrap_or("?")).html_escape()
        ),
        None => r#"<p>Not logged in. <a href="/auth/demo/login">Log in with the demo authorization server</a>
or visit <a href="/private">a private page</a>.</p>"#
            .to_owned(),
    };
    RawHtml(format!(
        "<!DOCTYPE html><title>rocket_oauth demo</title><h1>rocket_oauth demo</h1>{body}"
    ))
}

#[get("/me")]
fn me(token: AccessToken<Demo>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo(), "scopes": token.scopes() })
}

#[get("/private")]
fn private(user: LoginRequired<Demo>) -> RawHtml<String> {
    let name = user
        .userinfo()
        .and_then(|u| u["username"].as_str())
        .unwrap_or("?");
    RawHtml(format!(
        r#"<!DOCTYPE html><title>Private</title><p>Hello, {}. This page needs a login.</p><a href="/">Home</a>"#,
        RawStr::new(name).html_escape()
    ))
}

#[launch]
fn rocket() -> _ {
    // Port 8000 unless ROCKET_PORT says otherwise; always on loopback.
    let port: u16 = rocket::Config::figment()
        .extract_inner("port")
        .unwrap_or(8000);
    let base = format!("http://127.0.0.1:{port}");
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("oauth_server.issuer", &base))
        .merge((
            "oauth.demo",
            json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "issuer": &base,
                "redirect_uri": format!("{base}/auth/demo/callback"),
            }),
        ));
    let client = RegisteredClient::new(CLIENT_ID, Some(CLIENT_SECRET.into()))
        .name("rocket_oauth demo app")
        .redirect_uri(format!("{base}/auth/demo/callback"))
        .scopes(["openid", "profile"]);
    println!("rocket_oauth demo: open {base}/ in a browser");
    rocket::custom(figment)
        .attach(
            AuthorizationServer::new(Users)
                .scope("openid", "Sign you in")
                .scope("profile", "Know your user name")
                .client(client)
                // A demo key, published with this crate: never use it for anything else.
                .signing_key(include_str!("keys/demo_rsa.pem")),
        )
        .attach(Demo.fairing())
        .mount(
            "/",
            routes![server_login_page, server_login, api_me, index, me, private],
        )
}
