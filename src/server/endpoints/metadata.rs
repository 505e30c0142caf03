//! Authorization server metadata (RFC 8414) and the OpenID Provider's discovery document
//! (OpenID Connect Discovery 1.0 §3): one description of what the server does; and the
//! protected resource metadata (RFC 9728) of the application's own API.

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::{json, Value};

use super::json_response;
use crate::protocol::oidc::dpop::DPOP_ALG_NAMES;
use crate::server::assertion::KEY_ALGS;
use crate::server::config::ClientAuthMethod;
use crate::server::ServerState;

/// What the server supports, as both documents say it.
/// `scopes`: every declared scope (runtime ones too).
fn document(state: &ServerState, scopes: &[&str]) -> Value {
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
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "device_authorization_endpoint": state.endpoint("device_authorization"),
        "token_endpoint_auth_methods_supported": auth_methods(state, true),
        "revocation_endpoint_auth_methods_supported": auth_methods(state, true),
        "introspection_endpoint_auth_methods_supported": auth_methods(state, false),
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs(),
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs(),
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs(),
        "code_challenge_methods_supported": methods,
        "scopes_supported": scopes,
        "authorization_response_iss_parameter_supported": true,
        // RFC 9126.
        "pushed_authorization_request_endpoint": state.endpoint("par"),
        "require_pushed_authorization_requests":
            state.config.require_pushed_authorization_requests || state.config.fapi2,
        // RFC 9449.
        "dpop_signing_alg_values_supported": DPOP_ALG_NAMES,
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
        // Back- and Front-Channel Logout 1.0: ID tokens and logout tokens carry `sid`.
        for supported in [
            "backchannel_logout_supported",
            "backchannel_logout_session_supported",
            "frontchannel_logout_supported",
            "frontchannel_logout_session_supported",
        ] {
            body[supported] = json!(true);
        }
    }
    body
}

/// The client authentication methods: with `fapi2`, `private_key_jwt` only; `none` (a
/// public client's bare id) where `public` clients may call.
fn auth_methods(state: &ServerState, public: bool) -> Vec<&'static str> {
    if state.config.fapi2 {
        return vec![ClientAuthMethod::PrivateKeyJwt.name()];
    }
    ClientAuthMethod::ALL
        .into_iter()
        .filter(|m| public || *m != ClientAuthMethod::None)
        .map(ClientAuthMethod::name)
        .collect()
}

/// What client assertions may be signed with (the algorithms' JOSE names).
fn assertion_algs() -> Vec<String> {
    let name = |alg| serde_json::to_value(alg).ok()?.as_str().map(str::to_owned);
    let mut algs: Vec<String> = KEY_ALGS.iter().filter_map(name).collect();
    algs.push("HS256".into());
    algs
}

/// RFC 8414 metadata.
pub(super) async fn metadata<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let scopes = state.scopes_shown().await;
    let scopes: Vec<&str> = scopes.keys().map(String::as_str).collect();
    json_response(req, Status::Ok, document(state, &scopes))
}

/// OpenID Connect discovery: the metadata, `openid` among the scopes, and the claims.
pub(super) async fn discovery<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let declared = state.scopes_shown().await;
    let mut scopes: Vec<&str> = declared.keys().map(String::as_str).collect();
    if !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    let mut body = document(state, &scopes);
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

/// RFC 9728: the application's own API (`oauth_server.resource`), and where its tokens come
/// from. Public, so any origin may read it (browser-based clients discover the server
/// through it).
pub(super) async fn protected_resource<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
) -> Outcome<'r> {
    // A client that discovers the server here usually registers itself: the scopes it may
    // then have (asking for more would fail its registration).
    let scopes: Vec<String> = match &state.config.registration_scopes {
        Some(registrable) if state.config.dynamic_registration => registrable.clone(),
        _ => state.scopes_shown().await.into_keys().collect(),
    };
    let body = json!({
        "resource": state.resources.own,
        "authorization_servers": [state.config.issuer],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": DPOP_ALG_NAMES,
    });
    let mut outcome = json_response(req, Status::Ok, body);
    if let Outcome::Success(response) = &mut outcome {
        response.set_header(rocket::http::Header::new(
            "Access-Control-Allow-Origin",
            "*",
        ));
    }
    outcome
}
