//! Who may log in, and which roles they get: per-provider rules from configuration
//! (django-odesk-auth's and Flask-oDesk's settings).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::identity::Identity;

/// Whether a login needs to match a rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Everyone who logs in at the provider is let in (rules only grant roles).
    #[default]
    Everyone,
    /// Only users matching `emails`, `domains`, `teams`, or any role's rules are let in.
    Listed,
}

/// Lists that match users: verified emails, verified emails' domains, and teams/groups.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Exact email addresses (case-insensitive; verified emails only). _Default:_ none.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Email domains, e.g. `example.com` (verified emails only). _Default:_ none.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Group or team names, as the provider reports them. _Default:_ none.
    #[serde(default)]
    pub teams: Vec<String>,
}

impl Rule {
    /// Whether `identity` matches any list of this rule.
    pub fn matches(&self, identity: &Identity) -> bool {
        matches(&self.emails, &self.domains, &self.teams, identity)
    }
}

fn matches(emails: &[String], domains: &[String], teams: &[String], identity: &Identity) -> bool {
    let by_email = identity.verified_email().is_some_and(|email| {
        let domain = email.rsplit_once('@').map(|(_, d)| d);
        emails.iter().any(|e| e.eq_ignore_ascii_case(email))
            || domain.is_some_and(|d| domains.iter().any(|x| x.eq_ignore_ascii_case(d)))
    });
    by_email || teams.iter().any(|t| identity.groups.contains(t))
}

/// `oauth.<name>.access`: who may log in and which roles they get.
///
/// ```toml
/// [default.oauth.corp.access]
/// policy = "listed"                # or "everyone" (the default)
/// domains = ["example.com"]
/// emails = ["contractor@gmail.com"]
/// teams = ["engineering"]
///
/// [default.oauth.corp.access.roles]
/// staff = { teams = ["engineering"] }
/// superuser = { emails = ["cto@example.com"] }
/// ```
///
/// Email rules only ever match emails the provider marked verified.
///
/// **A role admits its holder under `listed` too**: every role rule is also an admission
/// rule, so a staff email outside the allowed `domains` gets in. To grant a role only to
/// users the lists already admit, keep each role's rule inside them.
///
/// ```rust
/// use rocket_oauth::Identity;
/// use rocket_oauth::config::AccessConfig;
///
/// let access: AccessConfig = serde_json::from_value(serde_json::json!({
///     "policy": "listed",
///     "domains": ["example.com"],
///     "roles": { "staff": { "emails": ["ops@contractor.example"] } }
/// }))
/// .unwrap();
/// let outsider = Identity::new("42").with_email("ops@contractor.example", true);
/// let roles = access.roles_of(Some(&outsider));
/// assert_eq!(roles, ["staff"]);
/// assert!(access.allows(Some(&outsider), &roles)); // let in, by the role alone
/// let stranger = Identity::new("43").with_email("someone@contractor.example", true);
/// assert!(!access.allows(Some(&stranger), &access.roles_of(Some(&stranger))));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// `everyone` or `listed`. _Default:_ `everyone`.
    #[serde(default)]
    pub policy: Policy,
    /// Emails let in under `listed` (verified only). _Default:_ none.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Email domains let in under `listed` (verified emails only). _Default:_ none.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Teams or groups let in under `listed`. _Default:_ none.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Role name → who gets it. _Default:_ no roles.
    #[serde(default)]
    pub roles: BTreeMap<String, Rule>,
}

impl AccessConfig {
    /// The roles `identity` is granted.
    pub fn roles_of(&self, identity: Option<&Identity>) -> Vec<String> {
        let Some(identity) = identity else {
            return Vec::new();
        };
        self.roles
            .iter()
            .filter(|(_, rule)| rule.matches(identity))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether `identity` (with `roles` already computed) may log in.
    pub fn allows(&self, identity: Option<&Identity>, roles: &[String]) -> bool {
        match self.policy {
            Policy::Everyone => true,
            Policy::Listed => {
                !roles.is_empty()
                    || identity.is_some_and(|identity| {
                        matches(&self.emails, &self.domains, &self.teams, identity)
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_like: serde_json::Value) -> AccessConfig {
        serde_json::from_value(toml_like).unwrap()
    }

    #[test]
    fn matrix() {
        let access = config(serde_json::json!({
            "policy": "listed",
            "emails": ["Boss@Gmail.com"],
            "domains": ["example.com"],
            "teams": ["eng"],
            "roles": {"staff": {"teams": ["ops"]}, "superuser": {"emails": ["root@example.com"]}}
        }));
        let check = |id: Identity| {
            let roles = access.roles_of(Some(&id));
            (access.allows(Some(&id), &roles), roles)
        };
        assert_eq!(
            check(Identity::new("1").with_email("boss@gmail.com", true)),
            (true, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_email("boss@gmail.com", false)),
            (false, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_email("a@example.com", true)),
            (true, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_email("a@example.com.evil", true)),
            (false, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_email("a@sub.example.com", true)),
            (false, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_groups(["eng"])),
            (true, vec![])
        );
        assert_eq!(
            check(Identity::new("1").with_groups(["ops"])),
            (true, vec!["staff".into()])
        );
        assert_eq!(
            check(Identity::new("1").with_email("root@example.com", true)),
            (true, vec!["superuser".into()])
        );
        assert_eq!(
            check(Identity::new("1").with_email("x@other.com", true)),
            (false, vec![])
        );
        assert!(!access.allows(None, &[]));

        let open = AccessConfig::default();
        assert!(open.allows(None, &[]));
        assert!(
            serde_json::from_value::<AccessConfig>(serde_json::json!({"policy": "some"})).is_err()
        );
    }
}
