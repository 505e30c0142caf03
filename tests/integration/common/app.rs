//! The application under test: providers `idp` and `other`, with hooks that count calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rocket::figment::Figment;
use rocket::serde::json::{json, Value};
use rocket::{get, post, routes, Request};
use rocket_oauth::api::ApiHandle;
use rocket_oauth::guards::SessionAdmin;
use rocket_oauth::{
    AccessToken, ApiClient, Denial, Hooks, Login, LoginRequired, OAuth2Provider, User,
};

use super::{base_figment, free_port, launch, provider_config, Browser, Idp as IdpServer};

/// Counts hook calls; `deny` makes `after_login` refuse.
#[derive(Default)]
pub struct HookLog {
    pub logins: AtomicUsize,
    pub logouts: AtomicUsize,
    pub deny: bool,
    pub last_user: std::sync::Mutex<Option<Value>>,
    /// Calls of `on_token_update`.
    pub token_updates: AtomicUsize,
    /// The subject `after_logout` was told about.
    pub last_logout: std::sync::Mutex<Option<String>>,
    /// Logins the background job has yet to call the API with.
    pub job_queue: std::sync::Mutex<Vec<Login>>,
    /// The subjects the background job's API calls answered.
    pub job_answers: std::sync::Mutex<Vec<String>>,
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "idp",
    authorize_url = "https://idp.invalid/authorize",
    token_url = "https://idp.invalid/token",
    scopes("read")
)]
pub struct Idp;

/// The test app's hooks: they record what they see in the log.
pub struct Recorder {
    pub log: Arc<HookLog>,
}

#[rocket::async_trait]
impl Hooks for Recorder {
    async fn after_login(&self, login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
        self.log.logins.fetch_add(1, Ordering::SeqCst);
        *self.log.last_user.lock().unwrap() = login.userinfo().cloned();
        self.log.job_queue.lock().unwrap().push(login.clone());
        if self.log.deny {
            return Err(Denial::forbidden("test accounts are not welcome here"));
        }
        Ok(())
    }

    async fn on_token_update(&self, old: &Login, new: &Login) {
        assert_ne!(
            old.credentials().access_token(),
            new.credentials().access_token()
        );
        self.log.token_updates.fetch_add(1, Ordering::SeqCst);
    }

    async fn after_logout(&self, login: Option<&Login>, _request: &Request<'_>) {
        *self.log.last_logout.lock().unwrap() =
            login.and_then(|l| l.identity()).map(|i| i.subject.clone());
        self.log.logouts.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(OAuth2Provider)]
#[oauth(
    name = "other",
    authorize_url = "https://other.invalid/authorize",
    token_url = "https://other.invalid/token"
)]
pub struct Other;

#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo(), "scopes": token.scopes() })
}

#[get("/other-me")]
fn other_me(token: AccessToken<Other>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

/// The provider's API through `ApiClient` (`path`, relative to `api_base_url`; `api/me` by
/// default), its errors answered as `ApiError` answers them.
#[get("/api?<path>")]
async fn api(
    client: ApiClient<'_, Idp>,
    path: Option<&str>,
) -> Result<Value, rocket_oauth::error::ApiError> {
    client.get(path.unwrap_or("api/me")).await?.json()
}

/// The provider's API at `url` (absolute or relative), as the app would call it.
#[get("/api-to?<url>")]
async fn api_to(
    client: ApiClient<'_, Idp>,
    url: &str,
) -> Result<String, (rocket::http::Status, String)> {
    match client.get(url).await {
        Ok(response) => Ok(response.text()),
        Err(e) => Err((rocket::http::Status::BadGateway, e.to_string())),
    }
}

#[get("/api-post")]
async fn api_post(client: ApiClient<'_, Idp>) -> Result<Value, String> {
    let response = client
        .post("api/echo", &json!({"hello": "world"}))
        .await
        .map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::error::ApiError| e.to_string())
}

#[get("/graphql?<query>")]
async fn graphql(client: ApiClient<'_, Idp>, query: &str) -> Result<Value, String> {
    client
        .graphql("graphql", query, json!({"x": 1}))
        .await
        .map_err(|e| e.to_string())
}

/// The Rocket handling a request (for APIs used outside requests).
struct Orbit<'r>(&'r rocket::Rocket<rocket::Orbit>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Orbit<'r> {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, ()> {
        rocket::request::Outcome::Success(Orbit(req.rocket()))
    }
}

/// A background job's API call: the client built from stored credentials, no request.
#[get("/detached")]
async fn detached(token: AccessToken<Idp>, orbit: Orbit<'_>) -> Result<Value, String> {
    let login = Login::clone(&token);
    let rocket = orbit.0;
    // Run it off the request, as a job would.
    let job = rocket::tokio::task::spawn(async move { login });
    let login = job.await.map_err(|e| e.to_string())?;
    let client = ApiClient::<Idp>::detached(rocket, login).ok_or("no fairing")?;
    let response = client.get("api/me").await.map_err(|e| e.to_string())?;
    response
        .json()
        .map_err(|e: rocket_oauth::error::ApiError| e.to_string())
}

/// "Log out everywhere": ends every session of the caller, from outside the session itself.
#[post("/logout-everywhere")]
async fn logout_everywhere(user: User<Idp>, sessions: SessionAdmin<'_, Idp>) -> String {
    match sessions.end_sessions(&user.subject).await {
        Ok(n) => format!("{n} sessions ended"),
        Err(e) => e.to_string(),
    }
}

#[get("/private")]
fn private(_user: LoginRequired<Idp>) -> &'static str {
    "private page"
}

#[get("/maybe")]
fn maybe(token: Option<AccessToken<Idp>>) -> &'static str {
    if token.is_some() {
        "in"
    } else {
        "out"
    }
}

/// A periodic job in the app's process, as the README shows one: at liftoff it takes the
/// provider's API handle into a spawned task that, every 100 ms, calls the API for the logins
/// the hooks queued.
fn background_job(log: Arc<HookLog>) -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_liftoff("background job", |rocket| {
        Box::pin(async move {
            let idp = ApiHandle::<Idp>::of(rocket).expect("the fairing is attached");
            rocket::tokio::spawn(async move {
                let mut every =
                    rocket::tokio::time::interval(std::time::Duration::from_millis(100));
                loop {
                    every.tick().await;
                    let queued = std::mem::take(&mut *log.job_queue.lock().unwrap());
                    for login in queued {
                        let answer = idp.client(login).get("api/me").await;
                        if let Ok(Value::Object(me)) = answer.and_then(|r| r.json()) {
                            let sub = me["sub"].as_str().unwrap_or_default().to_owned();
                            log.job_answers.lock().unwrap().push(sub);
                        }
                    }
                }
            });
        })
    })
}

/// A running application.
pub struct App {
    pub url: String,
    pub log: Arc<HookLog>,
}

/// Starts the app against `idp` with both providers; `tweak` adjusts the configuration.
pub async fn start_app(idp: &IdpServer, deny: bool, tweak: impl FnOnce(Figment) -> Figment) -> App {
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", provider_config(idp, "idp", port)))
        .merge(("oauth.other", provider_config(idp, "other", port)));
    let log = Arc::new(HookLog {
        deny,
        ..HookLog::default()
    });
    let rocket = rocket::custom(tweak(figment))
        .attach(Idp.fairing().hooks(Recorder { log: log.clone() }))
        .attach(background_job(log.clone()))
        .attach(Other.fairing())
        .mount(
            "/",
            routes![
                me,
                other_me,
                private,
                maybe,
                api,
                api_to,
                api_post,
                graphql,
                detached,
                logout_everywhere
            ],
        );
    App {
        url: launch(rocket).await,
        log,
    }
}

/// Logs `browser` in to `app` with provider `idp` (landing on `/me`).
pub async fn log_in(browser: &Browser, app: &App) {
    let (r, _) = browser
        .follow(&format!("{}/auth/idp/login?next=/me", app.url))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// The status of `/me` for `browser`: 200 logged in, 401 not.
pub async fn me_status(browser: &Browser, app: &App) -> u16 {
    browser
        .get(&format!("{}/me", app.url))
        .await
        .status()
        .as_u16()
}
