//! RFC 6750 plumbing shared by the authorization server's bearer guards and the resource
//! server's: reading `Authorization: Bearer` (or `DPoP`, RFC 9449 §7.1, with its proof), and
//! the refusal a failed guard leaves on the request for its fairing to answer with
//! (`WWW-Authenticate` and a JSON error body).

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::{Request, Response};
use serde_json::{json, Value};

use crate::protocol::oidc::dpop::{Checker, ProofError, Request as DpopRequest, DPOP_ALG_NAMES};

/// The token of an `Authorization: Bearer …` header, if there is one.
#[cfg(feature = "server")]
pub(crate) fn token<'a>(req: &'a Request<'_>) -> Option<&'a str> {
    match presented(req)? {
        (Scheme::Bearer, token) => Some(token),
        (Scheme::Dpop, _) => None,
    }
}

/// How an access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP`, with a `DPoP` proof header (RFC 9449 §7.1).
    Dpop,
}

/// The access token of an `Authorization: Bearer …` or `Authorization: DPoP …` header.
pub(crate) fn presented<'a>(req: &'a Request<'_>) -> Option<(Scheme, &'a str)> {
    let header = req.headers().get_one("Authorization")?;
    let (scheme, value) = header.split_once(' ')?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Some((Scheme::Bearer, value))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some((Scheme::Dpop, value))
    } else {
        None
    }
}

/// The request's one `DPoP` header: `Ok(None)` without one, `Err` when there are several.
pub(crate) fn proof<'a>(req: &'a Request<'_>) -> Result<Option<&'a str>, ProofError> {
    let mut proofs = req.headers().get("DPoP");
    match (proofs.next(), proofs.next()) {
        (None, _) => Ok(None),
        (Some(proof), None) => Ok(Some(proof)),
        (Some(_), Some(_)) => Err(ProofError::Malformed),
    }
}

/// The URL a proof for this request names (`htu`): the application's public `origin` (as
/// configured: behind a proxy the request's own host may differ) and the request's path.
pub(crate) fn request_url(req: &Request<'_>, origin: &str) -> String {
    format!("{}{}", origin.trim_end_matches('/'), req.uri().path())
}

/// Checks that a token bound to `jkt` (`None`: a bearer token) was presented the way it must
/// be: a bound token as `DPoP` with a proof of its key for this very request (method, URL,
/// the token's hash), an unbound one as `Bearer`.
pub(crate) fn check_binding(
    req: &Request<'_>,
    checker: &Checker,
    presented: (Scheme, &str),
    jkt: Option<&str>,
    origin: &str,
) -> Result<(), ProofError> {
    match (presented.0, jkt) {
        (Scheme::Bearer, None) => Ok(()),
        // A bound token as a bearer token, or a bearer token with a proof it needs not.
        (Scheme::Bearer, Some(_)) | (Scheme::Dpop, None) => Err(ProofError::Key),
        (Scheme::Dpop, Some(jkt)) => {
            let raw = proof(req)?.ok_or(ProofError::Malformed)?;
            let url = request_url(req, origin);
            let request = DpopRequest {
                method: req.method().as_str(),
                url: &url,
                access_token: Some(presented.1),
            };
            let checked = checker.check(raw, &request, crate::util::now())?;
            crate::util::ct_eq(&checked.jkt, jkt)
                .then_some(())
                .ok_or(ProofError::Key)
        }
    }
}

/// The `WWW-Authenticate` challenge for a refused DPoP presentation (RFC 9449 §7.1).
fn dpop_challenge(error: ProofError) -> String {
    format!(
        "DPoP error=\"{}\", error_description=\"{error}\", algs=\"{}\"",
        error.code(),
        DPOP_ALG_NAMES.join(" ")
    )
}

/// The headers that refuse a DPoP presentation: the challenge, and a fresh `DPoP-Nonce`
/// when the checker asks for nonces (RFC 9449 §9: the client retries with it).
pub(crate) fn proof_refusal(checker: &Checker, error: ProofError) -> Vec<Header<'static>> {
    let mut headers = vec![Header::new("WWW-Authenticate", dpop_challenge(error))];
    if let Some(nonce) = checker.nonce() {
        headers.push(Header::new("DPoP-Nonce", nonce));
    }
    headers
}

/// Records on `req` that a guard refused its DPoP presentation (401, with
/// [`proof_refusal`]'s headers).
pub(crate) fn refuse_proof(req: &Request<'_>, checker: &Checker, error: ProofError) {
    record(
        req,
        Status::Unauthorized,
        proof_refusal(checker, error),
        Some(error.code()),
        &error.to_string(),
    );
}

/// Why a guard refused the request, and how to say so.
struct Refusal {
    status: Status,
    /// `WWW-Authenticate`, and `DPoP-Nonce` for a DPoP refusal.
    headers: Vec<Header<'static>>,
    body: Value,
}

/// Records on `req` that a guard refused it with `status`: `challenge` becomes the
/// `WWW-Authenticate` header and `error` (an RFC 6750 code, none when the request had no
/// credentials, §3.1) with `description` the JSON body. The first refusal recorded stays.
pub(crate) fn refuse(
    req: &Request<'_>,
    status: Status,
    challenge: Option<String>,
    error: Option<&str>,
    description: &str,
) {
    let headers = challenge
        .map(|c| Header::new("WWW-Authenticate", c))
        .into_iter()
        .collect();
    record(req, status, headers, error, description);
}

fn record(
    req: &Request<'_>,
    status: Status,
    headers: Vec<Header<'static>>,
    error: Option<&str>,
    description: &str,
) {
    let body = match error {
        Some(code) => json!({ "error": code, "error_description": description }),
        None => json!({ "error_description": description }),
    };
    req.local_cache(|| {
        Some(Refusal {
            status,
            headers,
            body,
        })
    });
}

/// Answers a refused request as its guard said: the `WWW-Authenticate` header, and the JSON
/// error body instead of an error page (a catcher's, or none; a body of the route's own,
/// JSON, text, ..., stays). Fairings call it from `on_response`; doing it twice is harmless.
pub(crate) fn answer<'r>(req: &'r Request<'_>, res: &mut Response<'r>) {
    let Some(refusal) = req.local_cache(|| None::<Refusal>) else {
        return;
    };
    if refusal.status != res.status() {
        return;
    }
    for header in &refusal.headers {
        res.set_header(header.clone());
    }
    if res.content_type().is_none_or(|t| t.is_html()) {
        let body = refusal.body.to_string();
        res.set_header(ContentType::JSON);
        res.set_sized_body(body.len(), Cursor::new(body));
    }
}
