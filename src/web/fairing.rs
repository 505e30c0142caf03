//! The fairing: reads a provider's configuration at ignite, builds its state once, mounts
//! its routes and turns [`LoginRequired`](crate::LoginRequired)'s 401s into redirects. The
//! fairing of [listed](crate::Listed) providers does the same for each of them.

use std::io::Cursor;
use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::{Build, Request, Response, Rocket};

use crate::config::ProviderConfig;
use crate::error::ConfigError;
use crate::hooks::Hooks;
use crate::provider::{OAuthFairing, Provider};
use crate::session::backend::SessionBackend;
use crate::web::federated;
use crate::web::guards::{session_ended, PendingLogin};
use crate::web::routes;
use crate::web::signin;
use crate::web::state::{ProviderState, Registry, LISTED};

/// Names taken by other tables under `oauth`.
const RESERVED: [&str; 4] = ["session", "signin", "resource", LISTED];

/// Checks a provider's name; `key` is where it was given. `underscore`: whether `_` may
/// appear in it.
pub(crate) fn check_name(name: &str, key: &str, underscore: bool) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: key.into(),
        reason,
    };
    if RESERVED.contains(&name) {
        return Err(invalid(format!("`{name}` is reserved for `oauth.{name}`")));
    }
    let valid = !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (underscore && b == b'_')
        });
    if !valid {
        let allowed = if underscore { ", `_`" } else { "" };
        return Err(invalid(format!(
            "`{name}` must be lowercase ASCII letters, digits{allowed} or `-`"
        )));
    }
    Ok(())
}

/// The registry, the sign-in page and the session backend, made by the first provider's
/// fairing to ignite. (Rocket's own `fairing::Result`, however large.)
#[allow(clippy::result_large_err)]
pub(crate) async fn prepare(mut rocket: Rocket<Build>) -> Result<Rocket<Build>, Rocket<Build>> {
    if rocket.state::<Registry>().is_none() {
        let path = match signin::path(rocket.figment()) {
            Ok(path) => path,
            Err(e) => return fail(rocket, e),
        };
        rocket = rocket
            .manage(Registry::default())
            .mount(path, signin::routes());
    }
    if rocket.state::<SessionBackend>().is_none() {
        match SessionBackend::from_config(&rocket).await {
            Ok(backend) => rocket = rocket.manage(backend),
            Err(e) => return fail(rocket, e),
        }
    }
    Ok(rocket)
}

/// Fails launch with `e`.
#[allow(clippy::result_large_err)]
pub(crate) fn fail(rocket: Rocket<Build>, e: ConfigError) -> fairing::Result {
    log::error!("rocket_oauth: {e}");
    Err(rocket)
}

/// What a fairing hands over at its first ignite only (a second one is a duplicate).
pub(crate) fn take_once<T>(slot: &std::sync::Mutex<Option<T>>) -> Option<T> {
    slot.lock().ok().and_then(|mut slot| slot.take())
}

/// Whether Rocket serves TLS.
pub(crate) fn tls(rocket: &Rocket<Build>) -> bool {
    rocket
        .figment()
        .extract::<rocket::Config>()
        .is_ok_and(|c| c.tls_enabled())
}

/// Builds, registers and (with `discover_at_launch`) checks the state of the provider named
/// `name`; then its routes are `mount`ed.
pub(crate) async fn attach<P: Provider>(
    rocket: &Rocket<Build>,
    (name, table): (&'static str, &str),
    provider: (P, Box<dyn Hooks>),
    config: ProviderConfig,
) -> Result<Arc<ProviderState<P>>, ConfigError> {
    let registry = rocket
        .state::<Registry>()
        .ok_or_else(|| ConfigError::DuplicateProvider { name: name.into() })?;
    match registry.conflict(name) {
        Some(other) if other == name => {
            return Err(ConfigError::DuplicateProvider { name: name.into() })
        }
        Some(other) => {
            return Err(ConfigError::Invalid {
                key: table.into(),
                reason: format!(
                    "its cookies (`oauth_{name}…`) would be confused with provider `{other}`'s; rename one"
                ),
            })
        }
        None => {}
    }
    if config.redirect_uri.path() != format!("{}/callback", config.base_path) {
        log::warn!(
            "the redirect_uri of `{name}` has path `{}`, not `{}/callback`; make sure it reaches the callback route",
            config.redirect_uri.path(),
            config.base_path
        );
    }
    let backend = rocket
        .state::<SessionBackend>()
        .ok_or_else(|| ConfigError::DuplicateProvider { name: name.into() })?;
    federated_logout(name, table, &config, backend)?;
    let state = Arc::new(ProviderState::new(name, provider, config, backend)?);
    let discover = state.config.protocol.oidc();
    if discover.is_some_and(|o| o.discover_at_launch) {
        if let Err(e) = state.flow.endpoints(&state.http).await {
            return Err(ConfigError::Invalid {
                key: format!("{table}.discover_at_launch"),
                reason: format!(
                    "discovery at `{}` failed: {e}",
                    state.config.issuer.as_deref().unwrap_or_default()
                ),
            });
        }
    }
    registry.register(&state);
    Ok(state)
}

/// Back-channel logout needs sessions that can be ended from outside the browser; the
/// addresses to register at the provider are logged.
fn federated_logout(
    name: &str,
    table: &str,
    config: &ProviderConfig,
    backend: &SessionBackend,
) -> Result<(), ConfigError> {
    let Some(oidc) = config.protocol.oidc() else {
        return Ok(());
    };
    if oidc.backchannel_logout && backend.store.is_none() {
        return Err(ConfigError::Invalid {
            key: format!("{table}.backchannel_logout"),
            reason: "a logout token ends sessions from outside the browser, which cookie sessions cannot: set `oauth.session.store` to \"memory\" (one instance) or \"redis\" (several)".into(),
        });
    }
    if oidc.frontchannel_logout && backend.store.is_none() {
        log::warn!(
            "`{name}`: front-channel logout with cookie sessions ends a session only when the \
             provider's iframe carries the app's cookie, which browsers send to same-site \
             frames only; set `oauth.session.store` for the logout to reach every session"
        );
    }
    let origin = config.redirect_uri.origin().ascii_serialization();
    for (on, path, what) in [
        (
            oidc.backchannel_logout,
            federated::BACKCHANNEL_PATH,
            "backchannel_logout_uri",
        ),
        (
            oidc.frontchannel_logout,
            federated::FRONTCHANNEL_PATH,
            "frontchannel_logout_uri",
        ),
    ] {
        if on {
            log::info!(
                "`{name}`: register {origin}{}{path} as the {what}",
                config.base_path
            );
        }
    }
    Ok(())
}

/// `rocket` with `state`'s routes mounted.
pub(crate) fn mount<P: Provider>(
    rocket: Rocket<Build>,
    state: &Arc<ProviderState<P>>,
) -> Rocket<Build> {
    let base = state.config.base_path.clone();
    rocket.mount(base, routes::routes(state))
}

/// After any route: removes the cookies of a session this request ended (the error page
/// would drop them), and turns the `401` of an [`OrLogin`](crate::OrLogin) guard into its
/// redirect.
pub(crate) fn finish<'p, P: 'p>(
    req: &Request<'_>,
    res: &mut Response<'_>,
    states: impl IntoIterator<Item = &'p ProviderState<P>>,
) {
    // The redirect may already have been made by another provider's fairing: the removals
    // go with it too.
    if res.status().code >= 400 || PendingLogin::get(req).is_some() {
        for state in states {
            if session_ended(req, state.name) {
                for removal in state.cookies.session_removals(req.cookies()) {
                    res.adjoin_header(removal);
                }
            }
        }
    }
    if res.status() != Status::Unauthorized {
        return;
    }
    if let Some(location) = PendingLogin::get(req) {
        res.set_status(Status::SeeOther);
        res.set_header(Header::new("Location", location.to_owned()));
        res.remove_header("Content-Type");
        res.set_sized_body(0, Cursor::new(""));
    }
}

impl<P: Provider> OAuthFairing<P> {
    async fn state(&self, rocket: &Rocket<Build>) -> Result<Arc<ProviderState<P>>, ConfigError> {
        let name = P::NAME;
        check_name(name, "Provider::NAME", true)?;
        let config =
            ProviderConfig::from_figment(rocket.figment(), name, &P::defaults(), tls(rocket))?;
        let provider = take_once(&self.provider)
            .ok_or_else(|| ConfigError::DuplicateProvider { name: name.into() })?;
        attach(rocket, (name, &format!("oauth.{name}")), provider, config).await
    }
}

#[rocket::async_trait]
impl<P: Provider> Fairing for OAuthFairing<P> {
    fn info(&self) -> Info {
        Info {
            name: self.name,
            kind: Kind::Ignite | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let rocket = prepare(rocket).await?;
        match self.state(&rocket).await {
            Ok(state) => Ok(mount(rocket, &state).manage(state)),
            Err(e) => fail(rocket, e),
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        finish(req, res, ProviderState::<P>::of(req.rocket()));
    }
}
