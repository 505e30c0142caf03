//! "Log in with GitHub", then call GitHub's API on the user's behalf.
//!
//! Register an OAuth App at <https://github.com/settings/developers> with the callback URL
//! `http://127.0.0.1:8000/auth/github/callback`, then:
//!
//! ```sh
//! ROCKET_OAUTH='{github={client_id="<id>",client_secret="<secret>",redirect_uri="http://127.0.0.1:8000/auth/github/callback"}}' \
//!     cargo run --example github
//! ```
//!
//! The `identify` hook maps GitHub's profile to an [`Identity`]: the numeric id as subject,
//! the primary *verified* email from `/user/emails`, and the user's organizations and teams
//! (`org` and `org/team`) as groups, so access rules can use them, e.g. in `Rocket.toml`:
//!
//! ```toml
//! [default.oauth.github.access]
//! policy = "listed"
//! teams = ["rwf2"]
//! roles = { staff = { teams = ["rwf2/maintainers"] } }
//! ```

#[macro_use]
extern crate rocket;

use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::serde::json::Value;
use rocket::{Request, State};
use rocket_oauth::{
    AccessToken, ApiClient, Denial, Hooks, Identity, Login, LoginRequired, OAuth2Provider,
};

/// GitHub. `iss` is GitHub's real issuer, so RFC 9207 callbacks are checked against it.
#[derive(OAuth2Provider)]
#[oauth(
    name = "github",
    authorize_url = "https://github.com/login/oauth/authorize",
    token_url = "https://github.com/login/oauth/access_token",
    userinfo_url = "https://api.github.com/user",
    issuer = "https://github.com/login/oauth",
    scopes("read:user", "user:email", "read:org"),
    client_auth = "post"
)]
struct GitHub;

/// Who the user is at GitHub: the numeric id, a verified email, organisations and teams.
struct Members;

const API: &str = "https://api.github.com";

/// The `field` of each object in a GitHub API list (an empty list on any error: a missing
/// scope must not block the login).
async fn names(
    api: &ApiClient<'_>,
    path: &str,
    field: fn(&Value) -> Option<String>,
) -> Vec<String> {
    let answer = api.get(&format!("{API}{path}")).await;
    match answer.ok().filter(|r| r.is_success()).map(|r| r.json()) {
        Some(Ok(Value::Array(items))) => items.iter().filter_map(field).collect(),
        _ => Vec::new(),
    }
}

#[rocket::async_trait]
impl Hooks for Members {
    async fn identify(
        &self,
        login: &Login,
        api: &ApiClient<'_>,
    ) -> Result<Option<Identity>, Denial> {
        let user = login
            .userinfo()
            .ok_or_else(|| Denial::forbidden("GitHub did not say who you are"))?;
        // `login` can be renamed; the numeric id cannot.
        let id = user["id"]
            .as_u64()
            .ok_or_else(|| Denial::forbidden("GitHub sent no user id"))?;
        let mut identity = Identity::new(id.to_string());
        if let Some(name) = user["name"].as_str().or(user["login"].as_str()) {
            identity = identity.with_name(name);
        }
        if let Some(avatar) = user["avatar_url"].as_str() {
            identity = identity.with_picture(avatar);
        }
        // GitHub's primary email is not necessarily verified: only a verified one counts.
        let emails = names(api, "/user/emails", |e| {
            let usable = e["primary"] == true && e["verified"] == true;
            e["email"].as_str().filter(|_| usable).map(str::to_owned)
        })
        .await;
        if let Some(email) = emails.into_iter().next() {
            identity = identity.with_email(email, true);
        }
        let mut groups = names(api, "/user/orgs", |o| {
            o["login"].as_str().map(str::to_owned)
        })
        .await;
        groups.extend(
            names(api, "/user/teams", |t| {
                Some(format!(
                    "{}/{}",
                    t["organization"]["login"].as_str()?,
                    t["slug"].as_str()?
                ))
            })
            .await,
        );
        Ok(Some(identity.with_groups(groups)))
    }

    async fn after_login(&self, login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
        match login.userinfo().and_then(|u| u["login"].as_str()) {
            Some(login) => {
                info!("{login} logged in with GitHub");
                Ok(())
            }
            None => Err(Denial::forbidden("GitHub did not say who you are")),
        }
    }

    async fn after_logout(&self, login: Option<&Login>, _request: &Request<'_>) {
        if let Some(identity) = login.and_then(Login::identity) {
            info!("GitHub user {} logged out", identity.subject);
        }
    }
}

#[get("/")]
fn index(user: Option<AccessToken<GitHub>>) -> RawHtml<String> {
    let body = match user.as_ref().and_then(|u| u.userinfo()) {
        Some(info) => format!(
            r#"<p>Hello, {}! <a href="/repos">Your repositories</a></p>
<form method="post" action="/auth/github/logout"><button>Log out</button></form>"#,
            rocket::http::RawStr::new(info["login"].as_str().unwrap_or("?")).html_escape()
        ),
        None => r#"<p><a href="/auth/github/login">Log in with GitHub</a></p>"#.to_owned(),
    };
    RawHtml(format!(
        "<!DOCTYPE html><title>GitHub example</title>{body}"
    ))
}

/// Calls GitHub's API with the user's token (one shared HTTP client for the app).
#[get("/repos")]
async fn repos(
    user: LoginRequired<GitHub>,
    http: &State<reqwest::Client>,
) -> Result<Value, Status> {
    let response = http
        .get("https://api.github.com/user/repos?per_page=10&sort=updated")
        .bearer_auth(user.secret())
        .header("Accept", "application/vnd.github+json")
        .send()
        .await
        .map_err(|_| Status::BadGateway)?;
    if !response.status().is_success() {
        return Err(Status::BadGateway);
    }
    let repos: Vec<Value> = response.json().await.map_err(|_| Status::BadGateway)?;
    Ok(Value::Array(
        repos.into_iter().map(|r| r["full_name"].clone()).collect(),
    ))
}

#[launch]
fn rocket() -> _ {
    let http = reqwest::Client::builder()
        .user_agent("rocket_oauth-github-example")
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    rocket::build()
        .manage(http)
        .attach(GitHub.fairing().hooks(Members))
        .mount("/", routes![index, repos])
}
