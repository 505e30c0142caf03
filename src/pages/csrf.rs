//! The CSRF token of a form (the login confirmation page, the server's consent page): a
//! random value in a private cookie, echoed by the form and compared in constant time.

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::util::{ct_eq, random_token};

/// Where a form's CSRF cookie lives.
#[derive(Debug, Clone)]
pub(crate) struct CsrfCookie {
    pub name: String,
    pub path: String,
    pub secure: bool,
}

impl CsrfCookie {
    /// The form's CSRF token, created (and set as a cookie) on first use.
    pub fn token(&self, jar: &CookieJar<'_>) -> String {
        if let Some(cookie) = jar.get_private(&self.name) {
            return cookie.value().to_owned();
        }
        let token = random_token();
        let cookie = Cookie::build((self.name.clone(), token.clone()))
            .path(self.path.clone())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure);
        jar.add_private(cookie);
        token
    }

    /// The cookie's token, if the browser has one.
    pub fn current(&self, jar: &CookieJar<'_>) -> Option<String> {
        jar.get_private(&self.name).map(|c| c.value().to_owned())
    }

    /// Whether `submitted` equals the cookie's token.
    pub fn check(&self, jar: &CookieJar<'_>, submitted: &str) -> bool {
        self.current(jar).is_some_and(|c| ct_eq(&c, submitted))
    }
}

/// Whether a request comes from `origin`'s own pages (or the address bar): `Sec-Fetch-Site`
/// and `Origin`, when the browser sends them, must say so. Requests without either (older
/// browsers, scripts) pass; SameSite=Lax cookies and the form's token cover them.
pub(crate) fn same_origin(req: &rocket::Request<'_>, origin: &str) -> bool {
    let headers = req.headers();
    let site_ok = headers
        .get_one("Sec-Fetch-Site")
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let origin_ok = headers.get_one("Origin").is_none_or(|o| o == origin);
    site_ok && origin_ok
}
