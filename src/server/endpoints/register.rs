//! RFC 7591 dynamic client registration (`oauth_server.dynamic_registration`): an app
//! posts its metadata and gets a client id (and a secret, shown once), stored like the
//! [`ClientRegistry`](crate::server::ClientRegistry)'s clients.

use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde::Deserialize;
use serde_json::json;

use super::{invalid_token, json_response, oauth_error};
use crate::server::config::{ClientAuthMethod, GrantType, RegisteredClient};
use crate::server::{ClientError, ClientRegistry, Registered, ServerState};
use crate::util::{ct_eq, now};

/// The largest registration body read.
const BODY_LIMIT: u64 = 16 * 1024;

/// The metadata read (RFC 7591 §2; others are ignored).
#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    logo_uri: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    #[serde(default)]
    frontchannel_logout_uri: Option<String>,
    #[serde(default)]
    frontchannel_logout_session_required: bool,
    #[serde(default)]
    jwks: Option<serde_json::Value>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    #[serde(default)]
    dpop_bound_access_tokens: bool,
}

fn invalid<'r>(req: &'r Request<'_>, error: &str, description: &str) -> Outcome<'r> {
    oauth_error(req, Status::BadRequest, error, description)
}

fn unavailable<'r>(req: &'r Request<'_>, e: &ClientError) -> Outcome<'r> {
    log::error!("rocket_oauth: dynamic registration failed: {e}");
    oauth_error(
        req,
        Status::ServiceUnavailable,
        "temporarily_unavailable",
        "the client registry is unavailable",
    )
}

/// `https`, or `http` on a loopback host (a native app's redirect, RFC 8252 §7.3).
fn acceptable_redirect(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.fragment().is_none()
            && (u.scheme() == "https" || (u.scheme() == "http" && crate::util::is_loopback(&u)))
    })
}

pub(super) async fn register<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    if let Some(expected) = &state.config.registration_token {
        if !crate::bearer::token(req).is_some_and(|given| ct_eq(expected.expose(), given)) {
            return invalid_token(req);
        }
    }
    if req.content_type().is_none_or(|ct| !ct.is_json()) {
        return invalid(req, "invalid_client_metadata", "expected a JSON body");
    }
    let body = match data.open(BODY_LIMIT.bytes()).into_bytes().await {
        Ok(body) if body.is_complete() => body.into_inner(),
        _ => return invalid(req, "invalid_client_metadata", "the body is too large"),
    };
    let Ok(metadata) = serde_json::from_slice::<Metadata>(&body) else {
        return invalid(
            req,
            "invalid_client_metadata",
            "the body is not client metadata",
        );
    };
    let asked = match Asked::of(state, metadata) {
        Ok(asked) => asked,
        Err((error, description)) => return invalid(req, error, &description),
    };
    // Only registrations that would be stored count.
    if !state.registrations.allow(req.client_ip(), now()) {
        return oauth_error(
            req,
            Status::TooManyRequests,
            "temporarily_unavailable",
            "too many registrations; try again in a minute",
        );
    }
    let registry = ClientRegistry::from_state(state);
    match registry.list().await {
        Ok(clients) => {
            let registered = clients.iter().filter(|c| c.registered_at.is_some());
            if registered.count() >= state.config.registration_limit {
                return full(req);
            }
        }
        Err(e) => return unavailable(req, &e),
    }
    let Asked {
        mut client,
        response_types,
        auth_method,
    } = asked;
    client.registered_at = Some(now());
    let registered = match registry.create(client).await {
        Ok(registered) => registered,
        Err(ClientError::Invalid { reason, .. }) => {
            return invalid(req, "invalid_client_metadata", &reason)
        }
        Err(e) => return unavailable(req, &e),
    };
    json_response(
        req,
        Status::Created,
        response(registered, response_types, auth_method),
    )
}

/// `503`: the registration limit is reached.
fn full<'r>(req: &'r Request<'_>) -> Outcome<'r> {
    oauth_error(
        req,
        Status::ServiceUnavailable,
        "temporarily_unavailable",
        "the server registers no more clients",
    )
}

/// The registration response (RFC 7591 §3.2.1): the client's metadata, and its secret.
fn response(
    registered: Registered,
    response_types: Vec<String>,
    auth_method: String,
) -> serde_json::Value {
    let client = registered.client;
    let mut body = json!({
        "client_id": client.id,
        "client_id_issued_at": now(),
        "client_name": client.display_name(),
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "frontchannel_logout_uri": client.frontchannel_logout_uri,
        "frontchannel_logout_session_required": client.frontchannel_logout_session_required,
        "grant_types": client.grant_types.iter().map(|g| g.name()).collect::<Vec<_>>(),
        "response_types": response_types,
        "scope": client.scopes.join(" "),
        "token_endpoint_auth_method": auth_method,
    });
    if let Some(jwks) = &client.jwks {
        body["jwks"] = jwks.clone();
    }
    if let Some(uri) = &client.jwks_uri {
        body["jwks_uri"] = json!(uri);
    }
    for (name, on) in [
        (
            "require_pushed_authorization_requests",
            client.require_pushed_authorization_requests,
        ),
        ("dpop_bound_access_tokens", client.dpop_bound_access_tokens),
    ] {
        if on {
            body[name] = json!(true);
        }
    }
    if let Some(secret) = registered.secret {
        body["client_secret"] = json!(secret);
        body["client_secret_expires_at"] = json!(0);
    }
    body
}

/// A registration request's metadata, validated: the client to create and what the
/// response states.
struct Asked {
    client: RegisteredClient,
    response_types: Vec<String>,
    auth_method: String,
}

/// An RFC 7591 error code and its description.
type Refusal = (&'static str, String);

impl Asked {
    fn of(state: &ServerState, metadata: Metadata) -> Result<Asked, Refusal> {
        check_uris(&metadata)?;
        let refuse = |error: &'static str, description: &str| Err((error, description.to_owned()));
        let auth_method = metadata
            .token_endpoint_auth_method
            .clone()
            .unwrap_or_else(|| "client_secret_basic".into());
        let keys = auth_method == "private_key_jwt";
        let public =
            match auth_method.as_str() {
                _ if state.config.fapi2 && !keys => {
                    return refuse(
                        "invalid_client_metadata",
                        "token_endpoint_auth_method must be private_key_jwt (FAPI 2.0)",
                    )
                }
                "client_secret_basic" | "client_secret_post" | "private_key_jwt" => false,
                "none" => true,
                _ => return refuse(
                    "invalid_client_metadata",
                    "token_endpoint_auth_method must be client_secret_basic, client_secret_post, \
                 private_key_jwt or none",
                ),
            };
        if keys {
            check_keys(&metadata)?;
        }
        // RFC 7591 §2: `authorization_code` unless the client says otherwise.
        let names = metadata
            .grant_types
            .unwrap_or_else(|| vec!["authorization_code".into()]);
        let grants = grants(&names, public)?;
        let response_types = metadata
            .response_types
            .unwrap_or_else(|| vec!["code".into()]);
        if response_types.iter().any(|r| r != "code") {
            return refuse(
                "invalid_client_metadata",
                "only the `code` response type is supported",
            );
        }
        let uses_code = grants.contains(&GrantType::AuthorizationCode);
        if uses_code && metadata.redirect_uris.is_empty() {
            return refuse("invalid_redirect_uri", "redirect_uris are required");
        }
        let scopes = registrable_scopes(state, metadata.scope.as_deref())?;
        let mut client = if public || keys {
            RegisteredClient::public()
        } else {
            RegisteredClient::confidential()
        }
        .scopes(scopes)
        .grant_types(grants);
        if keys {
            client.token_endpoint_auth_method = Some(ClientAuthMethod::PrivateKeyJwt);
            client.jwks = metadata.jwks;
            client.jwks_uri = metadata.jwks_uri;
        }
        client.require_pushed_authorization_requests =
            metadata.require_pushed_authorization_requests;
        client.dpop_bound_access_tokens = metadata.dpop_bound_access_tokens;
        client.name = metadata.client_name.map(|n| n.chars().take(100).collect());
        client.image_url = metadata.logo_uri.filter(|u| u.starts_with("https://"));
        client.redirect_uris = metadata.redirect_uris;
        client.post_logout_redirect_uris = metadata.post_logout_redirect_uris;
        client.backchannel_logout_uri = metadata.backchannel_logout_uri;
        client.backchannel_logout_session_required = metadata.backchannel_logout_session_required;
        client.frontchannel_logout_uri = metadata.frontchannel_logout_uri;
        client.frontchannel_logout_session_required = metadata.frontchannel_logout_session_required;
        Ok(Asked {
            client,
            response_types,
            auth_method,
        })
    }
}

/// The grants a registration names, each once; `client_credentials` only for confidential
/// clients.
fn grants(names: &[String], public: bool) -> Result<Vec<GrantType>, Refusal> {
    let refuse = |description: &str| Err(("invalid_client_metadata", description.to_owned()));
    let mut grants = Vec::new();
    for name in names {
        match GrantType::from_name(name) {
            Some(GrantType::ClientCredentials) if public => {
                return refuse("client_credentials needs a confidential client")
            }
            Some(grant) if !grants.contains(&grant) => grants.push(grant),
            Some(_) => {}
            None => return refuse("a grant type is not supported for this client"),
        }
    }
    Ok(grants)
}

/// The URIs of a registration: where the browser goes or what it frames, and where this
/// server posts.
fn check_uris(metadata: &Metadata) -> Result<(), Refusal> {
    // Where the browser goes or what it frames: `https` (or loopback `http`) only.
    let uris = metadata
        .redirect_uris
        .iter()
        .chain(&metadata.post_logout_redirect_uris)
        .chain(&metadata.frontchannel_logout_uri);
    if let Some(bad) = uris.into_iter().find(|u| !acceptable_redirect(u)) {
        let description =
            format!("`{bad}` must be https (or http on a loopback host), without a fragment");
        return Err(("invalid_redirect_uri", description));
    }
    // Where this server itself will post: `https` to a host name (resolved to public
    // addresses only at delivery), never this machine or an address literal.
    if let Some(uri) = &metadata.backchannel_logout_uri {
        if !acceptable_backchannel(uri) {
            return Err((
                "invalid_client_metadata",
                "the backchannel_logout_uri must be https to a public host name".into(),
            ));
        }
    }
    Ok(())
}

/// A `private_key_jwt` registration's keys: a JWK Set of public keys, or a `jwks_uri` this
/// server may fetch (`https` to a host name, resolved to public addresses only).
fn check_keys(metadata: &Metadata) -> Result<(), Refusal> {
    let refuse = |description: &str| Err(("invalid_client_metadata", description.to_owned()));
    match (&metadata.jwks, &metadata.jwks_uri) {
        (Some(jwks), None) => {
            let keys = jwks.get("keys").and_then(serde_json::Value::as_array);
            let public = |key: &serde_json::Value| {
                ["d", "k", "p", "q"].iter().all(|m| key.get(*m).is_none())
            };
            match keys {
                Some(keys) if !keys.is_empty() && keys.iter().all(public) => Ok(()),
                _ => refuse("jwks must be a JWK Set of public keys"),
            }
        }
        (None, Some(uri)) if acceptable_backchannel(uri) => Ok(()),
        (None, Some(_)) => refuse("the jwks_uri must be https to a public host name"),
        _ => refuse("private_key_jwt needs jwks or jwks_uri (one of them)"),
    }
}

/// Whether a self-registered client's `backchannel_logout_uri` may be posted to: `https`,
/// a host name (no address literal, not `localhost`), no fragment.
fn acceptable_backchannel(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    url.scheme() == "https"
        && url.fragment().is_none()
        && matches!(url.host(), Some(url::Host::Domain(_)))
        && !crate::util::is_loopback(&url)
}

/// The scopes a registration asks for (all it may have when it names none), if it may have
/// them all: only what `registration_scopes` grants (nothing when it is unset).
fn registrable_scopes(state: &ServerState, asked: Option<&str>) -> Result<Vec<String>, Refusal> {
    let registrable: Vec<&String> = state.config.registration_scopes.iter().flatten().collect();
    let scopes: Vec<String> = match asked {
        Some(scope) => scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => registrable.iter().map(|s| (*s).clone()).collect(),
    };
    if scopes.iter().any(|s| !registrable.contains(&s)) {
        return Err((
            "invalid_client_metadata",
            "a requested scope cannot be registered".into(),
        ));
    }
    Ok(scopes)
}
