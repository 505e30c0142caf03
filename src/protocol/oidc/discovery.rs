//! OpenID Connect Discovery 1.0: the provider's configuration document, parsed leniently.

use openidconnect::core::CoreJwsSigningAlgorithm;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

use crate::protocol::error::DiscoveryError;
use crate::protocol::http::{HttpClient, HttpError};
use crate::util::truthy;

/// An OpenID Provider's discovery document, parsed leniently: unknown fields and algorithm
/// names are ignored, booleans may be strings.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
    #[serde(default)]
    pub device_authorization_endpoint: Option<Url>,
    #[serde(default, deserialize_with = "string_list")]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub authorization_response_iss_parameter_supported: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub backchannel_logout_supported: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub backchannel_logout_session_supported: bool,
    /// RFC 9126.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<Url>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub require_pushed_authorization_requests: bool,
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}

/// A metadata document that names its issuer (an OpenID Provider's configuration, an RFC
/// 8414 authorization server's metadata).
pub(crate) trait Issued: DeserializeOwned {
    fn issuer(&self) -> &str;
}

impl Issued for Discovery {
    fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// What a resource server needs of its issuer's metadata: where the keys are, and where
/// tokens are introspected.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ServerMetadata {
    pub issuer: String,
    #[serde(default)]
    pub jwks_uri: Option<Url>,
    #[serde(default)]
    pub introspection_endpoint: Option<Url>,
}

impl Issued for ServerMetadata {
    fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// Fetches the discovery document (by default `<issuer>/.well-known/openid-configuration`)
/// and checks that it names `issuer`.
pub(crate) async fn discover<T: Issued>(
    http: &HttpClient,
    issuer: &str,
    url: Option<&Url>,
) -> Result<T, DiscoveryError> {
    let url = match url {
        Some(url) => url.clone(),
        None => well_known(issuer, "openid-configuration", false)?,
    };
    let document: T = http.get_json(&url, None).await?;
    if document.issuer().trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.to_owned(),
            found: document.issuer().to_owned(),
        });
    }
    Ok(document)
}

/// An authorization server's metadata: its OpenID configuration, or (when there is none) its
/// RFC 8414 metadata at `/.well-known/oauth-authorization-server` (before the issuer's path).
pub(crate) async fn discover_server(
    http: &HttpClient,
    issuer: &str,
    url: Option<&Url>,
) -> Result<ServerMetadata, DiscoveryError> {
    match discover(http, issuer, url).await {
        Err(DiscoveryError::Http(HttpError::Status(404))) if url.is_none() => {
            let rfc8414 = well_known(issuer, "oauth-authorization-server", true)?;
            discover(http, issuer, Some(&rfc8414)).await
        }
        other => other,
    }
}

/// `<issuer>/.well-known/<name>`, or with `inserted`, RFC 8414 §3's
/// `<origin>/.well-known/<name><issuer's path>`.
fn well_known(issuer: &str, name: &str, inserted: bool) -> Result<Url, DiscoveryError> {
    let bad = |e: url::ParseError| DiscoveryError::Http(HttpError::Request(e.to_string()));
    let issuer = issuer.trim_end_matches('/');
    if !inserted {
        return Url::parse(&format!("{issuer}/.well-known/{name}")).map_err(bad);
    }
    let parsed = Url::parse(issuer).map_err(bad)?;
    let path = parsed.path().trim_end_matches('/');
    let origin = parsed.origin().ascii_serialization();
    Url::parse(&format!("{origin}/.well-known/{name}{path}")).map_err(bad)
}

/// Deserializes a boolean leniently: `true` or `"true"`; anything else reads as `false`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(truthy(Some(&Value::deserialize(d)?)))
}

/// Whether a discovered endpoint may be used: `https`, or `http` on loopback.
pub(crate) fn usable(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && crate::util::is_loopback(url))
}

/// The asymmetric algorithms among `advertised` that we can verify; RS256 when the provider
/// advertises none we know (RS256 is what OIDC Discovery makes mandatory to support).
pub(crate) fn allowed_algs(advertised: &[String]) -> Vec<CoreJwsSigningAlgorithm> {
    let algs: Vec<CoreJwsSigningAlgorithm> = advertised
        .iter()
        .filter(|name| !name.starts_with("HS") && name.as_str() != "none")
        .filter_map(|name| serde_json::from_value(Value::String(name.clone())).ok())
        .collect();
    if algs.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_from_discovery() {
        let advertised = ["RS256", "ES256K", "EdDSA", "HS256", "none", "ES256"].map(String::from);
        let algs = allowed_algs(&advertised);
        assert!(algs.contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
        assert!(algs.contains(&CoreJwsSigningAlgorithm::EcdsaP256Sha256));
        assert!(!algs.contains(&CoreJwsSigningAlgorithm::HmacSha256));
        assert!(!algs.contains(&CoreJwsSigningAlgorithm::None));
        assert_eq!(
            allowed_algs(&[]),
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
    }

    #[test]
    fn well_known_urls() {
        let url = |issuer: &str, inserted| well_known(issuer, "x", inserted).unwrap().to_string();
        assert_eq!(
            url("https://idp.example/", false),
            "https://idp.example/.well-known/x"
        );
        assert_eq!(
            url("https://idp.example/t/1", false),
            "https://idp.example/t/1/.well-known/x"
        );
        assert_eq!(
            url("https://idp.example", true),
            "https://idp.example/.well-known/x"
        );
        assert_eq!(
            url("https://idp.example/t/1/", true),
            "https://idp.example/.well-known/x/t/1"
        );
    }

    #[test]
    fn lenient_discovery() {
        let doc: Discovery = serde_json::from_value(serde_json::json!({
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/a",
            "jwks_uri": "https://idp.example/jwks",
            "id_token_signing_alg_values_supported": ["ES256K", "RS256"],
            "authorization_response_iss_parameter_supported": "true",
            "claims_supported": 7
        }))
        .unwrap();
        assert!(doc.authorization_response_iss_parameter_supported);
        assert_eq!(doc.id_token_signing_alg_values_supported.len(), 2);
    }
}
