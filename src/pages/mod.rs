//! The pages and forms both the login (`web/`) and the authorization server (`server/`)
//! show: the embedded templates and their rendering, a form's CSRF cookie, the error page's
//! context.

pub(crate) mod csrf;
pub(crate) mod templates;

use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;

use self::templates::render;

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
