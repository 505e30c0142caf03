//! Where a provider puts the user's identity in its profile: what a preset reads (and what
//! the testing kit writes, playing the provider).

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
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
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
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub const CLAIMS: Profile = Profile {
        id: &["/sub"],
        email: Some("/email"),
        verified: Verified::Field("/email_verified"),
        name: &["/name", "/preferred_username"],
        picture: Some("/picture"),
        extra: Extra::None,
    };
}
