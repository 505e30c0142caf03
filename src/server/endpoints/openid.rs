//! The OpenID Provider's endpoints: the JWKS, userinfo (Bearer; GET and POST) and
//! RP-initiated logout (`end_session`). Mounted only with signing keys; discovery is in
//! `metadata`.

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::{json, Value};

use super::{invalid_token, json_response};
use crate::server::logout;
use crate::server::store::{TokenHash, TokenKind};
use crate::server::ServerState;
use crate::util::{ct_eq, now};

pub(super) async fn jwks<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    match state.keys().await {
        Some(Ok(keys)) => json_response(req, Status::Ok, keys.jwks().clone()),
        Some(Err(e)) => {
            log::error!("rocket_oauth: the signing keys are unavailable: {e}");
            let body = json!({"error": "temporarily_unavailable"});
            json_response(req, Status::ServiceUnavailable, body)
        }
        // Mounted only with a signer.
        None => Outcome::Error(Status::NotFound),
    }
}

/// The claims of the bearer's grant: `sub` and the app's claims for its scopes. The token
/// must be a live access token granted `openid` (a DPoP-bound one with its proof).
pub(super) async fn userinfo<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let presented = crate::bearer::presented(req);
    let record = match presented {
        Some((_, token)) => state
            .store
            .token(&TokenHash::of(token))
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let live = record.filter(|r| {
        r.kind == TokenKind::Access
            && !r.revoked
            && r.expires_at > now()
            && r.scopes.iter().any(|s| s == "openid")
    });
    let (Some(record), Some(presented)) = (live, presented) else {
        return invalid_token(req);
    };
    if let Err(e) = state.check_binding(req, presented, record.jkt.as_deref()) {
        let body = json!({ "error": e.code(), "error_description": e.to_string() });
        return json_response(req, Status::Unauthorized, body).map(|mut response| {
            for header in crate::bearer::proof_refusal(&state.dpop, e) {
                response.set_header(header);
            }
            response
        });
    }
    let Some(owner) = record.owner else {
        return invalid_token(req);
    };
    let scopes = record.scopes;
    let mut claims = state.owner.claims(&owner, &scopes).await;
    claims.insert("sub".into(), Value::String(owner));
    json_response(req, Status::Ok, Value::Object(claims))
}

/// OpenID Connect RP-Initiated Logout 1.0 (`GET end_session`). With a valid
/// `id_token_hint` (signed by this provider) for the signed-in user, or nobody signed in, it
/// ends this browser's sign-in (and tells its clients), signs the user out of the app ([`ResourceOwner::sign_out`](crate::server::ResourceOwner::sign_out))
/// and sends the browser to the hinted client's registered `post_logout_redirect_uri` (with
/// `state`), or shows that they are signed out. Without such a hint (a cross-site link, a
/// forged or another user's hint) it only asks: a page whose CSRF-checked POST signs out
/// (§2), and never redirects (a redirect needs a valid hint).
pub(super) async fn end_session<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let query = req.uri().query().map(|q| q.as_str()).unwrap_or_default();
    let params = super::Params::parse(query.as_bytes());
    let hint = match (params.get("id_token_hint"), state.keys().await) {
        (Some(hint), Some(Ok(keys))) => keys.hint(hint, &state.config.issuer),
        _ => None,
    };
    let owner = state.owner.current(req).await;
    let for_owner = match (&hint, &owner) {
        (Some(hint), Some(owner)) => ct_eq(&hint.subject, owner),
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if !for_owner {
        return ask(req, state);
    }
    // This browser's sign-in, never the hint's: a hint is a token any of its clients
    // holds (and may have leaked), and it may name an older sign-in of the user.
    let sid = logout::current_session(req, state).await;
    if owner.is_some() {
        state.owner.sign_out(req).await;
    }
    let frames = logout::end(req.cookies(), state, sid).await;
    let client = match &hint {
        Some(hint) => state.client(&hint.client).await.ok().flatten(),
        None => None,
    };
    let back = params.get("post_logout_redirect_uri").filter(|uri| {
        client
            .as_ref()
            .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri))
    });
    match back {
        Some(uri) => {
            let mut to = uri.to_owned();
            if let Some(client_state) = params.get("state") {
                let sep = if to.contains('?') { '&' } else { '?' };
                let encoded: String =
                    url::form_urlencoded::byte_serialize(client_state.as_bytes()).collect();
                to = format!("{to}{sep}state={encoded}");
            }
            if frames.is_empty() {
                Outcome::from(req, rocket::response::Redirect::to(to))
            } else {
                signed_out(req, &frames, Some(&to))
            }
        }
        None => signed_out(req, &frames, None),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page saying the user is signed out, loading the clients' front-channel logout pages
/// (`frames`) in hidden iframes, then (after a moment for them to load) going on to `then`.
fn signed_out<'r>(req: &'r Request<'_>, frames: &[String], then: Option<&str>) -> Outcome<'r> {
    let iframes: String = frames
        .iter()
        .map(|src| format!("<iframe src=\"{}\" hidden></iframe>", escape(src)))
        .collect();
    let onward = then.map_or_else(String::new, |to| {
        let to = escape(to);
        format!("<meta http-equiv=\"refresh\" content=\"2;url={to}\"><p><a href=\"{to}\">Continue</a></p>")
    });
    let page = format!(
        "<!DOCTYPE html><title>Signed out</title>{onward}<p>You are signed out.</p>{iframes}"
    );
    Outcome::from(req, rocket::response::content::RawHtml(page))
}

/// The page asking whether to sign out: a form posting to `end_session` with a CSRF token.
fn ask<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let token = super::consent::csrf(state).token(req.cookies());
    let action = state.endpoint("end_session");
    let page = format!(
        "<!DOCTYPE html><title>Sign out?</title><form method=\"post\" action=\"{}\">\
         <p>Sign out of {}?</p><input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form>",
        escape(&action),
        escape(&state.config.issuer),
        escape(&token),
    );
    super::unframed(Outcome::from(req, rocket::response::content::RawHtml(page)))
}

/// `POST end_session`: the answer to [`ask`]: signs out when the form's CSRF token is this
/// browser's and the request comes from this server's own page.
pub(super) async fn end_session_confirmed<'r>(
    req: &'r Request<'_>,
    data: rocket::data::Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let origin = state.issuer.origin().ascii_serialization();
    let same_origin = crate::pages::csrf::same_origin(req, &origin);
    let token = super::read_form(req, data).await;
    let token = token.as_ref().and_then(|form| form.get("csrf_token"));
    let valid = token.is_some_and(|t| super::consent::csrf(state).check(req.cookies(), t));
    if !(same_origin && valid) {
        return Outcome::from(
            req,
            (
                Status::Forbidden,
                rocket::response::content::RawHtml(
                    "<!DOCTYPE html><title>Refused</title><p>The sign-out form expired.</p>",
                ),
            ),
        );
    }
    let sid = logout::current_session(req, state).await;
    state.owner.sign_out(req).await;
    let frames = logout::end(req.cookies(), state, sid).await;
    signed_out(req, &frames, None)
}
