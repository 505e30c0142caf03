//! The OpenID Provider side of the server: its signing keys (RS256 or ES256; from PEM
//! files, or generated, kept sealed in the store and rotated) and the ID tokens they sign
//! (built by openidconnect; RS256 signed by `ring`, whose RSA is constant-time, ES256 by
//! `p256`). The `rsa` crate only reads PEM files and generates keys (`ring` cannot): its
//! private-key operations are not constant-time (RUSTSEC-2023-0071), and no signature here
//! is made by it.

use std::sync::{Arc, RwLock};

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonCurveType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKey,
    JsonWebKeyId, Nonce, PrivateSigningKey, SigningError, StandardClaims, SubjectIdentifier,
};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ring::signature::RsaPublicKeyComponents;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::seal::Sealer;
use super::store::{ServerStore, ServerStoreError, SigningKeyRecord};
use crate::error::ConfigError;
use crate::util::now;

/// An ID token signing algorithm this provider offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what every client supports (the default).
    Rs256,
    /// ECDSA on P-256 with SHA-256: smaller tokens, faster to sign.
    Es256,
}

impl Alg {
    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    fn jws(self) -> CoreJwsSigningAlgorithm {
        match self {
            Alg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Alg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        }
    }
}

/// A private key of either kind, signing through openidconnect's `IdToken::new`.
enum KeyPair {
    Rsa {
        key: Box<ring::signature::RsaKeyPair>,
        kid: JsonWebKeyId,
    },
    Ec {
        key: p256::ecdsa::SigningKey,
        kid: JsonWebKeyId,
    },
}

impl PrivateSigningKey for KeyPair {
    type VerificationKey = CoreJsonWebKey;

    fn sign(&self, alg: &CoreJwsSigningAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        match (self, alg) {
            (KeyPair::Rsa { key, .. }, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256) => {
                let mut signature = vec![0; key.public().modulus_len()];
                let rng = ring::rand::SystemRandom::new();
                key.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &rng,
                    message,
                    &mut signature,
                )
                .map_err(|_| SigningError::Other("RSA signing failed".into()))?;
                Ok(signature)
            }
            (KeyPair::Rsa { .. }, _) => Err(SigningError::UnsupportedAlg("not RS256".into())),
            (KeyPair::Ec { key, .. }, CoreJwsSigningAlgorithm::EcdsaP256Sha256) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                Ok(signature.to_bytes().to_vec())
            }
            (KeyPair::Ec { .. }, _) => Err(SigningError::UnsupportedAlg("not ES256".into())),
        }
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        match self {
            KeyPair::Rsa { key, kid } => {
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
                CoreJsonWebKey::new_rsa(public.n, public.e, Some(kid.clone()))
            }
            KeyPair::Ec { key, kid } => {
                let point = key.verifying_key().to_sec1_point(false);
                let coordinate = |c: Option<&[u8]>| c.map(<[u8]>::to_vec).unwrap_or_default();
                CoreJsonWebKey::new_ec(
                    coordinate(point.x().map(|x| x.as_slice())),
                    coordinate(point.y().map(|y| y.as_slice())),
                    CoreJsonCurveType::P256,
                    Some(kid.clone()),
                )
            }
        }
    }
}

/// A key id: a digest of the public key, stable across restarts and instances.
fn key_id(public: &[u8]) -> String {
    Sha256::digest(public)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One signing key: its algorithm, id and private half.
struct Key {
    alg: Alg,
    kid: String,
    pair: KeyPair,
}

impl Key {
    /// An RSA (PKCS#8 or PKCS#1) or P-256 (PKCS#8 or SEC1) private key in PEM.
    fn from_pem(pem: &str) -> Result<Key, String> {
        if let Ok(rsa) = rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_: rsa::pkcs1::Error| ())
        {
            return Key::rsa(&rsa);
        }
        let ec = p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .ok()
            .or_else(|| p256::SecretKey::from_sec1_pem(pem).ok().map(Into::into))
            .ok_or("not an RSA or P-256 private key in PEM")?;
        Ok(Key::ec(ec))
    }

    /// An RSA key, handed to `ring` (PKCS#8 DER) for signing.
    fn rsa(key: &rsa::RsaPrivateKey) -> Result<Key, String> {
        let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
        let pair = ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| format!("an RSA key ring cannot sign with: {e}"))?;
        let kid = key_id(&RsaPublicKeyComponents::<Vec<u8>>::from(pair.public()).n);
        Ok(Key {
            alg: Alg::Rs256,
            pair: KeyPair::Rsa {
                key: Box::new(pair),
                kid: JsonWebKeyId::new(kid.clone()),
            },
            kid,
        })
    }

    fn ec(key: p256::ecdsa::SigningKey) -> Key {
        let kid = key_id(key.verifying_key().to_sec1_point(false).as_bytes());
        Key {
            alg: Alg::Es256,
            pair: KeyPair::Ec {
                key,
                kid: JsonWebKeyId::new(kid.clone()),
            },
            kid,
        }
    }

    /// A new key of `alg` and its private half in PKCS#8 PEM.
    fn generate(alg: Alg) -> Result<(Key, String), String> {
        match alg {
            Alg::Rs256 => {
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .map_err(|e| e.to_string())?;
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| e.to_string())?;
                Ok((Key::rsa(&key)?, pem.to_string()))
            }
            Alg::Es256 => {
                use p256::elliptic_curve::Generate;
                let key = p256::ecdsa::SigningKey::try_generate().map_err(|e| e.to_string())?;
                let pem = key
                    .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
                    .map_err(|e| e.to_string())?;
                Ok((Key::ec(key), pem.to_string()))
            }
        }
    }
}

/// What a valid `id_token_hint` says: whom it was issued to, about whom.
pub(crate) struct Hint {
    pub client: String,
    pub subject: String,
}

/// The keys in force: the one that signs, and every one published in the JWKS.
pub(crate) struct KeySet {
    keys: Vec<Key>,
    signing: usize,
    jwks: Value,
}

impl KeySet {
    fn new(keys: Vec<Key>, signing: usize) -> KeySet {
        let published: Vec<Value> = keys
            .iter()
            .map(|k| {
                let mut jwk =
                    serde_json::to_value(k.pair.as_verification_key()).unwrap_or_default();
                jwk["alg"] = json!(k.alg.name());
                jwk
            })
            .collect();
        KeySet {
            keys,
            signing,
            jwks: json!({ "keys": published }),
        }
    }

    /// The published keys.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// The `aud` of an ID token one of these keys signed for `issuer` (an `id_token_hint`;
    /// it may have expired), or `None` when the signature or the issuer is not ours.
    /// The client and subject of an ID token this provider signed for `issuer` (an
    /// `id_token_hint`; its expiry does not matter), or `None`.
    pub fn hint(&self, token: &str, issuer: &str) -> Option<Hint> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let mut parts = token.split('.');
        let (header_part, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_part).ok()?).ok()?;
        let kid = header["kid"].as_str()?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        if header["alg"] != key.alg.name() {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        key.pair
            .as_verification_key()
            .verify_signature(
                &key.alg.jws(),
                format!("{header_part}.{payload}").as_bytes(),
                &signature,
            )
            .ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        if claims["iss"] != issuer {
            return None;
        }
        let client = match &claims["aud"] {
            Value::String(aud) => aud.clone(),
            Value::Array(auds) => auds.first()?.as_str()?.to_owned(),
            _ => return None,
        };
        let subject = claims["sub"].as_str()?.to_owned();
        Some(Hint { client, subject })
    }

    /// An ID token with `claims` (the app's, for the granted scopes) and `at_hash`, signed
    /// by the signing key.
    pub fn id_token(
        &self,
        token: &IdTokenFor<'_>,
        mut claims: Map<String, Value>,
    ) -> Option<String> {
        claims.retain(|name, _| !REGISTERED.contains(&name.as_str()));
        if let Some(sid) = token.sid {
            claims.insert("sid".into(), Value::String(sid.to_owned()));
        }
        let key = self.keys.get(self.signing)?;
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
            &key.pair,
            key.alg.jws(),
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

impl KeySet {
    /// An OpenID Connect Back-Channel Logout 1.0 logout token (§2.4) for `client_id`: the
    /// user `subject`'s sign-in session `sid` ended. Explicitly typed (`logout+jwt`), valid
    /// for two minutes, never with a `nonce`.
    pub fn logout_token(
        &self,
        issuer: &str,
        client_id: &str,
        subject: &str,
        sid: &str,
    ) -> Option<String> {
        let now = Utc::now().timestamp();
        let claims = json!({
            "iss": issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": crate::util::random_token(),
            "sub": subject,
            "sid": sid,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        self.sign("logout+jwt", &claims)
    }

    /// An RFC 9068 JWT access token (`typ: at+jwt`) with `claims`.
    pub fn access_token(&self, claims: &Value) -> Option<String> {
        self.sign("at+jwt", claims)
    }

    /// A compact JWS of `claims`, explicitly typed `typ`, by the signing key.
    fn sign(&self, typ: &str, claims: &Value) -> Option<String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let key = self.keys.get(self.signing)?;
        let header = json!({ "alg": key.alg.name(), "kid": key.kid, "typ": typ });
        let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!("{}.{}", part(&header), part(claims));
        let signature = key.pair.sign(&key.alg.jws(), input.as_bytes()).ok()?;
        Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
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
    /// The owner's sign-in session (what a back-channel logout names).
    pub sid: Option<&'a str>,
    pub access_token: &'a str,
    pub lifetime: i64,
}

/// Claims the provider sets itself: the app's claims cannot override them.
const REGISTERED: [&str; 11] = [
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
    "sid",
];

/// How often an instance re-reads generated keys from the store (another instance may
/// have rotated), seconds.
const RELOAD_INTERVAL: i64 = 60;

/// The rotation schedule of generated keys, in seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rotation {
    /// A key signs this long (after its pre-publication).
    pub every: i64,
    /// A retired key stays published this long: the longest an ID token it signed lives,
    /// plus clients' clock leeway.
    pub keep: i64,
}

impl Rotation {
    /// A new key is published this long before it starts signing, so that every instance
    /// and every client's JWKS cache has it by then.
    fn prepublish(self) -> i64 {
        self.every / 4
    }
}

/// What to do with the stored keys (`created`: their creation times, oldest first) at
/// `now`: whether to generate a new one, which signs, and which have served their time.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    generate: bool,
    signing: usize,
    expired: Vec<usize>,
}

fn plan(created: &[i64], now: i64, rotation: Rotation) -> Plan {
    let ahead = rotation.prepublish();
    let Some(&newest) = created.last() else {
        return Plan {
            generate: true,
            signing: 0,
            expired: Vec::new(),
        };
    };
    let generate = now - newest >= rotation.every;
    // The newest key that has been published long enough; a lone new key signs at once.
    let signing = created
        .iter()
        .rposition(|&c| now - c >= ahead)
        .unwrap_or(created.len() - 1);
    // A key older than the signer retired when its successor began signing.
    let expired = (0..signing)
        .filter(|&i| now >= created[i + 1] + ahead + rotation.keep)
        .collect();
    Plan {
        generate,
        signing,
        expired,
    }
}

/// Generated keys: kept sealed in the store, rotated on schedule, cached per instance.
pub(crate) struct Generated {
    alg: Alg,
    rotation: Rotation,
    sealer: Sealer,
    cache: RwLock<Option<(i64, Arc<KeySet>)>>,
    reload: rocket::tokio::sync::Mutex<()>,
}

impl Generated {
    fn seal(&self, kid: &str, pem: &str) -> String {
        self.sealer.seal(kid, pem)
    }

    fn unseal(&self, record: &SigningKeyRecord) -> Option<Key> {
        let pem = self.sealer.open(&record.kid, &record.sealed_key)?;
        Key::from_pem(&pem).ok()
    }

    fn cached(&self, now: i64) -> Option<Arc<KeySet>> {
        let cache = self.cache.read().ok()?;
        let (loaded_at, keys) = cache.as_ref()?;
        (now - loaded_at < RELOAD_INTERVAL).then(|| keys.clone())
    }

    async fn keys(&self, store: &dyn ServerStore) -> Result<Arc<KeySet>, SignerError> {
        if let Some(keys) = self.cached(now()) {
            return Ok(keys);
        }
        let _one_at_a_time = self.reload.lock().await;
        let now = now();
        if let Some(keys) = self.cached(now) {
            return Ok(keys);
        }
        let mut records = store.signing_keys().await?;
        records.retain(|r| r.alg == self.alg.name());
        records.sort_by_key(|r| r.created_at);
        let mut keys: Vec<(i64, Key)> = Vec::new();
        for record in &records {
            match self.unseal(record) {
                Some(key) => keys.push((record.created_at, key)),
                // Sealed with another secret_key: useless here, left for its instance.
                None => log::warn!(
                    "rocket_oauth: signing key {} cannot be unsealed with this secret_key",
                    record.kid
                ),
            }
        }
        let created: Vec<i64> = keys.iter().map(|(c, _)| *c).collect();
        if plan(&created, now, self.rotation).generate {
            let alg = self.alg;
            let (key, pem) = rocket::tokio::task::spawn_blocking(move || Key::generate(alg))
                .await
                .map_err(|e| SignerError::Generate(e.to_string()))?
                .map_err(SignerError::Generate)?;
            store
                .save_signing_key(SigningKeyRecord {
                    kid: key.kid.clone(),
                    alg: alg.name().into(),
                    sealed_key: self.seal(&key.kid, &pem),
                    created_at: now,
                })
                .await?;
            log::info!("rocket_oauth: new {} signing key {}", alg.name(), key.kid);
            keys.push((now, key));
        }
        let created: Vec<i64> = keys.iter().map(|(c, _)| *c).collect();
        let plan = plan(&created, now, self.rotation);
        for &i in plan.expired.iter().rev() {
            let (_, key) = keys.remove(i);
            store.remove_signing_key(&key.kid).await?;
            log::info!("rocket_oauth: signing key {} retired", key.kid);
        }
        let signing = plan.signing - plan.expired.len();
        let set = Arc::new(KeySet::new(
            keys.into_iter().map(|(_, k)| k).collect(),
            signing,
        ));
        if let Ok(mut cache) = self.cache.write() {
            *cache = Some((now, set.clone()));
        }
        Ok(set)
    }
}

/// Why the keys are not available.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignerError {
    #[error(transparent)]
    ServerStore(#[from] ServerStoreError),
    #[error("generating a signing key failed: {0}")]
    Generate(String),
}

/// The provider's signing keys: configured (PEM) or generated.
pub(crate) enum Signer {
    Configured(Arc<KeySet>),
    Generated(Box<Generated>),
}

/// How the provider's keys are configured.
pub(crate) struct SignerConfig<'a> {
    /// PEMs given in code, before `files`.
    pub pems: &'a [String],
    /// `oauth_server.signing_keys`.
    pub files: &'a [String],
    /// `oauth_server.id_token_signing_alg`.
    pub alg: Option<&'a str>,
    /// `oauth_server.generate_signing_keys`.
    pub generate: bool,
    pub rotation: Rotation,
    /// Seals generated keys (derived from the app's `secret_key`).
    pub sealer: Sealer,
}

impl Signer {
    /// The configured signer; `None` without keys (no OpenID Provider then).
    pub fn load(config: SignerConfig<'_>) -> Result<Option<Signer>, ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("oauth_server.{key}"),
            reason,
        };
        let alg = config
            .alg
            .map(|name| {
                Alg::parse(name).ok_or_else(|| {
                    invalid("id_token_signing_alg", format!("`{name}`: RS256 or ES256"))
                })
            })
            .transpose()?;
        let configured = !config.pems.is_empty() || !config.files.is_empty();
        if config.generate {
            if configured {
                return Err(invalid(
                    "generate_signing_keys",
                    "set it or signing_keys, not both".into(),
                ));
            }
            return Ok(Some(Signer::Generated(Box::new(Generated {
                alg: alg.unwrap_or(Alg::Rs256),
                rotation: config.rotation,
                sealer: config.sealer,
                cache: RwLock::new(None),
                reload: rocket::tokio::sync::Mutex::new(()),
            }))));
        }
        if !configured {
            return Ok(None);
        }
        let mut sources: Vec<(String, String)> = config
            .pems
            .iter()
            .enumerate()
            .map(|(i, pem)| (format!("signing key #{} given in code", i + 1), pem.clone()))
            .collect();
        for file in config.files {
            let pem = std::fs::read_to_string(file)
                .map_err(|e| invalid("signing_keys", format!("`{file}`: {e}")))?;
            sources.push((format!("`{file}`"), pem));
        }
        let keys = sources
            .iter()
            .map(|(source, pem)| {
                Key::from_pem(pem).map_err(|e| invalid("signing_keys", format!("{source}: {e}")))
            })
            .collect::<Result<Vec<Key>, ConfigError>>()?;
        // The first key of the chosen algorithm signs (by default the first key).
        let alg = alg.unwrap_or(keys[0].alg);
        let signing = keys.iter().position(|k| k.alg == alg).ok_or_else(|| {
            invalid(
                "id_token_signing_alg",
                format!("no {} key among the signing keys", alg.name()),
            )
        })?;
        Ok(Some(Signer::Configured(Arc::new(KeySet::new(
            keys, signing,
        )))))
    }

    /// The keys in force (generated ones are re-read from the store now and then, and
    /// rotated on schedule).
    pub async fn keys(&self, store: &dyn ServerStore) -> Result<Arc<KeySet>, SignerError> {
        match self {
            Signer::Configured(keys) => Ok(keys.clone()),
            Signer::Generated(generated) => generated.keys(store).await,
        }
    }

    /// The algorithms of `id_token_signing_alg_values_supported`: the signing key's first.
    pub fn algorithms(&self) -> Vec<&'static str> {
        match self {
            Signer::Configured(set) => {
                let mut algs = vec![set.keys[set.signing].alg.name()];
                for key in &set.keys {
                    if !algs.contains(&key.alg.name()) {
                        algs.push(key.alg.name());
                    }
                }
                algs
            }
            Signer::Generated(generated) => vec![generated.alg.name()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const ROTATION: Rotation = Rotation {
        every: 30 * DAY,
        keep: DAY,
    };

    #[test]
    fn the_first_key_is_generated_and_signs_at_once() {
        assert_eq!(
            plan(&[], 0, ROTATION),
            Plan {
                generate: true,
                signing: 0,
                expired: vec![]
            }
        );
        let fresh = plan(&[1000], 1000, ROTATION);
        assert_eq!((fresh.generate, fresh.signing), (false, 0));
    }

    #[test]
    fn a_new_key_is_published_before_it_signs_and_the_old_one_kept_until_its_tokens_expire() {
        let a = 0;
        // Rotation due: a new key is made; the old one still signs while the new one is
        // pre-published (a quarter of the period).
        assert!(plan(&[a], a + 30 * DAY, ROTATION).generate);
        let b = a + 30 * DAY;
        let during = plan(&[a, b], b + DAY, ROTATION);
        assert_eq!((during.generate, during.signing), (false, 0));
        assert!(during.expired.is_empty());
        // After pre-publication the new key signs; the old one stays published while ID
        // tokens it signed may live.
        let switched = plan(&[a, b], b + ROTATION.prepublish(), ROTATION);
        assert_eq!(switched.signing, 1);
        assert!(switched.expired.is_empty());
        let later = plan(&[a, b], b + ROTATION.prepublish() + DAY - 1, ROTATION);
        assert!(later.expired.is_empty());
        let gone = plan(&[a, b], b + ROTATION.prepublish() + DAY, ROTATION);
        assert_eq!((gone.signing, gone.expired), (1, vec![0]));
    }

    #[test]
    fn generated_keys_sign_and_verify_and_seal() {
        let (key, pem) = Key::generate(Alg::Es256).unwrap();
        let again = Key::from_pem(&pem).unwrap();
        assert_eq!((key.kid.clone(), key.alg), (again.kid, Alg::Es256));
        let generated = Generated {
            alg: Alg::Es256,
            rotation: ROTATION,
            sealer: Sealer::random(),
            cache: RwLock::new(None),
            reload: rocket::tokio::sync::Mutex::new(()),
        };
        let record = SigningKeyRecord {
            kid: key.kid.clone(),
            alg: "ES256".into(),
            sealed_key: generated.seal(&key.kid, &pem),
            created_at: 0,
        };
        assert!(!record.sealed_key.contains("PRIVATE"));
        assert_eq!(generated.unseal(&record).unwrap().kid, key.kid);
        // Another kid (the sealed value moved to another row) does not open.
        let moved = SigningKeyRecord {
            kid: "other".into(),
            ..record
        };
        assert!(generated.unseal(&moved).is_none());

        let set = KeySet::new(vec![key], 0);
        assert_eq!(set.jwks()["keys"][0]["crv"], "P-256");
        let token = set
            .id_token(
                &IdTokenFor {
                    issuer: "https://op.example",
                    client_id: "rp",
                    subject: "alice",
                    nonce: Some("n"),
                    auth_time: None,
                    sid: Some("s1"),
                    access_token: "at",
                    lifetime: 60,
                },
                Map::new(),
            )
            .unwrap();
        assert_eq!(
            set.hint(&token, "https://op.example")
                .map(|h| h.client)
                .as_deref(),
            Some("rp")
        );
        assert!(set.hint(&token, "https://evil.example").is_none());
        // Another key's signature is not ours.
        let (other, _) = Key::generate(Alg::Es256).unwrap();
        let other = KeySet::new(vec![other], 0);
        assert!(other.hint(&token, "https://op.example").is_none());
    }

    #[test]
    fn configuration_errors_name_their_key() {
        let load = |files: &[String], alg: Option<&str>, generate: bool| {
            Signer::load(SignerConfig {
                pems: &[],
                files,
                alg,
                generate,
                rotation: ROTATION,
                sealer: Sealer::random(),
            })
        };
        let key_of = |result: Result<Option<Signer>, ConfigError>| match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        };
        let rsa = ["tests/keys/rsa1.pem".to_owned()];
        let public = ["tests/keys/apple_authkey.pub.pem".to_owned()];
        let missing = ["tests/keys/none.pem".to_owned()];
        assert_eq!(
            key_of(load(&rsa, Some("ES256"), false)),
            "oauth_server.id_token_signing_alg"
        );
        assert_eq!(
            key_of(load(&rsa, Some("HS256"), false)),
            "oauth_server.id_token_signing_alg"
        );
        assert_eq!(
            key_of(load(&rsa, None, true)),
            "oauth_server.generate_signing_keys"
        );
        assert_eq!(
            key_of(load(&public, None, false)),
            "oauth_server.signing_keys"
        );
        assert_eq!(
            key_of(load(&missing, None, false)),
            "oauth_server.signing_keys"
        );
        assert!(
            load(&[], None, false).unwrap().is_none(),
            "no keys: no provider"
        );
        let generated = load(&[], Some("ES256"), true).unwrap().unwrap();
        assert_eq!(generated.algorithms(), ["ES256"]);
        let both = [
            "tests/keys/ec1.pem".to_owned(),
            "tests/keys/rsa1.pem".to_owned(),
        ];
        let configured = load(&both, None, false).unwrap().unwrap();
        assert_eq!(
            configured.algorithms(),
            ["ES256", "RS256"],
            "the first key signs"
        );
    }

    #[test]
    fn generated_rsa_keys_round_trip_through_pem() {
        let (key, pem) = Key::generate(Alg::Rs256).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = Key::from_pem(&pem).unwrap();
        assert_eq!((again.kid, again.alg), (key.kid, Alg::Rs256));
        let set = KeySet::new(vec![Key::from_pem(&pem).unwrap()], 0);
        assert_eq!(set.jwks()["keys"][0]["alg"], "RS256");
        assert_eq!(set.jwks()["keys"][0]["kty"], "RSA");
    }
}
