//! The peer: the same login with rocket_oauth2 0.5 (its default hyper + rustls client for
//! the code exchange) and a pooled reqwest client for userinfo, the session in a private
//! cookie. As its documentation shows it: no PKCE, no timeouts.

#[macro_use]
extern crate rocket;

use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::State;
use rocket_oauth2::{OAuth2, TokenResponse};

struct Idp;

struct Userinfo {
    url: String,
    client: reqwest::Client,
}

#[get("/login")]
fn login(oauth2: OAuth2<Idp>, cookies: &CookieJar<'_>) -> Redirect {
    oauth2
        .get_redirect(cookies, &["profile"])
        .expect("a redirect")
}

#[get("/auth")]
async fn callback(
    token: TokenResponse<Idp>,
    cookies: &CookieJar<'_>,
    userinfo: &State<Userinfo>,
) -> Result<Redirect, Status> {
    let response = userinfo
        .client
        .get(&userinfo.url)
        .bearer_auth(token.access_token())
        .send()
        .await
        .map_err(|_| Status::BadGateway)?;
    let user = response.text().await.map_err(|_| Status::BadGateway)?;
    let session = format!(r#"{{"token":"{}","user":{user}}}"#, token.access_token());
    cookies.add_private(Cookie::build(("session", session)).same_site(SameSite::Lax));
    Ok(Redirect::to("/me"))
}

#[get("/me")]
fn me(cookies: &CookieJar<'_>) -> Result<String, Status> {
    cookies
        .get_private("session")
        .map(|c| c.value().to_owned())
        .ok_or(Status::Unauthorized)
}

#[launch]
fn rocket() -> _ {
    let rocket = rocket::build();
    let url = rocket
        .figment()
        .extract_inner("bench.userinfo")
        .expect("bench.userinfo");
    rocket
        .manage(Userinfo {
            url,
            client: reqwest::Client::new(),
        })
        .attach(OAuth2::<Idp>::fairing("idp"))
        .mount("/", routes![login, callback, me])
}
