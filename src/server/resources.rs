//! The resources tokens are for (RFC 8707 resource indicators): this application's own API
//! (what [`Scoped`](super::Scoped) and [`BearerToken`](super::BearerToken) protect, with its
//! RFC 9728 protected resource metadata) and the other APIs the server issues tokens for.

use url::Url;

use super::config::ServerConfig;
use crate::error::ConfigError;
use crate::util::{protected_resource_path, resource_identifier as identifier};

/// The resources a token may be bound to.
pub(crate) struct Resources {
    /// This application's API, as configured.
    pub own: String,
    /// Every resource a request may name: parsed, with its configured spelling (the own
    /// one first).
    known: Vec<(Url, String)>,
}

/// Why a request's `resource` is refused (RFC 8707 §2: `invalid_target`).
pub(crate) const INVALID_TARGET: &str = "invalid_target";

impl Resources {
    /// `oauth_server.resource` (default: the issuer's origin) and `oauth_server.resources`.
    pub fn new(config: &ServerConfig, issuer: &Url) -> Result<Self, ConfigError> {
        let own = config
            .resource
            .clone()
            .unwrap_or_else(|| issuer.origin().ascii_serialization());
        let mut known = Vec::new();
        let all = std::iter::once(("resource", &own))
            .chain(config.resources.iter().map(|r| ("resources", r)));
        for (key, resource) in all {
            let url = identifier(resource).ok_or_else(|| ConfigError::Invalid {
                key: format!("oauth_server.{key}"),
                reason: format!(
                    "`{resource}` is not an absolute URL with a plain path and no query or fragment"
                ),
            })?;
            known.push((url, resource.clone()));
        }
        Ok(Resources { own, known })
    }

    /// The configured spelling of the resource `asked` names (compared as URLs: a trailing
    /// `/` on an origin does not matter), if it is one of them.
    pub fn named(&self, asked: &str) -> Option<&str> {
        let asked = identifier(asked)?;
        self.known
            .iter()
            .find(|(url, _)| *url == asked)
            .map(|(_, spelled)| spelled.as_str())
    }

    /// The resources a request names, each known; `Err` names the first that is not.
    pub fn requested<'a>(&self, asked: &'a [String]) -> Result<Vec<String>, &'a str> {
        let mut named = Vec::new();
        for resource in asked {
            named.push(self.named(resource).ok_or(resource.as_str())?.to_owned());
        }
        // One order, however the request ordered them: a consent form must find the same
        // list it was shown.
        named.sort();
        named.dedup();
        Ok(named)
    }

    /// Whether a token for `audience` (empty: not bound) may be used at this application's
    /// own API.
    pub fn is_for_own(&self, audience: &[String]) -> bool {
        audience.is_empty() || audience.contains(&self.own)
    }

    /// The own API's metadata path, `/.well-known/oauth-protected-resource<its path>`.
    pub fn metadata_path(&self) -> String {
        protected_resource_path(&self.known[0].0)
    }

    /// The own API's metadata URL.
    pub fn metadata_url(&self) -> String {
        let origin = self.known[0].0.origin().ascii_serialization();
        format!("{origin}{}", self.metadata_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(own: Option<&str>, others: &[&str]) -> Result<Resources, ConfigError> {
        let mut config: ServerConfig = serde_json::from_value(serde_json::json!({
            "issuer": "https://auth.example/tenant",
            "resources": others,
        }))
        .unwrap();
        config.resource = own.map(str::to_owned);
        Resources::new(&config, &Url::parse(&config.issuer).unwrap())
    }

    #[test]
    fn resources_are_named_as_urls() {
        let r = resources(None, &["https://api.example/mcp"]).unwrap();
        assert_eq!(r.own, "https://auth.example");
        assert_eq!(
            r.named("https://auth.example/"),
            Some("https://auth.example")
        );
        assert_eq!(
            r.named("https://api.example/mcp"),
            Some("https://api.example/mcp")
        );
        assert_eq!(r.named("https://api.example/mcp/"), None);
        assert_eq!(r.named("https://evil.example"), None);
        assert_eq!(r.named("not a url"), None);
        assert_eq!(
            r.metadata_url(),
            "https://auth.example/.well-known/oauth-protected-resource"
        );
        let asked = [
            "https://api.example/mcp".to_owned(),
            "https://auth.example/".to_owned(),
        ];
        assert_eq!(
            r.requested(&asked).unwrap(),
            ["https://api.example/mcp", "https://auth.example"]
        );
        assert_eq!(
            r.requested(&["https://x.example".to_owned()]),
            Err("https://x.example")
        );
        assert!(r.is_for_own(&[]) && r.is_for_own(&["https://auth.example".to_owned()]));
        assert!(!r.is_for_own(&["https://api.example/mcp".to_owned()]));

        let r = resources(Some("https://auth.example/api"), &[]).unwrap();
        assert_eq!(
            r.metadata_path(),
            "/.well-known/oauth-protected-resource/api"
        );
        for bad in [
            "https://a.example/?q",
            "https://a.example/#f",
            "ftp://a.example",
            "/api",
        ] {
            let err = resources(Some(bad), &[]).err().unwrap().to_string();
            assert!(err.contains("oauth_server.resource"), "{bad}: {err}");
        }
        assert!(resources(None, &["x"])
            .err()
            .unwrap()
            .to_string()
            .contains("oauth_server.resources"));
    }
}
