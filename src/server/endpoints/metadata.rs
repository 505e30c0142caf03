//! Authorization server metadata (RFC 8414) and the OpenID Provider's discovery document
//! (OpenID Connect Discovery 1.0 §3): one description of what the server does.

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::{json, Value};

use super::json_response;
use crate::server::ServerState;

/// What the server supports, as both documents say it.
fn document(state: &ServerState) -> Value {
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
    if state.config.dynamic_registration {
        body["registration_endpoint"] = json!(state.endpoint("register"));
    }
    if let Some(signer) = &state.signer {
        body["jwks_uri"] = json!(state.endpoint("jwks"));
        body["userinfo_endpoint"] = json!(state.endpoint("userinfo"));
        body["end_session_endpoint"] = json!(state.endpoint("end_session"));
        body["id_token_signing_alg_values_supported"] = json!(signer.algorithms());
        body["subject_types_supported"] = json!(["public"]);
    }
    body
}

/// RFC 8414 metadata.
pub(super) fn metadata<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    json_response(req, Status::Ok, document(state))
}

/// OpenID Connect discovery: the metadata, `openid` among the scopes, and the claims.
pub(super) fn discovery<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let mut body = document(state);
    let mut scopes: Vec<&str> = state.config.scopes.keys().map(String::as_str).collect();
    if !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    body["scopes_supported"] = json!(scopes);
    body["claims_supported"] = json!([
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "name",
        "preferred_username",
        "email",
        "email_verified"
    ]);
    json_response(req, Status::Ok, body)
}
