//! One single sign-on connection per tenant, all from configuration: no provider type in
//! the code. Each `[default.oauth.providers.<tenant>]` table is an OpenID Connect
//! (`protocol = "oidc"`, `issuer`) or OAuth 2 (`authorize_url`, `token_url`, `userinfo_url`)
//! provider with its keys and `redirect_uri` (`…/auth/<tenant>/callback`); adding a tenant
//! is a configuration change.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example tenants
//! ```
//!
//! `GET /` lists the tenants; `GET /t/<tenant>` is that tenant's page (a visitor not logged in
//! with its provider is sent there to log in); hooks made per tenant count its logins.
//! `tests/integration/example.rs` runs it against the testing kit.

#[macro_use]
extern crate rocket;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rocket::http::RawStr;
use rocket::response::content::RawHtml;
use rocket::serde::json::{json, Value};
use rocket::{Request, State};
use rocket_oauth::guards::NotLoggedIn;
use rocket_oauth::{Denial, Hooks, Login, Providers};

/// Logins per tenant, counted by the hooks.
#[derive(Clone, Default)]
struct Logins(Arc<Mutex<BTreeMap<String, u32>>>);

/// The hooks of one tenant's provider.
struct Tenant {
    name: String,
    logins: Logins,
}

#[rocket::async_trait]
impl Hooks for Tenant {
    async fn after_login(&self, _login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
        let mut logins = self.logins.0.lock().unwrap_or_else(|e| e.into_inner());
        *logins.entry(self.name.clone()).or_default() += 1;
        Ok(())
    }
}

#[get("/")]
fn index(providers: Providers<'_>) -> RawHtml<String> {
    let items: String = providers
        .names()
        .map(|name| format!(r#"<li><a href="/t/{name}">{name}</a></li>"#))
        .collect();
    RawHtml(format!("<h1>Tenants</h1><ul>{items}</ul>"))
}

#[get("/t/<tenant>")]
async fn tenant(providers: Providers<'_>, tenant: &str) -> Result<RawHtml<String>, NotLoggedIn> {
    let user = providers.require_user(tenant).await?;
    let who = RawStr::new(user.name.as_deref().unwrap_or(&user.subject)).html_escape();
    Ok(RawHtml(format!(
        r#"<p>Hello {who}, signed in to {tenant}.</p>
<form method="post" action="/auth/{tenant}/logout"><button>Sign out</button></form>"#,
        tenant = user.provider(),
    )))
}

#[get("/logins")]
fn logins(logins: &State<Logins>) -> Value {
    json!(*logins.0.lock().unwrap_or_else(|e| e.into_inner()))
}

#[launch]
fn rocket() -> _ {
    let counted = Logins::default();
    let hooks = counted.clone();
    rocket::build()
        .attach(Providers::fairing().hooks(move |name| Tenant {
            name: name.to_owned(),
            logins: hooks.clone(),
        }))
        .manage(counted)
        .mount("/", routes![index, tenant, logins])
}
