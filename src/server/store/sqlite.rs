//! A [`Store`] on SQLite (feature `sqlite`): codes and tokens survive restarts. The schema
//! is created and migrated on connect; secrets are stored hashed like in every store.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::Row;

use super::{CodeGrant, Store, StoreError, TakenCode, TokenHash, TokenKind, TokenRecord};

/// Schema migrations, applied in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[(
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
)];

/// Codes and tokens in a SQLite database.
///
/// ```rust,no_run
/// # async fn run() -> Result<(), rocket_oauth::server::StoreError> {
/// use rocket_oauth::server::SqliteStore;
///
/// let store = SqliteStore::connect("sqlite://oauth.db").await?;
/// # Ok(()) }
/// ```
///
/// Or set `oauth_server.database_url` and the fairing connects by itself.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn failed(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

fn kind_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (e.g. `sqlite://oauth.db`,
    /// `sqlite::memory:`) and migrates its schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(failed)?
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(failed)?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
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

    fn token_from_row(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
        let scopes: String = row.try_get("scopes").map_err(failed)?;
        let kind: String = row.try_get("kind").map_err(failed)?;
        Ok(TokenRecord {
            hash: TokenHash::from_hex(row.try_get("hash").map_err(failed)?),
            kind: if kind == "refresh" {
                TokenKind::Refresh
            } else {
                TokenKind::Access
            },
            client_id: row.try_get("client_id").map_err(failed)?,
            owner: row.try_get("owner").map_err(failed)?,
            scopes: serde_json::from_str(&scopes).map_err(StoreError::corrupt)?,
            expires_at: row.try_get("expires_at").map_err(failed)?,
            family: row.try_get("family").map_err(failed)?,
            revoked: row.try_get("revoked").map_err(failed)?,
            used: row.try_get("used").map_err(failed)?,
        })
    }
}

#[rocket::async_trait]
impl Store for SqliteStore {
    async fn save_code(&self, code: TokenHash, grant: CodeGrant) -> Result<(), StoreError> {
        let json = serde_json::to_string(&grant).map_err(StoreError::corrupt)?;
        sqlx::query("INSERT INTO rocket_oauth_codes (hash, grant_json) VALUES (?, ?)")
            .bind(code.as_str())
            .bind(json)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn take_code(&self, code: &TokenHash) -> Result<TakenCode, StoreError> {
        let claimed =
            sqlx::query("UPDATE rocket_oauth_codes SET used = 1 WHERE hash = ? AND used = 0")
                .bind(code.as_str())
                .execute(&self.pool)
                .await
                .map_err(failed)?
                .rows_affected()
                == 1;
        let row = sqlx::query("SELECT grant_json FROM rocket_oauth_codes WHERE hash = ?")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        let Some(row) = row else {
            return Ok(TakenCode::Unknown);
        };
        let json: String = row.try_get("grant_json").map_err(failed)?;
        let grant: CodeGrant = serde_json::from_str(&json).map_err(StoreError::corrupt)?;
        Ok(if claimed {
            TakenCode::Fresh(grant)
        } else {
            TakenCode::Replayed(grant)
        })
    }

    async fn save_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rocket_oauth_tokens
                 (hash, kind, client_id, owner, scopes, expires_at, family, revoked, used)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.hash.as_str())
        .bind(kind_name(token.kind))
        .bind(&token.client_id)
        .bind(&token.owner)
        .bind(serde_json::to_string(&token.scopes).map_err(StoreError::corrupt)?)
        .bind(token.expires_at)
        .bind(&token.family)
        .bind(token.revoked)
        .bind(token.used)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM rocket_oauth_tokens WHERE hash = ?")
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?;
        row.as_ref().map(Self::token_from_row).transpose()
    }

    async fn use_refresh_token(&self, hash: &TokenHash) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE rocket_oauth_tokens SET used = 1 WHERE hash = ? AND used = 0")
                .bind(hash.as_str())
                .execute(&self.pool)
                .await
                .map_err(failed)?;
        Ok(result.rows_affected() == 1)
    }

    async fn revoke_token(&self, hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = 1 WHERE hash = ?")
            .bind(hash.as_str())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE rocket_oauth_tokens SET revoked = 1 WHERE family = ?")
            .bind(family)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }
}
