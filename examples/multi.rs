//! Two providers side by side: an OpenID Connect provider (`sso`, the company's) and a
//! GitHub-shaped OAuth 2 provider (`gh`); one page that knows who is logged in by either,
//! a staff page, hooks that record users in the app's own state, and an API call with the
//! user's GitHub token.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example multi
//! ```
//!
//! with `[default.oauth.sso]` (`client_id`, `client_secret`, `issuer`, `redirect_uri`, and
//! an `access` table granting `staff`) and `[default.oauth.gh]` (`client_id`,
//! `client_secret`, `authorize_url`, `token_url`, `userinfo_url`, `redirect_uri`,
//! `api_base_url`). `tests/integration/example.rs` runs it against the testing kit.

#[macro_use]
extern crate rocket;

use std::collections::BTreeSet;
use std::sync::Mutex;

use rocket::http::RawStr;
use rocket::response::content::RawHtml;
use rocket::serde::json::{json, Value};
use rocket::Request;
use rocket_oauth::{
    AnyUser, ApiClient, Denial, HasRole, Hooks, Identity, Login, OAuth2Provider, OrLogin, Provider,
    ProviderDefaults, Staff,
};

/// The company's OpenID Provider; its issuer comes from configuration.
struct Sso;

impl Provider for Sso {
    const NAME: &'static str = "sso";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["email", "profile"])
    }
}

/// Records every login in the app's state.
struct Record(&'static str);

#[rocket::async_trait]
impl Hooks for Record {
    async fn after_login(&self, login: &Login, request: &Request<'_>) -> Result<(), Denial> {
        record(request, self.0, login);
        Ok(())
    }
}

/// A GitHub-shaped provider: a numeric `id`, a mutable `login`, no verified email here.
#[derive(OAuth2Provider)]
#[oauth(
    name = "gh",
    authorize_url = "https://github.com/login/oauth/authorize",
    token_url = "https://github.com/login/oauth/access_token",
    userinfo_url = "https://api.github.com/user",
    scopes("read:user"),
    client_auth = "post"
)]
struct Gh;

/// GitHub's users by numeric id, recorded like the others.
struct GhUsers;

#[rocket::async_trait]
impl Hooks for GhUsers {
    async fn identify(
        &self,
        login: &Login,
        _api: &ApiClient<'_>,
    ) -> Result<Option<Identity>, Denial> {
        let user = login.userinfo().cloned().unwrap_or_default();
        // `login` can be renamed; the numeric id cannot.
        let Some(id) = user["id"].as_u64() else {
            return Err(Denial::forbidden("GitHub sent no user id"));
        };
        let mut identity = Identity::new(id.to_string());
        if let Some(name) = user["login"].as_str() {
            identity = identity.with_name(name);
        }
        Ok(Some(identity))
    }

    async fn after_login(&self, login: &Login, request: &Request<'_>) -> Result<(), Denial> {
        record(request, "gh", login);
        Ok(())
    }
}

/// The users seen so far, as `provider:subject` (the app's own state, reached from a hook).
#[derive(Default)]
struct Seen(Mutex<BTreeSet<String>>);

fn record(request: &Request<'_>, provider: &str, login: &Login) {
    if let (Some(seen), Some(identity)) = (request.rocket().state::<Seen>(), login.identity()) {
        if let Ok(mut seen) = seen.0.lock() {
            seen.insert(format!("{provider}:{}", identity.subject));
        }
    }
}

#[get("/")]
fn index(user: Option<AnyUser>) -> RawHtml<String> {
    let body = match user {
        Some(user) => {
            let who = user.identity().map_or("someone", |i| i.subject.as_str());
            let providers: Vec<_> = user.providers().collect();
            format!(
                "<p>Hello {}, logged in with {}.</p>",
                RawStr::new(who).html_escape(),
                providers.join(" and ")
            )
        }
        None => String::new(),
    };
    RawHtml(format!(
        r#"<!DOCTYPE html><title>Two providers</title>{body}
<p><a href="/auth/sso/login?next=/">Log in with the company</a> ·
<a href="/auth/gh/login?next=/">Log in with GitHub</a></p>"#
    ))
}

/// Who is logged in, by which provider.
#[get("/whoami")]
fn whoami(user: AnyUser) -> Value {
    let logins: Vec<Value> = user
        .logins()
        .map(|(provider, login)| {
            json!({ "provider": provider, "subject": login.identity().map(|i| &i.subject) })
        })
        .collect();
    json!(logins)
}

/// Staff of the company only; a logged-out visitor is sent to the company login.
#[get("/staff")]
fn staff(user: OrLogin<HasRole<Sso, Staff>>) -> String {
    let who = user.identity().map_or("", |i| i.subject.as_str());
    format!("staff page for {who}")
}

/// The user's GitHub repositories, with their own token (`401` when GitHub refuses it, `502`
/// when GitHub fails).
#[get("/repos")]
async fn repos(github: ApiClient<'_, Gh>) -> Result<Value, rocket_oauth::error::ApiError> {
    github.get("user/repos").await?.json()
}

/// The users the hooks recorded.
#[get("/seen")]
fn seen(seen: &rocket::State<Seen>) -> Value {
    json!(seen.0.lock().map(|s| s.clone()).unwrap_or_default())
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .manage(Seen::default())
        .attach(Sso.fairing().hooks(Record("sso")))
        .attach(Gh.fairing().hooks(GhUsers))
        .mount("/", routes![index, whoami, staff, repos, seen])
}
