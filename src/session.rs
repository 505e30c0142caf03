//! Where a login lives between requests: the session cookie (tokens and userinfo) and the
//! short-lived login-attempt cookies (state, PKCE verifier, `next`), all private (encrypted
//! and authenticated by Rocket's `secret_key`), HttpOnly and SameSite=Lax.

use std::time::{SystemTime, UNIX_EPOCH};

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration as CookieDuration;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::identity::Identity;

/// How long a login attempt may take, in seconds.
pub(crate) const ATTEMPT_TTL: i64 = 600;
/// How many login attempts per provider may be pending at once; the oldest is evicted.
pub(crate) const MAX_PENDING_ATTEMPTS: usize = 4;
/// The largest session payload stored, in bytes, before encryption. Encryption and base64
/// grow it by a third plus ~40 bytes, which keeps the cookie under browsers' 4096-byte limit.
pub(crate) const SESSION_BUDGET: usize = 2800;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A logged-in session, as stored in the session cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionData {
    #[serde(rename = "t")]
    pub access_token: String,
    #[serde(rename = "y")]
    pub token_type: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(rename = "s", default)]
    pub scopes: Vec<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub userinfo: Option<Value>,
    #[serde(rename = "i")]
    pub issued_at: i64,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The ID token, kept as `id_token_hint` for logout at the provider.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The session does not fit in a cookie even without its userinfo.
#[derive(Debug)]
pub(crate) struct TooLarge;

impl SessionData {
    /// The session for a fresh token response, received at `now`. Scopes are those granted,
    /// or those requested when the provider does not say.
    pub fn from_token_response(
        tokens: &crate::oauth2::LenientTokenResponse,
        requested: &[String],
        now: i64,
    ) -> Self {
        use ::oauth2::TokenResponse;
        SessionData {
            access_token: tokens.access_token().secret().clone(),
            token_type: tokens.token_type().as_ref().to_ascii_lowercase(),
            expires_at: tokens
                .expires_in()
                .map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2))),
            refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
            scopes: match tokens.scopes() {
                Some(scopes) => scopes.iter().map(|s| s.to_string()).collect(),
                None => requested.to_vec(),
            },
            userinfo: None,
            issued_at: now,
            identity: None,
            roles: Vec::new(),
            id_token: None,
        }
    }

    /// Whether the access token has expired (with no expiry, it never does).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Serialises within [`SESSION_BUDGET`], dropping the largest userinfo fields first
    /// (logged by name), then the ID token kept for provider logout, if needed.
    pub fn encode(&mut self) -> Result<String, TooLarge> {
        loop {
            let json = serde_json::to_string(self).map_err(|_| TooLarge)?;
            if json.len() <= SESSION_BUDGET {
                return Ok(json);
            }
            let map = match self.userinfo.as_mut() {
                Some(Value::Object(map)) if !map.is_empty() => map,
                _ if self.id_token.is_some() => {
                    log::warn!("ID token not kept: the session cookie would exceed 4 KiB");
                    self.id_token = None;
                    continue;
                }
                _ => return Err(TooLarge),
            };
            let largest = map
                .iter()
                .max_by_key(|(_, v)| v.to_string().len())
                .map(|(k, _)| k.clone());
            match largest {
                Some(key) => {
                    log::warn!(
                        "userinfo field `{key}` dropped: the session cookie would exceed 4 KiB"
                    );
                    map.remove(&key);
                }
                None => return Err(TooLarge),
            }
        }
    }
}

/// Cookie names and attributes of one provider.
#[derive(Debug, Clone)]
pub(crate) struct Cookies {
    session: String,
    attempt_prefix: String,
    csrf: String,
    base_path: String,
    secure: bool,
    form_post: bool,
}

/// One pending login attempt.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Attempt {
    #[serde(rename = "s")]
    pub state: String,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(rename = "c")]
    pub created: i64,
    /// The OpenID Connect nonce sent with this attempt.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// The part of `state` that names its attempt cookie. The full state is compared, in
/// constant time, with the one inside the encrypted cookie.
fn attempt_id(state: &str) -> Option<&str> {
    let id = state.get(..12)?;
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then_some(id)
}

impl Cookies {
    pub fn new(name: &str, base_path: &str, secure: bool, form_post: bool) -> Self {
        Cookies {
            session: format!("oauth_{name}"),
            attempt_prefix: format!("oauth_{name}_login_"),
            csrf: format!("oauth_{name}_csrf"),
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
    pub fn read_session(&self, jar: &CookieJar<'_>) -> Option<SessionData> {
        let cookie = jar.get_private(&self.session)?;
        serde_json::from_str(cookie.value()).ok()
    }

    /// Stores the session; it lives as long as the access token (or the browser session).
    pub fn write_session(
        &self,
        jar: &CookieJar<'_>,
        session: &mut SessionData,
    ) -> Result<(), TooLarge> {
        let value = session.encode()?;
        let max_age = session.expires_at.map(|at| (at - now()).max(1));
        jar.add_private(self.build(self.session.clone(), value, "/".into(), max_age));
        Ok(())
    }

    /// Forgets the session.
    pub fn remove_session(&self, jar: &CookieJar<'_>) {
        jar.remove_private(Self::removal(self.session.clone(), "/"));
    }

    /// Stores a new attempt, evicting the oldest ones beyond [`MAX_PENDING_ATTEMPTS`].
    pub fn add_attempt(&self, jar: &CookieJar<'_>, attempt: &Attempt) {
        let Some(id) = attempt_id(&attempt.state) else {
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

    /// Takes (reads and removes) the attempt that `state` belongs to. `None` when there is
    /// no such attempt or it has expired; `Some(Err(()))` when the state does not match.
    pub fn take_attempt(&self, jar: &CookieJar<'_>, state: &str) -> Option<Result<Attempt, ()>> {
        let name = format!("{}{}", self.attempt_prefix, attempt_id(state)?);
        let cookie = jar.get_private(&name)?;
        jar.remove_private(Self::removal(name, &self.base_path));
        let attempt: Attempt = serde_json::from_str(cookie.value()).ok()?;
        if now() - attempt.created > ATTEMPT_TTL {
            return None;
        }
        let equal: bool = attempt.state.as_bytes().ct_eq(state.as_bytes()).into();
        Some(if equal { Ok(attempt) } else { Err(()) })
    }

    /// The CSRF token of the confirmation form, created on first use.
    pub fn csrf_token(&self, jar: &CookieJar<'_>) -> String {
        if let Some(cookie) = jar.get_private(&self.csrf) {
            return cookie.value().to_owned();
        }
        let token = ::oauth2::CsrfToken::new_random().secret().clone();
        jar.add_private(self.build(
            self.csrf.clone(),
            token.clone(),
            self.base_path.clone(),
            None,
        ));
        token
    }

    /// Whether `submitted` equals the CSRF cookie (compared in constant time).
    pub fn check_csrf(&self, jar: &CookieJar<'_>, submitted: &str) -> bool {
        jar.get_private(&self.csrf)
            .is_some_and(|c| bool::from(c.value().as_bytes().ct_eq(submitted.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_userinfo_is_trimmed() {
        let mut session = SessionData {
            access_token: "a".repeat(100),
            token_type: "bearer".into(),
            expires_at: None,
            refresh_token: None,
            scopes: vec![],
            userinfo: Some(serde_json::json!({"id": 1, "bio": "x".repeat(5000)})),
            issued_at: 0,
            identity: None,
            roles: vec![],
            id_token: Some("j".repeat(900)),
        };
        let json = session.encode().unwrap();
        assert!(json.len() <= SESSION_BUDGET);
        assert_eq!(session.userinfo.unwrap(), serde_json::json!({"id": 1}));
        let mut huge = SessionData {
            access_token: "a".repeat(5000),
            userinfo: None,
            ..session
        };
        assert!(huge.encode().is_err());
    }

    #[test]
    fn attempt_ids() {
        assert_eq!(attempt_id("abcdefghijkl-rest"), Some("abcdefghijkl"));
        assert_eq!(attempt_id("short"), None);
        assert_eq!(attempt_id("abc;defghijkl"), None);
    }
}
