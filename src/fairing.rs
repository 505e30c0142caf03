//! The fairing: reads a provider's configuration at ignite, builds its clients once, mounts
//! its routes and turns [`LoginRequired`](crate::LoginRequired)'s 401s into redirects.

use std::io::Cursor;
use std::sync::Mutex;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::{Build, Request, Response, Rocket};

use openidconnect::core::CoreJwsSigningAlgorithm;
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{parse_endpoint, ProviderConfig, RawConfig};
use crate::error::{ConfigError, LoginError};
use crate::guards::PendingLogin;
use crate::http::HttpClient;
use crate::oauth2::{build_client, ClientSettings, OAuth2Client};
use crate::oidc::{allowed_algs, discover, Jwks};
use crate::provider::Protocol;
use crate::provider::Provider;
use crate::routes;
use crate::session::Cookies;

/// The fairing of provider `P`: attach it to enable `P`'s routes and guards.
///
/// At ignite it reads `oauth.<P::NAME>` (failing launch, with the key named, when it is
/// missing or invalid), builds one pooled HTTP client, and mounts under the base path
/// (default `/auth/<name>`):
///
/// | route | what it does |
/// |---|---|
/// | `GET login[?next=/path]` | starts a login (or shows the confirmation page) |
/// | `POST login` | starts a login from the confirmation page (CSRF-checked) |
/// | `GET callback`, `POST callback` | finishes the login, then `303` to `next` or the success page |
/// | `POST logout` (and `GET` if `logout_via_get`) | forgets the session, runs `after_logout`, `303` to `next` or `/` |
/// | `GET check` | `{"authorized": true/false}` |
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{Hooks, OAuth2Provider, OAuthFairing};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/authorize", token_url = "https://idp.example/token")]
/// struct Idp;
///
/// impl Hooks for Idp {}
///
/// #[launch]
/// fn rocket() -> _ {
///     // `Idp::fairing()` is shorthand for `OAuthFairing::new(Idp)`.
///     rocket::build().attach(OAuthFairing::new(Idp))
/// }
/// ```
pub struct OAuthFairing<P> {
    provider: Mutex<Option<P>>,
}

impl<P: Provider> OAuthFairing<P> {
    /// The fairing for this provider value (its hooks run on `&provider`).
    pub fn new(provider: P) -> Self {
        OAuthFairing {
            provider: Mutex::new(Some(provider)),
        }
    }
}

/// Everything a provider's routes and guards need, managed once per provider type.
pub(crate) struct ProviderState<P> {
    pub provider: P,
    pub config: ProviderConfig,
    pub http: HttpClient,
    pub cookies: Cookies,
    pub auth_params: Vec<(String, String)>,
    /// Known at ignite for OAuth 2; discovered on first use (and retried until it works) for
    /// OpenID Connect.
    endpoints: OnceCell<Endpoints>,
}

/// A provider's endpoints and, for OpenID Connect, what ID tokens are checked against.
pub(crate) struct Endpoints {
    pub client: OAuth2Client,
    pub userinfo_url: Option<Url>,
    pub oidc: Option<OidcEndpoints>,
}

/// What OpenID Connect discovery found.
pub(crate) struct OidcEndpoints {
    /// The issuer; may hold `{tenantid}`.
    pub issuer: String,
    pub jwks: Jwks,
    pub algs: Vec<CoreJwsSigningAlgorithm>,
    /// RFC 9207: the provider sends `iss` with every authorization response.
    pub iss_parameter: bool,
    pub end_session: Option<Url>,
}

impl<P> ProviderState<P> {
    fn client(&self, authorize_url: &Url, token_url: &Url) -> OAuth2Client {
        build_client(ClientSettings {
            client_id: &self.config.client_id,
            client_secret: self.config.client_secret.as_deref(),
            authorize_url,
            token_url,
            redirect_uri: &self.config.redirect_uri,
            auth: self.config.client_auth,
        })
    }

    /// The provider's endpoints, discovering them first if needed.
    pub async fn endpoints(&self) -> Result<&Endpoints, LoginError> {
        self.endpoints.get_or_try_init(|| self.discover()).await
    }

    async fn discover(&self) -> Result<Endpoints, LoginError> {
        let config = &self.config;
        let issuer = config.issuer.as_deref().unwrap_or_default();
        let fail = |e: String| {
            log::error!("OpenID Connect discovery for `{issuer}` failed: {e}");
            LoginError::Discovery(e)
        };
        let doc = discover(&self.http, issuer, config.discovery_url.as_ref())
            .await
            .map_err(|e| fail(e.to_string()))?;
        let checked = |url: Option<&Url>, name: &str| -> Result<Option<Url>, LoginError> {
            url.map(|u| parse_endpoint(u.as_str(), name).map_err(|e| fail(e.to_string())))
                .transpose()
        };
        let authorize_url = match &config.authorize_url {
            Some(url) => url.clone(),
            None => checked(Some(&doc.authorization_endpoint), "authorization_endpoint")?
                .unwrap_or_else(|| doc.authorization_endpoint.clone()),
        };
        let token_url = match &config.token_url {
            Some(url) => url.clone(),
            None => checked(doc.token_endpoint.as_ref(), "token_endpoint")?
                .ok_or_else(|| fail("the discovery document has no token_endpoint".into()))?,
        };
        let userinfo_url = match &config.userinfo_url {
            Some(url) => Some(url.clone()),
            None => checked(doc.userinfo_endpoint.as_ref(), "userinfo_endpoint")?,
        };
        let jwks_uri = checked(Some(&doc.jwks_uri), "jwks_uri")?.unwrap_or(doc.jwks_uri.clone());
        Ok(Endpoints {
            client: self.client(&authorize_url, &token_url),
            userinfo_url,
            oidc: Some(OidcEndpoints {
                issuer: doc.issuer.clone(),
                jwks: Jwks::new(jwks_uri),
                algs: allowed_algs(&doc.id_token_signing_alg_values_supported),
                iss_parameter: doc.authorization_response_iss_parameter_supported,
                end_session: checked(doc.end_session_endpoint.as_ref(), "end_session_endpoint")?,
            }),
        })
    }
}

/// The names of the attached providers (cookie names derive from them, so they are unique).
#[derive(Default)]
struct Registry(Mutex<Vec<&'static str>>);

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl<P: Provider> OAuthFairing<P> {
    fn state(&self, rocket: &Rocket<Build>) -> Result<ProviderState<P>, ConfigError> {
        let name = P::NAME;
        if !valid_name(name) {
            return Err(ConfigError::Invalid {
                key: "Provider::NAME".into(),
                reason: format!("`{name}` must be lowercase ASCII letters, digits, `_` or `-`"),
            });
        }
        // A provider attached twice is caught by the name registry in `on_ignite`.
        let raw = match rocket
            .figment()
            .extract_inner::<RawConfig>(&format!("oauth.{name}"))
        {
            Ok(raw) => raw,
            Err(e) if e.missing() => RawConfig::default(),
            Err(e) => {
                let message = e.to_string();
                rocket::config::pretty_print_error(e);
                return Err(ConfigError::Invalid {
                    key: format!("oauth.{name}"),
                    reason: message,
                });
            }
        };
        let tls = rocket
            .figment()
            .extract::<rocket::Config>()
            .is_ok_and(|c| c.tls_enabled());
        let config = raw.resolve(name, &P::defaults(), tls)?;
        if config.redirect_uri.path() != format!("{}/callback", config.base_path) {
            log::warn!(
                "oauth.{name}.redirect_uri path `{}` is not `{}/callback`; make sure it reaches the callback route",
                config.redirect_uri.path(),
                config.base_path
            );
        }
        let http = HttpClient::new(config.connect_timeout, config.timeout)
            .map_err(ConfigError::HttpClient)?;
        let cookies = Cookies::new(
            name,
            &config.base_path,
            config.secure_cookies,
            config.form_post,
        );
        let mut auth_params: Vec<(String, String)> = config
            .auth_params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if config.form_post && !config.auth_params.contains_key("response_mode") {
            auth_params.push(("response_mode".into(), "form_post".into()));
        }
        let provider = self
            .provider
            .lock()
            .map_err(|_| ConfigError::DuplicateProvider { name: name.into() })?
            .take()
            .ok_or_else(|| ConfigError::DuplicateProvider { name: name.into() })?;
        let mut state = ProviderState {
            provider,
            config,
            http,
            cookies,
            auth_params,
            endpoints: OnceCell::new(),
        };
        if let (Protocol::OAuth2, Some(authorize_url), Some(token_url)) = (
            state.config.protocol,
            &state.config.authorize_url,
            &state.config.token_url,
        ) {
            let endpoints = Endpoints {
                client: state.client(authorize_url, token_url),
                userinfo_url: state.config.userinfo_url.clone(),
                oidc: None,
            };
            state.endpoints = OnceCell::new_with(Some(endpoints));
        }
        Ok(state)
    }
}

#[rocket::async_trait]
impl<P: Provider> Fairing for OAuthFairing<P> {
    fn info(&self) -> Info {
        Info {
            name: "rocket_oauth provider",
            kind: Kind::Ignite | Kind::Response,
        }
    }

    async fn on_ignite(&self, mut rocket: Rocket<Build>) -> fairing::Result {
        if rocket.state::<Registry>().is_none() {
            rocket = rocket.manage(Registry::default());
        }
        let registered = rocket
            .state::<Registry>()
            .and_then(|r| r.0.lock().ok())
            .is_some_and(|names| names.contains(&P::NAME));
        let state = if registered {
            Err(ConfigError::DuplicateProvider {
                name: P::NAME.into(),
            })
        } else {
            self.state(&rocket)
        };
        let state = match state {
            Ok(state) => state,
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                return Err(rocket);
            }
        };
        if let Some(mut names) = rocket.state::<Registry>().and_then(|r| r.0.lock().ok()) {
            names.push(P::NAME);
        }
        let base = state.config.base_path.clone();
        let routes = routes::routes::<P>(&state.config);
        Ok(rocket.manage(state).mount(base, routes))
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
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
