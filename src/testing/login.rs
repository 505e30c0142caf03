//! Logging a test client in through the real flow: the app's login route, the mock's
//! authorization endpoint (approving for the chosen user), the app's callback (which calls
//! the mock's token and userinfo endpoints over loopback HTTP).

use rocket::http::{ContentType, Status};
use rocket::local::{asynchronous, blocking};

use super::browser::Browser;
use super::exchange::RecordedRequest;
use super::mock::{base_path, listed_base_path, MockProvider};
use super::oauth2::AuthorizeAnswer;
use crate::Provider;

/// Where a login ended: the app's answer to the callback (or to the login route, when it
/// did not send the browser to the provider), or the provider's error page.
///
/// ```rust
/// # use rocket_oauth::testing::Landing;
/// fn logged_in(landing: &Landing) -> bool {
///     landing.status.class().is_redirection() || landing.status.code == 200
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Landing {
    /// The status: `303` to `next` (or the success page's `200`) after a login; the error
    /// page's 4xx/5xx otherwise.
    pub status: Status,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body (an error page's text, for one).
    pub body: String,
}

/// Who logs in with the kit's `log_in` calls: a user (the mock's subject) and, optionally,
/// the `next` path the login leads back to. A `&str` is the user alone.
///
/// ```rust
/// use rocket_oauth::testing::LoginAs;
///
/// let plain: LoginAs = "alice".into();
/// let back_to_reports = LoginAs::user("alice").next("/reports");
/// assert_eq!(back_to_reports.login_path("/auth/gh"), "/auth/gh/login?next=%2Freports");
/// assert_eq!(plain.login_path("/auth/gh"), "/auth/gh/login");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAs {
    user: String,
    next: Option<String>,
}

impl LoginAs {
    /// `user` logs in (no `next`: the app shows its success page).
    pub fn user(user: impl Into<String>) -> Self {
        LoginAs {
            user: user.into(),
            next: None,
        }
    }

    /// The login leads back to `next` (a same-site path), as `GET login?next=…` does.
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    /// The app's login route under `base_path`, with `next`.
    pub fn login_path(&self, base_path: &str) -> String {
        match &self.next {
            Some(next) => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                format!("{base_path}/login?next={next}")
            }
            None => format!("{base_path}/login"),
        }
    }
}

impl From<&str> for LoginAs {
    fn from(user: &str) -> Self {
        LoginAs::user(user)
    }
}

impl From<String> for LoginAs {
    fn from(user: String) -> Self {
        LoginAs::user(user)
    }
}

/// The confirmation page's form (`confirm = true`): its action and fields, when `landing`
/// is that page.
fn confirmation(landing: &Landing) -> Option<(String, Vec<(String, String)>)> {
    let is_form = landing.status == Status::Ok
        && landing.location.is_none()
        && landing.body.contains("name=\"csrf_token\"");
    is_form.then(|| parse_form_post(&landing.body))
}

fn form_body(fields: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The next request of the browser, after the provider answered.
enum Callback {
    Get(String),
    Post(String, String),
    Refused(String),
}

impl MockProvider {
    /// The authorization step for `user`: what the provider's authorize page at
    /// `authorize_url` answers (recorded like a request it received).
    fn approve(&self, authorize_url: &str, user: &str) -> Callback {
        let Ok(url) = url::Url::parse(authorize_url) else {
            return Callback::Refused(format!("not a URL: {authorize_url}"));
        };
        let request = RecordedRequest {
            method: "GET".into(),
            path: url.path().to_owned(),
            query: url.query().unwrap_or_default().to_owned(),
            headers: Vec::new(),
            body: String::new(),
        };
        self.shared.record(&request);
        let params = request.query_params();
        let answer = if request.path.starts_with("/oauth1/") {
            super::oauth1::authorize_request(&self.shared, &params, Some(user))
        } else {
            super::oauth2::authorize_request(&self.shared, &params, Some(user))
        };
        match answer {
            AuthorizeAnswer::Redirect(to) => Callback::Get(to),
            AuthorizeAnswer::FormPost { action, fields } => {
                Callback::Post(action, form_body(&fields))
            }
            AuthorizeAnswer::Invalid(why) => Callback::Refused(why),
        }
    }

    /// Whether `location` is this provider's.
    fn is_mine(&self, location: Option<&str>) -> bool {
        location.is_some_and(|l| l.starts_with(&format!("{}/", self.url())))
    }

    /// Logs a tracked [`asynchronous::Client`] in with provider `P` as `user` (a subject, or
    /// a [`LoginAs`] with a `next`), through the real flow — the confirmation page too, when
    /// `confirm = true` — and the client keeps the session cookie. `P` must be configured
    /// against this mock ([`MockProvider::configure`]).
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket::http::Status;
    /// use rocket::local::asynchronous::Client;
    /// use rocket_oauth::testing::{self, MockProvider};
    /// use rocket_oauth::{OAuth2Provider, User};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
    /// struct Gh;
    ///
    /// #[get("/whoami")]
    /// fn whoami(user: User<Gh>) -> String {
    ///     user.subject.clone()
    /// }
    ///
    /// # rocket::async_test(async {
    /// let mock = MockProvider::start();
    /// let rocket = rocket::custom(mock.configure::<Gh>(testing::figment()))
    ///     .attach(Gh.fairing())
    ///     .mount("/", routes![whoami]);
    /// let client = Client::tracked(rocket).await.unwrap();
    ///
    /// let landing = mock.log_in::<Gh>(&client, "alice").await;
    /// assert_eq!(landing.status, Status::Ok); // the success page
    /// let response = client.get("/whoami").dispatch().await;
    /// assert_eq!(response.into_string().await.as_deref(), Some("alice"));
    /// # });
    /// ```
    pub async fn log_in<P: Provider>(
        &self,
        client: &asynchronous::Client,
        user: impl Into<LoginAs>,
    ) -> Landing {
        let base = base_path::<P>(client.rocket().figment());
        self.log_in_under(client, &base, user.into()).await
    }

    /// [`MockProvider::log_in`] with the [listed](crate::Listed) provider `name` (configured
    /// by [`MockProvider::configure_listed`]).
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket::local::asynchronous::Client;
    /// use rocket_oauth::config::Protocol;
    /// use rocket_oauth::testing::{self, MockProvider};
    /// use rocket_oauth::Providers;
    ///
    /// #[get("/t/<tenant>/me")]
    /// async fn me(providers: Providers<'_>, tenant: &str) -> Option<String> {
    ///     Some(providers.user(tenant).await?.subject.clone())
    /// }
    ///
    /// # rocket::async_test(async {
    /// let mock = MockProvider::start();
    /// let figment = mock.configure_listed(testing::figment(), "acme", Protocol::OAuth2);
    /// let rocket = rocket::custom(figment)
    ///     .attach(Providers::fairing())
    ///     .mount("/", routes![me]);
    /// let client = Client::tracked(rocket).await.unwrap();
    ///
    /// mock.log_in_listed(&client, "acme", "alice").await;
    /// let response = client.get("/t/acme/me").dispatch().await;
    /// assert_eq!(response.into_string().await.as_deref(), Some("alice"));
    /// # });
    /// ```
    pub async fn log_in_listed(
        &self,
        client: &asynchronous::Client,
        name: &str,
        user: impl Into<LoginAs>,
    ) -> Landing {
        let base = listed_base_path(client.rocket().figment(), name);
        self.log_in_under(client, &base, user.into()).await
    }

    /// Logs `who` in through the app's routes under `base`.
    async fn log_in_under(
        &self,
        client: &asynchronous::Client,
        base: &str,
        who: LoginAs,
    ) -> Landing {
        let mut start = local_landing(client.get(who.login_path(base)).dispatch().await).await;
        if let Some((action, fields)) = confirmation(&start) {
            let post = client.post(local_uri(&action)).header(ContentType::Form);
            start = local_landing(post.body(form_body(&fields)).dispatch().await).await;
        }
        if !self.is_mine(start.location.as_deref()) {
            return start;
        }
        let authorize = start.location.as_deref().unwrap_or_default();
        let response = match self.approve(authorize, &who.user) {
            Callback::Get(to) => client.get(local_uri(&to)).dispatch().await,
            Callback::Post(to, form) => {
                client
                    .post(local_uri(&to))
                    .header(ContentType::Form)
                    .body(form)
                    .dispatch()
                    .await
            }
            Callback::Refused(why) => return refused(why),
        };
        local_landing(response).await
    }

    /// [`MockProvider::log_in`] for a tracked [`blocking::Client`].
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket::local::blocking::Client;
    /// use rocket_oauth::testing::{self, MockProvider};
    /// use rocket_oauth::{LoginRequired, OAuth2Provider};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
    /// struct Gh;
    ///
    /// #[get("/")]
    /// fn home(_user: LoginRequired<Gh>) -> &'static str {
    ///     "welcome"
    /// }
    ///
    /// let mock = MockProvider::start();
    /// let rocket = rocket::custom(mock.configure::<Gh>(testing::figment()))
    ///     .attach(Gh.fairing())
    ///     .mount("/", routes![home]);
    /// let client = Client::tracked(rocket).unwrap();
    /// // A page navigation (a script's fetch would get 401) is sent to the login.
    /// let page = client.get("/").header(rocket::http::Accept::HTML).dispatch();
    /// assert_eq!(page.status().code, 303);
    ///
    /// mock.log_in_blocking::<Gh>(&client, "alice");
    /// assert_eq!(client.get("/").dispatch().into_string().as_deref(), Some("welcome"));
    /// ```
    pub fn log_in_blocking<P: Provider>(
        &self,
        client: &blocking::Client,
        user: impl Into<LoginAs>,
    ) -> Landing {
        let who = user.into();
        let base = base_path::<P>(client.rocket().figment());
        let mut start = blocking_landing(client.get(who.login_path(&base)).dispatch());
        if let Some((action, fields)) = confirmation(&start) {
            let post = client.post(local_uri(&action)).header(ContentType::Form);
            start = blocking_landing(post.body(form_body(&fields)).dispatch());
        }
        if !self.is_mine(start.location.as_deref()) {
            return start;
        }
        let authorize = start.location.as_deref().unwrap_or_default();
        let response = match self.approve(authorize, &who.user) {
            Callback::Get(to) => client.get(local_uri(&to)).dispatch(),
            Callback::Post(to, form) => client
                .post(local_uri(&to))
                .header(ContentType::Form)
                .body(form)
                .dispatch(),
            Callback::Refused(why) => return refused(why),
        };
        blocking_landing(response)
    }

    /// Logs a [`Browser`] (a real HTTP client) in to the app served at `app_url` with
    /// provider `P` (its routes at `/auth/<name>`) as `user` (or a [`LoginAs`]): every step
    /// is a real HTTP request, the provider's and the confirmation page's included.
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket_oauth::testing::{self, Browser, MockProvider};
    /// use rocket_oauth::{AccessToken, OAuth2Provider};
    ///
    /// #[derive(OAuth2Provider)]
    /// #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
    /// struct Gh;
    ///
    /// #[get("/token-scopes")]
    /// fn scopes(token: AccessToken<Gh>) -> String {
    ///     token.scopes().join(" ")
    /// }
    ///
    /// # rocket::async_test(async {
    /// let mock = MockProvider::start();
    /// let figment = mock.configure::<Gh>(testing::figment());
    /// let app = testing::serve(rocket::custom(figment).attach(Gh.fairing()).mount("/", routes![scopes])).await;
    ///
    /// let browser = Browser::new();
    /// let landing = mock.log_in_http::<Gh>(&browser, &app, "alice").await;
    /// assert_eq!(landing.status.code, 200);
    /// assert_eq!(browser.get(&format!("{app}/token-scopes")).await.status(), 200);
    /// # });
    /// ```
    pub async fn log_in_http<P: Provider>(
        &self,
        browser: &Browser,
        app_url: &str,
        user: impl Into<LoginAs>,
    ) -> Landing {
        let base = format!("/auth/{}", P::NAME);
        self.log_in_http_under(browser, app_url, &base, user.into())
            .await
    }

    /// [`MockProvider::log_in_http`] with the [listed](crate::Listed) provider `name`, its
    /// routes at `/auth/<name>`.
    pub async fn log_in_http_listed(
        &self,
        browser: &Browser,
        app_url: &str,
        name: &str,
        user: impl Into<LoginAs>,
    ) -> Landing {
        let base = format!("/auth/{name}");
        self.log_in_http_under(browser, app_url, &base, user.into())
            .await
    }

    /// Logs `who` in with a real browser through the app's routes under `base`.
    async fn log_in_http_under(
        &self,
        browser: &Browser,
        app_url: &str,
        base: &str,
        who: LoginAs,
    ) -> Landing {
        let app_url = app_url.trim_end_matches('/');
        let login = who.login_path(base);
        let mut start = http_landing(browser.get(&format!("{app_url}{login}")).await).await;
        if let Some((action, fields)) = confirmation(&start) {
            let action = format!("{app_url}{}", local_uri(&action));
            start = http_landing(browser.post_form(&action, &fields).await).await;
        }
        let Some(authorize) = start.location.clone().filter(|l| self.is_mine(Some(l))) else {
            return start;
        };
        let mut authorize = url::Url::parse(&authorize).expect("the mock's URL");
        authorize
            .query_pairs_mut()
            .append_pair("login_as", &who.user);
        let answer = browser.get(authorize.as_str()).await;
        let answer = http_landing(answer).await;
        let response = match (&answer.location, answer.status.code) {
            (Some(callback), _) => browser.get(callback).await,
            (None, 200) => {
                let (action, fields) = parse_form_post(&answer.body);
                browser.post_form(&action, &fields).await
            }
            _ => return answer,
        };
        http_landing(response).await
    }
}

/// The provider refused to redirect (an error page of its own).
fn refused(why: String) -> Landing {
    Landing {
        status: Status::BadRequest,
        location: None,
        body: why,
    }
}

/// The path and query of an absolute URL, for a local client.
fn local_uri(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

async fn local_landing(response: asynchronous::LocalResponse<'_>) -> Landing {
    Landing {
        status: response.status(),
        location: response.headers().get_one("Location").map(str::to_owned),
        body: response.into_string().await.unwrap_or_default(),
    }
}

async fn http_landing(response: reqwest::Response) -> Landing {
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    Landing {
        status: Status::new(response.status().as_u16()),
        location,
        body: response.text().await.unwrap_or_default(),
    }
}

fn blocking_landing(response: blocking::LocalResponse<'_>) -> Landing {
    Landing {
        status: response.status(),
        location: response.headers().get_one("Location").map(str::to_owned),
        body: response.into_string().unwrap_or_default(),
    }
}

/// The action and fields of the mock's own `form_post` page.
fn parse_form_post(page: &str) -> (String, Vec<(String, String)>) {
    let attribute = |tag: &str, name: &str| {
        tag.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(unescape_html)
            .unwrap_or_default()
    };
    let action = attribute(page, "action");
    let fields = page
        .split("<input ")
        .skip(1)
        .map(|tag| (attribute(tag, "name"), attribute(tag, "value")))
        .collect();
    (action, fields)
}

/// Decodes the HTML character references an HTML-escaping template writes (`&amp;`, `&quot;`,
/// `&#x2F;`, `&#39;`, …).
fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')
                        .and_then(|n| n.parse().ok())
                        .and_then(char::from_u32),
                },
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::super::oauth2::form_post_page;
    use super::*;

    #[test]
    fn the_form_post_page_reads_back() {
        let fields = vec![
            ("code".to_owned(), "a\"b&c<d>".to_owned()),
            ("state".to_owned(), "s".to_owned()),
        ];
        let page = form_post_page("http://a/cb?x=1&y=2", &fields);
        let (action, parsed) = parse_form_post(&page);
        assert_eq!(action, "http://a/cb?x=1&y=2");
        assert_eq!(parsed, fields);
    }

    #[test]
    fn character_references_are_decoded() {
        assert_eq!(
            unescape_html("&#x2F;a&#x2f;b&amp;c=&quot;d&quot;&#39;&bogus;&"),
            "/a/b&c=\"d\"'&bogus;&"
        );
    }

    #[test]
    fn local_uris_keep_the_path_and_query() {
        assert_eq!(
            local_uri("http://127.0.0.1:8000/auth/x/callback?code=1&state=2"),
            "/auth/x/callback?code=1&state=2"
        );
        assert_eq!(
            local_uri("http://127.0.0.1:8000/auth/x/callback"),
            "/auth/x/callback"
        );
    }
}
