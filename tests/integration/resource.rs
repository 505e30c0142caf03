//! The resource server (issue 28), over loopback HTTP: an API guarded by `Bearer<R, S>`
//! accepts the issuer's JWT access tokens and refuses forged, expired, other issuers',
//! other audiences', `alg: none`, HS256-with-the-public-key, key-bound and wrongly typed
//! ones with RFC 6750 answers; introspects opaque tokens (caching positive answers); serves
//! its RFC 9728 metadata; and answers 502/504 when the issuer fails.

use rocket::figment::Figment;
use rocket::http::Method;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_oauth::resource::{Bearer, Resource};
use rocket_oauth::testing::{self, EndpointReply, MockProvider, MockResponse, SignedToken};
use rocket_oauth::ScopeSet;

use crate::common::*;

struct Idp;

impl Resource for Idp {
    const NAME: &'static str = "idp";
}

#[derive(ScopeSet)]
#[scopes("profile")]
struct Profile;

const API: &str = "https://api.example/api";

#[get("/api/me")]
fn me(token: Bearer<Idp, Profile>) -> Value {
    json!({ "sub": token.subject, "scopes": token.scopes, "client": token.client_id })
}

#[get("/api/ping")]
fn ping(_token: Bearer<Idp>) -> &'static str {
    "pong"
}

async fn start(mock: &MockProvider, tweak: impl FnOnce(Figment) -> Figment) -> String {
    let figment = mock
        .configure_resource::<Idp>(testing::figment(), API)
        .merge(("oauth.resource.idp.resource", API))
        .merge(("oauth.resource.idp.scopes", ["profile"]));
    let rocket = rocket::custom(tweak(figment))
        .attach(Idp.fairing())
        .mount("/", routes![me, ping]);
    launch(rocket).await
}

async fn call(url: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(format!("{url}/api/me"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[rocket::async_test]
async fn the_issuers_jwt_access_tokens_are_accepted_and_every_bad_one_refused() {
    let mock = MockProvider::start();
    let url = start(&mock, |f| f).await;
    let metadata =
        "resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/api\"";
    let token = || mock.access_token("alice", API, "profile email");

    let (status, _, body) = call(&url, Some(&token().encode())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["scopes"], json!(["profile", "email"]));
    assert_eq!(body["client"], testing::CLIENT_ID);
    // Untyped JWTs (Auth0, Entra ID, Keycloak) and `typ: JWT` too.
    for typ in [None, Some("JWT")] {
        let (status, _, body) = call(&url, Some(&token().typ(typ).encode())).await;
        assert_eq!(status, 200, "{typ:?}: {body}");
    }

    let (status, challenge, body) = call(&url, None).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.unwrap(), format!("Bearer {metadata}"));
    assert!(
        body.get("error").is_none(),
        "no error code without credentials: {body}"
    );

    let now = unix_now();
    let refused: Vec<(&str, SignedToken)> = vec![
        ("forged", token().forged()),
        ("alg none", token().unsigned()),
        ("HS256 with the public key", token().hs256_with_public_key()),
        ("expired", token().claim("exp", now - 120)),
        ("not yet valid", token().claim("nbf", now + 600)),
        ("no expiry", token().without("exp")),
        (
            "another audience",
            token().claim("aud", "https://other.example"),
        ),
        (
            "another issuer",
            token().claim("iss", "https://evil.example"),
        ),
        ("a logout token", token().typ(Some("logout+jwt"))),
        (
            "an untyped ID token",
            token().typ(None).claim("nonce", "n-1"),
        ),
        (
            "an untyped logout token",
            token().typ(None).claim("events", json!({})),
        ),
        (
            "certificate-bound (mTLS)",
            token().claim("cnf", json!({"x5t#S256": "0ZcOCORZNYy"})),
        ),
    ];
    for (what, token) in refused {
        let (status, challenge, body) = call(&url, Some(&token.encode())).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(
            challenge.as_deref(),
            Some(format!("Bearer error=\"invalid_token\", {metadata}").as_str()),
            "{what}"
        );
        assert_eq!(body["error"], "invalid_token", "{what}");
    }
    dpop_bound_tokens_need_their_proof(&url, &token).await;
    for garbage in ["not-a-jwt", "a.b.c", &"x".repeat(20_000)] {
        let (status, _, _) = call(&url, Some(garbage)).await;
        assert_eq!(status, 401, "{}", &garbage[..garbage.len().min(20)]);
    }

    // A valid token without the route's scope: 403 naming it.
    let (status, challenge, body) = call(
        &url,
        Some(&mock.access_token("alice", API, "email").encode()),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.unwrap(),
        format!("Bearer error=\"insufficient_scope\", scope=\"profile\", {metadata}")
    );
    assert_eq!(body["error"], "insufficient_scope");
    // ... which a route that requires no scope takes.
    let r = reqwest::Client::new()
        .get(format!("{url}/api/ping"))
        .bearer_auth(mock.access_token("alice", API, "").encode())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[rocket::async_test]
async fn the_protected_resource_metadata_names_the_issuer() {
    let mock = MockProvider::start();
    let url = start(&mock, |f| f).await;
    let r = reqwest::get(format!("{url}/.well-known/oauth-protected-resource/api"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let document: Value = r.json().await.unwrap();
    assert_eq!(
        document,
        json!({
            "resource": API,
            "authorization_servers": [mock.issuer()],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["profile"],
        })
    );
}

#[rocket::async_test]
async fn an_issuer_that_fails_is_a_502_or_a_504_never_a_401() {
    let mock = MockProvider::start();
    let url = start(&mock, |f| f.merge(("oauth.resource.idp.timeout", 1))).await;
    let token = mock.access_token("alice", API, "profile").encode();
    mock.script(|s| s.jwks = EndpointReply::ServerError);
    let (status, challenge, body) = call(&url, Some(&token)).await;
    assert_eq!((status, challenge), (502, None), "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    mock.script(|s| s.jwks = EndpointReply::Hang);
    assert_eq!(call(&url, Some(&token)).await.0, 504);
    // When it is back, the same token is accepted.
    mock.script(|s| s.jwks = EndpointReply::Normal);
    assert_eq!(call(&url, Some(&token)).await.0, 200);
}

#[rocket::async_test]
async fn opaque_tokens_are_introspected_and_positive_answers_kept_briefly() {
    let mock = MockProvider::start();
    let issuer = mock.issuer();
    mock.endpoint(Method::Post, "/introspect", move |request| {
        let authenticated = request
            .request()
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic "));
        let token = request.request().form_param("token").unwrap_or_default();
        let now = unix_now();
        match (authenticated, token.as_str()) {
            (false, _) => MockResponse::unauthorized(),
            (true, "good-opaque") => MockResponse::json(json!({
                "active": true, "sub": "bob", "scope": "profile", "client_id": "cli",
                "aud": API, "iss": issuer, "exp": now + 60,
            })),
            (true, "other-audience") => MockResponse::json(json!({
                "active": true, "sub": "bob", "scope": "profile", "aud": "https://other.example",
            })),
            (true, "no-audience") => {
                MockResponse::json(json!({"active": true, "scope": "profile"}))
            }
            // Active, and for this API: but a refresh token, no access token.
            (true, "a-refresh-token") => MockResponse::json(json!({
                "active": true, "sub": "bob", "scope": "profile", "aud": API,
                "token_type": "refresh_token", "exp": now + 60,
            })),
            (true, "garbage") => MockResponse::text("text/html", "<html>"),
            _ => MockResponse::json(json!({"active": false})),
        }
    });
    let introspection = format!("{}/introspect", mock.url());
    let url = start(&mock, |f| {
        f.merge(("oauth.resource.idp.introspection_url", introspection))
            .merge(("oauth.resource.idp.client_id", "api"))
            .merge(("oauth.resource.idp.client_secret", "api-secret"))
    })
    .await;
    let (status, _, body) = call(&url, Some("good-opaque")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "bob");
    // Kept: the second call does not reach the issuer.
    assert_eq!(call(&url, Some("good-opaque")).await.0, 200);
    assert_eq!(mock.requests_to("/introspect").len(), 1);
    for refused in [
        "revoked",
        "other-audience",
        "no-audience",
        "a-refresh-token",
    ] {
        let (status, _, body) = call(&url, Some(refused)).await;
        assert_eq!(status, 401, "{refused}: {body}");
    }
    assert_eq!(call(&url, Some("garbage")).await.0, 502);
    // The JWTs still go to the keys, not to introspection.
    let before = mock.requests_to("/introspect").len();
    let jwt = mock.access_token("alice", API, "profile").encode();
    assert_eq!(call(&url, Some(&jwt)).await.0, 200);
    assert_eq!(mock.requests_to("/introspect").len(), before);
}

#[rocket::async_test]
async fn configuration_errors_fail_at_ignite_and_the_guard_needs_its_fairing() {
    let mock = MockProvider::start();
    let figment = testing::figment().merge(("oauth.resource.idp.issuer", mock.issuer()));
    let error = rocket::custom(figment)
        .attach(Idp.fairing())
        .ignite()
        .await
        .expect_err("no audience");
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
    // A guard without its fairing: the sentinel stops the launch.
    let error = rocket::custom(testing::figment())
        .mount("/", routes![me])
        .ignite()
        .await
        .expect_err("no fairing");
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::SentinelAborts(_)
    ));
}

/// Issue 28's contract of `examples/resource_server.rs`: with `[default.oauth.resource.idp]`
/// `issuer` and `audience`, `GET /api/me` (scope `profile`) answers 200 with the token's
/// `sub` and scopes for a valid token of the issuer, and 401/403 with RFC 6750 errors
/// otherwise.
#[rocket::async_test]
async fn resource_server_example_takes_the_issuers_tokens() {
    let mock = MockProvider::start();
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let config = format!(
        "{header}\n[default.oauth.resource.idp]\nissuer = \"{}\"\naudience = \"{API}\"\n",
        mock.issuer()
    );
    let (_running, url) = crate::common::example::start("resource_server", &config, port).await;
    let (status, _, body) = call(
        &url,
        Some(&mock.access_token("alice", API, "profile").encode()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["sub"].clone(), body["scopes"].clone()),
        (json!("alice"), json!(["profile"]))
    );
    let (status, challenge, _) = call(&url, None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    let other = mock.access_token("alice", "https://other.example", "profile");
    let (status, _, body) = call(&url, Some(&other.encode())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, _, body) = call(
        &url,
        Some(&mock.access_token("alice", API, "email").encode()),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
}

/// A DPoP-bound JWT (`cnf.jkt`): with a proof of its key for this request (the resource
/// identifier's origin, `https://api.example`), accepted once; as a bearer token, with a
/// replayed, stale or wrong proof, or another key's, refused with a DPoP challenge.
async fn dpop_bound_tokens_need_their_proof(url: &str, token: &dyn Fn() -> SignedToken) {
    use crate::common::dpop::{b64, random_id, Key};
    use sha2::{Digest, Sha256};
    let key = Key::new();
    let raw = token()
        .claim("cnf", json!({"jkt": key.thumbprint()}))
        .encode();
    let htu = "https://api.example/api/me";
    let send = |scheme: &'static str, proof: Option<String>| {
        let request = reqwest::Client::new()
            .get(format!("{url}/api/me"))
            .header("Authorization", format!("{scheme} {raw}"));
        let request = match proof {
            Some(proof) => request.header("DPoP", proof),
            None => request,
        };
        async move {
            let r = request.send().await.unwrap();
            let challenge = r
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), challenge.unwrap_or_default())
        }
    };
    let proof = key.proof("GET", htu, Some(&raw));
    assert_eq!(send("DPoP", Some(proof.clone())).await.0, 200);
    let stale = key.proof_with(json!({
        "jti": random_id(), "htm": "GET", "htu": htu, "iat": unix_now() - 600,
        "ath": b64(&Sha256::digest(raw.as_bytes())),
    }));
    let refused = [
        ("as a bearer token", "Bearer", None),
        ("replayed", "DPoP", Some(proof)),
        ("no proof", "DPoP", None),
        (
            "wrong htu",
            "DPoP",
            Some(key.proof("GET", "https://api.example/other", Some(&raw))),
        ),
        (
            "wrong htm",
            "DPoP",
            Some(key.proof("POST", htu, Some(&raw))),
        ),
        ("stale", "DPoP", Some(stale)),
        (
            "another key",
            "DPoP",
            Some(Key::new().proof("GET", htu, Some(&raw))),
        ),
    ];
    for (what, scheme, proof) in refused {
        let (status, challenge) = send(scheme, proof).await;
        assert_eq!(status, 401, "{what}");
        assert!(challenge.starts_with("DPoP "), "{what}: {challenge}");
    }
}
