//! A [`ServerStore`] on PostgreSQL (feature `postgres`): one database shared by every instance of
//! the app. The schema is created and migrated on connect (under an advisory lock, so
//! instances starting together migrate once); secrets are stored hashed like in every
//! store; single use (codes, refresh tokens) is one atomic `UPDATE … WHERE NOT used`.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
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
    (
        3,
        "CREATE TABLE rocket_oauth_scopes (name TEXT PRIMARY KEY, description TEXT NOT NULL);
     CREATE INDEX rocket_oauth_tokens_owner ON rocket_oauth_tokens (owner);",
    ),
    (
        4,
        "CREATE TABLE rocket_oauth_sessions (
         sid TEXT NOT NULL,
         client_id TEXT NOT NULL,
         session_json TEXT NOT NULL,
         expires_at BIGINT NOT NULL,
         PRIMARY KEY (sid, client_id)
     );",
    ),
    (
        5,
        "ALTER TABLE rocket_oauth_tokens ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';",
    ),
    (
        6,
        "CREATE TABLE rocket_oauth_devices (
         hash TEXT PRIMARY KEY,
         user_code TEXT NOT NULL UNIQUE,
         status TEXT NOT NULL,
         grant_json TEXT NOT NULL,
         expires_at BIGINT NOT NULL
     );",
    ),
    (
        7,
        "ALTER TABLE rocket_oauth_tokens ADD COLUMN jkt TEXT;
     CREATE TABLE rocket_oauth_used (hash TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);",
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
}

sql_store!(
    PostgresServerStore,
    PgRow,
    Queries {
        save_code:
            "INSERT INTO rocket_oauth_codes (hash, grant_json, expires_at) VALUES ($1, $2, $3)",
        code: "SELECT grant_json, used FROM rocket_oauth_codes WHERE hash = $1",
        use_code: "UPDATE rocket_oauth_codes SET used = TRUE WHERE hash = $1 AND NOT used",
        save_token: "INSERT INTO rocket_oauth_tokens
                 (hash, kind, client_id, owner, scopes, expires_at, family, revoked, used, audience,
                  jkt)
             VALUES ($1, $2, $3, $4, $5, $6, $7,
                     $8 OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families WHERE family = $9),
                     $10, $11, $12)",
        token: "SELECT hash, kind, client_id, owner, scopes, expires_at, family, used, audience, jkt,
                    revoked OR EXISTS (SELECT 1 FROM rocket_oauth_revoked_families f
                                       WHERE f.family = t.family) AS revoked
             FROM rocket_oauth_tokens t WHERE hash = $1",
        use_refresh_token:
            "UPDATE rocket_oauth_tokens SET used = TRUE WHERE hash = $1 AND NOT used",
        revoke_token: "UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE hash = $1",
        revoke_family:
            "INSERT INTO rocket_oauth_revoked_families (family) VALUES ($1) ON CONFLICT DO NOTHING",
        revoke_family_tokens: "UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE family = $1",
        family_revoked: "SELECT 1 FROM rocket_oauth_revoked_families WHERE family = $1",
        purge: |now| {
            format!(
                "BEGIN;
                 DELETE FROM rocket_oauth_codes WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_tokens WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_sessions WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_devices WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_used WHERE expires_at <= {now};
                 DELETE FROM rocket_oauth_revoked_families WHERE
                     family NOT IN (SELECT family FROM rocket_oauth_tokens)
                     AND family NOT IN (SELECT (grant_json::json ->> 'family')
                                        FROM rocket_oauth_codes
                                        WHERE (grant_json::json ->> 'family') IS NOT NULL);
                 COMMIT;"
            )
        },
        client: "SELECT client_json FROM rocket_oauth_clients WHERE id = $1",
        clients: "SELECT client_json FROM rocket_oauth_clients ORDER BY id",
        save_client: "INSERT INTO rocket_oauth_clients (id, client_json) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET client_json = EXCLUDED.client_json",
        remove_client: "DELETE FROM rocket_oauth_clients WHERE id = $1",
        revoke_client_tokens: "UPDATE rocket_oauth_tokens SET revoked = TRUE WHERE client_id = $1",
        mark_client_used: "UPDATE rocket_oauth_clients
             SET client_json = jsonb_set(client_json::jsonb, '{used_at}', to_jsonb($2::bigint))::text
             WHERE id = $1 AND (client_json::jsonb -> 'used_at') IS NULL",
        scopes: "SELECT name, description FROM rocket_oauth_scopes ORDER BY name",
        save_scope: "INSERT INTO rocket_oauth_scopes (name, description) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description",
        remove_scope: "DELETE FROM rocket_oauth_scopes WHERE name = $1",
        owner_tokens: "SELECT hash, kind, client_id, owner, scopes, expires_at, family, used, audience,
                    jkt, revoked
             FROM rocket_oauth_tokens t
             WHERE owner = $1 AND NOT revoked AND NOT used AND expires_at > $2
               AND NOT EXISTS (SELECT 1 FROM rocket_oauth_revoked_families f
                               WHERE f.family = t.family)",
        signing_keys: "SELECT key_json FROM rocket_oauth_signing_keys",
        save_signing_key: "INSERT INTO rocket_oauth_signing_keys (kid, key_json) VALUES ($1, $2)
             ON CONFLICT (kid) DO UPDATE SET key_json = EXCLUDED.key_json",
        remove_signing_key: "DELETE FROM rocket_oauth_signing_keys WHERE kid = $1",
        save_session_client: "INSERT INTO rocket_oauth_sessions (sid, client_id, session_json, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (sid, client_id) DO UPDATE
             SET session_json = EXCLUDED.session_json, expires_at = EXCLUDED.expires_at",
        save_device: "INSERT INTO rocket_oauth_devices (hash, user_code, status, grant_json, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        device: "SELECT grant_json FROM rocket_oauth_devices WHERE hash = $1",
        device_by_user_code: "SELECT hash, grant_json FROM rocket_oauth_devices WHERE user_code = $1",
        update_device:
            "UPDATE rocket_oauth_devices SET status = $1, grant_json = $2 WHERE hash = $3 AND status = $4",
        end_session:
            "DELETE FROM rocket_oauth_sessions WHERE sid = $1 RETURNING session_json, expires_at",
        use_once: "INSERT INTO rocket_oauth_used (hash, expires_at) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
    }
);
