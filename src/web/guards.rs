//! Request guards: [`AccessToken`] (401 when logged out) and [`LoginRequired`] (303 to the
//! login page when logged out). Both read one private cookie, memoised per request; no
//! network I/O.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};
use tokio::sync::OnceCell;

use crate::error::MissingRole;
use crate::identity::Identity;
use crate::login::Login;
use crate::provider::Provider;
use crate::session::manager::{NotRefreshed, Session};
use crate::util::now;
use crate::web::state::{LiveSession, ProviderState, LISTED};

/// The logged-in user's session with provider `P`: its tokens, and (through `Deref`) the
/// whole [`Login`] — userinfo, identity, roles.
///
/// As a request guard it succeeds when the visitor has a live session with `P`, and
/// otherwise forwards with `401 Unauthorized` (so a lower-ranked route or the 401 catcher
/// answers). `Option<AccessToken<P>>` never fails. The guard reads and decrypts one cookie
/// and does no network I/O. Using it in a route without attaching `P`'s fairing aborts
/// launch.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::{json, Value};
/// use rocket_oauth::{AccessToken, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(
///     name = "github",
///     authorize_url = "https://github.com/login/oauth/authorize",
///     token_url = "https://github.com/login/oauth/access_token",
///     userinfo_url = "https://api.github.com/user",
///     scopes("read:user")
/// )]
/// struct GitHub;
///
/// #[get("/me")]
/// fn me(token: AccessToken<GitHub>) -> Value {
///     json!({ "user": token.userinfo(), "scopes": token.scopes() })
/// }
///
/// #[get("/maybe")]
/// fn maybe(token: Option<AccessToken<GitHub>>) -> &'static str {
///     if token.is_some() { "logged in" } else { "anonymous" }
/// }
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(GitHub.fairing()).mount("/", routes![me, maybe])
/// }
/// ```
pub struct AccessToken<P> {
    login: Arc<Login>,
    /// The store's session id, if sessions live in a store.
    pub(crate) session_id: Option<String>,
    provider: &'static str,
    _provider: PhantomData<fn() -> P>,
}

impl<P> Clone for AccessToken<P> {
    fn clone(&self) -> Self {
        AccessToken {
            login: self.login.clone(),
            session_id: self.session_id.clone(),
            provider: self.provider,
            _provider: PhantomData,
        }
    }
}

impl<P> fmt::Debug for AccessToken<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AccessToken").field(&self.login).finish()
    }
}

impl<P> Deref for AccessToken<P> {
    type Target = Login;

    fn deref(&self) -> &Login {
        &self.login
    }
}

impl<P> AccessToken<P> {
    /// The access token itself, for calling the provider's API (`Authorization: Bearer …`).
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn secret(&self) -> &str {
        self.login.credentials.access_token()
    }

    /// The token type, lowercase: normally `bearer`; `dpop` for a DPoP-bound token (`dpop =
    /// true`), which is presented with a proof of the login's key: call the API through
    /// [`ApiClient`](crate::ApiClient), which holds the key, not with [`secret`](Self::secret).
    pub fn token_type(&self) -> &str {
        self.login.credentials.token_type()
    }

    /// The granted scopes: those the provider reported, or else those requested.
    pub fn scopes(&self) -> &[String] {
        self.login.credentials.scopes()
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.login.credentials.has_scope(scope)
    }

    /// When the access token expires, if the provider said.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.login.credentials.expires_at()
    }

    /// The refresh token, if the provider issued one.
    ///
    /// # Security Warning
    ///
    /// Never log it, put it in a URL or show it in a page.
    pub fn refresh_token(&self) -> Option<&str> {
        self.login.credentials.refresh_token()
    }

    /// The provider's name (`P::NAME`, or a [listed](crate::Listed) provider's own).
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    pub(crate) fn session(&self) -> Session {
        Session {
            login: self.login.clone(),
            id: self.session_id.clone(),
        }
    }
}

/// The per-request memo of each provider's session, by provider name (a few entries).
#[derive(Default)]
struct Memo(Mutex<Vec<(&'static str, Arc<Slot>)>>);

/// One provider's memo: its session, read once, and whether this request ended it (its
/// refresh was refused). Reading the session must never reach a guard of the same provider
/// (it would wait on itself): no hook is given the request during a refresh.
#[derive(Default)]
struct Slot {
    session: OnceCell<Option<Session>>,
    ended: AtomicBool,
}

fn slot(req: &Request<'_>, name: &'static str, create: bool) -> Option<Arc<Slot>> {
    let memo = req.local_cache(Memo::default);
    let mut slots = memo.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, slot)) = slots.iter().find(|(n, _)| *n == name) {
        return Some(slot.clone());
    }
    if !create {
        return None;
    }
    let slot = Arc::new(Slot::default());
    slots.push((name, slot.clone()));
    Some(slot)
}

/// Where [`OrLogin`](crate::OrLogin) asks the fairing to redirect a 401 response (the first
/// guard to ask wins).
pub(crate) struct PendingLogin(Option<String>);

impl PendingLogin {
    pub(crate) fn get<'r>(req: &'r Request<'_>) -> Option<&'r str> {
        req.local_cache(|| PendingLogin(None)).0.as_deref()
    }
}

/// Whether this request ended the session with the provider named `name`.
pub(crate) fn session_ended(req: &Request<'_>, name: &'static str) -> bool {
    slot(req, name, false).is_some_and(|slot| slot.ended.load(Ordering::Relaxed))
}

/// The live session with `P` (a typed provider), read once per request.
pub(crate) async fn current<P: Provider>(req: &Request<'_>) -> Option<AccessToken<P>> {
    session_with(req, ProviderState::<P>::of(req.rocket())?).await
}

/// The live session with `state`'s provider, read (and refreshed, if its access token has
/// expired) once per request. The access rules are applied again, so a user removed from
/// them is logged out on their next request.
pub(crate) async fn session_with<P: Provider>(
    req: &Request<'_>,
    state: &ProviderState<P>,
) -> Option<AccessToken<P>> {
    let slot = slot(req, state.name, true)?;
    let session = slot
        .session
        .get_or_init(|| live_session(req, state, &slot.ended))
        .await;
    session.as_ref().map(|session| AccessToken {
        login: session.login.clone(),
        session_id: session.id.clone(),
        provider: state.name,
        _provider: PhantomData,
    })
}

impl<P: Provider> LiveSession for ProviderState<P> {
    fn load<'r>(
        &'r self,
        req: &'r Request<'_>,
    ) -> Pin<Box<dyn Future<Output = Option<Arc<Login>>> + Send + 'r>> {
        Box::pin(async move { session_with(req, self).await.map(|token| token.login) })
    }
}

/// Whether the request is a page navigation, which a redirect to the login suits, rather
/// than a script's `fetch`/XHR or an API client, which must get the `401`:
/// `Sec-Fetch-Mode: navigate`, or, from a browser that does not send it, an `Accept` that
/// asks for HTML.
fn is_navigation(req: &Request<'_>) -> bool {
    let headers = req.headers();
    match headers.get_one("Sec-Fetch-Mode") {
        Some(mode) => mode == "navigate",
        None => headers
            .get_one("Accept")
            .is_some_and(|accept| accept.contains("text/html")),
    }
}

/// Where a page navigation is sent to log in with `state`'s provider: its `login` route,
/// with `next` set to the current path; `None` for other requests (they get the `401`).
pub(crate) fn login_target<P>(req: &Request<'_>, state: &ProviderState<P>) -> Option<String> {
    if !is_navigation(req) {
        return None;
    }
    let here = req.uri().to_string();
    Some(format!(
        "{}/login?next={}",
        state.config.base_path,
        utf8_percent_encode(&here, NEXT_VALUE)
    ))
}

/// Asks the fairing to turn this request's `401` into a redirect to `P`'s login, with
/// `next` set to the current path (page navigations only).
pub(crate) fn redirect_to_login<P: Provider>(req: &Request<'_>) {
    let state = ProviderState::<P>::of(req.rocket());
    if let Some(target) = state.and_then(|state| login_target(req, state)) {
        req.local_cache(|| PendingLogin(Some(target)));
    }
}

async fn live_session<P: Provider>(
    req: &Request<'_>,
    state: &ProviderState<P>,
    ended: &AtomicBool,
) -> Option<Session> {
    let sessions = &state.sessions;
    let mut session = sessions.load(req.cookies()).await?;
    let now = now();
    if sessions.needs_refresh(&session.login, now) || session.login.credentials.is_expired(now) {
        // Boxed: the refresh (provider call, store, lock) is rare, and its large future
        // would otherwise be part of, and copied with, every guard's.
        let refreshed = Box::pin(sessions.refresh(
            req.cookies(),
            session,
            &*state.flow,
            &state.http,
            &*state.hooks,
        ))
        .await;
        session = match refreshed {
            Ok(session) => session,
            Err(NotRefreshed::Ended) => {
                // The error page drops cookie changes: the fairing removes the cookie again.
                ended.store(true, Ordering::Relaxed);
                return None;
            }
            Err(NotRefreshed::Unavailable) => return None,
        };
    }
    let access = &state.config.access;
    let identity = session.login.identity.as_ref();
    let roles = access.roles_of(identity);
    if !access.allows(identity, &roles) {
        return None;
    }
    if roles != session.login.roles {
        let mut login = Login::clone(&session.login);
        login.roles = roles;
        session.login = Arc::new(login);
    }
    Some(session)
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for AccessToken<P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match current::<P>(req).await {
            Some(token) => Outcome::Success(token),
            None => Outcome::Forward(Status::Unauthorized),
        }
    }
}

pub(crate) fn abort_without_fairing<P: Provider>(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if ProviderState::<P>::of(rocket).is_some() {
        return false;
    }
    if P::NAME == LISTED {
        log::error!(
            "`{guard}<Listed>` names no provider: use the `Providers` guard (`providers.user(name)`)"
        );
        return true;
    }
    log::error!(
        "`{guard}<{}>` is used by a route, but the fairing of OAuth provider `{}` is not attached",
        std::any::type_name::<P>(),
        P::NAME
    );
    log::error!("attach it: `rocket::build().attach(Provider.fairing())`");
    true
}

impl<P: Provider> Sentinel for AccessToken<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "AccessToken")
    }
}

/// Characters escaped in the `next` query value: enough to round-trip any origin URI while
/// keeping `/` readable (`/auth/idp/login?next=/private`).
const NEXT_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The logged-in user's [`Identity`] with provider `P` (plus their roles and tokens).
///
/// Like [`AccessToken`]: forwards with `401` when nobody is logged in (or the provider gave
/// no identity); no network I/O. Dereferences to [`Identity`].
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{OAuth2Provider, User};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/whoami")]
/// fn whoami(user: User<Idp>) -> String {
///     format!("{} ({}) at {}", user.subject, user.verified_email().unwrap_or("no email"), user.provider())
/// }
/// ```
pub struct User<P>(AccessToken<P>);

impl<P> User<P> {
    /// The session's tokens.
    pub fn token(&self) -> &AccessToken<P> {
        &self.0
    }

    /// The roles granted at login.
    pub fn roles(&self) -> &[String] {
        self.0.roles()
    }

    /// Whether `role` was granted at login.
    pub fn has_role(&self, role: &str) -> bool {
        self.0.has_role(role)
    }

    /// The provider's name; with [`Identity::subject`], the user's stable key.
    pub fn provider(&self) -> &'static str {
        self.0.provider
    }

    /// The user of `token`'s session, if its provider gave an identity.
    pub(crate) fn of(token: AccessToken<P>) -> Option<Self> {
        token.identity().is_some().then_some(User(token))
    }
}

impl<P> Deref for User<P> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        self.0.identity().expect("a User always has an identity")
    }
}

impl<P> fmt::Debug for User<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("identity", &self.0.identity())
            .field("roles", &self.0.roles())
            .finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for User<P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match current::<P>(req).await {
            Some(token) => match User::of(token) {
                Some(user) => Outcome::Success(user),
                None => Outcome::Forward(Status::Unauthorized),
            },
            None => Outcome::Forward(Status::Unauthorized),
        }
    }
}

impl<P: Provider> Sentinel for User<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "User")
    }
}

/// A role name, for [`HasRole`]. [`Staff`] and [`Superuser`] are provided; define others the
/// same way.
///
/// ```rust
/// use rocket_oauth::guards::RoleName;
///
/// struct Editor;
///
/// impl RoleName for Editor {
///     const NAME: &'static str = "editor";
/// }
/// ```
pub trait RoleName: Send + Sync + 'static {
    /// The role's name in `oauth.<provider>.access.roles`.
    const NAME: &'static str;
}

/// The `staff` role (django-odesk-auth's `is_staff`).
pub struct Staff;

impl RoleName for Staff {
    const NAME: &'static str = "staff";
}

/// The `superuser` role (django-odesk-auth's `is_superuser`).
pub struct Superuser;

impl RoleName for Superuser {
    const NAME: &'static str = "superuser";
}

/// A logged-in user of provider `P` who was granted role `R` at login.
///
/// Forwards with `401` when nobody is logged in; fails with `403 Forbidden` when the user
/// lacks the role.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{HasRole, OAuth2Provider, Staff};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/admin")]
/// fn admin(staff: HasRole<Idp, Staff>) -> String {
///     format!("welcome, {:?}", staff.identity().and_then(|i| i.name.clone()))
/// }
/// ```
pub struct HasRole<P, R>(AccessToken<P>, PhantomData<fn() -> R>);

impl<P, R> Deref for HasRole<P, R> {
    type Target = AccessToken<P>;

    fn deref(&self) -> &AccessToken<P> {
        &self.0
    }
}

impl<P, R: RoleName> fmt::Debug for HasRole<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HasRole")
            .field(&R::NAME)
            .field(&self.0)
            .finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider, R: RoleName> FromRequest<'r> for HasRole<P, R> {
    type Error = MissingRole;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match current::<P>(req).await {
            None => Outcome::Forward(Status::Unauthorized),
            Some(token) if token.has_role(R::NAME) => Outcome::Success(HasRole(token, PhantomData)),
            Some(_) => Outcome::Error((Status::Forbidden, MissingRole(R::NAME))),
        }
    }
}

impl<P: Provider, R: RoleName> Sentinel for HasRole<P, R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "HasRole")
    }
}
