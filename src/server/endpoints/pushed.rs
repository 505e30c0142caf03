//! Pushed authorization requests' `request_uri`s (RFC 9126 §2.2): the parameters sealed
//! (AES-256-GCM under a key derived from the app's `secret_key`, so every instance opens
//! them; the client id is the associated data) with an expiry, made by the `par` endpoint,
//! read by `authorize`. A request is used once: when the user answers the consent form (it
//! survives a detour through the sign-in page and a reload of the consent page until then).

use serde::{Deserialize, Serialize};

use super::Params;
use crate::server::store::TokenHash;
use crate::server::ServerState;
use crate::util::now;

/// What every `request_uri` of this server starts with (RFC 9126 §2.2).
const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A pushed request, as sealed into its `request_uri`.
#[derive(Serialize, Deserialize)]
struct Pushed {
    exp: i64,
    params: Vec<(String, String)>,
}

/// How long a `request_uri` may be used, seconds.
pub(super) fn lifetime(state: &ServerState) -> i64 {
    i64::try_from(state.config.pushed_request_ttl).unwrap_or(60)
}

/// The `request_uri` of client `client_id`'s request `params`.
pub(super) fn seal(
    state: &ServerState,
    client_id: &str,
    params: Vec<(String, String)>,
) -> Option<String> {
    let sealed = Pushed {
        exp: now().saturating_add(lifetime(state)),
        params,
    };
    let plaintext = serde_json::to_string(&sealed).ok()?;
    Some(format!(
        "{PREFIX}{}",
        state.pushed.seal(client_id, &plaintext)
    ))
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
    let until = now().saturating_add(lifetime(state));
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
