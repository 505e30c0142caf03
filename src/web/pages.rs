//! Error pages: every failed login ends on the `oauth/error` template with a 4xx status.

use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;

use crate::error::LoginError;
use crate::hooks::{Denial, DenialKind};
use crate::provider::Provider;
use crate::web::state::ProviderState;
use crate::web::templates::{self, render};

impl LoginError {
    /// The HTTP status this failure is answered with: 4xx, or 503 when the session store
    /// failed.
    pub fn status(&self) -> Status {
        use crate::protocol::flow::FlowError;
        match self {
            LoginError::Flow(FlowError::Cancelled) | LoginError::Refused => Status::Forbidden,
            LoginError::Csrf | LoginError::NotAllowed | LoginError::CrossSite => Status::Forbidden,
            LoginError::SessionStore => Status::ServiceUnavailable,
            _ => Status::BadRequest,
        }
    }
}

/// The `oauth/error` template's context (shared with the authorization server's pages).
#[derive(Debug, Serialize)]
pub(crate) struct ErrorContext<'a> {
    pub provider: &'a str,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
    pub retry_url: Option<String>,
}

impl ErrorContext<'_> {
    /// Renders the page.
    pub async fn render<'r>(&self, req: &'r Request<'_>) -> Outcome<'r> {
        let status = Status::from_code(self.status).unwrap_or(Status::BadRequest);
        Outcome::from(req, render(req, status, templates::ERROR, self).await)
    }
}

/// The error page for a failed login, with a retry link (except after a hook's refusal).
pub(crate) async fn error_page<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    err: LoginError,
) -> Outcome<'r> {
    log::warn!("login with `{}` failed: {err}", P::NAME);
    let retry = !matches!(err, LoginError::Refused);
    ErrorContext {
        provider: P::NAME,
        status: err.status().code,
        title: err.title(),
        message: &err.to_string(),
        retry_url: retry.then(|| state.login_url()),
    }
    .render(req)
    .await
}

/// A hook's refusal.
pub(crate) async fn refuse<'r, P: Provider>(req: &'r Request<'_>, denial: Denial) -> Outcome<'r> {
    log::info!("login with `{}` refused by a hook", P::NAME);
    match denial.kind {
        DenialKind::Page { status, message } => {
            ErrorContext {
                provider: P::NAME,
                status: status.code,
                title: LoginError::Refused.title(),
                message: &message,
                retry_url: None,
            }
            .render(req)
            .await
        }
        DenialKind::Redirect(location) => Outcome::from(req, Redirect::to(location)),
        DenialKind::Response(response) => Outcome::Success(response),
    }
}
