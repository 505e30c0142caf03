//! A resource owner's grants: the applications a user authorized, what they may do and until
//! when ([`Grants::list`]), and the revocation of one application's grant with every token
//! it holds ([`Grants::revoke`]). The server's `oauth/grants` page is built on it.

use std::collections::BTreeMap;

use rocket::request::{FromRequest, Outcome, Request};
use rocket::Phase;
use serde::Serialize;

use super::store::ServerStoreError;
use super::ServerState;
use crate::util::now;

/// One application a user authorized: its live tokens, taken together.
///
/// ```rust
/// # use rocket_oauth::server::Grant;
/// fn describe(grant: &Grant) -> String {
///     format!("{} may {} until {}", grant.client_name, grant.scopes.join(", "), grant.expires_at)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Grant {
    /// The client's id.
    pub client_id: String,
    /// The client's name (its id when it has none, or was removed).
    pub client_name: String,
    /// The client's image, if it has one.
    pub client_image: Option<String>,
    /// The scopes its live tokens carry, by name.
    pub scopes: Vec<String>,
    /// When its last live token (access or refresh) expires, seconds since the Unix epoch.
    pub expires_at: i64,
}

/// The grants of the server's users: a request guard (and [`Grants::of`] outside requests).
/// The routes that use it decide whose grants they show: the signed-in user's own, or any
/// user's behind the app's admin check.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::{json, Value};
/// use rocket_oauth::server::Grants;
///
/// /// Admins only (put the app's own admin guard in front).
/// #[delete("/admin/users/<user>/grants/<client_id>")]
/// async fn revoke(user: &str, client_id: &str, grants: Grants<'_>) -> Option<Value> {
///     let revoked = grants.revoke(user, client_id).await.ok()?;
///     Some(json!({ "revoked": revoked }))
/// }
/// ```
#[derive(Clone, Copy)]
pub struct Grants<'a> {
    state: &'a ServerState,
}

impl<'a> Grants<'a> {
    /// The grants of the [`AuthorizationServer`](super::AuthorizationServer) attached to
    /// `rocket` (after ignite), or `None`.
    ///
    /// ```rust
    /// # rocket::async_test(async {
    /// use rocket_oauth::server::{AuthorizationServer, Grants, ResourceOwner};
    /// # struct Users;
    /// # #[rocket::async_trait]
    /// # impl ResourceOwner for Users {
    /// #     async fn current(&self, _: &rocket::Request<'_>) -> Option<String> { None }
    /// # }
    ///
    /// let figment = rocket::Config::figment().merge(("oauth_server.issuer", "http://127.0.0.1:8000"));
    /// let rocket = rocket::custom(figment)
    ///     .attach(AuthorizationServer::new(Users))
    ///     .ignite()
    ///     .await
    ///     .unwrap();
    /// let grants = Grants::of(&rocket).unwrap();
    /// assert!(grants.list("alice").await.unwrap().is_empty());
    /// # });
    /// ```
    pub fn of<P: Phase>(rocket: &'a rocket::Rocket<P>) -> Option<Self> {
        rocket.state::<ServerState>().map(|state| Grants { state })
    }

    pub(crate) fn from_state(state: &'a ServerState) -> Self {
        Grants { state }
    }

    /// The applications `owner` authorized that still hold a live token, by name.
    pub async fn list(&self, owner: &str) -> Result<Vec<Grant>, ServerStoreError> {
        let mut by_client: BTreeMap<String, (Vec<String>, i64)> = BTreeMap::new();
        for token in self.state.store.owner_tokens(owner, now()).await? {
            let (scopes, expires_at) = by_client.entry(token.client_id).or_default();
            for scope in token.scopes {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
            *expires_at = (*expires_at).max(token.expires_at);
        }
        let mut grants = Vec::with_capacity(by_client.len());
        for (client_id, (mut scopes, expires_at)) in by_client {
            scopes.sort();
            let client = self.state.client(&client_id).await?;
            let client_name = client.as_ref().map(|c| c.display_name().to_owned());
            grants.push(Grant {
                client_name: client_name.unwrap_or_else(|| client_id.clone()),
                client_image: client.and_then(|c| c.image_url.clone()),
                client_id,
                scopes,
                expires_at,
            });
        }
        grants.sort_by(|a, b| a.client_name.cmp(&b.client_name));
        Ok(grants)
    }

    /// Revokes `owner`'s grant to `client_id`: every token the client holds for the user
    /// (access and refresh, with their families, so that a refresh in flight issues nothing
    /// live). `false` when there was none. A code not yet exchanged is not a grant yet: it
    /// lives `code_ttl` seconds at most.
    pub async fn revoke(&self, owner: &str, client_id: &str) -> Result<bool, ServerStoreError> {
        let mut families: Vec<String> = self
            .state
            .store
            .owner_tokens(owner, now())
            .await?
            .into_iter()
            .filter(|t| t.client_id == client_id)
            .map(|t| t.family)
            .collect();
        families.sort();
        families.dedup();
        for family in &families {
            self.state.store.revoke_family(family).await?;
        }
        if !families.is_empty() {
            log::info!("rocket_oauth: a grant to client `{client_id}` was revoked");
        }
        Ok(!families.is_empty())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Grants<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        super::guard(Grants::of(request.rocket()), "Grants")
    }
}
