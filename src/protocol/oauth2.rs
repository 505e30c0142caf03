//! OAuth 2.0 authorization code flow with PKCE, over the `oauth2` crate.
//!
//! Protocol layer: no Rocket types. Real token endpoints are untidy (errors inside HTTP 200
//! bodies, form-encoded answers, `token_type` missing or lowercase, `expires_in` as a string,
//! comma-separated scopes, 201 statuses), so responses are normalised before the `oauth2`
//! crate's generic client parses them into [`LenientTokenResponse`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use ::oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use ::oauth2::http::{header::CONTENT_TYPE, HeaderValue, StatusCode};
use ::oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use url::Url;

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::assertion::ClientAssertion;
use super::credentials::Credentials;
use super::error::{FlowError, TokenError};
use super::flow::{Begin, CallbackParams, Completed, DeviceStart, Flow, ProviderEndpoints};
use super::http::{Buffered, HttpClient, HttpError};
use super::jose::SigningKey;
use crate::secret::Secret;
use crate::util::now;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    #[default]
    #[serde(alias = "basic")]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    #[serde(alias = "post")]
    ClientSecretPost,
    /// An assertion signed with the app's private key (`client_key`), RFC 7523: no secret.
    PrivateKeyJwt,
    /// An assertion signed (HS256) with the client secret, RFC 7523: the secret itself is
    /// never sent.
    ClientSecretJwt,
}

impl ClientAuth {
    /// Whether the client authenticates with an assertion instead of its secret.
    pub(crate) fn by_assertion(self) -> bool {
        matches!(
            self,
            ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt
        )
    }
}

/// The `oauth2` crate's client, typed with this crate's lenient token response.
type OAuth2Client = ::oauth2::Client<
    BasicErrorResponse,
    LenientTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Who the client is and what it asks for: the part of a provider's configuration that every
/// authorization-code flow (OAuth 2, OpenID Connect) uses.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub redirect_uri: Url,
    pub auth: ClientAuth,
    pub scopes: Vec<String>,
    pub pkce: bool,
    /// Extra authorization URL parameters (`auth_params`, `response_mode`).
    pub params: Vec<(String, String)>,
    /// A client secret signed anew when it nears expiry (Sign in with Apple), instead of
    /// `client_secret`.
    #[cfg(feature = "apple")]
    pub signed_secret: Option<std::sync::Arc<super::signed_secret::SignedSecret>>,
    /// RFC 7523 assertions, for `private_key_jwt` and `client_secret_jwt`.
    pub assertion: Option<Arc<ClientAssertion>>,
    /// RFC 9449: the tokens are bound to a key of the session's (DPoP proofs on token,
    /// refresh and API requests).
    pub dpop: bool,
    /// RFC 9126: push the authorization request first; `None`: when the provider offers it
    /// (always when it requires it).
    pub par: Option<bool>,
}

impl ClientSettings {
    /// The secret to send now.
    fn secret(&self) -> Option<Secret> {
        #[cfg(feature = "apple")]
        if let Some(signed) = &self.signed_secret {
            return signed.current();
        }
        self.client_secret.clone()
    }
}

/// A provider's OAuth 2 endpoints.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub authorize_url: Url,
    pub token_url: Url,
    pub userinfo_url: Option<Url>,
    /// The issuer an RFC 9207 `iss` callback parameter must name; `None`: `iss` is ignored.
    pub issuer: Option<String>,
    /// The RFC 7009 revocation endpoint; `None`: tokens are not revoked at logout.
    pub revocation_url: Option<Url>,
    /// The RFC 8628 device authorization endpoint; `None`: no device grant.
    pub device_authorization_url: Option<Url>,
    /// The RFC 9126 pushed authorization request endpoint.
    pub par_url: Option<Url>,
    /// The provider requires pushed requests (`require_pushed_authorization_requests`).
    pub par_required: bool,
    /// The provider's issuer identifier, when known: client assertions may name it as
    /// their audience.
    pub issuer_id: Option<String>,
}

/// What the authorization-code flows remember between `begin` and `complete`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct CodePending {
    /// The PKCE verifier.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// The OpenID Connect nonce.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl CodePending {
    /// Reads back what `begin_code` remembered (nothing, if unreadable: the exchange then
    /// fails at the provider).
    pub fn read(pending: Value) -> Self {
        serde_json::from_value(pending).unwrap_or_default()
    }
}

/// A form `POST` to one of the authorization server's endpoints (revocation, introspection),
/// the client authenticating as at the token endpoint: `client` is its id, its secret (none
/// for a public client, which sends its id) and how it sends it.
pub(crate) fn client_form(
    http: &HttpClient,
    url: &Url,
    client: (&str, Option<&Secret>, ClientAuth),
    form: &[(&str, &str)],
) -> Result<reqwest::Request, HttpError> {
    let (client_id, secret, auth) = client;
    let mut form = form.to_vec();
    let mut request = http.request(reqwest::Method::POST, url.clone());
    let basic = auth == ClientAuth::ClientSecretBasic && secret.is_some();
    // Unless Basic authentication names the client, the body does; a pushed authorization
    // request names it there already (RFC 9126 §2.1).
    if !basic && !form.iter().any(|(k, _)| *k == "client_id") {
        form.push(("client_id", client_id));
    }
    match (secret, auth) {
        // The assertion is added when the request is sent (a fresh one each time).
        (_, ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt) | (None, _) => {}
        (Some(secret), ClientAuth::ClientSecretBasic) => {
            // RFC 6749 §2.3.1: the id and secret are form-encoded first.
            let encode = |s: &str| -> String {
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
            };
            request = request.basic_auth(encode(client_id), Some(encode(secret.expose())));
        }
        (Some(secret), ClientAuth::ClientSecretPost) => {
            form.push(("client_secret", secret.expose()));
        }
    }
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    request
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .build()
        .map_err(|e| HttpError::Request(e.without_url().to_string()))
}

/// The OAuth 2.0 authorization code flow (with PKCE unless turned off).
pub(crate) struct OAuth2Flow {
    client: OAuth2Client,
    settings: ClientSettings,
    endpoints: Endpoints,
    /// The authorization server's latest DPoP nonce (RFC 9449 §8).
    dpop_nonce: Mutex<Option<String>>,
}

impl OAuth2Flow {
    /// The configured endpoints.
    pub(crate) fn provider_endpoints(&self) -> ProviderEndpoints {
        let e = &self.endpoints;
        ProviderEndpoints {
            issuer: e.issuer.clone(),
            authorize_url: Some(e.authorize_url.clone()),
            token_url: Some(e.token_url.clone()),
            userinfo_url: e.userinfo_url.clone(),
            revocation_url: e.revocation_url.clone(),
            ..ProviderEndpoints::default()
        }
    }

    /// Builds the `oauth2` client once.
    pub fn new(settings: ClientSettings, endpoints: Endpoints) -> Self {
        let mut client = ::oauth2::Client::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(endpoints.authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(endpoints.token_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(settings.redirect_uri.clone()))
            .set_auth_type(match settings.auth {
                ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
                // An assertion goes in the body, next to `client_id`.
                _ => AuthType::RequestBody,
            });
        if let (Some(secret), false) = (&settings.client_secret, settings.auth.by_assertion()) {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        OAuth2Flow {
            client,
            settings,
            endpoints,
            dpop_nonce: Mutex::new(None),
        }
    }

    /// The token endpoint's HTTP client for the `oauth2` crate, proving `dpop` if given.
    fn token_endpoint<'a>(
        &'a self,
        http: &'a HttpClient,
        url: &'a Url,
        dpop: Option<&'a SigningKey>,
    ) -> TokenEndpoint<'a> {
        TokenEndpoint {
            flow: self,
            http,
            url,
            dpop,
        }
    }

    /// Sends `request` to the authorization server: with a fresh client assertion (when the
    /// client authenticates with one) and a DPoP proof of `dpop`; sent once more with the
    /// server's nonce when it asks for one.
    async fn send_to_server(
        &self,
        http: &HttpClient,
        request: reqwest::Request,
        dpop: Option<&SigningKey>,
    ) -> Result<Buffered, HttpError> {
        let unclonable = || HttpError::Request("the request cannot be sent again".into());
        let mut attempt = 0;
        loop {
            let mut sent = request.try_clone().ok_or_else(unclonable)?;
            self.add_assertion(&mut sent);
            if let Some(key) = dpop {
                let nonce = self
                    .dpop_nonce
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let proof = super::dpop::proof(
                    key,
                    sent.method().as_str(),
                    sent.url().as_str(),
                    nonce.as_deref(),
                    None,
                )
                .and_then(|p| HeaderValue::from_str(&p).ok())
                .ok_or_else(|| HttpError::Request("the DPoP proof could not be signed".into()))?;
                sent.headers_mut().insert("DPoP", proof);
            }
            let response = http.send(sent).await?;
            if let Some(nonce) = &response.dpop_nonce {
                *self.dpop_nonce.lock().unwrap_or_else(|e| e.into_inner()) = Some(nonce.clone());
            }
            attempt += 1;
            if !(dpop.is_some() && response.wants_dpop_nonce && attempt == 1) {
                return Ok(response);
            }
        }
    }

    /// Adds a fresh client assertion to a form `request`, when the client authenticates
    /// with one.
    fn add_assertion(&self, request: &mut reqwest::Request) {
        let Some(assertion) = &self.settings.assertion else {
            return;
        };
        let mut form = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let e = &self.endpoints;
        assertion.add_to(
            &mut form,
            &self.settings.client_id,
            &e.token_url,
            e.issuer_id.as_deref(),
        );
        *request.body_mut() = Some(form.into());
    }

    /// A form `POST` to one of the server's endpoints (revocation, pushed requests),
    /// authenticated as at the token endpoint.
    fn form_request(
        &self,
        http: &HttpClient,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Request, HttpError> {
        let settings = &self.settings;
        let secret = settings.secret();
        let client = (settings.client_id.as_str(), secret.as_ref(), settings.auth);
        client_form(http, url, client, form)
    }

    /// A new DPoP key for a new grant, when the tokens are DPoP-bound.
    fn new_dpop_key(&self) -> Result<Option<(SigningKey, Secret)>, FlowError> {
        if !self.settings.dpop {
            return Ok(None);
        }
        let (key, pkcs8) = SigningKey::generate_es256()
            .map_err(|_| TokenError::InvalidResponse("no DPoP key could be generated".into()))?;
        Ok(Some((key, Secret::new(URL_SAFE_NO_PAD.encode(pkcs8)))))
    }
}

/// RFC 6749 §7.1: a client must not use a token type it does not understand. `bearer` (any
/// case, or no `token_type` at all) is used, and `DPoP` for a request proven with `key`
/// (RFC 9449 §5), which is then kept with the `credentials` (a `Bearer` answer is not bound).
fn bind(
    tokens: &LenientTokenResponse,
    credentials: &mut Credentials,
    key: Option<Secret>,
) -> Result<(), TokenError> {
    match &tokens.token_type {
        BasicTokenType::Bearer => credentials.dpop_key = None,
        BasicTokenType::Extension(t) if key.is_some() && t.eq_ignore_ascii_case("dpop") => {
            credentials.dpop_key = key;
        }
        other => {
            return Err(TokenError::UnsupportedTokenType(displayable_code(
                other.as_ref(),
            )))
        }
    }
    Ok(())
}

impl OAuth2Flow {
    /// Starts an authorization request, pushed first to the provider (RFC 9126) when it is
    /// to be: the browser then carries only `client_id` and the `request_uri`.
    pub async fn begin_pushed(
        &self,
        http: &HttpClient,
        extra_scope: Option<&str>,
        nonce: Option<String>,
    ) -> Result<Begin, FlowError> {
        let mut begin = self.begin_code(extra_scope, nonce);
        let Some(par_url) = self.pushed_url() else {
            return Ok(begin);
        };
        let pairs: Vec<(String, String)> = begin.url.query_pairs().into_owned().collect();
        let form: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let pushed = |e: TokenError| {
            FlowError::Pushed(match e {
                TokenError::Rejected { error, .. } => format!("the provider answered `{error}`"),
                other => other.to_string(),
            })
        };
        let request = self
            .form_request(http, par_url, &form)
            .map_err(|e| pushed(TokenError::Http(e)))?;
        let response = self
            .send_to_server(http, request, None)
            .await
            .map_err(|e| pushed(TokenError::Http(e)))?;
        let request_uri = pushed_request_uri(&response).map_err(pushed)?;
        let mut url = self.endpoints.authorize_url.clone();
        url.query_pairs_mut()
            .clear()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("request_uri", &request_uri);
        begin.url = url;
        Ok(begin)
    }

    /// Where to push authorization requests, when they are pushed.
    fn pushed_url(&self) -> Option<&Url> {
        let e = &self.endpoints;
        match self.settings.par {
            Some(false) if !e.par_required => None,
            _ => e.par_url.as_ref(),
        }
    }

    /// The `oauth2` client, with a freshly signed secret when the secret is signed.
    fn client(&self) -> std::borrow::Cow<'_, OAuth2Client> {
        #[cfg(feature = "apple")]
        if self.settings.signed_secret.is_some() {
            if let Some(secret) = self.settings.secret() {
                let client = self
                    .client
                    .clone()
                    .set_client_secret(ClientSecret::new(secret.expose().to_owned()));
                return std::borrow::Cow::Owned(client);
            }
        }
        std::borrow::Cow::Borrowed(&self.client)
    }

    /// Starts an authorization request: a fresh random state, a PKCE S256 challenge (unless
    /// turned off), the configured scopes plus `extra_scope`, the configured parameters, and
    /// the OpenID Connect `nonce` if given (remembered with the verifier).
    pub fn begin_code(&self, extra_scope: Option<&str>, nonce: Option<String>) -> Begin {
        let mut request = self.client.authorize_url(CsrfToken::new_random);
        if let Some(scope) = extra_scope.filter(|s| !self.settings.scopes.iter().any(|x| x == s)) {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        request = request.add_scopes(self.settings.scopes.iter().cloned().map(Scope::new));
        let mut verifier = None;
        if self.settings.pkce {
            let (challenge, secret) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(secret.into_secret());
        }
        for (name, value) in &self.settings.params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        if let Some(nonce) = &nonce {
            request = request.add_extra_param("nonce", nonce.as_str());
        }
        let (url, state) = request.url();
        let pending = CodePending { verifier, nonce };
        Begin {
            url,
            key: state.into_secret(),
            pending: serde_json::to_value(pending).unwrap_or_default(),
        }
    }

    /// Checks the callback's `iss` against `known` (RFC 9207): a present `iss` must equal
    /// it, and when `required` it must be present.
    pub fn check_iss(
        callback: &CallbackParams,
        known: Option<&str>,
        required: bool,
    ) -> Result<(), FlowError> {
        match (callback.get("iss"), known) {
            (Some(iss), Some(known)) if iss != known => Err(FlowError::IssuerMismatch),
            (None, Some(_)) if required => Err(FlowError::IssuerMismatch),
            _ => Ok(()),
        }
    }

    /// Exchanges the callback's code (with its PKCE verifier) for tokens.
    pub async fn exchange(
        &self,
        http: &HttpClient,
        callback: &CallbackParams,
        verifier: Option<String>,
    ) -> Result<(LenientTokenResponse, Credentials), FlowError> {
        let code = callback.get("code").ok_or(FlowError::MissingCode)?;
        let client = self.client();
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
        }
        // A new login, a new key (RFC 9449: rotated with the session).
        let (key, kept) = self.new_dpop_key()?.unzip();
        let endpoint = self.token_endpoint(http, &self.endpoints.token_url, key.as_ref());
        let tokens = request
            .request_async(&endpoint)
            .await
            .map_err(token_error)?;
        let mut credentials = tokens.credentials(&self.settings.scopes, now());
        bind(&tokens, &mut credentials, kept)?;
        Ok((tokens, credentials))
    }

    /// The userinfo document, when the provider has a userinfo endpoint.
    pub async fn userinfo(
        &self,
        http: &HttpClient,
        credentials: &Credentials,
    ) -> Result<Option<Value>, FlowError> {
        let Some(url) = &self.endpoints.userinfo_url else {
            return Ok(None);
        };
        let scheme = match credentials.dpop_key.is_some() {
            true => "DPoP",
            false => "Bearer",
        };
        let request = http
            .request(reqwest::Method::GET, url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                format!("{scheme} {}", credentials.access_token()),
            )
            .build()
            .map_err(|e| FlowError::Userinfo(HttpError::Request(e.without_url().to_string())))?;
        let response = super::dpop::send_proven(http, request, credentials)
            .await
            .map_err(FlowError::Userinfo)?;
        if !(200..300).contains(&response.status) {
            return Err(FlowError::Userinfo(HttpError::Status(response.status)));
        }
        serde_json::from_slice(&response.body)
            .map(Some)
            .map_err(|_| FlowError::Userinfo(HttpError::InvalidJson))
    }

    /// Exchanges the refresh token for new tokens (RFC 6749 §6). An answer without a refresh
    /// token keeps the old one; scopes not reported stay as they were.
    pub async fn refresh(
        &self,
        http: &HttpClient,
        old: &Credentials,
    ) -> Result<(LenientTokenResponse, Credentials), FlowError> {
        let refresh_token = old
            .refresh_token
            .as_ref()
            .ok_or(FlowError::NoRefreshToken)?;
        let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
        // The session's key: a bound refresh token needs a proof of it.
        let key = old.dpop_signing_key();
        let endpoint = self.token_endpoint(http, &self.endpoints.token_url, key.as_ref());
        let tokens = self
            .client()
            .exchange_refresh_token(&refresh_token)
            .request_async(&endpoint)
            .await
            .map_err(token_error)?;
        let mut credentials = tokens.credentials(&old.scopes, now());
        bind(&tokens, &mut credentials, old.dpop_key.clone())?;
        if credentials.refresh_token.is_none() {
            credentials.refresh_token = old.refresh_token.clone();
        }
        credentials.id_token = old.id_token.clone();
        Ok((tokens, credentials))
    }

    /// RFC 6749 §4.4: a token for the client itself (no user), for `scopes` (the configured
    /// ones when empty).
    pub async fn client_credentials(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<Credentials, FlowError> {
        let scopes = self.scopes_or_configured(scopes);
        let (key, kept) = self.new_dpop_key()?.unzip();
        let endpoint = self.token_endpoint(http, &self.endpoints.token_url, key.as_ref());
        let tokens = self
            .client()
            .exchange_client_credentials()
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&endpoint)
            .await
            .map_err(token_error)?;
        let mut credentials = tokens.credentials(&scopes, now());
        bind(&tokens, &mut credentials, kept)?;
        Ok(credentials)
    }

    fn scopes_or_configured(&self, scopes: &[String]) -> Vec<String> {
        match scopes.is_empty() {
            true => self.settings.scopes.clone(),
            false => scopes.to_vec(),
        }
    }

    /// RFC 8628 §3.1: asks for a device code and the user code to show.
    pub async fn device_start(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<DeviceStart, FlowError> {
        let url = self
            .endpoints
            .device_authorization_url
            .as_ref()
            .ok_or(FlowError::Unsupported("the device authorization grant"))?;
        let client = self
            .client()
            .into_owned()
            .set_device_authorization_url(DeviceAuthorizationUrl::from_url(url.clone()));
        let scopes = self.scopes_or_configured(scopes);
        let details: StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .request_async(&self.token_endpoint(http, url, None))
            .await
            .map_err(token_error)?;
        Ok(DeviceStart { details, scopes })
    }

    /// RFC 8628 §3.4: polls the token endpoint at the interval the provider asks for (longer
    /// after each `slow_down`) until the user answered or the code expired (or `timeout`).
    pub async fn device_finish(
        &self,
        http: &HttpClient,
        start: &DeviceStart,
        timeout: Duration,
    ) -> Result<Credentials, FlowError> {
        let client = self.client();
        let (key, kept) = self.new_dpop_key()?.unzip();
        let endpoint = self.token_endpoint(http, &self.endpoints.token_url, key.as_ref());
        let tokens = client
            .exchange_device_access_token(&start.details)
            .request_async(&endpoint, tokio::time::sleep, Some(timeout))
            .await
            .map_err(token_error)?;
        let mut credentials = tokens.credentials(&start.scopes, now());
        bind(&tokens, &mut credentials, kept)?;
        Ok(credentials)
    }

    /// Revokes the refresh token (which ends the grant at most providers) and the access
    /// token at the revocation endpoint, if there is one (RFC 7009), authenticating like at
    /// the token endpoint. Best effort: failures are logged.
    pub async fn revoke(&self, http: &HttpClient, credentials: &Credentials) {
        let Some(url) = &self.endpoints.revocation_url else {
            return;
        };
        let refresh = credentials
            .refresh_token
            .as_ref()
            .map(|t| (t.expose(), "refresh_token"));
        let access = Some((credentials.access_token.expose(), "access_token"));
        for (token, hint) in refresh.into_iter().chain(access) {
            let form = [("token", token), ("token_type_hint", hint)];
            let outcome = match self.form_request(http, url, &form) {
                Ok(request) => self
                    .send_to_server(http, request, None)
                    .await
                    .map(|r| r.status),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(200) => {}
                Ok(status) => log::warn!("token revocation answered HTTP {status}"),
                Err(e) => log::warn!("token revocation failed: {e}"),
            }
        }
    }

    /// The error reported in an authorization response (RFC 6749 §4.1.2.1).
    pub fn reported_error(callback: &CallbackParams) -> Option<FlowError> {
        let error = callback.get("error")?;
        if let Some(description) = callback.get("error_description") {
            log::info!("provider error `{error}`: {description:?}");
        }
        Some(match error {
            "access_denied" => FlowError::Cancelled,
            _ => FlowError::Provider {
                error: displayable_code(error),
                description: None,
            },
        })
    }
}

#[async_trait::async_trait]
impl Flow for OAuth2Flow {
    async fn endpoints(&self, _http: &HttpClient) -> Result<ProviderEndpoints, FlowError> {
        Ok(self.provider_endpoints())
    }

    async fn begin(&self, http: &HttpClient) -> Result<Begin, FlowError> {
        self.begin_pushed(http, None, None).await
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
        Self::check_iss(callback, self.endpoints.issuer.as_deref(), false)?;
        let (_, credentials) = self.exchange(http, callback, pending.verifier).await?;
        let userinfo = self.userinfo(http, &credentials).await?;
        Ok(Completed {
            credentials,
            userinfo,
        })
    }

    async fn refresh(
        &self,
        http: &HttpClient,
        old: &Credentials,
    ) -> Result<Credentials, FlowError> {
        OAuth2Flow::refresh(self, http, old)
            .await
            .map(|(_, new)| new)
    }

    async fn revoke(&self, http: &HttpClient, credentials: &Credentials) {
        OAuth2Flow::revoke(self, http, credentials).await;
    }

    async fn client_credentials(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<Credentials, FlowError> {
        OAuth2Flow::client_credentials(self, http, scopes).await
    }

    async fn device_start(
        &self,
        http: &HttpClient,
        scopes: &[String],
    ) -> Result<DeviceStart, FlowError> {
        OAuth2Flow::device_start(self, http, scopes).await
    }

    async fn device_finish(
        &self,
        http: &HttpClient,
        start: &DeviceStart,
        timeout: Duration,
    ) -> Result<Credentials, FlowError> {
        OAuth2Flow::device_finish(self, http, start, timeout).await
    }
}

/// OAuth error codes are short ASCII words; anything else is not shown.
pub(crate) fn displayable_code(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        code.to_owned()
    } else {
        "unknown_error".to_owned()
    }
}

/// The `oauth2` crate's HTTP client for token endpoint calls: the pooled client, the
/// endpoint's parsed URL (the `oauth2` crate's requests go to it; reusing it spares parsing
/// the URL per request), the flow's client assertions and DPoP proofs
/// ([`OAuth2Flow::send_to_server`]), then [`normalize_token_response`].
struct TokenEndpoint<'a> {
    flow: &'a OAuth2Flow,
    http: &'a HttpClient,
    url: &'a Url,
    dpop: Option<&'a SigningKey>,
}

impl<'c> AsyncHttpClient<'c> for TokenEndpoint<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let request = if parts.uri == self.url.as_str() {
                let mut request = reqwest::Request::new(parts.method, self.url.clone());
                *request.headers_mut() = parts.headers;
                *request.body_mut() = Some(body.into());
                request
            } else {
                reqwest::Request::try_from(HttpRequest::from_parts(parts, body))
                    .map_err(|e| HttpError::Request(e.without_url().to_string()))?
            };
            let response = self
                .flow
                .send_to_server(self.http, request, self.dpop)
                .await?;
            normalize_token_response(response)
        })
    }
}

/// The `request_uri` of a pushed authorization request's answer (RFC 9126 §2.2).
fn pushed_request_uri(response: &Buffered) -> Result<String, TokenError> {
    let body: Map<String, Value> = serde_json::from_slice(&response.body)
        .map_err(|_| TokenError::Http(HttpError::Status(response.status)))?;
    if let Some(error) = body.get("error").and_then(Value::as_str) {
        return Err(TokenError::Rejected {
            error: displayable_code(error),
            description: body
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    match body.get("request_uri").and_then(Value::as_str) {
        Some(uri) if (200..300).contains(&response.status) && !uri.is_empty() => Ok(uri.to_owned()),
        _ => Err(TokenError::InvalidResponse("no `request_uri`".into())),
    }
}

/// Rewrites a raw token-endpoint answer into what the `oauth2` crate expects: a JSON body,
/// status 200 for tokens and 400 for errors (including errors reported inside 2xx bodies).
pub(crate) fn normalize_token_response(raw: Buffered) -> Result<HttpResponse, HttpError> {
    let content_type = raw.content_type.as_deref().unwrap_or("");
    let form =
        content_type.contains("x-www-form-urlencoded") || content_type.starts_with("text/plain");
    let body: Option<Map<String, Value>> = if form {
        let map: Map<String, Value> = url::form_urlencoded::parse(&raw.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        (!map.is_empty()).then_some(map)
    } else {
        serde_json::from_slice::<Map<String, Value>>(&raw.body).ok()
    };
    let success = (200..300).contains(&raw.status);
    let (status, body) = match body {
        Some(map) if map.get("error").is_some_and(|e| e.is_string()) => {
            (StatusCode::BAD_REQUEST, map)
        }
        Some(map) if success => (StatusCode::OK, map),
        None if success => return Err(HttpError::InvalidJson),
        _ => return Err(HttpError::Status(raw.status)),
    };
    // A JSON answer goes on as it came (parsed once more by the `oauth2` crate only).
    let body = if form || status != StatusCode::OK {
        serde_json::to_vec(&body).map_err(|_| HttpError::InvalidJson)?
    } else {
        raw.body
    };
    let mut response = HttpResponse::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

fn token_error<T: ::oauth2::ErrorResponseType + AsRef<str> + std::fmt::Display + 'static>(
    err: RequestTokenError<HttpError, ::oauth2::StandardErrorResponse<T>>,
) -> TokenError {
    match err {
        RequestTokenError::ServerResponse(e) => TokenError::Rejected {
            error: displayable_code(e.error().as_ref()),
            description: e.error_description().cloned(),
        },
        RequestTokenError::Request(e) => TokenError::Http(e),
        // The raw body may hold secrets: report only where parsing failed.
        RequestTokenError::Parse(e, _) => {
            let path = e.path().to_string();
            let what = if path == "." {
                "missing or malformed `access_token`".to_owned()
            } else {
                format!("malformed `{path}`")
            };
            TokenError::InvalidResponse(what)
        }
        RequestTokenError::Other(message) => TokenError::InvalidResponse(message),
    }
}

impl LenientTokenResponse {
    /// The credentials in this response, received at `now`. Scopes are those granted, or
    /// those requested when the provider does not say.
    pub fn credentials(&self, requested: &[String], now: i64) -> Credentials {
        use ::oauth2::TokenResponse;
        Credentials {
            access_token: Secret::new(self.access_token.secret().clone()),
            token_type: self.token_type.as_ref().to_ascii_lowercase(),
            expires_at: self
                .expires_in
                .map(|secs| now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))),
            refresh_token: self
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            scopes: match &self.scopes {
                Some(scopes) => scopes.iter().map(|s| s.to_string()).collect(),
                None => requested.to_vec(),
            },
            received_at: now,
            id_token: None,
            token_secret: None,
            dpop_key: None,
        }
    }
}

/// A token response parsed leniently (see the module docs); unknown fields are kept in
/// `extra`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LenientTokenResponse {
    #[serde(deserialize_with = "non_empty_token")]
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "token_type")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, rename = "scope", deserialize_with = "scope_list")]
    scopes: Option<Vec<Scope>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ::oauth2::TokenResponse for LenientTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

fn non_empty_token<'de, D: Deserializer<'de>>(d: D) -> Result<AccessToken, D::Error> {
    let token = String::deserialize(d)?;
    if token.is_empty() {
        return Err(serde::de::Error::custom("empty access_token"));
    }
    Ok(AccessToken::new(token))
}

fn token_type<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let value = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(match value.to_ascii_lowercase().as_str() {
        "" | "bearer" => BasicTokenType::Bearer,
        "mac" => BasicTokenType::Mac,
        _ => BasicTokenType::Extension(value),
    })
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn scope_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scope>>, D::Error> {
    let words: Vec<String> = match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return Ok(None),
    };
    Ok(Some(words.into_iter().map(Scope::new).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::oauth2::TokenResponse;

    fn parse(json: &str) -> LenientTokenResponse {
        serde_json::from_str(json).unwrap()
    }

    fn raw(status: u16, content_type: &str, body: &str) -> Buffered {
        Buffered {
            status,
            content_type: Some(content_type.into()),
            body: body.as_bytes().to_vec(),
            dpop_nonce: None,
            wants_dpop_nonce: false,
        }
    }

    #[test]
    fn lenient_fields() {
        let t = parse(r#"{"access_token":"a","token_type":"bearer","scope":"a,b"}"#);
        assert_eq!(t.token_type(), &BasicTokenType::Bearer);
        assert_eq!(t.scopes().unwrap().len(), 2);
        let t = parse(r#"{"access_token":"a","expires_in":"3600","scope":["x"]}"#);
        assert_eq!(t.token_type(), &BasicTokenType::Bearer);
        assert_eq!(t.expires_in(), Some(Duration::from_secs(3600)));
        assert_eq!(t.scopes().unwrap()[0].as_str(), "x");
        let t = parse(r#"{"access_token":"a","token_type":"Bearer","id_token":"j"}"#);
        assert_eq!(t.token_type(), &BasicTokenType::Bearer);
        assert_eq!(t.expires_in(), None);
        assert!(t.extra.contains_key("id_token"));
        assert!(serde_json::from_str::<LenientTokenResponse>(r#"{"access_token":""}"#).is_err());
    }

    proptest::proptest! {
        /// Whatever a token endpoint answers: no panic; an accepted answer has a non-empty
        /// access token, and a well-formed one round-trips.
        #[test]
        fn token_responses_never_panic(
            status in 100u16..600,
            content_type in proptest::sample::select(vec![
                "application/json", "application/x-www-form-urlencoded", "text/plain", "text/html", "",
            ]),
            body in "\\PC{0,200}",
            token in "[A-Za-z0-9._~-]{1,40}",
            expires in proptest::option::of(0u64..10_000_000),
        ) {
            if let Ok(response) = normalize_token_response(raw(status, content_type, &body)) {
                if let Ok(parsed) = serde_json::from_slice::<LenientTokenResponse>(response.body()) {
                    proptest::prop_assert!(!parsed.access_token().secret().is_empty());
                }
            }
            let mut json = serde_json::json!({"access_token": token, "token_type": "bearer"});
            if let Some(expires) = expires {
                json["expires_in"] = expires.into();
            }
            let parsed: LenientTokenResponse = serde_json::from_value(json).unwrap();
            proptest::prop_assert_eq!(parsed.access_token().secret(), &token);
            proptest::prop_assert_eq!(parsed.expires_in(), expires.map(Duration::from_secs));
            let credentials = parsed.credentials(&[], i64::MAX - 5);
            proptest::prop_assert!(credentials.expires_at.is_none_or(|at| at >= i64::MAX - 5));
        }
    }

    #[test]
    fn only_bearer_tokens_and_dpop_tokens_asked_for_are_used() {
        let key = || Some(Secret::new("the session's key"));
        for ok in [
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","token_type":"BEARER"}"#,
        ] {
            let t = parse(ok);
            let mut credentials = t.credentials(&[], 0);
            bind(&t, &mut credentials, key()).unwrap();
            assert!(
                credentials.dpop_key.is_none(),
                "a bearer token is not bound"
            );
        }
        let t = parse(r#"{"access_token":"a","token_type":"DPoP"}"#);
        let mut credentials = t.credentials(&[], 0);
        bind(&t, &mut credentials, key()).unwrap();
        assert!(credentials.dpop_key.is_some());
        assert_eq!(credentials.token_type(), "dpop");
        for bad in ["mac", "DPoP", "pop", "N_A"] {
            let t = parse(&format!(r#"{{"access_token":"a","token_type":"{bad}"}}"#));
            let mut credentials = t.credentials(&[], 0);
            let err = bind(&t, &mut credentials, None).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn normalisation() {
        let ok = normalize_token_response(raw(201, "application/json", r#"{"access_token":"a"}"#));
        assert_eq!(ok.unwrap().status(), 200);
        let err = normalize_token_response(raw(
            200,
            "application/json",
            r#"{"ok":false,"error":"invalid_code"}"#,
        ));
        assert_eq!(err.unwrap().status(), 400);
        let form = normalize_token_response(raw(
            200,
            "application/x-www-form-urlencoded",
            "access_token=a&scope=x%2Cy&token_type=bearer",
        ))
        .unwrap();
        let t: LenientTokenResponse = serde_json::from_slice(form.body()).unwrap();
        assert_eq!(t.access_token().secret(), "a");
        assert!(matches!(
            normalize_token_response(raw(500, "text/html", "<h1>oops</h1>")),
            Err(HttpError::Status(500))
        ));
        assert!(matches!(
            normalize_token_response(raw(200, "text/html", "<h1>hi</h1>")),
            Err(HttpError::InvalidJson)
        ));
    }
}
