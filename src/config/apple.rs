//! `oauth.<name>.client_secret_jwt`: a client secret signed as an ES256 JWT (Sign in with
//! Apple, feature `apple`).

use serde::Deserialize;

use super::keys::Keys;
use crate::error::ConfigError;
use crate::secret::Secret;

/// The signed secret's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "apple"), allow(dead_code))]
pub(super) struct SignedSecretConfig {
    team_id: String,
    key_id: String,
    /// The PKCS#8 PEM key itself...
    private_key: Option<Secret>,
    /// ...or the file holding it (Apple's `AuthKey_<key id>.p8`).
    private_key_file: Option<String>,
    /// `aud`; default: the issuer.
    audience: Option<String>,
}

/// The signer of `config`, if given; it replaces `client_secret`.
#[cfg(feature = "apple")]
pub(super) fn signed_secret(
    keys: &Keys<'_>,
    config: Option<SignedSecretConfig>,
    client_secret: Option<&Secret>,
    client_id: &str,
    issuer: Option<&str>,
) -> Result<Option<std::sync::Arc<crate::protocol::signed_secret::SignedSecret>>, ConfigError> {
    let Some(config) = config else {
        return Ok(None);
    };
    if client_secret.is_some_and(|s| !s.is_empty()) {
        return Err(keys.invalid(
            "client_secret_jwt",
            "give either `client_secret` or `client_secret_jwt`, not both",
        ));
    }
    let pem = match (config.private_key, config.private_key_file) {
        (Some(key), None) => key.expose().to_owned(),
        (None, Some(file)) => std::fs::read_to_string(&file).map_err(|e| {
            keys.invalid(
                "client_secret_jwt.private_key_file",
                format!("`{file}`: {e}"),
            )
        })?,
        _ => {
            return Err(keys.invalid(
                "client_secret_jwt",
                "give exactly one of `private_key` and `private_key_file`",
            ))
        }
    };
    let audience = match config.audience.or(issuer.map(str::to_owned)) {
        Some(audience) => audience,
        None => return Err(keys.missing("client_secret_jwt.audience")),
    };
    let signer = crate::protocol::signed_secret::SignedSecret::new(
        config.team_id,
        config.key_id,
        client_id.to_owned(),
        audience,
        &pem,
    )
    .map_err(|e| {
        keys.invalid(
            "client_secret_jwt.private_key",
            format!("not an EC private key that can sign ES256 ({e})"),
        )
    })?;
    Ok(Some(std::sync::Arc::new(signer)))
}

/// Without the feature, the key is refused with the reason.
#[cfg(not(feature = "apple"))]
pub(super) fn refuse(
    keys: &Keys<'_>,
    config: Option<&SignedSecretConfig>,
) -> Result<(), ConfigError> {
    match config {
        Some(_) => Err(keys.invalid(
            "client_secret_jwt",
            "a signed client secret needs rocket_oauth's `apple` feature",
        )),
        None => Ok(()),
    }
}
