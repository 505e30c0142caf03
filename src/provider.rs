//! The [`Provider`] trait: what the derive macros implement, and what a hand-written provider
//! implements to get the same fairing, routes and guards.

use std::sync::Mutex;

use crate::api::ApiClient;
use crate::hooks::{Denial, Hooks};
use crate::identity::Identity;
use crate::login::Login;
use crate::protocol::oauth2::ClientAuth;

/// An OAuth provider: its name and its default endpoints and options.
///
/// `#[derive(OAuth2Provider)]` implements this trait (see the crate docs); it can also be
/// written by hand. Keys (`client_id`, `client_secret`, `redirect_uri`) never live here: they
/// come from the configuration under `oauth.<NAME>`, where every default given here can be
/// overridden too.
///
/// ```rust
/// use rocket_oauth::{Provider, ProviderDefaults};
///
/// struct Example;
///
/// impl Provider for Example {
///     const NAME: &'static str = "example";
///
///     fn defaults() -> ProviderDefaults {
///         ProviderDefaults::oauth2(
///             "https://example.com/oauth/authorize",
///             "https://example.com/oauth/token",
///         )
///         .userinfo_url("https://example.com/api/me")
///         .scopes(&["profile"])
///     }
/// }
///
/// let fairing = Example.fairing();
/// ```
#[rocket::async_trait]
pub trait Provider: Send + Sync + Sized + 'static {
    /// The provider's name: the configuration key (`oauth.<NAME>`), the default mount point
    /// (`/auth/<NAME>`) and part of every cookie name. Lowercase ASCII letters, digits, `_`
    /// and `-` only.
    const NAME: &'static str;

    /// The default endpoints and options; each can be overridden in configuration.
    fn defaults() -> ProviderDefaults;

    /// Who logged in, from the provider's answer: `login.userinfo()` holds the userinfo
    /// document (for OpenID Connect: the ID token's claims merged with userinfo), `api` calls
    /// the provider's API with the new credentials. Presets read their provider's profile
    /// here; the application's [`Hooks::identify`] runs after it and may change or refuse
    /// the result. `Err` refuses the login. _Default:_ [`Identity::from_claims`] of the
    /// userinfo, if any.
    async fn identify(
        &self,
        login: &Login,
        _api: &ApiClient<'_>,
    ) -> Result<Option<Identity>, Denial> {
        Ok(login.userinfo().and_then(Identity::from_claims))
    }

    /// The fairing of this provider: attach it to mount its routes and enable its guards;
    /// give the application's hooks with [`OAuthFairing::hooks`]. (The derives and presets
    /// add the same method to the type itself, so no import is needed.)
    fn fairing(self) -> OAuthFairing<Self> {
        OAuthFairing::new(self)
    }
}

/// The fairing of provider `P`: attach it to enable `P`'s routes and guards. Made by
/// [`Provider::fairing`] (`GitHub.fairing()`) or [`OAuthFairing::new`].
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
/// use rocket_oauth::OAuth2Provider;
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/authorize", token_url = "https://idp.example/token")]
/// struct Idp;
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(Idp.fairing())
/// }
/// ```
pub struct OAuthFairing<P> {
    /// Taken by the first ignite; a second one is a duplicate attachment.
    pub(crate) provider: Mutex<Option<(P, Box<dyn Hooks>)>>,
    /// `rocket_oauth provider <name>`, for Rocket's launch log.
    pub(crate) name: &'static str,
}

impl<P: Provider> OAuthFairing<P> {
    /// The fairing for this provider value, with no hooks of the application's (`()`).
    pub fn new(provider: P) -> Self {
        // Built once per attached provider, so leaking the name is bounded.
        let name = Box::leak(format!("rocket_oauth provider `{}`", P::NAME).into_boxed_str());
        OAuthFairing {
            provider: Mutex::new(Some((provider, Box::new(())))),
            name,
        }
    }

    /// The fairing running `hooks` around this provider's logins and logouts. Guards still
    /// name the provider only (`User<P>`), whatever the hooks.
    ///
    /// ```rust
    /// use rocket_oauth::{Hooks, OAuth2Provider};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
    /// struct Idp;
    ///
    /// struct Audit;
    ///
    /// impl Hooks for Audit {}
    ///
    /// let fairing = Idp.fairing().hooks(Audit);
    /// # let _ = fairing;
    /// ```
    pub fn hooks(self, hooks: impl Hooks) -> Self {
        let mut slot = self
            .provider
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = slot.as_mut() {
            *old = Box::new(hooks);
        }
        OAuthFairing {
            provider: Mutex::new(slot),
            name: self.name,
        }
    }
}

/// The protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum Protocol {
    /// OAuth 2.0 authorization code grant (with PKCE unless disabled).
    #[serde(rename = "oauth2")]
    OAuth2,
    /// OpenID Connect on top of it: endpoints from discovery, a validated ID token.
    #[serde(rename = "oidc")]
    OpenIdConnect,
    /// OAuth 1.0a (RFC 5849): temporary credentials, then signed token credentials.
    #[serde(rename = "oauth1")]
    OAuth1,
}

impl Protocol {
    /// The protocol's configuration value: `oauth2`, `oidc` or `oauth1`.
    pub const fn key(self) -> &'static str {
        match self {
            Protocol::OAuth2 => "oauth2",
            Protocol::OpenIdConnect => "oidc",
            Protocol::OAuth1 => "oauth1",
        }
    }

    /// The protocol's name, e.g. `OpenID Connect`.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::OAuth2 => "OAuth 2",
            Protocol::OpenIdConnect => "OpenID Connect",
            Protocol::OAuth1 => "OAuth 1.0a",
        }
    }
}

/// A provider's defaults, as given by its attributes (or a hand-written [`Provider`]).
///
/// Built with [`ProviderDefaults::oauth2`] and the builder methods; every value is only a
/// default, and the configuration under `oauth.<name>` wins.
///
/// ```rust
/// use rocket_oauth::ProviderDefaults;
/// use rocket_oauth::config::ClientAuth;
///
/// let defaults = ProviderDefaults::oauth2(
///     "https://github.com/login/oauth/authorize",
///     "https://github.com/login/oauth/access_token",
/// )
/// .userinfo_url("https://api.github.com/user")
/// .issuer("https://github.com/login/oauth")
/// .scopes(&["read:user", "user:email"])
/// .client_auth(ClientAuth::ClientSecretPost);
/// ```
///
/// It serialises (e.g. to JSON) as the table of its values, URL templates left as they are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderDefaults {
    pub(crate) protocol: Protocol,
    pub(crate) issuer: Option<&'static str>,
    pub(crate) authorize_url: Option<&'static str>,
    pub(crate) token_url: Option<&'static str>,
    pub(crate) userinfo_url: Option<&'static str>,
    pub(crate) scopes: &'static [&'static str],
    pub(crate) pkce: bool,
    pub(crate) client_auth: ClientAuth,
    pub(crate) revocation_url: Option<&'static str>,
    pub(crate) confirm: bool,
    pub(crate) form_post: bool,
    pub(crate) request_token_url: Option<&'static str>,
    pub(crate) access_token_url: Option<&'static str>,
    pub(crate) api_base_url: Option<&'static str>,
    pub(crate) discovery_url: Option<&'static str>,
    pub(crate) require_nonce: Option<bool>,
    pub(crate) auth_params: &'static [(&'static str, &'static str)],
    pub(crate) placeholders: &'static [(&'static str, &'static str)],
    pub(crate) display_name: Option<&'static str>,
}

impl ProviderDefaults {
    /// Defaults for an OAuth 2.0 provider with these authorization and token endpoints. PKCE
    /// is on, confirmation off, `client_secret_basic` authentication, no scopes.
    pub const fn oauth2(authorize_url: &'static str, token_url: &'static str) -> Self {
        ProviderDefaults {
            protocol: Protocol::OAuth2,
            authorize_url: Some(authorize_url),
            token_url: Some(token_url),
            userinfo_url: None,
            issuer: None,
            scopes: &[],
            confirm: false,
            pkce: true,
            client_auth: ClientAuth::ClientSecretBasic,
            form_post: false,
            request_token_url: None,
            access_token_url: None,
            revocation_url: None,
            api_base_url: None,
            discovery_url: None,
            require_nonce: None,
            auth_params: &[],
            placeholders: &[],
            display_name: None,
        }
    }

    /// No endpoints, no scopes: a [listed](crate::Listed) provider's configuration gives
    /// them all.
    pub(crate) const fn bare(protocol: Protocol) -> Self {
        let mut defaults = Self::oauth2("", "");
        defaults.protocol = protocol;
        defaults.authorize_url = None;
        defaults.token_url = None;
        defaults
    }

    /// Defaults for an OAuth 1.0a provider with these endpoints: temporary credentials
    /// (`request_token_url`), the user's authorization (`authorize_url`) and token
    /// credentials (`access_token_url`). Keys come from `consumer_key` and `consumer_secret`
    /// under `oauth.<name>`; requests are signed with HMAC-SHA1 unless configured otherwise.
    ///
    /// ```rust
    /// use rocket_oauth::ProviderDefaults;
    ///
    /// let trello = ProviderDefaults::oauth1(
    ///     "https://trello.com/1/OAuthGetRequestToken",
    ///     "https://trello.com/1/OAuthAuthorizeToken",
    ///     "https://trello.com/1/OAuthGetAccessToken",
    /// )
    /// .userinfo_url("https://api.trello.com/1/members/me");
    /// ```
    pub const fn oauth1(
        request_token_url: &'static str,
        authorize_url: &'static str,
        access_token_url: &'static str,
    ) -> Self {
        let mut defaults = Self::oauth2_from_config();
        defaults.protocol = Protocol::OAuth1;
        defaults.request_token_url = Some(request_token_url);
        defaults.authorize_url = Some(authorize_url);
        defaults.access_token_url = Some(access_token_url);
        defaults
    }

    /// Defaults for an OAuth 1.0a provider whose endpoints all come from configuration.
    pub const fn oauth1_from_config() -> Self {
        let mut defaults = Self::oauth2_from_config();
        defaults.protocol = Protocol::OAuth1;
        defaults
    }

    /// Defaults for an OAuth 2.0 provider whose endpoints come only from configuration
    /// (`authorize_url` and `token_url` under `oauth.<name>` are then required): a
    /// self-hosted identity provider, or one that differs per deployment.
    ///
    /// ```rust
    /// use rocket_oauth::ProviderDefaults;
    ///
    /// let defaults = ProviderDefaults::oauth2_from_config().scopes(&["openid"]);
    /// ```
    pub const fn oauth2_from_config() -> Self {
        let mut defaults = Self::oauth2("", "");
        defaults.authorize_url = None;
        defaults.token_url = None;
        defaults
    }

    /// Defaults for an OpenID Connect provider: endpoints and keys are discovered from
    /// `<issuer>/.well-known/openid-configuration` (each endpoint can still be overridden in
    /// configuration), the `openid` scope is always requested, and every login's ID token is
    /// validated.
    ///
    /// ```rust
    /// use rocket_oauth::ProviderDefaults;
    ///
    /// let google = ProviderDefaults::oidc("https://accounts.google.com").scopes(&["email", "profile"]);
    /// ```
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub const fn oidc(issuer: &'static str) -> Self {
        let mut defaults = Self::oidc_from_config();
        defaults.issuer = Some(issuer);
        defaults
    }

    /// Defaults for an OpenID Connect provider whose issuer comes only from configuration
    /// (`issuer` under `oauth.<name>` is then required).
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub const fn oidc_from_config() -> Self {
        let mut defaults = Self::oauth2_from_config();
        defaults.protocol = Protocol::OpenIdConnect;
        defaults
    }

    /// The authorization endpoint (for OpenID Connect, instead of the discovered one).
    pub const fn authorize_url(mut self, url: &'static str) -> Self {
        self.authorize_url = Some(url);
        self
    }

    /// The token endpoint (for OpenID Connect, instead of the discovered one).
    pub const fn token_url(mut self, url: &'static str) -> Self {
        self.token_url = Some(url);
        self
    }

    /// The endpoint that returns the logged-in user's profile as JSON, fetched once at login.
    pub const fn userinfo_url(mut self, url: &'static str) -> Self {
        self.userinfo_url = Some(url);
        self
    }

    /// The provider's issuer identifier. When set, an RFC 9207 `iss` callback parameter must
    /// equal it; when unset, `iss` is ignored.
    pub const fn issuer(mut self, issuer: &'static str) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// The scopes requested at login.
    pub const fn scopes(mut self, scopes: &'static [&'static str]) -> Self {
        self.scopes = scopes;
        self
    }

    /// Whether `GET login` shows a confirmation page whose CSRF-protected POST starts the
    /// login (the defence against login CSRF).
    pub const fn confirm(mut self, confirm: bool) -> Self {
        self.confirm = confirm;
        self
    }

    /// Whether PKCE (S256) is used. On by default; turn off only for providers that reject
    /// it (LinkedIn web apps).
    pub const fn pkce(mut self, pkce: bool) -> Self {
        self.pkce = pkce;
        self
    }

    /// How the client authenticates at the token endpoint.
    pub const fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Whether the provider returns with `response_mode=form_post` (a cross-site POST, as
    /// Apple does). The login-attempt cookie is then `SameSite=None; Secure`.
    pub const fn form_post(mut self, form_post: bool) -> Self {
        self.form_post = form_post;
        self
    }

    /// The RFC 7009 revocation endpoint: logout revokes the tokens there.
    pub const fn revocation_url(mut self, url: &'static str) -> Self {
        self.revocation_url = Some(url);
        self
    }

    /// The base of relative URLs given to [`ApiClient`](crate::ApiClient) (e.g.
    /// `https://api.github.com/`).
    pub const fn api_base_url(mut self, url: &'static str) -> Self {
        self.api_base_url = Some(url);
        self
    }

    /// OpenID Connect: where the discovery document is, when not under the issuer (a
    /// `{tenantid}` issuer).
    pub const fn discovery_url(mut self, url: &'static str) -> Self {
        self.discovery_url = Some(url);
        self
    }

    /// OpenID Connect: whether ID tokens must carry a `nonce` (`false` for providers that
    /// never send one, as LinkedIn).
    pub const fn require_nonce(mut self, require: bool) -> Self {
        self.require_nonce = Some(require);
        self
    }

    /// Extra authorization URL parameters (e.g. Atlassian's `audience`).
    pub const fn auth_params(mut self, params: &'static [(&'static str, &'static str)]) -> Self {
        self.auth_params = params;
        self
    }

    /// Placeholders in this provider's URLs, with their default values (`""`: none, the key
    /// is then required). A URL default may hold `{base_url}`, `{tenant}`, `{realm}`,
    /// `{domain}` or `{graph_version}`; the key of the same name under `oauth.<name>` fills
    /// it (e.g. a GitHub Enterprise host, a Microsoft tenant).
    ///
    /// ```rust
    /// use rocket_oauth::ProviderDefaults;
    ///
    /// // `oauth.<name>.domain = "dev-123.us.auth0.com"` is then required.
    /// let auth0 = ProviderDefaults::oauth2("https://{domain}/authorize", "https://{domain}/oauth/token")
    ///     .placeholders(&[("domain", "")]);
    /// ```
    pub const fn placeholders(
        mut self,
        placeholders: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.placeholders = placeholders;
        self
    }

    /// The name shown to users (the sign-in page's button, ...), e.g. `GitHub`.
    /// _Default:_ the provider's `NAME`.
    pub const fn display_name(mut self, name: &'static str) -> Self {
        self.display_name = Some(name);
        self
    }

    /// The protocol.
    pub const fn protocol(&self) -> Protocol {
        self.protocol
    }
}
