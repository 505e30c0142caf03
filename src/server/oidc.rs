//! The OpenID Provider side of the server: signed ID tokens for the `openid` scope (signed
//! by openidconnect's RSA key type), the discovery document, the JWKS and userinfo.

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ConfigError;

/// The provider's signing keys: the first signs, all are published (a rotated-out key stays
/// in the JWKS until the tokens it signed have expired).
pub(crate) struct Signer {
    keys: Vec<CoreRsaPrivateSigningKey>,
    jwks: Value,
}

/// Claims of the app's own (`profile`, `email`, ...), flattened into the ID token.
#[derive(Debug, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

/// What an ID token says besides its user's claims.
pub(crate) struct IdTokenFor<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub subject: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
    pub access_token: &'a str,
    pub lifetime: i64,
}

/// Claims the provider sets itself: the app's claims cannot override them.
const REGISTERED: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "auth_time",
];

impl Signer {
    /// The keys given in code (`pems`) then in `files` (PEM, PKCS#8 or PKCS#1 RSA); `None`
    /// without any (no OpenID Provider then).
    pub fn load(pems: &[String], files: &[String]) -> Result<Option<Signer>, ConfigError> {
        if pems.is_empty() && files.is_empty() {
            return Ok(None);
        }
        let invalid = |source: &str, reason: String| ConfigError::Invalid {
            key: "oauth_server.signing_keys".into(),
            reason: format!("{source}: {reason}"),
        };
        let mut sources: Vec<(String, String)> = pems
            .iter()
            .enumerate()
            .map(|(i, pem)| (format!("signing key #{} given in code", i + 1), pem.clone()))
            .collect();
        for file in files {
            let pem = std::fs::read_to_string(file)
                .map_err(|e| invalid(&format!("`{file}`"), e.to_string()))?;
            sources.push((format!("`{file}`"), pem));
        }
        let mut keys = Vec::new();
        let mut published = Vec::new();
        for (source, pem) in &sources {
            let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
                .map_err(|_| invalid(source, "not an RSA private key in PEM".into()))?;
            // A stable key id: a digest of the public key.
            let digest = Sha256::digest(key.n().to_bytes_be());
            let kid: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let pkcs1 = key
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| invalid(source, e.to_string()))?;
            let signing = CoreRsaPrivateSigningKey::from_pem(&pkcs1, Some(JsonWebKeyId::new(kid)))
                .map_err(|e| invalid(source, e))?;
            published.push(serde_json::to_value(signing.as_verification_key()).unwrap_or_default());
            keys.push(signing);
        }
        Ok(Some(Signer {
            keys,
            jwks: json!({ "keys": published }),
        }))
    }

    /// The `aud` of an ID token this provider signed for `issuer` (an `id_token_hint`; it
    /// may have expired), or `None` when the signature or the issuer is not ours.
    pub fn hinted_client(&self, token: &str, issuer: &str) -> Option<String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use openidconnect::JsonWebKey;
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != "RS256" {
            return None;
        }
        let kid = header["kid"].as_str()?;
        let key = self
            .keys
            .iter()
            .map(|k| k.as_verification_key())
            .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let message = format!(
            "{header_part}.{payload}",
            header_part = token.split('.').next()?
        );
        key.verify_signature(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            message.as_bytes(),
            &signature,
        )
        .ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        if claims["iss"] != issuer {
            return None;
        }
        match &claims["aud"] {
            Value::String(aud) => Some(aud.clone()),
            Value::Array(auds) => auds.first()?.as_str().map(str::to_owned),
            _ => None,
        }
    }

    /// The published keys.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// An RS256 ID token with `claims` (the app's, for the granted scopes) and `at_hash`.
    pub fn id_token(
        &self,
        token: &IdTokenFor<'_>,
        mut claims: Map<String, Value>,
    ) -> Option<String> {
        claims.retain(|name, _| !REGISTERED.contains(&name.as_str()));
        let now = Utc::now();
        let id_claims = IdTokenClaims::new(
            IssuerUrl::new(token.issuer.to_owned()).ok()?,
            vec![Audience::new(token.client_id.to_owned())],
            now + ChronoDuration::seconds(token.lifetime),
            now,
            StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(
                token.subject.to_owned(),
            )),
            Extra { claims },
        )
        .set_nonce(token.nonce.map(|n| Nonce::new(n.to_owned())))
        .set_auth_time(
            token
                .auth_time
                .and_then(|t| Utc.timestamp_opt(t, 0).single()),
        );
        let signed = IdToken::<
            Extra,
            CoreGenderClaim,
            CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        >::new(
            id_claims,
            self.keys.first()?,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&AccessToken::new(token.access_token.to_owned())),
            None,
        )
        .ok()?;
        serde_json::to_value(&signed)
            .ok()?
            .as_str()
            .map(str::to_owned)
    }
}
