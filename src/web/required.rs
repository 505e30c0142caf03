//! Guards for HTML pages and for apps with several providers: [`UserRequired`] and
//! [`RoleRequired`] redirect a logged-out visitor to the login (as [`LoginRequired`] does);
//! [`AnyUser`] is whoever is logged in, by any attached provider.
//!
//! [`LoginRequired`]: crate::LoginRequired

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::identity::Identity;
use crate::login::Login;
use crate::provider::Provider;
use crate::web::guards::{
    abort_without_fairing, redirect_to_login, HasRole, MissingRole, RoleName, User,
};
use crate::web::state::Registry;

/// [`User`], for HTML pages: a logged-out visitor is redirected (`303`) to `P`'s login with
/// `next` set to this page, as [`LoginRequired`](crate::LoginRequired) does. Dereferences to
/// [`User`] (so to its [`Identity`]).
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{OAuth2Provider, UserRequired};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/profile")]
/// fn profile(user: UserRequired<Idp>) -> String {
///     format!("hello {}", user.subject)
/// }
/// ```
pub struct UserRequired<P>(pub User<P>);

impl<P> Deref for UserRequired<P> {
    type Target = User<P>;

    fn deref(&self) -> &User<P> {
        &self.0
    }
}

impl<P> fmt::Debug for UserRequired<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UserRequired").field(&self.0).finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider> FromRequest<'r> for UserRequired<P> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match User::<P>::from_request(req).await {
            Outcome::Success(user) => Outcome::Success(UserRequired(user)),
            Outcome::Error((status, never)) => Outcome::Error((status, never)),
            Outcome::Forward(status) => {
                redirect_to_login::<P>(req);
                Outcome::Forward(status)
            }
        }
    }
}

impl<P: Provider> Sentinel for UserRequired<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "UserRequired")
    }
}

/// [`HasRole`], for HTML pages: a logged-out visitor is redirected (`303`) to `P`'s login
/// with `next` set to this page; a logged-in user without the role still gets `403`.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::{OAuth2Provider, RoleRequired, Staff};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(name = "idp", authorize_url = "https://idp.example/a", token_url = "https://idp.example/t")]
/// struct Idp;
///
/// #[get("/admin")]
/// fn admin(_staff: RoleRequired<Idp, Staff>) -> &'static str {
///     "the staff page"
/// }
/// ```
pub struct RoleRequired<P, R>(pub HasRole<P, R>);

impl<P, R> Deref for RoleRequired<P, R> {
    type Target = HasRole<P, R>;

    fn deref(&self) -> &HasRole<P, R> {
        &self.0
    }
}

impl<P, R: RoleName> fmt::Debug for RoleRequired<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RoleRequired").field(&self.0).finish()
    }
}

#[rocket::async_trait]
impl<'r, P: Provider, R: RoleName> FromRequest<'r> for RoleRequired<P, R> {
    type Error = MissingRole;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match HasRole::<P, R>::from_request(req).await {
            Outcome::Success(role) => Outcome::Success(RoleRequired(role)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(status) => {
                redirect_to_login::<P>(req);
                Outcome::Forward(status)
            }
        }
    }
}

impl<P: Provider, R: RoleName> Sentinel for RoleRequired<P, R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_without_fairing::<P>(rocket, "RoleRequired")
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
        for (name, load) in registry.entries() {
            if let Some(login) = load(req).await {
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
