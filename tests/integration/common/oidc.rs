//! A test OpenID Provider on a loopback port: discovery, a JWKS with RSA and EC keys that
//! can rotate, and ID tokens signed RS256 or ES256 (or forged), with knobs for every check.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer as _;
use rocket::form::Form;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::{get, post, routes, FromForm, State};
use rsa::pkcs1v15::SigningKey as RsaSigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use super::{base_figment, launch};

/// How ID tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
    /// `alg: none`, no signature.
    None,
    /// HS256 keyed with the RSA public key (the classic key-confusion attack).
    Hs256WithPublicKey,
}

/// `at_hash` in the ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtHash {
    Correct,
    Wrong,
    Absent,
}

/// What the provider does; tests change it between logins.
#[derive(Debug, Clone)]
pub struct Behavior {
    pub alg: Alg,
    pub tamper_signature: bool,
    pub iss: Option<String>,
    pub aud: Option<Value>,
    pub azp: Option<String>,
    pub exp_offset: i64,
    /// `expires_in` of access tokens.
    pub expires_in: i64,
    pub iat_offset: i64,
    pub nonce: Option<String>,
    pub at_hash: AtHash,
    pub userinfo_sub: Option<String>,
    /// `Some(value)`: the authorization response carries `iss=value`.
    pub iss_param: Option<String>,
    pub advertise_iss_param: bool,
    pub email: String,
    pub email_verified: Value,
    pub groups: Vec<String>,
    /// Sign with a key id the JWKS does not have.
    pub unknown_kid: bool,
    pub tid: Option<String>,
    /// Leave `nonce` out of the ID token (as LinkedIn does).
    pub omit_nonce: bool,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            alg: Alg::Rs256,
            tamper_signature: false,
            iss: None,
            aud: None,
            azp: None,
            exp_offset: 3600,
            expires_in: 3600,
            iat_offset: 0,
            nonce: None,
            at_hash: AtHash::Correct,
            userinfo_sub: None,
            iss_param: None,
            advertise_iss_param: false,
            email: "jane@example.com".into(),
            email_verified: json!("true"),
            groups: vec!["eng".into()],
            unknown_kid: false,
            tid: None,
            omit_nonce: false,
        }
    }
}

struct Grant {
    nonce: Option<String>,
    challenge: Option<String>,
}

/// The provider's shared state.
pub struct OpState {
    pub url: Mutex<String>,
    /// The issuer advertised and used in tokens (defaults to `url`).
    pub issuer: Mutex<Option<String>>,
    pub behavior: Mutex<Behavior>,
    rsa_keys: Vec<RsaPrivateKey>,
    ec_key: p256::ecdsa::SigningKey,
    /// Index of the RSA key in use and published.
    pub rsa_current: AtomicUsize,
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, String>>,
    counter: AtomicUsize,
    pub jwks_calls: AtomicUsize,
    pub discovery_calls: AtomicUsize,
    pub end_session_queries: Mutex<Vec<String>>,
    /// Refresh tokens → subject; each is used once (rotation).
    refresh_tokens: Mutex<HashMap<String, String>>,
    pub refresh_calls: AtomicUsize,
}

impl OpState {
    pub fn issuer(&self) -> String {
        self.issuer
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| self.url.lock().unwrap().clone())
    }

    /// Switches to the other RSA key: the old kid disappears from the JWKS.
    pub fn rotate(&self) {
        self.rsa_current.fetch_xor(1, Ordering::SeqCst);
    }

    fn rsa_kid(&self) -> String {
        format!("rsa-{}", self.rsa_current.load(Ordering::SeqCst))
    }

    fn rsa(&self) -> &RsaPrivateKey {
        &self.rsa_keys[self.rsa_current.load(Ordering::SeqCst)]
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(op: &OpState, b: &Behavior, claims: &Value) -> String {
    let (alg, kid) = match b.alg {
        Alg::Rs256 => ("RS256", Some(op.rsa_kid())),
        Alg::Es256 => ("ES256", Some("ec-0".to_owned())),
        Alg::None => ("none", None),
        Alg::Hs256WithPublicKey => ("HS256", Some(op.rsa_kid())),
    };
    let kid = if b.unknown_kid {
        Some("rsa-unknown".to_owned())
    } else {
        kid
    };
    let header = json!({ "alg": alg, "typ": "JWT", "kid": kid });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut signature = match b.alg {
        Alg::Rs256 => RsaSigningKey::<Sha256>::new(op.rsa().clone())
            .sign(input.as_bytes())
            .to_vec(),
        Alg::Es256 => {
            let sig: p256::ecdsa::Signature = op.ec_key.sign(input.as_bytes());
            sig.to_bytes().to_vec()
        }
        Alg::None => Vec::new(),
        Alg::Hs256WithPublicKey => {
            let pem = op
                .rsa()
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap();
            let mut mac = Hmac::<Sha256>::new_from_slice(pem.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    if b.tamper_signature {
        if let Some(byte) = signature.get_mut(10) {
            *byte ^= 0x55;
        }
    }
    format!("{input}.{}", b64(&signature))
}

#[get("/.well-known/openid-configuration")]
fn discovery(op: &State<Arc<OpState>>) -> Value {
    op.discovery_calls.fetch_add(1, Ordering::SeqCst);
    let url = op.url.lock().unwrap().clone();
    json!({
        "issuer": op.issuer(),
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "userinfo_endpoint": format!("{url}/userinfo"),
        "jwks_uri": format!("{url}/jwks"),
        "end_session_endpoint": format!("{url}/end_session"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "ES256K", "HS256", "none"],
        "authorization_response_iss_parameter_supported": op.behavior.lock().unwrap().advertise_iss_param,
    })
}

#[get("/jwks")]
fn jwks(op: &State<Arc<OpState>>) -> Value {
    op.jwks_calls.fetch_add(1, Ordering::SeqCst);
    let rsa = op.rsa().to_public_key();
    let ec = op.ec_key.verifying_key().to_sec1_point(false);
    let ec = ec.as_bytes();
    json!({ "keys": [
        { "kty": "RSA", "kid": op.rsa_kid(), "use": "sig", "alg": "RS256",
          "n": b64(&rsa.n().to_bytes_be()), "e": b64(&rsa.e().to_bytes_be()) },
        { "kty": "EC", "kid": "ec-0", "use": "sig", "alg": "ES256", "crv": "P-256",
          "x": b64(&ec[1..33]), "y": b64(&ec[33..65]) },
        { "kty": "OKP", "kid": "unknown-kind", "crv": "X448", "x": "AAAA" }
    ]})
}

#[derive(FromForm)]
struct AuthorizeQuery {
    redirect_uri: String,
    state: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
}

#[get("/authorize?<q..>")]
fn authorize(q: AuthorizeQuery, op: &State<Arc<OpState>>) -> Redirect {
    let n = op.counter.fetch_add(1, Ordering::SeqCst);
    let code = format!("code-{n}");
    op.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: q.nonce,
            challenge: q.code_challenge,
        },
    );
    let iss = match &op.behavior.lock().unwrap().iss_param {
        Some(iss) => format!("&iss={}", super::urlencode(iss)),
        None => String::new(),
    };
    Redirect::to(format!(
        "{}?code={code}&state={}{iss}",
        q.redirect_uri,
        super::urlencode(&q.state)
    ))
}

#[derive(FromForm)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

#[post("/token", data = "<form>")]
fn token(form: Form<TokenForm>, op: &State<Arc<OpState>>) -> (Status, Value) {
    if form.grant_type == "refresh_token" {
        op.refresh_calls.fetch_add(1, Ordering::SeqCst);
        let given = form.refresh_token.clone().unwrap_or_default();
        if op.refresh_tokens.lock().unwrap().remove(&given).is_none() {
            return (Status::BadRequest, json!({"error": "invalid_grant"}));
        }
        // A refreshed ID token carries no nonce (Keycloak ≥ 25).
        return issue_tokens(op, None);
    }
    let code = form.code.clone().unwrap_or_default();
    let Some(grant) = op.grants.lock().unwrap().remove(&code) else {
        return (Status::BadRequest, json!({"error": "invalid_grant"}));
    };
    if let (Some(challenge), Some(verifier)) = (&grant.challenge, &form.code_verifier) {
        if &b64(&Sha256::digest(verifier.as_bytes())) != challenge {
            return (Status::BadRequest, json!({"error": "invalid_grant"}));
        }
    }
    issue_tokens(op, grant.nonce)
}

/// An access token, a refresh token and an ID token for `user-1`.
fn issue_tokens(op: &OpState, nonce: Option<String>) -> (Status, Value) {
    let b = op.behavior.lock().unwrap().clone();
    let n = op.counter.fetch_add(1, Ordering::SeqCst);
    let access_token = format!("op-at-{n}");
    op.tokens
        .lock()
        .unwrap()
        .insert(access_token.clone(), "user-1".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims = json!({
        "iss": b.iss.clone().unwrap_or_else(|| op.issuer()),
        "sub": "user-1",
        "aud": b.aud.clone().unwrap_or_else(|| json!("test-client")),
        "exp": now + b.exp_offset,
        "iat": now + b.iat_offset,
        "email": b.email,
        "email_verified": b.email_verified,
        "name": "Jane Doe",
        "custom_claim": "kept",
    });
    if let Some(nonce) = b.nonce.clone().or(nonce).filter(|_| !b.omit_nonce) {
        claims["nonce"] = json!(nonce);
    }
    if let Some(azp) = &b.azp {
        claims["azp"] = json!(azp);
    }
    if let Some(tid) = &b.tid {
        claims["tid"] = json!(tid);
    }
    match b.at_hash {
        AtHash::Correct => {
            let digest = Sha256::digest(access_token.as_bytes());
            claims["at_hash"] = json!(b64(&digest[..16]));
        }
        AtHash::Wrong => claims["at_hash"] = json!(b64(&[7u8; 16])),
        AtHash::Absent => {}
    }
    let id_token = sign(op, &b, &claims);
    let refresh_token = format!("op-rt-{n}");
    op.refresh_tokens
        .lock()
        .unwrap()
        .insert(refresh_token.clone(), "user-1".into());
    (
        Status::Ok,
        json!({"access_token": access_token, "token_type": "Bearer", "expires_in": b.expires_in, "id_token": id_token, "refresh_token": refresh_token}),
    )
}

#[get("/userinfo")]
fn userinfo(auth: super::AuthHeader, op: &State<Arc<OpState>>) -> (Status, Value) {
    let token = auth
        .0
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(sub) = op.tokens.lock().unwrap().get(token).cloned() else {
        return (Status::Unauthorized, json!({"error": "invalid_token"}));
    };
    let b = op.behavior.lock().unwrap().clone();
    (
        Status::Ok,
        json!({
            "sub": b.userinfo_sub.unwrap_or(sub),
            "email": b.email,
            "email_verified": b.email_verified,
            "groups": b.groups,
            "picture": "https://op.example/jane.png",
            "iss": "https://userinfo-cannot-override.example",
        }),
    )
}

#[get("/end_session?<q..>")]
fn end_session(q: HashMap<String, String>, op: &State<Arc<OpState>>) -> &'static str {
    let mut pairs: Vec<_> = q.into_iter().collect();
    pairs.sort();
    op.end_session_queries
        .lock()
        .unwrap()
        .push(format!("{pairs:?}"));
    "signed out at the provider"
}

/// A running test OpenID Provider.
pub struct Op {
    pub url: String,
    pub state: Arc<OpState>,
}

impl Op {
    pub fn behave(&self, change: impl FnOnce(&mut Behavior)) {
        change(&mut self.state.behavior.lock().unwrap());
    }
}

/// Starts a test OpenID Provider.
pub async fn start_op() -> Op {
    let rsa_keys = ["tests/keys/rsa1.pem", "tests/keys/rsa2.pem"]
        .iter()
        .map(|path| RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(path).unwrap()).unwrap())
        .collect();
    let state = Arc::new(OpState {
        url: Mutex::new(String::new()),
        issuer: Mutex::new(None),
        behavior: Mutex::new(Behavior::default()),
        rsa_keys,
        ec_key: p256::ecdsa::SigningKey::from_slice(&Sha256::digest(b"test ec key")).unwrap(),
        rsa_current: AtomicUsize::new(0),
        grants: Mutex::default(),
        tokens: Mutex::default(),
        counter: AtomicUsize::new(0),
        jwks_calls: AtomicUsize::new(0),
        discovery_calls: AtomicUsize::new(0),
        end_session_queries: Mutex::default(),
        refresh_tokens: Mutex::default(),
        refresh_calls: AtomicUsize::new(0),
    });
    let rocket = rocket::custom(base_figment()).manage(state.clone()).mount(
        "/",
        routes![discovery, jwks, authorize, token, userinfo, end_session],
    );
    let url = launch(rocket).await;
    *state.url.lock().unwrap() = url.clone();
    Op { url, state }
}
