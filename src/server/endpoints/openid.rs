//! The OpenID Provider's endpoints: the JWKS, userinfo (Bearer; GET and POST) and
//! RP-initiated logout (`end_session`). Mounted only with signing keys; discovery is in
//! `metadata`.

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::{json, Value};

use super::{bearer, invalid_token, json_response};
use crate::server::store::{TokenHash, TokenKind};
use crate::server::ServerState;
use crate::util::now;

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
/// must be a live access token granted `openid`.
pub(super) async fn userinfo<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let record = match bearer(req) {
        Some(token) => state
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
    let Some((owner, scopes)) = live.and_then(|r| Some((r.owner?, r.scopes))) else {
        return invalid_token(req);
    };
    let mut claims = state.owner.claims(&owner, &scopes).await;
    claims.insert("sub".into(), Value::String(owner));
    json_response(req, Status::Ok, Value::Object(claims))
}

/// OpenID Connect RP-Initiated Logout 1.0: signs the user out of the app
/// ([`ResourceOwner::sign_out`](crate::server::ResourceOwner::sign_out)), then sends the
/// browser to the client's registered `post_logout_redirect_uri` (with `state`), or shows
/// that they are signed out. The client is the one the `id_token_hint` (signed by this
/// provider) was issued to, or `client_id`.
pub(super) async fn end_session<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let query = req.uri().query().map(|q| q.as_str()).unwrap_or_default();
    let params = super::Params::parse(query.as_bytes());
    let hinted = match (params.get("id_token_hint"), state.keys().await) {
        (Some(hint), Some(Ok(keys))) => keys.hinted_client(hint, &state.config.issuer),
        _ => None,
    };
    let client = match hinted.as_deref().or(params.get("client_id")) {
        Some(id) => state.client(id).await.ok().flatten(),
        None => None,
    };
    state.owner.sign_out(req).await;
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
            Outcome::from(req, rocket::response::Redirect::to(to))
        }
        None => Outcome::from(
            req,
            rocket::response::content::RawHtml(
                "<!DOCTYPE html><title>Signed out</title><p>You are signed out.</p>",
            ),
        ),
    }
}
