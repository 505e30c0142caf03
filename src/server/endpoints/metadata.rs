//! Authorization server metadata (RFC 8414).

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;

use super::json_response;
use crate::server::ServerState;

pub(super) fn metadata<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let mut methods = vec!["S256"];
    if state.config.allow_plain_pkce {
        methods.push("plain");
    }
    let mut body = json!({
        "issuer": state.config.issuer,
        "authorization_endpoint": state.endpoint("authorize"),
        "token_endpoint": state.endpoint("token"),
        "revocation_endpoint": state.endpoint("revoke"),
        "introspection_endpoint": state.endpoint("introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": methods,
        "scopes_supported": state.config.scopes.keys().collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
    });
    if state.signer.is_some() {
        body["jwks_uri"] = json!(state.endpoint("jwks"));
        body["userinfo_endpoint"] = json!(state.endpoint("userinfo"));
        body["id_token_signing_alg_values_supported"] = json!(["RS256"]);
        body["subject_types_supported"] = json!(["public"]);
    }
    json_response(req, Status::Ok, body)
}
