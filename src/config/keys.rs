//! Naming configuration keys in errors (`oauth.<name>.<field>`, once, with where the value came
//! from), reading the keys a struct declares, and checking URLs.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use url::Url;

use crate::error::ConfigError;
use crate::util::is_loopback;

/// The keys `T` reads: the field names its `Deserialize` implementation declares (the one
/// place a protocol's keys are listed, used both to refuse them on other protocols and in
/// the documentation's tests).
pub(crate) fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    /// A deserializer that only records the fields a struct asks for.
    struct Fields<'a>(&'a mut &'static [&'static str]);

    #[derive(Debug)]
    struct Done;

    impl std::fmt::Display for Done {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields recorded")
        }
    }

    impl std::error::Error for Done {}

    impl de::Error for Done {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Done
        }
    }

    impl<'de> Deserializer<'de> for Fields<'_> {
        type Error = Done;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Done> {
            Err(Done)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Done> {
            *self.0 = fields;
            Err(Done)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// Names the keys of provider `name`'s table (`oauth.<name>`, or
/// `oauth.providers.<name>` for a listed provider): `<table>.<field>`.
pub(crate) struct Keys<'a> {
    pub table: &'a str,
    pub name: &'a str,
}

impl Keys<'_> {
    pub fn key(&self, field: &str) -> String {
        format!("{}.{field}", self.table)
    }

    pub fn missing(&self, field: &str) -> ConfigError {
        ConfigError::Missing {
            key: self.key(field),
        }
    }

    pub fn invalid(&self, field: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: self.key(field),
            reason: reason.into(),
        }
    }

    pub fn required(&self, value: Option<String>, field: &str) -> Result<String, ConfigError> {
        non_empty(value).ok_or_else(|| self.missing(field))
    }

    /// An absolute `http(s)` URL.
    pub fn url(&self, value: &str, field: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(value)
            .map_err(|e| self.invalid(field, format!("`{value}` is not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.invalid(field, format!("`{value}` is not an http(s) URL")));
        }
        Ok(url)
    }

    /// A provider endpoint: `https`, except on loopback (development and tests).
    pub fn endpoint(&self, value: &str, field: &str) -> Result<Url, ConfigError> {
        let url = self.url(value, field)?;
        if url.scheme() == "http" && !is_loopback(&url) {
            return Err(self.invalid(
                field,
                format!("`{value}` must use https (http is allowed only on loopback)"),
            ));
        }
        Ok(url)
    }

    pub fn optional_endpoint(
        &self,
        value: Option<String>,
        field: &str,
    ) -> Result<Option<Url>, ConfigError> {
        non_empty(value)
            .map(|v| self.endpoint(&v, field))
            .transpose()
    }
}

/// A list of names, or one space-separated string (`scopes`, `audience`).
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes::List(Vec::new())
    }
}

pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// A figment extraction error as a [`ConfigError`] naming the full key once, cleanly
/// (`oauth.gh.client_id`, not figment's rendering of the path), with what is wrong and
/// where the value came from.
pub(crate) fn figment_error(table: &str, error: rocket::figment::Error) -> ConfigError {
    use rocket::figment::error::Kind;
    let Some(first) = error.into_iter().next() else {
        return ConfigError::Invalid {
            key: table.into(),
            reason: "unreadable".into(),
        };
    };
    // figment lists the fields inside `table` first, then the parts of `table` itself
    // (`[client_id, oauth, gh]`): keep what lies under `table`.
    let mut path: Vec<&str> = first.path.iter().map(String::as_str).collect();
    let table_parts: Vec<&str> = table.split('.').collect();
    if path.ends_with(&table_parts) {
        path.truncate(path.len() - table_parts.len());
    } else if path.starts_with(&table_parts) {
        path.drain(..table_parts.len());
    }
    let mut key = table.to_owned();
    for part in &path {
        key.push('.');
        key.push_str(part);
    }
    let reason = match &first.kind {
        Kind::MissingField(field) if path.last() != Some(&field.as_ref()) => {
            return ConfigError::Missing {
                key: format!("{key}.{field}"),
            }
        }
        Kind::MissingField(_) => return ConfigError::Missing { key },
        Kind::UnknownField(field, _) => {
            if path.last() != Some(&field.as_str()) {
                key.push('.');
                key.push_str(field);
            }
            "unknown key".to_owned()
        }
        Kind::Message(message) => message.clone(),
        kind => kind.to_string(),
    };
    let source = first
        .metadata
        .as_ref()
        .map(|m| format!(" (from {})", m.name.trim_matches('`')))
        .unwrap_or_default();
    ConfigError::Invalid {
        key,
        reason: format!("{reason}{source}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_read_from_the_struct_declaration() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Example {
            first: Option<String>,
            #[serde(rename = "second_key")]
            second: bool,
        }
        assert_eq!(super::fields::<Example>(), ["first", "second_key"]);
        assert!(super::fields::<String>().is_empty());
    }
}
