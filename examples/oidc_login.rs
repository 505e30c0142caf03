//! Log in with any OpenID Connect provider: the issuer and keys come from configuration,
//! everything else from the provider's discovery document.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example oidc_login
//! ```
//!
//! with `[default.oauth.idp]`: `client_id`, `client_secret`, `issuer`, `redirect_uri`,
//! `scopes` (and optionally an `access` table: see the README).
//!
//! Logging out everywhere: with `backchannel_logout = true` in that table and a session store
//! (`[default.oauth.session] store = "redis"`, `url = "redis://…"`), the provider's logout
//! tokens, posted to `<app>/auth/idp/backchannel-logout` (register that URL at the provider
//! as the client's `backchannel_logout_uri`), end the user's sessions in every instance.

#[macro_use]
extern crate rocket;

use rocket::http::RawStr;
use rocket::response::content::RawHtml;
use rocket::serde::json::{json, Value};
use rocket_oauth::{AccessToken, HasRole, LoginRequired, Provider, ProviderDefaults, Staff, User};

/// An OpenID Provider named `idp`, its issuer from configuration.
struct Idp;

impl Provider for Idp {
    const NAME: &'static str = "idp";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["openid", "email", "profile"])
    }
}

#[get("/")]
fn index(user: Option<User<Idp>>) -> RawHtml<String> {
    let body = match user {
        Some(user) => format!(
            r#"<p>Logged in as {} ({}). <a href="/me">/me</a> · <a href="/private">/private</a></p>
<form method="post" action="/auth/idp/logout"><button>Log out</button></form>"#,
            RawStr::new(user.name.as_deref().unwrap_or(&user.subject)).html_escape(),
            RawStr::new(user.verified_email().unwrap_or("no verified email")).html_escape(),
        ),
        None => {
            r#"<p>You are not logged in. <a href="/auth/idp/login?next=/private">Log in</a></p>"#
                .to_owned()
        }
    };
    RawHtml(format!(
        "<!DOCTYPE html><title>OpenID Connect example</title>{body}"
    ))
}

/// The ID token's claims merged with userinfo.
#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

#[get("/whoami")]
fn whoami(user: User<Idp>) -> Value {
    json!({
        "provider": user.provider(),
        "subject": user.subject,
        "email": user.verified_email(),
        "groups": user.groups,
        "roles": user.roles(),
    })
}

#[get("/private")]
fn private(user: LoginRequired<Idp>) -> RawHtml<String> {
    let name = user
        .identity()
        .and_then(|i| i.name.as_deref())
        .unwrap_or("there");
    RawHtml(format!(
        "<!DOCTYPE html><title>Private</title><p>Hello, {}. This page is private.</p>",
        RawStr::new(name).html_escape()
    ))
}

#[get("/staff")]
fn staff(_staff: HasRole<Idp, Staff>) -> &'static str {
    "staff only"
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(Idp.fairing())
        .mount("/", routes![index, me, whoami, private, staff])
}
