//! Error pages: every failed login ends on the `oauth/error` template with a 4xx status.

use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;

use crate::error::LoginError;
use crate::hooks::{Denial, DenialKind};
use crate::pages::ErrorContext;
use crate::web::state::ProviderState;

impl LoginError {
    /// The HTTP status this failure is answered with: 4xx for the visitor's and the login's
    /// own problems; `502 Bad Gateway` when the provider could not be reached or answered
    /// something unusable (not the visitor's fault); `503` when the session store failed.
    pub fn status(&self) -> Status {
        use crate::protocol::error::FlowError;
        if self.provider_unavailable() {
            return Status::BadGateway;
        }
        match self {
            LoginError::Flow(FlowError::Cancelled) | LoginError::Refused => Status::Forbidden,
            LoginError::Csrf | LoginError::NotAllowed | LoginError::CrossSite => Status::Forbidden,
            LoginError::SessionStore => Status::ServiceUnavailable,
            LoginError::TooManyLogins => Status::TooManyRequests,
            _ => Status::BadRequest,
        }
    }
}

/// The error page for a failed login, with a retry link (except after a hook's refusal).
pub(crate) async fn error_page<'r, P>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    err: LoginError,
) -> Outcome<'r> {
    error_page_saying(req, state, err, None).await
}

/// The error page, with what the provider said about it.
pub(crate) async fn error_page_saying<'r, P>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    err: LoginError,
    provider_said: Option<&str>,
) -> Outcome<'r> {
    log::warn!("login with `{}` failed: {err}", state.name);
    let retry = !matches!(err, LoginError::Refused);
    let message = match provider_said {
        Some(said) => format!("{err}. The provider said: “{said}”"),
        None => err.to_string(),
    };
    ErrorContext {
        provider: state.name,
        status: err.status().code,
        title: err.title(),
        message: &message,
        retry_url: retry.then(|| state.login_url()),
    }
    .render(req)
    .await
}

/// A hook's refusal.
pub(crate) async fn refuse<'r>(
    req: &'r Request<'_>,
    provider: &str,
    denial: Denial,
) -> Outcome<'r> {
    log::info!("login with `{provider}` refused by a hook");
    match denial.kind {
        DenialKind::Page { status, message } => {
            let title = if status == Status::BadGateway {
                "Provider unavailable"
            } else {
                LoginError::Refused.title()
            };
            ErrorContext {
                provider,
                status: status.code,
                title,
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
