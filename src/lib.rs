//! "Log in with X" for [Rocket](https://rocket.rs) applications.
//!
//! `rocket_oauth` turns an annotated provider struct into a Rocket fairing that mounts the
//! login, callback, logout and check routes of an OAuth 2.0 authorization code flow (with
//! PKCE) or an OpenID Connect login, and gives routes request guards that require a login.
//!
//! # Quickstart
//!
//! Three steps: describe the provider, attach its fairing, guard routes.
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket::serde::json::{json, Value};
//! use rocket_oauth::{AccessToken, LoginRequired, OAuth2Provider};
//!
//! // 1. The provider: endpoints in attributes, keys in configuration.
//! #[derive(OAuth2Provider)]
//! #[oauth(
//!     name = "github",
//!     authorize_url = "https://github.com/login/oauth/authorize",
//!     token_url = "https://github.com/login/oauth/access_token",
//!     userinfo_url = "https://api.github.com/user",
//!     scopes("read:user")
//! )]
//! struct GitHub;
//!
//! // 3. Guards: `AccessToken` answers 401 when logged out, `LoginRequired` redirects to
//! //    `/auth/github/login?next=<this page>`.
//! #[get("/me")]
//! fn me(token: AccessToken<GitHub>) -> Value {
//!     json!({ "user": token.userinfo() })
//! }
//!
//! #[get("/private")]
//! fn private(_user: LoginRequired<GitHub>) -> &'static str {
//!     "only for logged-in users"
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     // 2. The fairing: mounts /auth/github/{login,callback,logout,check}.
//!     rocket::build()
//!         .attach(GitHub.fairing())
//!         .mount("/", routes![me, private])
//! }
//! ```
//!
//! Hooks ([`Hooks`]: `identify`, `after_login`, `after_logout`, ...) default to doing
//! nothing; implement the trait on a type of your own and give it at attach time,
//! `GitHub.fairing().hooks(MyHooks)` ([`OAuthFairing::hooks`]). Every provider (derived,
//! hand-written or a preset) is attached the same way, and guards name the provider only.
//!
//! # Which guard do I use?
//!
//! | the route needs | API (answers `401` when logged out) | HTML page (redirects to the login, then back) |
//! |---|---|---|
//! | a logged-in session, its tokens and profile | [`AccessToken<P>`] | [`LoginRequired<P>`] |
//! | the user's normalized identity | [`User<P>`] | [`OrLogin<User<P>>`](OrLogin) |
//! | a role (`403` without it) | [`HasRole<P, Staff>`](HasRole) | [`OrLogin<HasRole<P, Staff>>`](OrLogin) |
//! | whoever is logged in, by any provider | [`AnyUser`] | |
//! | to call the provider's API as the user | [`ApiClient<'_, P>`](ApiClient) | |
//!
//! An API called with another issuer's access tokens (no session: Auth0, Keycloak, Entra
//! ID, this crate's server) takes [`resource::Bearer<R, S>`](resource::Bearer) instead.
//!
//! `Option<G>` of any of them never fails (a logged-out visitor is `None`). The rest of the
//! guards are in [`guards`]: a provider's resolved configuration ([`guards::ProviderInfo`]),
//! its sessions ([`guards::SessionAdmin`]), custom roles ([`guards::RoleName`]).
//!
//! # The modules
//!
//! The crate root has what most apps use; the rest is grouped by what you are doing:
//! [`config`] (every configuration type), [`session`] (where sessions live, custom stores),
//! [`guards`] (every request guard), [`api`] (the API client's responses), [`oauth1`]
//! (incoming signed requests), [`error`] (every error type), [`presets`] (named providers),
//! `resource` (an API taking any issuer's access tokens; feature `oidc`), and with their
//! features `server` (an authorization server and OpenID Provider) and
//! `testing` (a mock provider for your tests).
//!
//! # Configuration
//!
//! Each provider reads `oauth.<name>` from Rocket's configuration (`Rocket.toml`, or
//! `ROCKET_OAUTH` in the environment), over the provider's own defaults. Missing or invalid
//! values — and keys of another protocol — stop the launch with a message naming the key.
//!
//! ```toml
//! [default.oauth.github]
//! client_id = "..."
//! client_secret = "..."
//! redirect_uri = "http://127.0.0.1:8000/auth/github/callback"
//! ```
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `client_id` | the client id issued by the provider | required |
//! | `client_secret` | the client secret (absent for public clients) | none |
//! | `redirect_uri` | absolute URL of `<base_path>/callback`, as registered at the provider | required |
//! | `authorize_url`, `token_url` | endpoints (`https`, or `http` on loopback) | the attributes |
//! | `userinfo_url` | JSON profile fetched once at login | the attribute, or none |
//! | `issuer` | OpenID Connect: the discovery base and the ID tokens' `iss`; OAuth 2: compared with an RFC 9207 `iss` callback parameter | the attribute, or none |
//! | `discovery_url`, `tenants`, `issuer_aliases`, `require_nonce`, `discover_at_launch` | OpenID Connect only (see [`config::OidcConfig`]) | |
//! | `request_token_url`, `access_token_url`, `signature_method`, `signature_placement`, `private_key`, `realm`, `login_calls_per_client`, `login_calls_per_minute` | OAuth 1.0a only (see [`config::OAuth1Config`]) | |
//! | `provider_logout`, `post_logout_redirect_uri` | OpenID Connect only: logout at the provider | `false` |
//! | `backchannel_logout`, `frontchannel_logout` | OpenID Connect only: mount `POST <base_path>/backchannel-logout` / `GET <base_path>/frontchannel-logout`, so the provider's logout ends the session here (see [Logging out everywhere](config::OidcConfig::backchannel_logout)) | `false` |
//! | `access` | who may log in, and roles ([`config::AccessConfig`]) | everyone |
//! | `scopes` | list, or space-separated string | the attribute, or none |
//! | `base_path` | where the routes are mounted | `/auth/<name>` |
//! | `confirm` | `GET login` shows a confirmation page; its CSRF-checked POST starts the login | `false` |
//! | `pkce` | send a PKCE S256 challenge | `true` |
//! | `client_auth` | `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523 assertions signed with `client_key`) or `client_secret_jwt` (HS256 with the secret) | `client_secret_basic` |
//! | `client_key`, `client_key_id`, `client_assertion_audience`, `jwks_route` | `private_key_jwt`: the private key (PEM file or text; ES256 or RS256), its `kid`, the assertions' `aud` (`token_endpoint` or `issuer`), and `GET <base_path>/jwks` publishing the public key (see [`config::SenderConfig`]) | none, the thumbprint, `token_endpoint`, `false` |
//! | `dpop` | RFC 9449: DPoP-bound tokens (a key per login, proofs on token, refresh and API calls) | `false` |
//! | `par`, `par_url` | RFC 9126: push authorization requests first (`true` always, `false` never unless required) | when the provider advertises it |
//! | `form_post` | the provider calls back with a cross-site POST | `false` |
//! | `logout_via_get` | also accept `GET logout` | `false` |
//! | `secure_cookies` | mark cookies `Secure` | `true` under TLS |
//! | `timeout`, `connect_timeout` | seconds allowed per call to the provider | `10`, `5` |
//! | `auth_params` | extra authorization URL parameters (table) | none |
//! | `revocation_url` | RFC 7009 endpoint: logout revokes the tokens there | discovered (OIDC), else none |
//! | `device_authorization_url` | RFC 8628 endpoint for [`api::ApiHandle::start_device_flow`] | discovered (OIDC), else none |
//! | `refresh_skew` | seconds before expiry an access token is refreshed | `5` |
//! | `api_base_url` | base of relative URLs for [`ApiClient`] | none |
//! | `api_origins` | other origins [`ApiClient`] may send the user's credentials to (it sends them only to the origins of `api_base_url`, `userinfo_url` and `issuer`) | none |
//! | `max_callback_params` | the most parameters a callback may carry (more: `400`, before any work) | `32` |
//!
//! # Sessions and tokens
//!
//! `oauth.session` ([`session::SessionConfig`]) says where sessions live: in cookies (the default;
//! split across several when large, never trimmed), in memory ([`session::MemorySessionStore`]) or
//! in Redis (`RedisSessionStore`, feature `redis`). Guards refresh an expired access token
//! before the route runs — once per session however many requests (and instances) ask —
//! and log the visitor out cleanly when the provider refuses. Logout revokes the tokens at
//! the provider. [`ApiClient`] calls the provider's API with the user's token;
//! [`guards::SessionAdmin`] ends a user's sessions from anywhere.
//!
//! See [`config::ProviderConfig`] for details.
//!
//! # OpenID Connect
//!
//! [`OidcProvider`] (or [`ProviderDefaults::oidc`]) takes an issuer; endpoints and keys come
//! from its discovery document, and every login's ID token is validated (signature against
//! the provider's cached keys, advertised asymmetric algorithms only, `iss`, `aud`/`azp`,
//! `exp`/`iat` with leeway, `nonce`, `at_hash`). Userinfo is merged into the claims.
//!
//! Federated logout: with `backchannel_logout = true` (and a session store), the provider's
//! logout tokens, posted to `POST <base_path>/backchannel-logout` and validated like ID tokens
//! (plus `events`, no `nonce`, a `jti` used once), end the sessions of that provider session
//! (`sid`) or user in every instance; `frontchannel_logout = true` mounts the page a provider
//! frames at its logout (`GET <base_path>/frontchannel-logout?iss=…&sid=…`). The testing kit's
//! `MockProvider::logout_token` signs logout tokens for an app's tests. As the OpenID Provider,
//! the `server` feature sends logout tokens to its clients ([`server::SignOut`]).
//!
//! # OAuth 1.0a
//!
//! [`OAuth1Provider`] (or [`ProviderDefaults::oauth1`]) takes `request_token_url`,
//! `authorize_url` and `access_token_url`; keys come from `consumer_key` and
//! `consumer_secret`, the callback from `callback_url`. Requests are signed by the
//! `oauth1-request` crate; [`ApiClient`] signs API calls with the user's token credentials.
//! [`oauth1::SignedRequest`] checks incoming 2-legged signed requests (signature, timestamp window,
//! nonce never seen within it).
//!
//! # Identity, access control and roles
//!
//! Hooks and guards see a [`Login`]: its [`session::Credentials`], userinfo, [`Identity`] and
//! roles. [`User`] is the normalized identity (from the claims, a preset's
//! [`Provider::identify`], or [`Hooks::identify`]). `oauth.<name>.access`
//! ([`config::AccessConfig`]) decides who may log in (`policy = "everyone"` by default, or
//! `"listed"`) and grants roles, checked by [`HasRole`]. For HTML pages, [`OrLogin`]
//! redirects a logged-out visitor to the login. With several providers, [`AnyUser`] is
//! whoever is logged in by any of them, and [`guards::ProviderInfo`] gives a route a
//! provider's resolved configuration and endpoints. [`Hooks::session_data`] keeps a few
//! fields of the app's own in the session ([`session::SessionData`], read back with
//! [`Login::data`]).
//!
//! # Presets
//!
//! [`presets`] has named providers that just work (GitHub, Google, Microsoft, Apple, Upwork
//! with teams, and more than twenty others): `presets::GitHub.fairing()`.
//!
//! # Testing your app
//!
//! The `testing` feature is a mock provider (OAuth 2, OpenID Connect, OAuth 1.0a) and helpers
//! that log a test client in as one of its users through the real flow: see the `testing` module
//! (available with the feature).
//!
//! # Architecture
//!
//! ```text
//! protocol/  http, oauth2, oidc/ — one Flow per protocol (begin → redirect, complete → credentials);
//!   ↑        plain async Rust, no Rocket, typed errors
//! provider, config, hooks, login — the Provider trait, `oauth.<name>` over the provider's
//!   ↑        defaults, the hooks and the Login record they receive
//! session/   the session record and its cookie codec
//!   ↑
//! web/       the fairing, routes, guards, pages: one login pipeline for every protocol
//!            (attempt → flow → identify → access rules → after_login → session)
//!
//! server/    the authorization server (feature `server`), apart: it shares only small
//!            utilities (clock, random tokens, constant-time compare, CSRF, templates)
//! resource/  the resource server (an API's bearer guard for any issuer), apart likewise
//! ```
//!
//! Dependencies point up this list only; a test checks that no file imports another in a
//! cycle and that the protocol layer never imports Rocket.
//!
//! # Features
//!
//! - `oidc` (default): OpenID Connect providers ([`OidcProvider`]), and the resource server
//!   (`resource`).
//! - `redis`: the Redis session store.
//! - `server`: an OAuth 2 authorization server and OpenID Provider (module `server`), so
//!   other applications can call your API on your users' behalf and log their users in
//!   with yours.
//! - `sqlite`: a SQLite store for that server (`server::SqliteServerStore`).
//! - `postgres`: a PostgreSQL store for that server (`server::PostgresServerStore`), shared by
//!   several instances.
//! - `apple`: Sign in with Apple's signed client secret (`client_secret_jwt`).
//! - `testing`: the testing kit (`testing`): a mock provider for the app's own tests.
//!
//! # Templates
//!
//! The pages are rendered with embedded default templates (system fonts, light and dark
//! mode, no external assets), so nothing needs to be set up.
//! To restyle one, attach `rocket_dyn_templates::Template::fairing()` (with the engine you
//! use enabled: `rocket_dyn_templates = { version = "0.2", features = ["tera"] }`, or
//! `handlebars`, `minijinja`) and put a template of the same name in your template directory
//! (e.g. `templates/oauth/error.html.tera`):
//!
//! | name | shown | context |
//! |---|---|---|
//! | `oauth/confirm` | `GET login` when `confirm` is on | `provider`, `action` (form URL), `csrf_token`, `next` |
//! | `oauth/success` | after login when there is no `next` | `provider`, `next`, `userinfo` (or null) |
//! | `oauth/error` | any failed login (4xx) | `provider`, `status`, `title`, `message`, `retry_url` (or null) |
//! | `oauth/signin` | `GET /auth/login` (`oauth.signin.path`): every attached provider | `providers` (`name`, `display_name`, `mark`, `login_url`), `next` |
//! | `oauth/consent` | the authorization server's consent page (feature `server`) | `client_name`, `client_image`, `owner`, `scopes` (`name`, `description`), `action`, `csrf_token`, `params` (`name`, `value`) |
//! | `oauth/device` | the authorization server's page where the user enters a device's code (RFC 8628; feature `server`) | `owner`, `action`, `csrf_token`, `user_code`, `message`, `done` (then the consent page, posting back to it) |
//!
//! The confirm form must POST `csrf_token` and `next` to `action`.
//!
//! # Security
//!
//! Every login attempt gets a fresh `state` and PKCE verifier, kept with `next` in its own
//! encrypted, HttpOnly, SameSite=Lax cookie (at most four pending per provider, ten minutes
//! each). `state` is compared in constant time and the attempt is consumed on first use.
//! `next` accepts same-site paths only, percent-encoded into a valid redirect. Cookies are
//! `Secure` with the `__Host-` prefix whenever `redirect_uri` is `https`; logout refuses
//! cross-site requests. Calls to the provider never follow redirects, time out, and read at
//! most 1 MiB; only bearer tokens are used. The session lives in encrypted cookies (or in a
//! [`session::SessionStore`], keyed by a random id) for at most `oauth.session.lifetime`, and the
//! access rules are applied again on every request. Tokens and secrets ([`Secret`]) never
//! appear in logs, pages or URLs, except the ID token as `id_token_hint` in a provider
//! logout URL (OpenID Connect RP-Initiated Logout).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod access;
pub mod api;
#[cfg(feature = "oidc")]
mod bearer;
pub mod config;
pub mod error;
mod hooks;
mod identity;
mod limit;
mod login;
mod pages;
pub mod presets;
mod protocol;
mod provider;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub mod resource;
mod scopes;
mod secret;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
pub mod session;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod util;
mod web;

/// Request guards: a provider's session ([`AccessToken`]), its user ([`User`]) and roles
/// ([`HasRole`], with [`RoleName`](guards::RoleName)s such as [`Staff`]), anyone logged in
/// ([`AnyUser`]), the redirecting wrapper for HTML pages ([`OrLogin`], [`LoginRequired`]), a
/// provider's resolved configuration ([`ProviderInfo`](guards::ProviderInfo)) and its
/// sessions ([`SessionAdmin`](guards::SessionAdmin)), and the providers listed in
/// configuration by name ([`Providers`], with its [`ListedFairing`](guards::ListedFairing)
/// and [`NotLoggedIn`](guards::NotLoggedIn)). The everyday ones are also at the crate root.
pub mod guards {
    pub use crate::web::api::SessionAdmin;
    pub use crate::web::guards::{AccessToken, HasRole, RoleName, Staff, Superuser, User};
    pub use crate::web::info::ProviderInfo;
    pub use crate::web::listed::{ListedFairing, NotLoggedIn, Providers};
    pub use crate::web::required::{AnyUser, LoginRequired, OrLogin, ProviderGuard};
}

/// OAuth 1.0a beyond logging in: incoming 2-legged signed requests, checked by the
/// [`SignedRequest`](oauth1::SignedRequest) guard once [`RequestVerifier`](oauth1::RequestVerifier)'s
/// fairing is attached, and outgoing 2-legged calls ([`ConsumerClient`](oauth1::ConsumerClient)).
/// (Outgoing calls are signed by [`ApiClient`]; signature methods and placements are in
/// [`config`].)
pub mod oauth1 {
    pub use crate::web::api::ConsumerClient;
    pub use crate::web::signed::{RequestVerifier, SignedRequest};
}

pub use crate::api::ApiClient;
pub use crate::error::{ConfigError, LoginError};
pub use crate::guards::{
    AccessToken, AnyUser, HasRole, LoginRequired, OrLogin, Providers, Staff, User,
};
pub use crate::hooks::{Denial, Hooks};
pub use crate::identity::Identity;
pub use crate::login::Login;
pub use crate::provider::{OAuthFairing, Provider, ProviderDefaults};
pub use crate::scopes::ScopeSet;
pub use crate::secret::Secret;
pub use crate::web::listed::Listed;
/// Derives [`ScopeSet`] from `#[scopes("a", "b")]` (see it).
pub use rocket_oauth_codegen::ScopeSet;

/// Derives [`Provider`] for an OAuth 2.0 provider; see the crate docs.
///
/// ```rust
/// use rocket_oauth::{Hooks, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(
///     name = "github",                                       // required: config key, mount point
///     authorize_url = "https://github.com/login/oauth/authorize",   // required
///     token_url = "https://github.com/login/oauth/access_token",    // required
///     userinfo_url = "https://api.github.com/user",          // optional
///     issuer = "https://github.com/login/oauth",             // optional (RFC 9207 `iss`)
///     scopes("read:user", "user:email"),                     // optional
///     client_auth = "post",                                  // optional: "basic" (default) or "post"
///     pkce = true,                                           // optional, default true
///     confirm = false,                                       // optional, default false
///     form_post = false,                                     // optional, default false
/// )]
/// struct GitHub;
///
/// struct Audit; // the app's hooks
/// impl Hooks for Audit {}
///
/// let _plain = GitHub.fairing();
/// let _audited = GitHub.fairing().hooks(Audit);
/// ```
///
/// URLs are checked at compile time. The derive also adds an inherent `fairing(self)`
/// constructor, so no trait import is needed.
pub use rocket_oauth_codegen::OAuth2Provider;

/// Derives [`Provider`] for an OpenID Connect provider: like [`OAuth2Provider`], but
/// `issuer` is required and the endpoints are discovered from
/// `<issuer>/.well-known/openid-configuration` (`authorize_url`, `token_url` and
/// `userinfo_url` may still be given to override them).
///
/// ```rust
/// use rocket_oauth::OidcProvider;
///
/// #[derive(OidcProvider)]
/// #[oauth(name = "google", issuer = "https://accounts.google.com", scopes("email", "profile"))]
/// struct Google;
///
/// let _fairing = Google.fairing();
/// ```
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use rocket_oauth_codegen::OidcProvider;

/// Derives [`Provider`] for an OAuth 1.0a provider (RFC 5849): `request_token_url`,
/// `authorize_url` and `access_token_url` are required; keys come from `consumer_key` and
/// `consumer_secret` under `oauth.<name>`, the callback from `callback_url`. Guards, hooks,
/// templates, `next`, `check` and `logout` work as for OAuth 2; [`ApiClient`] signs requests.
///
/// ```rust
/// use rocket_oauth::OAuth1Provider;
///
/// #[derive(OAuth1Provider)]
/// #[oauth(
///     name = "trello",
///     request_token_url = "https://trello.com/1/OAuthGetRequestToken",
///     authorize_url = "https://trello.com/1/OAuthAuthorizeToken",
///     access_token_url = "https://trello.com/1/OAuthGetAccessToken",
///     userinfo_url = "https://api.trello.com/1/members/me"
/// )]
/// struct Trello;
///
/// let _fairing = Trello.fairing();
/// ```
pub use rocket_oauth_codegen::OAuth1Provider;
