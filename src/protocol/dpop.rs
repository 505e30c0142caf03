//! DPoP (RFC 9449): the proofs a client signs with its per-session key. The checks a server
//! makes of them are in `oidc/dpop.rs` (they verify with the JWS module).

use serde_json::{json, Map};
use url::Url;

use super::credentials::Credentials;
use super::http::{Buffered, HttpClient, HttpError};
use super::jose::{sha256_b64, SigningKey};
use crate::util::random_token;

/// `url` as a proof's `htu`: without query and fragment.
pub(crate) fn htu(url: &str) -> Option<String> {
    let mut url = Url::parse(url).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url.into())
}

/// A proof of `key` for a `method` request to `url`; with `access_token`, bound to it
/// (`ath`); with the server's `nonce` when it gave one.
pub(crate) fn proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Option<String> {
    let mut header = Map::new();
    header.insert("typ".into(), json!("dpop+jwt"));
    header.insert("jwk".into(), key.public_jwk());
    let mut claims = json!({
        "jti": random_token(),
        "htm": method,
        "htu": htu(url)?,
        "iat": crate::util::now(),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(token) = access_token {
        claims["ath"] = json!(sha256_b64(token));
    }
    key.sign(header, &claims)
}

/// Sends a request with `credentials`' access token (its `Authorization` set by the
/// caller): with a DPoP proof (RFC 9449 §7) when the credentials are bound to a
/// key, sent once more with the resource server's nonce when it asks for one (§9).
pub(crate) async fn send_proven(
    http: &HttpClient,
    request: reqwest::Request,
    credentials: &Credentials,
) -> Result<Buffered, HttpError> {
    let Some(key) = credentials.dpop_signing_key() else {
        return http.send(request).await;
    };
    let unsigned = || HttpError::Request("the DPoP proof could not be signed".into());
    let mut nonce = None;
    loop {
        let mut sent = request
            .try_clone()
            .ok_or_else(|| HttpError::Request("the request cannot be sent again".into()))?;
        let proof = proof(
            &key,
            sent.method().as_str(),
            sent.url().as_str(),
            nonce.as_deref(),
            Some(credentials.access_token()),
        )
        .and_then(|p| reqwest::header::HeaderValue::from_str(&p).ok())
        .ok_or_else(unsigned)?;
        sent.headers_mut().insert("DPoP", proof);
        let response = http.send(sent).await?;
        if nonce.is_none() && response.wants_dpop_nonce {
            nonce = response.dpop_nonce.clone();
            continue;
        }
        return Ok(response);
    }
}
