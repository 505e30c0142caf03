//! The pushed authorization request endpoint (RFC 9126): the client posts its authorization
//! request's parameters, authenticated as at the token endpoint, and gets a `request_uri`
//! that `authorize` then takes with its `client_id` alone, so that nothing of the request
//! travels through the browser or can be changed there.

use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;

use super::client_auth::authenticated_form;
use super::{json_response, oauth_error, pushed, Params};
use crate::server::ServerState;

/// Parameters that authenticate the client at this endpoint, not part of the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

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
    let Some(request_uri) = pushed::seal(state, &client.id, pairs) else {
        return invalid("the request cannot be kept");
    };
    let body = json!({ "request_uri": request_uri, "expires_in": pushed::lifetime(state) });
    json_response(req, Status::Created, body)
}
