//! `GET/POST <base_path>/grants`: the signed-in user's grants page (`oauth/grants`), where
//! they see the applications they authorized and revoke one. The revoke form's token is
//! sealed to the browser's CSRF cookie and to the user it was shown to.

use rocket::data::Data;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::{Deserialize, Serialize};

use super::consent::csrf;
use crate::pages::csrf::same_origin;
use crate::pages::templates::{self, render};
use crate::server::grants::{Grant, Grants};
use crate::server::ServerState;
use crate::util::{ct_eq, now};

/// How long the page's revoke buttons work, seconds.
const FORM_TTL: i64 = 3600;

/// What a revoke form was shown for.
#[derive(Serialize, Deserialize)]
struct Binding {
    owner: String,
    expires: i64,
}

/// The associated data of a revoke form's token: the browser's CSRF cookie, for this page
/// (a consent form's token never opens here).
fn aad(browser: &str) -> String {
    format!("grants:{browser}")
}

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
    let browser = csrf(state).token(req.cookies());
    let binding = Binding {
        owner: owner.clone(),
        expires: now().saturating_add(FORM_TTL),
    };
    let json = serde_json::to_string(&binding).unwrap_or_default();
    let context = Context {
        csrf_token: state.consent.seal(&aad(&browser), &json),
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
    let refused = |why: &'static str| Outcome::from(req, (Status::Forbidden, why));
    let origin = state.issuer.origin().ascii_serialization();
    if !same_origin(req, &origin) {
        return refused("the form was sent from another site");
    }
    let Some(form) = super::read_form(req, data).await else {
        return Outcome::from(req, (Status::BadRequest, "the form could not be read"));
    };
    let (Some(token), Some(client_id)) = (form.get("csrf_token"), form.get("client_id")) else {
        return Outcome::from(req, (Status::BadRequest, "the form is incomplete"));
    };
    let owner = state.owner.current(req).await;
    let binding = csrf(state)
        .current(req.cookies())
        .and_then(|browser| state.consent.open(&aad(&browser), token))
        .and_then(|json| serde_json::from_str::<Binding>(&json).ok());
    let valid = match (&binding, &owner) {
        (Some(binding), Some(owner)) => binding.expires >= now() && ct_eq(&binding.owner, owner),
        _ => false,
    };
    let Some(owner) = owner.filter(|_| valid) else {
        return refused("the form expired or was not shown to you; reload the page");
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
