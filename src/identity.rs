//! The logged-in user's identity: one normalized shape for every provider, keyed by
//! (provider, subject) and never by email.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::truthy;

/// Who logged in, normalized from the provider's claims or userinfo.
///
/// For OpenID Connect providers it comes from the ID token's claims merged with userinfo;
/// for plain OAuth 2 providers from [`Hooks::identify`](crate::Hooks::identify), whose default
/// reads the usual field names of the userinfo document (`sub` or `id`, `email`,
/// `email_verified`, `name`, `picture` or `avatar_url`, `groups`). Identify users by
/// ([`provider`](crate::User::provider), [`subject`](Identity::subject)); an email is only an
/// attribute, and only a verified one should be trusted.
///
/// ```rust
/// use rocket_oauth::Identity;
/// use serde_json::json;
///
/// let id = Identity::from_claims(&json!({
///     "sub": "248289761001",
///     "email": "jane@example.com",
///     "email_verified": "true",
///     "name": "Jane Doe",
///     "groups": ["staff"]
/// }))
/// .unwrap();
/// assert_eq!(id.subject, "248289761001");
/// assert!(id.email_verified);
/// assert_eq!(id.groups, ["staff"]);
///
/// let by_hand = Identity::new("42").with_email("a@b.example", false).with_groups(["team-a"]);
/// assert!(!by_hand.email_verified);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Identity {
    /// The provider's stable identifier of the user (`sub`).
    #[serde(rename = "s")]
    pub subject: String,
    /// The user's email address, if the provider shared one.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the provider verified `email`. Email access rules only match verified emails.
    #[serde(rename = "v", default)]
    pub email_verified: bool,
    /// A display name.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A picture URL.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Groups or teams the user belongs to, as the provider names them.
    #[serde(rename = "g", default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Identity {
    /// An identity with this subject and nothing else.
    pub fn new(subject: impl Into<String>) -> Self {
        Identity {
            subject: subject.into(),
            ..Identity::default()
        }
    }

    /// Sets the email and whether the provider verified it.
    pub fn with_email(mut self, email: impl Into<String>, verified: bool) -> Self {
        self.email = Some(email.into());
        self.email_verified = verified;
        self
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the picture URL.
    pub fn with_picture(mut self, picture: impl Into<String>) -> Self {
        self.picture = Some(picture.into());
        self
    }

    /// Sets the groups or teams.
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Reads the usual claim names; `None` without a subject (`sub` or `id`). String
    /// booleans (`"true"`) are accepted.
    pub fn from_claims(claims: &Value) -> Option<Identity> {
        let subject = text(claims.get("sub")).or_else(|| text(claims.get("id")))?;
        let groups = match claims.get("groups").or_else(|| claims.get("teams")) {
            Some(Value::Array(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
            _ => Vec::new(),
        };
        Some(Identity {
            subject,
            email: text(claims.get("email")),
            email_verified: truthy(claims.get("email_verified")),
            name: text(claims.get("name"))
                .or_else(|| text(claims.get("preferred_username")))
                .or_else(|| text(claims.get("login"))),
            picture: text(claims.get("picture")).or_else(|| text(claims.get("avatar_url"))),
            groups,
        })
    }

    /// The email, only if it is verified.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("sub".to_owned()),
                        Just("email".to_owned()),
                        Just("groups".to_owned()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any userinfo document: no panic; an identity always has a subject.
        #[test]
        fn from_claims_never_panics(claims in json()) {
            if let Some(identity) = Identity::from_claims(&claims) {
                proptest::prop_assert!(!identity.subject.is_empty());
            }
        }
    }
}
