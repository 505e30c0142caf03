//! OpenID Connect over loopback HTTP against the test provider: ID token validation (each
//! failure a 4xx, the visitor logged out), key rotation, RFC 9207, access control, logout at
//! the provider, and the `oidc_login` example's contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;
use rocket::figment::Figment;
use rocket::serde::json::{json, Value};
use rocket::{get, routes, Request};
use rocket_oauth::guards::Superuser;
use rocket_oauth::testing::{
    AtHash, IdTokenFault, MockProvider, MockUser, NonceReply, Script, SigningAlg, CLIENT_ID,
    CLIENT_SECRET,
};
use rocket_oauth::{
    AccessToken, Denial, HasRole, Hooks, Login, Provider, ProviderDefaults, Staff, User,
};

struct Idp;

/// Counts the logins `after_login` sees.
#[derive(Default)]
struct Counting {
    after_login_calls: Arc<AtomicUsize>,
}

impl Provider for Idp {
    const NAME: &'static str = "idp";

    fn defaults() -> ProviderDefaults {
        ProviderDefaults::oidc_from_config().scopes(&["email"])
    }
}

#[rocket::async_trait]
impl Hooks for Counting {
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

/// The OP's user as the ID token and userinfo report her; userinfo alone has `groups`, a
/// `picture`, and an `iss` that must not override the ID token's.
fn person(email: &str, verified: Value, groups: &[&str]) -> MockUser {
    MockUser::new("user-1")
        .claim("email", email)
        .claim("email_verified", verified.clone())
        .name("Jane Doe")
        .claim("custom_claim", "kept")
        .userinfo(json!({
            "sub": "user-1",
            "email": email,
            "email_verified": verified,
            "groups": groups,
            "picture": "https://op.example/jane.png",
            "iss": "https://userinfo-cannot-override.example",
        }))
}

/// Jane, whose `email_verified` is a string boolean (accepted).
fn jane() -> MockUser {
    person("jane@example.com", json!("true"), &["eng"])
}

/// The mock provider with Jane signed in.
fn start_op() -> MockProvider {
    let op = MockProvider::start();
    op.add_user(jane());
    op.set_current_user("user-1");
    reset(&op);
    op
}

/// The default script, with the forgeries' algorithms advertised too: the client must
/// refuse them all the same.
fn reset(op: &MockProvider) {
    op.script(|s| {
        *s = Script::default();
        s.advertised_algorithms = ["RS256", "EdDSA", "ES256K", "HS256", "none"]
            .map(String::from)
            .to_vec();
    });
}

fn op_config(op: &MockProvider, port: u16) -> Value {
    let mut table = op.provider_config::<Idp>(&format!("http://127.0.0.1:{port}"), "/auth/idp");
    table["timeout"] = json!(3);
    table
}

async fn start(op: &MockProvider, tweak: impl FnOnce(Figment) -> Figment) -> String {
    start_counting(op, tweak).await.0
}

/// Like `start`, also returning the count of `after_login` calls.
async fn start_counting(
    op: &MockProvider,
    tweak: impl FnOnce(Figment) -> Figment,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", op_config(op, port)));
    let rocket = rocket::custom(tweak(figment))
        .attach(Idp.fairing().hooks(Counting {
            after_login_calls: calls.clone(),
        }))
        .mount("/", routes![me, whoami, staff, root]);
    (launch(rocket).await, calls)
}

/// Logs in through the provider; returns the callback's response and the browser.
async fn login(app: &str) -> (reqwest::Response, Browser) {
    let browser = Browser::new();
    let r = browser.get(&format!("{app}/auth/idp/login?next=/me")).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let r = browser.get(&location(&r)).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let callback = location(&r);
    (browser.get(&callback).await, browser)
}

#[rocket::async_test]
async fn oidc_login_with_rs256_and_eddsa() {
    let op = start_op();
    let app = start(&op, |f| f).await;
    for alg in [SigningAlg::Rs256, SigningAlg::EdDsa] {
        op.script(|s| s.id_token.alg = alg);
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
            user["iss"],
            op.url(),
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
        op.requests_to("/.well-known/openid-configuration").len(),
        1,
        "discovery cached"
    );
    assert_eq!(op.requests_to("/jwks").len(), 1, "JWKS cached");
}

#[rocket::async_test]
async fn every_id_token_failure_is_a_4xx() {
    let op = start_op();
    let app = start(&op, |f| f).await;
    type Change = Box<dyn Fn(&mut Script)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "bad signature",
            Box::new(|s| s.id_token.fault = Some(IdTokenFault::TamperedSignature)),
            "signature",
        ),
        (
            "bad EdDSA signature",
            Box::new(|s| {
                s.id_token.alg = SigningAlg::EdDsa;
                s.id_token.fault = Some(IdTokenFault::TamperedSignature)
            }),
            "signature",
        ),
        (
            "alg none",
            Box::new(|s| s.id_token.fault = Some(IdTokenFault::AlgNone)),
            "ID token",
        ),
        (
            "HS256 keyed with the public key",
            Box::new(|s| s.id_token.fault = Some(IdTokenFault::Hs256WithPublicKey)),
            "ID token",
        ),
        (
            "wrong iss",
            Box::new(|s| s.id_token.iss = Some("https://evil.example".into())),
            "ID token",
        ),
        (
            "wrong aud",
            Box::new(|s| s.id_token.aud = Some(vec!["other-client".into()])),
            "ID token",
        ),
        (
            "several audiences, azp not us",
            Box::new(|s| {
                s.id_token.aud = Some(vec![CLIENT_ID.into(), "other".into()]);
                s.id_token.azp = Some("other".into())
            }),
            "ID token",
        ),
        (
            "one audience, azp another client",
            Box::new(|s| s.id_token.azp = Some("other".into())),
            "azp",
        ),
        (
            "expired",
            Box::new(|s| s.id_token.exp_offset = -120),
            "expired",
        ),
        (
            "iat in the future",
            Box::new(|s| s.id_token.iat_offset = 600),
            "future",
        ),
        (
            "nonce mismatch",
            Box::new(|s| s.id_token.nonce = NonceReply::Value("not-the-nonce".into())),
            "once",
        ),
        (
            "at_hash mismatch",
            Box::new(|s| s.id_token.at_hash = AtHash::Wrong),
            "at_hash",
        ),
        (
            "userinfo sub mismatch",
            Box::new(|s| s.userinfo_subject = Some("someone-else".into())),
            "subject",
        ),
        (
            "RFC 9207 iss mismatch",
            Box::new(|s| s.authorization_iss = Some("https://evil.example".into())),
            "issuer",
        ),
    ];
    for (name, change, expected) in cases {
        reset(&op);
        op.script(change);
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
    reset(&op);
    op.script(|s| {
        s.id_token.exp_offset = -30;
        s.id_token.iat_offset = 30;
        s.id_token.at_hash = AtHash::Omit;
    });
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 303);
}

#[rocket::async_test]
async fn advertised_iss_parameter_is_required() {
    let op = start_op();
    op.script(|s| s.advertise_iss_parameter = true);
    let app = start(&op, |f| f).await;
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400, "no iss although advertised");
    let issuer = op.url().to_owned();
    op.script(|s| s.authorization_iss = Some(issuer));
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 303);
}

#[rocket::async_test]
async fn key_rotation_is_followed_and_refetches_are_rate_limited() {
    let op = start_op();
    let app = start(&op, |f| f).await;
    assert_eq!(login(&app).await.0.status(), 303);
    assert_eq!(op.requests_to("/jwks").len(), 1);

    op.rotate_keys();
    assert_eq!(login(&app).await.0.status(), 303, "the new key is fetched");
    assert_eq!(op.requests_to("/jwks").len(), 2);

    // A token naming an unknown key triggers no second refetch within the interval.
    op.script(|s| s.id_token.fault = Some(IdTokenFault::UnknownKeyId));
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400);
    assert_eq!(op.requests_to("/jwks").len(), 2);
}

#[rocket::async_test]
async fn concurrent_logins_fetch_keys_once() {
    let op = start_op();
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
    assert_eq!(op.requests_to("/jwks").len(), 1, "single-flight");
    assert_eq!(
        op.requests_to("/.well-known/openid-configuration").len(),
        1,
        "single-flight"
    );
}

#[rocket::async_test]
async fn multi_tenant_issuer_needs_an_allowed_tenant() {
    let op = start_op();
    let template = format!("{}/{{tenantid}}/v2.0", op.url());
    op.script(|s| s.issuer = Some(template.clone()));
    let tenant_issuer = format!("{}/tenant-a/v2.0", op.url());
    let app = start(&op, |f| {
        f.merge(("oauth.idp.issuer", template.clone()))
            .merge(("oauth.idp.tenants", ["tenant-a"]))
            .merge((
                "oauth.idp.discovery_url",
                format!("{}/.well-known/openid-configuration", op.url()),
            ))
    })
    .await;
    // Discovery advertises the template; the token is from an allowed tenant.
    let iss = tenant_issuer.clone();
    op.add_user(jane().claim("tid", "tenant-a"));
    op.script(|s| s.id_token.iss = Some(iss));
    assert_eq!(login(&app).await.0.status(), 303);
    // Another tenant, even with a matching iss of its own, is refused.
    let other = format!("{}/tenant-b/v2.0", op.url());
    op.add_user(jane().claim("tid", "tenant-b"));
    op.script(|s| s.id_token.iss = Some(other));
    let (r, _) = login(&app).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("tenant"));
    // An allowed tid with another tenant's iss is refused too.
    op.add_user(jane().claim("tid", "tenant-a"));
    op.script(|s| s.id_token.iss = Some(format!("{}/tenant-b/v2.0", "https://login.example")));
    assert_eq!(login(&app).await.0.status(), 400);
}

#[rocket::async_test]
async fn access_control_matrix() {
    let op = start_op();
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
        op.add_user(person(case.email, case.verified.clone(), case.groups));
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
    let op = start_op();
    let access = json!({ "roles": { "staff": { "domains": ["example.com"] } } });
    let app = start(&op, |f| f.merge(("oauth.idp.access", access))).await;
    op.add_user(person("someone@anywhere.net", json!("true"), &["eng"]));
    let (r, browser) = login(&app).await;
    assert_eq!(r.status(), 303);
    assert_eq!(browser.get(&format!("{app}/staff")).await.status(), 403);
    op.add_user(jane());
    let (_, browser) = login(&app).await;
    assert_eq!(browser.get(&format!("{app}/staff")).await.status(), 200);
}

#[rocket::async_test]
async fn logout_can_end_the_provider_session() {
    let op = start_op();
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
        target.starts_with(&format!("{}/end_session?", op.url())),
        "{target}"
    );
    assert!(query_param(&target, "id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(
        query_param(&target, "client_id").as_deref(),
        Some(CLIENT_ID)
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
    let app = launch(rocket::custom(figment).attach(Idp.fairing())).await;
    let r = Browser::new().get(&format!("{app}/auth/idp/login")).await;
    assert_eq!(r.status(), 502, "not the visitor's fault");
    assert!(r.text().await.unwrap().contains("Provider unavailable"));
}

/// Starts `examples/oidc_login.rs` against `op`.
async fn start_example(op: &MockProvider) -> (crate::common::example::Running, String) {
    start_example_with(op, "").await
}

/// The example with `extra` configuration after its `[default.oauth.idp]` table's keys.
async fn start_example_with(
    op: &MockProvider,
    extra: &str,
) -> (crate::common::example::Running, String) {
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let config = format!(
        r#"{header}
[default.oauth.idp]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
issuer = "{issuer}"
redirect_uri = "http://127.0.0.1:{port}/auth/idp/callback"
scopes = ["openid", "email", "profile"]
{extra}
"#,
        issuer = op.url()
    );
    crate::common::example::start("oidc_login", &config, port).await
}

#[rocket::async_test]
async fn oidc_login_example_contract() {
    let op = start_op();
    let (_running, url) = start_example(&op).await;
    let browser = Browser::new();
    assert_eq!(browser.get(&format!("{url}/me")).await.status(), 401);
    let r = browser.get(&format!("{url}/private")).await;
    assert_eq!(location(&r), "/auth/idp/login?next=/private");
    let (r, visited) = browser.follow(&format!("{url}/private")).await;
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

/// Issue 27's contract: with `backchannel_logout = true` and a server-side store the example
/// mounts `POST /auth/idp/backchannel-logout`; a valid logout token for the user ends their
/// session in every instance (two sharing Redis when `REDIS_URL` is set, one with the memory
/// store otherwise).
#[rocket::async_test]
async fn oidc_login_example_logs_out_over_the_back_channel() {
    let op = start_op();
    // The example is built with the features under test: Redis only with `redis`.
    let redis_url = std::env::var("REDIS_URL")
        .ok()
        .filter(|_| cfg!(feature = "redis"));
    let store = match &redis_url {
        Some(url) => format!("[default.oauth.session]\nstore = \"redis\"\nurl = \"{url}\""),
        None => {
            eprintln!(
                "two instances skipped: REDIS_URL is not set or the `redis` feature is off; \
                 one with the memory store"
            );
            "[default.oauth.session]\nstore = \"memory\"".to_owned()
        }
    };
    let extra = format!("backchannel_logout = true\n{store}");
    let (_one, one) = start_example_with(&op, &extra).await;
    let redis = redis_url.is_some();
    let second = if redis {
        Some(start_example_with(&op, &extra).await)
    } else {
        None
    };
    let browser = Browser::new();
    let (r, visited) = browser.follow(&format!("{one}/private")).await;
    assert_eq!(r.status(), 200, "{visited:?}");
    let urls: Vec<&str> = std::iter::once(one.as_str())
        .chain(second.as_ref().map(|(_, url)| url.as_str()))
        .collect();
    for url in &urls {
        assert_eq!(browser.get(&format!("{url}/me")).await.status(), 200);
    }
    let token = op.logout_token("user-1");
    let at = format!("{}/auth/idp/backchannel-logout", urls[urls.len() - 1]);
    let (status, body) = token.post_to(&at).await;
    assert_eq!(status, 200, "{body}");
    for url in &urls {
        assert_eq!(
            browser.get(&format!("{url}/me")).await.status(),
            401,
            "{url}"
        );
    }
    let (status, _) = token.forged().post_to(&at).await;
    assert_eq!(status, 400);
}

/// Tokens that live 2 seconds: `/me` keeps answering while the browser stays, each refreshed
/// ID token validated (without a nonce, as Keycloak sends them).
#[rocket::async_test]
async fn oidc_login_example_outlives_short_tokens() {
    let op = start_op();
    op.script(|s| s.expires_in = Some(2));
    let (_running, url) = start_example(&op).await;
    let browser = Browser::new();
    let (r, _) = browser.follow(&format!("{url}/private")).await;
    assert_eq!(r.status(), 200);
    for _ in 0..12 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let r = browser.get(&format!("{url}/me")).await;
        assert_eq!(r.status(), 200);
    }
    let refreshes = op.refresh_requests().len();
    assert!(
        (2..=12).contains(&refreshes),
        "{refreshes} refreshes: at most one per request"
    );
}

#[rocket::async_test]
async fn nonce_is_required_unless_the_provider_never_sends_one() {
    let op = start_op();
    op.script(|s| s.id_token.nonce = NonceReply::Omit);
    let strict = start(&op, |f| f).await;
    let (r, _) = login(&strict).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no nonce"));

    let lenient = start(&op, |f| f.merge(("oauth.idp.require_nonce", false))).await;
    assert_eq!(login(&lenient).await.0.status(), 303);
    // A nonce that is present must still match.
    op.script(|s| s.id_token.nonce = NonceReply::Value("someone-elses".into()));
    assert_eq!(login(&lenient).await.0.status(), 400);
}

#[rocket::async_test]
async fn issuer_aliases_are_exact_alternatives() {
    let op = start_op();
    // A trailing-slash variant of the issuer: a different string, so refused by default.
    let alias = format!("{}/", op.url());
    let iss = alias.clone();
    op.script(|s| s.id_token.iss = Some(iss));
    let strict = start(&op, |f| f).await;
    assert_eq!(login(&strict).await.0.status(), 400);

    let aliased = start(&op, |f| {
        f.merge(("oauth.idp.issuer_aliases", [alias.as_str()]))
    })
    .await;
    let (r, _) = login(&aliased).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    op.script(|s| s.id_token.iss = Some(format!("{alias}evil")));
    assert_eq!(login(&aliased).await.0.status(), 400);
}

#[get("/about")]
async fn about(info: rocket_oauth::guards::ProviderInfo<'_, Idp>) -> Value {
    let e = info.endpoints().await.unwrap();
    let url = |u: Option<url::Url>| u.map(|u| u.to_string());
    json!({
        "scopes": info.config().scopes,
        "issuer": e.issuer,
        "userinfo": url(e.userinfo_url),
        "revocation": url(e.revocation_url),
        "end_session": url(e.end_session_url),
        "jwks": url(e.jwks_url),
    })
}

/// `discover_at_launch`: a wrong issuer stops the launch; a right one is discovered before
/// the first visitor, and routes read the resolved endpoints.
#[rocket::async_test]
async fn discovery_can_be_checked_at_launch_and_read_by_routes() {
    let op = start_op();
    let port = free_port();
    let figment = base_figment()
        .merge(("port", port))
        .merge(("oauth.idp", op_config(&op, port)))
        .merge(("oauth.idp.discover_at_launch", true));
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let wrong = figment
        .clone()
        .merge(("oauth.idp.issuer", nowhere.clone()))
        .merge((
            "oauth.idp.discovery_url",
            format!("{nowhere}/.well-known/openid-configuration"),
        ));
    let error = rocket::custom(wrong)
        .attach(Idp.fairing())
        .ignite()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
        "{error:?}"
    );

    let rocket = rocket::custom(figment)
        .attach(Idp.fairing())
        .mount("/", routes![about]);
    let url = launch(rocket).await;
    let discovery = "/.well-known/openid-configuration";
    assert_eq!(op.requests_to(discovery).len(), 1, "discovered at launch");
    let about = Browser::new().json(&format!("{url}/about")).await;
    let base = op.url();
    assert_eq!(
        about,
        json!({
            "scopes": ["email"],
            "issuer": base,
            "userinfo": format!("{base}/userinfo"),
            "revocation": format!("{base}/revoke"),
            "end_session": format!("{base}/end_session"),
            "jwks": format!("{base}/jwks"),
        })
    );
    assert_eq!(op.requests_to(discovery).len(), 1, "and only then");
}
