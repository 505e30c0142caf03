//! A [`ServerStore`] on PostgreSQL (feature `postgres`): one database shared by every instance of
//! the app. The schema is created and migrated on connect (under an advisory lock, so
//! instances starting together migrate once); secrets are stored hashed like in every
//! store; single use (codes, refresh tokens) is one atomic `UPDATE … WHERE NOT used`.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
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
         used BOOLEAN NOT NULL DEFAULT FALSE,
         expires_at BIGINT NOT NULL
     );
     CREATE INDEX rocket_oauth_codes_expiry ON rocket_oauth_codes (expires_at);
     CREATE TABLE rocket_oauth_tokens (
         hash TEXT PRIMARY KEY,
         kind TEXT NOT NULL,
         client_id TEXT NOT NULL,
         owner TEXT,
         scopes TEXT NOT NULL,
         expires_at BIGINT NOT NULL,
         family TEXT NOT NULL,
         revoked BOOLEAN NOT NULL DEFAULT FALSE,
         used BOOLEAN NOT NULL DEFAULT FALSE
     );
     CREATE INDEX rocket_oauth_tokens_family ON rocket_oauth_tokens (family);
     CREATE INDEX rocket_oauth_tokens_expiry ON rocket_oauth_tokens (expires_at);
     CREATE TABLE rocket_oauth_revoked_families (family TEXT PRIMARY KEY);",
    ),
    (
        2,
        "CREATE TABLE rocket_oauth_clients (id TEXT PRIMARY KEY, client_json TEXT NOT NULL);
     CREATE TABLE rocket_oauth_signing_keys (kid TEXT PRIMARY KEY, key_json TEXT NOT NULL);",
    ),
];

/// The advisory lock key that serialises migrations across instances.
const MIGRATION_LOCK: i64 = 0x726f_636b_6f61;

/// Codes and tokens in a PostgreSQL database, shared by every instance of the app.
///
/// ```rust,no_run
/// # async fn run() -> Result<(), rocket_oauth::server::ServerStoreError> {
/// use rocket_oauth::server::PostgresServerStore;
///
/// let store = PostgresServerStore::connect("postgres://oauth:secret@db.internal/oauth").await?;
/// # Ok(()) }
/// ```
///
/// Or set `oauth_server.database_url = "postgres://…"` and the fairing connects by itself.
#[derive(Debug, Clone)]
pub struct PostgresServerStore {
    pool: PgPool,
}

fn failed(e: sqlx::Error) -> ServerStoreError {
    ServerStoreError::backend(e)
}

impl PostgresServerStore {
    /// Connects to the database at `url` (`postgres://user:password@host/database`) and
    /// migrates its schema.
    pub async fn connect(url: &str) -> Result<Self, ServerStoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(failed)?;
        let store = PostgresServerStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), ServerStoreError> {
        // One transaction under an advisory lock: instances starting together migrate once.
        let mut script = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS rocket_oauth_migrations (version BIGINT PRIMARY KEY);"
        );
        for (version, sql) in MIGRATIONS {
            script.push_str(&format!(
                "DO $migrate$ BEGIN
                     IF NOT EXISTS (SELECT 1 FROM rocket_oauth_migrations WHERE version = {version}) THEN
                         {sql}
                         INSERT INTO rocket_oauth_migrations (version) VALUES ({version});
                     END IF;
                 END $migrate$;"
            ));
        }
        script.push_str("COMMIT;");
        // One simple-query call: the whole script runs on one connection.
        sqlx::raw_sql(&script)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    fn token_from_row(row: &PgRow) -> Result<TokenRecord, ServerStoreError> {
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

    /// Marks `hash` used in `table`, if it was not: `true` for the one caller that did.
    async fn use_once(&self, table: &str, hash: &TokenHash) -> Result<bool, ServerStoreError> {
        let sql = format!("UPDATE {table} SET used = TRUE WHERE hash = $1 AND NOT used");
        let result = sqlx::query(&sql)
            .bind(hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(result.rows_affected() == 1)
    }
}

#[rocket::async_trait]
impl ServerStore for PostgresServerStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), ServerStoreError> {
        let json = serde_json::to_string(&grant).map_err(ServerStoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO rocket_oauth_codes (hash, grant_json, expires_at) VALUES ($1, $2, $3)",
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
        let row = sqlx::query("SELECT grant_json, used FROM rocket_oauth_codes WHERE hash = $1")
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
        self.use_once("rocket_oauth_codes", code).await
    }

    async fn save_token(&self, token: TokenRecord) -> Result<(), ServerStoreError> {
        sqlx::query(
            "INSERT INTO rocket_oauth_tokens
                 (hash, kind, client_id, owner, scopes, expires_at, family, revoked, used)
             VALUES ($1, $2, $3, $4, $5, $6, $7,
                     $8 OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families WHERE family = $7),
                     $9)",
        )
        .bind(token.hash.as_str())
        .bind(kind_name(token.kind))
        .bind(&token.client_id)
        .bind(&token.owner)
        .bind(serde_json::to_string(&token.scopes).map_err(ServerStoreError::corrupt)?)
        .bind(token.expires_at)
        .bind(&token.family)
        .bind(token.revoked)
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
             FROM rocket_oauth_tokens t WHERE hash = $1",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        row.as_ref().map(Self::token_from_row).transpose()
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, ServerStoreError> {
        self.use_once("rocket_oauth_tokens", hash).await
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), ServerStoreError> {
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE hash = $1")
            .bind(hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), ServerStoreError> {
        let mut tx = self.pool.begin().await.map_err(failed)?;
        sqlx::query(
            "INSERT INTO rocket_oauth_revoked_families (family) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(family)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE family = $1")
            .bind(family)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)
    }

    async fn family_revoked(&self, family: &str) -> Result<bool, ServerStoreError> {
        let row = sqlx::query("SELECT 1 FROM rocket_oauth_revoked_families WHERE family = $1")
            .bind(family)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        Ok(row.is_some())
    }

    async fn purge(&self, now: i64) -> Result<(), ServerStoreError> {
        sqlx::raw_sql(&format!(
            "BEGIN;
             DELETE FROM rocket_oauth_codes WHERE expires_at <= {now};
             DELETE FROM rocket_oauth_tokens WHERE expires_at <= {now};
             DELETE FROM rocket_oauth_revoked_families WHERE
                 family NOT IN (SELECT family FROM rocket_oauth_tokens)
                 AND family NOT IN (SELECT (grant_json::json ->> 'family')
                                    FROM rocket_oauth_codes
                                    WHERE (grant_json::json ->> 'family') IS NOT NULL);
             COMMIT;"
        ))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<RegisteredClient>, ServerStoreError> {
        let row = sqlx::query("SELECT client_json FROM rocket_oauth_clients WHERE id = $1")
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
        sqlx::query("INSERT INTO rocket_oauth_clients (id, client_json) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET client_json = EXCLUDED.client_json")
            .bind(&client.id)
            .bind(client_json(&client)?)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn remove_client(&self, id: &str) -> Result<bool, ServerStoreError> {
        let mut tx = self.pool.begin().await.map_err(failed)?;
        let removed = sqlx::query("DELETE FROM rocket_oauth_clients WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?
            .rows_affected()
            == 1;
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE client_id = $1")
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
        sqlx::query("INSERT INTO rocket_oauth_signing_keys (kid, key_json) VALUES ($1, $2) ON CONFLICT (kid) DO UPDATE SET key_json = EXCLUDED.key_json")
            .bind(&key.kid)
            .bind(serde_json::to_string(&key).map_err(ServerStoreError::corrupt)?)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn remove_signing_key(&self, kid: &str) -> Result<(), ServerStoreError> {
        sqlx::query("DELETE FROM rocket_oauth_signing_keys WHERE kid = $1")
            .bind(kid)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }
}
