//! The cookie codec: the session cookie (a [`Login`]) and the short-lived login-attempt
//! cookies (the flow's pending state and `next`), all private (encrypted and authenticated
//! by Rocket's `secret_key`), HttpOnly and SameSite=Lax.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration as CookieDuration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::{ct_eq, now, random_token};

/// How long a login attempt may take, in seconds.
pub(crate) const ATTEMPT_TTL: i64 = 600;
/// How many login attempts per provider may be pending at once; the oldest is evicted.
pub(crate) const MAX_PENDING_ATTEMPTS: usize = 4;
/// The most bytes of session per cookie, before encryption. Encryption and base64 grow it by
/// a third plus ~40 bytes, which keeps each cookie under browsers' 4096-byte limit.
pub(crate) const CHUNK: usize = 2800;
/// The most cookies one session may span (about 22 KB of session).
pub(crate) const MAX_CHUNKS: usize = 8;

/// The session does not fit in [`MAX_CHUNKS`] cookies.
#[derive(Debug)]
pub(crate) struct TooLarge;

/// Splits `value` into pieces of at most `size` bytes, on character boundaries.
fn split(value: &str, size: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = value;
    while rest.len() > size {
        let mut at = size;
        while !rest.is_char_boundary(at) {
            at -= 1;
        }
        let (part, tail) = rest.split_at(at);
        parts.push(part);
        rest = tail;
    }
    parts.push(rest);
    parts
}

/// A chunk `<tag>.<index>.<count>.<data>` expected at `index`: its tag, count and data.
fn chunk(value: &str, index: usize) -> Option<(&str, usize, &str)> {
    let mut fields = value.splitn(4, '.');
    let tag = fields.next()?;
    let at: usize = fields.next()?.parse().ok()?;
    let count: usize = fields.next()?.parse().ok()?;
    let data = fields.next()?;
    (at == index && (1..=MAX_CHUNKS).contains(&count)).then_some((tag, count, data))
}

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

/// What names a key's attempt cookie: the key's FNV-1a hash in hex (keys are chosen by the
/// protocol: a random `state`, or an OAuth 1.0a provider's token, of any length and
/// alphabet). The full key is compared, in constant time, with the one inside the encrypted
/// cookie; `None` for an empty key.
fn attempt_id(key: &str) -> Option<String> {
    if key.is_empty() || key.len() > 512 {
        return None;
    }
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Some(format!("{hash:016x}"))
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
    /// The cookies of provider `name`. `Secure` cookies take the `__Host-` prefix (so a
    /// sibling subdomain cannot set or toss them), which requires `Path=/`; others are
    /// scoped to `base_path`.
    pub fn new(name: &str, base_path: &str, secure: bool, form_post: bool) -> Self {
        let prefix = Self::prefix(secure);
        Cookies {
            session: format!("{prefix}oauth_{name}"),
            attempt_prefix: format!("{prefix}oauth_{name}_login_"),
            base_path: if base_path.is_empty() || secure {
                "/".into()
            } else {
                base_path.into()
            },
            secure,
            form_post,
        }
    }

    /// `__Host-` for `Secure` cookies.
    pub fn prefix(secure: bool) -> &'static str {
        crate::util::cookie_prefix(secure)
    }

    /// The path of the login-attempt and form cookies.
    pub fn form_path(&self) -> &str {
        &self.base_path
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

    /// The session cookie's value (a session, or a store's session id), joined from its
    /// chunks; `None` when absent, tampered with, or incomplete.
    pub fn read_session(&self, jar: &CookieJar<'_>) -> Option<String> {
        let first = jar.get_private(&self.session)?;
        let (tag, count, data) = chunk(first.value(), 0)?;
        let mut value = data.to_owned();
        for index in 1..count {
            let cookie = jar.get_private(&format!("{}.{index}", self.session))?;
            let (other, other_count, part) = chunk(cookie.value(), index)?;
            if other != tag || other_count != count {
                return None;
            }
            value.push_str(part);
        }
        Some(value)
    }

    /// Stores the session cookie's value for `max_age` seconds, split across up to
    /// [`MAX_CHUNKS`] cookies so that each stays under browsers' 4096-byte limit.
    pub fn write_session(
        &self,
        jar: &CookieJar<'_>,
        value: &str,
        max_age: i64,
    ) -> Result<(), TooLarge> {
        let parts = split(value, CHUNK);
        if parts.len() > MAX_CHUNKS {
            return Err(TooLarge);
        }
        let tag = &random_token()[..8];
        let count = parts.len();
        for (index, part) in parts.into_iter().enumerate() {
            let name = match index {
                0 => self.session.clone(),
                _ => format!("{}.{index}", self.session),
            };
            let value = format!("{tag}.{index}.{count}.{part}");
            jar.add_private(self.build(name, value, "/".into(), Some(max_age.max(1))));
        }
        // Chunks of a longer session the browser still has (one pass over its cookies).
        let stale: Vec<String> = jar
            .iter()
            .filter(|c| self.chunk_index(c.name()).is_some_and(|i| i >= count))
            .map(|c| c.name().to_owned())
            .collect();
        for name in stale {
            jar.remove_private(Self::removal(name, "/"));
        }
        Ok(())
    }

    /// The index of a session chunk cookie's name (`<session>.<index>`, index ≥ 1).
    fn chunk_index(&self, name: &str) -> Option<usize> {
        let index: usize = name
            .strip_prefix(&self.session)?
            .strip_prefix('.')?
            .parse()
            .ok()?;
        (1..MAX_CHUNKS).contains(&index).then_some(index)
    }

    /// `Set-Cookie` removals of the session cookies the browser sent, for a response whose
    /// cookie changes Rocket dropped (an error page).
    pub fn session_removals(&self, jar: &CookieJar<'_>) -> Vec<Cookie<'static>> {
        (0..MAX_CHUNKS)
            .map(|index| match index {
                0 => self.session.clone(),
                _ => format!("{}.{index}", self.session),
            })
            .filter(|name| jar.get(name).is_some())
            .map(|name| {
                let mut cookie = Self::removal(name, "/");
                cookie.make_removal();
                cookie
            })
            .collect()
    }

    /// Forgets the session cookie (every chunk).
    pub fn remove_session(&self, jar: &CookieJar<'_>) {
        jar.remove_private(Self::removal(self.session.clone(), "/"));
        for index in 1..MAX_CHUNKS {
            let name = format!("{}.{index}", self.session);
            if jar.get(&name).is_some() {
                jar.remove_private(Self::removal(name, "/"));
            }
        }
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
    fn chunks_round_trip() {
        let value = "é".repeat(3000) + "end";
        let parts = split(&value, CHUNK);
        assert!(parts.iter().all(|p| p.len() <= CHUNK));
        assert_eq!(parts.concat(), value);
        assert_eq!(split("", CHUNK), [""]);
        assert_eq!(
            chunk("abc.1.3.data.with.dots", 1).unwrap().2,
            "data.with.dots"
        );
        assert!(chunk("abc.1.3.data", 0).is_none());
        assert!(chunk("abc.0.99.data", 0).is_none());
        assert!(chunk("garbage", 0).is_none());
    }

    proptest::proptest! {
        #[test]
        fn chunks_never_panic_and_round_trip(value in "\\PC{0,6000}", junk in "\\PC{0,64}") {
            let _ = chunk(&junk, 0);
            let parts = split(&value, CHUNK);
            let count = parts.len();
            let joined: String = parts
                .iter()
                .enumerate()
                .map(|(i, p)| chunk(&format!("tag.{i}.{count}.{p}"), i).unwrap().2.to_owned())
                .collect();
            proptest::prop_assert_eq!(joined, value);
        }

        #[test]
        fn attempt_ids_never_panic(key in "\\PC{0,40}") {
            if let Some(id) = attempt_id(&key) {
                proptest::prop_assert_eq!(id.len(), 16);
                proptest::prop_assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }

    #[test]
    fn attempt_ids() {
        assert_eq!(
            attempt_id("abcdefghijkl-rest"),
            attempt_id("abcdefghijkl-rest")
        );
        assert_ne!(
            attempt_id("abcdefghijkl-rest"),
            attempt_id("abcdefghijkl-resu")
        );
        assert_eq!(attempt_id("").as_deref(), None);
        assert_eq!(attempt_id("short").unwrap().len(), 16);
    }
}
