//! The token of a page's forms (the grants page, the admin pages): sealed (AES-GCM, a key
//! derived from `secret_key`) to the browser's CSRF cookie, to one page and to the person it
//! was shown to, for an hour. A planted cookie, another page's token, or a form shown to
//! someone else does not open.

use rocket::data::Data;
use rocket::http::{CookieJar, Status};
use rocket::Request;
use serde::{Deserialize, Serialize};

use super::consent::csrf;
use super::Params;
use crate::pages::csrf::same_origin;
use crate::server::ServerState;
use crate::util::{ct_eq, now};

/// How long a page's forms work, seconds.
const FORM_TTL: i64 = 3600;

/// What a form was shown for.
#[derive(Serialize, Deserialize)]
struct Binding {
    to: String,
    expires: i64,
}

/// The associated data: the page and the browser's CSRF cookie.
fn aad(page: &str, browser: &str) -> String {
    format!("{page}:{browser}")
}

/// The token of `page`'s forms, shown to `to`.
pub(super) fn token(state: &ServerState, jar: &CookieJar<'_>, page: &str, to: &str) -> String {
    let browser = csrf(state).token(jar);
    let binding = Binding {
        to: to.to_owned(),
        expires: now().saturating_add(FORM_TTL),
    };
    let json = serde_json::to_string(&binding).unwrap_or_default();
    state.consent.seal(&aad(page, &browser), &json)
}

/// Whether `token` is one of `page`'s forms, shown in this browser to `to`, lately.
pub(super) fn check(
    state: &ServerState,
    jar: &CookieJar<'_>,
    page: &str,
    to: &str,
    token: &str,
) -> bool {
    let binding = csrf(state)
        .current(jar)
        .and_then(|browser| state.consent.open(&aad(page, &browser), token))
        .and_then(|json| serde_json::from_str::<Binding>(&json).ok());
    binding.is_some_and(|b| b.expires >= now() && ct_eq(&b.to, to))
}

/// A POST of one of `page`'s forms by `who`: sent from this server's own origin, with a token
/// shown in this browser to `who`; otherwise the refusal to answer.
pub(super) async fn read_checked(
    req: &Request<'_>,
    data: Data<'_>,
    state: &ServerState,
    (page, who): (&str, &str),
) -> Result<Params, (Status, &'static str)> {
    read_checked_as(req, data, state, who, |_| page.to_owned()).await
}

/// [`read_checked`], for the page the form itself names (`page_of` reads it): a form
/// bound to what it showed, such as a device's code.
pub(super) async fn read_checked_as(
    req: &Request<'_>,
    data: Data<'_>,
    state: &ServerState,
    who: &str,
    page_of: impl FnOnce(&Params) -> String,
) -> Result<Params, (Status, &'static str)> {
    let origin = state.issuer.origin().ascii_serialization();
    if !same_origin(req, &origin) {
        return Err((Status::Forbidden, "the form was sent from another site"));
    }
    let form = super::read_form(req, data)
        .await
        .ok_or((Status::BadRequest, "the form could not be read"))?;
    let token = form.get("csrf_token").unwrap_or_default();
    if !check(state, req.cookies(), &page_of(&form), who, token) {
        let why = "the form expired or was not shown to you; reload the page";
        return Err((Status::Forbidden, why));
    }
    Ok(form)
}
