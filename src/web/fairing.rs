//! The fairing: reads a provider's configuration at ignite, builds its state once, mounts
//! its routes and turns [`LoginRequired`](crate::LoginRequired)'s 401s into redirects.

use std::io::Cursor;
use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::{Build, Request, Response, Rocket};

use crate::config::ProviderConfig;
use crate::error::ConfigError;
use crate::provider::{OAuthFairing, Provider};
use crate::session::backend::SessionBackend;
use crate::web::guards::{load_session, session_ended, PendingLogin};
use crate::web::routes;
use crate::web::signin;
use crate::web::state::{ProviderState, Registered, Registry};

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl<P: Provider> OAuthFairing<P> {
    /// Registers the name, then resolves the configuration and builds the state.
    fn state(&self, rocket: &Rocket<Build>) -> Result<ProviderState<P>, ConfigError> {
        let name = P::NAME;
        if name == "session" || name == "signin" {
            return Err(ConfigError::Invalid {
                key: "Provider::NAME".into(),
                reason: format!("`{name}` is reserved for `oauth.{name}`"),
            });
        }
        if !valid_name(name) {
            return Err(ConfigError::Invalid {
                key: "Provider::NAME".into(),
                reason: format!("`{name}` must be lowercase ASCII letters, digits, `_` or `-`"),
            });
        }
        let duplicate = || ConfigError::DuplicateProvider { name: name.into() };
        let registry = rocket.state::<Registry>().ok_or_else(duplicate)?;
        if registry.providers().iter().any(|r| r.name == name) {
            return Err(duplicate());
        }
        let tls = rocket
            .figment()
            .extract::<rocket::Config>()
            .is_ok_and(|c| c.tls_enabled());
        let config = ProviderConfig::from_figment(rocket.figment(), name, &P::defaults(), tls)?;
        if config.redirect_uri.path() != format!("{}/callback", config.base_path) {
            log::warn!(
                "oauth.{name}.redirect_uri path `{}` is not `{}/callback`; make sure it reaches the callback route",
                config.redirect_uri.path(),
                config.base_path
            );
        }
        let provider = self
            .provider
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .ok_or_else(duplicate)?;
        let backend = rocket.state::<SessionBackend>().ok_or_else(duplicate)?;
        registry
            .0
            .lock()
            .map_err(|_| duplicate())?
            .push(Registered {
                name,
                load: load_session::<P>,
                display_name: config.display_name.clone(),
                login_path: format!("{}/login", config.base_path),
            });
        ProviderState::new(provider, config, backend)
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

    async fn on_ignite(&self, mut rocket: Rocket<Build>) -> fairing::Result {
        if rocket.state::<Registry>().is_none() {
            // The first provider: the registry, and the sign-in page listing them all.
            let path = match signin::path(rocket.figment()) {
                Ok(path) => path,
                Err(e) => {
                    log::error!("rocket_oauth: {e}");
                    return Err(rocket);
                }
            };
            rocket = rocket
                .manage(Registry::default())
                .mount(path, signin::routes());
        }
        if rocket.state::<SessionBackend>().is_none() {
            match SessionBackend::from_config(&rocket).await {
                Ok(backend) => rocket = rocket.manage(backend),
                Err(e) => {
                    log::error!("rocket_oauth: {e}");
                    return Err(rocket);
                }
            }
        }
        match self.state(&rocket) {
            Ok(state) => {
                if state
                    .config
                    .protocol
                    .oidc()
                    .is_some_and(|o| o.discover_at_launch)
                {
                    if let Err(e) = state.flow.endpoints(&state.http).await {
                        log::error!(
                            "rocket_oauth: `oauth.{}.discover_at_launch`: discovery at `{}` failed: {e}",
                            P::NAME,
                            state.config.issuer.as_deref().unwrap_or_default()
                        );
                        return Err(rocket);
                    }
                }
                let base = state.config.base_path.clone();
                let routes = routes::routes::<P>(&state.config);
                Ok(rocket.manage(Arc::new(state)).mount(base, routes))
            }
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if session_ended::<P>(req) && res.status().code >= 400 {
            if let Some(state) = ProviderState::<P>::of(req.rocket()) {
                for removal in state.cookies.session_removals(req.cookies()) {
                    res.adjoin_header(removal);
                }
            }
        }
        if res.status() != Status::Unauthorized {
            return;
        }
        if let Some(location) = PendingLogin::<P>::get(req) {
            res.set_status(Status::SeeOther);
            res.set_header(Header::new("Location", location.to_owned()));
            res.remove_header("Content-Type");
            res.set_sized_body(0, Cursor::new(""));
        }
    }
}
