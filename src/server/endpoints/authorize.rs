//! The authorization endpoint: validation, the consent page (CSRF-checked), the code.

use percent_encoding::utf8_percent_encode;
use rocket::data::Data;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;
use url::Url;

use super::{read_form, requested_scopes, Params};
use std::borrow::Cow;

use super::consent::{self, Refused, Shown};
use crate::pages::templates::{self, render};
use crate::server::config::{GrantType, RegisteredClient};
use crate::server::resources::INVALID_TARGET;
use crate::server::store::{CodeGrant, TokenHash};
use crate::server::ServerState;
use crate::util::{now, random_token};

/// A validated authorization request.
struct AuthzRequest<'s> {
    client: Cow<'s, RegisteredClient>,
    redirect_uri: String,
    /// Whether the request named it (else: the client's only registered one).
    redirect_uri_given: bool,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: Option<(String, String)>,
    nonce: Option<String>,
    /// OpenID Connect's `max_age`, as given.
    max_age: Option<String>,
    /// RFC 8707: the resources the tokens are for.
    resources: Vec<String>,
    /// RFC 9449 §10: the DPoP key the code is bound to.
    dpop_jkt: Option<String>,
}

impl AuthzRequest<'_> {
    /// The request as the consent page shows it.
    fn shown(&self) -> Shown {
        Shown {
            client: self.client.id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scopes: self.scopes.clone(),
            challenge: self.challenge.clone(),
            nonce: self.nonce.clone(),
            state: self.state.clone(),
            max_age: self.max_age.clone(),
            resources: self.resources.clone(),
            dpop_jkt: self.dpop_jkt.clone(),
        }
    }
}

/// The store failed: a page (logged).
fn unavailable(e: crate::server::ServerStoreError) -> AuthzError {
    log::error!("rocket_oauth: {e}");
    AuthzError::Page("the server's store is unavailable; please try again".into())
}

/// Why an authorization request is refused.
enum AuthzError {
    /// The redirect URI cannot be trusted: show a page, never redirect.
    Page(String),
    /// The consent form was posted from another site.
    CrossSite,
    /// Tell the client, at its registered redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthzError {
    /// An error for the client, before the user has acted: at its redirect URI, unless the
    /// client registered itself (its redirect URIs are anyone's: a page, RFC 9700 §4.11.2).
    fn to_client(
        client: &RegisteredClient,
        redirect_uri: &str,
        state: &Option<String>,
        error: &'static str,
        description: &str,
    ) -> AuthzError {
        if client.registered_at.is_some() {
            return AuthzError::Page(format!("{error}: {description}"));
        }
        AuthzError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error,
            description: description.to_owned(),
        }
    }
}

async fn validate<'s>(
    state: &'s ServerState,
    params: &Params,
) -> Result<AuthzRequest<'s>, AuthzError> {
    for trusted in ["client_id", "redirect_uri"] {
        if params.duplicate.as_deref() == Some(trusted) {
            return Err(AuthzError::Page(format!("the request repeats `{trusted}`")));
        }
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AuthzError::Page("the request has no client_id".into()))?;
    let client = match state.client(client_id).await.map_err(unavailable)? {
        Some(client) => client,
        None => return Err(AuthzError::Page("the client is not registered".into())),
    };
    let redirect_uri = redirect_uri(&client, params.get("redirect_uri"))?;
    let client_state = params.get("state").map(str::to_owned);
    let fail = |error: &'static str, description: &str| {
        AuthzError::to_client(&client, &redirect_uri, &client_state, error, description)
    };
    if let Some(name) = &params.duplicate {
        return Err(fail(
            "invalid_request",
            &format!("the request repeats `{name}`"),
        ));
    }
    if params.get("response_type") != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(fail(
            "unauthorized_client",
            "the client may not use the authorization code grant",
        ));
    }
    profile_rules(state, &client, params).map_err(|why| fail("invalid_request", why))?;
    // PKCE protects the client from CSRF too (RFC 9700 §2.1): native and MCP clients that
    // use it often send no state.
    let pkce = params.get("code_challenge").is_some();
    if state.config.require_state && client_state.is_none() && !pkce {
        return Err(fail("invalid_request", "state is required"));
    }
    let allowed = state.allowed_scopes(&client).await.map_err(unavailable)?;
    let scopes: Vec<String> = requested_scopes(params, &allowed);
    if scopes.iter().any(|s| !allowed.contains(s)) {
        return Err(fail(
            "invalid_scope",
            "a requested scope is not allowed for this client",
        ));
    }
    let challenge = pkce_challenge(params, &client, state.config.allow_plain_pkce)
        .map_err(|why| fail("invalid_request", why))?;
    let mut resources = state.resources.requested(&params.resources).map_err(|_| {
        fail(
            INVALID_TARGET,
            "a resource is not one this server issues tokens for",
        )
    })?;
    if resources.is_empty() {
        // A grant is for this application's own API unless it names another.
        resources.push(state.resources.own.clone());
    }
    let dpop_jkt = dpop_jkt(params).map_err(|why| fail("invalid_request", why))?;
    Ok(AuthzRequest {
        resources,
        dpop_jkt,
        client,
        redirect_uri,
        redirect_uri_given: params.get("redirect_uri").is_some(),
        scopes,
        state: client_state,
        challenge,
        nonce: params.get("nonce").map(str::to_owned),
        max_age: params.get("max_age").map(str::to_owned),
    })
}

/// RFC 9449 §10: the key the code is to be bound to, a JWK SHA-256 thumbprint (RFC 7638:
/// 32 bytes, base64url unpadded), if the request names one.
fn dpop_jkt(params: &Params) -> Result<Option<String>, &'static str> {
    match params.get("dpop_jkt") {
        None => Ok(None),
        Some(jkt)
            if jkt.len() == 43
                && jkt
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(jkt.to_owned()))
        }
        Some(_) => Err("dpop_jkt is not a JWK SHA-256 thumbprint"),
    }
}

/// Pushed requests (RFC 9126) where the server or the client requires them, and PKCE under
/// FAPI 2.0.
fn profile_rules(
    state: &ServerState,
    client: &RegisteredClient,
    params: &Params,
) -> Result<(), &'static str> {
    let config = &state.config;
    let push_required = config.require_pushed_authorization_requests
        || config.fapi2
        || client.require_pushed_authorization_requests;
    if push_required && !params.pushed {
        return Err("authorization requests must be pushed first (RFC 9126)");
    }
    if config.fapi2 && params.get("code_challenge").is_none() {
        return Err("PKCE (S256) is required");
    }
    Ok(())
}

/// The request's redirect URI, if registered for the client (or the client's only one when
/// the request names none). A loopback IP redirect URI matches on any port (RFC 8252 §7.3:
/// a native app listens where the system lets it).
fn redirect_uri(client: &RegisteredClient, asked: Option<&str>) -> Result<String, AuthzError> {
    match asked {
        Some(uri) if client.redirect_uris.iter().any(|r| same_redirect(r, uri)) => {
            Ok(uri.to_owned())
        }
        Some(_) => Err(AuthzError::Page(
            "the redirect_uri is not registered for this client".into(),
        )),
        None if client.redirect_uris.len() == 1 => Ok(client.redirect_uris[0].clone()),
        None => Err(AuthzError::Page("the request has no redirect_uri".into())),
    }
}

/// Whether `asked` is the registered redirect URI: exactly, or (for an `http` loopback IP
/// literal, `127.0.0.1` or `[::1]`, not `localhost`) with another port.
fn same_redirect(registered: &str, asked: &str) -> bool {
    if registered == asked {
        return true;
    }
    let loopback_ip = |url: &Url| {
        url.scheme() == "http"
            && match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            }
    };
    match (Url::parse(registered), Url::parse(asked)) {
        (Ok(mut registered), Ok(mut asked)) if loopback_ip(&registered) && loopback_ip(&asked) => {
            let _ = (registered.set_port(None), asked.set_port(None));
            registered == asked
        }
        _ => false,
    }
}

/// The PKCE challenge and its method: required for public clients, S256 unless `plain` is
/// allowed, 43 to 128 characters.
fn pkce_challenge(
    params: &Params,
    client: &RegisteredClient,
    allow_plain: bool,
) -> Result<Option<(String, String)>, &'static str> {
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (None, Some(_)) => Err("code_challenge_method without code_challenge"),
        (None, None) if !client.is_confidential() => {
            Err("PKCE (code_challenge) is required for public clients")
        }
        (None, None) => Ok(None),
        (Some(challenge), method) => {
            let ok_len = (43..=128).contains(&challenge.len());
            match method.unwrap_or("plain") {
                "S256" if ok_len => Ok(Some((challenge.to_owned(), "S256".to_owned()))),
                "plain" if ok_len && allow_plain => {
                    Ok(Some((challenge.to_owned(), "plain".to_owned())))
                }
                "plain" => Err("code_challenge_method must be S256"),
                _ => Err("unsupported or malformed code_challenge"),
            }
        }
    }
}

/// `redirect_uri` plus the response parameters, `state` and `iss` (RFC 9207).
fn redirect_with(
    state: &ServerState,
    redirect_uri: &str,
    client_state: Option<&str>,
    pairs: &[(&str, &str)],
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(s) = client_state {
            query.append_pair("state", s);
        }
        query.append_pair("iss", &state.config.issuer);
    }
    url.to_string()
}

async fn refuse<'r>(req: &'r Request<'_>, state: &ServerState, err: AuthzError) -> Outcome<'r> {
    match err {
        AuthzError::Redirect {
            redirect_uri,
            state: s,
            error,
            description,
        } => {
            let to = redirect_with(
                state,
                &redirect_uri,
                s.as_deref(),
                &[("error", error), ("error_description", &description)],
            );
            Outcome::from(req, Redirect::to(to))
        }
        AuthzError::Page(message) => {
            let title = "Invalid authorization request";
            refusal_page(req, Status::BadRequest, title, &message).await
        }
        AuthzError::CrossSite => {
            let message = "the consent form was sent from another site";
            refusal_page(req, Status::Forbidden, "Refused", message).await
        }
    }
}

/// The `oauth/authorize_error` page: a request that cannot be answered at its redirect URI.
async fn refusal_page<'r>(
    req: &'r Request<'_>,
    status: Status,
    title: &str,
    message: &str,
) -> Outcome<'r> {
    #[derive(Serialize)]
    struct Context<'a> {
        status: u16,
        title: &'a str,
        message: &'a str,
        client_id: Option<String>,
    }
    let client_id = req
        .query_value::<&str>("client_id")
        .and_then(Result::ok)
        .map(|id| id.chars().filter(|c| !c.is_control()).take(100).collect());
    let context = Context {
        status: status.code,
        title,
        message,
        client_id,
    };
    let page = render(req, status, templates::AUTHORIZE_ERROR, &context).await;
    Outcome::from(req, page)
}

const NEXT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Checks a pushed request (RFC 9126 §2.1) as `authorize` would: the error code and
/// description the client is told.
pub(super) async fn check(
    state: &ServerState,
    params: &Params,
) -> Result<(), (&'static str, String)> {
    match validate(state, params).await {
        Ok(_) => Ok(()),
        Err(AuthzError::Redirect {
            error, description, ..
        }) => Err((error, description)),
        Err(AuthzError::Page(message)) => Err(("invalid_request", message)),
        Err(AuthzError::CrossSite) => Err(("invalid_request", "refused".into())),
    }
}

pub(super) async fn authorize<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let query = req.uri().query().map(|q| q.as_str()).unwrap_or_default();
    // The browser's parameters (kept on the consent form and through the sign-in: only
    // `client_id` and `request_uri` when the request was pushed), and the request's.
    let params = Params::parse(query.as_bytes());
    let resolved = match super::pushed::resolve(state, &params) {
        Ok(resolved) => resolved,
        Err(message) => return refuse(req, state, AuthzError::Page(message)).await,
    };
    let asked = resolved.as_ref().unwrap_or(&params);
    let request = match validate(state, asked).await {
        Ok(request) => request,
        Err(err) => return refuse(req, state, err).await,
    };
    match signed_in(req, state, asked, &request).await {
        Ok((owner, auth_time)) => {
            consent_page(req, state, &params, &request, &owner, auth_time).await
        }
        Err(Stop::Refuse(err)) => refuse(req, state, err).await,
        Err(Stop::SignIn { again }) => to_sign_in(req, state, &params, &request, again),
    }
}

/// Why the consent page is not shown.
enum Stop {
    /// The request is refused (to the client, or on a page).
    Refuse(AuthzError),
    /// The user must sign in first; `again`: authenticate again although signed in.
    SignIn { again: bool },
}

/// OpenID Connect's `prompt` values and `max_age` (Core §3.1.2.1).
struct Freshness<'p> {
    prompt: Vec<&'p str>,
    max_age: Option<i64>,
}

impl<'p> Freshness<'p> {
    fn of(params: &'p Params) -> Result<Self, &'static str> {
        let prompt: Vec<&str> = params
            .get("prompt")
            .map(|p| p.split(' ').filter(|v| !v.is_empty()).collect())
            .unwrap_or_default();
        if prompt.contains(&"none") && prompt.len() > 1 {
            return Err("prompt=none cannot be combined");
        }
        let max_age = match params.get("max_age") {
            Some(age) => Some(age.parse::<i64>().map_err(|_| "max_age must be a number")?),
            None => None,
        };
        Ok(Freshness { prompt, max_age })
    }

    /// Whether the request asks for a fresh authentication.
    fn asked(&self) -> bool {
        self.prompt.contains(&"login") || self.max_age.is_some()
    }

    /// Whether a login at `at` (if known) is fresh enough, without signing in again.
    fn satisfied_by(&self, at: Option<i64>) -> bool {
        if self.prompt.contains(&"login") {
            return false;
        }
        match self.max_age {
            Some(max_age) => at.is_some_and(|at| now().saturating_sub(at) <= max_age),
            None => true,
        }
    }
}

/// The signed-in resource owner and when they authenticated (if known), when OpenID
/// Connect's `prompt` and `max_age` let the consent page be shown. The login time is the
/// application's (`ResourceOwner::authenticated_at`) or, when it does not know, the time this
/// server sent a signed-out browser to sign in for this very request (it has signed in
/// since); never the consent's time. Freshness asked of a signed-in user whose login time
/// is unknown cannot be proven: `login_required`. Coming back from a sign-in that did not
/// make the login fresh ends with `login_required` too (no loop).
async fn signed_in(
    req: &Request<'_>,
    state: &ServerState,
    params: &Params,
    request: &AuthzRequest<'_>,
) -> Result<(String, Option<i64>), Stop> {
    let fail = |error: &'static str, description: &str| {
        Stop::Refuse(AuthzError::to_client(
            &request.client,
            &request.redirect_uri,
            &request.state,
            error,
            description,
        ))
    };
    let freshness = Freshness::of(params).map_err(|why| fail("invalid_request", why))?;
    let none = freshness.prompt.contains(&"none");
    let Some(owner) = state.owner.current(req).await else {
        return match none {
            true => Err(fail("login_required", "the user is not signed in")),
            false => Err(Stop::SignIn { again: false }),
        };
    };
    if none {
        // Consent is always asked for, so it cannot be given silently.
        return Err(fail("consent_required", "consent is required"));
    }
    let known = state.owner.authenticated_at(req).await;
    match consent::signed_in_since(state, req.cookies(), &request.shown()) {
        // Back from the sign-in this server sent the browser to, and signed in since.
        Some((sent, again)) if known.map_or(!again, |at| at >= sent) => {
            Ok((owner, known.or(Some(sent))))
        }
        Some((_, again)) if again || freshness.asked() => Err(fail(
            "login_required",
            "the user did not authenticate again",
        )),
        _ if freshness.satisfied_by(known) => Ok((owner, known)),
        _ if known.is_none() => Err(fail(
            "login_required",
            "the server cannot tell when the user signed in",
        )),
        _ => Err(Stop::SignIn { again: true }),
    }
}

/// To the app's sign-in (with `prompt=login` when the user must authenticate again), then
/// back here with the same request; the browser is marked as sent, so that its return is
/// told from a new request (no loop), and a return without a fresh login is refused.
fn to_sign_in<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    params: &Params,
    request: &AuthzRequest<'_>,
    again: bool,
) -> Outcome<'r> {
    let mut here = url::Url::parse("http://localhost/").expect("a URL");
    here.set_path(req.uri().path().as_str());
    here.query_pairs_mut().extend_pairs(params.pairs());
    let here = format!("{}?{}", here.path(), here.query().unwrap_or_default());
    let mut login = format!(
        "{}?next={}",
        state.config.login_url,
        utf8_percent_encode(&here, NEXT)
    );
    if again {
        login.push_str("&prompt=login");
    }
    consent::mark_sign_in(state, req.cookies(), &request.shown(), again);
    Outcome::from(req, Redirect::to(login))
}

/// The consent page for `owner`.
async fn consent_page<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    params: &Params,
    request: &AuthzRequest<'_>,
    owner: &str,
    auth_time: Option<i64>,
) -> Outcome<'r> {
    #[derive(Serialize)]
    struct ScopeView<'a> {
        name: &'a str,
        description: &'a str,
    }
    #[derive(Serialize)]
    struct ParamView<'a> {
        name: &'a str,
        value: &'a str,
    }
    #[derive(Serialize)]
    struct Consent<'a> {
        client_name: &'a str,
        client_image: Option<&'a str>,
        owner: &'a str,
        scopes: Vec<ScopeView<'a>>,
        action: String,
        csrf_token: String,
        params: Vec<ParamView<'a>>,
    }
    let mut params_view: Vec<ParamView<'_>> = params
        .pairs()
        .filter(|(k, _)| *k != "csrf_token" && *k != "decision")
        .map(|(name, value)| ParamView { name, value })
        .collect();
    params_view.sort_by_key(|p| (p.name, p.value));
    let declared = state.scopes_shown().await;
    let description = |name: &str| declared.get(name).map(String::as_str);
    let context = Consent {
        client_name: request.client.display_name(),
        client_image: request.client.image_url.as_deref(),
        owner,
        scopes: request
            .scopes
            .iter()
            .map(|name| ScopeView {
                name,
                description: description(name).unwrap_or(name),
            })
            .collect(),
        action: format!("{}/authorize", state.config.base_path.trim_end_matches('/')),
        csrf_token: consent::seal(state, req.cookies(), owner, request.shown(), auth_time),
        params: params_view,
    };
    let page = render(req, Status::Ok, templates::CONSENT, &context).await;
    super::unframed(Outcome::from(req, page))
}

/// The request a consent form answers, its user and their login time, if the form was shown
/// in this browser, to the signed-in user, for this very request.
async fn answered<'s>(
    req: &Request<'_>,
    state: &'s ServerState,
    params: &Params,
) -> Result<(AuthzRequest<'s>, String, Option<i64>), AuthzError> {
    let page = |message: &str| AuthzError::Page(message.into());
    let token = params.get("csrf_token").unwrap_or_default();
    let refused = |refused| match refused {
        Refused::Expired => page("the consent form expired; please try again"),
        Refused::Mismatch => page("the consent form does not match the request it was shown for"),
    };
    let form = consent::open(state, req.cookies(), token).map_err(refused)?;
    let resolved = super::pushed::resolve(state, params).map_err(AuthzError::Page)?;
    let request = validate(state, resolved.as_ref().unwrap_or(params)).await?;
    let owner = state
        .owner
        .current(req)
        .await
        .ok_or_else(|| page("you are not signed in"))?;
    let auth_time = form.check(&owner, &request.shown()).map_err(refused)?;
    Ok((request, owner, auth_time))
}

pub(super) async fn consent<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let origin = state.issuer.origin().ascii_serialization();
    if !crate::pages::csrf::same_origin(req, &origin) {
        // Consent CSRF: only this server's own consent page may answer.
        return refuse(req, state, AuthzError::CrossSite).await;
    }
    let Some(params) = read_form(req, data).await else {
        return refuse(
            req,
            state,
            AuthzError::Page("the consent form is malformed".into()),
        )
        .await;
    };
    let (request, owner, auth_time) = match answered(req, state, &params).await {
        Ok(answered) => answered,
        Err(err) => return refuse(req, state, err).await,
    };
    // A pushed request is answered once (RFC 9126 §4).
    if let Err(message) = super::pushed::use_once(state, &params).await {
        return refuse(req, state, AuthzError::Page(message)).await;
    }
    if params.get("decision") != Some("Accept") {
        let to = redirect_with(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &[("error", "access_denied")],
        );
        return Outcome::from(req, Redirect::to(to));
    }
    let code = random_token();
    let sid = if request.scopes.iter().any(|s| s == "openid") {
        let sid = crate::server::logout::session_id(req, state, &owner).await;
        crate::server::logout::signed_in(state, &sid, &owner, &request.client.id).await;
        Some(sid)
    } else {
        None
    };
    let grant = CodeGrant {
        client_id: request.client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        scopes: request.scopes,
        owner,
        challenge: request.challenge,
        expires_at: now().saturating_add(i64::try_from(state.config.code_ttl).unwrap_or(i64::MAX)),
        family: random_token(),
        nonce: request.nonce,
        auth_time,
        sid,
        resources: request.resources,
        dpop_jkt: request.dpop_jkt,
    };
    state.note_use(&request.client).await;
    if let Err(e) = state.store.save_code(TokenHash::of(&code), grant).await {
        log::error!("{e}");
        let to = redirect_with(
            state,
            &request.redirect_uri,
            request.state.as_deref(),
            &[("error", "server_error")],
        );
        return Outcome::from(req, Redirect::to(to));
    }
    let to = redirect_with(
        state,
        &request.redirect_uri,
        request.state.as_deref(),
        &[("code", &code)],
    );
    Outcome::from(req, Redirect::to(to))
}
