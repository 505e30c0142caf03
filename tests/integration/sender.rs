//! Issue 29 at this crate's authorization server (examples/auth_server over loopback):
//! DPoP-bound tokens (RFC 9449), `private_key_jwt` and `client_secret_jwt` client
//! authentication (RFC 7523), pushed authorization requests (RFC 9126) and the FAPI 2.0
//! switch. Proofs and assertions are made here with `p256`, as any client would.

use std::collections::HashMap;

use rocket::serde::json::Value;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::dpop::{b64, random_id, Key};
use crate::common::*;
use crate::server::{start_server_with, Server, REDIRECT};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The server, with a `private_key_jwt` client (`keyed`, of `key`), a `client_secret_jwt`
/// one (`hmac`) and `extra` settings.
async fn start(key: &Key, extra: &str) -> Server {
    let jwk = key.jwk();
    let clients = format!(
        r#"
[[default.oauth_server.clients]]
id = "keyed"
token_endpoint_auth_method = "private_key_jwt"
jwks = {{ keys = [ {{ kty = "EC", crv = "P-256", x = "{x}", y = "{y}" }} ] }}
redirect_uris = ["{REDIRECT}"]
scopes = ["profile"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]

[[default.oauth_server.clients]]
id = "hmac"
secret = "a shared secret of at least 32 bytes"
token_endpoint_auth_method = "client_secret_jwt"
scopes = ["profile"]
grant_types = ["client_credentials"]
"#,
        x = jwk["x"].as_str().unwrap(),
        y = jwk["y"].as_str().unwrap(),
    );
    // The clients' tables go after the server's own keys.
    start_server_with(3600, free_port(), &format!("{extra}\n{clients}")).await
}

impl Server {
    fn token_endpoint(&self) -> String {
        self.metadata["token_endpoint"].as_str().unwrap().to_owned()
    }

    fn par_endpoint(&self) -> String {
        self.metadata["pushed_authorization_request_endpoint"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// POSTs `form` to the token endpoint with `dpop` (a proof) if given.
    async fn post_token(&self, form: &[(&str, &str)], dpop: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(self.token_endpoint())
            .form(form);
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        request.send().await.unwrap()
    }

    /// `GET /api/me` presenting `token` under `scheme` with `proof`.
    async fn me(&self, scheme: &str, token: &str, proof: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .get(format!("{}/api/me", self.url))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        request.send().await.unwrap()
    }
}

async fn json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A public client's code flow with a DPoP proof at the token endpoint: the tokens are bound.
async fn dpop_tokens(server: &Server, key: &Key) -> Value {
    let client = server.client("public", None);
    let (code, verifier) = server.code(&client, &["profile"]).await;
    let proof = key.proof("POST", &server.token_endpoint(), None);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "public"),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[rocket::async_test]
async fn dpop_bound_tokens_need_their_proof_at_the_api() {
    let key = Key::new();
    let server = start(&key, "").await;
    let tokens = dpop_tokens(&server, &key).await;
    assert_eq!(tokens["token_type"], "DPoP");
    let token = tokens["access_token"].as_str().unwrap();
    let me = format!("{}/api/me", server.url);

    // The same token as a plain bearer token is refused, with a DPoP challenge.
    let r = server.me("Bearer", token, None).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(challenge.contains("algs=\"ES256"), "{challenge}");

    // With its proof it works, once.
    let proof = key.proof("GET", &me, Some(token));
    let r = server.me("DPoP", token, Some(&proof)).await;
    assert_eq!(r.status(), 200);
    let (status, body) = json(server.me("DPoP", token, Some(&proof)).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_dpop_proof")),
        "a replayed proof"
    );

    // Wrong method, URL, time, token hash, key; no proof at all.
    let stale = key.proof_with(json!({
        "jti": random_id(), "htm": "GET", "htu": me, "iat": unix_now() - 600,
        "ath": b64(&Sha256::digest(token.as_bytes())),
    }));
    let refused = [
        ("wrong htm", Some(key.proof("POST", &me, Some(token)))),
        (
            "wrong htu",
            Some(key.proof("GET", &format!("{}/api/other", server.url), Some(token))),
        ),
        ("stale iat", Some(stale)),
        ("no ath", Some(key.proof("GET", &me, None))),
        (
            "another token's ath",
            Some(key.proof("GET", &me, Some("another token"))),
        ),
        (
            "another key",
            Some(Key::new().proof("GET", &me, Some(token))),
        ),
        ("no proof", None),
    ];
    for (what, proof) in refused {
        let r = server.me("DPoP", token, proof.as_deref()).await;
        assert_eq!(r.status(), 401, "{what}");
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("DPoP "),
            "{what}"
        );
    }
    // A proof for the right request after all those: still accepted.
    let proof = key.proof("GET", &me, Some(token));
    assert_eq!(server.me("DPoP", token, Some(&proof)).await.status(), 200);

    // Introspection says what it is bound to.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/introspect", server.url))
        .basic_auth("api", Some("api-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["token_type"], "DPoP");
    assert_eq!(answer["cnf"]["jkt"], key.thumbprint());
}

#[rocket::async_test]
async fn a_public_clients_bound_refresh_token_needs_the_same_key() {
    let key = Key::new();
    let server = start(&key, "").await;
    let tokens = dpop_tokens(&server, &key).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", "public"),
    ];
    let (status, body) = json(server.post_token(&form, None).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{body}"
    );
    let other = Key::new().proof("POST", &server.token_endpoint(), None);
    let (status, _) = json(server.post_token(&form, Some(&other)).await).await;
    assert_eq!(status, 400, "another key's proof");
    // Neither attempt spent it.
    let proof = key.proof("POST", &server.token_endpoint(), None);
    let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
}

#[rocket::async_test]
async fn bad_proofs_at_the_token_endpoint_are_refused_without_spending_the_code() {
    let key = Key::new();
    let server = start(&key, "").await;
    let client = server.client("public", None);
    let (code, verifier) = server.code(&client, &["profile"]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "public"),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let endpoint = server.token_endpoint();
    let mut typed_jwt = key.proof("POST", &endpoint, None);
    typed_jwt = typed_jwt.replacen(
        &typed_jwt[..typed_jwt.find('.').unwrap()],
        &b64(json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk()})
            .to_string()
            .as_bytes()),
        1,
    );
    let refused = [
        (
            "wrong htu",
            key.proof("POST", &format!("{}/oauth/other", server.url), None),
        ),
        ("wrong htm", key.proof("GET", &endpoint, None)),
        ("not a proof's type", typed_jwt),
        ("garbage", "a.b.c".to_owned()),
    ];
    for (what, proof) in refused {
        let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{what}"
        );
    }
    let proof = key.proof("POST", &endpoint, None);
    let (status, _) = json(server.post_token(&form, Some(&proof)).await).await;
    assert_eq!(status, 200);
}

#[rocket::async_test]
async fn server_nonces_are_asked_for_and_followed() {
    let key = Key::new();
    let server = start(&key, "dpop_nonces = true").await;
    let assertion = key.assertion("keyed", &server.url);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    let proof = key.proof("POST", &server.token_endpoint(), None);
    let r = server.post_token(&form, Some(&proof)).await;
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let (status, body) = json(r).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let proof = key.proof_with(json!({
        "jti": random_id(), "htm": "POST", "htu": server.token_endpoint(),
        "iat": unix_now(), "nonce": nonce,
    }));
    // The proof is checked first: the same assertion is still unspent.
    let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");

    // The API asks for a nonce the same way (RFC 9449 §9: 401, `use_dpop_nonce` in the
    // challenge, a `DPoP-Nonce` header), and takes the proof that has it.
    let token = body["access_token"].as_str().unwrap();
    let me = format!("{}/api/me", server.url);
    let r = server
        .me("DPoP", token, Some(&key.proof("GET", &me, Some(token))))
        .await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let proof = key.proof_with(json!({
        "jti": random_id(), "htm": "GET", "htu": me, "iat": unix_now(), "nonce": nonce,
        "ath": b64(&Sha256::digest(token.as_bytes())),
    }));
    let (status, body) = json(server.me("DPoP", token, Some(&proof)).await).await;
    assert_eq!(status, 200, "{body}");

    // And so does userinfo, for a bound token granted `openid`.
    let client = server.client("oidc", Some("oidc-secret"));
    let (code, verifier) = server.code(&client, &["openid"]).await;
    let proof = key.proof_with(json!({
        "jti": random_id(), "htm": "POST", "htu": server.token_endpoint(),
        "iat": unix_now(), "nonce": nonce,
    }));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "oidc"),
        ("client_secret", "oidc-secret"),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let userinfo = server.metadata["userinfo_endpoint"].as_str().unwrap();
    let get = |proof: String| {
        reqwest::Client::new()
            .get(userinfo)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof)
            .send()
    };
    let r = get(key.proof("GET", userinfo, Some(token))).await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let proof = key.proof_with(json!({
        "jti": random_id(), "htm": "GET", "htu": userinfo, "iat": unix_now(), "nonce": nonce,
        "ath": b64(&Sha256::digest(token.as_bytes())),
    }));
    let (status, body) = json(get(proof).await.unwrap()).await;
    assert_eq!(
        (status, body["sub"].as_str()),
        (200, Some("alice")),
        "{body}"
    );
}

/// `client_credentials` for `keyed` with `assertion`.
async fn with_assertion(server: &Server, assertion: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    json(server.post_token(&form, None).await).await
}

#[rocket::async_test]
async fn private_key_jwt_authenticates_each_assertion_once() {
    let key = Key::new();
    let server = start(&key, "").await;
    let assertion = key.assertion("keyed", &server.url);
    let (status, body) = with_assertion(&server, &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let (status, body) = with_assertion(&server, &assertion).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "a replay"
    );
    // The token endpoint's URL is an audience too.
    let (status, _) =
        with_assertion(&server, &key.assertion("keyed", &server.token_endpoint())).await;
    assert_eq!(status, 200);

    let now = unix_now();
    let claims = |change: &dyn Fn(&mut Value)| {
        let mut claims = json!({
            "iss": "keyed", "sub": "keyed", "aud": server.url, "jti": random_id(),
            "iat": now, "exp": now + 60,
        });
        change(&mut claims);
        claims
    };
    let refused: [(&str, String); 7] = [
        (
            "another audience",
            key.assertion_with(claims(&|c| c["aud"] = json!("https://elsewhere.example"))),
        ),
        (
            "expired",
            key.assertion_with(claims(&|c| c["exp"] = json!(now - 120))),
        ),
        (
            "no expiry",
            key.assertion_with(claims(&|c| drop(c.as_object_mut().unwrap().remove("exp")))),
        ),
        (
            "an hour long",
            key.assertion_with(claims(&|c| c["exp"] = json!(now + 3600))),
        ),
        (
            "no jti",
            key.assertion_with(claims(&|c| drop(c.as_object_mut().unwrap().remove("jti")))),
        ),
        (
            "another issuer",
            key.assertion_with(claims(&|c| c["iss"] = json!("public"))),
        ),
        ("another key", Key::new().assertion("keyed", &server.url)),
    ];
    for (what, assertion) in refused {
        let (status, body) = with_assertion(&server, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{what}"
        );
    }
    // A private_key_jwt client is authenticated by nothing else: not its bare id (as a
    // public client would be), not a secret.
    for form in [
        vec![("grant_type", "client_credentials"), ("client_id", "keyed")],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "keyed"),
            ("client_secret", ""),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "keyed"),
            ("client_secret", "x"),
        ],
    ] {
        let (status, body) = json(server.post_token(&form, None).await).await;
        assert_eq!(status, 401, "{form:?}: {body}");
    }
    // The wrong assertion type, or two methods at once.
    let assertion = key.assertion("keyed", &server.url);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:other"),
        ("client_assertion", assertion.as_str()),
    ];
    let (status, _) = json(server.post_token(&form, None).await).await;
    assert_eq!(status, 400);
    let r = reqwest::Client::new()
        .post(server.token_endpoint())
        .basic_auth("keyed", Some("x"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[rocket::async_test]
async fn client_secret_jwt_is_an_hs256_assertion_made_with_the_secret() {
    use hmac::Mac;
    let key = Key::new();
    let server = start(&key, "").await;
    let sign = |secret: &str, claims: Value| {
        let input = format!(
            "{}.{}",
            b64(json!({"alg": "HS256"}).to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    };
    let claims = || {
        json!({
            "iss": "hmac", "sub": "hmac", "aud": server.token_endpoint(), "jti": random_id(),
            "exp": unix_now() + 60,
        })
    };
    let form = |assertion: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            ("client_assertion".into(), assertion.to_owned()),
        ]
    };
    let post = |assertion: String| {
        let form = form(&assertion);
        let endpoint = server.token_endpoint();
        async move {
            let r = reqwest::Client::new()
                .post(endpoint)
                .form(&form)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(
        post(sign("a shared secret of at least 32 bytes", claims())).await,
        200
    );
    assert_eq!(post(sign("another secret", claims())).await, 401);
    // Its secret alone no longer authenticates it.
    let r = reqwest::Client::new()
        .post(server.token_endpoint())
        .basic_auth("hmac", Some("a shared secret of at least 32 bytes"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Pushes an authorization request for the `confidential` client; its `request_uri`.
async fn push(server: &Server, challenge: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    push_proven(server, challenge, extra, None).await
}

/// [`push`], with a DPoP proof if given.
async fn push_proven(
    server: &Server,
    challenge: &str,
    extra: &[(&str, &str)],
    dpop: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "profile"),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("client_id", "confidential"),
        ("client_secret", "s3cret+/:$"),
    ];
    form.extend_from_slice(extra);
    let mut request = reqwest::Client::new()
        .post(server.par_endpoint())
        .form(&form);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    json(request.send().await.unwrap()).await
}

#[rocket::async_test]
async fn pushed_authorization_requests_are_used_once() {
    let key = Key::new();
    let server = start(&key, "require_pushed_authorization_requests = true").await;
    assert_eq!(
        server.metadata["require_pushed_authorization_requests"],
        true
    );
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let browser = server.signed_in("alice").await;

    // Not pushed: refused, at the client's redirect URI.
    let direct = format!(
        "{}/oauth/authorize?response_type=code&client_id=confidential&state=s&code_challenge={}&code_challenge_method=S256",
        server.url,
        challenge.as_str()
    );
    let r = browser.get(&direct).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );

    let (status, pushed) = push(&server, challenge.as_str(), &[]).await;
    assert_eq!(status, 201, "{pushed}");
    assert!(pushed["expires_in"].as_i64().unwrap() > 0);
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let authorize = format!(
        "{}/oauth/authorize?client_id=confidential&request_uri={}",
        server.url,
        urlencode(request_uri)
    );
    // Another client cannot use it; a changed one is unknown.
    for bad in [
        authorize.replace("client_id=confidential", "client_id=public"),
        authorize.replace("request_uri=urn", "request_uri=urx"),
        format!("{authorize}AA"),
    ] {
        assert_eq!(browser.get(&bad).await.status(), 400, "{bad}");
    }
    let r = browser.get(&authorize).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let query: HashMap<String, String> = {
        let r = submit_consent(&browser, &server.url, &page, "Accept").await;
        assert_eq!(r.status(), 303);
        url::Url::parse(&location(&r))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    };
    assert_eq!(query.get("state").map(String::as_str), Some("xyz"));
    // The same consent form again: the request was answered already.
    let r = submit_consent(&browser, &server.url, &page, "Accept").await;
    assert_eq!(r.status(), 400);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "confidential"),
        ("client_secret", "s3cret+/:$"),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let (status, body) = json(server.post_token(&form, None).await).await;
    assert_eq!(status, 200, "{body}");

    // A pushed request is checked as authorize would: an unknown redirect URI, a nested
    // request_uri.
    let (status, body) = push(
        &server,
        challenge.as_str(),
        &[("redirect_uri", "https://evil.example/cb")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = push(&server, challenge.as_str(), &[("request_uri", request_uri)]).await;
    assert_eq!(status, 400);
}

#[rocket::async_test]
async fn the_fapi2_switch_refuses_configuration_it_forbids() {
    let config = serde_json::json!({
        "issuer": "http://127.0.0.1:1",
        "fapi2": true,
        "clients": [{"id": "c", "secret": "s3cret", "redirect_uris": ["http://127.0.0.1/cb"]}],
    });
    let rocket = rocket::custom(base_figment().merge(("oauth_server", config))).attach(
        rocket_oauth::server::AuthorizationServer::new(crate::server::NoOwner),
    );
    let failed = |e: rocket::Error| matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_));
    assert!(
        failed(rocket.ignite().await.unwrap_err()),
        "a secret client under fapi2"
    );
    for bad in [json!({"allow_plain_pkce": true}), json!({"code_ttl": 600})] {
        let mut config = json!({"issuer": "http://127.0.0.1:1", "fapi2": true});
        config
            .as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let rocket = rocket::custom(base_figment().merge(("oauth_server", config))).attach(
            rocket_oauth::server::AuthorizationServer::new(crate::server::NoOwner),
        );
        assert!(failed(rocket.ignite().await.unwrap_err()), "{bad}");
    }
}

/// FAPI 2.0: a `private_key_jwt` client pushes its request, signs in the user, gets
/// DPoP-bound tokens and calls the API; every shortcut is refused.
#[rocket::async_test]
async fn a_fapi2_server_takes_pushed_requests_keys_and_proofs_only() {
    let key = Key::new();
    let jwk = key.jwk();
    let port = free_port();
    let header = crate::common::example::rocket_toml_header(port);
    let config = format!(
        r#"{header}
[default.oauth_server]
issuer = "http://127.0.0.1:{port}"
fapi2 = true
[default.oauth_server.scopes]
profile = "Read your profile"
[[default.oauth_server.clients]]
id = "bank"
token_endpoint_auth_method = "private_key_jwt"
jwks = {{ keys = [ {{ kty = "EC", crv = "P-256", x = "{x}", y = "{y}" }} ] }}
redirect_uris = ["{REDIRECT}"]
scopes = ["profile"]
"#,
        x = jwk["x"].as_str().unwrap(),
        y = jwk["y"].as_str().unwrap(),
    );
    let (_running, url) = crate::common::example::start("auth_server", &config, port).await;
    let metadata: Value = reqwest::get(format!("{url}/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    let par = metadata["pushed_authorization_request_endpoint"]
        .as_str()
        .unwrap();
    let token_endpoint = metadata["token_endpoint"].as_str().unwrap();
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let assertion = key.assertion("bank", &url);
    let r = reqwest::Client::new()
        .post(par)
        .form(&[
            ("client_id", "bank"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "profile"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, pushed) = json(r).await;
    assert_eq!(status, 201, "{pushed}");
    let browser = Browser::new();
    let r = browser
        .client()
        .post(format!("{url}/login"))
        .form(&[("username", "alice"), ("password", "x"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let authorize = format!(
        "{url}/oauth/authorize?client_id=bank&request_uri={}",
        urlencode(pushed["request_uri"].as_str().unwrap())
    );
    let page = browser.get(&authorize).await.text().await.unwrap();
    let r = submit_consent(&browser, &url, &page, "Accept").await;
    let to = location(&r);
    let code = query_param(&to, "code").expect(&to);
    assert_eq!(query_param(&to, "iss").as_deref(), Some(url.as_str()));

    let form = |assertion: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".into(), code.clone()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("code_verifier".into(), verifier.secret().clone()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            ("client_assertion".into(), assertion.to_owned()),
        ]
    };
    // Without a proof: refused (and the code is not spent).
    let r = reqwest::Client::new()
        .post(token_endpoint)
        .form(&form(&key.assertion("bank", &url)))
        .send()
        .await
        .unwrap();
    let (status, body) = json(r).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let r = reqwest::Client::new()
        .post(token_endpoint)
        .header("DPoP", key.proof("POST", token_endpoint, None))
        .form(&form(&key.assertion("bank", &url)))
        .send()
        .await
        .unwrap();
    let (status, tokens) = json(r).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let token = tokens["access_token"].as_str().unwrap();
    let me = format!("{url}/api/me");
    let r = reqwest::Client::new()
        .get(&me)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", key.proof("GET", &me, Some(token)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::Client::new()
        .get(&me)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a bound token as a bearer token");

    // Not pushed: refused (a page: nothing of an unpushed request is trusted).
    let direct = format!(
        "{url}/oauth/authorize?response_type=code&client_id=bank&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        urlencode(REDIRECT),
        challenge.as_str()
    );
    let r = browser.get(&direct).await;
    assert!(
        r.status() == 303
            && query_param(&location(&r), "error").as_deref() == Some("invalid_request"),
        "{}",
        r.status()
    );
}

/// RFC 9449 §10: a code bound to a DPoP key, by `dpop_jkt` at `authorize` or by the proof on
/// its pushed request, is redeemed only with a proof of that key: without one, or with
/// another key's, it is refused and stays unspent. A pushed request whose `dpop_jkt` names
/// another key than its proof's is refused.
#[rocket::async_test]
async fn codes_bound_to_a_dpop_key_need_a_proof_of_it() {
    let key = Key::new();
    let thief = Key::new();
    let server = start(&key, "").await;
    let browser = server.signed_in("alice").await;
    let redeem = |code: String, verifier: String| {
        let server = &server;
        let (key, thief) = (&key, &thief);
        async move {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("client_id", "confidential"),
                ("client_secret", "s3cret+/:$"),
                ("code_verifier", verifier.as_str()),
            ];
            let endpoint = server.token_endpoint();
            for proof in [None, Some(thief.proof("POST", &endpoint, None))] {
                let (status, body) = json(server.post_token(&form, proof.as_deref()).await).await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (400, Some("invalid_grant")),
                    "{body}"
                );
            }
            let proof = key.proof("POST", &endpoint, None);
            let (status, body) = json(server.post_token(&form, Some(&proof)).await).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["token_type"], "DPoP");
        }
    };

    // `dpop_jkt` at authorize.
    let client = server.client("confidential", Some("s3cret+/:$"));
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let (url, _) = client
        .authorize_url(oauth2::CsrfToken::new_random)
        .add_scope(oauth2::Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .add_extra_param("dpop_jkt", key.thumbprint())
        .url();
    let query = server.consent(&browser, url.as_str(), "Accept").await;
    redeem(query["code"].clone(), verifier.secret().clone()).await;

    // A malformed `dpop_jkt` is refused at the client's redirect URI.
    let (url, _) = client
        .authorize_url(oauth2::CsrfToken::new_random)
        .add_extra_param("dpop_jkt", "not a thumbprint")
        .url();
    let r = browser.get(url.as_str()).await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );

    // The proof on the pushed request binds the code.
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let proof = key.proof("POST", &server.par_endpoint(), None);
    let (status, pushed) = push_proven(&server, challenge.as_str(), &[], Some(&proof)).await;
    assert_eq!(status, 201, "{pushed}");
    let authorize = format!(
        "{}/oauth/authorize?client_id=confidential&request_uri={}",
        server.url,
        urlencode(pushed["request_uri"].as_str().unwrap())
    );
    let query = server.consent(&browser, &authorize, "Accept").await;
    redeem(query["code"].clone(), verifier.secret().clone()).await;

    // A pushed `dpop_jkt` of another key than the proof's; a proof for another endpoint.
    let jkt = thief.thumbprint();
    let proof = key.proof("POST", &server.par_endpoint(), None);
    let (status, body) = push_proven(
        &server,
        challenge.as_str(),
        &[("dpop_jkt", &jkt)],
        Some(&proof),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{body}"
    );
    let proof = key.proof("POST", &server.token_endpoint(), None);
    let (status, body) = push_proven(&server, challenge.as_str(), &[], Some(&proof)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{body}"
    );
}
