//! OpenID Connect over loopback HTTP against the test provider: ID token validation (each
//! failure a 4xx, the visitor logged out), key rotation, RFC 9207, access control, logout at
//! the provider, and the `oidc_login` example's contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::oidc::{start_op, Alg, AtHash, Behavior, Op};
use crate::common::*;
use rocket::figment::Figment;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Request};
use rocket_oauth::{
    AccessToken, Denial, HasRole, Hooks, Login, Provider, ProviderDefaults, Staff, Superuser, User,
};

#[derive(Default)]
struct Idp {
    after_login_calls: Arc<AtomicUsize>,
}

impl Provider for Idp {
    const NAME: &'static str = "idp";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["email"])
    }
}

#[rocket::async_trait]
impl Hooks for Idp {
    async fn after_login(&self, _login: &Login, _request: &Request<'_>) -> Result<(), Denial> {
        self.after_login_calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[get("/me")]
fn me(token: AccessToken<Idp>) -> Value {
    json!({ "provider": token.provider(), "user": token.userinfo() })
}

#[get("/whoami")]
fn whoami(user: User<Idp>) -> Value {
    json!({ "subject": user.subject, "email": user.verified_email(), "groups": user.groups, "roles": user.roles() })
}

#[get("/staff")]
fn staff(_user: HasRole<Idp, Staff>) -> &'static str {
    "staff"
}

#[get("/root")]
fn root(_user: HasRole<Idp, Superuser>) -> &'static str {
    "root"
}

fn op_config(op: &Op, port: u16) -> Value {
    json!({
        "client_id": "test-client",
        "client_secret": "test-secret",
        "issuer": op.url,
        "redirect_uri": format!("http://127.0.0.1:{port}/auth/idp/callback"),
        "timeout": 3,
    })
}

async fn start(op: &Op, tweak: impl FnOnce(Figment) -> Figment) -> String {
    start_counting(op, tweak).await.0
}

/// Like `start`, also returning the count of `after_login` calls.
async fn start_counting(
    op: &Op,
    tweak: impl FnOnce(Figment) -> Figment,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", op_config(op, port)));
    let rocket = rocket::custom(tweak(figment))
        .attach(
            Idp {
                after_login_calls: calls.clone(),
            }
            .fairing(),
        )
        .mount("/", routes![me, whoami, staff, root]);
    (launch(rocket).await, calls)
}

/// Logs in through the provider; returns the callback's response and the browser.
async fn login(app: &str) -> (reqwest::Response, Browser) {
    let browser = Browser::new();
    let r = browser.get(&format!("{app}/auth/idp/login?next=/me")).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let r = browser.get(&location(&r)).await;
    assert_eq!(r.status(), 303);
    let callback = location(&r);
    (browser.get(&callback).await, browser)
}

#[rocket::async_test]
async fn oidc_login_with_rs256_and_es256() {
    let op = start_op().await;
    let app = start(&op, |f| f).await;
    for alg in [Alg::Rs256, Alg::Es256] {
        op.behave(|b| b.alg = alg);
        let browser = Browser::new();
        let r = browser.get(&format!("{app}/auth/idp/login?next=/me")).await;
        let authorize = location(&r);
        assert_eq!(
            query_param(&authorize, "scope").as_deref(),
            Some("openid email")
        );
        assert!(query_param(&authorize, "nonce").is_some_and(|n| n.len() >= 22));
        let r = browser.get(&authorize).await;
        let r = browser.get(&location(&r)).await;
        assert_eq!(r.status(), 303, "{alg:?}: {:?}", r.text().await);
        // Tokens, ID token, merged claims and identity stay under the browsers' cookie limit.
        let session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("oauth_idp="))
            .expect("session cookie");
        assert!(session.len() < 4096, "{} bytes", session.len());
        let me: Value = browser
            .get(&format!("{app}/me"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["provider"], "idp");
        let user = &me["user"];
        assert_eq!(user["sub"], "user-1");
        assert_eq!(
            user["iss"], op.url,
            "userinfo cannot override ID token claims"
        );
        assert_eq!(user["custom_claim"], "kept");
        assert_eq!(user["groups"], json!(["eng"]), "userinfo merged in");
        let who: Value = browser
            .get(&format!("{app}/whoami"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(who["subject"], "user-1");
        assert_eq!(
            who["email"], "jane@example.com",
            "string boolean email_verified accepted"
        );
    }
    assert_eq!(
        op.state.discovery_calls.load(Ordering::SeqCst),
        1,
        "discovery cached"
    );
    assert_eq!(op.state.jwks_calls.load(Ordering::SeqCst), 1, "JWKS cached");
}

#[rocket::async_test]
async fn every_id_token_failure_is_a_4xx() {
    let op = start_op().await;
    let app = start(&op, |f| f).await;
    type Change = Box<dyn Fn(&mut Behavior)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "bad signature",
            Box::new(|b| b.tamper_signature = true),
            "signature",
        ),
        (
            "bad ES256 signature",
            Box::new(|b| {
                b.alg = Alg::Es256;
                b.tamper_signature = true
            }),
            "signature",
        ),
        ("alg none", Box::new(|b| b.alg = Alg::None), "ID token"),
        (
            "HS256 keyed with the public key",
            Box::new(|b| b.alg = Alg::Hs256WithPublicKey),
            "ID token",
        ),
        (
            "wrong iss",
            Box::new(|b| b.iss = Some("https://evil.example".into())),
            "ID token",
        ),
        (
            "wrong aud",
            Box::new(|b| b.aud = Some(json!("other-client"))),
            "ID token",
        ),
        (
            "several audiences, azp not us",
            Box::new(|b| {
                b.aud = Some(json!(["test-client", "other"]));
                b.azp = Some("other".into())
            }),
            "ID token",
        ),
        (
            "one audience, azp another client",
            Box::new(|b| b.azp = Some("other".into())),
            "azp",
        ),
        ("expired", Box::new(|b| b.exp_offset = -120), "expired"),
        (
            "iat in the future",
            Box::new(|b| b.iat_offset = 600),
            "future",
        ),
        (
            "nonce mismatch",
            Box::new(|b| b.nonce = Some("not-the-nonce".into())),
            "once",
        ),
        (
            "at_hash mismatch",
            Box::new(|b| b.at_hash = AtHash::Wrong),
            "at_hash",
        ),
        (
            "userinfo sub mismatch",
            Box::new(|b| b.userinfo_sub = Some("someone-else".into())),
            "subject",
        ),
        (
            "RFC 9207 iss mismatch",
            Box::new(|b| b.iss_param = Some("https://evil.example".into())),
            "issuer",
        ),
    ];
    for (name, change, expected) in cases {
        *op.state.behavior.lock().unwrap() = Behavior::default();
        op.behave(change);
        let (r, browser) = login(&app).await;
        assert_eq!(r.status(), 400, "{name}");
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "{name}: {body}");
        assert_eq!(
            browser.get(&format!("{app}/me")).await.status(),
            401,
            "{name}"
        );
    }
    // Within the leeway, clock skew is tolerated; a missing at_hash is fine.
    *op.state.behavior.lock().unwrap() = Behavior::default();
    op.behave(|b| {
        b.exp_offset = -30;
        b.iat_offset = 30;
        b.at_hash = AtHash::Absent;
    });
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 303);
}

#[rocket::async_test]
async fn advertised_iss_parameter_is_required() {
    let op = start_op().await;
    op.behave(|b| b.advertise_iss_param = true);
    let app = start(&op, |f| f).await;
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400, "no iss although advertised");
    let issuer = op.url.clone();
    op.behave(|b| b.iss_param = Some(issuer));
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 303);
}

#[rocket::async_test]
async fn key_rotation_is_followed_and_refetches_are_rate_limited() {
    let op = start_op().await;
    let app = start(&op, |f| f).await;
    assert_eq!(login(&app).await.0.status(), 303);
    assert_eq!(op.state.jwks_calls.load(Ordering::SeqCst), 1);

    op.state.rotate();
    assert_eq!(login(&app).await.0.status(), 303, "the new key is fetched");
    assert_eq!(op.state.jwks_calls.load(Ordering::SeqCst), 2);

    // A token naming an unknown key triggers no second refetch within the interval.
    op.behave(|b| b.unknown_kid = true);
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400);
    assert_eq!(op.state.jwks_calls.load(Ordering::SeqCst), 2);
}

#[rocket::async_test]
async fn concurrent_logins_fetch_keys_once() {
    let op = start_op().await;
    let app = start(&op, |f| f).await;
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            async move { login(&app).await }
        })
        .collect();
    for (r, _) in futures_join_all(logins).await {
        assert_eq!(r.status(), 303);
    }
    assert_eq!(
        op.state.jwks_calls.load(Ordering::SeqCst),
        1,
        "single-flight"
    );
    assert_eq!(
        op.state.discovery_calls.load(Ordering::SeqCst),
        1,
        "single-flight"
    );
}

#[rocket::async_test]
async fn multi_tenant_issuer_needs_an_allowed_tenant() {
    let op = start_op().await;
    let template = format!("{}/{{tenantid}}/v2.0", op.url);
    *op.state.issuer.lock().unwrap() = Some(template.clone());
    let tenant_issuer = format!("{}/tenant-a/v2.0", op.url);
    let app = start(&op, |f| {
        f.merge(("oauth.idp.issuer", template.clone()))
            .merge(("oauth.idp.tenants", ["tenant-a"]))
            .merge((
                "oauth.idp.discovery_url",
                format!("{}/.well-known/openid-configuration", op.url),
            ))
    })
    .await;
    // Discovery advertises the template; the token is from an allowed tenant.
    let iss = tenant_issuer.clone();
    op.behave(|b| {
        b.tid = Some("tenant-a".into());
        b.iss = Some(iss);
    });
    assert_eq!(login(&app).await.0.status(), 303);
    // Another tenant, even with a matching iss of its own, is refused.
    let other = format!("{}/tenant-b/v2.0", op.url);
    op.behave(|b| {
        b.tid = Some("tenant-b".into());
        b.iss = Some(other);
    });
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("tenant"));
    // An allowed tid with another tenant's iss is refused too.
    op.behave(|b| {
        b.tid = Some("tenant-a".into());
        b.iss = Some(format!("{}/tenant-b/v2.0", "https://login.example"));
    });
    assert_eq!(login(&app).await.0.status(), 400);
}

#[rocket::async_test]
async fn access_control_matrix() {
    let op = start_op().await;
    let access = json!({
        "policy": "listed",
        "emails": ["boss@gmail.com"],
        "domains": ["example.com"],
        "teams": ["eng"],
        "roles": {
            "staff": {"teams": ["ops"]},
            "superuser": {"emails": ["root@example.org"]}
        }
    });
    let (app, after_login_calls) =
        start_counting(&op, |f| f.merge(("oauth.idp.access", access))).await;
    struct Case {
        email: &'static str,
        verified: Value,
        groups: &'static [&'static str],
        allowed: bool,
        staff: bool,
        root: bool,
    }
    let cases = [
        Case {
            email: "boss@gmail.com",
            verified: json!(true),
            groups: &[],
            allowed: true,
            staff: false,
            root: false,
        },
        Case {
            email: "boss@gmail.com",
            verified: json!(false),
            groups: &[],
            allowed: false,
            staff: false,
            root: false,
        },
        Case {
            email: "jane@example.com",
            verified: json!("true"),
            groups: &[],
            allowed: true,
            staff: false,
            root: false,
        },
        Case {
            email: "jane@example.com",
            verified: json!("false"),
            groups: &[],
            allowed: false,
            staff: false,
            root: false,
        },
        Case {
            email: "x@other.org",
            verified: json!(true),
            groups: &["eng"],
            allowed: true,
            staff: false,
            root: false,
        },
        Case {
            email: "x@other.org",
            verified: json!(true),
            groups: &["ops"],
            allowed: true,
            staff: true,
            root: false,
        },
        Case {
            email: "root@example.org",
            verified: json!(true),
            groups: &[],
            allowed: true,
            staff: false,
            root: true,
        },
        Case {
            email: "x@other.org",
            verified: json!(true),
            groups: &["sales"],
            allowed: false,
            staff: false,
            root: false,
        },
    ];
    for case in cases {
        op.behave(|b| {
            b.email = case.email.into();
            b.email_verified = case.verified.clone();
            b.groups = case.groups.iter().map(|g| g.to_string()).collect();
        });
        let calls_before = after_login_calls.load(Ordering::SeqCst);
        let (r, browser) = login(&app).await;
        let label = format!("{} {} {:?}", case.email, case.verified, case.groups);
        if !case.allowed {
            assert_eq!(r.status(), 403, "{label}");
            assert_eq!(
                after_login_calls.load(Ordering::SeqCst),
                calls_before,
                "{label}: no after_login"
            );
            assert!(r.text().await.unwrap().contains("Access denied"), "{label}");
            assert_eq!(
                browser.get(&format!("{app}/me")).await.status(),
                401,
                "{label}"
            );
            continue;
        }
        assert_eq!(r.status(), 303, "{label}");
        assert_eq!(
            after_login_calls.load(Ordering::SeqCst),
            calls_before + 1,
            "{label}"
        );
        let staff = browser.get(&format!("{app}/staff")).await.status();
        assert_eq!(staff, if case.staff { 200 } else { 403 }, "{label}");
        let root = browser.get(&format!("{app}/root")).await.status();
        assert_eq!(root, if case.root { 200 } else { 403 }, "{label}");
    }
    // Logged out, role guards forward to 401.
    assert_eq!(
        Browser::new().get(&format!("{app}/staff")).await.status(),
        401
    );
}

#[rocket::async_test]
async fn default_policy_lets_everyone_in_and_roles_still_apply() {
    let op = start_op().await;
    let access = json!({ "roles": { "staff": { "domains": ["example.com"] } } });
    let app = start(&op, |f| f.merge(("oauth.idp.access", access))).await;
    op.behave(|b| b.email = "someone@anywhere.net".into());
    let (r, browser) = login(&app).await;
    assert_eq!(r.status(), 303);
    assert_eq!(browser.get(&format!("{app}/staff")).await.status(), 403);
    op.behave(|b| b.email = "jane@example.com".into());
    let (_, browser) = login(&app).await;
    assert_eq!(browser.get(&format!("{app}/staff")).await.status(), 200);
}

#[rocket::async_test]
async fn logout_can_end_the_provider_session() {
    let op = start_op().await;
    let app = start(&op, |f| {
        f.merge(("oauth.idp.provider_logout", true)).merge((
            "oauth.idp.post_logout_redirect_uri",
            "http://127.0.0.1:1/bye",
        ))
    })
    .await;
    let (_, browser) = login(&app).await;
    let r = browser.post(&format!("{app}/auth/idp/logout")).await;
    assert_eq!(r.status(), 303);
    let target = location(&r);
    assert!(
        target.starts_with(&format!("{}/end_session?", op.url)),
        "{target}"
    );
    assert!(query_param(&target, "id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(
        query_param(&target, "client_id").as_deref(),
        Some("test-client")
    );
    assert_eq!(
        query_param(&target, "post_logout_redirect_uri").as_deref(),
        Some("http://127.0.0.1:1/bye")
    );
    assert_eq!(browser.get(&format!("{app}/me")).await.status(), 401);
}

#[rocket::async_test]
async fn unreachable_discovery_is_a_4xx_and_retried() {
    let port = free_port();
    let app_port = free_port();
    let figment = base_figment().merge(("port", app_port)).merge((
        "oauth.idp",
        json!({
            "client_id": "c", "issuer": format!("http://127.0.0.1:{port}"),
            "redirect_uri": format!("http://127.0.0.1:{app_port}/auth/idp/callback"), "timeout": 2,
        }),
    ));
    let app = launch(rocket::custom(figment).attach(Idp::default().fairing())).await;
    let r = Browser::new().get(&format!("{app}/auth/idp/login")).await;
    assert_eq!(r.status(), 502, "not the visitor's fault");
    assert!(r.text().await.unwrap().contains("Provider unavailable"));
}

/// Starts `examples/oidc_login.rs` against `op`.
async fn start_example(op: &Op) -> (crate::common::example::Running, String) {
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let config = format!(
        r#"{header}
[default.oauth.idp]
client_id = "test-client"
client_secret = "test-secret"
issuer = "{issuer}"
redirect_uri = "http://127.0.0.1:{port}/auth/idp/callback"
scopes = ["openid", "email", "profile"]
"#,
        issuer = op.url
    );
    crate::common::example::start("oidc_login", &config, port).await
}

#[rocket::async_test]
async fn oidc_login_example_contract() {
    let op = start_op().await;
    let (_running, url) = start_example(&op).await;
    let browser = Browser::new();
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
    let r = browser.get(&format!("{url}/private")).await;
    assert_eq!(location(&r), "/auth/idp/login?next=/private");
    let (r, visited) = browser.follow(&url, &format!("{url}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    let me: Value = browser
        .get(&format!("{url}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["provider"], "idp");
    assert_eq!(me["user"]["sub"], "user-1");
    assert_eq!(me["user"]["name"], "Jane Doe");
    assert_eq!(me["user"]["groups"], json!(["eng"]));
}

/// Tokens that live 2 seconds: `/me` keeps answering while the browser stays, each refreshed
/// ID token validated (without a nonce, as Keycloak sends them).
#[rocket::async_test]
async fn oidc_login_example_outlives_short_tokens() {
    let op = start_op().await;
    op.behave(|b| b.expires_in = 2);
    let (_running, url) = start_example(&op).await;
    let browser = Browser::new();
    let (r, _) = browser.follow(&url, &format!("{url}/private")).await;
    assert_eq!(r.status(), 200);
    for _ in 0..12 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let r = browser.get(&format!("{url}/me")).await;
        assert_eq!(r.status(), 200);
    }
    let refreshes = op.state.refresh_calls.load(Ordering::SeqCst);
    assert!(
        (2..=12).contains(&refreshes),
        "{refreshes} refreshes: at most one per request"
    );
}

#[rocket::async_test]
async fn nonce_is_required_unless_the_provider_never_sends_one() {
    let op = start_op().await;
    op.behave(|b| b.omit_nonce = true);
    let strict = start(&op, |f| f).await;
    let (r, _) = login(&strict).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no nonce"));

    let lenient = start(&op, |f| f.merge(("oauth.idp.require_nonce", false))).await;
    assert_eq!(login(&lenient).await.0.status(), 303);
    // A nonce that is present must still match.
    op.behave(|b| {
        b.omit_nonce = false;
        b.nonce = Some("someone-elses".into());
    });
    assert_eq!(login(&lenient).await.0.status(), 400);
}

#[rocket::async_test]
async fn issuer_aliases_are_exact_alternatives() {
    let op = start_op().await;
    // A trailing-slash variant of the issuer: a different string, so refused by default.
    let alias = format!("{}/", op.url);
    let iss = alias.clone();
    op.behave(|b| b.iss = Some(iss));
    let strict = start(&op, |f| f).await;
    assert_eq!(login(&strict).await.0.status(), 400);

    let aliased = start(&op, |f| {
        f.merge(("oauth.idp.issuer_aliases", [alias.as_str()]))
    })
    .await;
    let (r, _) = login(&aliased).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    op.behave(|b| b.iss = Some(format!("{alias}evil")));
    assert_eq!(login(&aliased).await.0.status(), 400);
}
