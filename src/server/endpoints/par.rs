//! Pushed authorization requests (RFC 9126): the client posts its authorization request's
//! parameters, authenticated as at the token endpoint, and gets a `request_uri` that
//! `authorize` then takes with its `client_id` alone, so that nothing of the request
//! travels through the browser or can be changed there.
//!
//! The `request_uri` is the parameters sealed (AES-256-GCM under a key derived from the
//! app's `secret_key`, so every instance opens it; the client id is the associated data)
//! with an expiry. It is used once: when the user answers the consent form (it survives a
//! detour through the sign-in page and a reload of the consent page until then).

use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client_auth::authenticated_form;
use super::{json_response, oauth_error, Params};
use crate::server::store::TokenHash;
use crate::server::ServerState;
use crate::util::now;

/// What every `request_uri` of this server starts with (RFC 9126 §2.2).
const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Parameters that authenticate the client at this endpoint, not part of the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed request, as sealed into its `request_uri`.
#[derive(Serialize, Deserialize)]
struct Pushed {
    exp: i64,
    params: Vec<(String, String)>,
}

/// `POST <base_path>/par`: checks the request as `authorize` would and answers `201` with
/// its `request_uri` and lifetime.
pub(super) async fn push<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let (params, client) = match authenticated_form(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let invalid = |why: &str| oauth_error(req, Status::BadRequest, "invalid_request", why);
    if params.get("request_uri").is_some() {
        return invalid("request_uri cannot be pushed");
    }
    if params.get("request").is_some() {
        return oauth_error(
            req,
            Status::BadRequest,
            "request_not_supported",
            "request objects are not supported",
        );
    }
    let mut pairs: Vec<(String, String)> = params
        .pairs()
        .filter(|(k, _)| !CLIENT_AUTH.contains(k) && *k != "client_id")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    pairs.push(("client_id".into(), client.id.clone()));
    let mut pushed = Params::from_pairs(&pairs);
    pushed.pushed = true;
    if let Err((error, description)) = super::authorize::check(state, &pushed).await {
        return oauth_error(req, Status::BadRequest, error, &description);
    }
    let ttl = i64::try_from(state.config.pushed_request_ttl).unwrap_or(60);
    let sealed = Pushed {
        exp: now().saturating_add(ttl),
        params: pairs,
    };
    let Ok(plaintext) = serde_json::to_string(&sealed) else {
        return invalid("the request cannot be kept");
    };
    let request_uri = format!("{PREFIX}{}", state.pushed.seal(&client.id, &plaintext));
    let body = json!({ "request_uri": request_uri, "expires_in": ttl });
    json_response(req, Status::Created, body)
}

/// The parameters of the pushed request an authorization request names (`request_uri` and
/// `client_id`), if it names one; `Err` (a page's message) when it is unknown, expired,
/// another client's, or comes with other parameters that would differ.
pub(super) fn resolve(state: &ServerState, params: &Params) -> Result<Option<Params>, String> {
    let Some(request_uri) = params.get("request_uri") else {
        return Ok(None);
    };
    let refused = || "the pushed authorization request is unknown or expired".to_owned();
    let client_id = params
        .get("client_id")
        .ok_or_else(|| "the request has no client_id".to_owned())?;
    let sealed = request_uri.strip_prefix(PREFIX).ok_or_else(refused)?;
    let plaintext = state.pushed.open(client_id, sealed).ok_or_else(refused)?;
    let pushed: Pushed = serde_json::from_str(&plaintext).map_err(|_| refused())?;
    if pushed.exp <= now() {
        return Err(refused());
    }
    let mut resolved = Params::from_pairs(&pushed.params);
    resolved.pushed = true;
    Ok(Some(resolved))
}

/// Uses the pushed request an answered consent form names, once; `Err` (a page's message)
/// when it was used already.
pub(super) async fn use_once(state: &ServerState, params: &Params) -> Result<(), String> {
    let Some(request_uri) = params.get("request_uri") else {
        return Ok(());
    };
    let ttl = i64::try_from(state.config.pushed_request_ttl).unwrap_or(60);
    let until = now().saturating_add(ttl);
    match state
        .store
        .use_once(&TokenHash::of(request_uri), until)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err("this authorization request was answered already".into()),
        Err(e) => {
            log::error!("rocket_oauth: {e}");
            Err("the server's store is unavailable; please try again".into())
        }
    }
}
