//! Token introspection (RFC 7662).

use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;

use super::client_auth::client_and_token;
use super::{json_response, oauth_error};
use crate::server::store::{TokenKind, TokenRecord};
use crate::server::ServerState;
use crate::util::now;

pub(super) async fn introspect<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let (client, record) = match client_and_token(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    if !client.is_confidential() {
        return oauth_error(
            req,
            Status::Unauthorized,
            "invalid_client",
            "introspection needs a confidential client",
        );
    }
    // Only the token's own client, or a resource server, may learn about it; a resource
    // server never sees a refresh token as active (it is no access token).
    let visible = |r: &TokenRecord| {
        r.client_id == client.id || (client.resource_server && r.kind == TokenKind::Access)
    };
    let body = match record {
        Some(r) if r.is_active(now()) && visible(&r) => {
            let mut body = json!({
                "active": true,
                "scope": r.scopes.join(" "),
                "client_id": r.client_id,
                "username": r.owner,
                "sub": r.owner.as_deref().unwrap_or(&r.client_id),
                "exp": r.expires_at,
                "token_type": match (r.kind, &r.jkt) {
                    (TokenKind::Access, None) => "Bearer",
                    (TokenKind::Access, Some(_)) => "DPoP",
                    (TokenKind::Refresh, _) => "refresh_token",
                },
                "iss": state.config.issuer,
            });
            // RFC 8707: the resources it is for.
            match r.audience.as_slice() {
                [] => {}
                [one] => body["aud"] = json!(one),
                many => body["aud"] = json!(many),
            }
            // RFC 9449 §6.2: the key it is bound to.
            if let Some(jkt) = &r.jkt {
                body["cnf"] = json!({ "jkt": jkt });
            }
            body
        }
        _ => json!({ "active": false }),
    };
    json_response(req, Status::Ok, body)
}
