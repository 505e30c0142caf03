//! What ties a consent form to the browser, the signed-in user and the exact request it
//! showed, and the mark a browser brings back from a sign-in this server sent it to.
//!
//! The form's `csrf_token` is sealed (AES-GCM, a key derived from `secret_key`) with the
//! browser's CSRF cookie as associated data: it opens only in the browser it was shown to,
//! names the user it was shown to, the request (client, redirect URI, scopes, PKCE challenge,
//! nonce, state) and when the user authenticated. A planted cookie, a form made for another
//! user, or an edited hidden field is refused.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::pages::csrf::CsrfCookie;
use crate::server::ServerState;
use crate::util::{cookie_prefix, ct_eq, now};

/// How long a consent form may be answered, seconds.
const FORM_TTL: i64 = 900;
/// How long a browser may take at the sign-in it was sent to, seconds.
const SIGN_IN_TTL: i64 = 600;

/// An authorization request as the consent page showed it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Shown {
    pub client: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub challenge: Option<(String, String)>,
    pub nonce: Option<String>,
    pub state: Option<String>,
    pub max_age: Option<String>,
    pub resources: Vec<String>,
    pub dpop_jkt: Option<String>,
}

impl Shown {
    fn digest(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What a consent form was shown for.
#[derive(Serialize, Deserialize)]
struct Binding {
    owner: String,
    shown: Shown,
    auth_time: Option<i64>,
    expires: i64,
}

/// Why a consent form is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// No such form for this browser, or too old.
    Expired,
    /// Made for another user, or for another request than the one submitted.
    Mismatch,
}

/// The name and path of a server cookie: `__Host-` prefixed (path `/`) on an https issuer.
pub(super) fn cookie(state: &ServerState, name: &str) -> CsrfCookie {
    let secure = state.issuer.scheme() == "https";
    CsrfCookie {
        name: format!("{}{name}", cookie_prefix(secure)),
        path: match secure {
            true => "/".into(),
            false => state.config.base_path.clone(),
        },
        secure,
    }
}

/// The CSRF cookie of the server's forms (consent, sign-out).
pub(super) fn csrf(state: &ServerState) -> CsrfCookie {
    cookie(state, "oauth_server_csrf")
}

/// The consent form's token for `owner` and `shown`.
pub(super) fn seal(
    state: &ServerState,
    jar: &CookieJar<'_>,
    owner: &str,
    shown: Shown,
    auth_time: Option<i64>,
) -> String {
    let browser = csrf(state).token(jar);
    let binding = Binding {
        owner: owner.to_owned(),
        shown,
        auth_time,
        expires: now().saturating_add(FORM_TTL),
    };
    let json = serde_json::to_string(&binding).unwrap_or_default();
    state.consent.seal(&browser, &json)
}

/// The consent form `token`, if it was shown in this browser, not too long ago.
pub(super) fn open(state: &ServerState, jar: &CookieJar<'_>, token: &str) -> Result<Form, Refused> {
    let browser = csrf(state).current(jar).ok_or(Refused::Expired)?;
    let json = state
        .consent
        .open(&browser, token)
        .ok_or(Refused::Expired)?;
    let binding: Binding = serde_json::from_str(&json).map_err(|_| Refused::Expired)?;
    if binding.expires < now() {
        return Err(Refused::Expired);
    }
    Ok(Form(binding))
}

/// A consent form shown in this browser.
pub(super) struct Form(Binding);

impl Form {
    /// The login time the form was shown with, if it was shown to `owner`, for `shown`.
    pub fn check(self, owner: &str, shown: &Shown) -> Result<Option<i64>, Refused> {
        let binding = self.0;
        if !ct_eq(&binding.owner, owner) || binding.shown != *shown {
            return Err(Refused::Mismatch);
        }
        Ok(binding.auth_time)
    }
}

fn sign_in_cookie(state: &ServerState) -> CsrfCookie {
    cookie(state, "oauth_server_sign_in")
}

/// Marks this browser as sent to sign in for `shown`, now; `again`: the user was signed in
/// already (and asked to authenticate again).
pub(super) fn mark_sign_in(state: &ServerState, jar: &CookieJar<'_>, shown: &Shown, again: bool) {
    let place = sign_in_cookie(state);
    let value = format!("{}.{}.{}", now(), u8::from(again), shown.digest());
    let cookie = Cookie::build((place.name, value))
        .path(place.path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(place.secure)
        .max_age(Duration::seconds(SIGN_IN_TTL));
    jar.add_private(cookie);
}

/// When this browser was sent to sign in for `shown`, if it was (lately), and whether it was
/// signed in then; the mark is used up.
pub(super) fn signed_in_since(
    state: &ServerState,
    jar: &CookieJar<'_>,
    shown: &Shown,
) -> Option<(i64, bool)> {
    let place = sign_in_cookie(state);
    let cookie = jar.get_private(&place.name)?;
    let mut parts = cookie.value().splitn(3, '.');
    let (at, again, digest) = (parts.next()?, parts.next()?, parts.next()?);
    let at: i64 = at.parse().ok()?;
    let again = again == "1";
    if !ct_eq(digest, &shown.digest()) || now().saturating_sub(at) > SIGN_IN_TTL {
        return None;
    }
    jar.remove_private(Cookie::build(place.name).path(place.path));
    Some((at, again))
}
