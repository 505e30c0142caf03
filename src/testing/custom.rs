//! The test's own endpoints, served behind the mock's routes.

use std::sync::Arc;

use rocket::data::{Data, ToByteUnit};
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::route::{self, Handler, Route};

use super::exchange::{head, MockRequest, RecordedRequest};
use super::state::Shared;

/// Serves the test's endpoints, behind the mock's own routes.
#[derive(Clone)]
struct Custom(Arc<Shared>);

#[rocket::async_trait]
impl Handler for Custom {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let body = match data.open(1.mebibytes()).into_string().await {
            Ok(body) => body.into_inner(),
            Err(_) => return route::Outcome::Error(Status::BadRequest),
        };
        let request = head(req);
        let request = RecordedRequest { body, ..request };
        self.0.record(&request);
        let answer = {
            let endpoints = self.0.endpoints.lock().unwrap();
            endpoints
                .iter()
                .rev()
                .find(|e| e.method == req.method() && e.path == request.path)
                .map(|e| e.answer.clone())
        };
        let Some(answer) = answer else {
            return route::Outcome::Error(Status::NotFound);
        };
        let oauth1 = super::oauth1::verify(&self.0, &request);
        let user = match request.bearer_token() {
            Some(token) => self.0.token_user(token),
            None => oauth1
                .as_ref()
                .and_then(|v| v.token.as_deref())
                .and_then(|t| self.0.oauth1_user(t)),
        };
        let consumer_signed = oauth1.is_some_and(|v| v.token.is_none());
        let response = answer(&MockRequest {
            request,
            user,
            consumer_signed,
        });
        route::Outcome::from(req, response)
    }
}

/// The catch-all routes of the test's endpoints, one per method.
pub(super) fn routes(shared: Arc<Shared>) -> Vec<Route> {
    [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ]
    .into_iter()
    .map(|method| Route::ranked(100, method, "/<path..>", Custom(shared.clone())))
    .collect()
}
