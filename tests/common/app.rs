//! The application under test: providers `idp` and `other`, with hooks that count calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rocket::figment::Figment;
use rocket::http::CookieJar;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Request};
use rocket_oauth::{AccessToken, Denial, Hooks, LoginRequired, OAuth2Provider, OAuthFairing};

use super::{base_figment, free_port, launch, provider_config, Idp as IdpServer};

/// Counts hook calls; `deny` makes `after_login` refuse.
#[derive(Default)]
pub struct HookLog {
    pub logins: AtomicUsize,
    pub logouts: AtomicUsize,
    pub deny: bool,
    pub last_user: std::sync::Mutex<Option<Value>>,
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "idp",
    authorize_url = "https://idp.invalid/authorize",
    token_url = "https://idp.invalid/token",
    scopes("read")
)]
pub struct Idp {
    pub log: Arc<HookLog>,
}

#[rocket::async_trait]
impl Hooks for Idp {
    async fn after_login(
        &self,
        token: &AccessToken<Self>,
        _request: &Request<'_>,
        _cookies: &CookieJar<'_>,
    ) -> Result<(), Denial> {
        self.log.logins.fetch_add(1, Ordering::SeqCst);
        *self.log.last_user.lock().unwrap() = token.userinfo().cloned();
        if self.log.deny {
            return Err(Denial::forbidden("test accounts are not welcome here"));
        }
        Ok(())
    }

    async fn after_logout(&self, _request: &Request<'_>, _cookies: &CookieJar<'_>) {
        self.log.logouts.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "other",
    authorize_url = "https://other.invalid/authorize",
    token_url = "https://other.invalid/token"
)]
pub struct Other;

impl Hooks for Other {}

#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo(), "scopes": token.scopes() })
}

#[get("/other-me")]
fn other_me(token: AccessToken<Other>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

#[get("/private")]
fn private(_user: LoginRequired<Idp>) -> &'static str {
    "private page"
}

#[get("/maybe")]
fn maybe(token: Option<AccessToken<Idp>>) -> &'static str {
    if token.is_some() {
        "in"
    } else {
        "out"
    }
}

/// A running application.
pub struct App {
    pub url: String,
    pub log: Arc<HookLog>,
}

/// Starts the app against `idp` with both providers; `tweak` adjusts the configuration.
pub async fn start_app(idp: &IdpServer, deny: bool, tweak: impl FnOnce(Figment) -> Figment) -> App {
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", provider_config(idp, "idp", port)))
        .merge(("oauth.other", provider_config(idp, "other", port)));
    let log = Arc::new(HookLog {
        deny,
        ..HookLog::default()
    });
    let rocket = rocket::custom(tweak(figment))
        .attach(OAuthFairing::new(Idp { log: log.clone() }))
        .attach(Other::fairing())
        .mount("/", routes![me, other_me, private, maybe]);
    App {
        url: launch(rocket).await,
        log,
    }
}
