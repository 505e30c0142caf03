//! An OAuth 2 authorization server (feature `server`): djoauth2's job, the Rocket way.
//!
//! Attach [`AuthorizationServer`] to let other applications call your API on your users'
//! behalf. It mounts, under `base_path` (default `/oauth`): `GET/POST authorize` (consent
//! page, CSRF-protected), `POST token` (`authorization_code` with PKCE, `refresh_token`
//! with rotation and reuse detection, `client_credentials`), `POST revoke` (RFC 7009) and
//! `POST introspect` (RFC 7662); and the RFC 8414 metadata at
//! `/.well-known/oauth-authorization-server`. API routes take a [`BearerToken`] or
//! [`Scoped`] guard.
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket::Request;
//! use rocket::serde::json::{json, Value};
//! use rocket_oauth::server::{AuthorizationServer, ResourceOwner, ScopeSet, Scoped};
//!
//! /// Who is signed in to this application (its own login, here a private cookie).
//! struct Owners;
//!
//! #[rocket::async_trait]
//! impl ResourceOwner for Owners {
//!     async fn current(&self, request: &Request<'_>) -> Option<String> {
//!         request.cookies().get_private("user").map(|c| c.value().to_owned())
//!     }
//! }
//!
//! #[derive(ScopeSet)]
//! #[scopes("profile")]
//! struct Profile;
//!
//! #[get("/api/me")]
//! fn me(token: Scoped<Profile>) -> Value {
//!     json!({ "username": token.owner, "scopes": token.scopes })
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(AuthorizationServer::new(Owners))
//!         .mount("/", routes![me])
//! }
//! ```
//!
//! With `oauth_server.signing_keys` (RSA PEM files) it is an OpenID Provider too: ID tokens
//! for the `openid` scope (claims from [`ResourceOwner::claims`]), discovery at
//! `<issuer>/.well-known/openid-configuration`, `jwks`, `userinfo` and `end_session`
//! (RP-initiated logout) under `base_path`.

mod admins;
mod assertion;
mod bearer;
mod config;
mod endpoints;
mod grants;
mod hash;
mod logout;
mod oidc;
mod registry;
mod resources;
mod seal;
mod store;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Status;
use rocket::{Build, Orbit, Request, Response, Rocket};
use url::Url;

pub use admins::Admins;
pub use bearer::{BearerError, BearerToken, ScopeSet, Scoped};
pub use config::{AccessTokenFormat, ClientAuthMethod, GrantType, RegisteredClient, ServerConfig};
pub use grants::{Grant, Grants};
pub use hash::TokenHash;
pub use logout::SignOut;
pub use registry::{ClientError, ClientRegistry, Registered};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use store::PostgresServerStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::SqliteServerStore;
pub use store::{
    CodeGrant, DeviceGrant, DeviceStatus, MemoryServerStore, ScopeRecord, ServerStore,
    ServerStoreError, SessionClient, SigningKeyRecord, StoredCode, TokenKind, TokenRecord,
};

use crate::error::ConfigError;

/// Tells the server which of the application's users is signed in: the resource owner who
/// is asked for consent. Visitors who are not signed in are sent to `login_url?next=…`.
#[rocket::async_trait]
pub trait ResourceOwner: Send + Sync + 'static {
    /// The signed-in user's name (it becomes the tokens' `username`, and the ID token's
    /// `sub`), or `None`.
    async fn current(&self, request: &Request<'_>) -> Option<String>;

    /// When the signed-in user last authenticated at the app (seconds since the Unix
    /// epoch): the ID token's `auth_time`, and what OpenID Connect's `max_age` is checked
    /// against (a user signed in longer ago is sent to `login_url?next=…&prompt=login`).
    /// _Default:_ unknown. The server then reports only what it saw: a user it sent to
    /// sign in while signed out gets the time they were sent as `auth_time`; a signed-in
    /// user whose client asks for `max_age` or `prompt=login` cannot be proven fresh, and
    /// the client gets `login_required`. Implement it to support those requests.
    async fn authenticated_at(&self, _request: &Request<'_>) -> Option<i64> {
        None
    }

    /// Signs the user out of the app: OpenID Connect RP-initiated logout
    /// (`end_session`) calls it before sending the browser back to the client (and telling
    /// the clients the user signed in to, see [`SignOut`]). _Default:_ does nothing (the
    /// user stays signed in at the app).
    async fn sign_out(&self, _request: &Request<'_>) {}

    /// The signed-in user's sign-in session id (the ID tokens' `sid`, what back-channel
    /// logout names): one per sign-in, e.g. the id of the app's own session. _Default:_ the
    /// server keeps one per browser and user, in a private cookie, until `end_session` (or
    /// [`SignOut`]) ends it.
    async fn session_id(&self, _request: &Request<'_>) -> Option<String> {
        None
    }

    /// The OpenID Connect claims of `owner` for the granted `scopes` (e.g. `name` for
    /// `profile`, `email` and `email_verified` for `email`), put in ID tokens and answered
    /// by userinfo. _Default:_ none (only `sub`).
    async fn claims(
        &self,
        _owner: &str,
        _scopes: &[String],
    ) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// The authorization server fairing; see the [module docs](self).
pub struct AuthorizationServer {
    parts: Mutex<Option<Parts>>,
}

struct Parts {
    owner: Box<dyn ResourceOwner>,
    /// `None`: `oauth_server.database_url`'s SQLite store, or a [`MemoryServerStore`].
    store: Option<Box<dyn ServerStore>>,
    clients: Vec<RegisteredClient>,
    scopes: Vec<(String, String)>,
    /// Signing keys given in code (PEM), before those of `signing_keys`.
    signing_keys: Vec<String>,
    /// Who may use the admin pages (mounted only with it).
    admins: Option<Box<dyn Admins>>,
}

impl AuthorizationServer {
    /// A server whose signed-in users come from `owner`, keeping tokens in a
    /// [`MemoryServerStore`].
    pub fn new(owner: impl ResourceOwner) -> Self {
        AuthorizationServer {
            parts: Mutex::new(Some(Parts {
                owner: Box::new(owner),
                store: None,
                clients: Vec::new(),
                scopes: Vec::new(),
                signing_keys: Vec::new(),
                admins: None,
            })),
        }
    }

    /// Keeps codes and tokens in `store` instead.
    pub fn store(self, store: impl ServerStore) -> Self {
        if let Ok(mut parts) = self.parts.lock() {
            if let Some(parts) = parts.as_mut() {
                parts.store = Some(Box::new(store));
            }
        }
        self
    }

    /// Declares a scope and the description shown on the consent page, in code (in
    /// addition to `oauth_server.scopes`).
    pub fn scope(self, name: impl Into<String>, description: impl Into<String>) -> Self {
        if let Ok(mut parts) = self.parts.lock() {
            if let Some(parts) = parts.as_mut() {
                parts.scopes.push((name.into(), description.into()));
            }
        }
        self
    }

    /// An RSA private key (PEM, PKCS#8 or PKCS#1) that makes the server an OpenID Provider,
    /// given in code (e.g. from a secret manager); keys given this way come before those of
    /// `oauth_server.signing_keys`, and the first of all signs.
    ///
    /// ```rust,no_run
    /// # use rocket_oauth::server::{AuthorizationServer, ResourceOwner};
    /// # struct Users;
    /// # #[rocket::async_trait]
    /// # impl ResourceOwner for Users {
    /// #     async fn current(&self, _: &rocket::Request<'_>) -> Option<String> { None }
    /// # }
    /// let pem = std::env::var("OIDC_SIGNING_KEY").expect("a PEM key");
    /// let server = AuthorizationServer::new(Users).signing_key(pem);
    /// # let _ = server;
    /// ```
    pub fn signing_key(self, pem: impl Into<String>) -> Self {
        if let Ok(mut parts) = self.parts.lock() {
            if let Some(parts) = parts.as_mut() {
                parts.signing_keys.push(pem.into());
            }
        }
        self
    }

    /// Mounts the admin pages at `<base_path>/admin` (the `oauth/admin` template), for the
    /// administrators `admins` names: the clients (create, with the secret shown once;
    /// re-key; remove), the scopes (declare, remove) and any user's grants (revoke), each a
    /// CSRF-protected form sealed to the administrator. Everyone else gets `403`.
    ///
    /// ```rust
    /// use rocket::Request;
    /// use rocket_oauth::server::{Admins, AuthorizationServer, ResourceOwner};
    /// # struct Users;
    /// # #[rocket::async_trait]
    /// # impl ResourceOwner for Users {
    /// #     async fn current(&self, _: &Request<'_>) -> Option<String> { None }
    /// # }
    /// struct Root;
    ///
    /// #[rocket::async_trait]
    /// impl Admins for Root {
    ///     async fn admin(&self, request: &Request<'_>) -> Option<String> {
    ///         let user = request.cookies().get_private("user")?.value().to_owned();
    ///         (user == "root").then_some(user)
    ///     }
    /// }
    ///
    /// let server = AuthorizationServer::new(Users).admin_pages(Root);
    /// # let _ = server;
    /// ```
    pub fn admin_pages(self, admins: impl Admins) -> Self {
        if let Ok(mut parts) = self.parts.lock() {
            if let Some(parts) = parts.as_mut() {
                parts.admins = Some(Box::new(admins));
            }
        }
        self
    }

    /// Registers a client in code (in addition to `oauth_server.clients`).
    pub fn client(self, client: RegisteredClient) -> Self {
        if let Ok(mut parts) = self.parts.lock() {
            if let Some(parts) = parts.as_mut() {
                parts.clients.push(client);
            }
        }
        self
    }
}

/// Device authorizations a minute from one address (RFC 8628 §5.2: each is a row in the
/// store until it expires).
const DEVICE_REQUESTS: u32 = 30;

/// The server's managed state.
pub(crate) struct ServerState {
    pub config: ServerConfig,
    pub issuer: Url,
    pub clients: HashMap<String, RegisteredClient>,
    pub store: Arc<dyn ServerStore>,
    pub owner: Box<dyn ResourceOwner>,
    /// The OpenID Provider's keys; `None` without `signing_keys` (no ID tokens then).
    pub signer: Option<oidc::Signer>,
    /// Seals consent forms to the browser, the user and the request they show.
    pub consent: seal::Sealer,
    /// How often clients may register themselves.
    pub registrations: crate::limit::RateLimit,
    /// Who may use the admin pages.
    pub admins: Option<Box<dyn Admins>>,
    /// Delivers back-channel logout tokens (pooled, with timeouts).
    pub logout_http: logout::Delivery,
    /// The resources tokens may be bound to (RFC 8707), this application's API first.
    pub resources: resources::Resources,
    /// How often user codes may be tried (RFC 8628 §5.1).
    pub device_attempts: crate::limit::RateLimit,
    /// How often devices may ask for codes (each is a row in the store).
    pub device_requests: crate::limit::RateLimit,
    /// Seals pushed authorization requests into their `request_uri` (RFC 9126).
    pub pushed: seal::Sealer,
    /// Checks DPoP proofs (RFC 9449), at the token endpoint and in the bearer guards.
    pub dpop: crate::protocol::oidc::dpop::Checker,
    /// The keys of `private_key_jwt` clients that publish them at a `jwks_uri`.
    pub client_keys: assertion::ClientKeys,
}

impl ServerState {
    /// A client by id: configured (or given in code) first, then registered at runtime.
    pub async fn client(
        &self,
        id: &str,
    ) -> Result<Option<Cow<'_, RegisteredClient>>, ServerStoreError> {
        if let Some(client) = self.clients.get(id) {
            return Ok(Some(Cow::Borrowed(client)));
        }
        Ok(self.store.client(id).await?.map(Cow::Owned))
    }

    /// Every declared scope and its description: configured (or given in code) ones, then
    /// those declared at runtime (in the store, so every instance sees them at once).
    pub async fn scopes(&self) -> Result<BTreeMap<String, String>, ServerStoreError> {
        let mut scopes = self.config.scopes.clone();
        for scope in self.store.scopes().await? {
            scopes.entry(scope.name).or_insert(scope.description);
        }
        Ok(scopes)
    }

    /// The client's scopes that are still declared: a runtime scope removed after the client
    /// was given it is not (the store is read only when the client has runtime scopes).
    pub async fn allowed_scopes(
        &self,
        client: &RegisteredClient,
    ) -> Result<Vec<String>, ServerStoreError> {
        if client
            .scopes
            .iter()
            .all(|s| self.config.scopes.contains_key(s))
        {
            return Ok(client.scopes.clone());
        }
        let declared = self.scopes().await?;
        Ok(client
            .scopes
            .iter()
            .filter(|s| declared.contains_key(*s))
            .cloned()
            .collect())
    }

    /// [`scopes`](Self::scopes) for pages and metadata: the configured ones only when the
    /// store fails (logged).
    pub async fn scopes_shown(&self) -> BTreeMap<String, String> {
        self.scopes().await.unwrap_or_else(|e| {
            log::error!("rocket_oauth: reading the runtime scopes failed: {e}");
            self.config.scopes.clone()
        })
    }

    /// Notes the first use of a self-registered client (a code or a token issued to it), so
    /// that it does not expire as unused.
    pub async fn note_use(&self, client: &RegisteredClient) {
        if client.registered_at.is_none() || client.used_at.is_some() {
            return;
        }
        if let Err(e) = self
            .store
            .mark_client_used(&client.id, crate::util::now())
            .await
        {
            log::error!("rocket_oauth: noting a client's use failed: {e}");
        }
    }

    /// The OpenID Provider's keys in force; `None` when it is not one.
    pub async fn keys(&self) -> Option<Result<Arc<oidc::KeySet>, oidc::SignerError>> {
        Some(self.signer.as_ref()?.keys(&*self.store).await)
    }

    /// Checks an access token (bound to `jkt`, or a bearer token) was presented as it must
    /// be at this application's API (RFC 9449 §7).
    pub fn check_binding(
        &self,
        req: &Request<'_>,
        presented: (crate::bearer::Scheme, &str),
        jkt: Option<&str>,
    ) -> Result<(), crate::protocol::oidc::dpop::ProofError> {
        let origin = self.issuer.origin().ascii_serialization();
        crate::bearer::check_binding(req, &self.dpop, presented, jkt, &origin)
    }

    /// The absolute URL of an endpoint under `base_path`.
    pub fn endpoint(&self, name: &str) -> String {
        format!(
            "{}{}/{name}",
            self.config.issuer.trim_end_matches('/'),
            self.config.base_path.trim_end_matches('/')
        )
    }
}

/// A key for `purpose` (generated signing keys in the store, consent forms): derived from the
/// app's `secret_key` (so every instance can open what any sealed), or random when there is
/// none (debug builds; what it seals then lasts one run).
/// A 32-byte key for `purpose`, derived from the app's `secret_key` like [`sealer`]'s (random
/// without one).
fn derived_key(rocket: &Rocket<Build>, purpose: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    match rocket.figment().extract_inner::<String>("secret_key") {
        Ok(secret) => hkdf::Hkdf::<sha2::Sha256>::new(Some(b"rocket_oauth"), secret.as_bytes())
            .expand(purpose.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length"),
        Err(_) => {
            use ring::rand::SecureRandom;
            // A failing system generator leaves the key zero: nonces are then merely
            // predictable, never accepted from another key's server.
            let _ = ring::rand::SystemRandom::new().fill(&mut key);
        }
    }
    key
}

fn sealer(rocket: &Rocket<Build>, purpose: &str) -> seal::Sealer {
    match rocket.figment().extract_inner::<String>("secret_key") {
        Ok(secret) => seal::Sealer::derive(secret.as_bytes(), purpose),
        Err(_) => seal::Sealer::random(),
    }
}

async fn open_store(
    config: &ServerConfig,
    custom: Option<Box<dyn ServerStore>>,
) -> Result<Box<dyn ServerStore>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "oauth_server.database_url".into(),
        reason,
    };
    match (custom, &config.database_url) {
        (Some(_), Some(_)) => Err(invalid("set it or a store in code, not both".into())),
        (Some(store), None) => Ok(store),
        (None, None) => Ok(Box::new(MemoryServerStore::default())),
        (None, Some(url)) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            #[cfg(feature = "postgres")]
            return match store::PostgresServerStore::connect(url).await {
                Ok(store) => Ok(Box::new(store)),
                Err(e) => Err(invalid(e.to_string())),
            };
            #[cfg(not(feature = "postgres"))]
            Err(invalid(
                "a PostgreSQL database needs rocket_oauth's `postgres` feature".into(),
            ))
        }
        #[cfg(feature = "sqlite")]
        (None, Some(url)) => match store::SqliteServerStore::connect(url).await {
            Ok(store) => Ok(Box::new(store)),
            Err(e) => Err(invalid(e.to_string())),
        },
        #[cfg(not(feature = "sqlite"))]
        (None, Some(_)) => Err(invalid(
            "a SQLite database needs rocket_oauth's `sqlite` feature".into(),
        )),
    }
}

fn build_state(
    rocket: &Rocket<Build>,
    parts: Parts,
) -> Result<(ServerState, Option<Box<dyn ServerStore>>), ConfigError> {
    let mut config: ServerConfig = rocket
        .figment()
        .extract_inner("oauth_server")
        .map_err(|e| {
            let message = e.to_string();
            rocket::config::pretty_print_error(e);
            if message.contains("missing") {
                ConfigError::Missing {
                    key: "oauth_server".into(),
                }
            } else {
                ConfigError::Invalid {
                    key: "oauth_server".into(),
                    reason: message,
                }
            }
        })?;
    config.clients.extend(parts.clients);
    config.scopes.extend(parts.scopes);
    let issuer = config.validate()?;
    if !config.base_path.starts_with('/') {
        return Err(ConfigError::Invalid {
            key: "oauth_server.base_path".into(),
            reason: "must start with `/`".into(),
        });
    }
    let clients = config
        .clients
        .iter()
        .map(|c| (c.id.clone(), c.clone()))
        .collect();
    let signer = oidc::Signer::load(oidc::SignerConfig {
        pems: &parts.signing_keys,
        files: &config.signing_keys,
        alg: config.id_token_signing_alg.as_deref(),
        generate: config.generate_signing_keys,
        rotation: oidc::Rotation {
            every: i64::try_from(config.signing_key_rotation).unwrap_or(i64::MAX),
            // An ID token lives as long as its access token; clients allow a minute of skew.
            keep: i64::try_from(config.access_token_ttl).unwrap_or(i64::MAX / 2) + 300,
        },
        sealer: sealer(rocket, "server signing keys"),
    })?;
    needs_keys(signer.is_some(), &config)?;
    let resources = resources::Resources::new(&config, &issuer)?;
    let logout_http = logout::Delivery::new();
    let nonce_key = config
        .dpop_nonces
        .then(|| derived_key(rocket, "DPoP nonces"));
    let state = ServerState {
        dpop: crate::protocol::oidc::dpop::Checker::new(nonce_key),
        pushed: sealer(rocket, "pushed authorization requests"),
        client_keys: assertion::ClientKeys::new(&logout_http),
        issuer,
        clients,
        store: Arc::new(MemoryServerStore::default()),
        owner: parts.owner,
        signer,
        consent: sealer(rocket, "consent forms"),
        registrations: crate::limit::RateLimit::new(
            config.registrations_per_client,
            config.registrations_per_minute,
        ),
        admins: parts.admins,
        logout_http,
        resources,
        device_attempts: crate::limit::RateLimit::new(
            config.user_code_attempts,
            config.user_code_attempts.saturating_mul(100),
        ),
        device_requests: crate::limit::RateLimit::new(DEVICE_REQUESTS, DEVICE_REQUESTS * 20),
        config,
    };
    Ok((state, parts.store))
}

/// What needs the OpenID Provider's signing keys (JWT access tokens, the `openid` scope)
/// has them.
fn needs_keys(has_signer: bool, config: &ServerConfig) -> Result<(), ConfigError> {
    if !has_signer && config.access_token_format == AccessTokenFormat::Jwt {
        return Err(ConfigError::Invalid {
            key: "oauth_server.access_token_format".into(),
            reason:
                "JWT access tokens are signed with the OpenID Provider's keys: give \
                     `oauth_server.signing_keys` or set `oauth_server.generate_signing_keys = true`"
                    .into(),
        });
    }
    if !has_signer && config.scopes.contains_key("openid") {
        return Err(ConfigError::Invalid {
            key: "oauth_server.signing_keys".into(),
            reason: "the `openid` scope is declared, but an OpenID Provider needs signing keys: \
                     give `oauth_server.signing_keys` (PEM files) or set \
                     `oauth_server.generate_signing_keys = true`"
                .into(),
        });
    }
    Ok(())
}

/// The outcome of a guard on the server's state (`ClientRegistry`, `Grants`): forwarded
/// with `500` (logged, naming the guard) when the server's fairing is not attached.
fn guard<T>(found: Option<T>, name: &str) -> rocket::request::Outcome<T, std::convert::Infallible> {
    match found {
        Some(found) => rocket::outcome::Outcome::Success(found),
        None => {
            log::error!("rocket_oauth: {name} needs the AuthorizationServer fairing");
            rocket::outcome::Outcome::Forward(Status::InternalServerError)
        }
    }
}

/// Purges expired codes and tokens, and the self-registered clients that were not used
/// within `unused_ttl` seconds of registering.
async fn purge(store: &dyn ServerStore, unused_ttl: i64, now: i64) -> Result<(), ServerStoreError> {
    store.purge(now).await?;
    for client in store.clients().await? {
        let unused = client.used_at.is_none()
            && client
                .registered_at
                .is_some_and(|at| now.saturating_sub(at) > unused_ttl);
        if unused {
            store.remove_client(&client.id).await?;
        }
    }
    Ok(())
}

#[rocket::async_trait]
impl Fairing for AuthorizationServer {
    fn info(&self) -> Info {
        Info {
            name: "rocket_oauth authorization server",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let Some(parts) = self.parts.lock().ok().and_then(|mut p| p.take()) else {
            log::error!("rocket_oauth: the authorization server fairing ignited twice");
            return Err(rocket);
        };
        let built = match build_state(&rocket, parts) {
            Ok((mut state, custom)) => match open_store(&state.config, custom).await {
                Ok(store) => {
                    state.store = store.into();
                    // Generated keys: made (or read back) now, so a store that cannot keep
                    // them stops the launch.
                    match state.keys().await {
                        Some(Err(e)) => Err(ConfigError::Invalid {
                            key: "oauth_server.generate_signing_keys".into(),
                            reason: e.to_string(),
                        }),
                        _ => Ok(state),
                    }
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match built {
            Ok(state) => {
                let base = state.config.base_path.clone();
                let issuer = state.issuer.clone();
                let openid = state.signer.is_some();
                let resource_path = state.resources.metadata_path();
                let mounted = endpoints::Mounted {
                    openid,
                    register: state.config.dynamic_registration,
                    grants: state.config.grants_page,
                    admin: state.admins.is_some(),
                };
                Ok(rocket
                    .manage(state)
                    .mount(base, endpoints::routes(mounted))
                    .mount(
                        "/",
                        endpoints::metadata_routes(&issuer, openid, &resource_path),
                    ))
            }
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                Err(rocket)
            }
        }
    }

    /// Expired codes and tokens (and the revoked families nothing refers to any more), and
    /// unused self-registered clients, are purged from the store every `purge_interval`
    /// seconds, in the background.
    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(state) = rocket.state::<ServerState>() else {
            return;
        };
        let store = state.store.clone();
        let every = std::time::Duration::from_secs(state.config.purge_interval);
        let unused_ttl = i64::try_from(state.config.registration_unused_ttl).unwrap_or(i64::MAX);
        let mut shutdown = rocket.shutdown();
        rocket::tokio::spawn(async move {
            let mut ticks = rocket::tokio::time::interval(every);
            loop {
                rocket::tokio::select! {
                    _ = ticks.tick() => {
                        if let Err(e) = purge(&*store, unused_ttl, crate::util::now()).await {
                            log::error!("rocket_oauth: purging the server's store failed: {e}");
                        }
                    }
                    _ = &mut shutdown => break,
                }
            }
        });
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if !matches!(res.status(), Status::Unauthorized | Status::Forbidden) {
            return;
        }
        crate::bearer::answer(req, res);
    }
}
