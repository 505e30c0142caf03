//! The mock provider's users.

use serde_json::{Map, Value};

/// A user of the [`MockProvider`](super::MockProvider): a subject and the claims the provider
/// reports for them (in the userinfo answer, the ID token and, for OAuth 1.0a, the profile).
///
/// ```rust
/// use rocket_oauth::testing::MockUser;
///
/// let bob = MockUser::new("bob")
///     .email("bob@example.com")
///     .name("Bob")
///     .groups(["staff"])
///     .claim("locale", "en");
/// assert_eq!(bob.subject(), "bob");
/// assert_eq!(bob.claims()["email_verified"], true);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MockUser {
    subject: String,
    claims: Map<String, Value>,
    userinfo: Option<Value>,
}

impl MockUser {
    /// A user with this subject (`sub`; `id` for OAuth 1.0a) and no other claim.
    pub fn new(subject: impl Into<String>) -> Self {
        MockUser {
            subject: subject.into(),
            claims: Map::new(),
            userinfo: None,
        }
    }

    /// A verified email address (`email`, `email_verified: true`).
    pub fn email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
            .claim("email_verified", true)
    }

    /// An email address the provider has not verified (`email_verified: false`): it never
    /// matches an email or domain access rule.
    pub fn unverified_email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
            .claim("email_verified", false)
    }

    /// The display name (`name`).
    pub fn name(self, name: impl Into<String>) -> Self {
        self.claim("name", name.into())
    }

    /// The groups or teams the user belongs to (`groups`), for access rules on teams.
    pub fn groups<I, S>(self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let groups: Vec<Value> = groups.into_iter().map(|g| Value::from(g.into())).collect();
        self.claim("groups", groups)
    }

    /// Any other claim. Registered ID token claims (`iss`, `aud`, `exp`, …) are left out of
    /// the ID token (the provider sets those) but reach the userinfo answer as given.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// Replaces the whole userinfo (or OAuth 1.0a profile) answer with `body`, as a real
    /// provider shapes it (e.g. GitHub's `{"id": 1, "login": "octocat"}`). The ID token still
    /// carries the subject and claims.
    pub fn userinfo(mut self, body: Value) -> Self {
        self.userinfo = Some(body);
        self
    }

    /// Whether [`MockUser::userinfo`] replaced the userinfo answer.
    pub(super) fn has_own_userinfo(&self) -> bool {
        self.userinfo.is_some()
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The claims (without the subject).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The userinfo answer: the replacement given to [`MockUser::userinfo`], or the claims
    /// with the subject under `subject_key` (`sub`, or `id` for OAuth 1.0a); `subject`
    /// replaces the subject in either.
    pub(super) fn profile(&self, subject_key: &str, subject: Option<&str>) -> Value {
        let mut body = match &self.userinfo {
            Some(body) => body.clone(),
            None => {
                let mut body = self.claims.clone();
                body.insert(subject_key.into(), self.subject.clone().into());
                Value::Object(body)
            }
        };
        if let (Some(subject), Some(fields)) = (subject, body.as_object_mut()) {
            fields.insert(subject_key.into(), subject.into());
        }
        body
    }
}

impl Default for MockUser {
    /// `alice`: `alice@example.com` (verified), named `Alice Example`, no groups. Every
    /// [`MockProvider`](super::MockProvider) starts with her as its current user.
    fn default() -> Self {
        MockUser::new("alice")
            .email("alice@example.com")
            .name("Alice Example")
    }
}
