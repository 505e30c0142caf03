//! Federated logout at the OpenID Provider: each browser's sign-in session (`sid`, named by
//! the ID tokens issued in it), the clients it reached (in the store, so every instance
//! knows them), and telling them when it ends: a signed logout token posted to each client's
//! `backchannel_logout_uri` (OpenID Connect Back-Channel Logout 1.0), in the background with a
//! timeout and bounded retries, and the `frontchannel_logout_uri` iframes the end-session
//! page shows (Front-Channel Logout 1.0).

use std::time::Duration;

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use serde::{Deserialize, Serialize};

use super::store::SessionClient;
use super::ServerState;
use crate::util::{cookie_prefix, ct_eq, now, random_token};

/// How long one delivery of a logout token may take.
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How many times a logout token is posted to a client that fails (5xx, unreachable).
const ATTEMPTS: u32 = 3;

/// The sign-in session this server keeps for a browser, in a private cookie.
#[derive(Serialize, Deserialize)]
struct Remembered {
    sid: String,
    sub: String,
}

fn cookie_name(state: &ServerState) -> String {
    format!("{}oauth_server_session", cookie_prefix(secure(state)))
}

fn secure(state: &ServerState) -> bool {
    state.issuer.scheme() == "https"
}

fn remembered(state: &ServerState, jar: &CookieJar<'_>) -> Option<Remembered> {
    let cookie = jar.get_private(&cookie_name(state))?;
    serde_json::from_str(cookie.value()).ok()
}

/// The sign-in session of `owner` in this browser: the
/// [`ResourceOwner`](super::ResourceOwner)'s, or one this server keeps (in a private cookie,
/// until the session ends or another user signs in).
pub(crate) async fn session_id(req: &Request<'_>, state: &ServerState, owner: &str) -> String {
    let jar = req.cookies();
    let sid = match state.owner.session_id(req).await {
        Some(sid) => sid,
        None => match remembered(state, jar) {
            Some(known) if ct_eq(&known.sub, owner) => return known.sid,
            _ => random_token(),
        },
    };
    let value = serde_json::to_string(&Remembered {
        sid: sid.clone(),
        sub: owner.to_owned(),
    })
    .unwrap_or_default();
    let cookie = Cookie::build((cookie_name(state), value))
        .path("/")
        .http_only(true)
        .secure(secure(state))
        .same_site(SameSite::Lax);
    jar.add_private(cookie);
    sid
}

/// Notes that `owner`'s sign-in session `sid` reached `client_id`, if that client wants to
/// hear of its end.
pub(crate) async fn signed_in(state: &ServerState, sid: &str, owner: &str, client_id: &str) {
    let wants = state
        .client(client_id)
        .await
        .ok()
        .flatten()
        .is_some_and(|c| c.backchannel_logout_uri.is_some() || c.frontchannel_logout_uri.is_some());
    if !wants {
        return;
    }
    let ttl = i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX);
    let record = SessionClient::new(sid, owner, client_id, now().saturating_add(ttl));
    if let Err(e) = state.store.save_session_client(record).await {
        log::error!("rocket_oauth: recording a sign-in for logout failed: {e}");
    }
}

/// Ends this browser's sign-in session: each client it reached is told (back-channel
/// logout tokens are sent in the background); returns the front-channel logout URLs to
/// frame.
pub(crate) async fn end(
    jar: &CookieJar<'_>,
    state: &ServerState,
    sid: Option<String>,
) -> Vec<String> {
    jar.remove_private(Cookie::build(cookie_name(state)).path("/"));
    let Some(sid) = sid else {
        return Vec::new();
    };
    let clients = match state.store.end_session(&sid, now()).await {
        Ok(clients) => clients,
        Err(e) => {
            log::error!("rocket_oauth: ending a sign-in session failed: {e}");
            return Vec::new();
        }
    };
    let keys = match state.keys().await {
        Some(Ok(keys)) => Some(keys),
        _ => None,
    };
    let mut frames = Vec::new();
    for signed_in in clients {
        let Ok(Some(client)) = state.client(&signed_in.client_id).await else {
            continue;
        };
        if let (Some(uri), Some(keys)) = (&client.backchannel_logout_uri, &keys) {
            let issuer = &state.config.issuer;
            if let Some(token) = keys.logout_token(issuer, &client.id, &signed_in.owner, &sid) {
                // A self-registered client's URI is a stranger's: public addresses only.
                let http = match client.registered_at {
                    Some(_) => state.logout_http.public_only.clone(),
                    None => state.logout_http.trusted.clone(),
                };
                tokio::spawn(deliver(http, uri.clone(), token, client.id.clone()));
            }
        }
        if let Some(uri) = &client.frontchannel_logout_uri {
            frames.push(frame_url(uri, &state.config.issuer, &sid));
        }
    }
    frames
}

/// The client's front-channel logout URI with `iss` and `sid` (§2: always sent).
fn frame_url(uri: &str, issuer: &str, sid: &str) -> String {
    let mut url = match url::Url::parse(uri) {
        Ok(url) => url,
        Err(_) => return uri.to_owned(),
    };
    url.query_pairs_mut()
        .append_pair("iss", issuer)
        .append_pair("sid", sid);
    url.into()
}

/// Posts `token` to `uri`, retrying (with a growing pause) while the client fails or is
/// unreachable; a `4xx` answer is final. Never holds the logout up: it runs on its own task.
async fn deliver(http: reqwest::Client, uri: String, token: String, client_id: String) {
    for attempt in 0..ATTEMPTS {
        let sent = http
            .post(&uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) if r.status().is_client_error() => {
                log::warn!(
                    "rocket_oauth: client `{client_id}` refused its logout token ({})",
                    r.status()
                );
                return;
            }
            Ok(r) => log::warn!(
                "rocket_oauth: client `{client_id}`'s back-channel logout failed ({})",
                r.status()
            ),
            Err(e) => log::warn!(
                "rocket_oauth: client `{client_id}`'s back-channel logout is unreachable: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
    }
}

/// The HTTP clients that deliver logout tokens: pooled, with timeouts, never following a
/// redirect (a client's URI is where the token goes, nowhere else).
pub(crate) struct Delivery {
    /// For configured clients and the registry's (the operator's URIs: any address).
    pub trusted: reqwest::Client,
    /// For self-registered clients (RFC 7591): it connects to public addresses only, so
    /// that a registration cannot make this server post into its own network (SSRF).
    pub public_only: reqwest::Client,
}

impl Delivery {
    pub(crate) fn new() -> Self {
        let builder = || {
            reqwest::Client::builder()
                .timeout(DELIVERY_TIMEOUT)
                .connect_timeout(DELIVERY_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
        };
        Delivery {
            trusted: builder().build().unwrap_or_default(),
            // Registration refuses IP-literal hosts, so every host goes through the resolver.
            public_only: builder()
                .dns_resolver(std::sync::Arc::new(PublicOnly))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// Resolves a host name to its public addresses only (none: the delivery fails).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> =
                addrs.filter(|a| crate::util::is_public(a.ip())).collect();
            if public.is_empty() {
                return Err("the host has no public address".into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A request guard for the application's own logout route: ends this browser's sign-in
/// session at the OpenID Provider, so every client the user signed in to during it is sent
/// a back-channel logout token, as `end_session` does.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::response::content::RawHtml;
/// use rocket_oauth::server::SignOut;
///
/// #[post("/logout")]
/// async fn logout(sign_out: SignOut<'_>) -> RawHtml<String> {
///     // … end the app's own session, then:
///     let frames = sign_out.sign_out().await;
///     let iframes: String = frames
///         .iter()
///         .map(|src| format!(r#"<iframe src="{src}" hidden></iframe>"#))
///         .collect();
///     RawHtml(format!("<p>Signed out.</p>{iframes}"))
/// }
/// ```
pub struct SignOut<'r> {
    state: &'r ServerState,
    jar: &'r CookieJar<'r>,
    sid: Option<String>,
}

impl std::fmt::Debug for SignOut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOut").finish_non_exhaustive()
    }
}

impl SignOut<'_> {
    /// Ends the sign-in session (if the browser has one) and tells its clients; returns the
    /// front-channel logout URLs (already carrying `iss` and `sid`) that the page should load
    /// in hidden iframes. Back-channel deliveries run in the background.
    pub async fn sign_out(self) -> Vec<String> {
        end(self.jar, self.state, self.sid).await
    }
}

/// The sign-in session to end: the one this server kept for the browser, or the
/// [`ResourceOwner`](super::ResourceOwner)'s.
pub(crate) async fn current_session(req: &Request<'_>, state: &ServerState) -> Option<String> {
    match remembered(state, req.cookies()) {
        Some(known) => Some(known.sid),
        None => state.owner.session_id(req).await,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignOut<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(state) = req.rocket().state::<ServerState>() else {
            return super::guard(None, "SignOut");
        };
        let sid = current_session(req, state).await;
        Outcome::Success(SignOut {
            state,
            jar: req.cookies(),
            sid,
        })
    }
}
