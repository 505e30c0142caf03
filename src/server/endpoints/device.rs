//! RFC 8628, the device authorization grant: `POST device_authorization` (a device asks for
//! a device code and a user code), `GET/POST device` (the signed-in user enters the user
//! code, then consents), and the token endpoint's polling ([`poll`]).

use rocket::data::Data;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;
use serde_json::json;

use super::client_auth::authenticated_form;
use super::{forms, json_response, oauth_error, requested_scopes, Params};
use crate::pages::templates::{self, render};
use crate::server::config::{GrantType, RegisteredClient};
use crate::server::resources::INVALID_TARGET;
use crate::server::store::{DeviceGrant, DeviceStatus, TokenHash};
use crate::server::ServerState;
use crate::util::{now, random_token};

/// The letters of user codes: no vowels (no words), no look-alikes (no `0`/`O`, `1`/`I`).
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// A user code's length: 20⁸ ≈ 2.6 × 10¹⁰ codes, against a few guesses a minute.
const USER_CODE_LEN: usize = 8;
/// The page, as [`forms`] tokens name it.
const PAGE: &str = "device";

/// A fresh user code (normalized), from the OS generator.
fn user_code() -> Option<String> {
    use ring::rand::SecureRandom;
    let random = ring::rand::SystemRandom::new();
    let mut code = String::with_capacity(USER_CODE_LEN);
    while code.len() < USER_CODE_LEN {
        let mut bytes = [0u8; 16];
        random.fill(&mut bytes).ok()?;
        // Rejection sampling keeps every letter equally likely (240 = 12 × 20).
        for byte in bytes.into_iter().filter(|b| *b < 240) {
            if code.len() < USER_CODE_LEN {
                code.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Some(code)
}

/// A user code as typed: any case, with separators; `None` unless it has the right letters.
pub(super) fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let letters = code.bytes().all(|b| ALPHABET.contains(&b));
    (code.len() == USER_CODE_LEN && letters).then_some(code)
}

/// `XXXX-XXXX`, as shown (a code of another shape, as is).
fn shown(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(head), Some(tail)) if code.len() == USER_CODE_LEN => format!("{head}-{tail}"),
        _ => code.to_owned(),
    }
}

fn page_path(state: &ServerState) -> String {
    format!("{}/device", state.config.base_path.trim_end_matches('/'))
}

/// `POST device_authorization` (§3.1, §3.2).
pub(super) async fn authorization<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let (params, client) = match authenticated_form(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    if !state.device_requests.allow(req.client_ip(), now()) {
        let why = "too many device authorizations; try again in a minute";
        return oauth_error(req, Status::TooManyRequests, "slow_down", why);
    }
    if !client.allows(GrantType::DeviceCode) {
        let why = "the client may not use the device authorization grant";
        return oauth_error(req, Status::BadRequest, "unauthorized_client", why);
    }
    let grant = match asked(state, &client, &params).await {
        Ok(grant) => grant,
        Err((error, why)) => return oauth_error(req, Status::BadRequest, error, why),
    };
    let device_code = random_token();
    let Some(grant) = save(state, &device_code, grant).await else {
        let why = "the device authorization could not be stored";
        return oauth_error(
            req,
            Status::ServiceUnavailable,
            "temporarily_unavailable",
            why,
        );
    };
    let (user_code, interval) = (grant.user_code, grant.interval);
    let uri = format!(
        "{}{}",
        state.issuer.origin().ascii_serialization(),
        page_path(state)
    );
    let body = json!({
        "device_code": device_code,
        "user_code": shown(&user_code),
        "verification_uri": uri,
        "verification_uri_complete": format!("{uri}?user_code={}", shown(&user_code)),
        "expires_in": state.config.device_code_ttl,
        "interval": interval,
    });
    json_response(req, Status::Ok, body)
}

/// Saves `grant` under `device_code`, with a new user code when its own is taken (by a
/// code not purged yet): at most three tries. The grant as saved; `None` when it could not be.
async fn save(
    state: &ServerState,
    device_code: &str,
    mut grant: DeviceGrant,
) -> Option<DeviceGrant> {
    for attempt in 1..=3 {
        match state
            .store
            .save_device(TokenHash::of(device_code), grant.clone())
            .await
        {
            Ok(()) => return Some(grant),
            Err(e) => {
                log::warn!("rocket_oauth: saving a device authorization failed ({attempt}/3): {e}");
                grant.user_code = user_code()?;
            }
        }
    }
    None
}

/// The device authorization a request asks for: its scopes and resources checked, with a
/// fresh user code.
async fn asked(
    state: &ServerState,
    client: &RegisteredClient,
    params: &Params,
) -> Result<DeviceGrant, (&'static str, &'static str)> {
    let unavailable = ("temporarily_unavailable", "the store is unavailable");
    let allowed = state
        .allowed_scopes(client)
        .await
        .map_err(|_| unavailable)?;
    let scopes = requested_scopes(params, &allowed);
    if scopes.iter().any(|s| !allowed.contains(s)) {
        return Err((
            "invalid_scope",
            "a requested scope is not allowed for this client",
        ));
    }
    let mut resources = state.resources.requested(&params.resources).map_err(|_| {
        (
            INVALID_TARGET,
            "a resource is not one this server issues tokens for",
        )
    })?;
    if resources.is_empty() {
        // A grant is for this application's own API unless it names another.
        resources.push(state.resources.own.clone());
    }
    let ttl = i64::try_from(state.config.device_code_ttl).unwrap_or(i64::MAX);
    let code = user_code().ok_or(unavailable)?;
    let mut grant = DeviceGrant::new(&client.id, &code, scopes, now().saturating_add(ttl));
    grant.resources = resources;
    Ok(grant)
}

#[derive(Serialize)]
struct DevicePage<'a> {
    owner: &'a str,
    action: String,
    csrf_token: String,
    user_code: &'a str,
    message: &'a str,
    done: bool,
}

/// The device page for `owner`: the code form (prefilled with `user_code`, with `message`),
/// or (`done`) only `message`.
async fn device_page<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    owner: &str,
    (status, user_code, message, done): (Status, &str, &str, bool),
) -> Outcome<'r> {
    let context = DevicePage {
        owner,
        action: page_path(state),
        csrf_token: forms::token(state, req.cookies(), PAGE, owner),
        user_code,
        message,
        done,
    };
    let page = render(req, status, templates::DEVICE, &context).await;
    super::unframed(Outcome::from(req, page))
}

/// `GET device[?user_code=…]`: the code form, or the sign-in first.
pub(super) async fn page<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let typed = req.query_value::<&str>("user_code").and_then(Result::ok);
    let Some(owner) = state.owner.current(req).await else {
        let mut here = page_path(state);
        if let Some(code) = typed.and_then(normalize) {
            here = format!("{here}?user_code={}", shown(&code));
        }
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        let login = format!("{}?next={next}", state.config.login_url);
        return Outcome::from(req, Redirect::to(login));
    };
    let prefilled = typed
        .and_then(normalize)
        .map(|c| shown(&c))
        .unwrap_or_default();
    device_page(req, state, &owner, (Status::Ok, &prefilled, "", false)).await
}

/// `POST device`: a user code (then the consent page for it), or the answer to that page.
pub(super) async fn submit<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let Some(owner) = state.owner.current(req).await else {
        return Outcome::from(req, (Status::Forbidden, "sign in first"));
    };
    // The code form's token, or (answering the consent page) the token bound to the code
    // that page showed: guesses go through the code form, and its limit.
    let page_of = |form: &Params| match form.get("decision") {
        None => PAGE.to_owned(),
        Some(_) => consent_page_name(form.get("user_code").unwrap_or_default()),
    };
    let form = match forms::read_checked_as(req, data, state, &owner, page_of).await {
        Ok(form) => form,
        Err(refusal) => return Outcome::from(req, refusal),
    };
    let typed = form.get("user_code").unwrap_or_default();
    let again = |status, message| (status, typed, message, false);
    // Only looking a code up counts (answering the consent page is no guess).
    let lookup = form.get("decision").is_none();
    if lookup && !state.device_attempts.allow(req.client_ip(), now()) {
        let why = "too many codes tried; wait a minute";
        return device_page(req, state, &owner, again(Status::TooManyRequests, why)).await;
    }
    let found = match normalize(typed) {
        Some(code) => state.store.device_by_user_code(&code).await,
        None => Ok(None),
    };
    let (device, grant) = match found {
        Ok(Some((device, grant)))
            if grant.status == DeviceStatus::Pending && grant.expires_at > now() =>
        {
            (device, grant)
        }
        Ok(_) => {
            let why = "that code is unknown or has expired; check your device";
            return device_page(req, state, &owner, again(Status::BadRequest, why)).await;
        }
        Err(e) => {
            log::error!("rocket_oauth: reading a device authorization failed: {e}");
            let why = "the server's store is unavailable; please try again";
            return device_page(req, state, &owner, again(Status::ServiceUnavailable, why)).await;
        }
    };
    match form.get("decision") {
        None => consent_page(req, state, &owner, &grant).await,
        Some(decision) => {
            let approve = decision == "Accept";
            answer(req, state, &owner, (device, grant), approve).await
        }
    }
}

/// The consent page's name for its forms' tokens: bound to the code it shows.
fn consent_page_name(typed: &str) -> String {
    format!("{PAGE}:{}", normalize(typed).unwrap_or_default())
}

/// The consent page for a device's authorization, posting back to `device`.
async fn consent_page<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    owner: &str,
    grant: &DeviceGrant,
) -> Outcome<'r> {
    let client = state.client(&grant.client_id).await.ok().flatten();
    let name = client
        .as_ref()
        .map_or(grant.client_id.as_str(), |c| c.display_name());
    let declared = state.scopes_shown().await;
    let scopes: Vec<_> = grant
        .scopes
        .iter()
        .map(|name| {
            let description = declared.get(name).map_or(name.as_str(), String::as_str);
            json!({ "name": name, "description": description })
        })
        .collect();
    let context = json!({
        "client_name": name,
        "client_image": client.as_ref().and_then(|c| c.image_url.clone()),
        "owner": owner,
        "scopes": scopes,
        "action": page_path(state),
        "csrf_token": forms::token(state, req.cookies(), &consent_page_name(&grant.user_code), owner),
        "params": [{ "name": "user_code", "value": shown(&grant.user_code) }],
    });
    let page = render(req, Status::Ok, templates::CONSENT, &context).await;
    super::unframed(Outcome::from(req, page))
}

/// Approves (or declines) the device's authorization, once.
async fn answer<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    owner: &str,
    (device, grant): (TokenHash, DeviceGrant),
    approve: bool,
) -> Outcome<'r> {
    let mut answered = grant;
    answered.status = if approve {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Denied
    };
    answered.owner = Some(owner.to_owned());
    answered.auth_time = state.owner.authenticated_at(req).await;
    let message = match state
        .store
        .update_device(&device, DeviceStatus::Pending, answered)
        .await
    {
        Ok(true) if approve => "Done: your device is connected. You can close this page.",
        Ok(true) => "Declined: your device is not connected.",
        Ok(false) => "That code was answered already.",
        Err(e) => {
            log::error!("rocket_oauth: answering a device authorization failed: {e}");
            "The server's store is unavailable; please try again."
        }
    };
    device_page(req, state, owner, (Status::Ok, "", message, true)).await
}

/// What a device's poll at the token endpoint gets (§3.5).
pub(super) enum Polled {
    /// The user approved: the tokens may be issued, once ([`consume`]).
    Approved(TokenHash, DeviceGrant),
    /// An RFC 8628 error: `authorization_pending`, `slow_down`, `access_denied`,
    /// `expired_token`, or `invalid_grant`.
    Refused(&'static str),
    /// The store failed.
    Unavailable,
}

/// The device code's state, as a poll by `client_id` sees it: too early polls slow the
/// device down (its interval grows by five seconds), an approved one is used once.
pub(super) async fn poll(state: &ServerState, client_id: &str, device_code: &str) -> Polled {
    let device = TokenHash::of(device_code);
    let grant = match state.store.device(&device).await {
        Ok(Some(grant)) if grant.client_id == client_id => grant,
        Ok(_) => return Polled::Refused("invalid_grant"),
        Err(_) => return Polled::Unavailable,
    };
    let now = now();
    if grant.expires_at <= now {
        return Polled::Refused("expired_token");
    }
    match grant.status {
        DeviceStatus::Pending => {
            let early = now.saturating_sub(grant.last_poll) < grant.interval;
            let mut polled = grant.clone();
            polled.last_poll = now;
            if early {
                polled.interval = polled.interval.saturating_add(5);
            }
            // A lost race (the user answered meanwhile) is seen at the next poll.
            let _ = state
                .store
                .update_device(&device, DeviceStatus::Pending, polled)
                .await;
            Polled::Refused(if early {
                "slow_down"
            } else {
                "authorization_pending"
            })
        }
        DeviceStatus::Approved => Polled::Approved(device, grant),
        DeviceStatus::Denied => Polled::Refused("access_denied"),
        _ => Polled::Refused("invalid_grant"),
    }
}

/// Marks an approved device code used; `false` when another poll did first (a code gives
/// tokens once).
pub(super) async fn consume(
    state: &ServerState,
    device: &TokenHash,
    grant: &DeviceGrant,
) -> Result<bool, crate::server::ServerStoreError> {
    let mut used = grant.clone();
    used.status = DeviceStatus::Used;
    state
        .store
        .update_device(device, DeviceStatus::Approved, used)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_unambiguous_and_typed_leniently() {
        let code = user_code().unwrap();
        assert_eq!(code.len(), USER_CODE_LEN);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(user_code().unwrap(), code);
        assert_eq!(normalize(&shown(&code)), Some(code.clone()));
        assert_eq!(normalize(&shown(&code).to_lowercase()), Some(code.clone()));
        assert_eq!(normalize("bcdf ghjk"), Some("BCDFGHJK".into()));
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ0",
            "БCDF-GHJK",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Outside input: whatever is typed is a code or refused, never a panic.
        #[test]
        fn any_typed_code_is_harmless(typed in "\\PC{0,40}") {
            if let Some(code) = normalize(&typed) {
                proptest::prop_assert_eq!(code.len(), USER_CODE_LEN);
            }
        }
    }
}
