//! The confirm, success and error pages: embedded defaults, overridable by the application.
//!
//! When the application attaches `rocket_dyn_templates::Template::fairing()` and its template
//! directory holds a template of the same name (`oauth/confirm`, `oauth/success`,
//! `oauth/error`), that one is rendered; otherwise the embedded default is. Context
//! variables are listed in the crate docs.

use std::sync::OnceLock;

use rocket::http::{ContentType, Status};
use rocket::Request;
use rocket_dyn_templates::Metadata;
use serde::Serialize;
use tera::{Context, Tera};

/// The confirmation page's template name.
pub(crate) const CONFIRM: &str = "oauth/confirm";
/// The success page's template name.
pub(crate) const SUCCESS: &str = "oauth/success";
/// The error page's template name.
pub(crate) const ERROR: &str = "oauth/error";
/// The authorization server's consent page.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) const CONSENT: &str = "oauth/consent";
pub(crate) const SIGNIN: &str = "oauth/signin";
/// The authorization server's page for a request it cannot redirect (unknown client,
/// unregistered redirect URI, a cross-site consent).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) const AUTHORIZE_ERROR: &str = "oauth/authorize_error";
/// The default pages' shared style (included by them; not a page).
const STYLE: &str = "oauth/_style";

/// The authorization server's page of a user's grants.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) const GRANTS: &str = "oauth/grants";

/// The authorization server's page where a user enters a device's code (RFC 8628).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) const DEVICE: &str = "oauth/device";

/// The authorization server's admin pages.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) const ADMIN: &str = "oauth/admin";

const EMBEDDED: [(&str, &str); 10] = [
    (
        STYLE,
        include_str!("../../templates/oauth/_style.html.tera"),
    ),
    (
        SIGNIN,
        include_str!("../../templates/oauth/signin.html.tera"),
    ),
    (
        CONFIRM,
        include_str!("../../templates/oauth/confirm.html.tera"),
    ),
    (
        SUCCESS,
        include_str!("../../templates/oauth/success.html.tera"),
    ),
    (ERROR, include_str!("../../templates/oauth/error.html.tera")),
    (
        CONSENT,
        include_str!("../../templates/oauth/consent.html.tera"),
    ),
    (
        AUTHORIZE_ERROR,
        include_str!("../../templates/oauth/authorize_error.html.tera"),
    ),
    (
        GRANTS,
        include_str!("../../templates/oauth/grants.html.tera"),
    ),
    (ADMIN, include_str!("../../templates/oauth/admin.html.tera")),
    (
        DEVICE,
        include_str!("../../templates/oauth/device.html.tera"),
    ),
];

fn embedded() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        // The `.html` suffix turns on Tera's HTML autoescaping.
        tera.add_raw_templates(
            EMBEDDED
                .iter()
                .map(|(name, src)| (format!("{name}.html"), *src)),
        )
        .expect("embedded templates are valid");
        tera
    })
}

/// A rendered page: status, content type and body.
pub(crate) type Page = (Status, (ContentType, String));

/// Renders `name` with `context`: the application's template if it has one, else ours.
pub(crate) async fn render<C: Serialize>(
    req: &Request<'_>,
    status: Status,
    name: &str,
    context: &C,
) -> Page {
    if let Some(meta) = req.guard::<Metadata<'_>>().await.succeeded() {
        if meta.contains_template(name) {
            if let Some(page) = meta.render(name.to_owned(), context) {
                return (status, page);
            }
            log::error!("the application's template `{name}` failed to render; using the default");
        }
    }
    let html = Context::from_serialize(context)
        .and_then(|ctx| embedded().render(&format!("{name}.html"), &ctx))
        .unwrap_or_else(|e| {
            log::error!("embedded template `{name}` failed to render: {e}");
            "<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>".to_owned()
        });
    (status, (ContentType::HTML, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_render_and_escape() {
        let ctx = Context::from_serialize(serde_json::json!({
            "provider": "idp", "title": "T", "message": "<script>", "retry_url": "/auth/idp/login",
        }))
        .unwrap();
        let html = embedded().render("oauth/error.html", &ctx).unwrap();
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&#x2F;auth&#x2F;idp&#x2F;login"));
        for (name, _) in EMBEDDED {
            let ctx = Context::from_serialize(serde_json::json!({
                "provider": "p", "action": "/a", "csrf_token": "c", "next": "/", "title": "t",
                "message": "m", "retry_url": null, "userinfo": null, "client_name": "c",
                "client_image": null, "owner": "o", "scopes": [], "params": [], "grants": [], "clients": [], "admin": "a", "secret": null, "user": null,
                "continue_after": null, "client_id": null, "user_code": "", "done": false,
                "providers": [{"name": "gh", "display_name": "GitHub", "mark": "G", "login_url": "/auth/gh/login"}],
            }))
            .unwrap();
            let html = embedded().render(&format!("{name}.html"), &ctx).unwrap();
            if name != STYLE {
                // Every page carries the style: system fonts, dark mode, no external asset.
                assert!(html.contains("prefers-color-scheme: dark"), "{name}");
                assert!(html.contains("system-ui"), "{name}");
                assert!(
                    !html.contains("http://") && !html.contains("https://"),
                    "{name}"
                );
                assert!(html.contains("<meta name=\"viewport\""), "{name}");
            }
        }
    }

    #[test]
    fn the_servers_pages_render_their_lists() {
        let grant = serde_json::json!({
            "client_id": "c1", "client_name": "Reports", "client_image": null,
            "scopes": [{"name": "profile", "description": "<b>Profile</b>"}], "expires_at": 1,
        });
        let ctx = Context::from_serialize(serde_json::json!({
            "owner": "alice", "grants": [grant], "action": "/oauth/grants", "csrf_token": "t",
        }))
        .unwrap();
        let html = embedded().render("oauth/grants.html", &ctx).unwrap();
        assert!(
            html.contains("Reports") && html.contains("&lt;b&gt;Profile"),
            "{html}"
        );
        assert!(html.contains(r#"name="client_id" value="c1""#), "{html}");
        let ctx = Context::from_serialize(serde_json::json!({
            "admin": "root", "action": "/oauth/admin", "csrf_token": "t", "message": "done",
            "secret": {"client_id": "c1", "secret": "s3cret"}, "user": "alice",
            "grants": [{"client_id": "c1", "client_name": "Reports", "scopes": ["profile"]}],
            "clients": [{"client_id": "c1", "name": "Reports", "confidential": true,
                         "redirect_uris": ["https://r.example/cb"], "scopes": ["profile"],
                         "configured": false}],
            "scopes": [{"name": "profile", "description": "Profile", "configured": true}],
        }))
        .unwrap();
        let html = embedded().render("oauth/admin.html", &ctx).unwrap();
        for shown in [
            "s3cret",
            "done",
            "Reports",
            "revoke_grant",
            "rotate_secret",
            "profile",
        ] {
            assert!(html.contains(shown), "{shown}: {html}");
        }
    }
}
