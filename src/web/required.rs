//! Guards for HTML pages and for apps with several providers: [`OrLogin`] redirects a
//! logged-out visitor to the login instead of `401` ([`LoginRequired`] for the session
//! itself); [`AnyUser`] is whoever is logged in, by any attached provider.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::identity::Identity;
use crate::login::Login;
use crate::provider::Provider;
use crate::web::guards::{redirect_to_login, AccessToken, HasRole, RoleName, User};
use crate::web::state::Registry;

/// A guard of one provider's session: [`AccessToken`], [`User`], [`HasRole`]. Sealed; it is
/// what [`OrLogin`] wraps.
pub trait ProviderGuard<'r>: FromRequest<'r> + Sentinel + sealed::Sealed {
    /// The provider whose login a logged-out visitor is sent to.
    type Provider: Provider;
}

mod sealed {
    pub trait Sealed {}
}

impl<P> sealed::Sealed for AccessToken<P> {}
impl<P> sealed::Sealed for User<P> {}
impl<P, R> sealed::Sealed for HasRole<P, R> {}

impl<'r, P: Provider> ProviderGuard<'r> for AccessToken<P> {
    type Provider = P;
}

impl<'r, P: Provider> ProviderGuard<'r> for User<P> {
    type Provider = P;
}

impl<'r, P: Provider, R: RoleName> ProviderGuard<'r> for HasRole<P, R> {
    type Provider = P;
}

/// Guard `G` for HTML pages: a logged-out visitor is redirected (`303 See Other`) to the
/// provider's `login` route with `next` set to the current path, so they come back here
/// after logging in (Flask-oDesk's `login_required`), where `G` alone answers `401`. Only page
/// navigations are redirected (`Sec-Fetch-Mode: navigate`, or an `Accept` asking for HTML):
/// a script's `fetch`/XHR or an API client gets the `401`, which it can act on.
/// Everything else is `G`'s: a logged-in user without a [`HasRole`] role still gets `403`.
/// Dereferences to `G`. The redirect is made by the fairing from the `401` that the
/// forward ends in, so a lower-ranked route that answers the request still wins.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{HasRole, OAuth2Provider, OrLogin, Staff, User};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/profile")]
/// fn profile(user: OrLogin<User<Idp>>) -> String {
///     format!("hello {}", user.subject)
/// }
///
/// #[get("/admin")]
/// fn admin(_staff: OrLogin<HasRole<Idp, Staff>>) -> &'static str {
///     "the staff page"
/// }
/// ```
pub struct OrLogin<G>(pub G);

/// [`OrLogin`] of the session itself ([`AccessToken`]): the common case, by its readable
/// name.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{LoginRequired, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/authorize", token_url = "https://idp.example/token")]
/// struct Idp;
///
/// #[get("/private")]
/// fn private(user: LoginRequired<Idp>) -> String {
///     format!("hello; your token expires at {:?}", user.expires_at())
/// }
/// ```
pub type LoginRequired<P> = OrLogin<AccessToken<P>>;

impl<G> Deref for OrLogin<G> {
    type Target = G;

    fn deref(&self) -> &G {
        &self.0
    }
}

impl<G: fmt::Debug> fmt::Debug for OrLogin<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OrLogin").field(&self.0).finish()
    }
}

#[rocket::async_trait]
impl<'r, G: ProviderGuard<'r>> FromRequest<'r> for OrLogin<G> {
    type Error = G::Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match G::from_request(req).await {
            Outcome::Success(guard) => Outcome::Success(OrLogin(guard)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(status) => {
                if status == Status::Unauthorized {
                    redirect_to_login::<G::Provider>(req);
                }
                Outcome::Forward(status)
            }
        }
    }
}

impl<G: Sentinel> Sentinel for OrLogin<G> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        G::abort(rocket)
    }
}

/// Whoever is logged in, by any attached provider: the live sessions of every provider
/// this visitor has one with, in the order the fairings were attached. Forwards with `401`
/// when there is none. Reads (and refreshes) each provider's session as its own guards
/// would; no other network I/O.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{AnyUser, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "github", authorize_url = "https://github.com/login/oauth/authorize", token_url = "https://github.com/login/oauth/access_token")]
/// struct GitHub;
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "gitlab", authorize_url = "https://gitlab.com/oauth/authorize", token_url = "https://gitlab.com/oauth/token")]
/// struct GitLab;
///
/// #[get("/")]
/// fn home(user: AnyUser) -> String {
///     let who = user.identity().map_or("someone", |i| i.subject.as_str());
///     format!("hello {who}, logged in with {:?}", user.providers().collect::<Vec<_>>())
/// }
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build()
///         .attach(GitHub.fairing())
///         .attach(GitLab.fairing())
///         .mount("/", routes![home])
/// }
/// ```
#[derive(Clone)]
pub struct AnyUser {
    logins: Vec<(&'static str, Arc<Login>)>,
}

impl AnyUser {
    /// The providers this visitor is logged in with, in attach order.
    pub fn providers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.logins.iter().map(|(name, _)| *name)
    }

    /// Each provider's session, in attach order.
    pub fn logins(&self) -> impl Iterator<Item = (&'static str, &Login)> + '_ {
        self.logins.iter().map(|(name, login)| (*name, &**login))
    }

    /// The session with the provider named `provider`, if any.
    pub fn login(&self, provider: &str) -> Option<&Login> {
        self.logins()
            .find(|(name, _)| *name == provider)
            .map(|(_, l)| l)
    }

    /// The first provider (in attach order) this visitor is logged in with.
    pub fn provider(&self) -> &'static str {
        self.logins.first().map_or("", |(name, _)| *name)
    }

    /// The identity of the first session that has one.
    pub fn identity(&self) -> Option<&Identity> {
        self.logins.iter().find_map(|(_, login)| login.identity())
    }
}

impl fmt::Debug for AnyUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<_> = self
            .logins()
            .map(|(name, login)| (name, login.identity().map(|i| &i.subject)))
            .collect();
        f.debug_struct("AnyUser")
            .field("logins", &subjects)
            .finish()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnyUser {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(registry) = req.rocket().state::<Registry>() else {
            return Outcome::Forward(Status::Unauthorized);
        };
        let mut logins = Vec::new();
        for (name, session) in registry.sessions() {
            if let Some(login) = session.load(req).await {
                logins.push((name, login));
            }
        }
        if logins.is_empty() {
            return Outcome::Forward(Status::Unauthorized);
        }
        Outcome::Success(AnyUser { logins })
    }
}

impl Sentinel for AnyUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<Registry>().is_some() {
            return false;
        }
        log::error!("`AnyUser` is used by a route, but no OAuth provider's fairing is attached");
        true
    }
}
