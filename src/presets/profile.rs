//! How a preset reads its provider's profile, and the macro that makes a preset.

use std::marker::PhantomData;

use rocket::Request;
use serde_json::Value;

use crate::{
    Api, Denial, Hooks, HttpError, Identity, Login, OAuthFairing, Provider, ProviderDefaults,
    SessionData,
};

/// A preset without hooks of the app's own: the defaults.
///
/// ```rust
/// use rocket_oauth::presets::{GitHub, NoHooks};
///
/// let github: GitHub<NoHooks> = GitHub::new();
/// # let _ = github;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// How a provider says an email is verified.
#[derive(Clone, Copy)]
pub enum Verified {
    /// A field (JSON pointer) that is `true`, `"true"` or `1`.
    Field(&'static str),
    /// The provider only ever gives verified emails under this field.
    Always,
    /// The provider never verifies: the email never counts for access rules.
    Never,
}

/// A further call some providers need to tell who the user is.
#[derive(Clone, Copy)]
pub enum Extra {
    None,
    /// GitHub: the primary email, if verified, from `GET user/emails`.
    GitHubEmails,
    /// Bitbucket: the primary email, if confirmed, from `GET user/emails`.
    BitbucketEmails,
    /// Microsoft: the subject is `<tid>/<oid>` (`sub` is pairwise per application).
    MicrosoftObjectId,
    /// Upwork: the user, their companies and teams from the GraphQL API.
    UpworkGraphql,
}

/// Where the identity is in a provider's profile (JSON pointers into the userinfo).
#[derive(Clone, Copy)]
pub struct Profile {
    pub id: &'static [&'static str],
    pub email: Option<&'static str>,
    pub verified: Verified,
    pub name: &'static [&'static str],
    pub picture: Option<&'static str>,
    pub extra: Extra,
}

impl Profile {
    /// OpenID Connect claims: `sub`, `email` with `email_verified`, `name`, `picture`.
    pub const CLAIMS: Profile = Profile {
        id: &["/sub"],
        email: Some("/email"),
        verified: Verified::Field("/email_verified"),
        name: &["/name", "/preferred_username"],
        picture: Some("/picture"),
        extra: Extra::None,
    };
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn first(profile: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| text(profile.pointer(p)))
}

/// The identity a preset reads from `login`, with its provider's further calls.
pub(crate) async fn identify(
    profile: &Profile,
    login: &Login,
    api: &Api<'_>,
) -> Result<Option<Identity>, Denial> {
    let token = login.credentials().access_token();
    if let Extra::UpworkGraphql = profile.extra {
        return upwork(api, token).await.map(Some);
    }
    let Some(info) = login.userinfo() else {
        return Ok(None);
    };
    let Some(mut subject) = first(info, profile.id) else {
        return Err(Denial::forbidden("the provider did not say who you are"));
    };
    if let Extra::MicrosoftObjectId = profile.extra {
        if let (Some(tid), Some(oid)) = (text(info.get("tid")), text(info.get("oid"))) {
            subject = format!("{tid}/{oid}");
        }
    }
    let mut identity = Identity::new(subject);
    let email = profile.email.and_then(|p| text(info.pointer(p)));
    if let Some(email) = email {
        let verified = match profile.verified {
            Verified::Field(p) => truthy(info.pointer(p)),
            Verified::Always => true,
            Verified::Never => false,
        };
        identity = identity.with_email(email, verified);
    }
    if let Some(name) = first(info, profile.name) {
        identity = identity.with_name(name);
    }
    if let Some(picture) = profile.picture.and_then(|p| text(info.pointer(p))) {
        identity = identity.with_picture(picture);
    }
    if let Some(Value::Array(groups)) = info.get("groups") {
        identity = identity.with_groups(groups.iter().filter_map(|g| text(Some(g))));
    }
    match profile.extra {
        Extra::GitHubEmails => {
            // Only the primary email, and only if GitHub verified it; none on any error (a
            // missing scope must not block the login).
            if let Ok(Value::Array(emails)) = api.get_json("user/emails", token).await {
                let primary = emails.iter().find(|e| e["primary"] == true);
                identity.email = primary.and_then(|e| text(e.get("email")));
                identity.email_verified = primary.is_some_and(|e| e["verified"] == true);
            }
        }
        Extra::BitbucketEmails => {
            if let Ok(answer) = api.get_json("user/emails", token).await {
                let values = answer["values"].as_array().cloned().unwrap_or_default();
                let primary = values.iter().find(|e| e["is_primary"] == true);
                identity.email = primary.and_then(|e| text(e.get("email")));
                identity.email_verified = primary.is_some_and(|e| e["is_confirmed"] == true);
            }
        }
        _ => {}
    }
    Ok(Some(identity))
}

/// One GraphQL query; GraphQL `errors` (HTTP 200) refuse the login: access by team must
/// fail closed.
async fn graphql(
    api: &Api<'_>,
    token: &str,
    tenant: Option<&str>,
    query: &str,
) -> Result<Value, Denial> {
    let headers: Vec<(&str, &str)> = tenant
        .map(|t| vec![("X-Upwork-API-TenantId", t)])
        .unwrap_or_default();
    let body = serde_json::json!({ "query": query });
    let answer = api
        .send_json("POST", "graphql", token, &headers, Some(&body))
        .await
        .map_err(|e| match e {
            // Upwork refused the token: no login.
            HttpError::Status(status) if (400..500).contains(&status) => {
                Denial::forbidden(format!("Upwork's API refused the request ({status})"))
            }
            // Upwork is down or answers garbage: the provider is unavailable.
            e => Denial::unavailable(format!("Upwork's API failed: {e}")),
        })?;
    if let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) {
        let message = errors[0]["message"].as_str().unwrap_or("an error");
        return Err(Denial::forbidden(format!(
            "Upwork's API answered: {message}"
        )));
    }
    Ok(answer["data"].clone())
}

/// Upwork (oDesk): the user, and as groups every company and team they belong to, each
/// under all of its ids (`id`, `rid`, `legacyId`), so an allowlist in any form matches.
async fn upwork(api: &Api<'_>, token: &str) -> Result<Identity, Denial> {
    let me = graphql(
        api,
        token,
        None,
        "query { user { id nid rid email name } organization { id name } }",
    )
    .await?;
    let Some(id) = text(me.pointer("/user/id")) else {
        return Err(Denial::forbidden("Upwork did not say who you are"));
    };
    let mut identity = Identity::new(id);
    if let Some(email) = text(me.pointer("/user/email")) {
        // Upwork has no verified flag.
        identity = identity.with_email(email, false);
    }
    if let Some(name) = text(me.pointer("/user/name")) {
        identity = identity.with_name(name);
    }
    let companies = graphql(
        api,
        token,
        None,
        "query { companySelector { items { title organizationId organizationRid organizationType } } }",
    )
    .await?;
    let mut groups = Vec::new();
    let items = companies
        .pointer("/companySelector/items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in items {
        let Some(org) = text(item.get("organizationId")) else {
            continue;
        };
        groups.extend(text(item.get("organizationRid")));
        let teams = graphql(
            api,
            token,
            Some(&org),
            "query { organization { id rid legacyId name childOrganizations { id rid legacyId name active hidden } } }",
        )
        .await?;
        let children = teams
            .pointer("/organization/childOrganizations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for team in children {
            for field in ["id", "rid", "legacyId"] {
                groups.extend(text(team.get(field)));
            }
        }
        groups.push(org);
    }
    groups.sort();
    groups.dedup();
    Ok(identity.with_groups(groups))
}

/// What a preset kind provides: its name, defaults and profile (sealed: only this crate's
/// presets implement it).
///
/// ```rust
/// use rocket_oauth::presets::{kinds, Kind};
///
/// assert_eq!(<kinds::GitHub as Kind>::NAME, "github");
/// let defaults = <kinds::GitHub as Kind>::defaults();
/// # let _ = defaults;
/// ```
pub trait Kind: Send + Sync + 'static {
    /// The provider's name.
    const NAME: &'static str;
    /// Its defaults.
    fn defaults() -> ProviderDefaults;
    /// Where the identity is in its profile.
    #[doc(hidden)]
    fn profile() -> Profile;
}

/// A preset: provider kind `K` (e.g. [`kinds::GitHub`](super::kinds::GitHub)), running the
/// app's hooks `H` (all but `identify`, which is the preset's). Use it through the aliases:
/// [`GitHub`](super::GitHub), [`Google`](super::Google), ...
///
/// ```rust
/// use rocket_oauth::presets::{GitHub, NoHooks};
/// use rocket_oauth::Hooks;
///
/// struct Audit;
/// impl Hooks for Audit {}
///
/// let plain = GitHub::new().fairing();
/// let audited = GitHub::with_hooks(Audit).fairing(); // guards: User<GitHub<Audit>>
/// # let _ = (plain, audited);
/// ```
pub struct Preset<K, H = NoHooks> {
    hooks: H,
    kind: PhantomData<fn() -> K>,
}

impl<K> Preset<K, NoHooks> {
    /// The preset with the default hooks.
    pub const fn new() -> Self {
        Preset {
            hooks: NoHooks,
            kind: PhantomData,
        }
    }

    /// The preset, running the app's `hooks` (all but `identify`).
    pub fn with_hooks<H: Hooks>(hooks: H) -> Preset<K, H> {
        Preset {
            hooks,
            kind: PhantomData,
        }
    }
}

impl<K> Default for Preset<K, NoHooks> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Kind, H: Hooks> Preset<K, H> {
    /// The fairing: attach it to mount the routes and enable the guards.
    pub fn fairing(self) -> OAuthFairing<Self> {
        OAuthFairing::new(self)
    }
}

impl<K: Kind, H> std::fmt::Debug for Preset<K, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Preset").field(&K::NAME).finish()
    }
}

impl<K: Kind, H: Hooks> Provider for Preset<K, H> {
    const NAME: &'static str = K::NAME;

    fn defaults() -> ProviderDefaults {
        K::defaults()
    }
}

#[rocket::async_trait]
impl<K: Kind, H: Hooks> Hooks for Preset<K, H> {
    async fn identify(&self, login: &Login, api: &Api<'_>) -> Result<Option<Identity>, Denial> {
        identify(&K::profile(), login, api).await
    }

    async fn after_login(&self, login: &Login, request: &Request<'_>) -> Result<(), Denial> {
        self.hooks.after_login(login, request).await
    }

    async fn session_data(
        &self,
        login: &Login,
        request: &Request<'_>,
    ) -> Result<Option<SessionData>, Denial> {
        self.hooks.session_data(login, request).await
    }

    async fn on_token_update(&self, old: &Login, new: &Login) {
        self.hooks.on_token_update(old, new).await
    }

    async fn after_logout(&self, login: Option<&Login>, request: &Request<'_>) {
        self.hooks.after_logout(login, request).await
    }
}

/// Makes a preset's kind (in `kinds`).
macro_rules! preset {
    (
        $([$feature:literal])?
        $ty:ident = $name:literal, $profile:expr, $defaults:expr
    ) => {
        $(#[cfg(feature = $feature)])?
        #[doc = concat!("The kind of the [`", stringify!($ty), "`](super::", stringify!($ty), ") preset.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        $(#[cfg(feature = $feature)])?
        impl $crate::presets::profile::Kind for $ty {
            const NAME: &'static str = $name;

            fn defaults() -> $crate::ProviderDefaults {
                $defaults.display_name(stringify!($ty))
            }

            fn profile() -> $crate::presets::profile::Profile {
                $profile
            }
        }
    };
}

/// Makes a preset's alias: `Preset<kinds::X, H>`.
macro_rules! alias {
    (
        $(#[$doc:meta])*
        $([$feature:literal])?
        $ty:ident
    ) => {
        $(#[$doc])*
        $(#[cfg(feature = $feature)])?
        $(#[cfg_attr(docsrs, doc(cfg(feature = $feature)))])?
        pub type $ty<H = $crate::presets::NoHooks> = $crate::presets::Preset<kinds::$ty, H>;
    };
}

pub(crate) use {alias, preset};
