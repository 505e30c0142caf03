//! Small utilities shared by every layer, the client side and the server alike: the clock,
//! random tokens, constant-time comparison, lenient booleans, loopback hosts and the unverified
//! claims of a JWT.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use url::Url;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A fresh random token: 32 bytes from the OS generator, base64url without padding.
pub(crate) fn random_token() -> String {
    ::oauth2::CsrfToken::new_random_len(32).into_secret()
}

/// The cookie name prefix: `__Host-` when the cookie is `Secure` (it then needs `Path=/`
/// and no `Domain`, so that no sibling subdomain can set or toss it).
pub(crate) fn cookie_prefix(secure: bool) -> &'static str {
    if secure {
        "__Host-"
    } else {
        ""
    }
}

/// Whether `a` and `b` are equal, compared in constant time.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `true`, or the string `"true"` in any case (Apple and others send booleans as strings).
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether `url` points at this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The payload of a compact JWS, unverified. Only for reading claims of a token that is then
/// verified (the tenant, before the issuer check) or already was.
pub(crate) fn jwt_payload(jwt: &str) -> Option<Map<String, Value>> {
    let part = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd") && !ct_eq("abc", "ab"));
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
        assert!(truthy(Some(&Value::String("TRUE".into()))));
        assert!(!truthy(Some(&Value::from(1))));
        for (url, loopback) in [
            ("http://127.0.0.1:8000/", true),
            ("http://localhost/", true),
            ("http://[::1]/", true),
            ("http://example.com/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), loopback, "{url}");
        }
    }
}
