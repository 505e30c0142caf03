//! Token revocation (RFC 7009).

use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;

use super::client_auth::client_and_token;
use super::{json_response, oauth_error};
use crate::server::store::TokenKind;
use crate::server::ServerState;

pub(super) async fn revoke<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let (client, record) = match client_and_token(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    // RFC 7009 §2.2: unknown tokens and other clients' tokens get the same 200.
    if let Some(record) = record.filter(|r| r.client_id == client.id) {
        let result = match record.kind {
            TokenKind::Refresh => state.store.revoke_family(&record.family).await,
            TokenKind::Access => state.store.revoke_token(&record.hash).await,
        };
        if let Err(e) = result {
            log::error!("{e}");
            return oauth_error(
                req,
                Status::ServiceUnavailable,
                "temporarily_unavailable",
                "try again",
            );
        }
    }
    json_response(req, Status::Ok, json!({}))
}
