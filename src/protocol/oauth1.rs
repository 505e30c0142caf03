//! OAuth 1.0a (RFC 5849): temporary credentials, the user's authorization, token
//! credentials — one more [`Flow`]. Every request is signed by the `oauth1-request` crate.

use std::collections::HashMap;

use oauth1_request as oauth;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::credentials::Credentials;
use super::error::{FlowError, TokenError};
use super::flow::{Begin, CallbackParams, Completed, Flow, ProviderEndpoints};
use super::http::{HttpClient, HttpError};
use super::oauth2::displayable_code;
use crate::secret::Secret;
use crate::util::now;

/// How requests are signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// HMAC-SHA1 (RFC 5849 §3.4.2).
    #[default]
    #[serde(rename = "HMAC-SHA1")]
    HmacSha1,
    /// HMAC-SHA256 (the same construction with SHA-256).
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
    /// RSA-SHA1 (RFC 5849 §3.4.3), with the consumer's private key (`private_key`).
    #[serde(rename = "RSA-SHA1")]
    RsaSha1,
    /// PLAINTEXT (RFC 5849 §3.4.4): the secrets themselves; only over TLS.
    #[serde(rename = "PLAINTEXT")]
    Plaintext,
}

/// Where the protocol parameters and the signature go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SignaturePlacement {
    /// The `Authorization: OAuth …` header (RFC 5849 §3.5.1).
    #[default]
    Header,
    /// The query of the request URI (RFC 5849 §3.5.3), for providers that need it.
    Query,
    /// The form body (RFC 5849 §3.5.2) of requests that have one (`POST` to the
    /// credentials endpoints, [`ApiClient::post_form`](crate::ApiClient::post_form)); the
    /// query of the others.
    Form,
}

/// The consumer's credentials and how it signs.
#[derive(Clone)]
pub(crate) struct Consumer {
    pub key: String,
    pub secret: Secret,
    pub method: SignatureMethod,
    /// For RSA-SHA1.
    pub rsa_key: Option<oauth::signature_method::rsa_sha1_09::RsaPrivateKey>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("key", &self.key)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// HMAC-SHA256 for `oauth1-request`, through its `Sign` extension point: the base string
/// the crate writes, keyed and hashed with SHA-256.
#[derive(Clone, Copy, Debug)]
struct HmacSha256;

struct HmacSha256Sign(hmac::Hmac<sha2::Sha256>);

impl oauth::signature_method::SignatureMethod for HmacSha256 {
    type Sign = HmacSha256Sign;

    fn sign_with(self, client_secret: &str, token_secret: Option<&str>) -> HmacSha256Sign {
        use hmac::Mac;
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, RFC3986).to_string();
        let key = format!(
            "{}&{}",
            encode(client_secret),
            token_secret.map(encode).unwrap_or_default()
        );
        // HMAC accepts keys of any length.
        let mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        HmacSha256Sign(mac)
    }
}

impl oauth::signature_method::Sign for HmacSha256Sign {
    type Signature = String;

    fn get_signature_method_name(&self) -> &'static str {
        "HMAC-SHA256"
    }

    fn request_method(&mut self, method: &str) {
        use hmac::Mac;
        self.0.update(method.as_bytes());
        self.0.update(b"&");
    }

    fn uri<T: std::fmt::Display>(&mut self, uri: T) {
        use hmac::Mac;
        self.0.update(format!("{uri}&").as_bytes());
    }

    fn parameter<V: std::fmt::Display>(&mut self, key: &str, value: V) {
        use hmac::Mac;
        self.0.update(key.as_bytes());
        self.0.update(b"%3D");
        self.0.update(value.to_string().as_bytes());
    }

    fn delimiter(&mut self) {
        use hmac::Mac;
        self.0.update(b"%26");
    }

    fn end(self) -> String {
        use base64::Engine;
        use hmac::Mac;
        let signature =
            base64::engine::general_purpose::STANDARD.encode(self.0.finalize().into_bytes());
        percent_encoding::utf8_percent_encode(&signature, RFC3986).to_string()
    }
}

/// An OAuth 1.0a provider's settings, from its configuration.
#[derive(Debug, Clone)]
pub(crate) struct OAuth1Settings {
    pub consumer: Consumer,
    pub placement: SignaturePlacement,
    pub callback_url: Url,
    pub request_token_url: Url,
    pub authorize_url: Url,
    pub access_token_url: Url,
    pub userinfo_url: Option<Url>,
    pub realm: Option<String>,
}

/// What the flow remembers between `begin` and `complete`: the temporary credentials.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Pending {
    #[serde(rename = "t", default)]
    token: String,
    #[serde(rename = "s", default)]
    secret: String,
}

/// The OAuth 1.0a flow.
pub(crate) struct OAuth1Flow {
    settings: OAuth1Settings,
}

/// Signs with the configured method; `token`: the (temporary or token) credentials.
#[derive(Default)]
pub(crate) struct Signing<'a> {
    pub token: Option<(&'a str, &'a str)>,
    pub callback: Option<&'a str>,
    pub verifier: Option<&'a str>,
    /// Fixed nonce and timestamp (a request being checked, the RFC's examples); random and
    /// now otherwise.
    pub nonce: Option<&'a str>,
    pub timestamp: Option<u64>,
    /// Include `oauth_version="1.0"`.
    pub version: bool,
}

/// The `Authorization: OAuth …` header (without `realm`) of a request to `url`, signed with
/// `consumer`'s key and secret; the query of `url` and `form` are signed too.
pub(crate) fn authorization_header(
    consumer: &Consumer,
    method: &str,
    url: &Url,
    form: &[(String, String)],
    signing: &Signing<'_>,
) -> String {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let params = SortedParams::new(url.query_pairs().into_owned().chain(form.iter().cloned()));
    let client = oauth::Credentials::new(consumer.key.as_str(), consumer.secret.expose());
    match consumer.method {
        SignatureMethod::HmacSha256 => sign(client, HmacSha256, signing, method, &base, &params),
        SignatureMethod::RsaSha1 => match &consumer.rsa_key {
            Some(key) => sign(
                client,
                oauth::Rsa09Sha1::new(key.clone()),
                signing,
                method,
                &base,
                &params,
            ),
            // Configuration requires the key: nothing to sign with.
            None => String::new(),
        },
        SignatureMethod::HmacSha1 => sign(
            client,
            oauth::HmacSha1::new(),
            signing,
            method,
            &base,
            &params,
        ),
        SignatureMethod::Plaintext => sign(
            client,
            oauth::Plaintext::new(),
            signing,
            method,
            &base,
            &params,
        ),
    }
}

/// The parameters of an `Authorization: OAuth …` header, decoded (`None` when it is not one).
pub(crate) fn header_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=')?;
        let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?
            .into_owned();
        params.push((key.trim().to_owned(), value));
    }
    Some(params)
}

impl OAuth1Flow {
    pub fn new(settings: OAuth1Settings) -> Self {
        OAuth1Flow { settings }
    }

    /// The `Authorization: OAuth …` header of a request to `url` whose query and `form`
    /// parameters are part of the signature (RFC 5849 §3.4.1.3).
    fn authorization(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        signing: &Signing<'_>,
    ) -> String {
        let s = &self.settings;
        let header = authorization_header(&s.consumer, method, url, form, signing);
        match &s.realm {
            // `realm` is not signed (RFC 5849 §3.4.1.3.1).
            Some(realm) => header.replacen(
                "OAuth ",
                &format!("OAuth realm=\"{}\",", realm.replace(['"', '\\'], "")),
                1,
            ),
            None => header,
        }
    }

    /// Signs a request to `url` with a form body `form` (if it has one; its parameters are
    /// signed): the `Authorization` header to send, or `None` with the protocol parameters
    /// appended to `url` (query placement) or to `form` (form placement, for requests with a
    /// form body; others use the query).
    fn place(
        &self,
        method: &str,
        url: &mut Url,
        form: Option<&mut Vec<(String, String)>>,
        signing: &Signing<'_>,
    ) -> Option<String> {
        let header = self.authorization(method, url, form.as_deref().map_or(&[], |f| f), signing);
        let params = || {
            header_params(&header)
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k != "realm")
        };
        match (self.settings.placement, form) {
            (SignaturePlacement::Header, _) => Some(header),
            (SignaturePlacement::Form, Some(form)) => {
                form.extend(params());
                None
            }
            (SignaturePlacement::Query | SignaturePlacement::Form, _) => {
                url.query_pairs_mut().extend_pairs(params());
                None
            }
        }
    }

    /// POSTs to a credentials endpoint and reads its form-encoded answer.
    async fn credentials_request(
        &self,
        http: &HttpClient,
        url: &Url,
        signing: &Signing<'_>,
    ) -> Result<HashMap<String, String>, FlowError> {
        let mut url = url.clone();
        let mut form = Vec::new();
        let header = self.place("POST", &mut url, Some(&mut form), signing);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let mut request = http
            .request(reqwest::Method::POST, url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if let Some(header) = header {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let request = request
            .build()
            .map_err(|e| TokenError::Http(HttpError::Request(e.without_url().to_string())))?;
        let response = http.send(request).await.map_err(TokenError::Http)?;
        let answer: HashMap<String, String> = url::form_urlencoded::parse(&response.body)
            .into_owned()
            .collect();
        if let Some(problem) = answer.get("oauth_problem") {
            return Err(TokenError::Rejected {
                error: displayable_code(problem),
                description: None,
            }
            .into());
        }
        if !(200..300).contains(&response.status) {
            return Err(TokenError::Http(HttpError::Status(response.status)).into());
        }
        let usable = |name: &str| answer.get(name).is_some_and(|v| !v.is_empty());
        if !usable("oauth_token") || !usable("oauth_token_secret") {
            return Err(TokenError::InvalidResponse(
                "missing `oauth_token` or `oauth_token_secret`".into(),
            )
            .into());
        }
        Ok(answer)
    }

    /// A signed `GET url` with the user's token credentials, expecting JSON.
    async fn signed_get(
        &self,
        http: &HttpClient,
        url: &Url,
        credentials: &Credentials,
    ) -> Result<Value, HttpError> {
        let mut url = url.clone();
        let header = self.authorization_for(credentials, "GET", &mut url, None)?;
        let mut request = http.request(reqwest::Method::GET, url);
        if let Some(header) = header {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let request = request
            .build()
            .map_err(|e| HttpError::Request(e.without_url().to_string()))?;
        let response = http.send(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(HttpError::Status(response.status));
        }
        serde_json::from_slice(&response.body).map_err(|_| HttpError::InvalidJson)
    }

    /// Signs with the user's token credentials; with no token at all (a consumer-only
    /// client), 2-legged: with the consumer's credentials only.
    fn authorization_for(
        &self,
        credentials: &Credentials,
        method: &str,
        url: &mut Url,
        form: Option<&mut Vec<(String, String)>>,
    ) -> Result<Option<String>, HttpError> {
        let token = match (
            &credentials.token_secret,
            credentials.access_token.is_empty(),
        ) {
            (_, true) => None,
            (Some(secret), false) => Some((credentials.access_token.expose(), secret.expose())),
            (None, false) => {
                return Err(HttpError::Request(
                    "the credentials have no token secret".into(),
                ))
            }
        };
        let signing = Signing {
            token,
            ..Signing::default()
        };
        Ok(self.place(method, url, form, &signing))
    }
}

/// RFC 5849 §3.6: everything but unreserved characters, uppercase hex.
const RFC3986: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Request parameters, percent-encoded and sorted by their encoded form as RFC 5849
/// §3.4.1.3.2 requires (`oauth1-request`'s own `ParameterList` sorts the raw strings, which
/// differs when a key or value holds a reserved character such as `@`).
struct SortedParams(Vec<(String, String)>);

impl SortedParams {
    fn new(params: impl Iterator<Item = (String, String)>) -> Self {
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, RFC3986).to_string();
        let mut encoded: Vec<(String, String)> =
            params.map(|(k, v)| (encode(&k), encode(&v))).collect();
        encoded.sort();
        SortedParams(encoded)
    }
}

impl oauth::Request for SortedParams {
    fn serialize<S: oauth::serializer::Serializer>(&self, mut serializer: S) -> S::Output {
        use oauth::serializer::SerializerExt;
        let mut protocol_done = false;
        for (key, value) in &self.0 {
            // The `oauth_*` protocol parameters take their place in the order.
            if !protocol_done && key.as_str() > "oauth_" {
                serializer.serialize_oauth_parameters();
                protocol_done = true;
            }
            // The signer writes keys into the base string as given (it expects unreserved
            // keys), and encodes values once more: give it the key encoded twice.
            let key = percent_encoding::utf8_percent_encode(key, RFC3986).to_string();
            serializer.serialize_parameter_encoded(&key, value);
        }
        if !protocol_done {
            serializer.serialize_oauth_parameters();
        }
        serializer.end()
    }
}

fn sign<SM, R>(
    client: oauth::Credentials<&str>,
    method_impl: SM,
    signing: &Signing<'_>,
    method: &str,
    base: &Url,
    params: &R,
) -> String
where
    SM: oauth::signature_method::SignatureMethod + Clone,
    R: oauth::Request + ?Sized,
{
    let mut builder = oauth::Builder::<_, _, &str>::new(client, method_impl);
    if let Some((token, secret)) = signing.token {
        builder.token(oauth::Credentials::new(token, secret));
    }
    builder
        .callback(signing.callback)
        .verifier(signing.verifier)
        .nonce(signing.nonce)
        .timestamp(signing.timestamp.and_then(std::num::NonZeroU64::new))
        .version(signing.version);
    builder.authorize(method, base.as_str(), params)
}

#[async_trait::async_trait]
impl Flow for OAuth1Flow {
    async fn endpoints(&self, _http: &HttpClient) -> Result<ProviderEndpoints, FlowError> {
        let s = &self.settings;
        Ok(ProviderEndpoints {
            authorize_url: Some(s.authorize_url.clone()),
            token_url: Some(s.access_token_url.clone()),
            request_token_url: Some(s.request_token_url.clone()),
            userinfo_url: s.userinfo_url.clone(),
            ..ProviderEndpoints::default()
        })
    }

    async fn begin(&self, http: &HttpClient) -> Result<Begin, FlowError> {
        let s = &self.settings;
        let signing = Signing {
            callback: Some(s.callback_url.as_str()),
            ..Signing::default()
        };
        let answer = self
            .credentials_request(http, &s.request_token_url, &signing)
            .await?;
        // RFC 5849 §2.1: without the confirmation the provider ignored our callback.
        if answer.get("oauth_callback_confirmed").map(String::as_str) != Some("true") {
            return Err(TokenError::InvalidResponse(
                "the provider did not confirm the callback (`oauth_callback_confirmed`)".into(),
            )
            .into());
        }
        let pending = Pending {
            token: answer["oauth_token"].clone(),
            secret: answer["oauth_token_secret"].clone(),
        };
        let mut url = s.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("oauth_token", &pending.token);
        Ok(Begin {
            url,
            key: pending.token.clone(),
            pending: serde_json::to_value(pending).unwrap_or_default(),
        })
    }

    fn attempt_key<'a>(&self, callback: &'a CallbackParams) -> Option<&'a str> {
        callback.get("oauth_token")
    }

    fn reported_error(&self, callback: &CallbackParams) -> Option<FlowError> {
        // Twitter answers a "Cancel" with `denied=<token>`; others with `oauth_problem`.
        if callback.get("denied").is_some() {
            return Some(FlowError::Cancelled);
        }
        callback.get("oauth_problem").map(|problem| match problem {
            "user_refused" | "permission_denied" => FlowError::Cancelled,
            _ => FlowError::Provider {
                error: displayable_code(problem),
                description: None,
            },
        })
    }

    async fn complete(
        &self,
        http: &HttpClient,
        callback: &CallbackParams,
        pending: Value,
    ) -> Result<Completed, FlowError> {
        let pending: Pending = serde_json::from_value(pending).unwrap_or_default();
        let verifier = callback
            .get("oauth_verifier")
            .ok_or(FlowError::MissingCode)?;
        let signing = Signing {
            token: Some((&pending.token, &pending.secret)),
            verifier: Some(verifier),
            ..Signing::default()
        };
        let answer = self
            .credentials_request(http, &self.settings.access_token_url, &signing)
            .await?;
        let credentials = Credentials {
            access_token: Secret::new(answer["oauth_token"].clone()),
            token_type: "oauth1".into(),
            expires_at: None,
            refresh_token: None,
            scopes: Vec::new(),
            received_at: now(),
            id_token: None,
            token_secret: Some(Secret::new(answer["oauth_token_secret"].clone())),
            dpop_key: None,
        };
        let userinfo = match &self.settings.userinfo_url {
            Some(url) => Some(
                self.signed_get(http, url, &credentials)
                    .await
                    .map_err(FlowError::Userinfo)?,
            ),
            None => None,
        };
        Ok(Completed {
            credentials,
            userinfo,
        })
    }

    async fn refresh(
        &self,
        _http: &HttpClient,
        _old: &Credentials,
    ) -> Result<Credentials, FlowError> {
        // OAuth 1.0a token credentials do not expire and have no refresh.
        Err(FlowError::NoRefreshToken)
    }

    fn authorize_request(
        &self,
        method: &str,
        url: &mut Url,
        form: Option<&mut Vec<(String, String)>>,
        credentials: &Credentials,
    ) -> Result<Option<String>, HttpError> {
        self.authorization_for(credentials, method, url, form)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use hmac::{Hmac, Mac};

    use super::*;

    fn flow(consumer_key: &str, consumer_secret: &str) -> OAuth1Flow {
        let url = Url::parse("https://provider.example/x").unwrap();
        OAuth1Flow::new(OAuth1Settings {
            consumer: Consumer {
                key: consumer_key.into(),
                secret: Secret::new(consumer_secret),
                method: SignatureMethod::HmacSha1,
                rsa_key: None,
            },
            placement: SignaturePlacement::Header,
            callback_url: url.clone(),
            request_token_url: url.clone(),
            authorize_url: url.clone(),
            access_token_url: url,
            userinfo_url: None,
            realm: None,
        })
    }

    fn signature(header: &str) -> String {
        let value = header
            .split("oauth_signature=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .unwrap()
            .into_owned()
    }

    /// RFC 5849 §1.2: the photo request, signature `MdpQcU8iPSUjWoN/UDMsK2sui9I=`.
    #[test]
    fn rfc5849_section_1_2_example() {
        let flow = flow("dpf43f3p2l4k3l03", "kd94hf93k423kf44");
        let url =
            Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original").unwrap();
        let signing = Signing {
            token: Some(("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")),
            nonce: Some("chapoH"),
            timestamp: Some(137131202),
            ..Signing::default()
        };
        let header = flow.authorization("GET", &url, &[], &signing);
        assert_eq!(signature(&header), "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
        assert!(
            header.contains(r#"oauth_token="nnch734d00sl2jdk""#),
            "{header}"
        );
    }

    /// RFC 5849 §3.4.1.1: the base string of a request with query and form parameters,
    /// checked through its HMAC-SHA1 (computed here from the RFC's exact text).
    #[test]
    fn rfc5849_section_3_4_1_1_base_string() {
        const BASE: &str = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
            %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9dj\
            dj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1\
            %26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7";
        let (consumer_secret, token_secret) = ("j49sk3j29djd", "dh893hdasih9");
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(
            format!("{consumer_secret}&{token_secret}").as_bytes(),
        )
        .unwrap();
        mac.update(BASE.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());

        let flow = flow("9djdj82h48djs9d2", consumer_secret);
        let url = Url::parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").unwrap();
        let form = [
            ("c2".to_owned(), String::new()),
            ("a3".to_owned(), "2 q".to_owned()),
        ];
        let signing = Signing {
            token: Some(("kkk9d7dh3k39sjv7", token_secret)),
            nonce: Some("7d8f3e4a"),
            timestamp: Some(137131201),
            ..Signing::default()
        };
        let header = flow.authorization("POST", &url, &form, &signing);
        assert_eq!(signature(&header), expected);
    }

    /// The §3.4.1.1 request signed with HMAC-SHA256 and RSA-SHA1, checked against the RFC's
    /// base string with the `hmac` and `rsa` crates directly.
    #[test]
    fn hmac_sha256_and_rsa_sha1_sign_the_rfc_base_string() {
        const BASE: &str = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
            %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9dj\
            dj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA256\
            %26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7";
        let url = Url::parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").unwrap();
        let form = [
            ("c2".to_owned(), String::new()),
            ("a3".to_owned(), "2 q".to_owned()),
        ];
        let signing = Signing {
            token: Some(("kkk9d7dh3k39sjv7", "dh893hdasih9")),
            nonce: Some("7d8f3e4a"),
            timestamp: Some(137131201),
            ..Signing::default()
        };
        let mut consumer = flow("9djdj82h48djs9d2", "j49sk3j29djd").settings.consumer;
        consumer.method = SignatureMethod::HmacSha256;
        let header = authorization_header(&consumer, "POST", &url, &form, &signing);
        assert!(
            header.contains(r#"oauth_signature_method="HMAC-SHA256""#),
            "{header}"
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"j49sk3j29djd&dh893hdasih9").unwrap();
        mac.update(BASE.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(signature(&header), expected);

        use rsa::pkcs8::DecodePrivateKey;
        let pem = include_str!("../../tests/keys/rsa1.pem");
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                rsa::RsaPrivateKey::from_pkcs1_pem(pem)
            })
            .unwrap();
        consumer.method = SignatureMethod::RsaSha1;
        consumer.rsa_key = Some(key.clone());
        let header = authorization_header(&consumer, "POST", &url, &form, &signing);
        let rsa_base = BASE.replace("HMAC-SHA256", "RSA-SHA1");
        let signed = base64::engine::general_purpose::STANDARD
            .decode(signature(&header))
            .unwrap();
        let digest = <sha1::Sha1 as sha1::Digest>::digest(rsa_base.as_bytes());
        key.to_public_key()
            .verify(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), &digest, &signed)
            .expect("an RSA-SHA1 signature of the RFC base string");
    }

    #[test]
    fn header_params_round_trip() {
        let url = Url::parse("https://api.example/x?a=1").unwrap();
        let signing = Signing {
            nonce: Some("n o"),
            timestamp: Some(7),
            ..Signing::default()
        };
        let consumer = flow("k", "s").settings.consumer;
        let header = authorization_header(&consumer, "GET", &url, &[], &signing);
        let params = header_params(&header).unwrap();
        assert!(params.contains(&("oauth_nonce".to_owned(), "n o".to_owned())));
        assert!(params.iter().any(|(k, _)| k == "oauth_signature"));
        assert!(header_params("Bearer x").is_none());
        assert!(header_params("OAuth a=b").is_none());
    }

    #[test]
    fn realm_goes_first_and_is_not_signed() {
        let mut with_realm = flow("k", "s");
        with_realm.settings.realm = Some("Photos".into());
        let url = Url::parse("https://api.example/x").unwrap();
        let signing = Signing {
            nonce: Some("n"),
            timestamp: Some(1),
            ..Signing::default()
        };
        let header = with_realm.authorization("GET", &url, &[], &signing);
        assert!(header.starts_with(r#"OAuth realm="Photos","#), "{header}");
        let plain = flow("k", "s").authorization("GET", &url, &[], &signing);
        assert_eq!(signature(&header), signature(&plain));
    }
}
