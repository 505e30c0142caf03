//! `GET/POST <base_path>/admin`: the administrators' pages (`oauth/admin`): the clients (a
//! new or re-keyed secret shown once), the scopes, and a user's grants, each changed by a
//! form whose token is sealed to the administrator ([`forms`](super::forms)). A POST acts,
//! then redirects to the page (what it did, and a secret, pass in a short-lived encrypted
//! cookie), so reloading the page repeats nothing.

use rocket::data::Data;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::time::Duration;
use rocket::Request;
use serde::{Deserialize, Serialize};

use super::{consent, forms, Params};
use crate::pages::templates::{self, render};
use crate::server::grants::{Grant, Grants};
use crate::server::registry::{ClientError, ClientRegistry, Registered};
use crate::server::store::ScopeRecord;
use crate::server::{RegisteredClient, ServerState};

/// The page, as [`forms`] tokens name it.
const PAGE: &str = "admin";

/// The cookie that carries what a POST did to the page it redirects to.
const FLASH: &str = "oauth_server_admin_flash";

/// What an action did: a message, a secret to show this once, the user whose grants to show.
#[derive(Default, Serialize, Deserialize)]
struct Done {
    message: Option<String>,
    secret: Option<(String, String)>,
    user: Option<String>,
}

impl Done {
    fn said(message: impl Into<String>) -> Self {
        Done {
            message: Some(message.into()),
            ..Done::default()
        }
    }

    fn keyed(registered: Registered, what: &str) -> Self {
        let id = registered.client.id;
        Done {
            message: Some(format!("client `{id}` {what}")),
            secret: registered.secret.map(|secret| (id, secret)),
            user: None,
        }
    }

    /// Kept for the page the browser is redirected to (for a minute).
    fn keep(&self, state: &ServerState, jar: &CookieJar<'_>) {
        let place = consent::cookie(state, FLASH);
        let json = serde_json::to_string(self).unwrap_or_default();
        let cookie = Cookie::build((place.name, json))
            .path(place.path)
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(place.secure)
            .max_age(Duration::seconds(60));
        jar.add_private(cookie);
    }

    /// What the last POST did, if it redirected here (used up).
    fn take(state: &ServerState, jar: &CookieJar<'_>) -> Option<Done> {
        let place = consent::cookie(state, FLASH);
        let done = jar.get_private(&place.name)?;
        jar.remove_private(Cookie::build(place.name).path(place.path));
        serde_json::from_str(done.value()).ok()
    }
}

/// The administrator making the request, if the app's check names one.
async fn admin(req: &Request<'_>, state: &ServerState) -> Option<String> {
    state.admins.as_ref()?.admin(req).await
}

fn forbidden<'r>(req: &'r Request<'_>, why: &'static str) -> Outcome<'r> {
    Outcome::from(req, (Status::Forbidden, why))
}

/// `GET admin[?user=…]`: the pages (a user's grants with `user`), after what a POST did.
pub(super) async fn page<'r>(req: &'r Request<'_>, state: &ServerState) -> Outcome<'r> {
    let Some(admin) = admin(req, state).await else {
        return forbidden(req, "administrators only");
    };
    let mut done = Done::take(state, req.cookies()).unwrap_or_default();
    let user = req.query_value::<String>("user").and_then(Result::ok);
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        done.user = Some(user);
    }
    show(req, state, &admin, done).await
}

/// `POST admin` (`csrf_token`, `action` and its fields): does it, then back to the page.
pub(super) async fn act<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let Some(admin) = admin(req, state).await else {
        return forbidden(req, "administrators only");
    };
    let form = match forms::read_checked(req, data, state, (PAGE, &admin)).await {
        Ok(form) => form,
        Err(refusal) => return Outcome::from(req, refusal),
    };
    let done = match perform(state, &form).await {
        Ok(done) => done,
        Err(ClientError::ServerStore(e)) => {
            log::error!("rocket_oauth: an admin action failed: {e}");
            let page = (
                Status::ServiceUnavailable,
                "the store is unavailable; please try again",
            );
            return Outcome::from(req, page);
        }
        Err(e) => Done::said(format!("refused: {e}")),
    };
    let mut to = page_path(state);
    if let Some(user) = &done.user {
        let user: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
        to = format!("{to}?user={user}");
    }
    done.keep(state, req.cookies());
    Outcome::from(req, Redirect::to(to))
}

fn page_path(state: &ServerState) -> String {
    format!("{}/admin", state.config.base_path.trim_end_matches('/'))
}

/// One form's action.
async fn perform(state: &ServerState, form: &Params) -> Result<Done, ClientError> {
    let registry = ClientRegistry::from_state(state);
    let field = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
    let words =
        |name: &str| -> Vec<String> { field(name).split_whitespace().map(str::to_owned).collect() };
    let client_id = field("client_id");
    match form.get("action").unwrap_or_default() {
        "create_client" => {
            let client = match form.get("confidential") {
                Some(_) => RegisteredClient::confidential(),
                None => RegisteredClient::public(),
            };
            let mut client = client.scopes(words("scopes"));
            client.name = Some(field("name")).filter(|n| !n.is_empty());
            client.redirect_uris = words("redirect_uris");
            Ok(Done::keyed(registry.create(client).await?, "created"))
        }
        "rotate_secret" => Ok(Done::keyed(
            registry.rotate_secret(&client_id).await?,
            "re-keyed",
        )),
        "remove_client" => {
            registry.remove(&client_id).await?;
            Ok(Done::said(format!(
                "client `{client_id}` removed, its tokens revoked"
            )))
        }
        "put_scope" => {
            let scope = ScopeRecord::new(field("scope"), field("description"));
            let scope = registry.put_scope(scope).await?;
            Ok(Done::said(format!("scope `{}` declared", scope.name)))
        }
        "remove_scope" => {
            registry.remove_scope(&field("scope")).await?;
            Ok(Done::said(format!("scope `{}` removed", field("scope"))))
        }
        "revoke_grant" => {
            let user = field("user");
            let revoked = Grants::from_state(state).revoke(&user, &client_id).await?;
            let mut done = Done::said(match revoked {
                true => format!("`{user}`'s grant to `{client_id}` revoked"),
                false => format!("`{user}` has no grant to `{client_id}`"),
            });
            done.user = Some(user);
            Ok(done)
        }
        _ => Ok(Done::said("unknown action")),
    }
}

#[derive(Serialize)]
struct ClientView {
    client_id: String,
    name: String,
    confidential: bool,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    /// From configuration or code: read-only here.
    configured: bool,
}

impl ClientView {
    fn of(client: &RegisteredClient, configured: bool) -> Self {
        ClientView {
            client_id: client.id.clone(),
            name: client.display_name().to_owned(),
            confidential: client.is_confidential(),
            redirect_uris: client.redirect_uris.clone(),
            scopes: client.scopes.clone(),
            configured,
        }
    }
}

#[derive(Serialize)]
struct ScopeView {
    name: String,
    description: String,
    configured: bool,
}

#[derive(Serialize)]
struct SecretView {
    client_id: String,
    secret: String,
}

#[derive(Serialize)]
struct Context {
    admin: String,
    clients: Vec<ClientView>,
    scopes: Vec<ScopeView>,
    user: Option<String>,
    grants: Vec<Grant>,
    message: Option<String>,
    secret: Option<SecretView>,
    action: String,
    csrf_token: String,
}

/// The pages, after `done`.
async fn show<'r>(
    req: &'r Request<'_>,
    state: &ServerState,
    admin: &str,
    done: Done,
) -> Outcome<'r> {
    let registry = ClientRegistry::from_state(state);
    let lists = async {
        let mut clients: Vec<ClientView> = state
            .clients
            .values()
            .map(|c| ClientView::of(c, true))
            .collect();
        clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        clients.extend(
            registry
                .list()
                .await?
                .iter()
                .map(|c| ClientView::of(c, false)),
        );
        let scopes = registry.scopes().await?.into_iter().map(|s| ScopeView {
            configured: state.config.scopes.contains_key(&s.name),
            name: s.name,
            description: s.description,
        });
        let grants = match &done.user {
            Some(user) => Grants::from_state(state).list(user).await?,
            None => Vec::new(),
        };
        Ok::<_, ClientError>((clients, scopes.collect::<Vec<_>>(), grants))
    };
    let (clients, scopes, grants) = match lists.await {
        Ok(lists) => lists,
        Err(e) => {
            log::error!("rocket_oauth: the admin pages could not read the store: {e}");
            return Outcome::from(
                req,
                (
                    Status::ServiceUnavailable,
                    "the store is unavailable; please try again",
                ),
            );
        }
    };
    let context = Context {
        admin: admin.to_owned(),
        clients,
        scopes,
        user: done.user,
        grants,
        message: done.message,
        secret: done
            .secret
            .map(|(client_id, secret)| SecretView { client_id, secret }),
        action: page_path(state),
        csrf_token: forms::token(state, req.cookies(), PAGE, admin),
    };
    let page = render(req, Status::Ok, templates::ADMIN, &context).await;
    super::unframed(Outcome::from(req, page))
}
