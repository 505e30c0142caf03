//! Every preset, logged in against the testing kit replaying its provider's documented
//! answers (profiles, email endpoints, GraphQL, odd token responses): the identity it makes
//! (its stable user id; an email verified only when the provider says so) and its quirks.

use rocket::figment::Figment;
use rocket::http::{Method, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::{json, Value};
use rocket::{get, routes};
use rocket_oauth::presets as kinds;
use rocket_oauth::testing::{self, Landing, MockProvider, MockResponse, MockUser, TokenReply};
use rocket_oauth::{AnyUser, Provider};

#[get("/who")]
fn who(user: AnyUser) -> Value {
    let identity = user.identity();
    json!({
        "subject": identity.map(|i| &i.subject),
        "email": identity.and_then(|i| i.email.as_ref()),
        "verified": identity.is_some_and(|i| i.email_verified),
        "name": identity.and_then(|i| i.name.as_ref()),
        "groups": identity.map(|i| &i.groups),
    })
}

/// Logs in with preset `K` against `mock` as `user`: where the login ended, and who the app
/// then sees (`null` when nobody).
async fn log_in<K: Provider + Default>(
    mock: &MockProvider,
    user: &str,
    tweak: impl FnOnce(Figment) -> Figment,
) -> (Landing, Value) {
    let figment = tweak(mock.configure::<K>(testing::figment()));
    let rocket = rocket::custom(figment)
        .attach(K::default().fairing())
        .mount("/", routes![who]);
    let client = Client::tracked(rocket).await.unwrap();
    let landing = mock.log_in::<K>(&client, user).await;
    let response = client.get("/who").dispatch().await;
    let who = response.into_json().await.unwrap_or(Value::Null);
    (landing, who)
}

/// A mock whose current user is `user`.
fn mock_with(user: MockUser) -> MockProvider {
    let mock = MockProvider::start();
    let subject = user.subject().to_owned();
    mock.add_user(user);
    mock.set_current_user(&subject);
    mock
}

fn identity(subject: &str, email: Option<&str>, verified: bool, name: Option<&str>) -> Value {
    json!({ "subject": subject, "email": email, "verified": verified, "name": name, "groups": [] })
}

async fn expect<K: Provider + Default>(mock: &MockProvider, expected: Value) {
    let (landing, who) = log_in::<K>(mock, "u", |f| f).await;
    assert_eq!(landing.status, Status::Ok, "{}: {}", K::NAME, landing.body);
    assert_eq!(who, expected, "{}", K::NAME);
}

#[rocket::async_test]
async fn github_uses_the_numeric_id_and_only_a_verified_primary_email() {
    // GitHub's documented `GET /user` (the public `email` may be null) and `GET /user/emails`.
    let user = MockUser::new("u").userinfo(json!({
        "login": "octocat", "id": 583231, "name": "The Octocat", "email": null,
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4"
    }));
    let mock = mock_with(user);
    let emails = std::sync::Arc::new(std::sync::Mutex::new(json!([
        {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
        {"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "public"}
    ])));
    let answer = emails.clone();
    mock.endpoint(Method::Get, "/user/emails", move |r| match r.user() {
        Some(_) => MockResponse::json(answer.lock().unwrap().clone()),
        None => MockResponse::unauthorized(),
    });
    expect::<kinds::GitHub>(
        &mock,
        identity(
            "583231",
            Some("octocat@github.com"),
            true,
            Some("The Octocat"),
        ),
    )
    .await;
    // An unverified primary email does not count.
    *emails.lock().unwrap() =
        json!([{"email": "new@github.com", "primary": true, "verified": false}]);
    expect::<kinds::GitHub>(
        &mock,
        identity("583231", Some("new@github.com"), false, Some("The Octocat")),
    )
    .await;
    // GitHub's token errors come with a 200.
    mock.script(|s| s.token = TokenReply::ErrorIn200);
    let (landing, who) = log_in::<kinds::GitHub>(&mock, "u", |f| f).await;
    assert_eq!(landing.status, Status::BadRequest);
    assert!(
        landing.body.contains("bad_verification_code"),
        "{}",
        landing.body
    );
    assert_eq!(who, Value::Null);
    // client_secret_post, PKCE S256.
    let token = &mock.requests_to("/token")[0];
    assert!(token.header("authorization").is_none());
    assert!(token.form_param("client_secret").is_some());
    assert!(mock.requests_to("/authorize")[0]
        .query_param("code_challenge")
        .is_some());
}

#[rocket::async_test]
async fn oauth2_presets_read_their_providers_profiles() {
    // Discord `GET /users/@me`: the email counts when the account is `verified`.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
        "email": "nelly@discord.com", "verified": true
    })));
    expect::<kinds::Discord>(
        &mock,
        identity(
            "80351110224678912",
            Some("nelly@discord.com"),
            true,
            Some("Nelly"),
        ),
    )
    .await;

    // Spotify `GET /v1/me`: `account_id` first; its email is never verified.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "id": "wizzler", "account_id": "acc-8f2", "display_name": "JM Wizzler",
        "email": "wizzler@example.com", "images": []
    })));
    expect::<kinds::Spotify>(
        &mock,
        identity(
            "acc-8f2",
            Some("wizzler@example.com"),
            false,
            Some("JM Wizzler"),
        ),
    )
    .await;

    // Amazon `GET /user/profile`: no verification flag.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "user_id": "amzn1.account.K2LI23KL2LK2", "email": "mhashimoto-04@plaxo.com",
        "name": "Mork Hashimoto", "postal_code": "98052"
    })));
    expect::<kinds::Amazon>(
        &mock,
        identity(
            "amzn1.account.K2LI23KL2LK2",
            Some("mhashimoto-04@plaxo.com"),
            false,
            Some("Mork Hashimoto"),
        ),
    )
    .await;

    // Zoom `GET /v2/users/me`: `verified` is an integer.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
        "display_name": "Jill Chill", "email": "jchill@example.com", "verified": 1
    })));
    expect::<kinds::Zoom>(
        &mock,
        identity(
            "KDcuGIm1QgePTO8WbOqwIQ",
            Some("jchill@example.com"),
            true,
            Some("Jill Chill"),
        ),
    )
    .await;

    // Box `GET /2.0/users/me`: the email is `login`, with no flag.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com"
    })));
    expect::<kinds::BoxCom>(
        &mock,
        identity(
            "11446498",
            Some("ceo@example.com"),
            false,
            Some("Aaron Levie"),
        ),
    )
    .await;

    // Patreon's JSON:API identity.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "data": {"id": "12345", "type": "user", "attributes": {
            "email": "pat@example.com", "full_name": "Pat Ron", "is_email_verified": true
        }}
    })));
    expect::<kinds::Patreon>(
        &mock,
        identity("12345", Some("pat@example.com"), true, Some("Pat Ron")),
    )
    .await;

    // Kakao `GET /v2/user/me`: a numeric id, the account nested.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "id": 123456789,
        "kakao_account": {"email": "k@kakao.example", "is_email_verified": true,
            "is_email_valid": true, "profile": {"nickname": "홍길동"}}
    })));
    expect::<kinds::Kakao>(
        &mock,
        identity("123456789", Some("k@kakao.example"), true, Some("홍길동")),
    )
    .await;
}

#[rocket::async_test]
async fn facebook_needs_no_token_type() {
    // Facebook's token answer has no `token_type`.
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "id": "10158", "name": "Mark", "email": "mark@example.com",
        "picture": {"data": {"url": "https://platform-lookaside.fbsbx.com/p.jpg"}}
    })));
    mock.script(|s| {
        s.token = TokenReply::custom(|t| {
            MockResponse::json(json!({"access_token": t.access_token, "expires_in": 5183944}))
        })
    });
    expect::<kinds::Facebook>(
        &mock,
        identity("10158", Some("mark@example.com"), false, Some("Mark")),
    )
    .await;
    let authorize = &mock.requests_to("/authorize")[0];
    assert_eq!(
        authorize.query_param("scope").as_deref(),
        Some("email public_profile")
    );
}

#[rocket::async_test]
async fn x_sends_pkce_and_reads_the_confirmed_email() {
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "data": {"id": "2244994945", "name": "X Dev", "username": "XDevelopers",
            "confirmed_email": "dev@example.com"}
    })));
    expect::<kinds::X>(
        &mock,
        identity("2244994945", Some("dev@example.com"), true, Some("X Dev")),
    )
    .await;
    let authorize = &mock.requests_to("/authorize")[0];
    assert_eq!(
        authorize.query_param("code_challenge_method").as_deref(),
        Some("S256")
    );
    // Basic authentication, as X wants from confidential clients.
    assert!(mock.requests_to("/token")[0]
        .header("authorization")
        .is_some());
}

#[rocket::async_test]
async fn bitbucket_reads_the_confirmed_primary_email() {
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "uuid": "{b5e2e4a1-5a0f-4b1c-8d6f-1b2c3d4e5f60}", "account_id": "557058:1",
        "display_name": "Emma", "username": "emma"
    })));
    mock.endpoint(Method::Get, "/user/emails", |_| {
        MockResponse::json(json!({"values": [
            {"email": "emma@example.com", "is_primary": true, "is_confirmed": true, "type": "email"}
        ]}))
    });
    expect::<kinds::Bitbucket>(
        &mock,
        identity(
            "{b5e2e4a1-5a0f-4b1c-8d6f-1b2c3d4e5f60}",
            Some("emma@example.com"),
            true,
            Some("Emma"),
        ),
    )
    .await;
}

#[rocket::async_test]
async fn atlassian_and_reddit_send_their_extra_parameters() {
    let mock = mock_with(MockUser::new("u").userinfo(json!({
        "account_type": "atlassian", "account_id": "5b10ac8d82e05b22cc7d4ef5",
        "email": "anna@example.com", "name": "Anna", "account_status": "active"
    })));
    expect::<kinds::Atlassian>(
        &mock,
        identity(
            "5b10ac8d82e05b22cc7d4ef5",
            Some("anna@example.com"),
            false,
            Some("Anna"),
        ),
    )
    .await;
    let authorize = &mock.requests_to("/authorize")[0];
    assert_eq!(
        authorize.query_param("audience").as_deref(),
        Some("api.atlassian.com")
    );
    assert_eq!(authorize.query_param("prompt").as_deref(), Some("consent"));

    let mock = mock_with(MockUser::new("u").userinfo(json!({"id": "abc12", "name": "spez"})));
    expect::<kinds::Reddit>(&mock, identity("abc12", None, false, Some("spez"))).await;
    let authorize = &mock.requests_to("/authorize")[0];
    assert_eq!(
        authorize.query_param("duration").as_deref(),
        Some("permanent")
    );
}

/// Upwork's GraphQL API as documented: the user, the companies they can act in, and each
/// company's teams (asked with the `X-Upwork-API-TenantId` header).
fn upwork_api(mock: &MockProvider, fail_teams: bool) {
    mock.endpoint(Method::Post, "/graphql", move |request| {
        if request.user().is_none() {
            return MockResponse::unauthorized();
        }
        let query = request.json().unwrap_or_default()["query"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tenant = request.request().header("x-upwork-api-tenantid").map(str::to_owned);
        if query.contains("companySelector") {
            return MockResponse::json(json!({"data": {"companySelector": {"items": [
                {"title": "Bootcamp", "organizationId": "1389421839", "organizationRid": "424242",
                 "organizationType": "Client"}
            ]}}}));
        }
        if query.contains("childOrganizations") {
            if fail_teams {
                return MockResponse::json(json!({"errors": [{"message": "Authorization failed"}], "data": null}));
            }
            assert_eq!(tenant.as_deref(), Some("1389421839"));
            return MockResponse::json(json!({"data": {"organization": {
                "id": "1389421839", "rid": "424242", "legacyId": "odesk:odeskpsbootcamp",
                "name": "Bootcamp", "childOrganizations": [
                    {"id": "1400000001", "rid": "77", "legacyId": "odesk:teamalpha",
                     "name": "Alpha", "active": true, "hidden": false}
                ]
            }}}));
        }
        MockResponse::json(json!({"data": {
            "user": {"id": "~01abc", "nid": "jdoe", "rid": "1234", "email": "jdoe@example.com", "name": "J Doe"},
            "organization": {"id": "1389421839", "name": "Bootcamp"}
        }}))
    });
}

#[rocket::async_test]
async fn upwork_admits_by_team_as_the_odesk_seeds_did() {
    let mock = mock_with(MockUser::new("u"));
    upwork_api(&mock, false);
    // Only members of the seeds' team get in, staff by another team id form.
    let access = |f: Figment| {
        f.merge((
            "oauth.upwork.access",
            json!({"policy": "listed", "teams": ["odesk:teamalpha"],
                   "roles": {"staff": {"teams": ["77"]}}}),
        ))
    };
    let (landing, who) = log_in::<kinds::Upwork>(&mock, "u", access).await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    assert_eq!(who["subject"], "~01abc");
    assert_eq!(who["email"], "jdoe@example.com");
    assert_eq!(who["verified"], false, "Upwork has no verified flag");
    let groups: Vec<String> = serde_json::from_value(who["groups"].clone()).unwrap();
    for id in [
        "1389421839",
        "424242",
        "1400000001",
        "77",
        "odesk:teamalpha",
    ] {
        assert!(groups.iter().any(|g| g == id), "{id} in {groups:?}");
    }
    // Not a member: refused.
    let others = |f: Figment| {
        f.merge((
            "oauth.upwork.access",
            json!({"policy": "listed", "teams": ["odesk:other"]}),
        ))
    };
    let (landing, _) = log_in::<kinds::Upwork>(&mock, "u", others).await;
    assert_eq!(landing.status, Status::Forbidden);
    // A GraphQL error fails closed.
    let failing = mock_with(MockUser::new("u"));
    upwork_api(&failing, true);
    let (landing, who) = log_in::<kinds::Upwork>(&failing, "u", |f| f).await;
    assert_eq!(landing.status, Status::Forbidden);
    assert!(
        landing.body.contains("Authorization failed"),
        "{}",
        landing.body
    );
    assert_eq!(who, Value::Null);
}

/// Upwork's API down (a 5xx) is the provider being unavailable (502), not a refusal; an
/// answer that refuses the token (4xx) still refuses the login (403).
#[rocket::async_test]
async fn upwork_api_outages_are_502_and_refusals_403() {
    for (status, expected) in [(503, Status::BadGateway), (403, Status::Forbidden)] {
        let mock = mock_with(MockUser::new("u"));
        mock.endpoint(Method::Post, "/graphql", move |_| {
            MockResponse::json(json!({"message": "nope"})).status(status)
        });
        let (landing, who) = log_in::<kinds::Upwork>(&mock, "u", |f| f).await;
        assert_eq!(landing.status, expected, "{status}: {}", landing.body);
        if expected == Status::BadGateway {
            assert!(
                landing.body.contains("Provider unavailable"),
                "{}",
                landing.body
            );
        }
        assert_eq!(who, Value::Null, "not logged in");
    }
}

#[cfg(feature = "oidc")]
mod oidc {
    use super::*;
    use rocket_oauth::testing::NonceReply;

    /// An OpenID Connect user: claims in the ID token and userinfo.
    fn person() -> MockUser {
        MockUser::new("u")
            .email("jane@example.com")
            .name("Jane Doe")
    }

    #[rocket::async_test]
    async fn oidc_presets_log_in_with_validated_id_tokens() {
        let jane = identity("u", Some("jane@example.com"), true, Some("Jane Doe"));
        macro_rules! check {
            ($($kind:ident),*) => {$(
                let mock = mock_with(person());
                expect::<kinds::$kind>(&mock, jane.clone()).await;
                let authorize = &mock.requests_to("/authorize")[0];
                assert!(authorize.query_param("nonce").is_some(), stringify!($kind));
                assert_eq!(mock.requests_to("/jwks").len(), 1, stringify!($kind));
            )*};
        }
        check!(Google, GitLab, Keycloak, Auth0, Okta, Salesforce, Yahoo);
    }

    #[rocket::async_test]
    async fn linkedin_without_a_nonce_or_pkce_and_with_string_booleans() {
        let mock = mock_with(person().claim("email_verified", "true"));
        mock.script(|s| s.id_token.nonce = NonceReply::Omit);
        expect::<kinds::LinkedIn>(
            &mock,
            identity("u", Some("jane@example.com"), true, Some("Jane Doe")),
        )
        .await;
        let authorize = &mock.requests_to("/authorize")[0];
        assert!(authorize.query_param("code_challenge").is_none());
        assert!(mock.requests_to("/token")[0]
            .form_param("client_secret")
            .is_some());
    }

    #[rocket::async_test]
    async fn microsoft_keys_users_by_tenant_and_object_id() {
        let user = person()
            .claim("tid", "9188040d-6c67-4c5b-b112-36a304b66dad")
            .claim("oid", "00000000-0000-0000-66f3-3332eca7ea81");
        let mock = mock_with(user);
        expect::<kinds::Microsoft>(
            &mock,
            identity(
                "9188040d-6c67-4c5b-b112-36a304b66dad/00000000-0000-0000-66f3-3332eca7ea81",
                Some("jane@example.com"),
                false,
                Some("Jane Doe"),
            ),
        )
        .await;
    }

    #[rocket::async_test]
    async fn apple_calls_back_with_a_form_post() {
        let mock = mock_with(person());
        expect::<kinds::Apple>(
            &mock,
            identity("u", Some("jane@example.com"), true, Some("Jane Doe")),
        )
        .await;
        let authorize = &mock.requests_to("/authorize")[0];
        assert_eq!(
            authorize.query_param("response_mode").as_deref(),
            Some("form_post")
        );
        assert_eq!(
            authorize.query_param("scope").as_deref(),
            Some("openid name email")
        );

        // The first login brings the name once, in the form's `user` field (not signed:
        // never the email).
        let mock = mock_with(MockUser::new("u").email("relay@privaterelay.appleid.com"));
        mock.script(|s| {
            s.authorization_extra = vec![(
                "user".into(),
                r#"{"name":{"firstName":"Jane","lastName":"Doe"},"email":"evil@example.com"}"#
                    .into(),
            )]
        });
        expect::<kinds::Apple>(
            &mock,
            identity(
                "u",
                Some("relay@privaterelay.appleid.com"),
                true,
                Some("Jane Doe"),
            ),
        )
        .await;
    }

    #[rocket::async_test]
    async fn twitch_asks_for_claims_and_sends_scopes_as_an_array() {
        let mock = mock_with(person());
        mock.script(|s| {
            s.token = TokenReply::custom(|t| {
                let mut body = t.json();
                body["scope"] = json!(["openid", "user:read:email"]);
                MockResponse::json(body)
            })
        });
        expect::<kinds::Twitch>(
            &mock,
            identity("u", Some("jane@example.com"), true, Some("Jane Doe")),
        )
        .await;
        let claims = mock.requests_to("/authorize")[0]
            .query_param("claims")
            .unwrap();
        let claims: Value = serde_json::from_str(&claims).unwrap();
        assert!(claims["id_token"].get("email_verified").is_some());
    }

    #[rocket::async_test]
    async fn slack_errors_in_a_200_are_refusals() {
        let mock = mock_with(person());
        mock.script(|s| {
            s.token = TokenReply::custom(|_| {
                MockResponse::json(json!({"ok": false, "error": "invalid_code"}))
            })
        });
        let (landing, who) = log_in::<kinds::Slack>(&mock, "u", |f| f).await;
        assert_eq!(landing.status, Status::BadRequest, "{}", landing.body);
        assert!(landing.body.contains("invalid_code"), "{}", landing.body);
        assert_eq!(who, Value::Null);
        // Without PKCE by default.
        assert!(mock.requests_to("/authorize")[0]
            .query_param("code_challenge")
            .is_none());
    }

    /// With feature `apple`, the preset signs its client secret: an ES256 JWT from the key
    /// file, `iss` the team id, `sub` the client id, `aud` the issuer, `kid` the key id.
    #[cfg(feature = "apple")]
    #[rocket::async_test]
    async fn apple_signs_its_client_secret_from_the_key_file() {
        let mock = mock_with(person());
        mock.script(|s| s.ignore_client_secret = true);
        let (landing, _) = log_in::<kinds::Apple>(&mock, "u", |f| {
            f.merge(("oauth.apple.client_secret", "")).merge((
                "oauth.apple.client_secret_jwt",
                json!({"team_id": "TEAM123456", "key_id": "KEY1234567",
                           "private_key_file": "tests/keys/apple_authkey.p8"}),
            ))
        })
        .await;
        assert_eq!(landing.status, Status::Ok, "{}", landing.body);
        let secret = mock.requests_to("/token")[0]
            .form_param("client_secret")
            .expect("client_secret_post");
        // Checked with the public key file by p256's verifier.
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use p256::ecdsa::signature::Verifier as _;
        use p256::pkcs8::DecodePublicKey as _;
        let key = p256::ecdsa::VerifyingKey::from_public_key_pem(
            &std::fs::read_to_string("tests/keys/apple_authkey.pub.pem").unwrap(),
        )
        .unwrap();
        let (signed, signature) = secret.rsplit_once('.').unwrap();
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
                .unwrap();
        key.verify(signed.as_bytes(), &signature)
            .expect("an ES256 signature by the key file's key");
        let part = |i: usize| -> Value {
            serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(signed.split('.').nth(i).unwrap())
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(part(0), json!({"alg": "ES256", "kid": "KEY1234567"}));
        let claims = part(1);
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["aud"], mock.issuer());
        assert_eq!(claims["sub"], rocket_oauth::testing::CLIENT_ID);
        let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64;
        assert!(claims["exp"].as_i64().unwrap() > now);

        // A key that cannot sign stops the launch, naming the key.
        let figment = mock
            .configure::<kinds::Apple>(testing::figment())
            .merge(("oauth.apple.client_secret", ""))
            .merge((
                "oauth.apple.client_secret_jwt",
                json!({"team_id": "T", "key_id": "K", "private_key": "not a key"}),
            ));
        let error = rocket::custom(figment)
            .attach(kinds::Apple.fairing())
            .ignite()
            .await
            .unwrap_err();
        assert!(matches!(
            error.kind(),
            rocket::error::ErrorKind::FailedFairings(_)
        ));
    }
}

/// A preset takes the app's hooks like any provider, and its guards still name the preset
/// alone (`User<GitHub>`): the preset's own identity first, then the hooks'.
#[rocket::async_test]
async fn a_preset_runs_the_apps_hooks_and_its_guards_name_it_alone() {
    use rocket_oauth::{ApiClient, Denial, Hooks, Identity, Login, User};

    struct Tagged;

    #[rocket::async_trait]
    impl Hooks for Tagged {
        async fn identify(
            &self,
            login: &Login,
            _api: &ApiClient<'_>,
        ) -> Result<Option<Identity>, Denial> {
            // The preset's reading of the profile is there to change.
            let identity = login.identity().cloned().expect("the preset's identity");
            Ok(Some(identity.with_groups(["tagged".to_owned()])))
        }
    }

    #[get("/github-user")]
    fn github_user(user: User<kinds::GitHub>) -> Value {
        json!({ "subject": user.subject, "groups": user.groups })
    }

    let user = MockUser::new("u").userinfo(json!({"login": "octocat", "id": 583231}));
    let mock = mock_with(user);
    mock.endpoint(Method::Get, "/user/emails", |_| {
        MockResponse::json(json!([]))
    });
    let rocket = rocket::custom(mock.configure::<kinds::GitHub>(testing::figment()))
        .attach(kinds::GitHub.fairing().hooks(Tagged))
        .mount("/", routes![github_user]);
    let client = Client::tracked(rocket).await.unwrap();
    let landing = mock.log_in::<kinds::GitHub>(&client, "u").await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    let who: Value = client
        .get("/github-user")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(who, json!({"subject": "583231", "groups": ["tagged"]}));
}

/// Issue 26, item 3: the kit plays a preset's provider (`mock.preset::<P>()`): its userinfo
/// shape and its further calls, from plain `MockUser`s — no hand-written mock.
#[rocket::async_test]
async fn the_kit_plays_each_presets_provider() {
    let user = || {
        MockUser::new("u")
            .email("una@example.com")
            .name("Una")
            .groups(["org-1", "team-a"])
    };
    // GitHub: the numeric-id-shaped profile and `user/emails`.
    let mock = mock_with(user());
    mock.preset::<kinds::GitHub>();
    expect::<kinds::GitHub>(
        &mock,
        json!({"subject": "u", "email": "una@example.com", "verified": true, "name": "Una",
               "groups": ["org-1", "team-a"]}),
    )
    .await;
    assert_eq!(mock.requests_to("/user/emails").len(), 1);
    // An unverified email stays unverified.
    let mock = mock_with(MockUser::new("u").unverified_email("two@example.com"));
    mock.preset::<kinds::Bitbucket>();
    expect::<kinds::Bitbucket>(&mock, identity("u", Some("two@example.com"), false, None)).await;
    // X nests its profile under `data`.
    let mock = mock_with(MockUser::new("u").email("x@example.com").name("Ex"));
    mock.preset::<kinds::X>();
    expect::<kinds::X>(
        &mock,
        identity("u", Some("x@example.com"), true, Some("Ex")),
    )
    .await;
    // Upwork: the GraphQL user, company and teams, so team rules work.
    let mock = mock_with(user());
    mock.preset::<kinds::Upwork>();
    let team_a = |f: Figment| {
        f.merge((
            "oauth.upwork.access",
            json!({"policy": "listed", "teams": ["team-a"]}),
        ))
    };
    let (landing, who) = log_in::<kinds::Upwork>(&mock, "u", team_a).await;
    assert_eq!(landing.status, Status::Ok, "{}", landing.body);
    assert_eq!(who["subject"], "u");
    assert_eq!(who["groups"], json!(["org-1", "team-a"]));
    let team_b = |f: Figment| {
        f.merge((
            "oauth.upwork.access",
            json!({"policy": "listed", "teams": ["team-b"]}),
        ))
    };
    let (landing, _) = log_in::<kinds::Upwork>(&mock, "u", team_b).await;
    assert_eq!(landing.status, Status::Forbidden);
}
