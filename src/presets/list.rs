//! The presets. Sources for each provider's data: `shared/PROVIDERS.md` and the providers'
//! documentation (see the README's table of presets).

use super::profile::alias;
use crate::ProviderDefaults;

/// The kinds of the presets: each one's data (the presets themselves are the unit structs
/// beside this module, e.g. [`GitHub`](super::GitHub)).
pub(crate) mod kinds {
    use crate::config::ClientAuth;
    use crate::presets::fields::{Extra, Profile, Verified};
    use crate::presets::profile::preset;
    use crate::ProviderDefaults;

    /// A profile whose user id, email and name are top-level fields.
    const fn fields(
        id: &'static [&'static str],
        email: Option<&'static str>,
        verified: Verified,
        name: &'static [&'static str],
        picture: Option<&'static str>,
    ) -> Profile {
        Profile {
            id,
            email,
            verified,
            name,
            picture,
            extra: Extra::None,
        }
    }

    const fn with_extra(profile: Profile, extra: Extra) -> Profile {
        Profile { extra, ..profile }
    }

    preset! {
        GitHub = "github",
        with_extra(
            fields(&["/id"], Some("/email"), Verified::Never, &["/name", "/login"], Some("/avatar_url")),
            Extra::GitHubEmails
        ),
        ProviderDefaults::oauth2("{base_url}/login/oauth/authorize", "{base_url}/login/oauth/access_token")
            .placeholders(&[("base_url", "https://github.com")])
            .userinfo_url("https://api.github.com/user")
            .api_base_url("https://api.github.com/")
            .scopes(&["read:user", "user:email"])
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
    ["oidc"]
        GitLab = "gitlab",
        Profile::CLAIMS,
        ProviderDefaults::oidc("{base_url}")
            .placeholders(&[("base_url", "https://gitlab.com")])
            .authorize_url("{base_url}/oauth/authorize")
            .token_url("{base_url}/oauth/token")
            .userinfo_url("{base_url}/oauth/userinfo")
            .revocation_url("{base_url}/oauth/revoke")
            .scopes(&["profile", "email"])
            .api_base_url("{base_url}/api/v4/")
    }

    preset! {
    ["oidc"]
        Google = "google",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://accounts.google.com")
            .authorize_url("https://accounts.google.com/o/oauth2/v2/auth")
            .token_url("https://oauth2.googleapis.com/token")
            .userinfo_url("https://openidconnect.googleapis.com/v1/userinfo")
            .revocation_url("https://oauth2.googleapis.com/revoke")
            .scopes(&["email", "profile"])
    }

    preset! {
    ["oidc"]
        Microsoft = "microsoft",
        with_extra(
            Profile { verified: Verified::Never, ..Profile::CLAIMS },
            Extra::MicrosoftObjectId
        ),
        ProviderDefaults::oidc("https://login.microsoftonline.com/{tenantid}/v2.0")
            .placeholders(&[("tenant", "common")])
            .discovery_url("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration")
            .authorize_url("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize")
            .token_url("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
            .userinfo_url("https://graph.microsoft.com/oidc/userinfo")
            .scopes(&["profile", "email", "offline_access"])
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
    ["oidc"]
        Apple = "apple",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://appleid.apple.com")
            .authorize_url("https://appleid.apple.com/auth/authorize")
            .token_url("https://appleid.apple.com/auth/token")
            .revocation_url("https://appleid.apple.com/auth/revoke")
            .scopes(&["name", "email"])
            .form_post(true)
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
        Discord = "discord",
        fields(&["/id"], Some("/email"), Verified::Field("/verified"), &["/global_name", "/username"], None),
        ProviderDefaults::oauth2("https://discord.com/oauth2/authorize", "https://discord.com/api/oauth2/token")
            .userinfo_url("https://discord.com/api/users/@me")
            .api_base_url("https://discord.com/api/")
            .revocation_url("https://discord.com/api/oauth2/token/revoke")
            .scopes(&["identify", "email"])
    }

    preset! {
    ["oidc"]
        Slack = "slack",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://slack.com")
            .authorize_url("https://slack.com/openid/connect/authorize")
            .token_url("https://slack.com/api/openid.connect.token")
            .userinfo_url("https://slack.com/api/openid.connect.userInfo")
            .scopes(&["email", "profile"])
            .pkce(false)
            .client_auth(ClientAuth::ClientSecretPost)
            .api_base_url("https://slack.com/api/")
    }

    preset! {
    ["oidc"]
        LinkedIn = "linkedin",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://www.linkedin.com/oauth")
            .authorize_url("https://www.linkedin.com/oauth/v2/authorization")
            .token_url("https://www.linkedin.com/oauth/v2/accessToken")
            .userinfo_url("https://api.linkedin.com/v2/userinfo")
            .revocation_url("https://www.linkedin.com/oauth/v2/revoke")
            .scopes(&["profile", "email"])
            .require_nonce(false)
            .pkce(false)
            .client_auth(ClientAuth::ClientSecretPost)
            .api_base_url("https://api.linkedin.com/")
    }

    preset! {
        Facebook = "facebook",
        fields(&["/id"], Some("/email"), Verified::Never, &["/name"], Some("/picture/data/url")),
        ProviderDefaults::oauth2(
            "https://www.facebook.com/{graph_version}/dialog/oauth",
            "https://graph.facebook.com/{graph_version}/oauth/access_token",
        )
        .placeholders(&[("graph_version", "v26.0")])
        .userinfo_url("https://graph.facebook.com/{graph_version}/me?fields=id,name,email,picture")
        .api_base_url("https://graph.facebook.com/{graph_version}/")
        .scopes(&["email", "public_profile"])
        .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
        X = "x",
        fields(&["/data/id"], Some("/data/confirmed_email"), Verified::Always, &["/data/name", "/data/username"], Some("/data/profile_image_url")),
        ProviderDefaults::oauth2("https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token")
            .userinfo_url("https://api.x.com/2/users/me?user.fields=confirmed_email,profile_image_url")
            .api_base_url("https://api.x.com/2/")
            .revocation_url("https://api.x.com/2/oauth2/revoke")
            .scopes(&["users.read", "tweet.read", "users.email", "offline.access"])
    }

    preset! {
    ["oidc"]
        Twitch = "twitch",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://id.twitch.tv/oauth2")
            .authorize_url("https://id.twitch.tv/oauth2/authorize")
            .token_url("https://id.twitch.tv/oauth2/token")
            .userinfo_url("https://id.twitch.tv/oauth2/userinfo")
            .revocation_url("https://id.twitch.tv/oauth2/revoke")
            .scopes(&["user:read:email"])
            .auth_params(&[(
                "claims",
                r#"{"id_token":{"email":null,"email_verified":null,"preferred_username":null},"userinfo":{"email":null,"email_verified":null,"preferred_username":null,"picture":null}}"#,
            )])
            .client_auth(ClientAuth::ClientSecretPost)
            .api_base_url("https://api.twitch.tv/helix/")
    }

    preset! {
        Spotify = "spotify",
        fields(&["/account_id", "/id"], Some("/email"), Verified::Never, &["/display_name"], Some("/images/0/url")),
        ProviderDefaults::oauth2("https://accounts.spotify.com/authorize", "https://accounts.spotify.com/api/token")
            .userinfo_url("https://api.spotify.com/v1/me")
            .api_base_url("https://api.spotify.com/v1/")
            .scopes(&["user-read-email", "user-read-private"])
    }

    preset! {
    ["oidc"]
        Keycloak = "keycloak",
        Profile::CLAIMS,
        ProviderDefaults::oidc("{base_url}/realms/{realm}")
            .placeholders(&[("base_url", ""), ("realm", "")])
            .authorize_url("{base_url}/realms/{realm}/protocol/openid-connect/auth")
            .token_url("{base_url}/realms/{realm}/protocol/openid-connect/token")
            .userinfo_url("{base_url}/realms/{realm}/protocol/openid-connect/userinfo")
            .revocation_url("{base_url}/realms/{realm}/protocol/openid-connect/revoke")
            .scopes(&["email", "profile"])
    }

    preset! {
    ["oidc"]
        Auth0 = "auth0",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://{domain}/")
            .placeholders(&[("domain", "")])
            .authorize_url("https://{domain}/authorize")
            .token_url("https://{domain}/oauth/token")
            .userinfo_url("https://{domain}/userinfo")
            .revocation_url("https://{domain}/oauth/revoke")
            .scopes(&["email", "profile"])
    }

    preset! {
    ["oidc"]
        Okta = "okta",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://{domain}/oauth2/default")
            .placeholders(&[("domain", "")])
            .authorize_url("https://{domain}/oauth2/default/v1/authorize")
            .token_url("https://{domain}/oauth2/default/v1/token")
            .userinfo_url("https://{domain}/oauth2/default/v1/userinfo")
            .revocation_url("https://{domain}/oauth2/default/v1/revoke")
            .scopes(&["email", "profile"])
    }

    preset! {
        Upwork = "upwork",
        with_extra(
            fields(&["/id"], None, Verified::Never, &[], None),
            Extra::UpworkGraphql
        ),
        ProviderDefaults::oauth2(
            "https://www.upwork.com/ab/account-security/oauth2/authorize",
            "https://www.upwork.com/api/v3/oauth2/token",
        )
        .api_base_url("https://api.upwork.com/")
        .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
        Amazon = "amazon",
        fields(&["/user_id"], Some("/email"), Verified::Never, &["/name"], None),
        ProviderDefaults::oauth2("https://www.amazon.com/ap/oa", "https://api.amazon.com/auth/o2/token")
            .userinfo_url("https://api.amazon.com/user/profile")
            .api_base_url("https://api.amazon.com/")
            .scopes(&["profile"])
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
        Bitbucket = "bitbucket",
        with_extra(
            fields(&["/uuid", "/account_id"], None, Verified::Never, &["/display_name", "/username"], Some("/links/avatar/href")),
            Extra::BitbucketEmails
        ),
        ProviderDefaults::oauth2("https://bitbucket.org/site/oauth2/authorize", "https://bitbucket.org/site/oauth2/access_token")
            .userinfo_url("https://api.bitbucket.org/2.0/user")
            .api_base_url("https://api.bitbucket.org/2.0/")
            .scopes(&["account", "email"])
    }

    preset! {
        Atlassian = "atlassian",
        fields(&["/account_id"], Some("/email"), Verified::Field("/email_verified"), &["/name", "/nickname"], Some("/picture")),
        ProviderDefaults::oauth2("https://auth.atlassian.com/authorize", "https://auth.atlassian.com/oauth/token")
            .userinfo_url("https://api.atlassian.com/me")
            .api_base_url("https://api.atlassian.com/")
            .scopes(&["read:me", "read:account", "offline_access"])
            .auth_params(&[("audience", "api.atlassian.com"), ("prompt", "consent")])
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
        Reddit = "reddit",
        fields(&["/id"], None, Verified::Never, &["/name"], Some("/icon_img")),
        ProviderDefaults::oauth2("https://www.reddit.com/api/v1/authorize", "https://www.reddit.com/api/v1/access_token")
            .userinfo_url("https://oauth.reddit.com/api/v1/me")
            .api_base_url("https://oauth.reddit.com/")
            .revocation_url("https://www.reddit.com/api/v1/revoke_token")
            .scopes(&["identity"])
            .auth_params(&[("duration", "permanent")])
    }

    preset! {
        Zoom = "zoom",
        fields(&["/id"], Some("/email"), Verified::Field("/verified"), &["/display_name", "/first_name"], Some("/pic_url")),
        ProviderDefaults::oauth2("https://zoom.us/oauth/authorize", "https://zoom.us/oauth/token")
            .userinfo_url("https://api.zoom.us/v2/users/me")
            .api_base_url("https://api.zoom.us/v2/")
            .revocation_url("https://zoom.us/oauth/revoke")
    }

    preset! {
    ["oidc"]
        Salesforce = "salesforce",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://{domain}")
            .placeholders(&[("domain", "login.salesforce.com")])
            .authorize_url("https://{domain}/services/oauth2/authorize")
            .token_url("https://{domain}/services/oauth2/token")
            .userinfo_url("https://{domain}/services/oauth2/userinfo")
            .revocation_url("https://{domain}/services/oauth2/revoke")
            .scopes(&["email", "profile"])
    }

    preset! {
        BoxCom = "box",
        fields(&["/id"], Some("/login"), Verified::Never, &["/name"], Some("/avatar_url")),
        ProviderDefaults::oauth2("https://account.box.com/api/oauth2/authorize", "https://api.box.com/oauth2/token")
            .userinfo_url("https://api.box.com/2.0/users/me")
            .api_base_url("https://api.box.com/2.0/")
            .revocation_url("https://api.box.com/oauth2/revoke")
            .client_auth(ClientAuth::ClientSecretPost)
            .display_name("Box")
    }

    preset! {
        Patreon = "patreon",
        fields(&["/data/id"], Some("/data/attributes/email"), Verified::Field("/data/attributes/is_email_verified"), &["/data/attributes/full_name"], Some("/data/attributes/image_url")),
        ProviderDefaults::oauth2("https://www.patreon.com/oauth2/authorize", "https://www.patreon.com/api/oauth2/token")
            .userinfo_url("https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=email,full_name,image_url,is_email_verified")
            .api_base_url("https://www.patreon.com/api/oauth2/v2/")
            .scopes(&["identity", "identity[email]"])
            .client_auth(ClientAuth::ClientSecretPost)
    }

    preset! {
    ["oidc"]
        Yahoo = "yahoo",
        Profile::CLAIMS,
        ProviderDefaults::oidc("https://api.login.yahoo.com")
            .authorize_url("https://api.login.yahoo.com/oauth2/request_auth")
            .token_url("https://api.login.yahoo.com/oauth2/get_token")
            .userinfo_url("https://api.login.yahoo.com/openid/v1/userinfo")
            .scopes(&["email", "profile"])
    }

    preset! {
        Kakao = "kakao",
        fields(&["/id"], Some("/kakao_account/email"), Verified::Field("/kakao_account/is_email_verified"), &["/kakao_account/profile/nickname"], Some("/kakao_account/profile/profile_image_url")),
        ProviderDefaults::oauth2("https://kauth.kakao.com/oauth/authorize", "https://kauth.kakao.com/oauth/token")
            .userinfo_url("https://kapi.kakao.com/v2/user/me")
            .api_base_url("https://kapi.kakao.com/")
            .client_auth(ClientAuth::ClientSecretPost)
    }
}

alias! {
    /// GitHub (and GitHub Enterprise Server: set `base_url` to its host, `api_base_url` to
    /// `<host>/api/v3/` and `userinfo_url` to `<host>/api/v3/user`). The user id is the
    /// numeric `id` (`login` can be renamed); the email is the primary one from
    /// `user/emails`, verified only if GitHub says so. GitHub answers token errors with a
    /// 200, handled.
    GitHub
}

alias! {
    /// GitLab, gitlab.com or self-managed (`base_url`). OpenID Connect; refresh tokens are
    /// single-use (refreshes are single-flight).
    ["oidc"]
    GitLab
}

alias! {
    /// Google. OpenID Connect; `email_verified` from the ID token. For a refresh token, add
    /// `auth_params = { access_type = "offline", prompt = "consent" }`.
    ["oidc"]
    Google
}

alias! {
    /// Microsoft Entra ID (personal and work accounts). `tenant`: `common` (the default),
    /// `organizations`, `consumers` or one tenant's id; the issuer is Microsoft's
    /// `{tenantid}` template, so `tenants` must list the tenant ids allowed in. The subject
    /// is `<tid>/<oid>` (Microsoft's `sub` differs per application); Microsoft's `email`
    /// is not verified.
    ["oidc"]
    Microsoft
}

alias! {
    /// Sign in with Apple: OpenID Connect with `response_mode=form_post` (a cross-site POST
    /// callback) and `client_secret_post`; the user's name, sent once in the callback's
    /// `user` field, is kept. The client secret is the ES256 JWT Apple asks for: with
    /// feature `apple`, give `client_secret_jwt = { team_id = "...", key_id = "...",
    /// private_key_file = "AuthKey_<key id>.p8" }` and the preset signs it (anew every hour);
    /// without it, give a `client_secret` you signed.
    ["oidc"]
    Apple
}

alias! {
    /// Discord. The email counts only when Discord marks the account `verified`.
    Discord
}

alias! {
    /// Sign in with Slack (OpenID Connect). No PKCE by default: enabling it makes a Slack
    /// app a public client, irreversibly. Slack's errors come as `200 {"ok": false}`,
    /// handled.
    ["oidc"]
    Slack
}

alias! {
    /// LinkedIn (OpenID Connect). Its ID tokens carry no `nonce`, its token endpoint takes
    /// `client_secret_post` only and refuses PKCE from web apps.
    ["oidc"]
    LinkedIn
}

alias! {
    /// Facebook. The Graph API version is `graph_version` (default `v26.0`). Facebook
    /// never says an email is verified, so it never matches an email rule.
    Facebook
}

alias! {
    /// X (Twitter), OAuth 2 with PKCE (required by X). `offline.access` gives a refresh
    /// token; `confirmed_email` is X's confirmed email.
    X
}

alias! {
    /// Twitch (OpenID Connect); the email and its verification are asked for with the
    /// `claims` parameter.
    ["oidc"]
    Twitch
}

alias! {
    /// Spotify. The user id is `account_id` (Spotify's advice since 2026), else `id`;
    /// Spotify's email is unverified.
    Spotify
}

alias! {
    /// Keycloak: `base_url` (the server, e.g. `https://sso.example.com`) and `realm` are
    /// required.
    ["oidc"]
    Keycloak
}

alias! {
    /// Auth0: `domain` (e.g. `dev-123.us.auth0.com`) is required. The `sub` prefix names
    /// the upstream connection.
    ["oidc"]
    Auth0
}

alias! {
    /// Okta (its `default` authorization server): `domain` (e.g. `dev-123.okta.com`) is
    /// required; for another authorization server, set `issuer` and the endpoints.
    ["oidc"]
    Okta
}

alias! {
    /// Upwork (formerly oDesk): OAuth 2, the user and the companies and teams they belong to
    /// from Upwork's GraphQL API, as groups under each of their ids (`id`, `rid`,
    /// `legacyId`), so `access.teams` and roles by team work as django-odesk-auth's
    /// `ODESK_AUTH_TEAMS` did. Upwork's email is unverified. A GraphQL error refuses the
    /// login (access by team fails closed).
    Upwork
}

alias! {
    /// Login with Amazon. The `user_id` differs per developer account; Amazon has no
    /// email verification flag, so its email never matches an email rule.
    Amazon
}

alias! {
    /// Bitbucket Cloud. The email is the primary one from `user/emails`, if confirmed.
    Bitbucket
}

alias! {
    /// Atlassian (Jira, Confluence: OAuth 2.0 3LO): `audience=api.atlassian.com` and
    /// `prompt=consent` are sent; refresh tokens rotate. Product APIs need the cloud id
    /// from `oauth/token/accessible-resources`.
    Atlassian
}

alias! {
    /// Reddit. `duration=permanent` is sent for a refresh token; Reddit answers token errors
    /// with a 200 (handled) and has no email.
    Reddit
}

alias! {
    /// Zoom. Scopes are set on the Zoom app; the email counts when Zoom marks the user
    /// `verified` (`1`).
    Zoom
}

alias! {
    /// Salesforce (OpenID Connect): `domain` is `login.salesforce.com` by default;
    /// `test.salesforce.com` for a sandbox, or your My Domain host.
    ["oidc"]
    Salesforce
}

alias! {
    /// Box (box.com; not named `Box`, which would shadow `std::boxed::Box` in a glob import).
    /// Scopes are set on the Box app; Box's `login` is the account's email, with no
    /// verification flag (it never matches an email rule).
    BoxCom
}

alias! {
    /// Patreon. The email counts when `is_email_verified`.
    Patreon
}

alias! {
    /// Yahoo (OpenID Connect).
    ["oidc"]
    Yahoo
}

alias! {
    /// Kakao. Consent items (email, nickname) are set in the Kakao Developers console; the
    /// email counts when `is_email_verified`.
    Kakao
}

/// Every preset's name and defaults.
pub(super) fn all() -> Vec<(&'static str, ProviderDefaults)> {
    use crate::Provider;
    fn entry<P: Provider>() -> (&'static str, ProviderDefaults) {
        (P::NAME, P::defaults())
    }
    #[allow(unused_mut)]
    let mut all = vec![
        entry::<GitHub>(),
        entry::<Discord>(),
        entry::<Facebook>(),
        entry::<X>(),
        entry::<Spotify>(),
        entry::<Upwork>(),
        entry::<Amazon>(),
        entry::<Bitbucket>(),
        entry::<Atlassian>(),
        entry::<Reddit>(),
        entry::<Zoom>(),
        entry::<BoxCom>(),
        entry::<Patreon>(),
        entry::<Kakao>(),
    ];
    #[cfg(feature = "oidc")]
    all.extend([
        entry::<GitLab>(),
        entry::<Google>(),
        entry::<Microsoft>(),
        entry::<Apple>(),
        entry::<Slack>(),
        entry::<LinkedIn>(),
        entry::<Twitch>(),
        entry::<Keycloak>(),
        entry::<Auth0>(),
        entry::<Okta>(),
        entry::<Salesforce>(),
        entry::<Yahoo>(),
    ]);
    all.sort_by_key(|(name, _)| *name);
    all
}
