//! DPoP (RFC 9449): the proofs a client signs with its per-session key. The checks a server
//! makes of them are in `oidc/dpop.rs` (they verify with the JWS module).

use serde_json::{json, Map};
use url::Url;

use super::jose::{sha256_b64, SigningKey};
use crate::util::random_token;

pub(crate) use super::http::USE_DPOP_NONCE;

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
