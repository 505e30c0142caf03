//! The keys only OpenID Connect providers take, and their validation.

use serde::Deserialize;
use url::Url;

#[cfg(feature = "oidc")]
use super::keys::non_empty;
use super::keys::Keys;
use super::placeholders::Placeholders;
use crate::error::ConfigError;

/// The keys that only OpenID Connect providers take (under `oauth.<name>` like the others).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OidcConfig {
    /// Where the discovery document is. _Default:_
    /// `<issuer>/.well-known/openid-configuration` (give it for a `{tenantid}` issuer, e.g.
    /// Microsoft's `https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration`).
    pub discovery_url: Option<Url>,
    /// Tenants allowed by a `{tenantid}` issuer: the ID token's `tid` fills the placeholder
    /// and must be listed. _Default:_ none (required with such an issuer).
    pub tenants: Vec<String>,
    /// Other exact `iss` values the issuer uses in ID tokens, e.g. a trailing-slash variant.
    /// They must be URLs: the `openidconnect` crate parses `iss` as one, so a bare host
    /// such as Google's legacy `accounts.google.com` cannot be accepted. _Default:_ none.
    pub issuer_aliases: Vec<String>,
    /// Require the `nonce` claim in ID tokens. Turn off only for providers that never send
    /// one (LinkedIn); a nonce that is present must still match. _Default:_ `true`.
    pub require_nonce: bool,
    /// On logout, also end the session at the provider when its discovery document has an
    /// `end_session_endpoint`. _Default:_ `false`.
    pub provider_logout: bool,
    /// Where the provider sends the browser after `provider_logout` (registered at the
    /// provider). _Default:_ none.
    pub post_logout_redirect_uri: Option<Url>,
    /// Fetch the discovery document at launch, and refuse to launch (with the reason) when
    /// it cannot be fetched or is unusable: a wrong issuer shows before the first visitor.
    /// _Default:_ `false` (discovery on the first login, retried until it succeeds).
    pub discover_at_launch: bool,
    /// Mount `POST <base_path>/backchannel-logout` for the provider's logout tokens
    /// (OpenID Connect Back-Channel Logout 1.0): a valid one ends the sessions it names, in
    /// every instance. Needs a session store (`oauth.session.store`). _Default:_ `false`.
    pub backchannel_logout: bool,
    /// Mount `GET <base_path>/frontchannel-logout` (OpenID Connect Front-Channel Logout
    /// 1.0), the page the provider loads in an iframe at its logout. _Default:_ `false`.
    pub frontchannel_logout: bool,
}

/// The OpenID Connect keys as configured: the one list of them (other protocols refuse
/// these names).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(not(feature = "oidc"), allow(dead_code))]
pub(super) struct OidcKeys {
    discovery_url: Option<String>,
    tenants: Option<Vec<String>>,
    issuer_aliases: Option<Vec<String>>,
    require_nonce: Option<bool>,
    discover_at_launch: Option<bool>,
    provider_logout: Option<bool>,
    post_logout_redirect_uri: Option<String>,
    backchannel_logout: Option<bool>,
    frontchannel_logout: Option<bool>,
}

impl OidcKeys {
    /// The OpenID Connect keys, validated; `issuer` (placeholders filled) is required.
    #[cfg(feature = "oidc")]
    pub fn resolve(
        self,
        keys: &Keys<'_>,
        issuer: Option<&str>,
        placeholders: &Placeholders,
    ) -> Result<OidcConfig, ConfigError> {
        use crate::protocol::oidc::TENANT_PLACEHOLDER;
        let issuer = keys.required(issuer.map(str::to_owned), "issuer")?;
        keys.endpoint(&issuer.replace(TENANT_PLACEHOLDER, "tenant"), "issuer")?;
        let tenants = self.tenants.unwrap_or_default();
        if let Some(tenant) = tenants.iter().find(|t| {
            t.is_empty()
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }) {
            return Err(keys.invalid(
                "tenants",
                format!("`{tenant}` is not a tenant id or domain"),
            ));
        }
        let discovery_url = placeholders.fill(self.discovery_url, keys)?;
        let discovery_url = keys.optional_endpoint(discovery_url, "discovery_url")?;
        if issuer.contains(TENANT_PLACEHOLDER) {
            if tenants.is_empty() {
                return Err(keys.missing("tenants"));
            }
            if discovery_url.is_none() {
                return Err(keys.missing("discovery_url"));
            }
        }
        Ok(OidcConfig {
            discovery_url,
            tenants,
            issuer_aliases: self.issuer_aliases.unwrap_or_default(),
            require_nonce: self.require_nonce.unwrap_or(true),
            discover_at_launch: self.discover_at_launch.unwrap_or(false),
            provider_logout: self.provider_logout.unwrap_or(false),
            backchannel_logout: self.backchannel_logout.unwrap_or(false),
            frontchannel_logout: self.frontchannel_logout.unwrap_or(false),
            post_logout_redirect_uri: non_empty(self.post_logout_redirect_uri)
                .map(|u| keys.url(&u, "post_logout_redirect_uri"))
                .transpose()?,
        })
    }

    #[cfg(not(feature = "oidc"))]
    pub fn resolve(
        self,
        keys: &Keys<'_>,
        _issuer: Option<&str>,
        _placeholders: &Placeholders,
    ) -> Result<OidcConfig, ConfigError> {
        Err(keys.invalid(
            "issuer",
            "OpenID Connect providers need rocket_oauth's `oidc` feature",
        ))
    }
}
