//! An OAuth 2 authorization server: other applications ask its users for consent and call
//! its API with the tokens it issues.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example auth_server
//! ```
//!
//! with `[default.oauth_server]`: `issuer`, `access_token_ttl`, a `scopes` table and
//! `[[default.oauth_server.clients]]` (see the README). Its own sign-in is a user name
//! form (any password): `GET/POST /login`. The API: `GET /api/me` (scope `profile`); its
//! `401`s point to its RFC 9728 metadata at `/.well-known/oauth-protected-resource`.
//!
//! With `signing_keys` (PEM files) or `generate_signing_keys = true` it is an OpenID
//! Provider too: discovery at `<issuer>/.well-known/openid-configuration`, and clients
//! granted `openid` get an ID token (with `name` and `preferred_username` for `profile`).
//! A client with a `backchannel_logout_uri` is sent a signed logout token when the user
//! signs out (`end_session`, or `POST /logout` here).

#[macro_use]
extern crate rocket;

use rocket::form::Form;
use rocket::http::{Cookie, CookieJar, RawStr, SameSite};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::serde_json::Map;
use rocket::serde::json::{json, Value};
use rocket::Request;
use rocket_oauth::server::{AuthorizationServer, ResourceOwner, ScopeSet, Scoped, SignOut};

const USER_COOKIE: &str = "user";

/// The signed-in user is whoever the private `user` cookie names.
struct Users;

#[rocket::async_trait]
impl ResourceOwner for Users {
    async fn current(&self, request: &Request<'_>) -> Option<String> {
        request
            .cookies()
            .get_private(USER_COOKIE)
            .map(|c| c.value().to_owned())
    }

    async fn sign_out(&self, request: &Request<'_>) {
        request.cookies().remove_private(USER_COOKIE);
    }

    async fn claims(&self, owner: &str, scopes: &[String]) -> Map<String, Value> {
        let mut claims = Map::new();
        if scopes.iter().any(|s| s == "profile") {
            claims.insert("name".into(), json!(owner));
            claims.insert("preferred_username".into(), json!(owner));
        }
        claims
    }
}

/// The `next` to return to: same-site paths only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[get("/login?<next>")]
fn login_page(next: Option<&str>) -> RawHtml<String> {
    let next = RawStr::new(&safe_next(next)).html_escape().into_owned();
    RawHtml(format!(
        r#"<!DOCTYPE html><title>Sign in</title><h1>Sign in</h1>
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>User name <input name="username" required></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form>"#
    ))
}

#[derive(FromForm)]
struct LoginForm<'r> {
    username: &'r str,
    next: Option<&'r str>,
}

#[post("/login", data = "<form>")]
fn login(form: Form<LoginForm<'_>>, cookies: &CookieJar<'_>) -> Redirect {
    let name: String = form.username.trim().chars().take(64).collect();
    if !name.is_empty() {
        cookies.add_private(
            Cookie::build((USER_COOKIE, name))
                .same_site(SameSite::Lax)
                .http_only(true),
        );
    }
    Redirect::to(safe_next(form.next))
}

/// Signs out here, and (as `end_session` does) tells every client the user signed in to
/// during this sign-in: a back-channel logout token to those with a `backchannel_logout_uri`,
/// a hidden iframe for those with a `frontchannel_logout_uri`.
#[post("/logout")]
async fn logout(sign_out: SignOut<'_>, cookies: &CookieJar<'_>) -> RawHtml<String> {
    cookies.remove_private(USER_COOKIE);
    let iframes: String = sign_out
        .sign_out()
        .await
        .iter()
        .map(|src| {
            format!(
                r#"<iframe src="{}" hidden></iframe>"#,
                RawStr::new(src).html_escape()
            )
        })
        .collect();
    RawHtml(format!(
        "<!DOCTYPE html><title>Signed out</title><p>You are signed out.</p>{iframes}"
    ))
}

#[get("/")]
fn index() -> RawHtml<&'static str> {
    RawHtml(
        r#"<!DOCTYPE html><title>Authorization server</title><h1>Authorization server</h1>
<p>Metadata: <a href="/.well-known/oauth-authorization-server">/.well-known/oauth-authorization-server</a></p>"#,
    )
}

/// The `profile` scope.
#[derive(ScopeSet)]
#[scopes("profile")]
struct Profile;

#[get("/api/me")]
fn me(token: Scoped<Profile>) -> Value {
    json!({ "username": token.owner, "scopes": token.scopes })
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(AuthorizationServer::new(Users))
        .mount("/", routes![index, login_page, login, logout, me])
}
