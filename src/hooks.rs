//! Hooks run around login and logout (Flask-oDesk's `after_login` / `after_logout`).

use rocket::http::Status;
use rocket::{Request, Response};

use crate::api::ApiClient;
use crate::identity::Identity;
use crate::login::{Login, SessionData};

/// Code run around logins and logouts. Every method has a default; a provider runs no hooks
/// of the application's until some are given at attach time:
/// `Corp.fairing().hooks(CorpHooks)`. The same for derived providers, hand-written ones and
/// presets, and guards still name the provider only (`User<Corp>`).
///
/// Order at login: the provider's [`identify`](crate::Provider::identify), then
/// [`identify`](Hooks::identify) → access rules → [`after_login`](Hooks::after_login) →
/// [`session_data`](Hooks::session_data) → the session is stored. A hook reaches the
/// application's managed state through `request.rocket().state::<T>()`.
///
/// ```rust
/// use rocket::Request;
/// use rocket_oauth::{Denial, Hooks, Login, OAuth2Provider};
///
/// #[derive(OAuth2Provider)]
/// #[oauth(
///     name = "corp",
///     authorize_url = "https://sso.example.com/authorize",
///     token_url = "https://sso.example.com/token",
///     userinfo_url = "https://sso.example.com/userinfo"
/// )]
/// struct Corp;
///
/// struct CorpHooks;
///
/// #[rocket::async_trait]
/// impl Hooks for CorpHooks {
///     async fn after_login(&self, login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
///         let email = login.userinfo().and_then(|u| u["email"].as_str()).unwrap_or("");
///         if email.ends_with("@example.com") {
///             Ok(())
///         } else {
///             Err(Denial::forbidden("only example.com accounts may log in"))
///         }
///     }
///
///     async fn after_logout(&self, login: Option<&Login>, request: &Request<'_>) {
///         if let Some(who) = login.and_then(Login::identity) {
///             println!("{} logged out", who.subject);
///         }
///         request.cookies().remove("cart");
///     }
/// }
///
/// let fairing = Corp.fairing().hooks(CorpHooks);
/// # let _ = fairing;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `rocket_oauth::Hooks`",
    note = "hooks are any value whose type implements the trait (every method has a default): write `impl rocket_oauth::Hooks for {Self} {{ ... }}`, then attach `Provider.fairing().hooks(value)`"
)]
#[rocket::async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Changes or refuses the identity the provider found ([`Provider::identify`](crate::Provider::identify)):
    /// `login.identity()` is that identity, `login.userinfo()` the userinfo document (for
    /// OpenID Connect: the ID token's claims merged with userinfo); `api` calls the
    /// provider's API with the login's credentials, e.g. GitHub's `/user/emails` for a
    /// verified email. `Err` refuses the login. _Default:_ the provider's identity.
    ///
    /// ```rust
    /// use rocket_oauth::{ApiClient, Denial, Hooks, Identity, Login, OAuth2Provider};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(
    ///     name = "github",
    ///     authorize_url = "https://github.com/login/oauth/authorize",
    ///     token_url = "https://github.com/login/oauth/access_token",
    ///     userinfo_url = "https://api.github.com/user",
    ///     scopes("read:user", "user:email")
    /// )]
    /// struct GitHub;
    ///
    /// struct VerifiedEmails;
    ///
    /// #[rocket::async_trait]
    /// impl Hooks for VerifiedEmails {
    ///     async fn identify(&self, login: &Login, api: &ApiClient<'_>) -> Result<Option<Identity>, Denial> {
    ///         let user = login.userinfo().ok_or_else(|| Denial::forbidden("no profile"))?;
    ///         let mut identity = Identity::new(user["id"].to_string());
    ///         let emails: serde_json::Value = api
    ///             .get("https://api.github.com/user/emails")
    ///             .await
    ///             .and_then(|response| response.json())
    ///             .map_err(|_| Denial::forbidden("GitHub did not list your emails"))?;
    ///         let primary = emails.as_array().into_iter().flatten()
    ///             .find(|e| e["primary"] == true && e["verified"] == true);
    ///         if let Some(email) = primary.and_then(|e| e["email"].as_str()) {
    ///             identity = identity.with_email(email, true);
    ///         }
    ///         Ok(Some(identity))
    ///     }
    /// }
    ///
    /// let fairing = GitHub.fairing().hooks(VerifiedEmails);
    /// # let _ = fairing;
    /// ```
    async fn identify(
        &self,
        login: &Login,
        _api: &ApiClient<'_>,
    ) -> Result<Option<Identity>, Denial> {
        Ok(login.identity().cloned())
    }

    /// Runs after a successful login that the access rules let in, before the session is
    /// stored; `login` holds the credentials, userinfo, identity and roles. `Err` refuses
    /// the login: no session is stored and the [`Denial`] is the response.
    /// _Default:_ accepts.
    async fn after_login(&self, _login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
        Ok(())
    }

    /// The app's own fields for the new session ([`SessionData`]: a local user id, a
    /// tenant, ...), after `after_login` admitted the user; [`Login::data`] reads them back
    /// on every request. A `Denial` refuses the login. _Default:_ none.
    ///
    /// ```rust
    /// use rocket::Request;
    /// use rocket_oauth::{Denial, Hooks, Login};
    /// use rocket_oauth::session::SessionData;
    ///
    /// struct Corp;
    ///
    /// #[rocket::async_trait]
    /// impl Hooks for Corp {
    ///     async fn session_data(&self, login: &Login, _request: &Request<'_>) -> Result<Option<SessionData>, Denial> {
    ///         // e.g. the id of the local account, looked up or created here
    ///         let local_id = login.identity().map(|i| i.subject.len() as u64);
    ///         SessionData::new(&local_id).map(Some).map_err(|e| Denial::forbidden(e.to_string()))
    ///     }
    /// }
    /// ```
    async fn session_data(
        &self,
        _login: &Login,
        _request: &Request<'_>,
    ) -> Result<Option<SessionData>, Denial> {
        Ok(None)
    }

    /// Runs once per refresh of the access token, with the session before and after (e.g. to
    /// keep tokens the application stores elsewhere up to date). _Default:_ does nothing.
    async fn on_token_update(&self, _old: &Login, _new: &Login) {}

    /// Runs when `logout` has forgotten the session; `login` is the session that ended
    /// (`None` when the visitor was not logged in). _Default:_ does nothing.
    async fn after_logout(&self, _login: Option<&Login>, _request: &Request<'_>) {}
}

/// How a hook refuses a login.
///
/// ```rust
/// use rocket::http::Status;
/// use rocket_oauth::Denial;
///
/// let page = Denial::forbidden("your account is suspended");
/// let custom = Denial::page(Status::PaymentRequired, "your subscription has ended");
/// let elsewhere = Denial::redirect("/signup");
/// ```
#[derive(Debug)]
pub struct Denial {
    pub(crate) kind: DenialKind,
}

#[derive(Debug)]
pub(crate) enum DenialKind {
    Page { status: Status, message: String },
    Redirect(String),
    Response(Response<'static>),
}

impl Denial {
    /// A `403 Forbidden` error page (the `oauth/error` template) showing `message`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Denial::page(Status::Forbidden, message)
    }

    /// An error page with this status (clamped to 4xx) showing `message`.
    pub fn page(status: Status, message: impl Into<String>) -> Self {
        let status = if (400..500).contains(&status.code) {
            status
        } else {
            Status::Forbidden
        };
        Denial {
            kind: DenialKind::Page {
                status,
                message: message.into(),
            },
        }
    }

    /// A `502 Bad Gateway` error page ("Provider unavailable") showing `message`: the
    /// provider's API the hook needed failed or did not answer, which is no verdict on the
    /// user (they may try again later).
    ///
    /// ```rust
    /// use rocket_oauth::Denial;
    ///
    /// let denial = Denial::unavailable("the teams API did not answer");
    /// # let _ = denial;
    /// ```
    pub fn unavailable(message: impl Into<String>) -> Self {
        Denial {
            kind: DenialKind::Page {
                status: Status::BadGateway,
                message: message.into(),
            },
        }
    }

    /// A `303 See Other` to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Denial {
            kind: DenialKind::Redirect(location.into()),
        }
    }

    /// Any response of the hook's own making.
    pub fn response(response: Response<'static>) -> Self {
        Denial {
            kind: DenialKind::Response(response),
        }
    }
}

/// No hooks of the application's: every method does its default (what a fairing runs until
/// [`OAuthFairing::hooks`](crate::OAuthFairing::hooks) is given others).
impl Hooks for () {}
