//! The `next` parameter: where to go after login. Same-site absolute paths only, so it can
//! never become an open redirect, percent-encoded so that it is always a valid redirect.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rocket::http::uri::Reference;

/// Characters percent-encoded in `next` (besides non-ASCII ones): those a URI may not hold.
const ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The longest `next` kept.
const MAX_LEN: usize = 2048;

/// Returns `next`, percent-encoded into a valid URI reference, if it is a same-site absolute
/// path (`/x`, never `//x`, `/\x`, a scheme, or control characters), else `None`.
///
/// ```text
/// /private?tab=1   kept
/// //evil.example   refused (scheme-relative URL)
/// /\evil.example   refused (browsers read `\` as `/`)
/// https://evil     refused
/// ```
pub(crate) fn sanitize(next: &str) -> Option<String> {
    let ok = next.len() <= MAX_LEN
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !percent_decoded_prefix_escapes(next);
    if !ok {
        return None;
    }
    let encoded = utf8_percent_encode(next, ENCODED).to_string();
    // A stray `%` (not an escape) cannot be redirected to: drop such a `next`.
    let valid = encoded.len() <= MAX_LEN * 3 && Reference::parse(&encoded).is_ok();
    valid.then_some(encoded)
}

/// `/%2F%2Fevil` and `/%5Cevil` are harmless to browsers but may be decoded by a proxy or
/// by the application before redirecting: refuse encoded slashes and backslashes right
/// after the leading slash.
fn percent_decoded_prefix_escapes(next: &str) -> bool {
    let rest = next[1..].to_ascii_lowercase();
    rest.starts_with("%2f") || rest.starts_with("%5c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths() {
        for good in ["/", "/private", "/a/b?c=d&e=%2F", "/x#frag"] {
            assert_eq!(sanitize(good).as_deref(), Some(good), "{good}");
        }
        // Characters Rocket cannot redirect to are percent-encoded.
        assert_eq!(
            sanitize("/café?q=\"{x}\"").as_deref(),
            Some("/caf%C3%A9?q=%22%7Bx%7D%22")
        );
        for bad in [
            "",
            "private",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "https://evil.example/",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/ok\r\nSet-Cookie: x=y",
            "/\t/evil.example",
        ] {
            assert_eq!(sanitize(bad), None, "{bad:?}");
        }
        assert_eq!(sanitize(&format!("/{}", "a".repeat(3000))), None);
    }

    proptest::proptest! {
        /// Whatever `next` is: no panic; what is kept is a same-site path Rocket can redirect
        /// to, and sanitising it again keeps it as is.
        #[test]
        fn kept_values_are_safe_and_stable(next in "\\PC{0,64}|/[^/\\\\].{0,64}") {
            if let Some(kept) = sanitize(&next) {
                proptest::prop_assert!(kept.starts_with('/') && !kept.starts_with("//"));
                proptest::prop_assert!(Reference::parse(&kept).is_ok());
                proptest::prop_assert_eq!(sanitize(&kept), Some(kept.clone()));
            }
        }
    }
}
