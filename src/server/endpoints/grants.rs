//! `GET/POST <base_path>/grants`: the signed-in user's grants page (`oauth/grants`), where
//! they see the applications they authorized and revoke one (a [`forms`](super::forms)
//! token).

use rocket::data::Data;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;

use super::forms;
use crate::pages::templates::{self, render};
use crate::server::grants::{Grant, Grants};
use crate::server::ServerState;

/// The page, as [`forms`] tokens name it.
const PAGE: &str = "grants";

fn page_path(state: &ServerState) -> String {
    format!("{}/grants", state.config.base_path.trim_end_matches('/'))
}

/// `GET grants`: the page, or the sign-in first.
pub(super) async fn page<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let Some(owner) = state.owner.current(req).await else {
        let next: String =
            url::form_urlencoded::byte_serialize(page_path(state).as_bytes()).collect();
        let login = format!("{}?next={next}", state.config.login_url);
        return Outcome::from(req, Redirect::to(login));
    };
    let grants = match Grants::from_state(state).list(&owner).await {
        Ok(grants) => grants,
        Err(e) => {
            log::error!("rocket_oauth: listing grants failed: {e}");
            let page = (
                Status::ServiceUnavailable,
                "the grants are unavailable; please try again",
            );
            return Outcome::from(req, page);
        }
    };
    #[derive(Serialize)]
    struct Context {
        owner: String,
        grants: Vec<GrantView>,
        action: String,
        csrf_token: String,
    }
    let grants = views(state, grants).await;
    let context = Context {
        csrf_token: forms::token(state, req.cookies(), PAGE, &owner),
        owner,
        grants,
        action: page_path(state),
    };
    let page = render(req, Status::Ok, templates::GRANTS, &context).await;
    super::unframed(Outcome::from(req, page))
}

#[derive(Serialize)]
struct ScopeView {
    name: String,
    description: String,
}

/// A grant as the page shows it: its scopes with their descriptions.
#[derive(Serialize)]
struct GrantView {
    client_id: String,
    client_name: String,
    client_image: Option<String>,
    scopes: Vec<ScopeView>,
    expires_at: i64,
}

async fn views(state: &ServerState, grants: Vec<Grant>) -> Vec<GrantView> {
    let declared = state.scopes_shown().await;
    grants
        .into_iter()
        .map(|grant| GrantView {
            scopes: grant
                .scopes
                .into_iter()
                .map(|name| ScopeView {
                    description: declared.get(&name).cloned().unwrap_or_else(|| name.clone()),
                    name,
                })
                .collect(),
            client_id: grant.client_id,
            client_name: grant.client_name,
            client_image: grant.client_image,
            expires_at: grant.expires_at,
        })
        .collect()
}

/// `POST grants` (`csrf_token`, `client_id`): revokes the signed-in user's grant to the
/// client, then back to the page.
pub(super) async fn revoke<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let Some(owner) = state.owner.current(req).await else {
        return Outcome::from(req, (Status::Forbidden, "sign in first"));
    };
    let form = match forms::read_checked(req, data, state, (PAGE, &owner)).await {
        Ok(form) => form,
        Err(refusal) => return Outcome::from(req, refusal),
    };
    let Some(client_id) = form.get("client_id") else {
        return Outcome::from(req, (Status::BadRequest, "the form is incomplete"));
    };
    if let Err(e) = Grants::from_state(state).revoke(&owner, client_id).await {
        log::error!("rocket_oauth: revoking a grant failed: {e}");
        let page = (
            Status::ServiceUnavailable,
            "the grant could not be revoked; please try again",
        );
        return Outcome::from(req, page);
    }
    Outcome::from(req, Redirect::to(page_path(state)))
}
