//! An API that accepts another issuer's access tokens (a resource server): Auth0, Keycloak,
//! Entra ID, Okta, node oidc-provider, or this crate's own `auth_server` example.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example resource_server
//! ```
//!
//! with
//!
//! ```toml
//! [default.oauth.resource.idp]
//! issuer = "https://tenant.eu.auth0.com/"   # its metadata and keys are discovered
//! audience = "https://api.example.com"       # what the tokens' `aud` must name
//! resource = "https://api.example.com/api"   # optional: RFC 9728 metadata
//! ```
//!
//! `GET /api/me` (scope `profile`) answers `200` with the token's `sub`, client and scopes;
//! `401` (`WWW-Authenticate: Bearer …`) without a valid token, `403` without the scope, both
//! with RFC 6750 JSON bodies. `GET /api/ping` takes any valid token.

#[macro_use]
extern crate rocket;

use rocket::serde::json::{json, Value};
use rocket_oauth::resource::{Bearer, Resource};
use rocket_oauth::ScopeSet;

/// The issuer, configured under `[default.oauth.resource.idp]`.
struct Idp;

impl Resource for Idp {
    const NAME: &'static str = "idp";
}

#[derive(ScopeSet)]
#[scopes("profile")]
struct Profile;

#[get("/")]
fn index() -> &'static str {
    "An API: GET /api/me with `Authorization: Bearer <an access token of the issuer>`.\n"
}

#[get("/api/me")]
fn me(token: Bearer<Idp, Profile>) -> Value {
    json!({
        "sub": token.subject,
        "client_id": token.client_id,
        "scopes": token.scopes,
        "expires_at": token.expires_at,
    })
}

#[get("/api/ping")]
fn ping(_token: Bearer<Idp>) -> &'static str {
    "pong"
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(Idp.fairing())
        .mount("/", routes![index, me, ping])
}
