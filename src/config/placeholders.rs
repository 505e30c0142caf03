//! `{placeholder}`s in a provider's URL defaults (a GitHub Enterprise host, a Microsoft
//! tenant, a Keycloak realm, ...): the provider declares them
//! ([`ProviderDefaults::placeholders`](crate::ProviderDefaults::placeholders)), keys of the
//! same names under `oauth.<name>` fill them. No name is special here: the presets own theirs.

use std::collections::BTreeMap;

use rocket::figment::value::Value;

use super::keys::Keys;
use crate::error::ConfigError;

/// The declared placeholders and their configured (or default) values.
pub(super) struct Placeholders {
    values: Vec<(&'static str, Option<String>)>,
}

impl Placeholders {
    /// The values of the placeholders `declared` among the provider's keys (`table`).
    pub fn read(
        declared: &'static [(&'static str, &'static str)],
        table: &BTreeMap<String, Value>,
        keys: &Keys<'_>,
    ) -> Result<Placeholders, ConfigError> {
        let mut values = Vec::with_capacity(declared.len());
        for (name, _) in declared {
            let value = match table.get(*name) {
                None => None,
                Some(value) => match value.as_str() {
                    Some(text) => Some(text.trim_end_matches('/').to_owned()),
                    None => return Err(keys.invalid(name, "must be a string")),
                },
            };
            values.push((*name, value));
        }
        Ok(Placeholders { values })
    }

    /// Whether the provider declares a placeholder called `key` (then it is that provider's
    /// key, whatever protocol it speaks).
    pub fn declares(&self, key: &str) -> bool {
        self.values.iter().any(|(name, _)| *name == key)
    }

    /// `url` with every declared placeholder filled; one without a value is a missing key.
    pub fn fill(
        &self,
        url: Option<String>,
        keys: &Keys<'_>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(mut url) = url else {
            return Ok(None);
        };
        for (name, value) in &self.values {
            let placeholder = format!("{{{name}}}");
            if !url.contains(&placeholder) {
                continue;
            }
            let Some(value) = value else {
                return Err(keys.missing(name));
            };
            if value.is_empty() || value.contains(['{', '}', '?', '#', ' ']) {
                return Err(keys.invalid(name, "must be a host, path segment or URL"));
            }
            url = url.replace(&placeholder, value);
        }
        Ok(Some(url))
    }
}
