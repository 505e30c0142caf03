//! One conformance suite for every `SessionStore`: memory, and Redis when `REDIS_URL` names
//! a server (otherwise that test says it skipped).

use std::time::Duration;

use rocket_oauth::session::{MemorySessionStore, SessionRecord, SessionStore};

fn record(user: Option<&str>, data: &str) -> SessionRecord {
    SessionRecord {
        user: user.map(str::to_owned),
        expires_at: now() + 3600,
        data: data.into(),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A key unique to this run, so that suites sharing one Redis do not collide.
fn unique(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), run_nonce())
}

fn run_nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64
}

async fn conformance(store: &dyn SessionStore) {
    // Save, load, replace.
    let id = unique("s");
    assert_eq!(store.load(&id).await.unwrap(), None);
    let first = record(Some("idp:alice"), r#"{"v":1}"#);
    store.save(&id, &first).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), Some(first));
    let second = record(Some("idp:alice"), r#"{"v":2}"#);
    store.save(&id, &second).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), Some(second));

    // Update replaces a live record only.
    let third = record(Some("idp:alice"), r#"{"v":3}"#);
    assert!(store.update(&id, &third).await.unwrap());
    assert_eq!(store.load(&id).await.unwrap(), Some(third.clone()));

    // Delete; an ended id stays dead (an update does not bring it back).
    store.delete(&id).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), None);
    store.delete(&id).await.unwrap();
    assert!(!store.update(&id, &third).await.unwrap());
    assert_eq!(store.load(&id).await.unwrap(), None);

    // Expired records are not loaded.
    let old = unique("old");
    let mut expired = record(None, "{}");
    expired.expires_at = now() - 1;
    store.save(&old, &expired).await.unwrap();
    assert_eq!(store.load(&old).await.unwrap(), None);
    assert!(
        !store.update(&old, &record(None, "{}")).await.unwrap(),
        "expired"
    );

    // Every session of one user ends; others stay.
    let user = unique("idp:bob");
    let (a, b, other) = (unique("a"), unique("b"), unique("c"));
    store.save(&a, &record(Some(&user), "{}")).await.unwrap();
    store.save(&b, &record(Some(&user), "{}")).await.unwrap();
    store
        .save(&other, &record(Some("idp:carol"), "{}"))
        .await
        .unwrap();
    // A user's live sessions are listed (a back-channel logout picks some of them).
    let mut listed = store.user_sessions(&user).await.unwrap();
    listed.sort_by(|x, y| x.0.cmp(&y.0));
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(
        listed.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(listed[0].1.user.as_deref(), Some(user.as_str()));
    store.delete(&a).await.unwrap();
    assert_eq!(store.user_sessions(&user).await.unwrap().len(), 1);
    store.save(&a, &record(Some(&user), "{}")).await.unwrap();
    assert_eq!(store.delete_user(&user).await.unwrap(), 2);
    assert!(store.user_sessions(&user).await.unwrap().is_empty());
    assert_eq!(store.load(&a).await.unwrap(), None);
    assert_eq!(store.load(&b).await.unwrap(), None);
    assert!(store.load(&other).await.unwrap().is_some());
    assert_eq!(store.delete_user(&user).await.unwrap(), 0);
    assert!(!store.update(&a, &record(Some(&user), "{}")).await.unwrap());
    assert_eq!(store.load(&a).await.unwrap(), None);

    // One lock holder at a time, until unlocked or expired.
    let lock = unique("lock");
    let ttl = Duration::from_millis(300);
    assert!(store.try_lock(&lock, ttl).await.unwrap());
    assert!(!store.try_lock(&lock, ttl).await.unwrap());
    store.unlock(&lock).await.unwrap();
    assert!(store.try_lock(&lock, ttl).await.unwrap());
    rocket::tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(store.try_lock(&lock, ttl).await.unwrap(), "locks expire");
}

#[rocket::async_test]
async fn memory_session_store() {
    conformance(&MemorySessionStore::default()).await;
}

#[rocket::async_test]
async fn memory_session_store_is_bounded() {
    let store = MemorySessionStore::with_capacity(2);
    for id in ["a", "b", "c"] {
        store.save(id, &record(None, "{}")).await.unwrap();
    }
    let mut kept = 0;
    for id in ["a", "b", "c"] {
        kept += usize::from(store.load(id).await.unwrap().is_some());
    }
    assert_eq!(kept, 2);
    assert!(
        store.load("c").await.unwrap().is_some(),
        "the newest is kept"
    );
}

#[cfg(feature = "redis")]
#[rocket::async_test]
async fn redis_session_store() {
    let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        println!("skipped redis_session_store: REDIS_URL is not set");
        return;
    };
    let store = rocket_oauth::session::RedisSessionStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(format!("conformance-{}:", std::process::id()));
    conformance(&store).await;
}
