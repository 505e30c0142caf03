//! The authorization server (`examples/auth_server.rs`, the real binary) driven over
//! loopback HTTP by the `oauth2` crate's client and a browser.

use std::collections::HashMap;

use crate::common::example::Running;
use crate::common::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use rocket::serde::json::Value;

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9999/cb";

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The `oauth2` crate's HTTP client, over reqwest, following no redirects.
pub(crate) async fn http(
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.execute(request.try_into()?).await?;
    let mut builder = oauth2::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    Ok(builder.body(response.bytes().await?.to_vec()).unwrap())
}

pub(crate) struct Server {
    _running: Running,
    pub(crate) url: String,
    pub(crate) metadata: Value,
}

async fn start_server(access_token_ttl: u64) -> Server {
    start_server_with(access_token_ttl, free_port(), "").await
}

pub(crate) async fn start_server_with(access_token_ttl: u64, port: u16, extra: &str) -> Server {
    let header = crate::common::example::rocket_toml_header(port);
    // The `openid` scope below needs signing keys (unless the test gives its own).
    let keys = match extra.contains("signing_keys") {
        true => String::new(),
        false => format!(
            "signing_keys = [\"{}/tests/keys/rsa1.pem\"]",
            env!("CARGO_MANIFEST_DIR")
        ),
    };
    let config = format!(
        r#"{header}
[default.oauth_server]
issuer = "http://127.0.0.1:{port}"
access_token_ttl = {access_token_ttl}
{keys}
{extra}

[default.oauth_server.scopes]
openid = "Sign you in"
profile = "Read your profile"
email = "Read your email address"
admin = "Administer everything"

[[default.oauth_server.clients]]
id = "confidential"
secret = "s3cret+/:$"
name = "Example client"
redirect_uris = ["{REDIRECT}"]
scopes = ["profile", "email"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]

[[default.oauth_server.clients]]
id = "public"
name = "Public client"
redirect_uris = ["{REDIRECT}", "http://127.0.0.1:9999/other"]
scopes = ["profile"]

[[default.oauth_server.clients]]
id = "emailonly"
secret = "other-secret"
redirect_uris = ["{REDIRECT}"]
scopes = ["email"]
grant_types = ["client_credentials"]

[[default.oauth_server.clients]]
id = "oidc"
secret = "oidc-secret"
name = "Example client"
redirect_uris = ["{REDIRECT}"]
scopes = ["openid", "profile"]

[[default.oauth_server.clients]]
id = "api"
secret = "api-secret"
resource_server = true
"#
    );
    let (running, url) = crate::common::example::start("auth_server", &config, port).await;
    let metadata: Value = reqwest::get(format!("{url}/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Server {
        _running: running,
        url,
        metadata,
    }
}

impl Server {
    pub(crate) fn client(&self, id: &str, secret: Option<&str>) -> Client {
        let mut client = BasicClient::new(ClientId::new(id.into()))
            .set_auth_uri(
                AuthUrl::new(
                    self.metadata["authorization_endpoint"]
                        .as_str()
                        .unwrap()
                        .into(),
                )
                .unwrap(),
            )
            .set_token_uri(
                TokenUrl::new(self.metadata["token_endpoint"].as_str().unwrap().into()).unwrap(),
            )
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret.into()));
        }
        client
    }

    /// A browser signed in as `user`.
    pub(crate) async fn signed_in(&self, user: &str) -> Browser {
        let browser = Browser::new();
        let r = browser
            .client()
            .post(format!("{}/login", self.url))
            .form(&[("username", user), ("password", "x"), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        browser
    }

    /// Opens `authorize_url` in `browser`, answers the consent page with `decision`, and
    /// returns the redirect's query parameters.
    pub(crate) async fn consent(
        &self,
        browser: &Browser,
        authorize_url: &str,
        decision: &str,
    ) -> HashMap<String, String> {
        let r = browser.get(authorize_url).await;
        assert_eq!(r.status(), 200, "consent page: {:?}", r.text().await);
        assert_eq!(
            r.headers()["content-security-policy"],
            "frame-ancestors 'none'"
        );
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Example client") || page.contains("Public client"),
            "{page}"
        );
        let r = submit_consent(browser, &self.url, &page, decision).await;
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert!(to.starts_with(REDIRECT), "{to}");
        url::Url::parse(&to)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// Runs the authorization code flow (with PKCE) up to the code.
    pub(crate) async fn code(
        &self,
        client: &Client,
        scopes: &[&str],
    ) -> (String, PkceCodeVerifier) {
        let browser = self.signed_in("alice").await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).into())))
            .set_pkce_challenge(challenge)
            .url();
        let query = self.consent(&browser, url.as_str(), "Accept").await;
        assert_eq!(query.get("state"), Some(state.secret()));
        assert_eq!(query.get("iss"), Some(&self.url), "RFC 9207 iss");
        (query["code"].clone(), verifier)
    }

    /// The whole authorization code flow: consent, then the code exchanged with its verifier.
    async fn tokens(&self, client: &Client, scopes: &[&str]) -> oauth2::basic::BasicTokenResponse {
        let (code, verifier) = self.code(client, scopes).await;
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap()
    }

    async fn api_me(&self, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}/api/me", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

fn error_code<RE: std::error::Error + 'static>(
    err: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(e) => e.error().as_ref().to_owned(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

#[rocket::async_test]
async fn metadata_names_the_issuer_and_only_s256() {
    let server = start_server(3600).await;
    assert_eq!(server.metadata["issuer"], server.url.as_str());
    assert_eq!(
        server.metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
}

#[rocket::async_test]
async fn an_authorization_code_grant_calls_the_api() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    let me: Value = server
        .api_me(tokens.access_token().secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        serde_json::json!({"username": "alice", "scopes": ["profile"]})
    );
}

#[rocket::async_test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    // Refresh rotates: the new pair works, the old refresh token is spent.
    let refresh = tokens.refresh_token().unwrap().clone();
    let rotated = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(rotated.refresh_token().unwrap().secret(), refresh.secret());
    let rotated_access = rotated.access_token().secret();
    assert_eq!(server.api_me(rotated_access).await.status(), 200);
    // Reusing the old one is refused and revokes the whole family.
    let reuse = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(reuse), "invalid_grant");
    assert_eq!(server.api_me(rotated_access).await.status(), 401);
    let newest = RefreshToken::new(rotated.refresh_token().unwrap().secret().clone());
    assert!(client
        .exchange_refresh_token(&newest)
        .request_async(&http)
        .await
        .is_err());
}

/// `POST /oauth/introspect` for `token`, as the client `confidential`.
async fn introspect(server: &Server, token: &str) -> Value {
    introspect_as(server, "confidential", "s3cret+/:$", token).await
}

#[rocket::async_test]
async fn introspection_reports_an_active_token() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile", "email"]).await;
    let active = introspect(&server, tokens.access_token().secret()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["username"], "alice");
    assert_eq!(active["scope"], "profile email");
}

#[rocket::async_test]
async fn a_revoked_access_token_is_refused_and_inactive() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    let access = tokens.access_token().secret().clone();
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", server.url))
        .form(&[
            ("token", access.as_str()),
            ("client_id", "confidential"),
            ("client_secret", "s3cret+/:$"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = server.api_me(&access).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let inactive = introspect(&server, &access).await;
    assert_eq!(inactive, serde_json::json!({"active": false}));
}

#[rocket::async_test]
async fn public_clients_need_pkce_and_the_right_verifier() {
    let server = start_server(3600).await;
    let client = server.client("public", None);
    let browser = server.signed_in("bob").await;
    // No PKCE: an error at the redirect URI, not a consent page.
    let (url, _) = client.authorize_url(CsrfToken::new_random).url();
    let r = browser.get(url.as_str()).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with(REDIRECT) && to.contains("error=invalid_request"),
        "{to}"
    );
    // plain is refused.
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_extra_param("code_challenge", "a".repeat(43))
        .add_extra_param("code_challenge_method", "plain")
        .url();
    let to = location(&browser.get(url.as_str()).await);
    assert!(to.contains("error=invalid_request"), "{to}");

    // A wrong verifier.
    let (code, _) = server.code(&client, &["profile"]).await;
    let wrong = PkceCodeVerifier::new("x".repeat(43));
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(wrong)
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "invalid_grant");
    // The right verifier, public client (no secret).
    let tokens = server.tokens(&client, &["profile"]).await;
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        200
    );
}

#[rocket::async_test]
async fn unregistered_redirect_uri_is_never_redirected_to() {
    let server = start_server(3600).await;
    let browser = server.signed_in("alice").await;
    for bad in [
        "http://127.0.0.1:9999/cb/extra",
        "http://127.0.0.1:9999/c",
        "https://evil.example/cb",
    ] {
        let client = server
            .client("confidential", Some("s3cret+/:$"))
            .set_redirect_uri(RedirectUrl::new(bad.into()).unwrap());
        let (url, _) = client.authorize_url(CsrfToken::new_random).url();
        let r = browser.get(url.as_str()).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get("location").is_none());
        assert!(r.text().await.unwrap().contains("not registered"));
    }
    // Unknown client: a page too.
    let r = browser
        .get(&format!(
            "{}/oauth/authorize?response_type=code&client_id=nobody&state=s",
            server.url
        ))
        .await;
    assert_eq!(r.status(), 400);
    // Issue 26, item 11: its own page (`oauth/authorize_error`), naming the client.
    let page = r.text().await.unwrap();
    assert!(page.contains("cannot answer safely"), "{page}");
    assert!(page.contains("<code>nobody</code>"), "{page}");
    assert!(
        !page.contains("Try logging in"),
        "not the login error page: {page}"
    );
}

#[rocket::async_test]
async fn replayed_code_is_refused_and_revokes_its_tokens() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let (code, verifier) = server.code(&client, &["profile"]).await;
    let secret = verifier.secret().clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        200
    );
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(secret))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "invalid_grant");
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        401
    );
}

#[rocket::async_test]
async fn client_authentication_and_scopes() {
    let server = start_server(3600).await;
    // Wrong secret.
    let client = server.client("confidential", Some("wrong"));
    let (code, verifier) = server
        .code(&server.client("confidential", None), &["profile"])
        .await;
    let err = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "invalid_client");

    // Scope escalation at the authorization endpoint.
    let browser = server.signed_in("alice").await;
    let (url, _) = server
        .client("confidential", None)
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("admin".into()))
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let to = location(&browser.get(url.as_str()).await);
    assert!(to.contains("error=invalid_scope"), "{to}");

    // Scope escalation on refresh.
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    let err = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .add_scope(Scope::new("email".into()))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "invalid_scope");

    // Insufficient scope for the API: 403 with a Bearer challenge.
    let email_only = server.client("emailonly", Some("other-secret"));
    let tokens = email_only
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap();
    let r = server.api_me(tokens.access_token().secret()).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    // Issue 26, item 12: RFC 6750's JSON error body, not an HTML page.
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    let r = server.api_me("not-a-token").await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    // A missing token: 401 with a bare challenge (and no error code).
    let r = reqwest::get(format!("{}/api/me", server.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer realm="));
    let body: Value = r.json().await.unwrap();
    assert!(body.get("error").is_none(), "{body}");
}

#[rocket::async_test]
async fn client_credentials_grant() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = client
        .exchange_client_credentials()
        .add_scope(Scope::new("profile".into()))
        .request_async(&http)
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_none());
    let me: Value = server
        .api_me(tokens.access_token().secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], Value::Null);
    let public = server.client("public", None);
    let err = public
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "unauthorized_client");
}

#[rocket::async_test]
async fn expired_tokens_are_refused() {
    let server = start_server(1).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    assert_eq!(tokens.expires_in(), Some(std::time::Duration::from_secs(1)));
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        200
    );
    rocket::tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = server.api_me(tokens.access_token().secret()).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    // The refresh token outlives the access token.
    let fresh = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        server.api_me(fresh.access_token().secret()).await.status(),
        200
    );
    assert_eq!(server.api_me("not-a-token").await.status(), 401);
}

#[rocket::async_test]
async fn decline_and_sign_in_and_state() {
    let server = start_server(3600).await;
    let client = server.client("confidential", None);
    // Not signed in: the app's login with next.
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let r = Browser::new().get(url.as_str()).await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/login?next=/oauth/authorize"),
        "{}",
        location(&r)
    );
    // Decline.
    let browser = server.signed_in("alice").await;
    let query = server.consent(&browser, url.as_str(), "Decline").await;
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert!(query.contains_key("state") && query.contains_key("iss"));
    // state is required.
    let r = browser
        .get(&format!(
            "{}/oauth/authorize?response_type=code&client_id=confidential&redirect_uri={}",
            server.url,
            urlencode(REDIRECT)
        ))
        .await;
    assert!(location(&r).contains("error=invalid_request"));
    // A forged consent POST (no CSRF cookie) is refused.
    let r = Browser::new()
        .client()
        .post(format!("{}/oauth/authorize", server.url))
        .form(&[
            ("csrf_token", "x"),
            ("decision", "Accept"),
            ("client_id", "confidential"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[rocket::async_test]
async fn malformed_token_requests_are_400_never_500() {
    let server = start_server(3600).await;
    let token = format!("{}/oauth/token", server.url);
    let raw = reqwest::Client::new();
    let auth = ("confidential", Some("s3cret%2B%2F%3A%24"));
    let cases: [(&str, &str); 6] = [
        ("", "invalid_request"),
        ("grant_type=authorization_code", "invalid_request"),
        ("grant_type=authorization_code&code=a&redirect_uri=x&code=b", "invalid_request"),
        ("grant_type=password&username=a&password=b", "unsupported_grant_type"),
        ("grant_type=authorization_code&code=nope&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb", "invalid_grant"),
        ("grant_type=refresh_token&refresh_token=nope", "invalid_grant"),
    ];
    for (body, expected) in cases {
        let r = raw
            .post(&token)
            .basic_auth(auth.0, auth.1)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["error"], expected, "{body}");
    }
    let r = raw
        .post(&token)
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = raw
        .post(&token)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no client authentication");
}

#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn sqlite_store_keeps_refresh_tokens_across_restarts() {
    let db = std::env::temp_dir().join(format!("rocket_oauth-server-{}.db", free_port()));
    let _ = std::fs::remove_file(&db);
    let extra = format!("database_url = \"sqlite://{}\"", db.display());
    let port = free_port();
    let server = start_server_with(3600, port, &extra).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    drop(server);

    let server = start_server_with(3600, port, &extra).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        200
    );
    let fresh = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        server.api_me(fresh.access_token().secret()).await.status(),
        200
    );
    drop(server);
    let _ = std::fs::remove_file(&db);
}

/// In-process checks of the TLS rule (Rocket's local client has no loopback peer address).
mod tls {
    use rocket::local::asynchronous::Client;
    use rocket::Request;
    use rocket_oauth::server::{AuthorizationServer, ResourceOwner};

    struct Nobody;

    #[rocket::async_trait]
    impl ResourceOwner for Nobody {
        async fn current(&self, _request: &Request<'_>) -> Option<String> {
            None
        }
    }

    fn rocket(issuer: &str, require_tls: bool) -> rocket::Rocket<rocket::Build> {
        let figment = super::base_figment()
            .merge(("oauth_server.issuer", issuer))
            .merge(("oauth_server.require_tls", require_tls));
        rocket::custom(figment).attach(AuthorizationServer::new(Nobody))
    }

    #[rocket::async_test]
    async fn plain_http_issuer_off_loopback_fails_at_ignite() {
        let error = rocket("http://auth.example.com", true)
            .ignite()
            .await
            .unwrap_err();
        assert!(matches!(
            error.kind(),
            rocket::error::ErrorKind::FailedFairings(_)
        ));
        assert!(rocket("http://auth.example.com", false)
            .ignite()
            .await
            .is_ok());
    }

    #[rocket::async_test]
    async fn plain_http_requests_are_refused_unless_loopback_or_disabled() {
        let path = "/.well-known/oauth-authorization-server";
        let client = Client::untracked(rocket("https://auth.example.com", true))
            .await
            .unwrap();
        let r = client.get(path).dispatch().await;
        assert_eq!(r.status().code, 400);
        assert!(r.into_string().await.unwrap().contains("TLS is required"));
        let client = Client::untracked(rocket("https://auth.example.com", false))
            .await
            .unwrap();
        assert_eq!(client.get(path).dispatch().await.status().code, 200);
    }
}

// ------------------------------------------------------------------ hardening

/// `POST /oauth/introspect` for `token`, as client `id`.
async fn introspect_as(server: &Server, id: &str, secret: &str, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/oauth/introspect", server.url))
        .form(&[
            ("token", token),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[rocket::async_test]
async fn a_wrong_verifier_does_not_burn_the_code() {
    let server = start_server(3600).await;
    let client = server.client("public", None);
    let (code, verifier) = server.code(&client, &["profile"]).await;
    // An attacker with the stolen code but not the verifier.
    let stolen = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(stolen), "invalid_grant");
    // The legitimate client still redeems it.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        server.api_me(tokens.access_token().secret()).await.status(),
        200
    );
}

#[rocket::async_test]
async fn asking_too_much_scope_does_not_spend_the_refresh_token() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    let refresh = tokens.refresh_token().unwrap();
    let err = client
        .exchange_refresh_token(refresh)
        .add_scope(Scope::new("email".into()))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(error_code(err), "invalid_scope");
    assert!(client
        .exchange_refresh_token(refresh)
        .request_async(&http)
        .await
        .is_ok());
}

#[rocket::async_test]
async fn a_narrowed_refresh_keeps_the_original_scope() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile", "email"]).await;
    let narrowed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .add_scope(Scope::new("profile".into()))
        .request_async(&http)
        .await
        .unwrap();
    let active = introspect(&server, narrowed.access_token().secret()).await;
    assert_eq!(active["scope"], "profile");
    // RFC 6749 §6: the rotated refresh token still carries the original grant.
    let widened = client
        .exchange_refresh_token(narrowed.refresh_token().unwrap())
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .request_async(&http)
        .await
        .unwrap();
    let active = introspect(&server, widened.access_token().secret()).await;
    assert_eq!(active["scope"], "profile email");
}

#[rocket::async_test]
async fn introspection_is_for_the_tokens_client_and_resource_servers() {
    let server = start_server(3600).await;
    let client = server.client("confidential", Some("s3cret+/:$"));
    let tokens = server.tokens(&client, &["profile"]).await;
    let access = tokens.access_token().secret();
    let refresh = tokens.refresh_token().unwrap().secret();
    let other = introspect_as(&server, "emailonly", "other-secret", access).await;
    assert_eq!(
        other,
        serde_json::json!({"active": false}),
        "another client"
    );
    let api = introspect_as(&server, "api", "api-secret", access).await;
    assert_eq!(api["active"], true);
    assert_eq!(api["username"], "alice");
    let api = introspect_as(&server, "api", "api-secret", refresh).await;
    assert_eq!(
        api["active"], false,
        "a resource server never sees a refresh token"
    );
    let own = introspect_as(&server, "confidential", "s3cret+/:$", refresh).await;
    assert_eq!(own["active"], true);
    assert_eq!(own["token_type"], "refresh_token");
}

/// The TLS requirement looks at the socket, not at headers a client can forge.
#[rocket::async_test]
async fn the_tls_requirement_ignores_forwarding_headers() {
    let server = start_server(3600).await;
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", server.url))
        .header("X-Real-IP", "203.0.113.9")
        .form(&[("grant_type", "client_credentials")])
        .basic_auth("confidential", Some("s3cret%2B%2F%3A%24"))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("TLS is required"), "{body}");
    assert!(body.contains("access_token"), "{body}");
}

pub(crate) struct NoOwner;

#[rocket::async_trait]
impl rocket_oauth::server::ResourceOwner for NoOwner {
    async fn current(&self, _: &rocket::Request<'_>) -> Option<String> {
        None
    }
}

#[rocket::async_test]
async fn an_empty_client_secret_fails_at_ignite() {
    let config = serde_json::json!({
        "issuer": "http://127.0.0.1:1",
        "clients": [{"id": "c", "secret": "", "redirect_uris": ["http://127.0.0.1/cb"]}],
    });
    let rocket = rocket::custom(base_figment().merge(("oauth_server", config)))
        .attach(rocket_oauth::server::AuthorizationServer::new(NoOwner));
    let error = rocket.ignite().await.unwrap_err();
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}

/// RFC 8414 §3: an issuer with a path has its metadata under that path.
#[rocket::async_test]
async fn metadata_follows_the_issuers_path() {
    let config = serde_json::json!({
        "issuer": "http://127.0.0.1:1/tenant-a",
        "require_tls": false,
    });
    let rocket = rocket::custom(base_figment().merge(("oauth_server", config)))
        .attach(rocket_oauth::server::AuthorizationServer::new(NoOwner));
    let client = rocket::local::asynchronous::Client::untracked(rocket)
        .await
        .unwrap();
    let r = client
        .get("/.well-known/oauth-authorization-server/tenant-a")
        .dispatch()
        .await;
    assert_eq!(r.status().code, 200);
    let metadata: Value = r.into_json().await.unwrap();
    assert_eq!(metadata["issuer"], "http://127.0.0.1:1/tenant-a");
}

/// The black-box contract of `examples/auth_server.rs` as an OpenID Provider: discovery at
/// the issuer, and an ID token for a client granted `openid`, signed by a published key.
#[rocket::async_test]
async fn auth_server_is_an_openid_provider_with_signing_keys() {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa1.pem");
    let server = start_server_with(3600, free_port(), &format!("signing_keys = [\"{key}\"]")).await;
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], server.url.as_str());
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let jwks: Value = reqwest::get(discovery["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = server.client("oidc", Some("oidc-secret"));
    let (code, verifier) = server.code(&client, &["openid", "profile"]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/oauth/token", server.url))
        .basic_auth("oidc", Some("oidc-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let id_token = body["id_token"].as_str().expect("an ID token");
    let part = |i: usize| -> Value {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let (header, claims) = (part(0), part(1));
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    assert_eq!(claims["iss"], server.url.as_str());
    assert_eq!(claims["aud"], serde_json::json!(["oidc"]));
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["name"], "alice");
    assert!(claims["at_hash"].is_string());
}

/// The token endpoint's answer to a form posted with `client_secret_post`.
async fn token_request(server: &Server, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.metadata["token_endpoint"].as_str().unwrap())
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Issue 25, item 15: RFC 6749 §4.1.3 requires `redirect_uri` at the token endpoint only if
/// the authorization request included it; djoauth2's quickstart omits it in both.
#[rocket::async_test]
async fn a_code_asked_for_without_redirect_uri_is_redeemed_without_it() {
    let server = start_server(3600).await;
    let browser = server.signed_in("alice").await;
    let authorize = format!(
        "{}?response_type=code&client_id=confidential&scope=profile&state=s1",
        server.metadata["authorization_endpoint"].as_str().unwrap()
    );
    let client = [
        ("grant_type", "authorization_code"),
        ("client_id", "confidential"),
        ("client_secret", "s3cret+/:$"),
    ];
    let code = server.consent(&browser, &authorize, "Accept").await["code"].clone();
    let mut form = client.to_vec();
    form.push(("code", &code));
    let (status, body) = token_request(&server, &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    // Given anyway, it must be the one the code was issued for.
    let code = server.consent(&browser, &authorize, "Accept").await["code"].clone();
    let mut form = client.to_vec();
    form.extend([
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9999/other"),
    ]);
    let (status, body) = token_request(&server, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // A code asked for with `redirect_uri` still needs it.
    let with_uri = format!("{authorize}&redirect_uri={}", urlencoding(REDIRECT));
    let code = server.consent(&browser, &with_uri, "Accept").await["code"].clone();
    let mut form = client.to_vec();
    form.push(("code", &code));
    let (status, body) = token_request(&server, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    form.push(("redirect_uri", REDIRECT));
    assert_eq!(token_request(&server, &form).await.0, 200);
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Issue 25, item 16: declaring the `openid` scope without signing keys is a configuration
/// error, not a server that silently is no OpenID Provider.
#[rocket::async_test]
async fn the_openid_scope_without_signing_keys_fails_at_ignite() {
    let config = |generate: bool| {
        serde_json::json!({
            "issuer": "http://127.0.0.1:1",
            "scopes": {"openid": "Sign you in"},
            "generate_signing_keys": generate,
        })
    };
    let ignite = |generate| {
        rocket::custom(base_figment().merge(("oauth_server", config(generate))))
            .attach(rocket_oauth::server::AuthorizationServer::new(NoOwner))
            .ignite()
    };
    let error = ignite(false).await.unwrap_err();
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
    // With keys it is an OpenID Provider.
    assert!(ignite(true).await.is_ok());
}

/// Issue 25, item 9: each client uses only the grants it has. A configured client needs
/// `client_credentials` in its `grant_types`; a registered one gets what it registered and
/// no scope `registration_scopes` does not grant; the registration response says so.
#[rocket::async_test]
async fn clients_use_only_their_grant_types() {
    let server = start_server_with(
        3600,
        free_port(),
        "dynamic_registration = true\nregistration_scopes = [\"profile\"]",
    )
    .await;
    // `oidc` is a confidential client without `client_credentials`.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "oidc"),
        ("client_secret", "oidc-secret"),
    ];
    let (status, body) = token_request(&server, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // `emailonly` has only `client_credentials`: no authorization code for it.
    let browser = server.signed_in("alice").await;
    let authorize = format!(
        "{}?response_type=code&client_id=emailonly&scope=email&state=s",
        server.metadata["authorization_endpoint"].as_str().unwrap()
    );
    let r = browser.get(&authorize).await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).contains("error=unauthorized_client"),
        "{}",
        location(&r)
    );

    // A client registered for the authorization code grant only.
    let registration = server.metadata["registration_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = reqwest::Client::new()
        .post(&registration)
        .json(&serde_json::json!({"redirect_uris": [REDIRECT], "grant_types": ["authorization_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered: Value = r.json().await.unwrap();
    assert_eq!(
        registered["grant_types"],
        serde_json::json!(["authorization_code"])
    );
    assert_eq!(registered["scope"], "profile");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", registered["client_id"].as_str().unwrap()),
        (
            "client_secret",
            registered["client_secret"].as_str().unwrap(),
        ),
    ];
    let (status, body) = token_request(&server, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    // No scope beyond `registration_scopes`.
    let r = reqwest::Client::new()
        .post(&registration)
        .json(&serde_json::json!({"redirect_uris": [REDIRECT], "scope": "profile admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// Issue 26, item 9: a user sees the applications they authorized on the grants page and
/// revokes one: its access and refresh tokens stop working, the other's go on.
#[rocket::async_test]
async fn users_see_and_revoke_their_grants() {
    let server = start_server(3600).await;
    let confidential = server.client("confidential", Some("s3cret+/:$"));
    let public = server.client("public", None);
    let kept = server.tokens(&public, &["profile"]).await;
    let revoked = server.tokens(&confidential, &["profile", "email"]).await;
    let page_url = format!("{}/oauth/grants", server.url);

    // Signed out: to the sign-in, and back.
    let r = Browser::new().get(&page_url).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=%2Foauth%2Fgrants");

    let browser = server.signed_in("alice").await;
    let r = browser.get(&page_url).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, "frame-ancestors 'none'");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Example client") && page.contains("Public client"),
        "{page}"
    );
    assert!(
        page.contains("Read your email address"),
        "scope descriptions: {page}"
    );
    // Another user has no grants.
    let bob = server.signed_in("bob").await;
    let theirs = bob.get(&page_url).await.text().await.unwrap();
    assert!(
        theirs.contains("You have not authorized any application"),
        "{theirs}"
    );

    // The revoke form: refused from another site, or with bob's form in alice's browser.
    let form = |page: &str, client: &str| {
        let mut fields: Vec<(String, String)> = hidden_fields(page)
            .into_iter()
            .filter(|(name, _)| name == "csrf_token")
            .take(1)
            .collect();
        fields.push(("client_id".into(), client.into()));
        fields
    };
    let post = |browser: &Browser, fields: Vec<(String, String)>, origin: &str| {
        browser
            .client()
            .post(&page_url)
            .header("Origin", origin)
            .form(&fields)
            .send()
    };
    let r = post(
        &browser,
        form(&page, "confidential"),
        "https://evil.example",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    // Alice's form, once bob signed in in her browser (same CSRF cookie, another user).
    let switched = server.signed_in("alice").await;
    let alices = switched.get(&page_url).await.text().await.unwrap();
    switched
        .client()
        .post(format!("{}/login", server.url))
        .form(&[("username", "bob"), ("password", "x"), ("next", "/")])
        .send()
        .await
        .unwrap();
    let r = post(&switched, form(&alices, "confidential"), &server.url)
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a form shown to alice, sent as bob");
    // Another browser has no CSRF cookie for it.
    let r = post(&bob, form(&page, "confidential"), &server.url)
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a form shown in another browser");
    let access = revoked.access_token().secret();
    assert_eq!(server.api_me(access).await.status(), 200);

    let r = post(&browser, form(&page, "confidential"), &server.url)
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/oauth/grants");
    assert_eq!(server.api_me(access).await.status(), 401, "revoked");
    let refresh = revoked.refresh_token().unwrap().clone();
    let refreshed = confidential
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await;
    assert!(refreshed.is_err(), "the refresh token is revoked too");
    assert_eq!(
        server.api_me(kept.access_token().secret()).await.status(),
        200,
        "the other grant is kept"
    );
    let page = browser.get(&page_url).await.text().await.unwrap();
    assert!(
        !page.contains("Example client") && page.contains("Public client"),
        "{page}"
    );
}

/// Issue 27's contract of `examples/auth_server.rs`: a client configured with
/// `backchannel_logout_uri` receives, within a few seconds of the user's `end_session`, a
/// logout token signed by a key of the server's JWKS, naming the user and the sign-in
/// session of their ID token, for that client, with the back-channel logout event and no
/// nonce.
#[rocket::async_test]
async fn auth_server_sends_a_logout_token_to_the_client_at_end_session() {
    use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
    use openidconnect::JsonWebKey;
    use rocket::http::Method;
    use rocket_oauth::testing::{MockProvider, MockResponse};

    let receiver = MockProvider::start();
    receiver.endpoint(Method::Post, "/backchannel-logout", |_| {
        MockResponse::text("text/plain", "")
    });
    // A client that fails: retried a bounded number of times, never holding the logout up.
    receiver.endpoint(Method::Post, "/down", |_| {
        MockResponse::text("text/plain", "").status(503)
    });
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa1.pem");
    let extra = format!(
        r#"signing_keys = ["{key}"]

[[default.oauth_server.clients]]
id = "federated"
secret = "fed-secret"
name = "Example client"
redirect_uris = ["{REDIRECT}"]
scopes = ["openid", "profile"]
backchannel_logout_uri = "{url}/backchannel-logout"
backchannel_logout_session_required = true

[[default.oauth_server.clients]]
id = "flaky"
secret = "flaky-secret"
name = "Example client"
redirect_uris = ["{REDIRECT}"]
scopes = ["openid"]
backchannel_logout_uri = "{url}/down"
"#,
        url = receiver.url()
    );
    let server = start_server_with(3600, free_port(), &extra).await;
    let browser = server.signed_in("alice").await;
    let authorize = format!(
        "{}?response_type=code&client_id=federated&scope=openid%20profile&state=s&redirect_uri={}",
        server.metadata["authorization_endpoint"].as_str().unwrap(),
        urlencode(REDIRECT)
    );
    let code = server.consent(&browser, &authorize, "Accept").await["code"].clone();
    let (status, tokens) = token_request(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "federated"),
            ("client_secret", "fed-secret"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let part = |token: &str, i: usize| -> Value {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let sid = part(&id_token, 1)["sid"].clone();
    assert!(sid.is_string(), "the ID token names the sign-in session");
    // The same sign-in reaches a second client.
    let flaky = authorize
        .replace("client_id=federated", "client_id=flaky")
        .replace("%20profile", "");
    server.consent(&browser, &flaky, "Accept").await;

    // The hint is a token every client of the sign-in holds: presented by anyone but the
    // browser signed in, it ends nothing.
    let end_session = format!("{}/oauth/end_session?id_token_hint={id_token}", server.url);
    let stranger = rocket_oauth::testing::Browser::new();
    assert_eq!(stranger.get(&end_session).await.status(), 200);
    rocket::tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(
        receiver.requests_to("/backchannel-logout").is_empty(),
        "a hint without the browser ended its sign-in"
    );

    let r = browser.get(&end_session).await;
    assert_eq!(r.status(), 200);
    assert!(
        receiver.requests_to("/down").len() < 3,
        "end_session answered before the retries"
    );
    let mut delivered = Vec::new();
    for _ in 0..50 {
        delivered = receiver.requests_to("/backchannel-logout");
        if !delivered.is_empty() {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(delivered.len(), 1, "one logout token, within five seconds");
    let token = delivered[0]
        .form_param("logout_token")
        .expect("a logout_token");
    let (header, claims) = (part(&token, 0), part(&token, 1));
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], server.url.as_str());
    assert_eq!(claims["aud"], "federated");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["sid"], sid);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string() && claims["iat"].is_i64() && claims["exp"].is_i64());
    // The signature verifies with the published key it names.
    let jwks: Value = reqwest::get(format!("{}/oauth/jwks", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the key is published");
    let jwk: CoreJsonWebKey = serde_json::from_value(jwk.clone()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap()
    };
    jwk.verify_signature(
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        input.as_bytes(),
        &signature,
    )
    .expect("signed by the server");
    for _ in 0..50 {
        if receiver.requests_to("/down").len() >= 3 {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    rocket::tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.requests_to("/down").len(),
        3,
        "three attempts, no more"
    );
}

/// A code for `client_id` (secret `secret`) with `scope`, asking for each of `resources`
/// (RFC 8707), at the server's `REDIRECT`; its token answer.
async fn tokens_for(
    server: &Server,
    (client_id, secret): (&str, &str),
    scope: &str,
    resources: &[&str],
    token_resources: &[&str],
) -> (u16, Value) {
    let browser = server.signed_in("alice").await;
    let mut authorize =
        url::Url::parse(server.metadata["authorization_endpoint"].as_str().unwrap()).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("scope", scope)
        .append_pair("state", "s")
        .append_pair("redirect_uri", REDIRECT);
    for resource in resources {
        authorize
            .query_pairs_mut()
            .append_pair("resource", resource);
    }
    let code = server.consent(&browser, authorize.as_str(), "Accept").await["code"].clone();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    form.extend(token_resources.iter().map(|r| ("resource", *r)));
    token_request(server, &form).await
}

/// What the resource server `api` learns of `token`.
async fn introspect_api(server: &Server, token: &str) -> Value {
    introspect_as(server, "api", "api-secret", token).await
}

/// Issue 28: the API of `examples/auth_server.rs` tells clients where to get a token (RFC
/// 9728): its 401s name the protected resource metadata, which names the issuer.
#[rocket::async_test]
async fn auth_server_api_points_to_its_protected_resource_metadata() {
    let server = start_server(3600).await;
    let r = reqwest::get(format!("{}/api/me", server.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource", server.url);
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    let r = reqwest::get(&metadata_url).await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let document: Value = r.json().await.unwrap();
    assert_eq!(document["resource"], server.url.as_str());
    assert_eq!(
        document["authorization_servers"],
        serde_json::json!([server.url])
    );
    assert!(document["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&"profile".into()));
}

/// Issue 28, RFC 8707: a token asked for another API is bound to it (introspection says so)
/// and refused by this application's own API; one asked for this API (its origin, with or
/// without the trailing `/`) is taken; unknown resources are `invalid_target`.
#[rocket::async_test]
async fn tokens_are_bound_to_the_resources_they_are_asked_for() {
    let other = "https://reports.example/api";
    let server = start_server_with(3600, free_port(), &format!("resources = [\"{other}\"]")).await;
    let client = ("confidential", "s3cret+/:$");

    let (status, tokens) = tokens_for(&server, client, "profile", &[other], &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect_api(&server, access).await["aud"], other);
    assert_eq!(
        server.api_me(access).await.status(),
        401,
        "another API's token"
    );

    let own = format!("{}/", server.url);
    let (status, tokens) = tokens_for(&server, client, "profile", &[&own, other], &[&own]).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect_api(&server, access).await["aud"],
        server.url.as_str()
    );
    assert_eq!(server.api_me(access).await.status(), 200);
    // The refresh token keeps both resources; a refresh may narrow to the other one.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refreshed) = token_request(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client.0),
            ("client_secret", client.1),
            ("resource", other),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(introspect_api(&server, access).await["aud"], other);

    // Not granted at the authorization: refused at the token endpoint, also when the
    // authorization named no resource (a grant is then for this API only).
    let (status, body) = tokens_for(&server, client, "profile", &[&own], &[other]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body) = tokens_for(&server, client, "profile", &[], &[other]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    // ... and the refusal does not use up the code.
    let browser = server.signed_in("alice").await;
    let authorize = format!(
        "{}?response_type=code&client_id=confidential&scope=profile&state=s&redirect_uri={}",
        server.metadata["authorization_endpoint"].as_str().unwrap(),
        urlencode(REDIRECT)
    );
    let code = server.consent(&browser, &authorize, "Accept").await["code"].clone();
    let exchange = |resource: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client.0),
            ("client_secret", client.1),
        ];
        form.extend(resource.map(|r| ("resource", r)));
        let server = &server;
        async move { token_request(server, &form).await }
    };
    assert_eq!(exchange(Some("https://reports.example/api")).await.0, 400);
    let (status, body) = exchange(None).await;
    assert_eq!(status, 200, "{body}");
    // Several resources, in any order: the consent form matches.
    let (status, body) = tokens_for(&server, client, "profile", &[other, &own], &[]).await;
    assert_eq!(status, 200, "{body}");
    // Unknown at the authorization: the client is told (RFC 8707 §2), no code.
    let browser = server.signed_in("alice").await;
    let authorize = format!(
        "{}?response_type=code&client_id=confidential&scope=profile&state=s&redirect_uri={}&resource={}",
        server.metadata["authorization_endpoint"].as_str().unwrap(),
        urlencode(REDIRECT),
        urlencode("https://evil.example/")
    );
    let r = browser.get(&authorize).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with(REDIRECT) && to.contains("error=invalid_target"),
        "{to}"
    );
    // Client credentials take `resource` too.
    let (status, body) = token_request(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client.0),
            ("client_secret", client.1),
            ("resource", other),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        introspect_api(&server, body["access_token"].as_str().unwrap()).await["aud"],
        other
    );
}

/// Issue 28: with `access_token_format = "jwt"` the server's access tokens are RFC 9068
/// JWTs signed with its keys, which this crate's resource-server guard (in another app,
/// checking offline) accepts, and which the server's own API still takes (and refuses once
/// revoked).
#[rocket::async_test]
async fn jwt_access_tokens_are_checked_offline_by_a_resource_server() {
    use rocket_oauth::resource::{Bearer, Resource};

    struct Auth;
    impl Resource for Auth {
        const NAME: &'static str = "auth";
    }
    #[rocket::get("/data")]
    fn data(token: Bearer<Auth>) -> String {
        token.subject.unwrap_or_default()
    }

    let other = "https://reports.example/api";
    let extra = format!("resources = [\"{other}\"]\naccess_token_format = \"jwt\"");
    let server = start_server_with(3600, free_port(), &extra).await;
    let figment = rocket_oauth::testing::figment()
        .merge(("oauth.resource.auth.issuer", server.url.as_str()))
        .merge(("oauth.resource.auth.audience", other));
    let api = launch(
        rocket::custom(figment)
            .attach(Auth.fairing())
            .mount("/", rocket::routes![data]),
    )
    .await;

    let client = ("confidential", "s3cret+/:$");
    let (status, tokens) = tokens_for(&server, client, "profile", &[other], &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let jwt = tokens["access_token"].as_str().unwrap();
    let header: Value = {
        use base64::Engine;
        let part = jwt.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");
    let r = reqwest::Client::new()
        .get(format!("{api}/data"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "alice");

    // Without `resource`, a JWT is for this application's own API.
    let (status, tokens) = tokens_for(&server, client, "profile", &[], &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let own = tokens["access_token"].as_str().unwrap();
    assert_eq!(server.api_me(own).await.status(), 200);
    let r = reqwest::Client::new()
        .get(format!("{api}/data"))
        .bearer_auth(own)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "not the other API's token");
    let revoked = reqwest::Client::new()
        .post(server.metadata["revocation_endpoint"].as_str().unwrap())
        .form(&[
            ("token", own),
            ("client_id", client.0),
            ("client_secret", client.1),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(server.api_me(own).await.status(), 401, "revoked");
}

/// RFC 8252 §7.3: a native app's loopback IP redirect URI matches on any port (the app
/// listens where the system lets it); `localhost` and other hosts still match exactly.
#[rocket::async_test]
async fn loopback_redirect_uris_match_on_any_port() {
    let server = start_server_with(
        3600,
        free_port(),
        r#"
[[default.oauth_server.clients]]
id = "native"
redirect_uris = ["http://127.0.0.1/callback", "http://localhost:7000/cb"]
scopes = ["profile"]
"#,
    )
    .await;
    let browser = server.signed_in("alice").await;
    let ask = |redirect: &str| {
        format!(
            "{}?response_type=code&client_id=native&scope=profile&state=s&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
            server.metadata["authorization_endpoint"].as_str().unwrap(),
            urlencode(redirect),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
    };
    let r = browser.get(&ask("http://127.0.0.1:54321/callback")).await;
    assert_eq!(r.status(), 200, "the consent page for another port");
    for refused in [
        "http://127.0.0.1:54321/other",
        "http://localhost:7001/cb",
        "https://127.0.0.1:54321/callback",
    ] {
        let r = browser.get(&ask(refused)).await;
        assert_eq!(r.status(), 400, "{refused}");
    }
}

/// Polls the token endpoint for `device_code` as the client `tv`.
async fn poll_device(server: &Server, device_code: &str) -> (u16, Value) {
    token_request(
        server,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", "tv"),
        ],
    )
    .await
}

/// Issue 28, RFC 8628: a device asks for codes, polls (`authorization_pending`, then
/// `slow_down` when too fast) while the signed-in user enters the code (any case, with or
/// without the dash) and approves; its next poll gets the tokens, once. A declined code is
/// `access_denied`, an unknown one a page; a client without the grant is refused.
#[rocket::async_test]
async fn the_device_grant_runs_from_code_to_tokens() {
    device_grant_runs("").await;
}

/// The device grant with its codes in SQLite.
#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn the_device_grant_runs_on_sqlite() {
    let db = std::env::temp_dir().join(format!("rocket_oauth-device-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    device_grant_runs(&format!("database_url = \"sqlite://{}\"", db.display())).await;
}

/// The device grant with its codes in PostgreSQL.
#[cfg(feature = "postgres")]
#[rocket::async_test]
async fn the_device_grant_runs_on_postgres() {
    let Some(database) = crate::store::postgres::fresh_database().await else {
        return;
    };
    device_grant_runs(&format!("database_url = \"{database}\"")).await;
}

async fn device_grant_runs(store: &str) {
    let server = start_server_with(
        3600,
        free_port(),
        &format!(
            r#"{store}
[[default.oauth_server.clients]]
id = "tv"
name = "Living room TV"
scopes = ["profile"]
grant_types = ["device_code"]
"#
        ),
    )
    .await;
    assert_eq!(
        server.metadata["device_authorization_endpoint"],
        format!("{}/oauth/device_authorization", server.url)
    );
    let ask = |client_id: &'static str| {
        let endpoint = server.metadata["device_authorization_endpoint"]
            .as_str()
            .unwrap()
            .to_owned();
        async move {
            let r = reqwest::Client::new()
                .post(endpoint)
                .form(&[("client_id", client_id), ("scope", "profile")])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = ask("public").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, codes) = ask("tv").await;
    assert_eq!(status, 200, "{codes}");
    let user_code = codes["user_code"].as_str().unwrap().to_owned();
    let device_code = codes["device_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "XXXX-XXXX");
    assert_eq!(
        codes["verification_uri"],
        format!("{}/oauth/device", server.url)
    );
    assert_eq!(codes["interval"], 5);

    let (status, body) = poll_device(&server, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (_, body) = poll_device(&server, &device_code).await;
    assert_eq!(body["error"], "slow_down", "polled again at once");

    // The user: the page (signed in), an unknown code, then theirs.
    let browser = server.signed_in("alice").await;
    let page = browser
        .get(codes["verification_uri_complete"].as_str().unwrap())
        .await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&user_code), "prefilled");
    let token = hidden_fields(&page)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .unwrap()
        .1;
    let post = |fields: Vec<(&'static str, String)>| {
        let client = browser.client();
        let url = format!("{}/oauth/device", server.url);
        async move { client.post(url).form(&fields).send().await.unwrap() }
    };
    let r = post(vec![
        ("csrf_token", token.clone()),
        ("user_code", "BCDF-GHJK".into()),
    ])
    .await;
    assert_eq!(r.status(), 400, "an unknown code");
    let typed = user_code.replace('-', "").to_lowercase();
    let r = post(vec![("csrf_token", token.clone()), ("user_code", typed)]).await;
    assert_eq!(r.status(), 200);
    let consent = r.text().await.unwrap();
    assert!(consent.contains("Living room TV"), "{consent}");
    let mut answer = hidden_fields(&consent);
    answer.push(("decision".into(), "Accept".into()));
    let r = browser
        .client()
        .post(format!("{}/oauth/device", server.url))
        .form(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("connected"));
    // Without the page's token, nothing is answered; the consent page's token answers for
    // its own code only.
    let forged = post(vec![
        ("csrf_token", "x".into()),
        ("user_code", user_code.clone()),
    ])
    .await;
    assert_eq!(forged.status(), 403);
    let consent_token = hidden_fields(&consent)
        .into_iter()
        .find(|(n, _)| n == "csrf_token")
        .unwrap()
        .1;
    let other = post(vec![
        ("csrf_token", consent_token),
        ("user_code", "BCDF-GHJK".into()),
        ("decision", "Accept".into()),
    ])
    .await;
    assert_eq!(other.status(), 403, "another code with this page's token");

    let (status, tokens) = poll_device(&server, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let me = server.api_me(access).await;
    assert_eq!(me.status(), 200);
    let (_, again) = poll_device(&server, &device_code).await;
    assert_eq!(
        again["error"], "invalid_grant",
        "a device code is used once"
    );

    // Declined.
    let (_, codes) = ask("tv").await;
    let page = browser
        .get(codes["verification_uri_complete"].as_str().unwrap())
        .await;
    let page = page.text().await.unwrap();
    let token = hidden_fields(&page)
        .into_iter()
        .find(|(n, _)| n == "csrf_token")
        .unwrap()
        .1;
    let user_code = codes["user_code"].as_str().unwrap().to_owned();
    let consent = post(vec![("csrf_token", token), ("user_code", user_code)]).await;
    let mut answer = hidden_fields(&consent.text().await.unwrap());
    answer.push(("decision".into(), "Decline".into()));
    browser
        .client()
        .post(format!("{}/oauth/device", server.url))
        .form(&answer)
        .send()
        .await
        .unwrap();
    let (_, denied) = poll_device(&server, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(denied["error"], "access_denied");

    // Codes are rows in the store: one address asks for a bounded number a minute.
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(ask("tv").await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// Issue 28, the client side: a program without a browser of its own (a CLI) runs the
/// device grant through `ApiHandle` against `examples/auth_server.rs` — the user approves
/// on another device — and calls the API with the login it gets; a service gets a client
/// credentials token the same way. Both on the provider's pooled client.
#[rocket::async_test]
async fn a_cli_logs_in_with_the_device_grant_and_a_service_with_client_credentials() {
    use rocket_oauth::api::ApiHandle;
    use rocket_oauth::{Provider, ProviderDefaults};

    struct Auth;
    impl Provider for Auth {
        const NAME: &'static str = "auth";
        fn defaults() -> ProviderDefaults {
            ProviderDefaults::oauth2_from_config()
        }
    }

    let server = start_server_with(
        3600,
        free_port(),
        r#"
[[default.oauth_server.clients]]
id = "cli"
secret = "cli-secret"
redirect_uris = ["http://127.0.0.1:9999/cb"]
scopes = ["profile"]
grant_types = ["device_code", "refresh_token", "client_credentials"]
"#,
    )
    .await;
    let endpoint = |name: &str| server.metadata[name].as_str().unwrap().to_owned();
    let table = serde_json::json!({
        "client_id": "cli",
        "client_secret": "cli-secret",
        "redirect_uri": "http://127.0.0.1:9999/cb",
        "authorize_url": endpoint("authorization_endpoint"),
        "token_url": endpoint("token_endpoint"),
        "device_authorization_url": endpoint("device_authorization_endpoint"),
        "api_base_url": format!("{}/", server.url),
        "scopes": ["profile"],
    });
    let figment = rocket_oauth::testing::figment().merge(("oauth.auth", table));
    let rocket = rocket::custom(figment)
        .attach(Auth.fairing())
        .ignite()
        .await
        .unwrap();
    let auth = ApiHandle::<Auth>::of(&rocket).expect("the provider's fairing");

    let flow = auth.start_device_flow(&[]).await.unwrap();
    assert!(flow.verification_uri.ends_with("/oauth/device"));
    // The user, in a browser elsewhere.
    let browser = server.signed_in("alice").await;
    let page = browser
        .get(flow.verification_uri_complete.as_deref().unwrap())
        .await;
    let page = page.text().await.unwrap();
    let mut form = hidden_fields(&page);
    form.push(("user_code".into(), flow.user_code.clone()));
    let device = format!("{}/oauth/device", server.url);
    let consent = browser
        .client()
        .post(&device)
        .form(&form)
        .send()
        .await
        .unwrap();
    let mut answer = hidden_fields(&consent.text().await.unwrap());
    answer.push(("decision".into(), "Accept".into()));
    let done = browser
        .client()
        .post(&device)
        .form(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);

    let login = auth.finish_device_flow(&flow).await.unwrap();
    let me: Value = auth
        .client(login)
        .get("api/me")
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["username"], "alice");

    let service = auth.service_client(&["profile"]).await.unwrap();
    let me: Value = service.get("api/me").await.unwrap().json().unwrap();
    assert!(me["username"].is_null(), "the client itself: {me}");
}
