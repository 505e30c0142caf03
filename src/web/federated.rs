//! Federated logout's routes: `POST backchannel-logout` (OpenID Connect Back-Channel Logout
//! 1.0), where the provider posts a logout token when the user signs out there, and `GET
//! frontchannel-logout` (Front-Channel Logout 1.0), the page it loads in an iframe instead.

use rocket::data::{Data, ToByteUnit};
use rocket::http::{Header, Status};
use rocket::response::{content::RawHtml, Responder};
use rocket::route::Outcome;
use rocket::serde::json::Json;
use rocket::Request;
use serde_json::json;
use url::Url;

use crate::login::Login;
use crate::protocol::error::LogoutTokenError;
use crate::protocol::flow::CallbackParams;
use crate::provider::Provider;
use crate::util::now;
use crate::web::state::ProviderState;

/// The largest logout request body read.
const LOGOUT_FORM_LIMIT: u64 = 16 * 1024;

/// Where the provider posts logout tokens, relative to the provider's base path.
pub(crate) const BACKCHANNEL_PATH: &str = "/backchannel-logout";
/// The page the provider loads at its logout, relative to the provider's base path.
pub(crate) const FRONTCHANNEL_PATH: &str = "/frontchannel-logout";

/// `POST backchannel-logout`: ends the sessions a valid logout token names. `200` when it
/// is valid (whether or not a session was left to end), `400` with the specification's
/// `invalid_request` otherwise; never a 5xx (a store that fails is a `400` too, so that the
/// provider records the logout as failed).
pub(crate) async fn backchannel<'r, P: Provider>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ProviderState<P>,
) -> Outcome<'r> {
    let result = match logout_token(req, data).await {
        Some(raw) => end_by_token(req, state, &raw).await,
        None => Err("the request has no logout_token form field".to_owned()),
    };
    match result {
        Ok(()) => Outcome::from(req, Status::Ok),
        Err(why) => {
            // The detail (a key fetch's error, say) is for the log, not the caller.
            log::warn!("a `{}` back-channel logout was refused: {why}", state.name);
            let body = json!({
                "error": "invalid_request",
                "error_description": "the logout request was refused",
            });
            Outcome::from(req, (Status::BadRequest, Json(body)))
        }
    }
}

/// The form's `logout_token`.
async fn logout_token(req: &Request<'_>, data: Data<'_>) -> Option<String> {
    if !req.content_type().is_some_and(|t| t.media_type().is_form()) {
        return None;
    }
    let bytes = data
        .open(LOGOUT_FORM_LIMIT.bytes())
        .into_bytes()
        .await
        .ok()?;
    if !bytes.is_complete() {
        return None;
    }
    let form = CallbackParams::parse(&bytes.into_inner(), 8).ok()?;
    form.get("logout_token").map(str::to_owned)
}

async fn end_by_token<P: Provider>(
    req: &Request<'_>,
    state: &ProviderState<P>,
    raw: &str,
) -> Result<(), String> {
    let claims = state
        .flow
        .logout_token(&state.http, raw, now())
        .await
        .map_err(|e| e.to_string())?;
    match state.sessions.first_use(&claims.jti, claims.until).await {
        Ok(true) => {}
        Ok(false) => return Err(LogoutTokenError::Replayed.to_string()),
        Err(e) => {
            log::error!("recording a `{}` logout token failed: {e}", state.name);
            return Err("the logout could not be recorded".to_owned());
        }
    }
    let ended = match state
        .sessions
        .end_provider_session(claims.sub.as_deref(), claims.sid.as_deref())
        .await
    {
        Ok(ended) => ended,
        Err(e) => {
            // The provider retries a failed logout: that must not read as a replay.
            state.sessions.forget_use(&claims.jti).await;
            return Err(format!("the sessions could not be ended: {e}"));
        }
    };
    log::info!(
        "`{}` logged out {} session(s) over the back channel",
        state.name,
        ended.len()
    );
    after_logout(req, state, &ended).await;
    Ok(())
}

async fn after_logout<P: Provider>(req: &Request<'_>, state: &ProviderState<P>, ended: &[Login]) {
    for login in ended {
        state.hooks.after_logout(Some(login), req).await;
    }
}

/// `GET frontchannel-logout?iss=…&sid=…`: ends this browser's session when it belongs to
/// the provider session `sid` (or, without `iss` and `sid`, whatever it is); `iss` and `sid`
/// come together or not at all (§2). A browser that does not send its cookie to the
/// provider's iframe (cookies are `SameSite=Lax`, and browsers block third-party cookies)
/// is logged out through the session store instead, by `sid`: the provider's session id,
/// which it shares with its clients only.
pub(crate) async fn frontchannel<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
) -> Outcome<'r> {
    let param = |name: &str| req.query_value::<String>(name).and_then(Result::ok);
    let issuer = state.flow.issuer(&state.http).await;
    let refused = || Outcome::from(req, Frame::new(Status::BadRequest, issuer.as_deref()));
    let sid = match (param("iss"), param("sid")) {
        (None, None) => None,
        (Some(iss), Some(sid)) if state.flow.is_issuer(&state.http, &iss).await => Some(sid),
        _ => return refused(),
    };
    let mut ended = Vec::new();
    let browser = state.sessions.load(req.cookies()).await;
    let theirs = browser.and_then(|s| s.login.provider_session.clone());
    match &sid {
        Some(sid) if theirs.as_ref() != Some(sid) => {
            match state.sessions.end_provider_session(None, Some(sid)).await {
                Ok(logins) => ended = logins,
                Err(e) => log::warn!(
                    "a `{}` front-channel logout ended no session: {e}",
                    state.name
                ),
            }
        }
        _ => ended.extend(state.sessions.end(req.cookies()).await),
    }
    after_logout(req, state, &ended).await;
    Outcome::from(req, Frame::new(Status::Ok, issuer.as_deref()))
}

/// The front-channel page: never cached, and framable by the provider only.
struct Frame {
    status: Status,
    frame_ancestors: String,
}

impl Frame {
    fn new(status: Status, issuer: Option<&str>) -> Self {
        let origin = issuer
            .and_then(|i| Url::parse(i).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null");
        Frame {
            status,
            frame_ancestors: format!("frame-ancestors 'self' {}", origin.unwrap_or_default()),
        }
    }
}

impl<'r> Responder<'r, 'static> for Frame {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let text = if self.status == Status::Ok {
            "Signed out."
        } else {
            "Not this provider's logout."
        };
        let page =
            format!("<!doctype html><meta charset=\"utf-8\"><title>{text}</title><p>{text}</p>");
        let mut response = RawHtml(page).respond_to(req)?;
        response.set_status(self.status);
        // OpenID Connect Front-Channel Logout 1.0 §3.
        response.set_header(Header::new("Cache-Control", "no-cache, no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
        // Overrides `X-Frame-Options` (Rocket's Shield) in browsers: the provider frames it.
        response.set_header(Header::new(
            "Content-Security-Policy",
            self.frame_ancestors.trim_end().to_owned(),
        ));
        Ok(response)
    }
}
