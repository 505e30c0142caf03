//! A minimal, stateless OAuth 2 / OpenID Connect provider for the load benchmark: the code
//! carries the nonce (so the token endpoint needs no memory), tokens are counters, ID tokens
//! are ES256 (signed by jsonwebtoken). hyper, one connection task each: it must never be the
//! bottleneck (the driver measures its own rate).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use p256::pkcs8::DecodePrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The client every app is registered as.
pub const CLIENT_ID: &str = "bench-client";
pub const CLIENT_SECRET: &str = "bench-secret";

/// The signing key (the crate's test key).
const KEY_PEM: &str = include_str!("../../../tests/keys/ec1.pem");

struct Mock {
    issuer: String,
    key: jsonwebtoken::EncodingKey,
    jwks: String,
    discovery: String,
    tokens: AtomicU64,
}

/// Starts the provider on a loopback port of its own runtime (one worker thread); returns
/// its base URL.
pub fn start() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr: SocketAddr = listener.local_addr().expect("its address");
    let issuer = format!("http://{addr}");
    let signing = p256::ecdsa::SigningKey::from_pkcs8_pem(KEY_PEM).expect("the EC key");
    let point = signing.verifying_key().to_sec1_point(false);
    let coordinate = |c: Option<&[u8]>| URL_SAFE_NO_PAD.encode(c.unwrap_or_default());
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "bench",
        "x": coordinate(point.x().map(|x| x.as_slice())),
        "y": coordinate(point.y().map(|y| y.as_slice())),
    }]});
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    });
    let mock = Arc::new(Mock {
        issuer: issuer.clone(),
        key: jsonwebtoken::EncodingKey::from_ec_pem(KEY_PEM.as_bytes()).expect("the EC key"),
        jwks: jwks.to_string(),
        discovery: discovery.to_string(),
        tokens: AtomicU64::new(0),
    });
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(serve(listener, mock));
    });
    issuer
}

async fn serve(listener: std::net::TcpListener, mock: Arc<Mock>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mock = mock.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let mock = mock.clone();
                async move { Ok::<_, Infallible>(mock.handle(req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        content_type.parse().expect("a content type"),
    );
    response
}

fn query(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(raw.as_bytes()).into_owned()
}

impl Mock {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let json = "application/json";
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/authorize") => {
                let params: Vec<(String, String)> = query(req.uri().query().unwrap_or("")).collect();
                let get = |name: &str| {
                    params
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                };
                let (Some(redirect), Some(state)) = (get("redirect_uri"), get("state")) else {
                    return reply(StatusCode::BAD_REQUEST, "text/plain", "bad request".into());
                };
                // Stateless: the code carries the nonce.
                let code = format!("c.{}", URL_SAFE_NO_PAD.encode(get("nonce").unwrap_or("")));
                let mut to = url::Url::parse(redirect).expect("a redirect URI");
                to.query_pairs_mut().append_pair("code", &code).append_pair("state", state);
                let mut response = reply(StatusCode::FOUND, "text/plain", String::new());
                response
                    .headers_mut()
                    .insert("location", to.as_str().parse().expect("a location"));
                response
            }
            (&Method::POST, "/token") => {
                let body = match req.into_body().collect().await {
                    Ok(body) => body.to_bytes(),
                    Err(_) => return reply(StatusCode::BAD_REQUEST, json, "{}".into()),
                };
                let code = url::form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let nonce = code
                    .strip_prefix("c.")
                    .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
                    .and_then(|n| String::from_utf8(n).ok())
                    .unwrap_or_default();
                let n = self.tokens.fetch_add(1, Ordering::Relaxed);
                let access = format!("at-{n:016x}");
                let mut answer = json!({
                    "access_token": access, "token_type": "Bearer", "expires_in": 3600,
                });
                if !nonce.is_empty() {
                    answer["id_token"] = json!(self.id_token(&access, &nonce));
                }
                reply(StatusCode::OK, json, answer.to_string())
            }
            (&Method::GET, "/userinfo") => reply(
                StatusCode::OK,
                json,
                r#"{"sub":"user-1","name":"Bench User","email":"bench@example.com","email_verified":true}"#.into(),
            ),
            (&Method::GET, "/.well-known/openid-configuration") => {
                reply(StatusCode::OK, json, self.discovery.clone())
            }
            (&Method::GET, "/jwks") => reply(StatusCode::OK, json, self.jwks.clone()),
            _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found".into()),
        }
    }

    fn id_token(&self, access: &str, nonce: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let digest = Sha256::digest(access.as_bytes());
        let claims: Value = json!({
            "iss": self.issuer, "sub": "user-1", "aud": CLIENT_ID, "iat": now, "exp": now + 600,
            "nonce": nonce, "at_hash": URL_SAFE_NO_PAD.encode(&digest[..16]),
            "name": "Bench User", "email": "bench@example.com", "email_verified": true,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("bench".into());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("an ES256 ID token")
    }
}
