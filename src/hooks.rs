//! Hooks run around login and logout (Flask-oDesk's `after_login` / `after_logout`).

use rocket::http::Status;
use rocket::{Request, Response};

use crate::identity::Identity;
use crate::login::{Login, SessionData};
use crate::protocol::http::{HttpClient, HttpError};

/// Code run around logins and logouts. Every method has a default, and the provider derives
/// implement the defaults for you; write `#[oauth(..., custom_hooks)]` to implement this
/// trait yourself.
///
/// Order at login: [`identify`](Hooks::identify) → access rules → [`after_login`](Hooks::after_login)
/// → the session is stored. A hook reaches the application's managed state through
/// `request.rocket().state::<T>()`.
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
///     userinfo_url = "https://sso.example.com/userinfo",
///     custom_hooks
/// )]
/// struct Corp;
///
/// #[rocket::async_trait]
/// impl Hooks for Corp {
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
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `rocket_oauth::Hooks`",
    note = "with `#[oauth(custom_hooks)]`, write `impl rocket_oauth::Hooks for {Self} {{ ... }}`; or drop `custom_hooks` to use the default hooks"
)]
#[rocket::async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Maps the provider's answer to an [`Identity`], before the access rules and
    /// `after_login`. `login.userinfo()` holds the userinfo document (for OpenID Connect: the
    /// ID token's claims merged with userinfo); `api` calls the provider's API with the pooled
    /// client, e.g. GitHub's `/user/emails` for a verified email. `Err` refuses the login.
    /// _Default:_ [`Identity::from_claims`] of the userinfo, if any.
    ///
    /// ```rust
    /// use rocket_oauth::{Api, Denial, Hooks, Identity, Login, OAuth2Provider};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(
    ///     name = "github",
    ///     authorize_url = "https://github.com/login/oauth/authorize",
    ///     token_url = "https://github.com/login/oauth/access_token",
    ///     userinfo_url = "https://api.github.com/user",
    ///     scopes("read:user", "user:email"),
    ///     custom_hooks
    /// )]
    /// struct GitHub;
    ///
    /// #[rocket::async_trait]
    /// impl Hooks for GitHub {
    ///     async fn identify(&self, login: &Login, api: &Api<'_>) -> Result<Option<Identity>, Denial> {
    ///         let user = login.userinfo().ok_or_else(|| Denial::forbidden("no profile"))?;
    ///         let mut identity = Identity::new(user["id"].to_string());
    ///         let token = login.credentials().access_token();
    ///         let emails = api
    ///             .get_json("https://api.github.com/user/emails", token)
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
    async fn identify(&self, login: &Login, _api: &Api<'_>) -> Result<Option<Identity>, Denial> {
        Ok(login.userinfo().and_then(Identity::from_claims))
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
    /// use rocket_oauth::{Denial, Hooks, Login, SessionData};
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

/// The provider's pooled HTTP client, lent to [`Hooks::identify`] for API calls on the
/// user's behalf (no redirects followed, timeouts, capped bodies, JSON accepted).
pub struct Api<'a> {
    pub(crate) http: &'a HttpClient,
    pub(crate) base: Option<&'a url::Url>,
}

impl Api<'_> {
    /// `url` as given when absolute, else relative to the provider's `api_base_url`.
    fn resolve(&self, url: &str) -> Result<url::Url, HttpError> {
        let parsed = match (url::Url::parse(url), self.base) {
            (Ok(url), _) => Ok(url),
            (Err(url::ParseError::RelativeUrlWithoutBase), Some(base)) => base.join(url),
            (Err(e), _) => Err(e),
        };
        parsed.map_err(|e| HttpError::Request(e.to_string()))
    }

    /// `GET url` with `Authorization: Bearer <token>`, returning the JSON body (an error for
    /// non-2xx statuses). A relative `url` is resolved against the provider's
    /// `api_base_url`.
    pub async fn get_json(&self, url: &str, token: &str) -> Result<serde_json::Value, HttpError> {
        self.http.get_json(&self.resolve(url)?, Some(token)).await
    }

    /// A request with `Authorization: Bearer <token>`, extra `headers` and an optional JSON
    /// `body` (e.g. a GraphQL query), returning the JSON answer (an error for non-2xx
    /// statuses). A relative `url` is resolved against the provider's `api_base_url`.
    ///
    /// ```rust
    /// # async fn f(api: &rocket_oauth::Api<'_>, token: &str) -> Result<(), rocket_oauth::HttpError> {
    /// let query = serde_json::json!({ "query": "query { user { id email } }" });
    /// let answer = api.send_json("POST", "graphql", token, &[("X-Tenant", "t1")], Some(&query)).await?;
    /// let id = answer["data"]["user"]["id"].as_str();
    /// # let _ = id; Ok(()) }
    /// ```
    pub async fn send_json(
        &self,
        method: &str,
        url: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, HttpError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| HttpError::Request(e.to_string()))?;
        let mut request = self
            .http
            .request(method, self.resolve(url)?)
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let request = request
            .build()
            .map_err(|e| HttpError::Request(e.without_url().to_string()))?;
        let response = self.http.send(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(HttpError::Status(response.status));
        }
        serde_json::from_slice(&response.body).map_err(|_| HttpError::InvalidJson)
    }
}
