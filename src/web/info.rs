//! [`ProviderInfo`]: a provider's resolved configuration and endpoints, for routes.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::config::ProviderConfig;
use crate::protocol::error::FlowError;
use crate::protocol::flow::ProviderEndpoints;
use crate::provider::Provider;
use crate::web::guards::abort_without_fairing;
use crate::web::state::ProviderState;

/// Provider `P` as the app resolved it: its configuration ([`ProviderConfig`]: scopes,
/// issuer, client id, access rules, ...) and its endpoints, configured or discovered
/// ([`ProviderEndpoints`]), without reading the figment by hand. Never fails; needs `P`'s
/// fairing.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::{json, Value};
/// use rocket_oauth::OAuth2Provider;
/// use rocket_oauth::guards::ProviderInfo;
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/about-login")]
/// async fn about(idp: ProviderInfo<'_, Idp>) -> Value {
///     let endpoints = idp.endpoints().await.ok();
///     json!({
///         "scopes": idp.config().scopes,
///         "userinfo": endpoints.and_then(|e| e.userinfo_url).map(|u| u.to_string()),
///     })
/// }
/// ```
pub struct ProviderInfo<'r, P> {
    state: &'r ProviderState<P>,
}

impl<P: Provider> ProviderInfo<'_, P> {
    /// The resolved configuration (`oauth.<name>` over the provider's defaults). Secrets in
    /// it print as `[redacted]`.
    pub fn config(&self) -> &ProviderConfig {
        &self.state.config
    }

    /// The endpoints. For OpenID Connect they come from discovery, which this runs on first
    /// use (then cached); it fails when the provider cannot be reached.
    pub async fn endpoints(&self) -> Result<ProviderEndpoints, FlowError> {
        self.state.flow.endpoints(&self.state.http).await
    }
}

impl<P> std::fmt::Debug for ProviderInfo<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInfo")
            .field("config", &self.state.config)
            .finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for ProviderInfo<'r, P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match ProviderState::<P>::of(req.rocket()) {
            Some(state) => Outcome::Success(ProviderInfo { state }),
            None => Outcome::Forward(Status::InternalServerError),
        }
    }
}

impl<P: Provider> Sentinel for ProviderInfo<'_, P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "ProviderInfo")
    }
}
