//! Hooks run around login and logout (Flask-oDesk's `after_login` / `after_logout`).

use rocket::http::{CookieJar, Status};
use rocket::{Request, Response};

use crate::error::HttpError;
use crate::guards::AccessToken;
use crate::http::HttpClient;
use crate::identity::Identity;

/// Code run after a login succeeds and after a logout. Both methods default to doing nothing,
/// so `impl Hooks for MyProvider {}` is enough.
///
/// `after_login` runs once the tokens (and the userinfo, when a `userinfo_url` is set) are
/// in hand and before the session is stored; returning `Err` refuses the login: no session
/// is stored and the [`Denial`] is the response.
///
/// ```rust
/// use rocket::http::CookieJar;
/// use rocket::Request;
/// use rocket_oauth::{AccessToken, Denial, Hooks, OAuth2Provider};
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
/// #[rocket::async_trait]
/// impl Hooks for Corp {
///     async fn after_login(
///         &self,
///         token: &AccessToken<Self>,
///         _request: &Request<'_>,
///         _cookies: &CookieJar<'_>,
///     ) -> Result<(), Denial> {
///         let email = token.userinfo().and_then(|u| u["email"].as_str()).unwrap_or("");
///         if email.ends_with("@example.com") {
///             Ok(())
///         } else {
///             Err(Denial::forbidden("only example.com accounts may log in"))
///         }
///     }
///
///     async fn after_logout(&self, _request: &Request<'_>, cookies: &CookieJar<'_>) {
///         cookies.remove("cart");
///     }
/// }
/// ```
#[rocket::async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Runs after a successful login, before the session is stored. `token` holds the new
    /// tokens and userinfo; `Err` refuses the login. _Default:_ accepts.
    async fn after_login(
        &self,
        _token: &AccessToken<Self>,
        _request: &Request<'_>,
        _cookies: &CookieJar<'_>,
    ) -> Result<(), Denial>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Maps the provider's answer to an [`Identity`], before access rules and `after_login`.
    /// `token.userinfo()` holds the userinfo document (for OpenID Connect: the ID token's
    /// claims merged with userinfo); `api` calls the provider's API with the pooled client,
    /// e.g. GitHub's `/user/emails` for a verified email. `Err` refuses the login.
    /// _Default:_ [`Identity::from_claims`] of the userinfo, if any.
    ///
    /// ```rust
    /// use rocket_oauth::{AccessToken, Api, Denial, Hooks, Identity, OAuth2Provider};
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
    /// #[rocket::async_trait]
    /// impl Hooks for GitHub {
    ///     async fn identify(&self, token: &AccessToken<Self>, api: &Api<'_>) -> Result<Option<Identity>, Denial> {
    ///         let user = token.userinfo().ok_or_else(|| Denial::forbidden("no profile"))?;
    ///         let mut identity = Identity::new(user["id"].to_string());
    ///         let emails = api
    ///             .get_json("https://api.github.com/user/emails", token.secret())
    ///             .await
    ///             .map_err(|_| Denial::forbidden("GitHub did not list your emails"))?;
    ///         let primary = emails.as_array().into_iter().flatten()
    ///             .find(|e| e["primary"] == true && e["verified"] == true);
    ///         if let Some(email) = primary.and_then(|e| e["email"].as_str()) {
    ///             identity = identity.with_email(email, true);
    ///         }
    ///         Ok(Some(identity))
    ///     }
    /// }
    /// ```
    async fn identify(
        &self,
        token: &AccessToken<Self>,
        _api: &Api<'_>,
    ) -> Result<Option<Identity>, Denial>
    where
        Self: Sized,
    {
        Ok(token.userinfo().and_then(Identity::from_claims))
    }

    /// Runs after the session is forgotten by `logout`. _Default:_ does nothing.
    async fn after_logout(&self, _request: &Request<'_>, _cookies: &CookieJar<'_>) {}
}

/// How an [`after_login`](Hooks::after_login) hook refuses a login.
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

/// The provider's pooled HTTP client, lent to [`Hooks::identify`] for API calls on the
/// user's behalf (no redirects followed, timeouts, capped bodies, JSON accepted).
pub struct Api<'a> {
    pub(crate) http: &'a HttpClient,
}

impl Api<'_> {
    /// `GET url` with `Authorization: Bearer <token>`, returning the JSON body (an error for
    /// non-2xx statuses).
    pub async fn get_json(&self, url: &str, token: &str) -> Result<serde_json::Value, HttpError> {
        let url = url::Url::parse(url).map_err(|e| HttpError::Request(e.to_string()))?;
        self.http.get_json(&url, Some(token)).await
    }
}
