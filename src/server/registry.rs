//! Clients and scopes declared while the app runs: [`ClientRegistry`] creates, updates,
//! re-keys and removes clients, and declares and removes scopes, in the server's store
//! (memory, SQLite or PostgreSQL), so every instance on one database sees the change at
//! once. Clients of `oauth_server.clients` and scopes of `oauth_server.scopes` (or given in
//! code) are read-only here.

use rocket::request::{FromRequest, Outcome, Request};
use rocket::Phase;

use super::config::RegisteredClient;
use super::store::{ScopeRecord, ServerStoreError, TokenHash};
use super::ServerState;
use crate::util::random_token;

/// Why a registry operation was refused.
///
/// ```rust
/// use rocket_oauth::server::ClientError;
///
/// let err = ClientError::NotFound("reports".into());
/// assert_eq!(err.to_string(), "no client `reports` is registered at runtime");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No runtime client has this id.
    #[error("no client `{0}` is registered at runtime")]
    NotFound(String),
    /// The client comes from `oauth_server.clients` or code: change it there.
    #[error("client `{0}` is configured (oauth_server.clients or code) and cannot be changed at runtime")]
    Configured(String),
    /// A client with this id exists already.
    #[error("a client `{0}` exists already")]
    Exists(String),
    /// The scope comes from `oauth_server.scopes` or code: change it there.
    #[error(
        "scope `{0}` is configured (oauth_server.scopes or code) and cannot be changed at runtime"
    )]
    ScopeConfigured(String),
    /// No runtime scope has this name.
    #[error("no scope `{0}` is declared at runtime")]
    ScopeNotFound(String),
    /// A field is invalid (a redirect URI that is not a URL, an undeclared scope, ...).
    #[error("invalid client {field}: {reason}")]
    Invalid {
        /// The field at fault (`redirect_uris`, `scopes`, ...).
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    ServerStore(#[from] ServerStoreError),
}

/// A client just created or re-keyed: its secret is shown here once and stored only hashed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Registered {
    /// The client as stored (no `secret`; `secret_hash` for a confidential client).
    pub client: RegisteredClient,
    /// The new secret of a confidential client; `None` for a public one.
    pub secret: Option<String>,
}

/// The authorization server's runtime client registry: a request guard (and
/// [`ClientRegistry::of`] for code outside requests). Guard the routes that use it with the
/// app's own admin check: the registry itself does not know who may change clients.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::serde::json::{json, Value};
/// use rocket_oauth::server::{RegisteredClient, ClientRegistry};
///
/// /// Admins only (put the app's own admin guard in front).
/// #[post("/admin/clients/<name>")]
/// async fn create(name: &str, registry: ClientRegistry<'_>) -> Option<Value> {
///     let new = RegisteredClient::confidential()
///         .name(name)
///         .redirect_uri("https://reports.example/callback")
///         .scopes(["profile"]);
///     let registered = registry.create(new).await.ok()?;
///     Some(json!({ "client_id": registered.client.id, "client_secret": registered.secret }))
/// }
/// ```
#[derive(Clone, Copy)]
pub struct ClientRegistry<'a> {
    state: &'a ServerState,
}

impl<'a> ClientRegistry<'a> {
    /// The registry of the [`AuthorizationServer`](super::AuthorizationServer) attached to
    /// `rocket` (after ignite), or `None`.
    ///
    /// ```rust
    /// # rocket::async_test(async {
    /// use rocket::figment::{Figment, providers::Serialized};
    /// use rocket_oauth::server::{AuthorizationServer, RegisteredClient, ClientRegistry, ResourceOwner};
    /// # struct Users;
    /// # #[rocket::async_trait]
    /// # impl ResourceOwner for Users {
    /// #     async fn current(&self, _: &rocket::Request<'_>) -> Option<String> { None }
    /// # }
    ///
    /// let figment = rocket::Config::figment()
    ///     .merge(("oauth_server.issuer", "http://127.0.0.1:8000"))
    ///     .merge(("oauth_server.scopes.profile", "Your profile"));
    /// let rocket = rocket::custom(figment)
    ///     .attach(AuthorizationServer::new(Users))
    ///     .ignite()
    ///     .await
    ///     .unwrap();
    /// let registry = ClientRegistry::of(&rocket).unwrap();
    /// let new = registry
    ///     .create(RegisteredClient::public().redirect_uri("http://127.0.0.1:9000/cb").scopes(["profile"]))
    ///     .await
    ///     .unwrap();
    /// assert!(new.secret.is_none());
    /// assert_eq!(registry.list().await.unwrap().len(), 1);
    /// # });
    /// ```
    pub fn of<P: Phase>(rocket: &'a rocket::Rocket<P>) -> Option<Self> {
        rocket.state::<ServerState>().map(Self::from_state)
    }

    pub(crate) fn from_state(state: &'a ServerState) -> Self {
        ClientRegistry { state }
    }

    /// A client by id: configured ones too (read-only), then runtime ones.
    pub async fn get(&self, id: &str) -> Result<Option<RegisteredClient>, ClientError> {
        let Some(client) = self.state.client(id).await? else {
            return Ok(None);
        };
        Ok(self.declared_only(vec![client.into_owned()]).await?.pop())
    }

    /// The clients registered at runtime, by id.
    pub async fn list(&self) -> Result<Vec<RegisteredClient>, ClientError> {
        self.declared_only(self.state.store.clients().await?).await
    }

    /// `clients` without the runtime scopes removed since they were given them.
    async fn declared_only(
        &self,
        mut clients: Vec<RegisteredClient>,
    ) -> Result<Vec<RegisteredClient>, ClientError> {
        let declared = self.state.scopes().await?;
        for client in &mut clients {
            client.scopes.retain(|s| declared.contains_key(s));
        }
        Ok(clients)
    }

    /// Registers `client`: an empty id gets a generated one; a confidential client
    /// ([`RegisteredClient::confidential`], or any secret) gets a generated secret, returned
    /// once in [`Registered::secret`] and stored hashed. Its scopes must be declared.
    pub async fn create(&self, mut client: RegisteredClient) -> Result<Registered, ClientError> {
        if client.id.is_empty() {
            client.id = random_token()[..22].to_owned();
        } else if self.state.client(&client.id).await?.is_some() {
            return Err(ClientError::Exists(client.id));
        }
        let secret = (client.is_confidential() && !client.uses_keys()).then(random_token);
        client.secret = None;
        client.secret_hash = secret.as_deref().map(TokenHash::of);
        self.validate(&client).await?;
        self.state.store.save_client(client.clone()).await?;
        log::info!("rocket_oauth: client `{}` registered", client.id);
        Ok(Registered { client, secret })
    }

    /// Changes a runtime client's name, image, redirect URIs, scopes and logout URIs with
    /// `change` (its id and secret stay); returns the client as saved.
    ///
    /// ```rust,no_run
    /// # async fn run(registry: rocket_oauth::server::ClientRegistry<'_>) -> Result<(), rocket_oauth::server::ClientError> {
    /// registry
    ///     .update("reports", |client| {
    ///         client.redirect_uris.push("https://reports.example/v2/callback".into());
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut RegisteredClient),
    ) -> Result<RegisteredClient, ClientError> {
        let client = self.runtime_client(id).await?;
        let mut client = self.declared_only(vec![client]).await?.remove(0);
        let (id, secret_hash) = (client.id.clone(), client.secret_hash.clone());
        change(&mut client);
        client.id = id;
        client.secret = None;
        client.secret_hash = secret_hash;
        self.validate(&client).await?;
        self.state.store.save_client(client.clone()).await?;
        Ok(client)
    }

    /// Gives a runtime client a new secret (a public client becomes confidential): the old
    /// one stops working at once. The new secret is returned once.
    pub async fn rotate_secret(&self, id: &str) -> Result<Registered, ClientError> {
        let mut client = self.runtime_client(id).await?;
        let secret = random_token();
        client.secret_hash = Some(TokenHash::of(&secret));
        self.state.store.save_client(client.clone()).await?;
        log::info!("rocket_oauth: client `{id}` has a new secret");
        Ok(Registered {
            client,
            secret: Some(secret),
        })
    }

    /// Removes a runtime client and revokes every token issued to it.
    pub async fn remove(&self, id: &str) -> Result<(), ClientError> {
        if self.state.clients.contains_key(id) {
            return Err(ClientError::Configured(id.to_owned()));
        }
        if self.state.store.remove_client(id).await? {
            log::info!("rocket_oauth: client `{id}` removed");
            Ok(())
        } else {
            Err(ClientError::NotFound(id.to_owned()))
        }
    }

    /// Every declared scope: configured ones, then those declared at runtime.
    pub async fn scopes(&self) -> Result<Vec<ScopeRecord>, ClientError> {
        let scopes = self.state.scopes().await?;
        Ok(scopes
            .into_iter()
            .map(|(name, description)| ScopeRecord::new(name, description))
            .collect())
    }

    /// Declares `scope` (or changes its description): clients may be given it at once, on
    /// every instance. Configured scopes cannot be changed here.
    ///
    /// ```rust,no_run
    /// # async fn run(registry: rocket_oauth::server::ClientRegistry<'_>) -> Result<(), rocket_oauth::server::ClientError> {
    /// use rocket_oauth::server::ScopeRecord;
    ///
    /// registry.put_scope(ScopeRecord::new("reports:read", "Read your reports")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put_scope(&self, scope: ScopeRecord) -> Result<ScopeRecord, ClientError> {
        if self.state.config.scopes.contains_key(&scope.name) {
            return Err(ClientError::ScopeConfigured(scope.name));
        }
        let invalid = |field, reason: &str| ClientError::Invalid {
            field,
            reason: reason.to_owned(),
        };
        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
        let token_char = |c: char| matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E');
        if scope.name.is_empty() || scope.name.len() > 100 || !scope.name.chars().all(token_char) {
            return Err(invalid(
                "name",
                "a scope is 1 to 100 printable ASCII characters, without spaces, `\"` or `\\`",
            ));
        }
        if scope.description.chars().count() > 300
            || scope.description.chars().any(char::is_control)
        {
            return Err(invalid(
                "description",
                "at most 300 characters, no control characters",
            ));
        }
        self.state.store.save_scope(scope.clone()).await?;
        log::info!("rocket_oauth: scope `{}` declared", scope.name);
        Ok(scope)
    }

    /// Removes a runtime scope: from then on, on every instance, no client has it (the
    /// registry shows clients without it, and no authorization grants it; no client record
    /// is rewritten). Tokens granted it keep it until they expire or are revoked.
    pub async fn remove_scope(&self, name: &str) -> Result<(), ClientError> {
        if self.state.config.scopes.contains_key(name) {
            return Err(ClientError::ScopeConfigured(name.to_owned()));
        }
        if !self.state.store.remove_scope(name).await? {
            return Err(ClientError::ScopeNotFound(name.to_owned()));
        }
        log::info!("rocket_oauth: scope `{name}` removed");
        Ok(())
    }

    async fn runtime_client(&self, id: &str) -> Result<RegisteredClient, ClientError> {
        if self.state.clients.contains_key(id) {
            return Err(ClientError::Configured(id.to_owned()));
        }
        self.state
            .store
            .client(id)
            .await?
            .ok_or_else(|| ClientError::NotFound(id.to_owned()))
    }

    async fn validate(&self, client: &RegisteredClient) -> Result<(), ClientError> {
        client
            .check(&self.state.scopes().await?)
            .map_err(|(field, reason)| ClientError::Invalid { field, reason })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientRegistry<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        super::guard(ClientRegistry::of(request.rocket()), "ClientRegistry")
    }
}
