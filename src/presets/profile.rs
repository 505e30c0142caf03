//! How a preset reads its provider's profile, and the macro that makes a preset.

use serde_json::Value;

use super::fields::{Extra, Profile, Verified};

use crate::error::{ApiError, HttpError};
use crate::{ApiClient, Denial, Identity, Login, ProviderDefaults};

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
    api: &ApiClient<'_>,
) -> Result<Option<Identity>, Denial> {
    if let Extra::UpworkGraphql = profile.extra {
        return upwork(api).await.map(Some);
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
            if let Some(Value::Array(emails)) = get_json(api, "user/emails").await {
                let primary = emails.iter().find(|e| e["primary"] == true);
                identity.email = primary.and_then(|e| text(e.get("email")));
                identity.email_verified = primary.is_some_and(|e| e["verified"] == true);
            }
        }
        Extra::BitbucketEmails => {
            if let Some(answer) = get_json(api, "user/emails").await {
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

/// `GET url`'s JSON answer, if 2xx; none on any error (a missing scope must not block the
/// login).
async fn get_json(api: &ApiClient<'_>, url: &str) -> Option<Value> {
    let response = api.get(url).await.ok()?;
    response.is_success().then(|| response.json().ok())?
}

/// One GraphQL query (with the tenant's header); GraphQL `errors` (HTTP 200) refuse the
/// login: access by team must fail closed.
async fn graphql(api: &ApiClient<'_>, tenant: Option<&str>, query: &str) -> Result<Value, Denial> {
    let answer = match tenant {
        Some(tenant) => {
            let api = api.clone().with_header("X-Upwork-API-TenantId", tenant);
            api.graphql("graphql", query, Value::Null).await
        }
        None => api.graphql("graphql", query, Value::Null).await,
    };
    answer.map_err(|e| match e {
        // Upwork refused the token or the query: no login.
        ApiError::GraphQl(errors) => {
            let message = errors[0]["message"].as_str().unwrap_or("an error");
            Denial::forbidden(format!("Upwork's API answered: {message}"))
        }
        ApiError::Unauthorized => Denial::forbidden("Upwork's API refused the request (401)"),
        ApiError::Http(HttpError::Status(status)) if (400..500).contains(&status) => {
            Denial::forbidden(format!("Upwork's API refused the request ({status})"))
        }
        // Upwork is down or answers garbage: the provider is unavailable.
        e => Denial::unavailable(format!("Upwork's API failed: {e}")),
    })
}

/// Upwork (oDesk): the user, and as groups every company and team they belong to, each
/// under all of its ids (`id`, `rid`, `legacyId`), so an allowlist in any form matches.
async fn upwork(api: &ApiClient<'_>) -> Result<Identity, Denial> {
    let me = graphql(
        api,
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

/// What a preset's kind provides: its name, defaults and profile (only this crate's presets
/// have one).
pub(crate) trait Kind: Send + Sync + 'static {
    /// The provider's name.
    const NAME: &'static str;
    /// Its defaults.
    fn defaults() -> ProviderDefaults;
    /// Where the identity is in its profile.
    fn profile() -> Profile;
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
                let defaults: $crate::ProviderDefaults = $defaults;
                match defaults.display_name {
                    Some(_) => defaults,
                    None => defaults.display_name(stringify!($ty)),
                }
            }

            fn profile() -> $crate::presets::fields::Profile {
                $profile
            }
        }
    };
}

/// Makes a preset: a unit struct that is a [`Provider`](crate::Provider) with its kind's
/// name, defaults and profile, and an inherent `fairing()`.
macro_rules! alias {
    (
        $(#[$doc:meta])*
        $([$feature:literal])?
        $ty:ident
    ) => {
        $(#[$doc])*
        $(#[cfg(feature = $feature)])?
        $(#[cfg_attr(docsrs, doc(cfg(feature = $feature)))])?
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $ty;

        $(#[cfg(feature = $feature)])?
        #[rocket::async_trait]
        impl $crate::Provider for $ty {
            const NAME: &'static str = <kinds::$ty as $crate::presets::profile::Kind>::NAME;

            fn defaults() -> $crate::ProviderDefaults {
                <kinds::$ty as $crate::presets::profile::Kind>::defaults()
            }

            async fn identify(
                &self,
                login: &$crate::Login,
                api: &$crate::ApiClient<'_>,
            ) -> Result<Option<$crate::Identity>, $crate::Denial> {
                let profile = <kinds::$ty as $crate::presets::profile::Kind>::profile();
                $crate::presets::profile::identify(&profile, login, api).await
            }
        }

        #[cfg(feature = "testing")]
        $(#[cfg(feature = $feature)])?
        impl $crate::testing::Preset for $ty {
            fn play(mock: &$crate::testing::MockProvider) {
                let profile = <kinds::$ty as $crate::presets::profile::Kind>::profile();
                $crate::presets::mock::play(mock, &profile);
            }
        }

        $(#[cfg(feature = $feature)])?
        impl $ty {
            /// The fairing of this preset: attach it to mount its routes and enable its
            /// guards; give the application's hooks with
            /// [`OAuthFairing::hooks`]($crate::OAuthFairing::hooks).
            pub fn fairing(self) -> $crate::OAuthFairing<Self> {
                $crate::OAuthFairing::new(self)
            }
        }
    };
}

pub(crate) use {alias, preset};
