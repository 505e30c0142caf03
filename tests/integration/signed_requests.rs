//! Incoming 2-legged OAuth 1.0a requests, signed here with an RFC 5849 implementation of the
//! test's own: a good signature passes once; a bad signature, a stale or future timestamp, a
//! replayed nonce and an unknown consumer get 401 with a challenge naming the problem.

use rocket::{get, routes};
use rocket_oauth::oauth1::{RequestVerifier, SignedRequest};

use crate::common::rfc5849::{base_string, enc, hmac_sha1};
use crate::common::*;

#[get("/partner/data?<x>")]
fn data(request: SignedRequest, x: Option<&str>) -> String {
    format!("{} {}", request.consumer_key, x.unwrap_or(""))
}

async fn start() -> String {
    let port = free_port();
    let figment = base_figment().merge(("port", port)).merge((
        "oauth.signed_requests",
        serde_json::json!({
            "base_url": format!("http://127.0.0.1:{port}"),
            "window": 300,
            "realm": "partners",
            "consumers": { "partner": "partner s3cret" },
        }),
    ));
    launch(
        rocket::custom(figment)
            .attach(RequestVerifier::fairing())
            .mount("/", routes![data]),
    )
    .await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The `Authorization` header of `GET {app}/partner/data?x=1&y=a b`, signed with `secret`.
fn header(app: &str, consumer: &str, secret: &str, timestamp: i64, nonce: &str) -> String {
    let mut params: Vec<(String, String)> = [
        ("oauth_consumer_key", consumer),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp.to_string()),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let oauth = params.clone();
    params.push(("x".into(), "1".into()));
    params.push(("y".into(), "a b".into()));
    let base = base_string("GET", &format!("{app}/partner/data"), &params);
    let signature = hmac_sha1(&base, secret, "");
    let mut fields: Vec<String> = oauth
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", enc(v)))
        .collect();
    fields.push(format!("oauth_signature=\"{}\"", enc(&signature)));
    format!("OAuth realm=\"partners\", {}", fields.join(", "))
}

async fn call(app: &str, header: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{app}/partner/data?x=1&y=a%20b"))
        .header("Authorization", header)
        .send()
        .await
        .unwrap()
}

fn problem(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[rocket::async_test]
async fn a_signed_request_passes_once() {
    let app = start().await;
    let signed = header(&app, "partner", "partner s3cret", now(), "nonce-1");
    let r = call(&app, &signed).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "partner 1");
    let replay = call(&app, &signed).await;
    assert_eq!(replay.status(), 401);
    assert!(problem(&replay).contains(r#"oauth_problem="nonce_used""#));
}

#[rocket::async_test]
async fn bad_requests_get_a_challenge_naming_the_problem() {
    let app = start().await;
    let cases = [
        (
            header(&app, "partner", "wrong secret", now(), "n1"),
            "signature_invalid",
        ),
        (
            header(&app, "partner", "partner s3cret", now() - 3600, "n2"),
            "timestamp_refused",
        ),
        (
            header(&app, "partner", "partner s3cret", now() + 3600, "n3"),
            "timestamp_refused",
        ),
        (
            header(&app, "stranger", "partner s3cret", now(), "n4"),
            "consumer_key_unknown",
        ),
        (
            "OAuth oauth_consumer_key=\"partner\"".to_owned(),
            "parameter_absent",
        ),
        ("Bearer abc".to_owned(), "parameter_absent"),
    ];
    for (header, expected) in cases {
        let r = call(&app, &header).await;
        assert_eq!(r.status(), 401, "{expected}");
        let challenge = problem(&r);
        assert!(
            challenge.starts_with(r#"OAuth realm="partners""#),
            "{challenge}"
        );
        assert!(challenge.contains(expected), "{expected}: {challenge}");
    }
    // A tampered query breaks the signature.
    let signed = header(&app, "partner", "partner s3cret", now(), "n5");
    let r = reqwest::Client::new()
        .get(format!("{app}/partner/data?x=2&y=a%20b"))
        .header("Authorization", signed)
        .send()
        .await
        .unwrap();
    assert!(problem(&r).contains("signature_invalid"));
}

/// Issue 25, item 7: a timestamp at either end of `i64` is refused (no overflow, no 500).
#[rocket::async_test]
async fn extreme_timestamps_are_refused_not_a_500() {
    let app = start().await;
    for (timestamp, nonce) in [(i64::MIN, "far-past"), (i64::MAX, "far-future")] {
        let r = call(
            &app,
            &header(&app, "partner", "partner s3cret", timestamp, nonce),
        )
        .await;
        assert_eq!(r.status(), 401, "{timestamp}");
        assert!(problem(&r).contains("timestamp_refused"), "{timestamp}");
    }
    let raw = r#"OAuth oauth_consumer_key="partner", oauth_nonce="n", oauth_signature="x", oauth_signature_method="HMAC-SHA1", oauth_timestamp="-9223372036854775808""#;
    assert_eq!(call(&app, raw).await.status(), 401);
}

/// Issue 25, item 5: a `base_url` with a path (a proxy mapping `…/prefix/…` to this app)
/// keeps it in the signed URL.
#[rocket::async_test]
async fn a_base_url_path_is_part_of_the_signed_url() {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}/prefix");
    let figment = base_figment().merge(("port", port)).merge((
        "oauth.signed_requests",
        serde_json::json!({
            "base_url": public,
            "window": 300,
            "realm": "partners",
            "consumers": { "partner": "partner s3cret" },
        }),
    ));
    let app = launch(
        rocket::custom(figment)
            .attach(RequestVerifier::fairing())
            .mount("/", routes![data]),
    )
    .await;
    // Signed for the address the client uses; the request reaches the app without the prefix.
    let signed = header(&public, "partner", "partner s3cret", now(), "prefixed");
    let r = call(&app, &signed).await;
    assert_eq!(r.status(), 200, "{}", problem(&r));
    // Signed without the prefix, it does not match.
    let unprefixed = header(&app, "partner", "partner s3cret", now(), "unprefixed");
    assert!(problem(&call(&app, &unprefixed).await).contains("signature_invalid"));
}
