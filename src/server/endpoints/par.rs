//! The pushed authorization request endpoint (RFC 9126): the client posts its authorization
//! request's parameters, authenticated as at the token endpoint, and gets a `request_uri`
//! that `authorize` then takes with its `client_id` alone, so that nothing of the request
//! travels through the browser or can be changed there. A DPoP proof on the request binds
//! the code to its key (RFC 9449 §10.1).

use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;

use super::client_auth::authenticated_form;
use super::{json_response, oauth_error, proof_key, pushed, Params};
use crate::server::ServerState;
use crate::util::ct_eq;

/// Parameters that authenticate the client at this endpoint, not part of the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// `POST <base_path>/par`: checks the request as `authorize` would and answers `201` with
/// its `request_uri` and lifetime.
pub(super) async fn push<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    // The proof first (as at the token endpoint): a request sent again with a server nonce
    // must find its client assertion unspent.
    let jkt = match proof_key(req, state, "par") {
        Ok(jkt) => jkt,
        Err(outcome) => return *outcome,
    };
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
    // RFC 9449 §10.1: the proof binds the code to its key, which `dpop_jkt` must then name.
    if let Some(jkt) = jkt {
        match params.get("dpop_jkt") {
            None => pairs.push(("dpop_jkt".into(), jkt)),
            Some(named) if ct_eq(named, &jkt) => {}
            Some(_) => {
                return oauth_error(
                    req,
                    Status::BadRequest,
                    "invalid_dpop_proof",
                    "dpop_jkt names another key than the DPoP proof's",
                )
            }
        }
    }
    let mut pushed = Params::from_pairs(&pairs);
    pushed.pushed = true;
    if let Err((error, description)) = super::authorize::check(state, &pushed).await {
        return oauth_error(req, Status::BadRequest, error, &description);
    }
    let Some(request_uri) = pushed::seal(state, &client.id, pairs) else {
        return invalid("the request cannot be kept");
    };
    let body = json!({ "request_uri": request_uri, "expires_in": pushed::lifetime(state) });
    json_response(req, Status::Created, body)
}
