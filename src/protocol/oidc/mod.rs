//! OpenID Connect (feature `oidc`): the authorization code flow of [`super::oauth2`], with the
//! endpoints and keys discovered from the issuer, a nonce per login, and a validated ID token
//! whose claims become the user's profile.

pub(crate) mod discovery;
pub(crate) mod dpop;
mod id_token;
pub(crate) mod jwks;
pub(crate) mod jws;
mod logout_token;

use openidconnect::core::CoreJwsSigningAlgorithm;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

pub(crate) use id_token::TENANT_PLACEHOLDER;

use self::discovery::{allowed_algs, discover, usable, Discovery};
use self::id_token::{verify_id_token, Expectations};
use self::jwks::Jwks;
use self::logout_token::verify_logout_token;
use super::credentials::Credentials;
use super::error::{DiscoveryError, FlowError, IdTokenError, LogoutTokenError};
use super::flow::{
    Begin, CallbackParams, Completed, DeviceStart, Flow, LogoutClaims, ProviderEndpoints,
};
use super::http::HttpClient;
use super::oauth2::{ClientSettings, CodePending, Endpoints, OAuth2Flow};
use crate::secret::Secret;
use crate::util::{jwt_payload, random_token};

/// An OpenID Connect provider's settings, from its configuration.
#[derive(Debug, Clone)]
pub(crate) struct OidcSettings {
    pub client: ClientSettings,
    /// The issuer; may hold [`TENANT_PLACEHOLDER`].
    pub issuer: String,
    pub discovery_url: Option<Url>,
    /// Configured endpoints, used instead of the discovered ones.
    pub authorize_url: Option<Url>,
    pub token_url: Option<Url>,
    pub userinfo_url: Option<Url>,
    pub revocation_url: Option<Url>,
    pub device_authorization_url: Option<Url>,
    pub tenants: Vec<String>,
    pub issuer_aliases: Vec<String>,
    pub require_nonce: bool,
    /// Back-channel logout is on: discovery warns when the provider does not advertise it.
    pub backchannel_logout: bool,
    /// The configured pushed authorization request endpoint, used instead of the
    /// discovered one.
    pub par_url: Option<Url>,
}

/// The OpenID Connect flow. Discovery happens on first use and is retried until it succeeds.
pub(crate) struct OidcFlow {
    settings: OidcSettings,
    discovered: OnceCell<Discovered>,
}

/// What discovery found.
struct Discovered {
    oauth2: OAuth2Flow,
    /// The issuer the document names; may hold [`TENANT_PLACEHOLDER`].
    issuer: String,
    jwks: Jwks,
    algs: Vec<CoreJwsSigningAlgorithm>,
    /// RFC 9207: the provider sends `iss` with every authorization response.
    iss_parameter: bool,
    end_session: Option<Url>,
    /// `backchannel_logout_supported`, `backchannel_logout_session_supported`.
    backchannel: (bool, bool),
}

impl OidcFlow {
    pub fn new(settings: OidcSettings) -> Self {
        OidcFlow {
            settings,
            discovered: OnceCell::new(),
        }
    }

    /// What an ID token from this provider is checked against; `nonce`: the one sent with
    /// the authorization request (`None` for a refreshed ID token).
    fn expectations<'a>(
        &'a self,
        d: &'a Discovered,
        nonce: Option<&'a str>,
        access_token: &'a str,
    ) -> Expectations<'a> {
        let s = &self.settings;
        Expectations {
            client_id: &s.client.client_id,
            issuer: &d.issuer,
            tenants: &s.tenants,
            algs: &d.algs,
            nonce,
            nonce_optional: !s.require_nonce,
            issuer_aliases: &s.issuer_aliases,
            access_token,
        }
    }

    async fn discovered(&self, http: &HttpClient) -> Result<&Discovered, FlowError> {
        self.discovered
            .get_or_try_init(|| async {
                self.discover(http).await.map_err(|e| {
                    log::error!(
                        "OpenID Connect discovery for `{}` failed: {e}",
                        self.settings.issuer
                    );
                    FlowError::Discovery(e)
                })
            })
            .await
    }

    async fn discover(&self, http: &HttpClient) -> Result<Discovered, DiscoveryError> {
        let s = &self.settings;
        let doc: Discovery = discover(http, &s.issuer, s.discovery_url.as_ref()).await?;
        let checked = |url: Option<&Url>, field: &'static str| match url {
            Some(url) if usable(url) => Ok(Some(url.clone())),
            Some(_) => Err(DiscoveryError::Endpoint { field }),
            None => Ok(None),
        };
        let required = |url: Option<&Url>, field: &'static str| {
            checked(url, field)?.ok_or(DiscoveryError::Endpoint { field })
        };
        let endpoints = Endpoints {
            authorize_url: match &s.authorize_url {
                Some(url) => url.clone(),
                None => required(Some(&doc.authorization_endpoint), "authorization_endpoint")?,
            },
            token_url: match &s.token_url {
                Some(url) => url.clone(),
                None => required(doc.token_endpoint.as_ref(), "token_endpoint")?,
            },
            userinfo_url: match &s.userinfo_url {
                Some(url) => Some(url.clone()),
                None => checked(doc.userinfo_endpoint.as_ref(), "userinfo_endpoint")?,
            },
            issuer: None,
            revocation_url: match &s.revocation_url {
                Some(url) => Some(url.clone()),
                None => checked(doc.revocation_endpoint.as_ref(), "revocation_endpoint")?,
            },
            device_authorization_url: match &s.device_authorization_url {
                Some(url) => Some(url.clone()),
                None => checked(
                    doc.device_authorization_endpoint.as_ref(),
                    "device_authorization_endpoint",
                )?,
            },
            par_url: match &s.par_url {
                Some(url) => Some(url.clone()),
                None => checked(
                    doc.pushed_authorization_request_endpoint.as_ref(),
                    "pushed_authorization_request_endpoint",
                )?,
            },
            par_required: doc.require_pushed_authorization_requests,
            issuer_id: Some(doc.issuer.clone()),
        };
        if s.client.par == Some(true) && endpoints.par_url.is_none() {
            return Err(DiscoveryError::Endpoint {
                field: "pushed_authorization_request_endpoint",
            });
        }
        if s.backchannel_logout && !doc.backchannel_logout_supported {
            log::warn!(
                "`{}` does not advertise `backchannel_logout_supported`: it may never post logout tokens",
                s.issuer
            );
        }
        Ok(Discovered {
            backchannel: (
                doc.backchannel_logout_supported,
                doc.backchannel_logout_session_supported,
            ),
            oauth2: OAuth2Flow::new(s.client.clone(), endpoints),
            jwks: Jwks::new(required(Some(&doc.jwks_uri), "jwks_uri")?),
            algs: allowed_algs(&doc.id_token_signing_alg_values_supported),
            iss_parameter: doc.authorization_response_iss_parameter_supported,
            end_session: checked(doc.end_session_endpoint.as_ref(), "end_session_endpoint")?,
            issuer: doc.issuer,
        })
    }
}

#[async_trait::async_trait]
impl Flow for OidcFlow {
    async fn endpoints(&self, http: &HttpClient) -> Result<ProviderEndpoints, FlowError> {
        let d = self.discovered(http).await?;
        Ok(ProviderEndpoints {
            issuer: Some(d.issuer.clone()),
            end_session_url: d.end_session.clone(),
            jwks_url: Some(d.jwks.uri().clone()),
            backchannel_logout: d.backchannel.0,
            backchannel_logout_session: d.backchannel.1,
            ..d.oauth2.provider_endpoints()
        })
    }

    async fn begin(&self, http: &HttpClient) -> Result<Begin, FlowError> {
        let discovered = self.discovered(http).await?;
        discovered
            .oauth2
            .begin_pushed(http, Some("openid"), Some(random_token()))
            .await
    }

    fn attempt_key<'a>(&self, callback: &'a CallbackParams) -> Option<&'a str> {
        callback.get("state")
    }

    fn reported_error(&self, callback: &CallbackParams) -> Option<FlowError> {
        OAuth2Flow::reported_error(callback)
    }

    async fn complete(
        &self,
        http: &HttpClient,
        callback: &CallbackParams,
        pending: Value,
    ) -> Result<Completed, FlowError> {
        let pending = CodePending::read(pending);
        let d = self.discovered(http).await?;
        // A `{tenantid}` issuer is only known once the ID token names the tenant.
        let (known, required) = if d.issuer.contains(TENANT_PLACEHOLDER) {
            (None, false)
        } else {
            (Some(d.issuer.as_str()), d.iss_parameter)
        };
        OAuth2Flow::check_iss(callback, known, required)?;
        let (tokens, mut credentials) = d.oauth2.exchange(http, callback, pending.verifier).await?;
        let raw = tokens
            .extra
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or(IdTokenError::Missing)?;
        let nonce = Some(pending.nonce.as_deref().unwrap_or_default());
        let expect = self.expectations(d, nonce, credentials.access_token());
        let claims = verify_id_token(raw, &expect, &d.jwks, http).await?;
        credentials.id_token = Some(Secret::new(raw));
        let userinfo = d.oauth2.userinfo(http, &credentials).await?;
        let mut merged = merge_claims(claims, userinfo)?;
        add_form_post_name(&mut merged, callback);
        Ok(Completed {
            userinfo: Some(merged),
            credentials,
        })
    }

    /// The refresh of the code flow; a new ID token is validated like the first (except its
    /// nonce) and must name the same user.
    async fn refresh(
        &self,
        http: &HttpClient,
        old: &Credentials,
    ) -> Result<Credentials, FlowError> {
        let d = self.discovered(http).await?;
        let (tokens, mut credentials) = d.oauth2.refresh(http, old).await?;
        let Some(raw) = tokens.extra.get("id_token").and_then(Value::as_str) else {
            return Ok(credentials);
        };
        let expect = self.expectations(d, None, credentials.access_token());
        let claims = verify_id_token(raw, &expect, &d.jwks, http).await?;
        let old_subject = old
            .id_token()
            .and_then(jwt_payload)
            .and_then(|c| c.get("sub").cloned());
        if old_subject.is_some() && claims.get("sub") != old_subject.as_ref() {
            return Err(FlowError::SubjectMismatch);
        }
        credentials.id_token = Some(Secret::new(raw));
        Ok(credentials)
    }

    async fn revoke(&self, http: &HttpClient, credentials: &Credentials) {
        if let Ok(d) = self.discovered(http).await {
            d.oauth2.revoke(http, credentials).await;
        }
    }

    // The grants without a user's browser give no validated ID token: an ID token in the
    // answer is dropped (the credentials carry the access and refresh tokens only).
    async fn client_credentials(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<Credentials, FlowError> {
        let d = self.discovered(http).await?;
        d.oauth2.client_credentials(http, scopes).await
    }

    async fn device_start(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<DeviceStart, FlowError> {
        let d = self.discovered(http).await?;
        d.oauth2.device_start(http, scopes).await
    }

    async fn device_finish(
        &self,
        http: &HttpClient,
        start: &DeviceStart,
        timeout: std::time::Duration,
    ) -> Result<Credentials, FlowError> {
        let d = self.discovered(http).await?;
        d.oauth2.device_finish(http, start, timeout).await
    }

    /// RP-Initiated Logout: the provider's `end_session_endpoint` with `id_token_hint`,
    /// `client_id` and `post_logout_redirect_uri`.
    async fn end_session_url(
        &self,
        http: &HttpClient,
        credentials: Option<&Credentials>,
        post_logout_redirect_uri: Option<&Url>,
    ) -> Option<Url> {
        let mut url = self.discovered(http).await.ok()?.end_session.clone()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = credentials.and_then(Credentials::id_token) {
                query.append_pair("id_token_hint", hint);
            }
            query.append_pair("client_id", &self.settings.client.client_id);
            if let Some(after) = post_logout_redirect_uri {
                query.append_pair("post_logout_redirect_uri", after.as_str());
            }
        }
        Some(url)
    }

    async fn logout_token(
        &self,
        http: &HttpClient,
        raw: &str,
        now: i64,
    ) -> Result<LogoutClaims, LogoutTokenError> {
        let d = self
            .discovered(http)
            .await
            .map_err(|_| LogoutTokenError::Discovery)?;
        let expect = self.expectations(d, None, "");
        verify_logout_token(raw, &expect, &d.jwks, http, now).await
    }

    async fn issuer(&self, http: &HttpClient) -> Option<String> {
        Some(self.discovered(http).await.ok()?.issuer.clone())
    }

    async fn is_issuer(&self, http: &HttpClient, iss: &str) -> bool {
        let Ok(d) = self.discovered(http).await else {
            return false;
        };
        let settings = &self.settings;
        iss == d.issuer
            || settings.issuer_aliases.iter().any(|alias| alias == iss)
            || (d.issuer.contains(TENANT_PLACEHOLDER)
                && settings
                    .tenants
                    .iter()
                    .any(|tenant| d.issuer.replace(TENANT_PLACEHOLDER, tenant) == iss))
    }
}

/// Claims that describe the ID token itself, not the user: userinfo never overrides them.
const TOKEN_CLAIMS: [&str; 10] = [
    "iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash",
];

/// The ID token's claims with userinfo merged in; their subjects must agree.
/// Sign in with Apple sends the user's name once, on the first login, as a JSON `user`
/// field of its `form_post` callback (it is not in the ID token). Only the name is taken,
/// and only where the claims have none: the field is not signed, so it never names the
/// email or the subject.
fn add_form_post_name(claims: &mut Value, callback: &CallbackParams) {
    let Some(user) = callback
        .get("user")
        .and_then(|u| serde_json::from_str::<Value>(u).ok())
    else {
        return;
    };
    let part = |key: &str| {
        user["name"][key]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_owned)
    };
    let (given, family) = (part("firstName"), part("lastName"));
    let Some(claims) = claims.as_object_mut() else {
        return;
    };
    let full = [given.clone(), family.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    for (key, value) in [("given_name", given), ("family_name", family)] {
        if let Some(value) = value {
            claims.entry(key).or_insert(Value::String(value));
        }
    }
    if !full.is_empty() {
        claims.entry("name").or_insert(Value::String(full));
    }
}

fn merge_claims(
    mut claims: Map<String, Value>,
    userinfo: Option<Value>,
) -> Result<Value, FlowError> {
    if let Some(userinfo) = userinfo {
        let Value::Object(userinfo) = userinfo else {
            return Err(FlowError::Userinfo(
                crate::protocol::http::HttpError::InvalidJson,
            ));
        };
        if userinfo.get("sub") != claims.get("sub") {
            return Err(FlowError::SubjectMismatch);
        }
        for (key, value) in userinfo {
            if !TOKEN_CLAIMS.contains(&key.as_str()) {
                claims.insert(key, value);
            }
        }
    }
    Ok(Value::Object(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_user(user: &str) -> Value {
        let raw = format!(
            "user={}",
            url::form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>()
        );
        let callback = CallbackParams::parse(raw.as_bytes(), 32).unwrap();
        let mut claims = serde_json::json!({"sub": "s", "email": "a@b.example"});
        add_form_post_name(&mut claims, &callback);
        claims
    }

    #[test]
    fn the_form_post_user_field_gives_the_name_only() {
        let claims = with_user(
            r#"{"name":{"firstName":"Jane","lastName":"Doe"},"email":"x@evil.example","sub":"x"}"#,
        );
        assert_eq!(claims["name"], "Jane Doe");
        assert_eq!(claims["given_name"], "Jane");
        assert_eq!(claims["email"], "a@b.example");
        assert_eq!(claims["sub"], "s");
    }

    proptest::proptest! {
        /// The field is outside input: anything is ignored or gives a name, nothing else.
        #[test]
        fn any_user_field_is_harmless(user in "\\PC{0,200}") {
            let claims = with_user(&user);
            proptest::prop_assert_eq!(&claims["sub"], "s");
            proptest::prop_assert_eq!(&claims["email"], "a@b.example");
        }
    }
}
