//! Building a provider's flow from its protocol's settings, once at ignite.

use super::flow::Flow;
use super::oauth1::{OAuth1Flow, OAuth1Settings};
use super::oauth2::{ClientSettings, Endpoints, OAuth2Flow};

/// What each protocol's flow is built from (once per provider: sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum FlowSettings {
    OAuth2(ClientSettings, Endpoints),
    #[cfg(feature = "oidc")]
    Oidc(super::oidc::OidcSettings),
    OAuth1(OAuth1Settings),
}

impl FlowSettings {
    /// The flow.
    pub fn build(self) -> Box<dyn Flow> {
        match self {
            FlowSettings::OAuth2(client, endpoints) => Box::new(OAuth2Flow::new(client, endpoints)),
            #[cfg(feature = "oidc")]
            FlowSettings::Oidc(settings) => Box::new(super::oidc::OidcFlow::new(settings)),
            FlowSettings::OAuth1(settings) => Box::new(OAuth1Flow::new(settings)),
        }
    }
}
