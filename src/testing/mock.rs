//! The mock provider's handle: its server thread, and what tests ask of it.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::http::Method;
use serde_json::{json, Value};

use super::exchange::{Endpoint, MockRequest, MockResponse, RecordedRequest};
use super::script::Script;
use super::state::{Shared, CLIENT_ID, CLIENT_SECRET};
use super::user::MockUser;
use crate::config::Protocol;
use crate::Provider;

/// A mock OAuth provider for an app's own tests: OAuth 2 (authorize, token, userinfo,
/// revocation, refresh with rotation), OpenID Connect (discovery, JWKS with key rotation,
/// signed ID tokens with nonce and `at_hash`; feature `oidc`) and OAuth 1.0a (temporary
/// credentials, authorization, token credentials, signed profile), all on one loopback
/// port, served by its own thread until the handle is dropped.
///
/// It has users ([`MockUser`]; it starts with `alice`, [`MockUser::default`]), can be
/// scripted to fail ([`Script`]), serves the test's own endpoints
/// ([`MockProvider::endpoint`]) and records every request it receives
/// ([`MockProvider::requests`]).
///
/// | path | what |
/// |---|---|
/// | `/authorize` | OAuth 2 / OpenID Connect authorization (approves for the current user, or `login_as=<subject>`) |
/// | `/token` | authorization code and refresh grants (`client_secret_basic` or `_post`, PKCE S256) |
/// | `/userinfo` | the bearer's profile |
/// | `/revoke` | RFC 7009 revocation |
/// | `/end_session` | OpenID Connect RP-initiated logout |
/// | `/.well-known/openid-configuration`, `/jwks` | discovery and keys |
/// | `/oauth1/request_token`, `/oauth1/authorize`, `/oauth1/access_token`, `/oauth1/userinfo` | OAuth 1.0a (HMAC-SHA1 or PLAINTEXT) |
///
/// ```rust
/// use rocket_oauth::testing::{MockProvider, MockUser};
///
/// let mock = MockProvider::start();
/// mock.add_user(MockUser::new("bob").email("bob@example.com").groups(["staff"]));
/// assert!(mock.url().starts_with("http://127.0.0.1:"));
/// assert!(mock.requests().is_empty());
/// ```
pub struct MockProvider {
    pub(super) shared: Arc<Shared>,
    shutdown: rocket::Shutdown,
}

impl MockProvider {
    /// Starts a mock provider on a free loopback port, on a thread of its own (so it serves
    /// both async and blocking tests), and returns once it listens.
    ///
    /// # Panics
    ///
    /// When the server cannot start (no free port): the test cannot run.
    pub fn start() -> MockProvider {
        let shared = Arc::new(Shared {
            url: OnceLock::new(),
            users: Mutex::new(vec![MockUser::default()]),
            current: Mutex::new(MockUser::default().subject().to_owned()),
            script: Mutex::default(),
            grants: Mutex::default(),
            tokens: Mutex::default(),
            refresh_tokens: Mutex::default(),
            temporary: Mutex::default(),
            oauth1_tokens: Mutex::default(),
            requests: Mutex::default(),
            revoked: Mutex::default(),
            bad_signatures: AtomicUsize::new(0),
            endpoints: Mutex::default(),
            shape: Mutex::default(),
            #[cfg(feature = "oidc")]
            keys: super::keys::Keys::load(),
            counter: AtomicUsize::new(0),
            #[cfg(feature = "oidc")]
            sids: Mutex::default(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let server = shared.clone();
        std::thread::Builder::new()
            .name("rocket_oauth mock provider".into())
            .spawn(move || serve(server, tx))
            .expect("a thread for the mock provider");
        let (port, shutdown) = match rx.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => panic!("the mock provider did not start: {e}"),
            Err(_) => panic!("the mock provider did not start"),
        };
        let _ = shared.url.set(format!("http://127.0.0.1:{port}"));
        MockProvider { shared, shutdown }
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        self.shared.url()
    }

    /// The issuer: [`Script::issuer`], or the URL.
    pub fn issuer(&self) -> String {
        self.shared.issuer()
    }

    /// Adds a user (replacing one with the same subject).
    pub fn add_user(&self, user: MockUser) {
        let mut users = self.shared.users.lock().unwrap();
        users.retain(|u| u.subject() != user.subject());
        users.push(user);
    }

    /// Who approves an authorization request that names no `login_as` user (a browser
    /// following redirects): the user "signed in at the provider". _Default:_ `alice`.
    pub fn set_current_user(&self, subject: &str) {
        *self.shared.current.lock().unwrap() = subject.to_owned();
    }

    /// Changes how the provider behaves from now on.
    ///
    /// ```rust
    /// # let mock = rocket_oauth::testing::MockProvider::start();
    /// use rocket_oauth::testing::EndpointReply;
    ///
    /// mock.script(|s| s.userinfo = EndpointReply::Hang);
    /// ```
    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.shared.script.lock().unwrap());
    }

    /// Expires every access token issued so far: the provider's endpoints answer `401` to
    /// them from now on (refresh tokens stay valid), as when tokens outlive their lifetime.
    ///
    /// ```rust
    /// # let mock = rocket_oauth::testing::MockProvider::start();
    /// mock.expire_access_tokens();
    /// ```
    pub fn expire_access_tokens(&self) {
        self.shared.expire_access_tokens();
    }

    /// Switches ID tokens to the other RSA key; the old key leaves the JWKS (a provider's
    /// key rotation).
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn rotate_keys(&self) {
        self.shared.keys.rotate();
    }

    /// Serves `answer` at `method path` (e.g. the provider's API, or a documented odd
    /// answer): requests there are recorded, and the answer sees the user whose token they
    /// carry. A later endpoint at the same place replaces an earlier one; the mock's own
    /// routes take precedence.
    ///
    /// ```rust
    /// use rocket::http::Method;
    /// use rocket_oauth::testing::{MockProvider, MockResponse};
    ///
    /// let mock = MockProvider::start();
    /// mock.endpoint(Method::Get, "/api/me", |request| match request.user() {
    ///     Some(user) => MockResponse::json(serde_json::json!({ "id": user.subject() })),
    ///     None => MockResponse::unauthorized(),
    /// });
    /// ```
    pub fn endpoint(
        &self,
        method: Method,
        path: &str,
        answer: impl Fn(&MockRequest) -> MockResponse + Send + Sync + 'static,
    ) {
        self.shared.endpoints.lock().unwrap().push(Endpoint {
            method,
            path: path.to_owned(),
            answer: Arc::new(answer),
        });
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests received at `path` (e.g. `/token`).
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let requests = self.shared.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The refresh requests received (`grant_type=refresh_token` at `/token`).
    pub fn refresh_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to("/token")
            .into_iter()
            .filter(|r| r.form_param("grant_type").as_deref() == Some("refresh_token"))
            .collect()
    }

    /// The tokens revoked at `/revoke`, oldest first.
    pub fn revoked_tokens(&self) -> Vec<String> {
        self.shared.revoked.lock().unwrap().clone()
    }

    /// How many OAuth 1.0a requests came with a wrong signature.
    pub fn bad_signatures(&self) -> usize {
        self.shared.bad_signatures.load(Ordering::SeqCst)
    }

    /// The `oauth.<name>` table that points provider `P` at this mock, for an app reached at
    /// `app_url` (e.g. `http://127.0.0.1:8000`) with its routes under `base_path`
    /// (`/auth/<name>` unless configured). It has the client's keys and, by `P`'s protocol,
    /// the endpoints (OAuth 2, OAuth 1.0a) or the issuer (OpenID Connect), the revocation
    /// endpoint, and `api_base_url` (the mock's URL, for [`ApiClient`](crate::ApiClient)).
    ///
    /// ```rust
    /// use rocket_oauth::testing::MockProvider;
    /// use rocket_oauth::OAuth2Provider;
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
    /// struct Gh;
    ///
    /// let mock = MockProvider::start();
    /// let table = mock.provider_config::<Gh>("http://127.0.0.1:8000", "/auth/gh");
    /// assert_eq!(table["redirect_uri"], "http://127.0.0.1:8000/auth/gh/callback");
    /// ```
    pub fn provider_config<P: Provider>(&self, app_url: &str, base_path: &str) -> Value {
        self.table(P::defaults().protocol(), app_url, base_path)
    }

    /// A provider table of `protocol` pointing at this mock.
    fn table(&self, protocol: Protocol, app_url: &str, base_path: &str) -> Value {
        let url = self.url();
        let callback = format!("{}{}/callback", app_url.trim_end_matches('/'), base_path);
        let mut table = match protocol {
            Protocol::OAuth1 => json!({
                "consumer_key": CLIENT_ID,
                "consumer_secret": CLIENT_SECRET,
                "request_token_url": format!("{url}/oauth1/request_token"),
                "authorize_url": format!("{url}/oauth1/authorize"),
                "access_token_url": format!("{url}/oauth1/access_token"),
                "userinfo_url": format!("{url}/oauth1/userinfo"),
                "callback_url": callback,
            }),
            // The endpoints too (as discovery names them): a provider whose defaults name
            // its real ones (a preset) must reach the mock.
            Protocol::OpenIdConnect => json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "issuer": self.issuer(),
                "discovery_url": format!("{url}/.well-known/openid-configuration"),
                "authorize_url": format!("{url}/authorize"),
                "token_url": format!("{url}/token"),
                "userinfo_url": format!("{url}/userinfo"),
                "revocation_url": format!("{url}/revoke"),
                "redirect_uri": callback,
            }),
            _ => json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "authorize_url": format!("{url}/authorize"),
                "token_url": format!("{url}/token"),
                "userinfo_url": format!("{url}/userinfo"),
                "revocation_url": format!("{url}/revoke"),
                "redirect_uri": callback,
            }),
        };
        table["api_base_url"] = format!("{url}/").into();
        table
    }

    /// `figment` with `oauth.<P::NAME>` pointing at this mock ([`provider_config`]): the app
    /// is taken to listen at the figment's `address` and `port`, its routes under its
    /// `oauth.<name>.base_path`. Keys the test merges afterwards win.
    ///
    /// [`provider_config`]: MockProvider::provider_config
    ///
    /// ```rust
    /// use rocket_oauth::testing::{self, MockProvider};
    /// use rocket_oauth::OAuth2Provider;
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
    /// struct Gh;
    ///
    /// let mock = MockProvider::start();
    /// let figment = mock.configure::<Gh>(testing::figment());
    /// let token_url: String = figment.extract_inner("oauth.gh.token_url").unwrap();
    /// assert_eq!(token_url, format!("{}/token", mock.url()));
    /// ```
    pub fn configure<P: Provider>(&self, figment: Figment) -> Figment {
        let base_path = base_path::<P>(&figment);
        let table = self.table(P::defaults().protocol(), &app_url(&figment), &base_path);
        figment.merge((format!("oauth.{}", P::NAME), table))
    }

    /// `figment` with [listed](crate::Listed) provider `name` (`oauth.providers.<name>`)
    /// speaking `protocol` (OAuth 2 or OpenID Connect) with this mock, as
    /// [`MockProvider::configure`] does for a typed provider. Log in with
    /// [`MockProvider::log_in_listed`].
    ///
    /// ```rust
    /// use rocket_oauth::config::Protocol;
    /// use rocket_oauth::testing::{self, MockProvider};
    ///
    /// let mock = MockProvider::start();
    /// let figment = mock.configure_listed(testing::figment(), "acme", Protocol::OpenIdConnect);
    /// let protocol: String = figment.extract_inner("oauth.providers.acme.protocol").unwrap();
    /// assert_eq!(protocol, "oidc");
    /// ```
    ///
    /// # Panics
    ///
    /// For [`Protocol::OAuth1`]: listed providers speak OAuth 2 or OpenID Connect.
    pub fn configure_listed(&self, figment: Figment, name: &str, protocol: Protocol) -> Figment {
        assert!(
            protocol != Protocol::OAuth1,
            "listed providers speak OAuth 2 or OpenID Connect"
        );
        let base_path = listed_base_path(&figment, name);
        let mut table = self.table(protocol, &app_url(&figment), &base_path);
        table["protocol"] = protocol.key().into();
        figment.merge((format!("oauth.providers.{name}"), table))
    }
}

/// Where the app configured by `figment` listens: its `address` and `port`.
fn app_url(figment: &Figment) -> String {
    let address: IpAddr = figment
        .extract_inner("address")
        .unwrap_or(Ipv4Addr::LOCALHOST.into());
    let address = if address.is_unspecified() {
        Ipv4Addr::LOCALHOST.into()
    } else {
        address
    };
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    match address {
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
    }
}

/// Where listed provider `name`'s routes are mounted in an app configured by `figment`.
pub(super) fn listed_base_path(figment: &Figment, name: &str) -> String {
    figment
        .extract_inner(&format!("oauth.providers.{name}.base_path"))
        .unwrap_or_else(|_| format!("/auth/{name}"))
}

/// Where `P`'s routes are mounted in an app configured by `figment`.
pub(super) fn base_path<P: Provider>(figment: &Figment) -> String {
    figment
        .extract_inner(&format!("oauth.{}.base_path", P::NAME))
        .unwrap_or_else(|_| format!("/auth/{}", P::NAME))
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProvider")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

type Started = Result<(u16, rocket::Shutdown), String>;

/// The mock's server thread: its own runtime, until shutdown.
fn serve(shared: Arc<Shared>, started: std::sync::mpsc::Sender<Started>) {
    let runtime = match rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = started.send(Err(e.to_string()));
            return;
        }
    };
    runtime.block_on(async move {
        let config = rocket::Config {
            address: Ipv4Addr::LOCALHOST.into(),
            port: 0,
            log_level: rocket::config::LogLevel::Off,
            secret_key: rocket::config::SecretKey::generate()
                .unwrap_or_else(|| rocket::config::SecretKey::from(&[7; 64])),
            shutdown: rocket::config::Shutdown {
                ctrlc: false,
                grace: 0,
                mercy: 0,
                ..Default::default()
            },
            ..rocket::Config::debug_default()
        };
        let notify = Mutex::new(Some(started.clone()));
        let rocket = rocket::custom(Figment::from(config))
            .manage(shared.clone())
            .mount("/", super::oauth2::routes())
            .mount("/", super::oauth1::routes())
            .mount("/", super::custom::routes(shared.clone()));
        #[cfg(feature = "oidc")]
        let rocket = rocket.mount("/", super::oidc::routes());
        let rocket = rocket.attach(AdHoc::on_liftoff("mock provider started", move |r| {
            let port = r.config().port;
            let shutdown = r.shutdown();
            Box::pin(async move {
                if let Some(tx) = notify.lock().unwrap().take() {
                    let _ = tx.send(Ok((port, shutdown)));
                }
            })
        }));
        if let Err(e) = rocket.launch().await {
            let _ = started.send(Err(e.to_string()));
        }
    });
}
