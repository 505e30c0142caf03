//! Managed state: each provider's (everything its routes and guards need, built once at
//! ignite) and the registry of attached providers.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use rocket::{Phase, Request, Rocket};
use url::Url;

use crate::api::ApiTarget;
use crate::config::ProviderConfig;
use crate::error::ConfigError;
use crate::hooks::Hooks;
use crate::limit::RateLimit;
use crate::login::Login;
use crate::pages::csrf::CsrfCookie;
use crate::protocol::flow::Flow;
use crate::protocol::http::HttpClient;
use crate::provider::Provider;
use crate::session::backend::SessionBackend;
use crate::session::cookie::Cookies;
use crate::session::manager::Sessions;

/// The name of [`Listed`](crate::Listed): the table `oauth.providers`, not a provider.
pub(crate) const LISTED: &str = "providers";

/// A provider's live session for a request, type-erased (for [`AnyUser`](crate::AnyUser)).
pub(crate) trait LiveSession: Send + Sync {
    fn load<'r>(
        &'r self,
        req: &'r Request<'_>,
    ) -> Pin<Box<dyn Future<Output = Option<Arc<Login>>> + Send + 'r>>;
}

/// An attached provider, as the sign-in page and [`AnyUser`](crate::AnyUser) see it.
#[derive(Clone)]
pub(crate) struct Registered {
    pub name: &'static str,
    pub session: Arc<dyn LiveSession>,
    pub display_name: String,
    /// The provider's `login` route.
    pub login_path: String,
}

/// The attached providers, in attach order (names are unique: cookie names derive from
/// them).
#[derive(Default)]
pub(crate) struct Registry(pub Mutex<Vec<Registered>>);

impl Registry {
    /// The providers' names and sessions, in attach order.
    pub fn sessions(&self) -> Vec<(&'static str, Arc<dyn LiveSession>)> {
        self.0
            .lock()
            .map(|e| e.iter().map(|r| (r.name, r.session.clone())).collect())
            .unwrap_or_default()
    }

    /// The attached providers.
    pub fn providers(&self) -> Vec<Registered> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The attached provider whose cookies `name`'s would share, if any: one of the same
    /// name, or a pair such as `a` and `a_login…` or `a_csrf`, since cookie names are
    /// `oauth_<name>`, `oauth_<name>_login_<key>` and `oauth_<name>_csrf`.
    pub fn conflict(&self, name: &str) -> Option<&'static str> {
        let entries = self.0.lock().ok()?;
        entries
            .iter()
            .map(|r| r.name)
            .find(|other| shares_cookies(name, other))
    }

    /// Lists `state`'s provider (after [`Registry::conflict`] found none).
    pub fn register<P: Provider>(&self, state: &Arc<ProviderState<P>>) {
        let entry = Registered {
            name: state.name,
            session: state.clone(),
            display_name: state.config.display_name.clone(),
            login_path: state.login_url(),
        };
        if let Ok(mut entries) = self.0.lock() {
            entries.push(entry);
        }
    }
}

/// Whether providers named `a` and `b` would share a cookie name.
fn shares_cookies(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("_login") || rest == "_csrf")
}

/// Managed once per provider type (so two providers never collide in Rocket's state); each
/// provider listed in configuration has one too, kept in the listed providers' state.
pub(crate) struct ProviderState<P> {
    /// The provider's name: `P::NAME`, or its key under `oauth.providers`.
    pub name: &'static str,
    pub provider: P,
    /// The application's hooks.
    pub hooks: Box<dyn Hooks>,
    pub config: ProviderConfig,
    /// The one pooled HTTP client for every call to this provider.
    pub http: HttpClient,
    /// The login-attempt cookies.
    pub cookies: Cookies,
    pub sessions: Sessions,
    /// The confirmation form's CSRF cookie.
    pub csrf: CsrfCookie,
    /// The protocol's login flow.
    pub flow: Arc<dyn Flow>,
    /// Where [`ApiClient`](crate::ApiClient)s call.
    pub api: ApiTarget,
    /// How often logins may begin, when beginning one calls the provider (OAuth 1.0a).
    pub begin_limit: Option<RateLimit>,
}

impl<P: Send + Sync + 'static> ProviderState<P> {
    /// `P`'s state in `rocket`, if its fairing is attached.
    pub fn of<Ph: Phase>(rocket: &Rocket<Ph>) -> Option<&Self> {
        rocket.state::<Arc<Self>>().map(Arc::as_ref)
    }

    /// `P`'s state, shared (for a handle that outlives a request).
    pub fn shared<Ph: Phase>(rocket: &Rocket<Ph>) -> Option<Arc<Self>> {
        rocket.state::<Arc<Self>>().cloned()
    }
}

impl<P: Provider> ProviderState<P> {
    pub fn new(
        name: &'static str,
        (provider, hooks): (P, Box<dyn Hooks>),
        config: ProviderConfig,
        backend: &SessionBackend,
    ) -> Result<Self, ConfigError> {
        let http = HttpClient::new(config.connect_timeout, config.timeout)
            .map_err(|e| ConfigError::HttpClient(Box::new(e)))?;
        let cookies = Cookies::new(
            name,
            &config.base_path,
            config.secure_cookies,
            config.form_post,
        );
        let sessions = Sessions::new(
            cookies.clone(),
            backend.store.clone(),
            backend.ledger(),
            name,
            std::time::Duration::from_secs(backend.config.lifetime),
            config.refresh_skew,
        )
        .index_provider_sessions(
            config
                .protocol
                .oidc()
                .is_some_and(|o| o.backchannel_logout || o.frontchannel_logout),
        );
        let csrf = CsrfCookie {
            name: format!(
                "{}oauth_{}_csrf",
                Cookies::prefix(config.secure_cookies),
                name
            ),
            path: cookies.form_path().to_owned(),
            secure: config.secure_cookies,
        };
        // The user's credentials go only to the provider's own API: its API base, userinfo
        // endpoint and issuer, and what `api_origins` adds.
        let issuer = config.issuer.as_deref().and_then(|i| Url::parse(i).ok());
        let origins = [
            config.api_base_url.as_ref(),
            config.userinfo_url.as_ref(),
            issuer.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(&config.api_origins)
        .map(Url::origin)
        .collect();
        let api = ApiTarget {
            base: config.api_base_url.clone(),
            origins,
        };
        // OAuth 1.0a's login begins with a call to the provider: bounded.
        let begin_limit = config
            .protocol
            .oauth1()
            .map(|o| RateLimit::new(o.login_calls_per_client, o.login_calls_per_minute));
        Ok(ProviderState {
            name,
            provider,
            hooks,
            api,
            begin_limit,
            flow: config.flow_settings().build().into(),
            config,
            http,
            cookies,
            sessions,
            csrf,
        })
    }
}

impl<P> ProviderState<P> {
    /// Where `GET login` is.
    pub fn login_url(&self) -> String {
        format!("{}/login", self.config.base_path)
    }
}

#[cfg(test)]
mod tests {
    use super::shares_cookies;

    #[test]
    fn names_that_would_share_cookies_conflict() {
        for (a, b) in [
            ("a", "a"),
            ("a", "a_login"),
            ("a_login_x", "a"),
            ("a", "a_csrf"),
        ] {
            assert!(shares_cookies(a, b), "{a} {b}");
        }
        for (a, b) in [
            ("a", "b"),
            ("github", "github_enterprise"),
            ("a", "a-eu"),
            ("a", "ab"),
        ] {
            assert!(!shares_cookies(a, b), "{a} {b}");
        }
    }
}
