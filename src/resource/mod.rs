//! Protecting an API with access tokens from any issuer: a resource server (feature `oidc`).
//!
//! Most APIs sit behind someone else's identity provider (Auth0, Keycloak, Entra ID, Okta,
//! Google, a company's own, or this crate's [`server`](crate::server)). Name the issuer in
//! `[default.oauth.resource.<name>]` ([`ResourceConfig`](crate::config::ResourceConfig)),
//! attach the resource's fairing, and take a [`Bearer`] guard: a JWT access token (RFC 9068
//! `at+jwt`, or the untyped JWTs of Auth0, Entra ID and Keycloak) is checked offline with the
//! issuer's published keys; an opaque one is introspected at the issuer (RFC 7662), its
//! positive answer kept a few seconds. Either way the token must come from the issuer, name
//! this API in `aud`, be unexpired, and not be bound to a key (DPoP, mTLS).
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket::serde::json::{json, Value};
//! use rocket_oauth::resource::{Bearer, Resource};
//! use rocket_oauth::ScopeSet;
//!
//! /// The issuer, configured under `[default.oauth.resource.idp]`.
//! struct Idp;
//!
//! impl Resource for Idp {
//!     const NAME: &'static str = "idp";
//! }
//!
//! #[derive(ScopeSet)]
//! #[scopes("profile")]
//! struct Profile;
//!
//! /// `401` without a valid token of the issuer, `403` without the `profile` scope.
//! #[get("/api/me")]
//! fn me(token: Bearer<Idp, Profile>) -> Value {
//!     json!({ "sub": token.subject, "scopes": token.scopes })
//! }
//!
//! /// Any valid token (no scope required).
//! #[get("/api/ping")]
//! fn ping(_token: Bearer<Idp>) -> &'static str {
//!     "pong"
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(Idp.fairing())
//!         .mount("/", routes![me, ping])
//! }
//! ```
//!
//! With `resource` configured (the API's identifier, e.g. `https://api.example.com/api`),
//! the fairing serves its RFC 9728 protected resource metadata at
//! `/.well-known/oauth-protected-resource/api`, and every `401` says where it is
//! (`WWW-Authenticate: Bearer resource_metadata="…"`): how MCP clients and other generic
//! clients find the authorization server to get a token from.

mod fairing;
mod guard;

pub use self::fairing::{Resource, ResourceFairing};
pub use self::guard::{Bearer, ResourceError};
