//! The testing kit (feature `testing`): a mock provider for an app's own tests, and helpers
//! that log a test client in through the real flow.
//!
//! "Only members of team X get in", "the `after_login` hook stores the user", "a refused
//! user sees a 403", "a provider outage ends on the error page": each is a test of a few
//! lines, offline, in milliseconds. [`MockProvider::start`] serves OAuth 2, OpenID Connect
//! and OAuth 1.0a on a loopback port; [`MockProvider::configure`] points a provider of the
//! app at it; [`MockProvider::log_in`] (or [`log_in_blocking`](MockProvider::log_in_blocking),
//! or [`log_in_http`](MockProvider::log_in_http) for a real HTTP [`Browser`]) logs a client
//! in as one of its users ([`MockUser`]); [`MockProvider::script`] makes it fail
//! ([`Script`]); [`MockProvider::requests`] shows what it received.
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! rocket_oauth = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket::http::Status;
//! use rocket::local::asynchronous::Client;
//! use rocket_oauth::testing::{self, EndpointReply, MockProvider, MockUser};
//! use rocket_oauth::{OAuth2Provider, User};
//!
//! #[derive(OAuth2Provider)]
//! #[oauth(name = "corp", authorize_url = "https://corp.example/a", token_url = "https://corp.example/t")]
//! struct Corp;
//!
//! #[get("/dashboard")]
//! fn dashboard(user: User<Corp>) -> String {
//!     format!("hello {}", user.subject)
//! }
//!
//! # rocket::async_test(async {
//! let mock = MockProvider::start();
//! mock.add_user(MockUser::new("eve").email("eve@elsewhere.example"));
//! let figment = mock
//!     .configure::<Corp>(testing::figment())
//!     .merge(("oauth.corp.access", rocket::serde::json::json!({
//!         "policy": "listed", "domains": ["example.com"]
//!     })));
//! let app = || rocket::custom(figment.clone()).attach(Corp.fairing()).mount("/", routes![dashboard]);
//!
//! // alice@example.com gets in.
//! let client = Client::tracked(app()).await.unwrap();
//! mock.log_in::<Corp>(&client, "alice").await;
//! let page = client.get("/dashboard").dispatch().await;
//! assert_eq!(page.into_string().await.as_deref(), Some("hello alice"));
//!
//! // eve does not.
//! let client = Client::tracked(app()).await.unwrap();
//! let landing = mock.log_in::<Corp>(&client, "eve").await;
//! assert_eq!(landing.status, Status::Forbidden);
//! assert_eq!(client.get("/dashboard").dispatch().await.status(), Status::Unauthorized);
//!
//! // A provider that fails ends on the error page.
//! mock.script(|s| s.userinfo = EndpointReply::ServerError);
//! let landing = mock.log_in::<Corp>(&client, "alice").await;
//! assert_eq!(landing.status, Status::BadGateway);
//! assert!(landing.body.contains("Provider unavailable"));
//! # });
//! ```
//!
//! The mock's keys (OAuth 2 client and OAuth 1.0a consumer: [`CLIENT_ID`],
//! [`CLIENT_SECRET`]; the ID token signing keys) are test keys published with this crate:
//! use them for nothing else.

mod browser;
mod custom;
mod exchange;
#[cfg(feature = "oidc")]
mod keys;
mod login;
mod mock;
mod oauth1;
mod oauth2;
#[cfg(feature = "oidc")]
mod oidc;
mod presets;
mod script;
mod state;
#[cfg(feature = "oidc")]
mod tokens;
mod user;

use std::sync::Mutex;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

pub use self::browser::Browser;
pub use self::exchange::{MockRequest, MockResponse, RecordedRequest};
pub use self::login::{Landing, LoginAs};
pub use self::mock::MockProvider;
pub use self::presets::Preset;
pub use self::script::{
    AtHash, AuthorizeReply, EndpointReply, IdTokenFault, IdTokenScript, IssuedTokens, NonceReply,
    OAuth1Reply, RefreshReply, Script, SigningAlg, TokenAnswer, TokenReply,
};
pub use self::state::{CLIENT_ID, CLIENT_SECRET};
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub use self::tokens::SignedToken;
pub use self::user::MockUser;

/// Rocket's configuration (`Rocket.toml`, `ROCKET_*`) for an app under test: on loopback, on
/// a free port, quiet (`log_level = "off"`).
///
/// ```rust
/// let figment = rocket_oauth::testing::figment();
/// let port: u16 = figment.extract_inner("port").unwrap();
/// assert_ne!(port, 0);
/// ```
pub fn figment() -> Figment {
    rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", free_port()))
        .merge(("log_level", "off"))
}

/// A free loopback port (bound, then released for the app to take).
///
/// ```rust
/// let port = rocket_oauth::testing::free_port();
/// let figment = rocket_oauth::testing::figment().merge(("port", port));
/// # let _ = figment;
/// ```
///
/// # Panics
///
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Launches `rocket` on the current runtime and returns its base URL
/// (`http://127.0.0.1:<port>`) once it listens; it serves until the runtime ends.
///
/// ```rust
/// # rocket::async_test(async {
/// let url = rocket_oauth::testing::serve(rocket::custom(rocket_oauth::testing::figment())).await;
/// assert!(url.starts_with("http://127.0.0.1:"));
/// # });
/// ```
///
/// # Panics
///
/// When the launch fails (the message says why).
pub async fn serve(rocket: Rocket<Build>) -> String {
    let (tx, rx) = rocket::tokio::sync::oneshot::channel::<Result<u16, String>>();
    let tx = std::sync::Arc::new(Mutex::new(Some(tx)));
    let on_liftoff = tx.clone();
    let rocket = rocket.attach(AdHoc::on_liftoff("testing::serve", move |r| {
        let port = r.config().port;
        Box::pin(async move {
            if let Some(tx) = on_liftoff.lock().unwrap().take() {
                let _ = tx.send(Ok(port));
            }
        })
    }));
    rocket::tokio::spawn(async move {
        if let Err(e) = rocket.launch().await {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(Err(e.to_string()));
            }
        }
    });
    match rx.await {
        Ok(Ok(port)) => format!("http://127.0.0.1:{port}"),
        Ok(Err(e)) => panic!("the app did not launch: {e}"),
        Err(_) => panic!("the app did not launch"),
    }
}
