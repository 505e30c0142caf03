//! An authorization server whose clients an administrator manages while it runs: a small
//! JSON admin API over [`ClientRegistry`], behind a bearer token of the admin's.
//!
//! ```sh
//! ROCKET_CONFIG=path/to/Rocket.toml cargo run --example client_admin --features server
//! ```
//!
//! Configuration: `[default.oauth_server]` (`issuer`, `scopes`, optionally `database_url`:
//! several instances on one PostgreSQL database share their clients) and
//! `[default.admin] token` (at least 32 characters). The admin API:
//!
//! - `GET /admin/clients`: the runtime clients;
//! - `POST /admin/clients` `{"name", "redirect_uris", "scopes", "confidential"}` → 201
//!   `{"client_id", "client_secret"}` (the secret is shown this once);
//! - `PATCH /admin/clients/<id>` with any of `name`, `redirect_uris`, `scopes`,
//!   `post_logout_redirect_uris`;
//! - `POST /admin/clients/<id>/secret`: a new secret (the old one stops working);
//! - `DELETE /admin/clients/<id>`: removed, its tokens revoked;
//! - `GET /admin/scopes`: every declared scope (configured ones are read-only: `409`);
//! - `POST /admin/scopes` `{"name", "description"}` → 201: declared at once, on every
//!   instance (or its description changed);
//! - `DELETE /admin/scopes/<name>`: removed, and taken from the clients that had it.
//!
//! The same, as pages: `/oauth/admin` (the crate's admin pages) for the signed-in users that
//! `[default.admin] users` lists (they sign in with the admin token as their password).
//!
//! Users sign in with `POST /login` (`username`, any password) and `GET /api/me` is the API
//! (scope `profile`), as in `auth_server`.

#[macro_use]
extern crate rocket;

use rocket::fairing::AdHoc;
use rocket::form::Form;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::status::Custom;
use rocket::response::Redirect;
use rocket::serde::json::{json, Json, Value};
use rocket::serde::Deserialize;
use rocket::Request;
use rocket_oauth::server::{
    Admins, AuthorizationServer, ClientError, ClientRegistry, RegisteredClient, ResourceOwner,
    ScopeRecord, ScopeSet, Scoped,
};
use subtle::ConstantTimeEq;

/// The signed-in user is whoever the private `user` cookie names.
struct Users;

#[rocket::async_trait]
impl ResourceOwner for Users {
    async fn current(&self, request: &Request<'_>) -> Option<String> {
        request
            .cookies()
            .get_private("user")
            .map(|c| c.value().to_owned())
    }
}

#[derive(FromForm)]
struct LoginForm<'r> {
    username: &'r str,
    password: Option<&'r str>,
}

/// Signs anyone in by name (a demo), except the administrators of `admin.users`: they need
/// the admin token as their password.
#[post("/login", data = "<form>")]
fn login(
    form: Form<LoginForm<'_>>,
    cookies: &CookieJar<'_>,
    config: &rocket::State<AdminConfig>,
) -> Result<Redirect, Status> {
    let name: String = form.username.trim().chars().take(64).collect();
    let password = form.password.unwrap_or_default().as_bytes();
    if config.users.contains(&name) && !bool::from(password.ct_eq(config.token.as_bytes())) {
        return Err(Status::Unauthorized);
    }
    if !name.is_empty() {
        let cookie = Cookie::build(("user", name))
            .same_site(SameSite::Lax)
            .http_only(true);
        cookies.add_private(cookie);
    }
    Ok(Redirect::to("/"))
}

#[get("/")]
fn index() -> &'static str {
    "Authorization server with a client admin API"
}

/// The `profile` scope.
#[derive(ScopeSet)]
#[scopes("profile")]
struct Profile;

#[get("/api/me")]
fn me(token: Scoped<Profile>) -> Value {
    json!({ "username": token.owner, "client_id": token.client_id })
}

/// `[default.admin]`: the administrator's bearer token (the JSON API), and the users who
/// may use the admin pages.
#[derive(Deserialize)]
#[serde(crate = "rocket::serde")]
struct AdminConfig {
    token: String,
    #[serde(default)]
    users: Vec<String>,
}

/// The admin pages' check: a signed-in user listed in `admin.users`.
struct AdminUsers;

#[rocket::async_trait]
impl Admins for AdminUsers {
    async fn admin(&self, request: &Request<'_>) -> Option<String> {
        let user = Users.current(request).await?;
        let config = request.rocket().state::<AdminConfig>()?;
        config.users.contains(&user).then_some(user)
    }
}

/// A request that carries the admin token (compared in constant time).
struct Admin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(config) = request.rocket().state::<AdminConfig>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let given = request
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default();
        if bool::from(given.as_bytes().ct_eq(config.token.as_bytes())) {
            Outcome::Success(Admin)
        } else {
            Outcome::Error((Status::Unauthorized, ()))
        }
    }
}

type Answer = Custom<Value>;

/// A registry error as JSON with its status.
fn failure(error: ClientError) -> Answer {
    let status = match &error {
        ClientError::NotFound(_) | ClientError::ScopeNotFound(_) => Status::NotFound,
        ClientError::Configured(_) | ClientError::Exists(_) | ClientError::ScopeConfigured(_) => {
            Status::Conflict
        }
        ClientError::Invalid { .. } => Status::UnprocessableEntity,
        _ => Status::ServiceUnavailable,
    };
    Custom(status, json!({ "error": error.to_string() }))
}

/// A client as the admin API shows it (never a secret, nor its hash).
fn shown(client: &RegisteredClient) -> Value {
    json!({
        "client_id": client.id,
        "name": client.display_name(),
        "confidential": client.is_confidential(),
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "scopes": client.scopes,
    })
}

#[get("/admin/clients")]
async fn list(_admin: Admin, registry: ClientRegistry<'_>) -> Answer {
    match registry.list().await {
        Ok(clients) => Custom(Status::Ok, clients.iter().map(shown).collect()),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
#[serde(crate = "rocket::serde", deny_unknown_fields)]
struct NewClient {
    name: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    #[serde(default = "yes")]
    confidential: bool,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
}

fn yes() -> bool {
    true
}

#[post("/admin/clients", data = "<new>")]
async fn create(_admin: Admin, registry: ClientRegistry<'_>, new: Json<NewClient>) -> Answer {
    let new = new.into_inner();
    let mut client = if new.confidential {
        RegisteredClient::confidential()
    } else {
        RegisteredClient::public()
    }
    .name(new.name)
    .scopes(new.scopes);
    client.redirect_uris = new.redirect_uris;
    client.post_logout_redirect_uris = new.post_logout_redirect_uris;
    match registry.create(client).await {
        Ok(registered) => {
            let mut body = shown(&registered.client);
            body["client_secret"] = json!(registered.secret);
            Custom(Status::Created, body)
        }
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
#[serde(crate = "rocket::serde", deny_unknown_fields)]
struct Changes {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
}

#[patch("/admin/clients/<id>", data = "<changes>")]
async fn update(
    _admin: Admin,
    registry: ClientRegistry<'_>,
    id: &str,
    changes: Json<Changes>,
) -> Answer {
    let changes = changes.into_inner();
    let result = registry
        .update(id, |client| {
            if let Some(name) = changes.name {
                client.name = Some(name);
            }
            if let Some(uris) = changes.redirect_uris {
                client.redirect_uris = uris;
            }
            if let Some(uris) = changes.post_logout_redirect_uris {
                client.post_logout_redirect_uris = uris;
            }
            if let Some(scopes) = changes.scopes {
                client.scopes = scopes;
            }
        })
        .await;
    match result {
        Ok(client) => Custom(Status::Ok, shown(&client)),
        Err(e) => failure(e),
    }
}

#[post("/admin/clients/<id>/secret")]
async fn rotate(_admin: Admin, registry: ClientRegistry<'_>, id: &str) -> Answer {
    match registry.rotate_secret(id).await {
        Ok(registered) => Custom(
            Status::Ok,
            json!({ "client_id": id, "client_secret": registered.secret }),
        ),
        Err(e) => failure(e),
    }
}

#[delete("/admin/clients/<id>")]
async fn remove(_admin: Admin, registry: ClientRegistry<'_>, id: &str) -> Answer {
    match registry.remove(id).await {
        Ok(()) => Custom(Status::Ok, json!({ "removed": id })),
        Err(e) => failure(e),
    }
}

#[get("/admin/scopes")]
async fn scopes(_admin: Admin, registry: ClientRegistry<'_>) -> Answer {
    match registry.scopes().await {
        Ok(scopes) => Custom(Status::Ok, json!(scopes)),
        Err(e) => failure(e),
    }
}

#[post("/admin/scopes", data = "<scope>")]
async fn put_scope(_admin: Admin, registry: ClientRegistry<'_>, scope: Json<NewScope>) -> Answer {
    let scope = scope.into_inner();
    match registry
        .put_scope(ScopeRecord::new(scope.name, scope.description))
        .await
    {
        Ok(scope) => Custom(Status::Created, json!(scope)),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
#[serde(crate = "rocket::serde", deny_unknown_fields)]
struct NewScope {
    name: String,
    description: String,
}

#[delete("/admin/scopes/<name>")]
async fn remove_scope(_admin: Admin, registry: ClientRegistry<'_>, name: &str) -> Answer {
    match registry.remove_scope(name).await {
        Ok(()) => Custom(Status::Ok, json!({ "removed": name })),
        Err(e) => failure(e),
    }
}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(AdHoc::try_on_ignite("admin token", |rocket| async {
            match rocket.figment().extract_inner::<AdminConfig>("admin") {
                Ok(admin) if admin.token.len() >= 32 => Ok(rocket.manage(admin)),
                _ => {
                    error!("admin.token: required, at least 32 characters");
                    Err(rocket)
                }
            }
        }))
        .attach(AuthorizationServer::new(Users).admin_pages(AdminUsers))
        .mount("/", routes![index, login, me])
        .mount("/", routes![list, create, update, rotate, remove])
        .mount("/", routes![scopes, put_scope, remove_scope])
}
