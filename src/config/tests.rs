//! The configuration's unit tests.

use rocket::figment::providers::Serialized;
use rocket::figment::Figment;

use super::*;

#[test]
fn figment_errors_name_the_full_key_once() {
    let defaults = ProviderDefaults::oauth2("https://p.example/a", "https://p.example/t");
    let cases = [
        (
            r#"{"client_id": 5, "redirect_uri": "http://127.0.0.1/cb"}"#,
            "oauth.gh.client_id",
            "expected a string",
        ),
        (
            r#"{"client_id": "x", "redirect_uri": "http://127.0.0.1/cb", "scopez": 1}"#,
            "oauth.gh.scopez",
            "unknown key",
        ),
        (
            r#"{"client_id": "x", "redirect_uri": "http://127.0.0.1/cb", "access": {"policy": 3}}"#,
            "oauth.gh.access.policy",
            "",
        ),
    ];
    for (json, key, reason) in cases {
        let figment = Figment::new().merge(rocket::figment::providers::Serialized::default(
            "oauth.gh",
            serde_json::from_str::<serde_json::Value>(json).unwrap(),
        ));
        let err = ProviderConfig::from_figment(&figment, "gh", &defaults, false).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("invalid configuration key `{key}`: ")),
            "{text}"
        );
        assert!(text.contains(reason), "{text}");
        assert!(!text.contains("``") && !text.contains("GH"), "{text}");
    }
}

const DEFAULTS: ProviderDefaults =
    ProviderDefaults::oauth2("https://p.example/authorize", "https://p.example/token");

fn resolve(json: &str, defaults: &ProviderDefaults) -> Result<ProviderConfig, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let figment = Figment::from(Serialized::default("oauth.p", value));
    ProviderConfig::from_figment(&figment, "p", defaults, false)
}

#[test]
fn names_missing_and_invalid_keys() {
    let err = resolve("{}", &DEFAULTS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing configuration key `oauth.p.client_id`"
    );
    let err = resolve(r#"{"client_id":"x"}"#, &DEFAULTS).unwrap_err();
    assert!(err.to_string().contains("oauth.p.redirect_uri"), "{err}");
    let err = resolve(
        r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","token_url":"http://evil.example/t"}"#,
        &DEFAULTS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("`oauth.p.token_url`"), "{err}");
    let err = resolve(r#"{"client_idd":"x"}"#, &DEFAULTS).unwrap_err();
    assert!(err.to_string().contains("client_idd"), "{err}");
    let err = resolve(
        r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb"}"#,
        &ProviderDefaults::oauth2_from_config(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing configuration key `oauth.p.authorize_url`"
    );
}

#[test]
fn overrides_and_scopes() {
    let config = resolve(
        r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback",
            "token_url":"http://127.0.0.1:9/token","scopes":"a b"}"#,
        &DEFAULTS,
    )
    .unwrap();
    assert_eq!(
        config.token_url.unwrap().as_str(),
        "http://127.0.0.1:9/token"
    );
    assert_eq!(
        config.authorize_url.unwrap().as_str(),
        "https://p.example/authorize"
    );
    assert_eq!(config.scopes, ["a", "b"]);
    assert_eq!(config.base_path, "/auth/p");
    assert!(config.pkce && config.protocol.oidc().is_none());
    let defaults = DEFAULTS.scopes(&["x"]).pkce(false);
    let config = resolve(
        r#"{"client_id":"x","client_secret":"s","redirect_uri":"http://localhost/cb"}"#,
        &defaults,
    );
    let config = config.unwrap();
    assert_eq!(config.scopes, ["x"]);
    assert!(!config.pkce);
}

#[test]
fn redirect_uri_decides_secure_cookies_and_must_be_https_off_loopback() {
    let base = r#""client_id":"x","client_secret":"s""#;
    let err = resolve(
        &format!(r#"{{{base},"redirect_uri":"http://app.example/cb"}}"#),
        &DEFAULTS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("oauth.p.redirect_uri"), "{err}");
    let https = resolve(
        &format!(r#"{{{base},"redirect_uri":"https://app.example/cb"}}"#),
        &DEFAULTS,
    );
    assert!(https.unwrap().secure_cookies);
    let local = resolve(
        &format!(r#"{{{base},"redirect_uri":"http://127.0.0.1/cb"}}"#),
        &DEFAULTS,
    );
    assert!(!local.unwrap().secure_cookies);
}

#[test]
fn a_public_client_needs_pkce() {
    let err = resolve(
        r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","pkce":false}"#,
        &DEFAULTS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("oauth.p.pkce"), "{err}");
}

#[test]
fn oauth1_keys_are_validated() {
    let oauth1 = ProviderDefaults::oauth1(
        "https://p.example/request",
        "https://p.example/authorize",
        "https://p.example/access",
    );
    let base = r#""consumer_key":"k","callback_url":"http://127.0.0.1/cb""#;
    let err = |extra: &str| {
        resolve(&format!("{{{base}{extra}}}"), &oauth1)
            .unwrap_err()
            .to_string()
    };
    assert!(err("").contains("oauth.p.consumer_secret"));
    let secret = r#","consumer_secret":"s""#;
    assert!(
        err(&format!(r#"{secret},"token_url":"https://p.example/t""#))
            .contains("oauth.p.token_url")
    );
    assert!(err(r#","signature_method":"RSA-SHA1""#).contains("oauth.p.private_key"));
    assert!(
        err(r#","signature_method":"RSA-SHA1","private_key":"not a key""#)
            .contains("oauth.p.private_key")
    );
    let config = resolve(&format!("{{{base}{secret}}}"), &oauth1).unwrap();
    let oauth1_config = config.protocol.oauth1().unwrap().clone();
    assert_eq!(oauth1_config.signature_method, SignatureMethod::HmacSha1);
    assert_eq!(config.client_id, "k");
    let err = resolve(
        r#"{"client_id":"x","redirect_uri":"http://127.0.0.1/cb","request_token_url":"https://p.example/r"}"#,
        &DEFAULTS,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("oauth.p.request_token_url"),
        "{err}"
    );
}

#[test]
fn keys_of_another_protocol_are_refused() {
    let err = resolve(
        r#"{"client_id":"x","redirect_uri":"http://a/cb","tenants":["t"]}"#,
        &DEFAULTS,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "configuration key `oauth.p.tenants` does not apply to OAuth 2 providers"
    );
}

#[cfg(feature = "oidc")]
#[test]
fn oidc_needs_an_issuer_and_tenants_for_templates() {
    let oidc = ProviderDefaults::oidc_from_config();
    let base = r#""client_id":"x","redirect_uri":"http://127.0.0.1/auth/p/callback""#;
    let err = resolve(&format!("{{{base}}}"), &oidc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing configuration key `oauth.p.issuer`"
    );
    let config = resolve(
        &format!(r#"{{{base},"issuer":"https://idp.example"}}"#),
        &oidc,
    )
    .unwrap();
    assert!(config.authorize_url.is_none() && config.token_url.is_none());
    assert!(config.protocol.oidc().unwrap().require_nonce);
    let ms = r#""issuer":"https://login.microsoftonline.com/{tenantid}/v2.0""#;
    let err = resolve(&format!("{{{base},{ms}}}"), &oidc).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing configuration key `oauth.p.tenants`"
    );
    let tenants = r#""tenants":["9188040d-6c67-4c5b-b112-36a304b66dad"]"#;
    let err = resolve(&format!("{{{base},{ms},{tenants}}}"), &oidc).unwrap_err();
    assert!(err.to_string().contains("oauth.p.discovery_url"), "{err}");
    let url = r#""discovery_url":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration""#;
    resolve(&format!("{{{base},{ms},{tenants},{url}}}"), &oidc).unwrap();
}

/// Each protocol's keys are the fields of its `*Keys` struct: the crate docs' configuration
/// table lists every one of them.
#[test]
fn every_protocol_key_is_documented() {
    let docs = include_str!("../lib.rs");
    let oidc = fields::<OidcKeys>();
    let oauth1 = fields::<OAuth1Keys>();
    let sender = fields::<SenderKeys>();
    assert!(oidc.contains(&"tenants") && oauth1.contains(&"signature_method"));
    assert!(sender.contains(&"dpop"));
    for key in oidc.iter().chain(oauth1).chain(sender) {
        assert!(
            docs.contains(&format!("`{key}`")),
            "`{key}` is not in the crate docs"
        );
    }
}

#[test]
fn a_table_may_name_its_own_protocol_only() {
    let table = |protocol: &str| {
        format!(
            r#"{{"client_id": "x", "redirect_uri": "http://127.0.0.1/cb", "protocol": "{protocol}"}}"#
        )
    };
    assert!(resolve(&table("oauth2"), &DEFAULTS).is_ok());
    for other in ["oidc", "oauth1", "OAuth2"] {
        let err = resolve(&table(other), &DEFAULTS).unwrap_err().to_string();
        assert!(
            err.contains("`oauth.p.protocol`") && err.contains("`oauth2`"),
            "{err}"
        );
    }
}

#[test]
fn sender_keys_are_checked_and_name_their_key() {
    let base = r#""client_id": "x", "redirect_uri": "http://127.0.0.1/cb""#;
    let pem = {
        let (_, pkcs8) = crate::protocol::jose::SigningKey::generate_es256().unwrap();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pkcs8);
        // PEM lines are 64 characters; JSON writes the newlines as `\\n`.
        let lines: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n",
            lines.join("\\n")
        )
    };
    let ok = resolve(
        &format!(
            r#"{{{base}, "client_auth": "private_key_jwt", "client_key": "{pem}", "dpop": true, "par": true, "par_url": "https://p.example/par", "jwks_route": true}}"#
        ),
        &DEFAULTS,
    )
    .unwrap();
    assert!(ok.sender.dpop && ok.sender.jwks_route && ok.sender.assertion.is_some());
    assert_eq!(ok.sender.par, Some(true));
    let refused = [
        (r#""client_auth": "private_key_jwt""#, "oauth.p.client_key"),
        (
            r#""client_auth": "private_key_jwt", "client_key": "/no/such/key.pem""#,
            "oauth.p.client_key",
        ),
        (r#""client_key": "/no/such/key.pem""#, "oauth.p.client_key"),
        (
            r#""client_auth": "client_secret_jwt""#,
            "oauth.p.client_secret",
        ),
        (r#""par": true"#, "oauth.p.par_url"),
        (
            r#""jwks_route": true, "client_secret": "s""#,
            "oauth.p.jwks_route",
        ),
        (r#""par_url": "http://p.example/par""#, "oauth.p.par_url"),
    ];
    for (keys, key) in refused {
        let err = resolve(&format!("{{{base}, {keys}}}"), &DEFAULTS).unwrap_err();
        assert!(
            err.to_string().contains(&format!("`{key}`")),
            "{keys}: {err}"
        );
    }
}
