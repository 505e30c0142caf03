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
    CsrfToken, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::error::{HttpError, TokenError};
use crate::http::{Buffered, HttpClient};

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
}

/// The `oauth2` crate's client, typed with this crate's lenient token response.
pub(crate) type OAuth2Client = ::oauth2::Client<
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

/// Everything needed to build an [`OAuth2Client`].
pub(crate) struct ClientSettings<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub authorize_url: &'a Url,
    pub token_url: &'a Url,
    pub redirect_uri: &'a Url,
    pub auth: ClientAuth,
}

/// Builds the `oauth2` client once, at ignite.
pub(crate) fn build_client(settings: ClientSettings<'_>) -> OAuth2Client {
    let mut client = ::oauth2::Client::new(ClientId::new(settings.client_id.to_owned()))
        .set_auth_uri(AuthUrl::from_url(settings.authorize_url.clone()))
        .set_token_uri(TokenUrl::from_url(settings.token_url.clone()))
        .set_redirect_uri(RedirectUrl::from_url(settings.redirect_uri.clone()))
        .set_auth_type(match settings.auth {
            ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
            ClientAuth::ClientSecretPost => AuthType::RequestBody,
        });
    if let Some(secret) = settings.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.to_owned()));
    }
    client
}

/// A freshly started authorization request.
pub(crate) struct Authorization {
    /// Where to send the user.
    pub url: Url,
    /// The random `state`.
    pub state: CsrfToken,
    /// The PKCE verifier, when PKCE is on.
    pub pkce_verifier: Option<PkceCodeVerifier>,
}

/// Starts an authorization request: a fresh random state and (unless disabled) a PKCE S256
/// challenge.
pub(crate) fn authorize(
    client: &OAuth2Client,
    scopes: &[String],
    pkce: bool,
    extra_params: &[(String, String)],
) -> Authorization {
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    let mut pkce_verifier = None;
    if pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        pkce_verifier = Some(verifier);
    }
    for (name, value) in extra_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    let (url, state) = request.url();
    Authorization {
        url,
        state,
        pkce_verifier,
    }
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub(crate) async fn exchange_code(
    client: &OAuth2Client,
    http: &HttpClient,
    code: String,
    pkce_verifier: Option<String>,
) -> Result<LenientTokenResponse, TokenError> {
    let mut request = client.exchange_code(AuthorizationCode::new(code));
    if let Some(verifier) = pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    request
        .request_async(&TokenEndpoint(http))
        .await
        .map_err(token_error)
}

/// The `oauth2` crate's HTTP client for token endpoint calls: the pooled client, plus
/// [`normalize_token_response`].
struct TokenEndpoint<'a>(&'a HttpClient);

impl<'c> AsyncHttpClient<'c> for TokenEndpoint<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpError::Request(e.without_url().to_string()))?;
            normalize_token_response(self.0.send(request).await?)
        })
    }
}

/// Rewrites a raw token-endpoint answer into what the `oauth2` crate expects: a JSON body,
/// status 200 for tokens and 400 for errors (including errors reported inside 2xx bodies).
pub(crate) fn normalize_token_response(raw: Buffered) -> Result<HttpResponse, HttpError> {
    let content_type = raw.content_type.as_deref().unwrap_or("");
    let body: Option<Map<String, Value>> = if content_type.contains("x-www-form-urlencoded")
        || content_type.starts_with("text/plain")
    {
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
    let body = serde_json::to_vec(&body).map_err(|_| HttpError::InvalidJson)?;
    let mut response = HttpResponse::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

fn token_error(err: RequestTokenError<HttpError, BasicErrorResponse>) -> TokenError {
    match err {
        RequestTokenError::ServerResponse(e) => TokenError::Rejected {
            error: e.error().as_ref().to_owned(),
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

/// A token response parsed leniently (see the module docs); unknown fields are kept in
/// `extra`.
#[derive(Debug, Serialize, Deserialize)]
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
