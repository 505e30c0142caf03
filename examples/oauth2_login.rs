//! Log in with any OAuth 2.0 provider, every URL and key from configuration.
//!
//! ```sh
//! ROCKET_CONFIG=examples/oauth2_login.toml cargo run --example oauth2_login
//! ```
//!
//! with a `Rocket.toml`-style file holding `[default.oauth.idp]`: `client_id`,
//! `client_secret`, `authorize_url`, `token_url`, `userinfo_url`, `redirect_uri`, `scopes`.

#[macro_use]
extern crate rocket;

use rocket::response::content::RawHtml;
use rocket::serde::json::{json, Value};
use rocket_oauth::{AccessToken, LoginRequired, Provider, ProviderDefaults};

/// A provider whose endpoints all come from `oauth.idp` in the configuration.
struct Idp;

impl Provider for Idp {
    const NAME: &'static str = "idp";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oauth2_from_config()
    }
}

#[get("/")]
fn index(token: Option<AccessToken<Idp>>) -> RawHtml<String> {
    let body = match token {
        Some(_) => {
            r#"<p>You are logged in. <a href="/me">/me</a> · <a href="/private">/private</a></p>
<form method="post" action="/auth/idp/logout"><button>Log out</button></form>"#
                .to_owned()
        }
        None => {
            r#"<p>You are not logged in. <a href="/auth/idp/login?next=/private">Log in</a></p>"#
                .to_owned()
        }
    };
    RawHtml(format!(
        "<!DOCTYPE html><title>rocket_oauth example</title><h1>rocket_oauth</h1>{body}"
    ))
}

#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

#[get("/private")]
fn private(user: LoginRequired<Idp>) -> RawHtml<String> {
    let name = user
        .userinfo()
        .and_then(|u| u.get("name").or_else(|| u.get("login")))
        .and_then(Value::as_str)
        .unwrap_or("there");
    let name = rocket::http::RawStr::new(name).html_escape();
    RawHtml(format!(
        "<!DOCTYPE html><title>Private</title><p>Hello, {name}. This page is private.</p>"
    ))
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(Idp.fairing())
        .mount("/", routes![index, me, private])
}
