//! "Log in with GitHub", then call GitHub's API on the user's behalf.
//!
//! Register an OAuth App at <https://github.com/settings/developers> with the callback URL
//! `http://127.0.0.1:8000/auth/github/callback`, then:
//!
//! ```sh
//! ROCKET_OAUTH='{github={client_id="<id>",client_secret="<secret>",redirect_uri="http://127.0.0.1:8000/auth/github/callback"}}' \
//!     cargo run --example github
//! ```

#[macro_use]
extern crate rocket;

use rocket::http::{CookieJar, Status};
use rocket::response::content::RawHtml;
use rocket::serde::json::Value;
use rocket::{Request, State};
use rocket_oauth::{AccessToken, Denial, Hooks, LoginRequired, OAuth2Provider};

/// GitHub. `iss` is GitHub's real issuer, so RFC 9207 callbacks are checked against it.
#[derive(OAuth2Provider)]
#[oauth(
    name = "github",
    authorize_url = "https://github.com/login/oauth/authorize",
    token_url = "https://github.com/login/oauth/access_token",
    userinfo_url = "https://api.github.com/user",
    issuer = "https://github.com/login/oauth",
    scopes("read:user", "user:email"),
    client_auth = "post"
)]
struct GitHub;

#[rocket::async_trait]
impl Hooks for GitHub {
    async fn after_login(
        &self,
        token: &AccessToken<Self>,
        _request: &Request<'_>,
        _cookies: &CookieJar<'_>,
    ) -> Result<(), Denial> {
        let login = token.userinfo().and_then(|u| u["login"].as_str());
        match login {
            Some(login) => {
                info!("{login} logged in with GitHub");
                Ok(())
            }
            None => Err(Denial::forbidden("GitHub did not say who you are")),
        }
    }

    async fn after_logout(&self, _request: &Request<'_>, _cookies: &CookieJar<'_>) {
        info!("a user logged out");
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
        .attach(GitHub::fairing())
        .mount("/", routes![index, repos])
}
