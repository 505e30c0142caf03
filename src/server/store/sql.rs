//! What the SQL stores share: every [`ServerStore`](super::ServerStore) method's Rust, once
//! ([`sql_store!`]); each dialect (SQLite, PostgreSQL) gives only its SQL ([`Queries`]), its
//! connection and its migrations.

use super::ServerStoreError;

/// A dialect's statements, in the order of the [`ServerStore`](super::ServerStore) methods.
pub(super) struct Queries {
    /// `hash, grant_json, expires_at`.
    pub save_code: &'static str,
    /// `hash` → `grant_json, used`.
    pub code: &'static str,
    /// `hash`: marks the code used, if it was not (one row affected: this caller did).
    pub use_code: &'static str,
    /// `hash, kind, client_id, owner, scopes, expires_at, family, revoked, family, used`.
    pub save_token: &'static str,
    /// `hash` → the token's columns, `revoked` including its family's revocation.
    pub token: &'static str,
    /// `hash`: marks the refresh token used, if it was not.
    pub use_refresh_token: &'static str,
    /// `hash`.
    pub revoke_token: &'static str,
    /// `family`: records the revoked family (once).
    pub revoke_family: &'static str,
    /// `family`: revokes its tokens.
    pub revoke_family_tokens: &'static str,
    /// `family` → a row if revoked.
    pub family_revoked: &'static str,
    /// The script deleting what expired by `now`.
    pub purge: fn(now: i64) -> String,
    /// `id` → `client_json`.
    pub client: &'static str,
    /// → every `client_json`, by id.
    pub clients: &'static str,
    /// `id, client_json`: inserts or replaces.
    pub save_client: &'static str,
    /// `id`.
    pub remove_client: &'static str,
    /// `id`: revokes the client's tokens.
    pub revoke_client_tokens: &'static str,
    /// `id, at`: sets the client's `used_at`, if it was not set.
    pub mark_client_used: &'static str,
    /// → every `name, description`, by name.
    pub scopes: &'static str,
    /// `name, description`: inserts or replaces.
    pub save_scope: &'static str,
    /// `name`.
    pub remove_scope: &'static str,
    /// `owner, now` → the token columns of `token`, of the owner's live tokens.
    pub owner_tokens: &'static str,
    /// → every `key_json`.
    pub signing_keys: &'static str,
    /// `kid, key_json`: inserts or replaces.
    pub save_signing_key: &'static str,
    /// `kid`.
    pub remove_signing_key: &'static str,
    /// `sid, client_id, session_json, expires_at`: inserts or replaces.
    pub save_session_client: &'static str,
    /// `sid` → every `session_json, expires_at` of the session, deleted in the same
    /// statement (a client recorded meanwhile is either told or kept).
    pub end_session: &'static str,
    /// `hash, user_code, status, grant_json, expires_at`.
    pub save_device: &'static str,
    /// `hash` → `grant_json`.
    pub device: &'static str,
    /// `user_code` → `hash, grant_json`.
    pub device_by_user_code: &'static str,
    /// `status, grant_json, hash, from`: replaces the grant if its status is `from`.
    pub update_device: &'static str,
    /// `hash, expires_at`: records the value, unless it was (one row affected: this caller
    /// did).
    pub use_once: &'static str,
}

pub(super) fn failed(e: sqlx::Error) -> ServerStoreError {
    ServerStoreError::backend(e)
}

/// `impl ServerStore for $store` over its `pool` field, with the dialect's `$queries`; `$row`
/// is the driver's row type.
macro_rules! sql_store {
    ($store:ty, $row:ty, $queries:expr) => {
        impl $store {
            const SQL: $crate::server::store::sql::Queries = $queries;

            fn token_from_row(row: &$row) -> Result<TokenRecord, ServerStoreError> {
                let scopes: String = row.try_get("scopes").map_err(failed)?;
                let audience: String = row.try_get("audience").map_err(failed)?;
                let kind: String = row.try_get("kind").map_err(failed)?;
                Ok(TokenRecord {
                    hash: TokenHash::from_hex(row.try_get("hash").map_err(failed)?),
                    kind: kind_from_name(&kind),
                    client_id: row.try_get("client_id").map_err(failed)?,
                    owner: row.try_get("owner").map_err(failed)?,
                    scopes: serde_json::from_str(&scopes).map_err(ServerStoreError::corrupt)?,
                    expires_at: row.try_get("expires_at").map_err(failed)?,
                    family: row.try_get("family").map_err(failed)?,
                    revoked: row.try_get("revoked").map_err(failed)?,
                    used: row.try_get("used").map_err(failed)?,
                    audience: serde_json::from_str(&audience).map_err(ServerStoreError::corrupt)?,
                    jkt: row.try_get("jkt").map_err(failed)?,
                })
            }

            /// Runs `sql` with one string parameter; how many rows it changed.
            async fn execute(&self, sql: &str, value: &str) -> Result<u64, ServerStoreError> {
                let result = sqlx::query(sql)
                    .bind(value)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(result.rows_affected())
            }

            /// Runs `first` then `second` with one string parameter, in one transaction; how
            /// many rows `first` changed.
            async fn execute_both(
                &self,
                first: &str,
                second: &str,
                value: &str,
            ) -> Result<u64, ServerStoreError> {
                let mut tx = self.pool.begin().await.map_err(failed)?;
                let changed = sqlx::query(first)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?
                    .rows_affected();
                sqlx::query(second)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                Ok(changed)
            }

            /// The first column of every row `sql` answers, as JSON.
            async fn json_rows<T: serde::de::DeserializeOwned>(
                &self,
                sql: &str,
            ) -> Result<Vec<T>, ServerStoreError> {
                let rows = sqlx::query(sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                rows.iter()
                    .map(|row| {
                        let json: String = row.try_get(0).map_err(failed)?;
                        serde_json::from_str(&json).map_err(ServerStoreError::corrupt)
                    })
                    .collect()
            }

            /// Runs `sql` with two string parameters.
            async fn upsert(
                &self,
                sql: &str,
                id: &str,
                json: String,
            ) -> Result<(), ServerStoreError> {
                sqlx::query(sql)
                    .bind(id)
                    .bind(json)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }
        }

        #[rocket::async_trait]
        impl ServerStore for $store {
            async fn save_code(
                &self,
                code: TokenHash,
                grant: CodeGrant,
            ) -> Result<(), ServerStoreError> {
                let json = serde_json::to_string(&grant).map_err(ServerStoreError::corrupt)?;
                sqlx::query(Self::SQL.save_code)
                    .bind(code.as_str())
                    .bind(json)
                    .bind(grant.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn code(&self, code: &TokenHash) -> Result<Option<StoredCode>, ServerStoreError> {
                let row = sqlx::query(Self::SQL.code)
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let json: String = row.try_get("grant_json").map_err(failed)?;
                Ok(Some(StoredCode {
                    grant: serde_json::from_str(&json).map_err(ServerStoreError::corrupt)?,
                    used: row.try_get("used").map_err(failed)?,
                }))
            }

            async fn use_code(&self, code: &TokenHash) -> Result<bool, ServerStoreError> {
                Ok(self.execute(Self::SQL.use_code, code.as_str()).await? == 1)
            }

            async fn save_token(&self, token: TokenRecord) -> Result<(), ServerStoreError> {
                sqlx::query(Self::SQL.save_token)
                    .bind(token.hash.as_str())
                    .bind(kind_name(token.kind))
                    .bind(&token.client_id)
                    .bind(&token.owner)
                    .bind(serde_json::to_string(&token.scopes).map_err(ServerStoreError::corrupt)?)
                    .bind(token.expires_at)
                    .bind(&token.family)
                    .bind(token.revoked)
                    .bind(&token.family)
                    .bind(token.used)
                    .bind(
                        serde_json::to_string(&token.audience)
                            .map_err(ServerStoreError::corrupt)?,
                    )
                    .bind(&token.jkt)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn token(
                &self,
                hash: &TokenHash,
            ) -> Result<Option<TokenRecord>, ServerStoreError> {
                let row = sqlx::query(Self::SQL.token)
                    .bind(hash.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                row.as_ref().map(Self::token_from_row).transpose()
            }

            async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError> {
                Ok(self
                    .execute(Self::SQL.use_refresh_token, hash.as_str())
                    .await?
                    == 1)
            }

            async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError> {
                self.execute(Self::SQL.revoke_token, hash.as_str()).await?;
                Ok(())
            }

            async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError> {
                self.execute_both(
                    Self::SQL.revoke_family,
                    Self::SQL.revoke_family_tokens,
                    family,
                )
                .await?;
                Ok(())
            }

            async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError> {
                let row = sqlx::query(Self::SQL.family_revoked)
                    .bind(family)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(row.is_some())
            }

            async fn purge(&self, now: i64) -> Result<(), ServerStoreError> {
                sqlx::raw_sql(&(Self::SQL.purge)(now))
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn client(&self, id: &str) -> Result<Option<RegisteredClient>, ServerStoreError> {
                let row = sqlx::query(Self::SQL.client)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                row.map(|row| client_from_json(&row.try_get::<String, _>(0).map_err(failed)?))
                    .transpose()
            }

            async fn clients(&self) -> Result<Vec<RegisteredClient>, ServerStoreError> {
                let rows = sqlx::query(Self::SQL.clients)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                rows.iter()
                    .map(|row| client_from_json(&row.try_get::<String, _>(0).map_err(failed)?))
                    .collect()
            }

            async fn save_client(&self, client: RegisteredClient) -> Result<(), ServerStoreError> {
                self.upsert(Self::SQL.save_client, &client.id, client_json(&client)?)
                    .await
            }

            async fn remove_client(&self, id: &str) -> Result<bool, ServerStoreError> {
                let removed = self
                    .execute_both(Self::SQL.remove_client, Self::SQL.revoke_client_tokens, id)
                    .await?;
                Ok(removed == 1)
            }

            async fn mark_client_used(&self, id: &str, at: i64) -> Result<(), ServerStoreError> {
                sqlx::query(Self::SQL.mark_client_used)
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn scopes(&self) -> Result<Vec<ScopeRecord>, ServerStoreError> {
                let rows = sqlx::query(Self::SQL.scopes)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                rows.iter()
                    .map(|row| {
                        Ok(ScopeRecord::new(
                            row.try_get::<String, _>(0).map_err(failed)?,
                            row.try_get::<String, _>(1).map_err(failed)?,
                        ))
                    })
                    .collect()
            }

            async fn save_scope(&self, scope: ScopeRecord) -> Result<(), ServerStoreError> {
                self.upsert(Self::SQL.save_scope, &scope.name, scope.description)
                    .await
            }

            async fn remove_scope(&self, name: &str) -> Result<bool, ServerStoreError> {
                Ok(self.execute(Self::SQL.remove_scope, name).await? == 1)
            }

            async fn owner_tokens(
                &self,
                owner: &str,
                now: i64,
            ) -> Result<Vec<TokenRecord>, ServerStoreError> {
                let rows = sqlx::query(Self::SQL.owner_tokens)
                    .bind(owner)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                rows.iter().map(Self::token_from_row).collect()
            }

            async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, ServerStoreError> {
                self.json_rows(Self::SQL.signing_keys).await
            }

            async fn save_signing_key(
                &self,
                key: SigningKeyRecord,
            ) -> Result<(), ServerStoreError> {
                let json = serde_json::to_string(&key).map_err(ServerStoreError::corrupt)?;
                self.upsert(Self::SQL.save_signing_key, &key.kid, json)
                    .await
            }

            async fn remove_signing_key(&self, kid: &str) -> Result<(), ServerStoreError> {
                self.execute(Self::SQL.remove_signing_key, kid).await?;
                Ok(())
            }

            async fn save_session_client(
                &self,
                client: SessionClient,
            ) -> Result<(), ServerStoreError> {
                let json = serde_json::to_string(&client).map_err(ServerStoreError::corrupt)?;
                sqlx::query(Self::SQL.save_session_client)
                    .bind(&client.sid)
                    .bind(&client.client_id)
                    .bind(json)
                    .bind(client.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn end_session(
                &self,
                sid: &str,
                now: i64,
            ) -> Result<Vec<SessionClient>, ServerStoreError> {
                let rows = sqlx::query(Self::SQL.end_session)
                    .bind(sid)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed)?;
                let mut clients = Vec::new();
                for row in rows {
                    let expires_at: i64 = row.try_get(1).map_err(failed)?;
                    if expires_at > now {
                        let json: String = row.try_get(0).map_err(failed)?;
                        clients
                            .push(serde_json::from_str(&json).map_err(ServerStoreError::corrupt)?);
                    }
                }
                Ok(clients)
            }

            async fn save_device(
                &self,
                device: TokenHash,
                grant: DeviceGrant,
            ) -> Result<(), ServerStoreError> {
                let json = serde_json::to_string(&grant).map_err(ServerStoreError::corrupt)?;
                sqlx::query(Self::SQL.save_device)
                    .bind(device.as_str())
                    .bind(&grant.user_code)
                    .bind(grant.status.name())
                    .bind(json)
                    .bind(grant.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(())
            }

            async fn device(
                &self,
                device: &TokenHash,
            ) -> Result<Option<DeviceGrant>, ServerStoreError> {
                let row = sqlx::query(Self::SQL.device)
                    .bind(device.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                let Some(row) = row else { return Ok(None) };
                let json: String = row.try_get(0).map_err(failed)?;
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(ServerStoreError::corrupt)
            }

            async fn device_by_user_code(
                &self,
                user_code: &str,
            ) -> Result<Option<(TokenHash, DeviceGrant)>, ServerStoreError> {
                let row = sqlx::query(Self::SQL.device_by_user_code)
                    .bind(user_code)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed)?;
                let Some(row) = row else { return Ok(None) };
                let hash = TokenHash::from_hex(row.try_get(0).map_err(failed)?);
                let json: String = row.try_get(1).map_err(failed)?;
                let grant = serde_json::from_str(&json).map_err(ServerStoreError::corrupt)?;
                Ok(Some((hash, grant)))
            }

            async fn update_device(
                &self,
                device: &TokenHash,
                from: DeviceStatus,
                grant: DeviceGrant,
            ) -> Result<bool, ServerStoreError> {
                let json = serde_json::to_string(&grant).map_err(ServerStoreError::corrupt)?;
                let result = sqlx::query(Self::SQL.update_device)
                    .bind(grant.status.name())
                    .bind(json)
                    .bind(device.as_str())
                    .bind(from.name())
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(result.rows_affected() == 1)
            }

            async fn use_once(
                &self,
                value: &TokenHash,
                expires_at: i64,
            ) -> Result<bool, ServerStoreError> {
                let result = sqlx::query(Self::SQL.use_once)
                    .bind(value.as_str())
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
                Ok(result.rows_affected() == 1)
            }
        }
    };
}

pub(super) use sql_store;
