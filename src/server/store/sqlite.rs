//! A [`ServerStore`] on SQLite (feature `sqlite`): codes and tokens survive restarts. The schema
//! is created and migrated on connect; secrets are stored hashed like in every store.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::Row;

use super::sql::{failed, sql_store, Queries};

use super::{
    client_from_json, client_json, kind_from_name, kind_name, CodeGrant, DeviceGrant, DeviceStatus,
    RegisteredClient, ScopeRecord, ServerStore, ServerStoreError, SessionClient, SigningKeyRecord,
    StoredCode, TokenHash, TokenRecord,
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
    (
        4,
        "CREATE TABLE rocket_oauth_scopes (name TEXT PRIMARY KEY, description TEXT NOT NULL);
     CREATE INDEX rocket_oauth_tokens_owner ON rocket_oauth_tokens (owner);",
    ),
    (
        5,
        "CREATE TABLE rocket_oauth_sessions (
         sid TEXT NOT NULL,
         client_id TEXT NOT NULL,
         session_json TEXT NOT NULL,
         expires_at INTEGER NOT NULL,
         PRIMARY KEY (sid, client_id)
     );",
    ),
    (
        6,
        "ALTER TABLE rocket_oauth_tokens ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';",
    ),
    (
        7,
        "CREATE TABLE rocket_oauth_devices (
         hash TEXT PRIMARY KEY,
         user_code TEXT NOT NULL UNIQUE,
         status TEXT NOT NULL,
         grant_json TEXT NOT NULL,
         expires_at INTEGER NOT NULL
     );",
    ),
    (
        8,
        "ALTER TABLE rocket_oauth_tokens ADD COLUMN jkt TEXT;
     CREATE TABLE rocket_oauth_used (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);",
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
}

sql_store!(
    SqliteServerStore,
    SqliteRow,
    Queries {
        save_code: "INSERT INTO rocket_oauth_codes (hash, grant_json, expires_at) VALUES (?, ?, ?)",
        code: "SELECT grant_json, used FROM rocket_oauth_codes WHERE hash = ?",
        use_code: "UPDATE rocket_oauth_codes SET used = 1 WHERE hash = ? AND used = 0",
        save_token: "INSERT INTO rocket_oauth_tokens
                 (hash, kind, client_id, owner, scopes, expires_at, family, revoked, used, audience,
                  jkt)
             VALUES (?, ?, ?, ?, ?, ?, ?,
                     ? OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families WHERE family = ?),
                     ?, ?, ?)",
        token: "SELECT hash, kind, client_id, owner, scopes, expires_at, family, used, audience, jkt,
                    revoked OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families f
                                       WHERE f.family = t.family) AS revoked
             FROM rocket_oauth_tokens t WHERE hash = ?",
        use_refresh_token: "UPDATE rocket_oauth_tokens SET used = 1 WHERE hash = ? AND used = 0",
        revoke_token: "UPDATE rocket_oauth_tokens SET revoked = 1 WHERE hash = ?",
        revoke_family: "INSERT OR IGNORE INTO rocket_oauth_revoked_families (family) VALUES (?)",
        revoke_family_tokens: "UPDATE rocket_oauth_tokens SET revoked = 1 WHERE family = ?",
        family_revoked: "SELECT 1 FROM rocket_oauth_revoked_families WHERE family = ?",
        purge: |now| {
            format!(
                "DELETE FROM rocket_oauth_codes WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_tokens WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_sessions WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_devices WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_used WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_revoked_families WHERE
                     family NOT IN (SELECT family FROM rocket_oauth_tokens)
                     AND family NOT IN (SELECT json_extract(grant_json, '$.family')
                                        FROM rocket_oauth_codes);"
            )
        },
        client: "SELECT client_json FROM rocket_oauth_clients WHERE id = ?",
        clients: "SELECT client_json FROM rocket_oauth_clients ORDER BY id",
        save_client: "INSERT OR REPLACE INTO rocket_oauth_clients (id, client_json) VALUES (?, ?)",
        remove_client: "DELETE FROM rocket_oauth_clients WHERE id = ?",
        revoke_client_tokens: "UPDATE rocket_oauth_tokens SET revoked = 1 WHERE client_id = ?",
        mark_client_used: "UPDATE rocket_oauth_clients
             SET client_json = json_set(client_json, '$.used_at', ?2)
             WHERE id = ?1 AND json_extract(client_json, '$.used_at') IS NULL",
        scopes: "SELECT name, description FROM rocket_oauth_scopes ORDER BY name",
        save_scope: "INSERT OR REPLACE INTO rocket_oauth_scopes (name, description) VALUES (?, ?)",
        remove_scope: "DELETE FROM rocket_oauth_scopes WHERE name = ?",
        owner_tokens:
            "SELECT hash, kind, client_id, owner, scopes, expires_at, family, used, audience, jkt,
                    revoked
             FROM rocket_oauth_tokens t
             WHERE owner = ?1 AND revoked = 0 AND used = 0 AND expires_at > ?2
               AND NOT EXISTS (SELECT 1 FROM rocket_oauth_revoked_families f
                               WHERE f.family = t.family)",
        signing_keys: "SELECT key_json FROM rocket_oauth_signing_keys",
        save_signing_key:
            "INSERT OR REPLACE INTO rocket_oauth_signing_keys (kid, key_json) VALUES (?, ?)",
        remove_signing_key: "DELETE FROM rocket_oauth_signing_keys WHERE kid = ?",
        save_session_client:
            "INSERT OR REPLACE INTO rocket_oauth_sessions (sid, client_id, session_json, expires_at)
             VALUES (?, ?, ?, ?)",
        save_device: "INSERT INTO rocket_oauth_devices (hash, user_code, status, grant_json, expires_at)
             VALUES (?, ?, ?, ?, ?)",
        device: "SELECT grant_json FROM rocket_oauth_devices WHERE hash = ?",
        device_by_user_code: "SELECT hash, grant_json FROM rocket_oauth_devices WHERE user_code = ?",
        update_device:
            "UPDATE rocket_oauth_devices SET status = ?, grant_json = ? WHERE hash = ? AND status = ?",
        end_session:
            "DELETE FROM rocket_oauth_sessions WHERE sid = ? RETURNING session_json, expires_at",
        use_once: "INSERT OR IGNORE INTO rocket_oauth_used (hash, expires_at) VALUES (?, ?)",
    }
);
