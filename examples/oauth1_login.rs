//! Log in with any OAuth 1.0a provider, every URL and key from configuration.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example oauth1_login
//! ```
//!
//! with a `Rocket.toml`-style file holding `[default.oauth.idp]`: `consumer_key`,
//! `consumer_secret`, `request_token_url`, `authorize_url`, `access_token_url`,
//! `callback_url` and `userinfo_url` (fetched with a signed `GET` at login).

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
        ProviderDefaults::oauth1_from_config()
    }
}

#[get("/")]
fn index(token: Option<AccessToken<Idp>>) -> RawHtml<&'static str> {
    RawHtml(match token {
        Some(_) => {
            r#"<!DOCTYPE html><title>rocket_oauth</title><p>You are logged in. <a href="/me">/me</a>
<form method="post" action="/auth/idp/logout"><button>Log out</button></form>"#
        }
        None => {
            r#"<!DOCTYPE html><title>rocket_oauth</title><p><a href="/auth/idp/login?next=/private">Log in</a>"#
        }
    })
}

/// The profile from the signed `GET userinfo_url` made at login.
#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

#[get("/private")]
fn private(user: LoginRequired<Idp>) -> RawHtml<String> {
    let name = user
        .userinfo()
        .and_then(|u| u.get("name").or_else(|| u.get("screen_name")))
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
