//! A [`ServerStore`] on SQLite (feature `sqlite`): codes and tokens survive restarts. The schema
//! is created and migrated on connect; secrets are stored hashed like in every store.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::Row;

use super::{
    client_from_json, client_json, kind_from_name, kind_name, CodeGrant, RegisteredClient,
    ServerStore, ServerStoreError, SigningKeyRecord, StoredCode, TokenHash, TokenRecord,
};

/// Schema migrations, applied in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE rocket_oauth_codes (
         hash TEXT PRIMARY KEY,
         grant_json TEXT NOT NULL,
         used INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE rocket_oauth_tokens (
         hash TEXT PRIMARY KEY,
         kind TEXT NOT NULL,
         client_id TEXT NOT NULL,
         owner TEXT,
         scopes TEXT NOT NULL,
         expires_at INTEGER NOT NULL,
         family TEXT NOT NULL,
         revoked INTEGER NOT NULL DEFAULT 0,
         used INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX rocket_oauth_tokens_family ON rocket_oauth_tokens (family);",
    ),
    (
        2,
        "ALTER TABLE rocket_oauth_codes ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX rocket_oauth_codes_expiry ON rocket_oauth_codes (expires_at);
     CREATE INDEX rocket_oauth_tokens_expiry ON rocket_oauth_tokens (expires_at);
     CREATE TABLE rocket_oauth_revoked_families (family TEXT PRIMARY KEY);",
    ),
    (
        3,
        "CREATE TABLE rocket_oauth_clients (id TEXT PRIMARY KEY, client_json TEXT NOT NULL);
     CREATE TABLE rocket_oauth_signing_keys (kid TEXT PRIMARY KEY, key_json TEXT NOT NULL);",
    ),
];

/// Codes and tokens in a SQLite database.
///
/// ```rust,no_run
/// # async fn run() -> Result<(), rocket_oauth::server::ServerStoreError> {
/// use rocket_oauth::server::SqliteServerStore;
///
/// let store = SqliteServerStore::connect("sqlite://oauth.db").await?;
/// # Ok(()) }
/// ```
///
/// Or set `oauth_server.database_url` and the fairing connects by itself.
#[derive(Debug, Clone)]
pub struct SqliteServerStore {
    pool: SqlitePool,
}

fn failed(e: sqlx::Error) -> ServerStoreError {
    ServerStoreError::backend(e)
}

impl SqliteServerStore {
    /// Opens (creating if needed) the database at `url` (e.g. `sqlite://oauth.db`,
    /// `sqlite::memory:`) and migrates its schema.
    pub async fn connect(url: &str) -> Result<Self, ServerStoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(failed)?
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(failed)?;
        let store = SqliteServerStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), ServerStoreError> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS rocket_oauth_migrations (version INTEGER PRIMARY KEY)",
        )
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        for (version, sql) in MIGRATIONS {
            let done = sqlx::query("SELECT 1 FROM rocket_oauth_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&self.pool)
                .await
                .map_err(failed)?;
            if done.is_none() {
                // One script, one transaction: the schema change and its record.
                let script = format!(
                    "BEGIN; {sql}; INSERT INTO rocket_oauth_migrations (version) VALUES ({version}); COMMIT;"
                );
                sqlx::raw_sql(&script)
                    .execute(&self.pool)
                    .await
                    .map_err(failed)?;
            }
        }
        Ok(())
    }

    fn token_from_row(row: &SqliteRow) -> Result<TokenRecord, ServerStoreError> {
        let scopes: String = row.try_get("scopes").map_err(failed)?;
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
        })
    }
}

#[rocket::async_trait]
impl ServerStore for SqliteServerStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), ServerStoreError> {
        let json = serde_json::to_string(&grant).map_err(ServerStoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO rocket_oauth_codes (hash, grant_json, expires_at) VALUES (?, ?, ?)",
        )
        .bind(code.as_str())
        .bind(json)
        .bind(grant.expires_at)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn code(&self, code: &TokenHash) -> Result<Option<StoredCode>, ServerStoreError> {
        let row = sqlx::query("SELECT grant_json, used FROM rocket_oauth_codes WHERE hash = ?")
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
        let result =
            sqlx::query("UPDATE rocket_oauth_codes SET used = 1 WHERE hash = ? AND used = 0")
                .bind(code.as_str())
                .execute(&self.pool)
                .await
                .map_err(failed)?;
        Ok(result.rows_affected() == 1)
    }

    async fn save_token(&self, token: TokenRecord) -> Result<(), ServerStoreError> {
        sqlx::query(
            "INSERT INTO rocket_oauth_tokens
                 (hash, kind, client_id, owner, scopes, expires_at, family, revoked, used)
             VALUES (?, ?, ?, ?, ?, ?, ?,
                     ? OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families WHERE family = ?),
                     ?)",
        )
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
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, ServerStoreError> {
        let row = sqlx::query(
            "SELECT hash, kind, client_id, owner, scopes, expires_at, family, used,
                    revoked OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families f
                                       WHERE f.family = t.family) AS revoked
             FROM rocket_oauth_tokens t WHERE hash = ?",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        row.as_ref().map(Self::token_from_row).transpose()
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError> {
        let result =
            sqlx::query("UPDATE rocket_oauth_tokens SET used = 1 WHERE hash = ? AND used = 0")
                .bind(hash.as_str())
                .execute(&self.pool)
                .await
                .map_err(failed)?;
        Ok(result.rows_affected() == 1)
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError> {
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = 1 WHERE hash = ?")
            .bind(hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError> {
        let mut tx = self.pool.begin().await.map_err(failed)?;
        sqlx::query("INSERT OR IGNORE INTO rocket_oauth_revoked_families (family) VALUES (?)")
            .bind(family)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = 1 WHERE family = ?")
            .bind(family)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)
    }

    async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError> {
        let row = sqlx::query("SELECT 1 FROM rocket_oauth_revoked_families WHERE family = ?")
            .bind(family)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        Ok(row.is_some())
    }

    async fn purge(&self, now: i64) -> Result<(), ServerStoreError> {
        sqlx::raw_sql(&format!(
            "DELETE FROM rocket_oauth_codes WHERE expires_at <= {now};
             DELETE FROM rocket_oauth_tokens WHERE expires_at <= {now};
             DELETE FROM rocket_oauth_revoked_families WHERE
                 family NOT IN (SELECT family FROM rocket_oauth_tokens)
                 AND family NOT IN (SELECT json_extract(grant_json, '$.family')
                                    FROM rocket_oauth_codes);"
        ))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<RegisteredClient>, ServerStoreError> {
        let row = sqlx::query("SELECT client_json FROM rocket_oauth_clients WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        row.map(|row| client_from_json(&row.try_get::<String, _>(0).map_err(failed)?))
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<RegisteredClient>, ServerStoreError> {
        let rows = sqlx::query("SELECT client_json FROM rocket_oauth_clients ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?;
        rows.iter()
            .map(|row| client_from_json(&row.try_get::<String, _>(0).map_err(failed)?))
            .collect()
    }

    async fn save_client(&self, client: RegisteredClient) -> Result<(), ServerStoreError> {
        sqlx::query("INSERT OR REPLACE INTO rocket_oauth_clients (id, client_json) VALUES (?, ?)")
            .bind(&client.id)
            .bind(client_json(&client)?)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn remove_client(&self, id: &str) -> Result<bool, ServerStoreError> {
        let mut tx = self.pool.begin().await.map_err(failed)?;
        let removed = sqlx::query("DELETE FROM rocket_oauth_clients WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?
            .rows_affected()
            == 1;
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = 1 WHERE client_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        Ok(removed)
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, ServerStoreError> {
        let rows = sqlx::query("SELECT key_json FROM rocket_oauth_signing_keys")
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

    async fn save_signing_key(&self, key: SigningKeyRecord) -> Result<(), ServerStoreError> {
        sqlx::query(
            "INSERT OR REPLACE INTO rocket_oauth_signing_keys (kid, key_json) VALUES (?, ?)",
        )
        .bind(&key.kid)
        .bind(serde_json::to_string(&key).map_err(ServerStoreError::corrupt)?)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn remove_signing_key(&self, kid: &str) -> Result<(), ServerStoreError> {
        sqlx::query("DELETE FROM rocket_oauth_signing_keys WHERE kid = ?")
            .bind(kid)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }
}
