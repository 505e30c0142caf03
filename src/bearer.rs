//! RFC 6750 plumbing shared by the authorization server's bearer guards and the resource
//! server's: reading `Authorization: Bearer`, and the refusal a failed guard leaves on the
//! request for its fairing to answer with (`WWW-Authenticate` and a JSON error body).

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::{Request, Response};
use serde_json::{json, Value};

/// The token of an `Authorization: Bearer …` header, if there is one.
pub(crate) fn token<'a>(req: &'a Request<'_>) -> Option<&'a str> {
    let header = req.headers().get_one("Authorization")?;
    let (scheme, value) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| value.trim())
        .filter(|v| !v.is_empty())
}

/// Why a guard refused the request, and how to say so.
struct Refusal {
    status: Status,
    /// The `WWW-Authenticate` value, if any.
    challenge: Option<String>,
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
    let body = match error {
        Some(code) => json!({ "error": code, "error_description": description }),
        None => json!({ "error_description": description }),
    };
    req.local_cache(|| {
        Some(Refusal {
            status,
            challenge,
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
    if let Some(challenge) = &refusal.challenge {
        res.set_header(Header::new("WWW-Authenticate", challenge.clone()));
    }
    if res.content_type().is_none_or(|t| t.is_html()) {
        let body = refusal.body.to_string();
        res.set_header(ContentType::JSON);
        res.set_sized_body(body.len(), Cursor::new(body));
    }
}
