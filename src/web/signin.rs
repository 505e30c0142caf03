//! The sign-in page: every attached provider as a button (`oauth/signin`), at
//! `oauth.signin.path` (default `/auth/login`); with one provider, straight to its login.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use rocket::figment::Figment;
use rocket::http::{Header, Method, Status};
use rocket::response::Redirect;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};
use serde::Serialize;

use crate::error::ConfigError;
use crate::pages::templates::{self, render};
use crate::web::next;
use crate::web::state::Registry;

/// Where the sign-in page is: `oauth.signin.path`, default `/auth/login`.
pub(crate) fn path(figment: &Figment) -> Result<String, ConfigError> {
    let key = "oauth.signin.path";
    let path = match figment.extract_inner::<String>(key) {
        Ok(path) => path,
        Err(e) if e.missing() => return Ok("/auth/login".into()),
        Err(e) => {
            return Err(ConfigError::Invalid {
                key: key.into(),
                reason: e.kind.to_string(),
            })
        }
    };
    let path = path.trim_end_matches('/').to_owned();
    if !path.starts_with('/') || rocket::http::uri::Origin::parse(&path).is_err() {
        return Err(ConfigError::Invalid {
            key: key.into(),
            reason: "must be an absolute path such as `/login`".into(),
        });
    }
    Ok(path)
}

pub(crate) fn routes() -> Vec<Route> {
    let mut route = Route::new(Method::Get, "/", SignIn);
    route.name = Some("rocket_oauth sign-in".into());
    vec![route]
}

#[derive(Clone)]
struct SignIn;

#[derive(Serialize)]
struct Button {
    name: &'static str,
    display_name: String,
    /// The first letter of the display name, for a mark.
    mark: String,
    login_url: String,
}

#[derive(Serialize)]
struct Page {
    providers: Vec<Button>,
    next: Option<String>,
}

#[rocket::async_trait]
impl Handler for SignIn {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let providers = req
            .rocket()
            .state::<Registry>()
            .map(Registry::providers)
            .unwrap_or_default();
        let next = req
            .query_value::<&str>("next")
            .and_then(|v| v.ok())
            .and_then(next::sanitize);
        let query = next
            .as_deref()
            .map(|n| format!("?next={}", utf8_percent_encode(n, NON_ALPHANUMERIC)))
            .unwrap_or_default();
        let buttons: Vec<Button> = providers
            .into_iter()
            .map(|p| Button {
                name: p.name,
                mark: p
                    .display_name
                    .chars()
                    .next()
                    .map(|c| c.to_uppercase().to_string())
                    .unwrap_or_default(),
                login_url: format!("{}{query}", p.login_path),
                display_name: p.display_name,
            })
            .collect();
        if let [only] = buttons.as_slice() {
            return Outcome::from(req, Redirect::to(only.login_url.clone()));
        }
        let page = render(
            req,
            Status::Ok,
            templates::SIGNIN,
            &Page {
                providers: buttons,
                next,
            },
        )
        .await;
        Outcome::from(req, page).map(|mut response| {
            response.set_header(Header::new("Cache-Control", "no-store"));
            response
        })
    }
}
