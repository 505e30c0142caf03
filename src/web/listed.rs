//! Providers listed in configuration (`[default.oauth.providers.<name>]`, Authlib's
//! registry): one fairing for them all, [`Providers`] to name them at run time.

use std::fmt;
use std::sync::{Arc, Mutex};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Redirect, Responder};
use rocket::{Build, Ignite, Phase, Response, Rocket, Sentinel};

use crate::api::{ApiClient, ApiHandle};
use crate::config::{Keys, ProviderConfig};
use crate::error::ConfigError;
use crate::hooks::Hooks;
use crate::provider::{Protocol, Provider, ProviderDefaults};
use crate::web::fairing::{attach, check_name, fail, finish, mount, prepare, take_once, tls};
use crate::web::guards::{login_target, session_with, AccessToken, User};
use crate::web::state::{ProviderState, LISTED};

/// Where listed providers are configured.
const TABLE: &str = "oauth.providers";

/// A provider listed in configuration rather than written as a type: a generic OAuth 2 or
/// OpenID Connect provider, one per table `[default.oauth.providers.<name>]`. Its guards name
/// it at run time through [`Providers`] (`providers.user("acme")`), which gives
/// `AccessToken<Listed>`, `User<Listed>`, `ApiClient<'_, Listed>` and `ApiHandle<Listed>`.
/// The typed guards of `Listed` as a route's parameter (`User<Listed>`, `OrLogin<…>`,
/// `ApiHandle<Listed>`, `ProviderInfo<'_, Listed>`, `SessionAdmin<'_, Listed>`, …) name no
/// provider and abort launch.
///
/// Each table takes every key a provider's does (see [`ProviderConfig`]), plus `protocol`:
/// `"oauth2"` (the default: `authorize_url` and `token_url` are required) or `"oidc"`
/// (`issuer`, the rest discovered). Names are lowercase ASCII letters, digits and `-`; the
/// routes are mounted at `/auth/<name>` unless `base_path` says otherwise.
///
/// ```toml
/// [default.oauth.providers.acme]
/// protocol = "oidc"
/// issuer = "https://sso.acme.example"
/// client_id = "..."
/// client_secret = "..."
/// redirect_uri = "https://app.example/auth/acme/callback"
///
/// [default.oauth.providers.globex]
/// authorize_url = "https://login.globex.example/oauth/authorize"
/// token_url = "https://login.globex.example/oauth/token"
/// userinfo_url = "https://login.globex.example/api/me"
/// client_id = "..."
/// client_secret = "..."
/// redirect_uri = "https://app.example/auth/globex/callback"
/// ```
///
/// Who logs in is read from the userinfo document (for OpenID Connect, the ID token's claims
/// too) by [`Identity::from_claims`](crate::Identity::from_claims); hooks given with
/// [`ListedFairing::hooks`] may change it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listed;

impl Provider for Listed {
    /// Not a provider's name: the table under which they are listed.
    const NAME: &'static str = LISTED;

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::bare(Protocol::OAuth2)
    }
}

/// The listed providers' states, in the configuration's order (by name).
struct ListedStates(Vec<Arc<ProviderState<Listed>>>);

impl ListedStates {
    fn get(&self, name: &str) -> Option<&Arc<ProviderState<Listed>>> {
        self.0.iter().find(|state| state.name == name)
    }
}

/// Makes each listed provider's hooks, given its name.
type HooksFor = Box<dyn Fn(&str) -> Box<dyn Hooks> + Send + Sync>;

/// The fairing of the providers listed under `oauth.providers`: made by
/// [`Providers::fairing`]. At ignite it reads every table there (failing launch, with the key
/// named, when one is invalid, or when there is none) and mounts each provider's `login`,
/// `callback`, `logout` and `check` routes, as a typed provider's fairing does.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::Providers;
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(Providers::fairing())
/// }
/// ```
pub struct ListedFairing {
    hooks: Mutex<Option<HooksFor>>,
}

impl ListedFairing {
    /// Runs hooks around every listed provider's logins and logouts: `make` is called once
    /// per provider, at ignite, with its name (the tenant, say).
    ///
    /// ```rust
    /// use rocket_oauth::{Denial, Hooks, Login, Providers};
    /// use rocket::Request;
    ///
    /// struct Tenant(String);
    ///
    /// #[rocket::async_trait]
    /// impl Hooks for Tenant {
    ///     async fn after_login(&self, login: &Login, _: &Request<'_>) -> Result<(), Denial> {
    ///         println!("{:?} logged in to {}", login.identity().map(|i| &i.subject), self.0);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let fairing = Providers::fairing().hooks(|name| Tenant(name.to_owned()));
    /// # let _ = fairing;
    /// ```
    pub fn hooks<H: Hooks>(self, make: impl Fn(&str) -> H + Send + Sync + 'static) -> Self {
        let make: HooksFor = Box::new(move |name| Box::new(make(name)));
        ListedFairing {
            hooks: Mutex::new(Some(make)),
        }
    }

    /// Builds every listed provider's state.
    async fn states(
        &self,
        rocket: &Rocket<Build>,
    ) -> Result<Vec<Arc<ProviderState<Listed>>>, ConfigError> {
        let figment = rocket.figment();
        let listed = figment
            .find_value(TABLE)
            .map_err(|_| ConfigError::Missing { key: TABLE.into() })?;
        let invalid = |reason: &str| ConfigError::Invalid {
            key: TABLE.into(),
            reason: reason.into(),
        };
        let names: Vec<String> = listed
            .into_dict()
            .ok_or_else(|| invalid("must be tables: `[default.oauth.providers.<name>]`"))?
            .into_keys()
            .collect();
        if names.is_empty() {
            return Err(invalid("lists no provider"));
        }
        let make = take_once(&self.hooks)
            .ok_or_else(|| ConfigError::DuplicateProvider { name: TABLE.into() })?;
        let mut states = Vec::with_capacity(names.len());
        for name in names {
            let table = format!("{TABLE}.{name}");
            check_name(&name, &table, false)?;
            // Once per listed provider and launch: leaking the name is bounded.
            let name: &'static str = Box::leak(name.into_boxed_str());
            let defaults = ProviderDefaults::bare(protocol(rocket, &table)?);
            let keys = Keys {
                table: &table,
                name,
            };
            let config = ProviderConfig::from_table(figment, keys, &defaults, tls(rocket))?;
            let state = attach(rocket, (name, &table), (Listed, make(name)), config).await?;
            states.push(state);
        }
        Ok(states)
    }
}

/// A listed provider's `protocol`: `oauth2` unless it says `oidc`.
fn protocol(rocket: &Rocket<Build>, table: &str) -> Result<Protocol, ConfigError> {
    let key = format!("{table}.protocol");
    let Ok(value) = rocket.figment().find_value(&key) else {
        return Ok(Protocol::OAuth2);
    };
    match value.as_str() {
        Some("oauth2") => Ok(Protocol::OAuth2),
        Some("oidc") => Ok(Protocol::OpenIdConnect),
        _ => Err(ConfigError::Invalid {
            key,
            reason: "must be `oauth2` or `oidc` (an OAuth 1.0a provider needs a type of its own: `#[derive(OAuth1Provider)]`)".into(),
        }),
    }
}

#[rocket::async_trait]
impl Fairing for ListedFairing {
    fn info(&self) -> Info {
        Info {
            name: "rocket_oauth listed providers",
            kind: Kind::Ignite | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let mut rocket = prepare(rocket).await?;
        let states = match self.states(&rocket).await {
            Ok(states) => states,
            Err(e) => return fail(rocket, e),
        };
        for state in &states {
            rocket = mount(rocket, state);
        }
        Ok(rocket.manage(ListedStates(states)))
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if let Some(listed) = req.rocket().state::<ListedStates>() {
            finish(req, res, listed.0.iter().map(|state| &**state));
        }
    }
}

/// The providers listed in configuration, as a request guard: each one's session, user, API
/// client and login URL, by name. Never fails (a name not listed gives `None`); reading a
/// session costs what [`AccessToken`] does (one cookie, memoised per request, no network
/// I/O). Using it without attaching [`Providers::fairing`] aborts launch.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::guards::NotLoggedIn;
/// use rocket_oauth::{Listed, Providers, User};
///
/// /// `/t/acme/me`: the user of tenant `acme`'s single sign-on.
/// #[get("/t/<tenant>/me")]
/// async fn me(providers: Providers<'_>, tenant: &str) -> Result<String, NotLoggedIn> {
///     let user: User<Listed> = providers.require_user(tenant).await?;
///     Ok(format!("{} at {}", user.subject, user.provider()))
/// }
///
/// #[get("/t/<tenant>")]
/// async fn home(providers: Providers<'_>, tenant: &str) -> Option<String> {
///     let login = providers.login_url(tenant)?; // `None`: a 404
///     Some(match providers.token(tenant).await {
///         Some(token) => format!("logged in; scopes {:?}", token.scopes()),
///         None => format!("log in at {login}"),
///     })
/// }
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(Providers::fairing()).mount("/", routes![me, home])
/// }
/// ```
pub struct Providers<'r> {
    req: &'r Request<'r>,
    listed: &'r ListedStates,
}

impl Providers<'_> {
    /// The fairing of the listed providers (see [`Listed`]).
    pub fn fairing() -> ListedFairing {
        ListedFairing {
            hooks: Mutex::new(Some(Box::new(|_| Box::new(())))),
        }
    }
}

impl<'r> Providers<'r> {
    /// The listed providers' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + 'r {
        self.listed.0.iter().map(|state| state.name)
    }

    /// Whether a provider named `name` is listed.
    pub fn contains(&self, name: &str) -> bool {
        self.listed.get(name).is_some()
    }

    /// Provider `name`'s resolved configuration. Secrets in it print as `[redacted]`.
    pub fn config(&self, name: &str) -> Option<&'r ProviderConfig> {
        Some(&self.listed.get(name)?.config)
    }

    /// Where provider `name`'s login begins (`<base_path>/login`; add `?next=/path` to come
    /// back to a page of this site).
    pub fn login_url(&self, name: &str) -> Option<String> {
        Some(self.listed.get(name)?.login_url())
    }

    /// The visitor's live session with provider `name` (refreshed if its access token has
    /// expired), if any.
    pub async fn token(&self, name: &str) -> Option<AccessToken<Listed>> {
        session_with(self.req, self.listed.get(name)?).await
    }

    /// The visitor's identity with provider `name`, if logged in (and given one).
    pub async fn user(&self, name: &str) -> Option<User<Listed>> {
        User::of(self.token(name).await?)
    }

    /// A client of provider `name`'s API with the visitor's credentials, if logged in; a
    /// refresh updates the session.
    pub async fn api(&self, name: &str) -> Option<ApiClient<'r, Listed>> {
        ApiClient::of_session(self.req, self.listed.get(name)?).await
    }

    /// Provider `name`'s handle for background work ([`ApiHandle`]).
    pub fn handle(&self, name: &str) -> Option<ApiHandle<Listed>> {
        Some(ApiHandle::with(self.listed.get(name)?.clone()))
    }

    /// The session with provider `name`, or [`NotLoggedIn`], which answers `404` for a
    /// name not listed and, like [`OrLogin`](crate::OrLogin), sends a page navigation to
    /// the login (with `next` set to this page) and answers `401` to other requests.
    pub async fn require(&self, name: &str) -> Result<AccessToken<Listed>, NotLoggedIn> {
        let state = self
            .listed
            .get(name)
            .ok_or_else(|| NotLoggedIn::Unknown(name.to_owned()))?;
        match session_with(self.req, state).await {
            Some(token) => Ok(token),
            None => Err(NotLoggedIn::LoggedOut {
                provider: state.name,
                login: login_target(self.req, state),
            }),
        }
    }

    /// [`Providers::require`], for a user with an identity. A session without one (the
    /// provider gave no userinfo) answers `401`, never a redirect (logging in again would
    /// change nothing).
    pub async fn require_user(&self, name: &str) -> Result<User<Listed>, NotLoggedIn> {
        let token = self.require(name).await?;
        let provider = token.provider();
        User::of(token).ok_or(NotLoggedIn::LoggedOut {
            provider,
            login: None,
        })
    }
}

impl ApiHandle<Listed> {
    /// Listed provider `name`'s handle, at liftoff (or wherever a `Rocket` is at hand);
    /// `None` when no provider of that name is listed. In a route,
    /// [`Providers::handle`] gives the same.
    pub fn listed<Ph: Phase>(rocket: &Rocket<Ph>, name: &str) -> Option<Self> {
        let listed = rocket.state::<ListedStates>()?;
        Some(ApiHandle::with(listed.get(name)?.clone()))
    }
}

impl fmt::Debug for Providers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Providers<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.rocket().state::<ListedStates>() {
            Some(listed) => Outcome::Success(Providers { req, listed }),
            // Unreachable: the sentinel refuses to launch without the fairing.
            None => Outcome::Forward(Status::InternalServerError),
        }
    }
}

impl Sentinel for Providers<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<ListedStates>().is_some() {
            return false;
        }
        log::error!("`Providers` is used by a route, but `Providers::fairing()` is not attached");
        true
    }
}

/// Why [`Providers::require`] gave no session. As a response: `404 Not Found` for a name not
/// listed; for a visitor not logged in, `303 See Other` to the login for a page navigation,
/// `401 Unauthorized` otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotLoggedIn {
    /// No provider of this name is listed.
    #[error("no provider named `{0}` is listed")]
    Unknown(String),
    /// The visitor has no live session with this provider.
    #[error("not logged in with `{provider}`")]
    LoggedOut {
        /// The provider's name.
        provider: &'static str,
        /// Where a page navigation is sent to log in; `None` for other requests.
        login: Option<String>,
    },
}

impl<'r> Responder<'r, 'static> for NotLoggedIn {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self {
            NotLoggedIn::Unknown(_) => Err(Status::NotFound),
            NotLoggedIn::LoggedOut {
                login: Some(login), ..
            } => Redirect::to(login).respond_to(req),
            NotLoggedIn::LoggedOut { login: None, .. } => Err(Status::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use rocket::figment::Figment;
    use serde_json::json;

    use super::*;

    fn table() -> serde_json::Value {
        json!({
            "client_id": "id",
            "client_secret": "secret",
            "authorize_url": "http://127.0.0.1:1/authorize",
            "token_url": "http://127.0.0.1:1/token",
            "redirect_uri": "http://127.0.0.1:8000/auth/acme/callback",
        })
    }

    async fn error(figment: Figment) -> ConfigError {
        let rocket = prepare(rocket::custom(figment)).await.ok().unwrap();
        Providers::fairing().states(&rocket).await.err().unwrap()
    }

    #[rocket::async_test]
    async fn errors_name_the_key() {
        let base = || Figment::from(rocket::Config::debug_default());
        let listed = |name: &str, table: serde_json::Value| {
            base().merge((format!("oauth.providers.{name}"), table))
        };
        let with = |key: &str, value: serde_json::Value| {
            let mut table = table();
            table[key] = value;
            listed("acme", table)
        };
        let cases = [
            (base(), "oauth.providers"),
            (base().merge(("oauth.providers", 5)), "oauth.providers"),
            (listed("acme_eu", table()), "oauth.providers.acme_eu"),
            (listed("signin", table()), "oauth.providers.signin"),
            (
                with("protocol", json!("oauth1")),
                "oauth.providers.acme.protocol",
            ),
            (
                with("client_id", json!("")),
                "oauth.providers.acme.client_id",
            ),
            (
                with("token_url", json!("")),
                "oauth.providers.acme.token_url",
            ),
            (with("nonsense", json!(1)), "oauth.providers.acme.nonsense"),
            (
                with("issuer_check", json!(1)),
                "oauth.providers.acme.issuer_check",
            ),
        ];
        for (figment, key) in cases {
            let error = error(figment).await;
            assert!(error.to_string().contains(key), "{key}: {error}");
        }
    }
}
