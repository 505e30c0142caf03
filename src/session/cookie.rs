//! The cookie codec: the session cookie (a [`Login`]) and the short-lived login-attempt
//! cookies (the flow's pending state and `next`), all private (encrypted and authenticated
//! by Rocket's `secret_key`), HttpOnly and SameSite=Lax.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration as CookieDuration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::record::{encode, TooLarge};
use crate::login::Login;
use crate::util::{ct_eq, now};

/// How long a login attempt may take, in seconds.
pub(crate) const ATTEMPT_TTL: i64 = 600;
/// How many login attempts per provider may be pending at once; the oldest is evicted.
pub(crate) const MAX_PENDING_ATTEMPTS: usize = 4;

/// Cookie names and attributes of one provider.
#[derive(Debug, Clone)]
pub(crate) struct Cookies {
    session: String,
    attempt_prefix: String,
    base_path: String,
    secure: bool,
    form_post: bool,
}

/// One pending login attempt.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Attempt {
    /// The flow's key for it (OAuth 2's `state`).
    #[serde(rename = "s")]
    pub key: String,
    /// What the flow needs back at the callback.
    #[serde(rename = "p", default)]
    pub pending: Value,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(rename = "c")]
    pub created: i64,
}

/// The part of a key that names its attempt cookie. The full key is compared, in constant
/// time, with the one inside the encrypted cookie.
fn attempt_id(key: &str) -> Option<&str> {
    let id = key.get(..12)?;
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then_some(id)
}

/// What taking an attempt found.
#[derive(Debug)]
pub(crate) enum Taken {
    Found(Attempt),
    /// No such attempt, or it expired.
    Missing,
    /// An attempt cookie exists but holds another key.
    Mismatch,
}

impl Cookies {
    pub fn new(name: &str, base_path: &str, secure: bool, form_post: bool) -> Self {
        Cookies {
            session: format!("oauth_{name}"),
            attempt_prefix: format!("oauth_{name}_login_"),
            base_path: if base_path.is_empty() {
                "/".into()
            } else {
                base_path.into()
            },
            secure,
            form_post,
        }
    }

    fn build(
        &self,
        name: String,
        value: String,
        path: String,
        max_age: Option<i64>,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::build((name, value))
            .path(path)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure);
        if let Some(secs) = max_age {
            cookie = cookie.max_age(CookieDuration::seconds(secs));
        }
        cookie.build()
    }

    fn removal(name: String, path: &str) -> Cookie<'static> {
        Cookie::build(name).path(path.to_owned()).build()
    }

    /// The stored session, if any (tampered or undecryptable cookies read as none).
    pub fn read_session(&self, jar: &CookieJar<'_>) -> Option<Login> {
        let cookie = jar.get_private(&self.session)?;
        serde_json::from_str(cookie.value()).ok()
    }

    /// Stores the session; it lives as long as the access token (or the browser session).
    pub fn write_session(&self, jar: &CookieJar<'_>, session: &mut Login) -> Result<(), TooLarge> {
        let value = encode(session)?;
        let max_age = session
            .credentials
            .expires_at
            .map(|at| at.saturating_sub(now()).max(1));
        jar.add_private(self.build(self.session.clone(), value, "/".into(), max_age));
        Ok(())
    }

    /// Forgets the session.
    pub fn remove_session(&self, jar: &CookieJar<'_>) {
        jar.remove_private(Self::removal(self.session.clone(), "/"));
    }

    /// Stores a new attempt, evicting the oldest ones beyond [`MAX_PENDING_ATTEMPTS`].
    pub fn add_attempt(&self, jar: &CookieJar<'_>, attempt: &Attempt) {
        let Some(id) = attempt_id(&attempt.key) else {
            return;
        };
        let names: Vec<String> = jar
            .iter()
            .filter(|c| c.name().starts_with(&self.attempt_prefix))
            .map(|c| c.name().to_owned())
            .collect();
        let mut pending: Vec<(i64, String)> = names
            .into_iter()
            .map(|name| {
                let created = jar
                    .get_private(&name)
                    .and_then(|c| serde_json::from_str::<Attempt>(c.value()).ok())
                    .map_or(i64::MIN, |a| a.created);
                (created, name)
            })
            .collect();
        pending.sort();
        let excess = (pending.len() + 1).saturating_sub(MAX_PENDING_ATTEMPTS);
        for (_, name) in pending.into_iter().take(excess) {
            jar.remove_private(Self::removal(name, &self.base_path));
        }
        let Ok(value) = serde_json::to_string(attempt) else {
            return;
        };
        let mut cookie = self.build(
            format!("{}{id}", self.attempt_prefix),
            value,
            self.base_path.clone(),
            Some(ATTEMPT_TTL),
        );
        if self.form_post {
            // The provider comes back with a cross-site POST: Lax cookies would not be sent.
            cookie.set_same_site(SameSite::None);
            cookie.set_secure(true);
        }
        jar.add_private(cookie);
    }

    /// Takes (reads and removes) the attempt that `key` belongs to.
    pub fn take_attempt(&self, jar: &CookieJar<'_>, key: &str) -> Taken {
        let Some(id) = attempt_id(key) else {
            return Taken::Missing;
        };
        let name = format!("{}{id}", self.attempt_prefix);
        let Some(cookie) = jar.get_private(&name) else {
            return Taken::Missing;
        };
        jar.remove_private(Self::removal(name, &self.base_path));
        match serde_json::from_str::<Attempt>(cookie.value()) {
            Ok(attempt) if now().saturating_sub(attempt.created) > ATTEMPT_TTL => Taken::Missing,
            Ok(attempt) if ct_eq(&attempt.key, key) => Taken::Found(attempt),
            Ok(_) => Taken::Mismatch,
            Err(_) => Taken::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_ids() {
        assert_eq!(attempt_id("abcdefghijkl-rest"), Some("abcdefghijkl"));
        assert_eq!(attempt_id("short"), None);
        assert_eq!(attempt_id("abc;defghijkl"), None);
    }
}
