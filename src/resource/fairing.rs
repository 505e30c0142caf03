//! A resource (the trait naming its issuer) and its fairing: its configuration read at ignite, one pooled HTTP client for the
//! issuer, the RFC 9728 metadata route, and the guards' refusals answered.

use std::marker::PhantomData;
use std::sync::Arc;

use rocket::data::Data;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{ContentType, Header, Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Build, Request, Response, Rocket};
use serde_json::json;
use url::Url;

use crate::config::ResourceConfig;
use crate::error::ConfigError;
use crate::protocol::http::HttpClient;
use crate::protocol::resource::TokenValidator;
use crate::util::protected_resource_path;

/// An issuer whose access tokens an API accepts: its configuration is
/// `oauth.resource.<NAME>`. Implement it on a unit struct of your own, attach
/// [`fairing`](Resource::fairing), and guard routes with [`Bearer<Self, S>`](crate::resource::Bearer).
///
/// ```rust
/// use rocket_oauth::resource::Resource;
///
/// struct Keycloak;
///
/// impl Resource for Keycloak {
///     const NAME: &'static str = "keycloak";
/// }
///
/// let rocket = rocket::build().attach(Keycloak.fairing());
/// # let _ = rocket;
/// ```
pub trait Resource: Send + Sync + Sized + 'static {
    /// The configuration table: `oauth.resource.<NAME>`.
    const NAME: &'static str;

    /// The fairing that reads the configuration at ignite (a missing or bad key stops the
    /// launch, naming it), serves the protected resource metadata, and answers the guards'
    /// refusals.
    fn fairing(self) -> ResourceFairing<Self> {
        ResourceFairing::new()
    }
}

/// The fairing of resource `R` ([`Resource::fairing`]).
pub struct ResourceFairing<R>(PhantomData<fn() -> R>);

impl<R: Resource> ResourceFairing<R> {
    pub(super) fn new() -> Self {
        ResourceFairing(PhantomData)
    }
}

impl<R> std::fmt::Debug for ResourceFairing<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ResourceFairing")
            .field(&std::any::type_name::<R>())
            .finish()
    }
}

/// What the guards of resource `R` use (managed state, one per resource type).
pub(crate) struct ResourceState<R> {
    pub config: ResourceConfig,
    pub validator: TokenValidator,
    pub http: HttpClient,
    /// The absolute URL of the resource's metadata, when it has a `resource` identifier.
    pub metadata_url: Option<String>,
    /// The resource identifier's origin: what DPoP proofs name (`htu`); without one, the
    /// request's `Host`.
    pub origin: Option<String>,
    /// Checks the proofs of DPoP-bound tokens (RFC 9449 §7).
    pub dpop: crate::protocol::oidc::dpop::Checker,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource> ResourceState<R> {
    fn new(config: ResourceConfig) -> Result<Self, ConfigError> {
        let http = HttpClient::new(config.connect_timeout, config.timeout)
            .map_err(|e| ConfigError::HttpClient(Box::new(e)))?;
        let resource = config.resource.as_deref().and_then(|r| Url::parse(r).ok());
        let origin = resource.as_ref().map(|r| r.origin().ascii_serialization());
        let metadata_url = resource.map(|url| {
            format!(
                "{}{}",
                url.origin().ascii_serialization(),
                protected_resource_path(&url)
            )
        });
        Ok(ResourceState {
            origin,
            dpop: crate::protocol::oidc::dpop::Checker::new(None),
            validator: TokenValidator::new(config.settings()),
            config,
            http,
            metadata_url,
            _resource: PhantomData,
        })
    }
}

#[rocket::async_trait]
impl<R: Resource> Fairing for ResourceFairing<R> {
    fn info(&self) -> Info {
        Info {
            name: "rocket_oauth resource server",
            kind: Kind::Ignite | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        if rocket.state::<ResourceState<R>>().is_some() {
            log::error!("the resource `{}` is attached twice", R::NAME);
            return Err(rocket);
        }
        let state = ResourceConfig::from_figment(rocket.figment(), R::NAME)
            .and_then(ResourceState::<R>::new);
        let state = match state {
            Ok(state) => state,
            Err(e) => {
                log::error!("rocket_oauth: {e}");
                return Err(rocket);
            }
        };
        let rocket = match metadata_route(&state.config) {
            Some(route) => rocket.mount("/", vec![route]),
            None => rocket,
        };
        Ok(rocket.manage(state))
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if matches!(res.status().code, 401 | 403 | 502 | 504) {
            crate::bearer::answer(req, res);
        }
    }
}

/// The metadata document's route, when the resource has an identifier.
fn metadata_route(config: &ResourceConfig) -> Option<Route> {
    let resource = config.resource.as_deref()?;
    let url = Url::parse(resource).ok()?;
    let mut document = json!({
        "resource": resource,
        "authorization_servers": [config.issuer],
        "bearer_methods_supported": ["header"],
    });
    if !config.scopes.is_empty() {
        document["scopes_supported"] = json!(config.scopes);
    }
    let handler = Metadata(Arc::new(document.to_string()));
    Some(Route::new(
        Method::Get,
        &protected_resource_path(&url),
        handler,
    ))
}

/// Serves the protected resource metadata: public, so any origin may read it (browser-based
/// clients discover the authorization server through it).
#[derive(Clone)]
struct Metadata(Arc<String>);

#[rocket::async_trait]
impl Handler for Metadata {
    async fn handle<'r>(&self, _req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let body = self.0.clone();
        let response = Response::build()
            .status(Status::Ok)
            .header(ContentType::JSON)
            .header(Header::new("Access-Control-Allow-Origin", "*"))
            .header(Header::new("Cache-Control", "max-age=300"))
            .sized_body(body.len(), std::io::Cursor::new(body.as_bytes().to_vec()))
            .finalize();
        Outcome::Success(response)
    }
}
