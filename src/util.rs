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

/// Whether `ip` is an address on the public internet: not loopback, private, link-local,
/// shared (CGNAT), documentation, benchmarking, multicast, reserved or unspecified, in IPv4
/// or IPv6 (an IPv4-mapped address is judged by its IPv4 address; NAT64 is refused, as it
/// may reach any IPv4 address). What a host that a stranger names may resolve to (SSRF).
#[cfg(feature = "server")]
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (b & 0xc0) == 64)
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b & 0xfe) == 18))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && second == 0x0db8)
                || (first == 0x0064 && second == 0xff9b))
        }
    }
}

/// `value` as a resource identifier (RFC 8707 §2, RFC 9728 §1.2): an absolute `http(s)` URL
/// whose path is plain (unreserved characters and `/`), without query or fragment.
#[cfg(feature = "oidc")]
pub(crate) fn resource_identifier(value: &str) -> Option<Url> {
    let url = Url::parse(value).ok()?;
    let plain = url.path().split('/').all(|segment| {
        segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    });
    let ok = matches!(url.scheme(), "http" | "https")
        && url.query().is_none()
        && url.fragment().is_none()
        && plain;
    ok.then_some(url)
}

/// Where RFC 9728 §3.1 puts a protected resource's metadata:
/// `/.well-known/oauth-protected-resource` followed by the resource's path.
#[cfg(feature = "oidc")]
pub(crate) fn protected_resource_path(resource: &Url) -> String {
    let path = resource.path().trim_end_matches('/');
    format!("/.well-known/oauth-protected-resource{path}")
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

    #[cfg(feature = "server")]
    #[test]
    fn public_addresses() {
        let public = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"];
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in private {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

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
