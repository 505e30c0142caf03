//! Named providers that just work: each preset is a [`Provider`](crate::Provider) with its
//! provider's real endpoints, scopes, client authentication, PKCE support and quirks, and a
//! [`Provider::identify`](crate::Provider::identify) that reads that provider's profile the
//! right way (its stable user id; an email counted as verified only when the provider says
//! so).
//!
//! Keys (`client_id`, `client_secret`, `redirect_uri`) and any override come from
//! `oauth.<name>` as for any provider; hosts that differ per deployment are placeholders
//! filled from keys of their own (`base_url`, `tenant`, `realm`, `domain`,
//! `graph_version`: see each preset).
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket_oauth::presets::GitHub;
//! use rocket_oauth::User;
//!
//! #[get("/")]
//! fn home(user: User<GitHub>) -> String {
//!     format!("hello {}", user.name.as_deref().unwrap_or("stranger"))
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build().attach(GitHub.fairing()).mount("/", routes![home])
//! }
//! ```
//!
//! ## The calls a preset's login makes
//!
//! Every login calls the token endpoint, then `userinfo_url` (OpenID Connect presets also
//! check the ID token against the JWKS). Some presets call more, with the new access token,
//! relative to `api_base_url`:
//!
//! | preset | further calls |
//! |---|---|
//! | [`GitHub`] | `GET user/emails` (the primary email, and whether it is verified; none on any error) |
//! | [`Bitbucket`] | `GET user/emails` (the same, from Bitbucket's `values`) |
//! | [`Upwork`] | no userinfo: `POST graphql` three times — the user (`user { id nid rid email name }`), their companies (`companySelector`), and each company's teams (`organization { childOrganizations }`, with the company's `X-Upwork-API-TenantId`) |
//!
//! To test an app on a preset, the testing kit plays its provider, userinfo shape and
//! further calls included, from plain `MockUser`s: `mock.preset::<GitHub>()` (feature
//! `testing`; see `testing::MockProvider::preset`).
//!
//! A preset takes the application's hooks like any provider, `GitHub.fairing().hooks(MyHooks)`,
//! and its guards stay `User<GitHub>`. The preset's own
//! [`Provider::identify`](crate::Provider::identify) reads the profile first; the hooks'
//! [`identify`](crate::Hooks::identify) may then change or refuse that identity.

mod fields;
mod list;
#[cfg(feature = "testing")]
mod mock;
mod profile;

pub use self::list::*;

/// Every preset's name and defaults, in the README's order (what `examples/presets.rs`
/// prints).
///
/// ```rust
/// let presets = rocket_oauth::presets::all();
/// assert!(presets.len() >= 24);
/// assert!(presets.iter().any(|(name, _)| *name == "github"));
/// ```
pub fn all() -> Vec<(&'static str, crate::ProviderDefaults)> {
    list::all()
}

#[cfg(test)]
mod tests {
    use rocket::figment::providers::Serialized;
    use rocket::figment::Figment;

    use crate::config::ProviderConfig;
    use crate::{ConfigError, Provider};

    fn resolve<P: Provider>(table: serde_json::Value) -> Result<ProviderConfig, ConfigError> {
        let figment =
            Figment::new().merge(Serialized::default(&format!("oauth.{}", P::NAME), table));
        ProviderConfig::from_figment(&figment, P::NAME, &P::defaults(), false)
    }

    fn keys(extra: serde_json::Value) -> serde_json::Value {
        let mut table = serde_json::json!({
            "client_id": "id", "client_secret": "s", "redirect_uri": "https://app.example/cb"
        });
        table
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        table
    }

    #[test]
    fn placeholders_take_their_defaults_or_the_configured_values() {
        let facebook = resolve::<super::Facebook>(keys(serde_json::json!({}))).unwrap();
        assert_eq!(
            facebook.authorize_url.unwrap().as_str(),
            "https://www.facebook.com/v26.0/dialog/oauth"
        );
        let older = resolve::<super::Facebook>(keys(serde_json::json!({"graph_version": "v25.0"})));
        assert_eq!(
            older.unwrap().userinfo_url.unwrap().as_str(),
            "https://graph.facebook.com/v25.0/me?fields=id,name,email,picture"
        );
        let ghe = resolve::<super::GitHub>(keys(
            serde_json::json!({"base_url": "https://git.corp.example/"}),
        ));
        assert_eq!(
            ghe.unwrap().token_url.unwrap().as_str(),
            "https://git.corp.example/login/oauth/access_token"
        );
        let bad =
            resolve::<super::Facebook>(keys(serde_json::json!({"graph_version": "v1/../x?y"})));
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("oauth.facebook.graph_version"));
    }

    #[cfg(feature = "oidc")]
    #[test]
    fn required_placeholders_are_named_when_missing() {
        let err =
            resolve::<super::Keycloak>(keys(serde_json::json!({"realm": "main"}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.keycloak.base_url`"
        );
        let keycloak = resolve::<super::Keycloak>(keys(serde_json::json!({
            "base_url": "https://sso.example.com", "realm": "main"
        })))
        .unwrap();
        assert_eq!(
            keycloak.issuer.as_deref(),
            Some("https://sso.example.com/realms/main")
        );
        let err = resolve::<super::Auth0>(keys(serde_json::json!({}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing configuration key `oauth.auth0.domain`"
        );
        let microsoft = resolve::<super::Microsoft>(keys(serde_json::json!({
            "tenant": "organizations", "tenants": ["9188040d-6c67-4c5b-b112-36a304b66dad"]
        })))
        .unwrap();
        assert_eq!(
            microsoft
                .protocol
                .oidc()
                .unwrap()
                .discovery_url
                .clone()
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn at_least_24_presets_each_named_once() {
        let all = super::all();
        #[cfg(feature = "oidc")]
        assert!(all.len() >= 24, "{}", all.len());
        let mut names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
