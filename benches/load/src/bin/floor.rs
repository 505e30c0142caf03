//! The floor: a hand-written Rocket login flow without outbound calls. `GET /login` keeps a
//! random state in a private cookie and redirects to the provider; `GET /callback` checks
//! it and sets a private session cookie (no code exchange, no userinfo); `GET /me` reads it.
//! What a login costs a Rocket app at the least: the benchmark's yardstick.

#[macro_use]
extern crate rocket;

use rand::RngCore;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::State;

struct Provider {
    authorize: String,
    redirect_uri: String,
}

#[get("/login")]
fn login(cookies: &CookieJar<'_>, provider: &State<Provider>) -> Redirect {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let state: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let to = format!(
        "{}?response_type=code&client_id=bench-client&redirect_uri={}&state={state}",
        provider.authorize,
        url_encode(&provider.redirect_uri)
    );
    cookies.add_private(Cookie::build(("state", state)).same_site(SameSite::Lax));
    Redirect::to(to)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[get("/callback?<code>&<state>")]
fn callback(code: &str, state: &str, cookies: &CookieJar<'_>) -> Result<Redirect, Status> {
    let expected = cookies.get_private("state").ok_or(Status::BadRequest)?;
    if expected.value() != state {
        return Err(Status::BadRequest);
    }
    cookies.remove_private("state");
    let session = format!(r#"{{"sub":"user-1","token":"{code}"}}"#);
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
    let figment = rocket.figment();
    let provider = Provider {
        authorize: figment
            .extract_inner("bench.authorize")
            .expect("bench.authorize"),
        redirect_uri: figment
            .extract_inner("bench.redirect_uri")
            .expect("bench.redirect_uri"),
    };
    rocket
        .manage(provider)
        .mount("/", routes![login, callback, me])
}
