//! A provider's managed state: everything its routes and guards need, built once at ignite.

use crate::config::ProviderConfig;
use crate::error::ConfigError;
use crate::protocol::flow::Flow;
use crate::protocol::http::HttpClient;
use crate::provider::Provider;
use crate::session::cookie::Cookies;
use crate::web::csrf::CsrfCookie;

/// Managed once per provider type (so two providers never collide in Rocket's state).
pub(crate) struct ProviderState<P> {
    pub provider: P,
    pub config: ProviderConfig,
    /// The one pooled HTTP client for every call to this provider.
    pub http: HttpClient,
    pub cookies: Cookies,
    /// The confirmation form's CSRF cookie.
    pub csrf: CsrfCookie,
    /// The protocol's login flow.
    pub flow: Box<dyn Flow>,
}

impl<P: Provider> ProviderState<P> {
    pub fn new(provider: P, config: ProviderConfig) -> Result<Self, ConfigError> {
        let http = HttpClient::new(config.connect_timeout, config.timeout)
            .map_err(|e| ConfigError::HttpClient(Box::new(e)))?;
        let cookies = Cookies::new(
            P::NAME,
            &config.base_path,
            config.secure_cookies,
            config.form_post,
        );
        let csrf = CsrfCookie {
            name: format!("oauth_{}_csrf", P::NAME),
            path: config.base_path.clone(),
            secure: config.secure_cookies,
        };
        Ok(ProviderState {
            provider,
            flow: config.flow(),
            config,
            http,
            cookies,
            csrf,
        })
    }

    /// Where `GET login` is.
    pub fn login_url(&self) -> String {
        format!("{}/login", self.config.base_path)
    }
}
