//! Incoming OAuth 1.0a signed requests (2-legged): [`SignedRequest`] checks that a request
//! was signed by a known consumer — signature, timestamp window, a nonce never seen in that
//! window — and answers `401` with a `WWW-Authenticate: OAuth` challenge naming the problem.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Build, Ignite, Response, Rocket, Sentinel};
use serde::Deserialize;
use url::Url;

use crate::error::{ConfigError, SignedRequestError};
use crate::protocol::oauth1::{
    authorization_header, header_params, Consumer, SignatureMethod, Signing,
};
use crate::secret::Secret;
use crate::session::backend::SessionBackend;
use crate::session::store::SessionStore;
use crate::util::{ct_eq, now};

/// `oauth.signed_requests`: who may call the application with signed requests.
///
/// ```toml
/// [default.oauth.signed_requests]
/// base_url = "https://api.example.com"      # how clients address this application (a path,
///                                           # e.g. a proxy's `/prefix`, comes before the route's)
/// window = 300                              # seconds a timestamp may be off
/// realm = "api"
///
/// [default.oauth.signed_requests.consumers]
/// partner = "partner-secret"                # consumer key = consumer secret
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    #[serde(default = "five_minutes")]
    window: u64,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    consumers: BTreeMap<String, Secret>,
}

fn five_minutes() -> u64 {
    300
}

/// The validated configuration, managed by the fairing.
struct SignedState {
    base_url: Url,
    window: i64,
    realm: String,
    consumers: BTreeMap<String, Secret>,
    nonces: Nonces,
}

/// Nonces seen within the window: in the shared session store when there is one (several
/// instances), else in memory (bounded).
enum Nonces {
    Shared(Arc<dyn SessionStore>),
    Local(Mutex<HashMap<String, i64>>),
}

/// The most nonces remembered in memory.
const MAX_NONCES: usize = 100_000;

impl Nonces {
    /// Records `key` until `until`; `false` when it was seen already (a replay).
    async fn first_use(&self, key: &str, window: i64, until: i64) -> Result<bool, ()> {
        match self {
            Nonces::Shared(store) => {
                let ttl = Duration::from_secs(u64::try_from(window.max(1)).unwrap_or(1) * 2);
                store
                    .try_lock(&format!("nonce:{key}"), ttl)
                    .await
                    .map_err(|e| log::error!("the nonce store failed: {e}"))
            }
            Nonces::Local(seen) => {
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                if seen.len() >= MAX_NONCES {
                    let now = now();
                    seen.retain(|_, until| *until > now);
                    if seen.len() >= MAX_NONCES {
                        // Refuse rather than forget nonces still inside the window.
                        return Err(());
                    }
                }
                Ok(seen.insert(key.to_owned(), until).is_none())
            }
        }
    }
}

/// A request signed by a known consumer (2-legged OAuth 1.0a, django-oauth-consumer's
/// `validate_signed_req`): the signature (over the method, `base_url` + path, the query and
/// the `oauth_*` parameters), a timestamp within `window` seconds, and a nonce never seen
/// within the window are all checked; secrets are compared in constant time. Otherwise the
/// guard fails with `401` and `WWW-Authenticate: OAuth realm="…", oauth_problem="…"`.
/// Parameters of form bodies are not read (a guard cannot see the body): sign query
/// parameters only. Attach [`RequestVerifier::fairing`].
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_oauth::oauth1::{RequestVerifier, SignedRequest};
///
/// #[get("/partner/data")]
/// fn data(request: SignedRequest) -> String {
///     format!("hello, {}", request.consumer_key)
/// }
///
/// #[launch]
/// fn rocket() -> _ {
///     // consumers, base_url and window from `oauth.signed_requests`
///     rocket::build().attach(RequestVerifier::fairing()).mount("/", routes![data])
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignedRequest {
    /// The consumer that signed the request.
    pub consumer_key: String,
}

/// The fairing that enables [`SignedRequest`]: it reads `oauth.signed_requests` at ignite and
/// adds the `WWW-Authenticate` challenge to refusals.
#[derive(Debug, Default)]
pub struct RequestVerifier;

impl RequestVerifier {
    /// The fairing.
    pub fn fairing() -> Self {
        RequestVerifier
    }
}

fn state(rocket: &Rocket<Build>) -> Result<SignedState, ConfigError> {
    let config: Config = rocket
        .figment()
        .extract_inner("oauth.signed_requests")
        .map_err(|e| ConfigError::Invalid {
            key: "oauth.signed_requests".into(),
            reason: e.to_string(),
        })?;
    let key = |field: &str| format!("oauth.signed_requests.{field}");
    let base_url = config.base_url.ok_or_else(|| ConfigError::Missing {
        key: key("base_url"),
    })?;
    let base_url = Url::parse(&base_url).map_err(|e| ConfigError::Invalid {
        key: key("base_url"),
        reason: format!("`{base_url}` is not an absolute URL ({e})"),
    })?;
    if config.window == 0 {
        return Err(ConfigError::Invalid {
            key: key("window"),
            reason: "must be at least 1 second".into(),
        });
    }
    if let Some((consumer, _)) = config.consumers.iter().find(|(_, s)| s.is_empty()) {
        return Err(ConfigError::Invalid {
            key: key(&format!("consumers.{consumer}")),
            reason: "the secret must not be empty".into(),
        });
    }
    let nonces = match rocket
        .state::<SessionBackend>()
        .and_then(|b| b.store.clone())
    {
        Some(store) => Nonces::Shared(store),
        None => Nonces::Local(Mutex::default()),
    };
    Ok(SignedState {
        base_url,
        window: i64::try_from(config.window).unwrap_or(i64::MAX),
        realm: config.realm.unwrap_or_default(),
        consumers: config.consumers,
        nonces,
    })
}

#[rocket::async_trait]
impl Fairing for RequestVerifier {
    fn info(&self) -> Info {
        Info {
            name: "rocket_oauth signed requests",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, mut rocket: Rocket<Build>) -> fairing::Result {
        // Nonces live in the session store when there is one (shared by instances).
        if rocket.state::<SessionBackend>().is_none() {
            match SessionBackend::from_config(&rocket).await {
                Ok(backend) => rocket = rocket.manage(backend),
                Err(e) => {
                    log::error!("rocket_oauth: {e}");
                    return Err(rocket);
                }
            }
        }
        match state(&rocket) {
            Ok(state) => Ok(rocket.manage(state)),
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(problem) = req.local_cache(|| Challenge(None)).0 else {
            return;
        };
        if res.status() != Status::Unauthorized {
            return;
        }
        let realm = req
            .rocket()
            .state::<SignedState>()
            .map_or("", |s| s.realm.as_str());
        res.set_header(Header::new(
            "WWW-Authenticate",
            format!("OAuth realm=\"{realm}\", oauth_problem=\"{problem}\""),
        ));
        if res.content_type().is_none() {
            res.set_sized_body(0, Cursor::new(""));
        }
    }
}

/// The problem of this request's refusal, for the challenge.
struct Challenge(Option<&'static str>);

fn refuse(
    req: &Request<'_>,
    error: SignedRequestError,
) -> Outcome<SignedRequest, SignedRequestError> {
    req.local_cache(|| Challenge(Some(error.problem())));
    let status = match error {
        SignedRequestError::Unavailable => Status::ServiceUnavailable,
        _ => Status::Unauthorized,
    };
    Outcome::Error((status, error))
}

/// The `oauth_*` parameters of a 2-legged signed request.
struct Signed<'a> {
    consumer_key: &'a str,
    nonce: &'a str,
    signature: &'a str,
    timestamp: i64,
    method: SignatureMethod,
    version: bool,
}

impl<'a> Signed<'a> {
    /// The parameters of the `Authorization: OAuth` header's `params`.
    fn parse(
        params: &'a HashMap<String, String>,
        state: &SignedState,
    ) -> Result<Self, SignedRequestError> {
        use SignedRequestError as E;
        let get = |name: &str| params.get(name).map(String::as_str).ok_or(E::Missing);
        let (consumer_key, nonce, signature) = (
            get("oauth_consumer_key")?,
            get("oauth_nonce")?,
            get("oauth_signature")?,
        );
        let timestamp = get("oauth_timestamp")?.parse().map_err(|_| E::Timestamp)?;
        let method = match get("oauth_signature_method")? {
            "HMAC-SHA1" => SignatureMethod::HmacSha1,
            "PLAINTEXT" if state.base_url.scheme() == "https" => SignatureMethod::Plaintext,
            _ => return Err(E::SignatureMethod),
        };
        let version = match params.get("oauth_version").map(String::as_str) {
            None => false,
            Some("1.0") => true,
            Some(_) => return Err(E::Missing),
        };
        // 2-legged: only these protocol parameters may be signed.
        let known = [
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_version",
        ];
        if params.keys().any(|k| !known.contains(&k.as_str())) {
            return Err(E::Signature);
        }
        Ok(Signed {
            consumer_key,
            nonce,
            signature,
            timestamp,
            method,
            version,
        })
    }

    /// The signature the consumer holding `secret` would have made for this request.
    fn expected(&self, req: &Request<'_>, state: &SignedState, secret: &Secret) -> String {
        // `base_url`'s own path (a proxy's prefix) comes before the request's.
        let mut url = state.base_url.clone();
        let prefix = state.base_url.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}{}", req.uri().path()));
        url.set_query(req.uri().query().map(|q| q.as_str()));
        let signing = Signing {
            nonce: Some(self.nonce),
            timestamp: u64::try_from(self.timestamp).ok(),
            version: self.version,
            ..Signing::default()
        };
        let consumer = Consumer {
            key: self.consumer_key.to_owned(),
            secret: secret.clone(),
            method: self.method,
            rsa_key: None,
        };
        let expected = authorization_header(&consumer, req.method().as_str(), &url, &[], &signing);
        header_params(&expected)
            .and_then(|p| p.into_iter().find(|(k, _)| k == "oauth_signature"))
            .map(|(_, v)| v)
            .unwrap_or_default()
    }
}

async fn check(
    req: &Request<'_>,
    state: &SignedState,
) -> Result<SignedRequest, SignedRequestError> {
    use SignedRequestError as E;
    let header = req.headers().get_one("Authorization").ok_or(E::Missing)?;
    let params: HashMap<String, String> = header_params(header)
        .ok_or(E::Missing)?
        .into_iter()
        .filter(|(k, _)| k != "realm")
        .collect();
    let signed = Signed::parse(&params, state)?;
    let secret = state
        .consumers
        .get(signed.consumer_key)
        .ok_or(E::UnknownConsumer)?;
    let now = now();
    // Checked: a timestamp near either end of `i64` must not overflow.
    let skew = now.checked_sub(signed.timestamp).and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > state.window) {
        return Err(E::Timestamp);
    }
    if !ct_eq(&signed.expected(req, state, secret), signed.signature) {
        return Err(E::Signature);
    }
    // Only a request with a valid signature may use up a nonce.
    let key = format!(
        "{}:{}:{}",
        signed.consumer_key, signed.timestamp, signed.nonce
    );
    match state
        .nonces
        .first_use(&key, state.window, now.saturating_add(state.window))
        .await
    {
        Ok(true) => Ok(SignedRequest {
            consumer_key: signed.consumer_key.to_owned(),
        }),
        Ok(false) => Err(E::NonceUsed),
        Err(()) => Err(E::Unavailable),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedRequest {
    type Error = SignedRequestError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(state) = req.rocket().state::<SignedState>() else {
            return refuse(req, SignedRequestError::Unavailable);
        };
        match check(req, state).await {
            Ok(request) => Outcome::Success(request),
            Err(error) => refuse(req, error),
        }
    }
}

impl Sentinel for SignedRequest {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if rocket.state::<SignedState>().is_none() {
            log::error!(
                "`SignedRequest` is used, but `RequestVerifier::fairing()` is not attached"
            );
            return true;
        }
        false
    }
}
