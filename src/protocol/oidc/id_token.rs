//! ID token validation: signatures and claims are checked by the `openidconnect` crate; this
//! module feeds it the right keys, the advertised algorithms (asymmetric only), a small clock
//! leeway, the nonce and the `at_hash` check.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreIdToken, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde_json::{Map, Value};

use super::jwks::{Jwks, KeySet};
use crate::protocol::error::IdTokenError;
use crate::protocol::http::HttpClient;
use crate::util::{ct_eq, jwt_payload as payload};

/// Clock leeway for `exp` and `iat`.
pub(crate) const LEEWAY: Duration = Duration::from_secs(60);
/// The placeholder in multi-tenant issuers (Microsoft's `common` endpoint).
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// What to check an ID token against.
pub(crate) struct Expectations<'a> {
    pub client_id: &'a str,
    /// The issuer, possibly with [`TENANT_PLACEHOLDER`].
    pub issuer: &'a str,
    pub tenants: &'a [String],
    pub algs: &'a [CoreJwsSigningAlgorithm],
    /// The nonce sent with the authorization request; `None` for a refreshed ID token,
    /// whose nonce (echoed or absent) is not checked.
    pub nonce: Option<&'a str>,
    /// Accept an ID token without `nonce` (LinkedIn sends none); a present one must match.
    pub nonce_optional: bool,
    /// Other exact `iss` values this issuer uses (Google: `accounts.google.com`).
    pub issuer_aliases: &'a [String],
    pub access_token: &'a str,
}

/// The issuer a token with `claims` (unverified) must come from, and whether its `iss` is
/// one of the issuer's aliases (then already compared exactly). The tenant (Microsoft) or an
/// alias (Google) is read from the unverified claims only to pick the exact issuer to
/// expect; the signature check then covers it.
pub(crate) fn expected_issuer(
    expect: &Expectations<'_>,
    claims: &Map<String, Value>,
) -> Result<(String, bool), IdTokenError> {
    let claimed = |name: &str| claims.get(name).and_then(Value::as_str);
    if expect.issuer.contains(TENANT_PLACEHOLDER) {
        let tid = claimed("tid").ok_or(IdTokenError::Tenant)?;
        if !expect.tenants.iter().any(|t| t == tid) {
            return Err(IdTokenError::Tenant);
        }
        Ok((expect.issuer.replace(TENANT_PLACEHOLDER, tid), false))
    } else {
        let alias =
            claimed("iss").is_some_and(|iss| expect.issuer_aliases.iter().any(|a| a == iss));
        Ok((expect.issuer.to_owned(), alias))
    }
}

/// Validates `raw` and returns all of its claims.
pub(crate) async fn verify_id_token(
    raw: &str,
    expect: &Expectations<'_>,
    jwks: &Jwks,
    http: &HttpClient,
) -> Result<Map<String, Value>, IdTokenError> {
    let token = CoreIdToken::from_str(raw).map_err(|_| IdTokenError::Malformed)?;
    let (issuer, alias) = expected_issuer(expect, &payload(raw).unwrap_or_default())?;
    let issuer = IssuerUrl::new(issuer).map_err(|e| IdTokenError::Claims(e.to_string()))?;

    let mut keys = jwks.keys(http).await.map_err(IdTokenError::Keys)?;
    loop {
        match check(&token, expect, &issuer, alias, &keys) {
            Err(IdTokenError::Signature(ref why)) if why == NO_MATCHING_KEY => {
                match jwks
                    .refetch(http, &keys)
                    .await
                    .map_err(IdTokenError::Keys)?
                {
                    Some(fresh) if !Arc::ptr_eq(&fresh, &keys) => keys = fresh,
                    _ => return Err(IdTokenError::Signature(NO_MATCHING_KEY.into())),
                }
            }
            Err(e) => return Err(e),
            Ok(()) => return payload(raw).ok_or(IdTokenError::Malformed),
        }
    }
}

const NO_MATCHING_KEY: &str = "no key matches the token";

/// `iss_is_alias`: the token's `iss` is one of the issuer's aliases (already compared
/// exactly), so the crate's check against the issuer URL is skipped.
fn check(
    token: &CoreIdToken,
    expect: &Expectations<'_>,
    issuer: &IssuerUrl,
    iss_is_alias: bool,
    keys: &KeySet,
) -> Result<(), IdTokenError> {
    let now = chrono::Utc::now();
    let leeway = chrono::Duration::from_std(LEEWAY).unwrap_or_default();
    let verifier = IdTokenVerifier::new_public_client(
        ClientId::new(expect.client_id.to_owned()),
        issuer.clone(),
        keys.clone(),
    )
    .require_issuer_match(!iss_is_alias)
    .set_allowed_algs(expect.algs.iter().cloned().collect::<HashSet<_>>())
    .set_time_fn(move || now - leeway)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > now + leeway {
            Err("the ID token was issued in the future".into())
        } else {
            Ok(())
        }
    });
    let nonce_check = |found: Option<&Nonce>| match (found, expect.nonce) {
        (_, None) => Ok(()),
        (Some(found), Some(sent)) if ct_eq(found.secret(), sent) => Ok(()),
        (None, Some(_)) if expect.nonce_optional => Ok(()),
        (None, Some(_)) => Err("the ID token has no nonce".to_owned()),
        (Some(_), Some(_)) => Err("the ID token's nonce does not match".to_owned()),
    };
    let claims = token.claims(&verifier, nonce_check).map_err(|e| match e {
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => IdTokenError::Signature(NO_MATCHING_KEY.into()),
        ClaimsVerificationError::SignatureVerification(e) => IdTokenError::Signature(e.to_string()),
        other => IdTokenError::Claims(other.to_string()),
    })?;
    // OIDC Core §3.1.3.7: an `azp` that is present must be this client.
    if claims
        .authorized_party()
        .is_some_and(|azp| azp.as_str() != expect.client_id)
    {
        return Err(IdTokenError::Claims(
            "the ID token's azp is another client".into(),
        ));
    }
    if let Some(expected) = claims.access_token_hash() {
        let alg = token
            .signing_alg()
            .map_err(|e| IdTokenError::Signature(e.to_string()))?;
        let key = token
            .signing_key(&verifier)
            .map_err(|e| IdTokenError::Signature(e.to_string()))?;
        let actual = AccessTokenHash::from_token(
            &AccessToken::new(expect.access_token.to_owned()),
            alg,
            key,
        )
        .map_err(|_| IdTokenError::AccessTokenHash)?;
        if actual != *expected {
            return Err(IdTokenError::AccessTokenHash);
        }
    }
    Ok(())
}
