//! One conformance suite for every `ServerStore`: in memory, SQLite and PostgreSQL.

#[cfg(feature = "sqlite")]
use rocket_oauth::server::SqliteServerStore;
use rocket_oauth::server::{
    CodeGrant, DeviceGrant, DeviceStatus, MemoryServerStore, RegisteredClient, ScopeRecord,
    ServerStore, SessionClient, SigningKeyRecord, TokenHash, TokenKind, TokenRecord,
};

fn grant(family: &str) -> CodeGrant {
    CodeGrant {
        client_id: "c".into(),
        redirect_uri: "http://127.0.0.1:9999/cb".into(),
        redirect_uri_given: false,
        scopes: vec!["profile".into()],
        owner: "alice".into(),
        challenge: Some(("x".repeat(43), "S256".into())),
        expires_at: 4_102_444_800,
        family: family.into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        auth_time: Some(1_700_000_000),
        sid: Some("sid-1".into()),
        resources: vec!["https://api.example/mcp".into()],
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    }
}

fn token(secret: &str, kind: TokenKind, family: &str) -> TokenRecord {
    TokenRecord {
        hash: TokenHash::of(secret),
        kind,
        client_id: "c".into(),
        owner: Some("alice".into()),
        scopes: vec!["profile".into(), "email".into()],
        expires_at: 4_102_444_800,
        family: family.into(),
        revoked: false,
        used: false,
        audience: vec!["https://api.example/mcp".into()],
        jkt: (kind == TokenKind::Access).then(|| format!("jkt-of-{secret}")),
    }
}

async fn conformance(store: &dyn ServerStore) {
    // Codes: read without using; used once (compare-and-set); a used code still reads back.
    let code = TokenHash::of("code-1");
    store.save_code(code.clone(), grant("f1")).await.unwrap();
    let stored = store.code(&code).await.unwrap().unwrap();
    assert_eq!(stored.grant.owner, "alice");
    assert_eq!(stored.grant.challenge.unwrap().1, "S256");
    assert_eq!(stored.grant.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(stored.grant.auth_time, Some(1_700_000_000));
    assert_eq!(stored.grant.resources, ["https://api.example/mcp"]);
    assert!(!stored.used);
    assert!(
        !store.code(&code).await.unwrap().unwrap().used,
        "reading does not use"
    );
    assert!(store.use_code(&code).await.unwrap());
    assert!(!store.use_code(&code).await.unwrap());
    let used = store.code(&code).await.unwrap().unwrap();
    assert!(used.used && used.grant.family == "f1");
    assert!(store.code(&TokenHash::of("nope")).await.unwrap().is_none());
    assert!(!store.use_code(&TokenHash::of("nope")).await.unwrap());

    // Tokens round-trip by hash.
    store
        .save_token(token("at-1", TokenKind::Access, "f1"))
        .await
        .unwrap();
    store
        .save_token(token("rt-1", TokenKind::Refresh, "f1"))
        .await
        .unwrap();
    store
        .save_token(token("at-2", TokenKind::Access, "f2"))
        .await
        .unwrap();
    let at = store.token(&TokenHash::of("at-1")).await.unwrap().unwrap();
    assert_eq!(at.kind, TokenKind::Access);
    assert_eq!(at.scopes, ["profile", "email"]);
    assert_eq!(at.owner.as_deref(), Some("alice"));
    assert_eq!(at.audience, ["https://api.example/mcp"]);
    assert_eq!(at.jkt.as_deref(), Some("jkt-of-at-1"), "the DPoP binding");
    let rt = store.token(&TokenHash::of("rt-1")).await.unwrap().unwrap();
    assert_eq!(rt.jkt, None);
    assert!(store
        .token(&TokenHash::of("missing"))
        .await
        .unwrap()
        .is_none());

    // Refresh tokens are used once.
    let rt = TokenHash::of("rt-1");
    assert!(store.use_refresh_token(&rt).await.unwrap());
    assert!(!store.use_refresh_token(&rt).await.unwrap());
    assert!(store.token(&rt).await.unwrap().unwrap().used);

    // Revocation: one token, then a family.
    store.revoke_token(&TokenHash::of("at-2")).await.unwrap();
    assert!(
        store
            .token(&TokenHash::of("at-2"))
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    store.revoke_family("f1").await.unwrap();
    assert!(
        store
            .token(&TokenHash::of("at-1"))
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(store.token(&rt).await.unwrap().unwrap().revoked);

    // A revoked family stays revoked: a token saved into it later is revoked too.
    assert!(store.family_revoked("f1").await.unwrap());
    assert!(!store.family_revoked("f2").await.unwrap());
    store
        .save_token(token("at-late", TokenKind::Access, "f1"))
        .await
        .unwrap();
    let late = store
        .token(&TokenHash::of("at-late"))
        .await
        .unwrap()
        .unwrap();
    assert!(late.revoked);

    // Purging forgets expired tokens and codes, keeps live ones.
    let mut old = token("at-old", TokenKind::Access, "f3");
    old.expires_at = 1;
    store.save_token(old).await.unwrap();
    let mut old_grant = grant("f4");
    old_grant.expires_at = 1;
    store
        .save_code(TokenHash::of("code-old"), old_grant)
        .await
        .unwrap();
    store.purge(1000).await.unwrap();
    assert!(store
        .token(&TokenHash::of("at-old"))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .code(&TokenHash::of("code-old"))
        .await
        .unwrap()
        .is_none());
    assert!(store.token(&TokenHash::of("at-2")).await.unwrap().is_some());
    assert!(
        store.code(&code).await.unwrap().is_some(),
        "a used code is kept until it expires"
    );

    runtime_clients(store).await;
    runtime_scopes(store).await;
    owner_tokens(store).await;
    signing_keys(store).await;
    sign_in_sessions(store).await;
    device_authorizations(store).await;
    single_use_values(store).await;
}

/// Sign-in sessions: the clients each reached (a second save for one client replaces),
/// returned and forgotten when it ends; expired ones are not returned.
/// RFC 8628: a device authorization is found by its device code and by its user code, and
/// moves on once per step (compare-and-set), so that two instances cannot both approve or
/// both issue tokens for it; expired ones are purged.
/// Single-use values (client assertion `jti`s, pushed requests): once until they expire,
/// across instances; expired ones are purged.
async fn single_use_values(store: &dyn ServerStore) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let jti = TokenHash::of(&format!("jti-{}", rocket_oauth_test_nonce()));
    assert!(store.use_once(&jti, now + 60).await.unwrap());
    assert!(!store.use_once(&jti, now + 60).await.unwrap(), "a replay");
    let old = TokenHash::of(&format!("old-{}", rocket_oauth_test_nonce()));
    assert!(store.use_once(&old, now - 1).await.unwrap());
    store.purge(now).await.unwrap();
    assert!(
        !store.use_once(&jti, now + 60).await.unwrap(),
        "kept until it expires"
    );
}

async fn device_authorizations(store: &dyn ServerStore) {
    let device = TokenHash::of("device-code-1");
    let grant = DeviceGrant::new("tv", "BCDFGHJK", vec!["profile".into()], 4_102_444_800);
    store
        .save_device(device.clone(), grant.clone())
        .await
        .unwrap();
    assert_eq!(store.device(&device).await.unwrap().unwrap(), grant);
    let (hash, found) = store
        .device_by_user_code("BCDFGHJK")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((hash, found.client_id.as_str()), (device.clone(), "tv"));
    assert!(store
        .device_by_user_code("ZZZZZZZZ")
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .save_device(TokenHash::of("device-code-2"), grant.clone())
            .await
            .is_err(),
        "user codes are unique"
    );

    let mut approved = grant.clone();
    approved.status = DeviceStatus::Approved;
    approved.owner = Some("alice".into());
    assert!(store
        .update_device(&device, DeviceStatus::Pending, approved.clone())
        .await
        .unwrap());
    assert!(!store
        .update_device(&device, DeviceStatus::Pending, approved.clone())
        .await
        .unwrap());
    let mut used = approved.clone();
    used.status = DeviceStatus::Used;
    assert!(store
        .update_device(&device, DeviceStatus::Approved, used.clone())
        .await
        .unwrap());
    assert!(!store
        .update_device(&device, DeviceStatus::Approved, used)
        .await
        .unwrap());
    assert_eq!(
        store
            .device(&device)
            .await
            .unwrap()
            .unwrap()
            .owner
            .as_deref(),
        Some("alice")
    );

    let expired = TokenHash::of("device-code-3");
    let old = DeviceGrant::new("tv", "CDFGHJKL", Vec::new(), 1);
    store.save_device(expired.clone(), old).await.unwrap();
    store.purge(1_000).await.unwrap();
    assert!(store.device(&expired).await.unwrap().is_none());
    assert!(store.device(&device).await.unwrap().is_some());
}

async fn sign_in_sessions(store: &dyn ServerStore) {
    let sid = format!("sid-{}", rocket_oauth_test_nonce());
    let at = 4_102_444_800;
    for client in ["a", "b", "a"] {
        let signed_in = SessionClient::new(sid.as_str(), "alice", client, at);
        store.save_session_client(signed_in).await.unwrap();
    }
    let expired = SessionClient::new(sid.as_str(), "alice", "old", 10);
    store.save_session_client(expired).await.unwrap();
    let other = SessionClient::new(format!("{sid}-other"), "bob", "a", at);
    store.save_session_client(other).await.unwrap();
    let mut ended = store.end_session(&sid, 1_000).await.unwrap();
    ended.sort_by(|x, y| x.client_id.cmp(&y.client_id));
    let ids: Vec<&str> = ended.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(ended[0].owner, "alice");
    assert_eq!(ended[0].sid, sid);
    assert!(
        store.end_session(&sid, 1_000).await.unwrap().is_empty(),
        "forgotten"
    );
    let other = store
        .end_session(&format!("{sid}-other"), 1_000)
        .await
        .unwrap();
    assert_eq!(other.len(), 1);
}

/// A value unique to this run (tests share a PostgreSQL database).
fn rocket_oauth_test_nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The runtime client registry: saved, listed by id, replaced, removed with its tokens.
/// Scopes declared at runtime: saved (a second save replaces), listed by name, removed.
async fn runtime_scopes(store: &dyn ServerStore) {
    assert!(store.scopes().await.unwrap().is_empty());
    store
        .save_scope(ScopeRecord::new("reports:write", "Write"))
        .await
        .unwrap();
    store
        .save_scope(ScopeRecord::new("reports:read", "Read"))
        .await
        .unwrap();
    store
        .save_scope(ScopeRecord::new("reports:read", "Read your reports"))
        .await
        .unwrap();
    assert_eq!(
        store.scopes().await.unwrap(),
        [
            ScopeRecord::new("reports:read", "Read your reports"),
            ScopeRecord::new("reports:write", "Write"),
        ]
    );
    assert!(store.remove_scope("reports:write").await.unwrap());
    assert!(!store.remove_scope("reports:write").await.unwrap());
    assert_eq!(store.scopes().await.unwrap().len(), 1);
}

/// The live tokens of one owner: not another's, not revoked ones (nor their family's), not
/// expired ones.
async fn owner_tokens(store: &dyn ServerStore) {
    let zoe = |secret: &str, family: &str, expires_at: i64| {
        let mut record = token(secret, TokenKind::Access, family);
        record.owner = Some("zoe".into());
        record.expires_at = expires_at;
        record
    };
    let now = 1_800_000_000;
    for record in [
        zoe("zoe-live", "zoe-f1", now + 60),
        zoe("zoe-expired", "zoe-f1", now - 1),
        zoe("zoe-revoked", "zoe-f2", now + 60),
        zoe("zoe-family", "zoe-f3", now + 60),
        zoe("zoe-used", "zoe-f1", now + 60),
    ] {
        store.save_token(record).await.unwrap();
    }
    assert!(store
        .use_refresh_token(&TokenHash::of("zoe-used"))
        .await
        .unwrap());
    store
        .revoke_token(&TokenHash::of("zoe-revoked"))
        .await
        .unwrap();
    store.revoke_family("zoe-f3").await.unwrap();
    let live = store.owner_tokens("zoe", now).await.unwrap();
    let hashes: Vec<&TokenHash> = live.iter().map(|t| &t.hash).collect();
    assert_eq!(hashes, [&TokenHash::of("zoe-live")]);
    assert_eq!(live[0].owner.as_deref(), Some("zoe"));
    assert!(store.owner_tokens("nobody", now).await.unwrap().is_empty());
}

async fn runtime_clients(store: &dyn ServerStore) {
    assert!(store.client("rc-1").await.unwrap().is_none());
    let mut client = RegisteredClient::new("rc-1", None)
        .name("Reports")
        .redirect_uri("https://reports.example/cb")
        .post_logout_redirect_uri("https://reports.example/bye")
        .scopes(["profile"]);
    client.secret_hash = Some(TokenHash::of("rc-secret"));
    client.registered_at = Some(1_700_000_000);
    client.used_at = Some(1_700_000_100);
    store.save_client(client.clone()).await.unwrap();
    store
        .save_client(RegisteredClient::new("rc-0", None).name("Public"))
        .await
        .unwrap();
    let read = store.client("rc-1").await.unwrap().unwrap();
    assert_eq!(read.display_name(), "Reports");
    assert_eq!(read.redirect_uris, ["https://reports.example/cb"]);
    assert_eq!(
        read.post_logout_redirect_uris,
        ["https://reports.example/bye"]
    );
    assert_eq!(read.scopes, ["profile"]);
    assert!(read.secret.is_none() && read.is_confidential());
    assert_eq!(read.secret_hash, Some(TokenHash::of("rc-secret")));
    assert_eq!(
        (read.registered_at, read.used_at),
        (Some(1_700_000_000), Some(1_700_000_100))
    );
    let ids: Vec<String> = store
        .clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["rc-0", "rc-1"]);

    // Saving again replaces.
    client
        .redirect_uris
        .push("https://reports.example/cb2".into());
    store.save_client(client).await.unwrap();
    assert_eq!(
        store
            .client("rc-1")
            .await
            .unwrap()
            .unwrap()
            .redirect_uris
            .len(),
        2
    );
    assert_eq!(store.clients().await.unwrap().len(), 2);

    // Marking a client used sets `used_at` once and changes nothing else (a stale copy
    // cannot undo an update), and never brings back a removed client.
    let mut fresh = RegisteredClient::new("rc-2", None).name("New");
    fresh.registered_at = Some(1_700_000_000);
    store.save_client(fresh.clone()).await.unwrap();
    store
        .save_client(fresh.clone().name("Renamed"))
        .await
        .unwrap();
    store.mark_client_used("rc-2", 1_700_000_200).await.unwrap();
    store.mark_client_used("rc-2", 1_700_000_300).await.unwrap();
    let read = store.client("rc-2").await.unwrap().unwrap();
    assert_eq!(
        (read.display_name(), read.used_at),
        ("Renamed", Some(1_700_000_200))
    );
    assert!(store.remove_client("rc-2").await.unwrap());
    store.mark_client_used("rc-2", 1_700_000_400).await.unwrap();
    assert!(store.client("rc-2").await.unwrap().is_none());
    store.mark_client_used("nobody", 1).await.unwrap();

    // Removing revokes the client's tokens, and no one else's.
    let mut theirs = token("rc-at", TokenKind::Access, "rc-family");
    theirs.client_id = "rc-1".into();
    store.save_token(theirs).await.unwrap();
    store
        .save_token(token("other-at", TokenKind::Access, "other-family"))
        .await
        .unwrap();
    assert!(store.remove_client("rc-1").await.unwrap());
    assert!(!store.remove_client("rc-1").await.unwrap());
    assert!(store.client("rc-1").await.unwrap().is_none());
    assert!(
        store
            .token(&TokenHash::of("rc-at"))
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(
        !store
            .token(&TokenHash::of("other-at"))
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
}

/// Generated signing keys: saved, read back, removed.
async fn signing_keys(store: &dyn ServerStore) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    for (kid, created_at) in [("k1", 100), ("k2", 200)] {
        store
            .save_signing_key(SigningKeyRecord {
                kid: kid.into(),
                alg: "ES256".into(),
                sealed_key: format!("sealed-{kid}"),
                created_at,
            })
            .await
            .unwrap();
    }
    let mut keys = store.signing_keys().await.unwrap();
    keys.sort_by_key(|k| k.created_at);
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[1].kid.as_str(), keys[1].alg.as_str()),
        ("k2", "ES256")
    );
    assert_eq!(keys[0].sealed_key, "sealed-k1");
    store.remove_signing_key("k1").await.unwrap();
    let kids: Vec<String> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["k2"]);
}

#[rocket::async_test]
async fn memory_store() {
    conformance(&MemoryServerStore::default()).await;
}

#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn sqlite_store_and_reopen() {
    let path = std::env::temp_dir().join(format!("rocket_oauth-store-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    conformance(&SqliteServerStore::connect(&url).await.unwrap()).await;
    // Reopening migrates nothing twice and keeps the data; nothing is stored in plaintext.
    let reopened = SqliteServerStore::connect(&url).await.unwrap();
    assert!(reopened
        .token(&TokenHash::of("at-1"))
        .await
        .unwrap()
        .is_some());
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("rt-1") && !text.contains("code-1"));
    let _ = std::fs::remove_file(&path);
}

/// PostgreSQL, on the server named by `DATABASE_URL` (`.ci/run` starts one): each run in a
/// database of its own.
#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    use super::*;
    use rocket_oauth::server::PostgresServerStore;

    /// A fresh database on the `DATABASE_URL` server, or `None` (saying so) without one.
    pub(crate) async fn fresh_database() -> Option<String> {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            eprintln!(
                "skipped: the PostgreSQL store tests need DATABASE_URL (a server `.ci/run` starts)"
            );
            return None;
        };
        let admin = sqlx::PgPool::connect(&url)
            .await
            .expect("DATABASE_URL reachable");
        let name = format!(
            "rocket_oauth_test_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&url).unwrap();
        url.set_path(&name);
        Some(url.to_string())
    }

    #[rocket::async_test]
    async fn postgres_store_passes_the_conformance_suite() {
        let Some(url) = fresh_database().await else {
            return;
        };
        conformance(&PostgresServerStore::connect(&url).await.unwrap()).await;
        // Reconnecting migrates nothing twice and keeps the data.
        let again = PostgresServerStore::connect(&url).await.unwrap();
        assert!(again.token(&TokenHash::of("at-1")).await.unwrap().is_some());
    }

    /// Two instances of the app (two stores, two pools, started together) race the same
    /// code and the same refresh token: each is used exactly once.
    #[rocket::async_test]
    async fn two_instances_use_a_code_and_a_refresh_token_once() {
        let Some(url) = fresh_database().await else {
            return;
        };
        let (a, b) = rocket::tokio::join!(
            PostgresServerStore::connect(&url),
            PostgresServerStore::connect(&url)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let code = TokenHash::of("raced-code");
        a.save_code(code.clone(), grant("fr")).await.unwrap();
        b.save_token(token("raced-rt", TokenKind::Refresh, "fr"))
            .await
            .unwrap();
        let rt = TokenHash::of("raced-rt");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (code, rt) = (code.clone(), rt.clone());
            tasks.push(rocket::tokio::spawn(async move {
                (
                    store.use_code(&code).await.unwrap(),
                    store.use_refresh_token(&rt).await.unwrap(),
                )
            }));
        }
        let (mut codes, mut refreshes) = (0, 0);
        for task in tasks {
            let (code, refresh) = task.await.unwrap();
            codes += usize::from(code);
            refreshes += usize::from(refresh);
        }
        assert_eq!((codes, refreshes), (1, 1));
        // A family revoked by one instance is revoked for the other.
        a.revoke_family("fr").await.unwrap();
        assert!(b.family_revoked("fr").await.unwrap());
        assert!(b.token(&rt).await.unwrap().unwrap().revoked);
    }
}

/// Issue 25, item 14: the server purges its store on a schedule (`purge_interval`), whatever
/// the store; here a SQLite database that a second connection watches.
#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn the_server_purges_its_store_on_a_schedule() {
    use crate::common::{base_figment, free_port, launch};

    struct Nobody;

    #[rocket::async_trait]
    impl rocket_oauth::server::ResourceOwner for Nobody {
        async fn current(&self, _request: &rocket::Request<'_>) -> Option<String> {
            None
        }
    }

    let file = std::env::temp_dir().join(format!("rocket_oauth-purge-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite://{}", file.display());
    let watcher = SqliteServerStore::connect(&url).await.unwrap();
    let expired = TokenRecord {
        expires_at: 1,
        ..token("old", TokenKind::Access, "f1")
    };
    watcher.save_token(expired).await.unwrap();
    let expired_code = CodeGrant {
        expires_at: 1,
        ..grant("f2")
    };
    watcher
        .save_code(TokenHash::of("old-code"), expired_code)
        .await
        .unwrap();
    watcher
        .save_token(token("live", TokenKind::Access, "f3"))
        .await
        .unwrap();

    let port = free_port();
    let config = serde_json::json!({
        "issuer": format!("http://127.0.0.1:{port}"),
        "database_url": url,
        "purge_interval": 1,
    });
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth_server", config));
    let _app = launch(
        rocket::custom(figment).attach(rocket_oauth::server::AuthorizationServer::new(Nobody)),
    )
    .await;
    let started = std::time::Instant::now();
    while watcher
        .token(&TokenHash::of("old"))
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the expired token was never purged"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let code = watcher.code(&TokenHash::of("old-code")).await.unwrap();
    assert!(code.is_none(), "the expired code is purged too");
    let live = watcher.token(&TokenHash::of("live")).await.unwrap();
    assert!(live.is_some(), "a live token stays");
    let _ = std::fs::remove_file(&file);
}
