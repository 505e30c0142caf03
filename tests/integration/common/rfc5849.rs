//! An OAuth 1.0a signer written here from RFC 5849 §3.4, independently of the crate's code:
//! it signs the incoming requests the `SignedRequest` guard must accept or refuse.

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 5849 §3.6: everything but unreserved characters, uppercase hex.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// RFC 5849 §3.4.1: the signature base string.
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        enc(base_uri),
        enc(&normalized)
    )
}

/// RFC 5849 §3.4.2: HMAC-SHA1, base64.
pub fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", enc(consumer_secret), enc(token_secret));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization: OAuth …` parameters, decoded (`realm` left out).
pub fn oauth_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim_matches('"');
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .ok()?
            .into_owned();
        if k != "realm" {
            params.push((k.to_owned(), v));
        }
    }
    Some(params)
}
