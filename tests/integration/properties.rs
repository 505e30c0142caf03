//! Property tests for every parser of outside input, through the real routes (in-process, so
//! each case is cheap): whatever arrives, never a panic and never a 5xx. Case counts are
//! bounded (`PROPTEST_CASES`, 64 by default) so CI stays fast.

use proptest::prelude::*;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;

use crate::common::app::Other;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

/// An application with provider `other` (its token endpoint unreachable) and, with the
/// `server` feature, the authorization server.
fn app() -> Client {
    let figment = crate::common::base_figment().merge((
        "oauth.other",
        serde_json::json!({
            "client_id": "id",
            "client_secret": "secret",
            "authorize_url": "http://127.0.0.1:9/authorize",
            "token_url": "http://127.0.0.1:9/token",
            "redirect_uri": "http://127.0.0.1:8000/auth/other/callback",
            "confirm": true,
            "timeout": 1,
        }),
    ));
    let rocket = rocket::custom(figment).attach(Other.fairing());
    #[cfg(feature = "server")]
    let rocket = server::attach(rocket);
    Client::untracked(rocket).unwrap()
}

thread_local! {
    /// One application per test thread, shared by its cases.
    static CLIENT: Client = app();
}

/// Runs `check` with this thread's application.
fn with_app(check: impl FnOnce(&Client) -> Result<(), TestCaseError>) -> Result<(), TestCaseError> {
    CLIENT.with(check)
}

/// Text that looks like what attackers send: URL-ish characters, escapes, unicode.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        "[a-z_=&%;/?#\\\\.:\"'<>{}\\[\\] 0-9A-F+-]{0,96}",
        "(code|state|error|iss|next|csrf_token)=[^&]{0,24}(&(code|state|error|error_description|iss)=[^&]{0,24}){0,4}",
    ]
}

fn cookie_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/=._-]{0,200}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn callbacks_never_answer_5xx(query in junk(), cookie in cookie_value(), body in junk()) {
        with_app(|client| {
        let get = client
            .get(format!("/auth/other/callback?{query}"))
            .header(Header::new("Cookie", format!("oauth_other_login_aaaaaaaaaaaa={cookie}; oauth_other={cookie}")))
            .dispatch();
        prop_assert!(get.status().code < 500, "GET {query}: {}", get.status());
        let post = client
            .post("/auth/other/callback")
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch();
        prop_assert!(post.status().code < 500, "POST {body}: {}", post.status());
        Ok(())
        })?;
    }

    #[test]
    fn login_logout_and_check_never_answer_5xx(next in junk(), body in junk(), origin in junk()) {
        with_app(|client| {
        for path in ["/auth/other/login", "/auth/other/check"] {
            let r = client.get(format!("{path}?next={next}")).dispatch();
            prop_assert!(r.status().code < 500, "{path} {next}: {}", r.status());
        }
        let r = client.post("/auth/other/login").header(ContentType::Form).body(body.clone()).dispatch();
        prop_assert!(r.status().code < 500, "confirm {body}: {}", r.status());
        let r = client
            .post(format!("/auth/other/logout?next={next}"))
            .header(Header::new("Origin", origin.clone()))
            .dispatch();
        prop_assert!(r.status().code < 500, "logout {origin}: {}", r.status());
        if r.status() == Status::SeeOther {
            let location = r.headers().get_one("Location").unwrap_or_default();
            prop_assert!(location.starts_with('/') && !location.starts_with("//"), "{location}");
        }
        Ok(())
        })?;
    }
}

#[cfg(feature = "server")]
mod server {
    use super::*;
    use rocket::{Build, Rocket};
    use rocket_oauth::server::{AuthorizationServer, ResourceOwner};

    struct Alice;

    #[rocket::async_trait]
    impl ResourceOwner for Alice {
        async fn current(&self, _: &rocket::Request<'_>) -> Option<String> {
            Some("alice".into())
        }
    }

    pub fn attach(rocket: Rocket<Build>) -> Rocket<Build> {
        let config = serde_json::json!({
            "issuer": "http://127.0.0.1:8000",
            "require_tls": false,
            "scopes": {"profile": "Profile", "openid": "Sign in"},
            "signing_keys": ["tests/keys/ec1.pem"],
            "dynamic_registration": true,
            "clients": [
                {"id": "c", "secret": "s", "redirect_uris": ["http://127.0.0.1/cb"], "scopes": ["profile"]},
                {"id": "p", "redirect_uris": ["http://127.0.0.1/cb"], "scopes": ["profile"]},
            ],
        });
        let figment = rocket.figment().clone().merge(("oauth_server", config));
        rocket
            .configure(figment)
            .attach(AuthorizationServer::new(Alice))
    }

    fn authorization() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            junk().prop_map(Some),
            "[A-Za-z0-9+/=]{0,40}".prop_map(|b| Some(format!("Basic {b}"))),
            Just(Some("Basic Yzpz".to_owned())),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn server_endpoints_never_answer_5xx(body in junk(), auth in authorization(), query in junk()) {
            with_app(|client| {
            for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/authorize"] {
                let mut request = client.post(path).header(ContentType::Form).body(body.clone());
                if let Some(auth) = &auth {
                    request = request.header(Header::new("Authorization", auth.clone()));
                }
                let r = request.dispatch();
                prop_assert!(r.status().code < 500, "{path} {body} {auth:?}: {}", r.status());
            }
            let r = client.get(format!("/oauth/authorize?{query}")).dispatch();
            prop_assert!(r.status().code < 500, "authorize {query}: {}", r.status());
            let r = client
                .get("/api/none")
                .header(Header::new("Authorization", auth.clone().unwrap_or_default()))
                .dispatch();
            prop_assert!(r.status().code < 500);
            let r = client.get(format!("/oauth/end_session?{query}")).dispatch();
            prop_assert!(r.status().code < 500, "end_session {query}: {}", r.status());
            let r = client
                .get("/oauth/userinfo")
                .header(Header::new("Authorization", auth.clone().unwrap_or_default()))
                .dispatch();
            prop_assert!(r.status().code < 500);
            Ok(())
            })?;
        }

        /// RFC 7591 registration: any body, and client metadata with any values, gets a
        /// 201 or a 4xx; what is registered has only acceptable redirect URIs.
        #[test]
        fn registration_never_answers_5xx(
            body in junk(),
            uris in proptest::collection::vec(
                prop_oneof![junk(), Just("https://app.example/cb".to_owned()), "http://127\\.0\\.0\\.1:[0-9]{1,5}/[a-z#?]{0,5}"],
                0..3,
            ),
            method in prop_oneof![junk(), Just("none".to_owned()), Just("client_secret_post".to_owned())],
            scope in prop_oneof![junk(), Just("openid profile".to_owned())],
            grants in proptest::collection::vec(prop_oneof![junk(), Just("refresh_token".to_owned()), Just("client_credentials".to_owned())], 0..3),
            name in junk(),
        ) {
            with_app(|client| {
                let r = client.post("/oauth/register").header(ContentType::JSON).body(body.clone()).dispatch();
                prop_assert!(r.status().code < 500, "{body}: {}", r.status());
                let metadata = serde_json::json!({
                    "redirect_uris": uris, "token_endpoint_auth_method": method, "scope": scope,
                    "grant_types": grants, "client_name": name,
                });
                let r = client.post("/oauth/register").header(ContentType::JSON).body(metadata.to_string()).dispatch();
                let status = r.status().code;
                prop_assert!(status == 201 || (400..500).contains(&status), "{metadata}: {status}");
                if status == 201 {
                    let registered: serde_json::Value = r.into_json().unwrap();
                    for uri in registered["redirect_uris"].as_array().unwrap() {
                        let uri = url::Url::parse(uri.as_str().unwrap()).unwrap();
                        prop_assert!(uri.fragment().is_none());
                        prop_assert!(uri.scheme() == "https" || uri.host_str() == Some("127.0.0.1"));
                    }
                }
                Ok(())
            })?;
        }
    }
}
