//! How the mock provider behaves: every knob a test turns to make it fail or act like a real
//! provider's quirks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::exchange::MockResponse;

/// How long a hanging endpoint keeps the caller waiting.
pub(super) const HANG: Duration = Duration::from_secs(30);

/// The mock provider's behaviour, changed with
/// [`MockProvider::script`](super::MockProvider::script). The defaults are a well-behaved
/// provider; each field makes one part of it fail or act like some real provider does.
///
/// ```rust
/// use rocket_oauth::testing::{AuthorizeReply, MockProvider, TokenReply};
///
/// let mock = MockProvider::start();
/// mock.script(|s| {
///     s.authorize = AuthorizeReply::Deny { description: Some("Not now".into()) };
///     s.token = TokenReply::ServerError;
/// });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Script {
    /// How the authorization endpoint answers. _Default:_ it approves.
    pub authorize: AuthorizeReply,
    /// An RFC 9207 `iss` parameter added to the authorization response. _Default:_ none.
    pub authorization_iss: Option<String>,
    /// Extra parameters of the authorization response (e.g. Apple's one-time `user` field
    /// in its `form_post`). _Default:_ none.
    pub authorization_extra: Vec<(String, String)>,
    /// Advertise `authorization_response_iss_parameter_supported` in discovery.
    /// _Default:_ `false`.
    pub advertise_iss_parameter: bool,
    /// The token endpoint does not check the client secret (it still needs the client id):
    /// for a client whose secret the mock cannot know, such as Apple's signed one; the test
    /// then checks the recorded request itself. _Default:_ `false`.
    pub ignore_client_secret: bool,
    /// How the token endpoint answers an authorization code. _Default:_ tokens as JSON.
    pub token: TokenReply,
    /// How the token endpoint answers a refresh. _Default:_ new tokens, the refresh token
    /// rotates.
    pub refresh: RefreshReply,
    /// How long a refresh takes (to make concurrent refreshes overlap). _Default:_ none.
    pub refresh_delay: Duration,
    /// `expires_in` of access tokens, in seconds; `None` leaves it out (tokens then never
    /// expire). _Default:_ `3600`.
    pub expires_in: Option<u64>,
    /// How the userinfo endpoint answers. _Default:_ the user's profile.
    pub userinfo: EndpointReply,
    /// A `sub` the userinfo answer reports instead of the user's. _Default:_ none.
    pub userinfo_subject: Option<String>,
    /// The issuer advertised in discovery and put in ID tokens (e.g. a `{tenantid}`
    /// template). _Default:_ the mock's URL.
    pub issuer: Option<String>,
    /// How discovery answers. _Default:_ the document.
    pub discovery: EndpointReply,
    /// How the JWKS endpoint answers. _Default:_ the keys.
    pub jwks: EndpointReply,
    /// `id_token_signing_alg_values_supported` in discovery. _Default:_ `RS256`, `EdDSA`.
    pub advertised_algorithms: Vec<String>,
    /// Extra keys published in the JWKS (e.g. of a kind clients must skip). _Default:_ none.
    pub extra_jwks: Vec<serde_json::Value>,
    /// How ID tokens are made. _Default:_ valid, RS256.
    pub id_token: IdTokenScript,
    /// How the OAuth 1.0a credential endpoints answer. _Default:_ correctly.
    pub oauth1: OAuth1Reply,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            authorize: AuthorizeReply::Approve,
            authorization_iss: None,
            authorization_extra: Vec::new(),
            advertise_iss_parameter: false,
            ignore_client_secret: false,
            token: TokenReply::Json,
            refresh: RefreshReply::Rotate,
            refresh_delay: Duration::ZERO,
            expires_in: Some(3600),
            userinfo: EndpointReply::Normal,
            userinfo_subject: None,
            issuer: None,
            discovery: EndpointReply::Normal,
            jwks: EndpointReply::Normal,
            advertised_algorithms: vec!["RS256".into(), "EdDSA".into()],
            extra_jwks: Vec::new(),
            id_token: IdTokenScript::default(),
            oauth1: OAuth1Reply::Normal,
        }
    }
}

/// How the authorization endpoint (OAuth 2, OpenID Connect and OAuth 1.0a) answers.
///
/// ```rust
/// use rocket_oauth::testing::AuthorizeReply;
///
/// let declined = AuthorizeReply::Deny { description: None };
/// let broken = AuthorizeReply::Error {
///     error: "invalid_scope".into(),
///     description: Some("unknown scope".into()),
/// };
/// # let _ = (declined, broken);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizeReply {
    /// The user approves: a code (or an OAuth 1.0a verifier) goes back to the app.
    Approve,
    /// The user declines: `error=access_denied` (OAuth 1.0a: `denied=<token>`).
    Deny {
        /// An `error_description`.
        description: Option<String>,
    },
    /// The provider refuses the request with this RFC 6749 `error` code.
    Error {
        /// The `error` code, e.g. `invalid_scope` or `server_error`.
        error: String,
        /// An `error_description`.
        description: Option<String>,
    },
}

/// The tokens the mock issued for one token request, given to [`TokenReply::Custom`].
///
/// ```rust
/// use rocket_oauth::testing::{MockResponse, TokenReply};
///
/// // Slack's shape: the user's token nested under `authed_user`.
/// let reply = TokenReply::custom(|t| {
///     MockResponse::json(serde_json::json!({
///         "ok": true,
///         "authed_user": { "id": t.subject, "access_token": t.access_token },
///     }))
/// });
/// # let _ = reply;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The user's subject.
    pub subject: String,
    /// The access token (valid at the mock's endpoints).
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The ID token, when `openid` was asked for (feature `oidc`).
    pub id_token: Option<String>,
    /// `expires_in`, as scripted.
    pub expires_in: Option<u64>,
    /// The granted scopes, space-separated.
    pub scope: String,
}

impl IssuedTokens {
    /// The standard JSON answer (RFC 6749 §5.1) for these tokens.
    pub fn json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        });
        if let Some(expires_in) = self.expires_in {
            body["expires_in"] = expires_in.into();
        }
        if let Some(id_token) = &self.id_token {
            body["id_token"] = id_token.as_str().into();
        }
        body
    }
}

/// Builds a token answer from the issued tokens; see [`TokenReply::custom`].
///
/// ```rust
/// use rocket_oauth::testing::{MockResponse, TokenAnswer};
///
/// let answer: TokenAnswer = std::sync::Arc::new(|t| MockResponse::json(t.json()));
/// # let _ = answer;
/// ```
pub type TokenAnswer = Arc<dyn Fn(&IssuedTokens) -> MockResponse + Send + Sync>;

/// How the token endpoint answers an authorization code (the code is spent either way).
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::TokenReply;
///
/// // GitHub without `Accept: application/json`, then GitHub's 200-with-error.
/// mock.script(|s| s.token = TokenReply::FormEncoded);
/// mock.script(|s| s.token = TokenReply::ErrorIn200);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum TokenReply {
    /// The tokens as tidy JSON ([`IssuedTokens::json`]).
    Json,
    /// GitHub's way without `Accept: application/json`: HTTP 201, form-encoded,
    /// `token_type=bearer`, comma-separated scopes, `expires_in` as a string.
    FormEncoded,
    /// HTTP 500 with an HTML body.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    NotJson,
    /// HTTP 200 with `{"error": "bad_verification_code"}` (GitHub, Slack).
    ErrorIn200,
    /// HTTP 200 JSON without `access_token`.
    NoAccessToken,
    /// A token of another type than bearer (e.g. `mac`).
    TokenType(String),
    /// No answer for 30 seconds (longer than the app's `timeout`).
    Hang,
    /// The tokens as JSON, after this delay (a slow provider).
    Slow(Duration),
    /// An answer of the test's own making, e.g. a provider's documented response.
    Custom(TokenAnswer),
}

impl TokenReply {
    /// A custom answer built from the issued tokens.
    ///
    /// ```rust
    /// use rocket_oauth::testing::{MockResponse, TokenReply};
    ///
    /// // Facebook: no `token_type`.
    /// let reply = TokenReply::custom(|t| {
    ///     MockResponse::json(serde_json::json!({ "access_token": t.access_token, "expires_in": 5183944 }))
    /// });
    /// # let _ = reply;
    /// ```
    pub fn custom(answer: impl Fn(&IssuedTokens) -> MockResponse + Send + Sync + 'static) -> Self {
        TokenReply::Custom(Arc::new(answer))
    }
}

impl fmt::Debug for TokenReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenReply::Json => f.write_str("Json"),
            TokenReply::FormEncoded => f.write_str("FormEncoded"),
            TokenReply::ServerError => f.write_str("ServerError"),
            TokenReply::NotJson => f.write_str("NotJson"),
            TokenReply::ErrorIn200 => f.write_str("ErrorIn200"),
            TokenReply::NoAccessToken => f.write_str("NoAccessToken"),
            TokenReply::TokenType(t) => f.debug_tuple("TokenType").field(t).finish(),
            TokenReply::Hang => f.write_str("Hang"),
            TokenReply::Slow(delay) => f.debug_tuple("Slow").field(delay).finish(),
            TokenReply::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// How the token endpoint answers `grant_type=refresh_token`.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::RefreshReply;
///
/// // Like Google: refreshes answer no new refresh token.
/// mock.script(|s| s.refresh = RefreshReply::KeepRefreshToken);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshReply {
    /// New tokens; the refresh token rotates (the old one is spent).
    Rotate,
    /// A new access token, no refresh token in the answer (Google): the old one stays valid.
    KeepRefreshToken,
    /// `invalid_grant` for every refresh.
    InvalidGrant,
}

/// How a JSON endpoint (userinfo, discovery, JWKS) answers.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::EndpointReply;
///
/// mock.script(|s| {
///     s.userinfo = EndpointReply::NotJson;
///     s.discovery = EndpointReply::ServerError;
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointReply {
    /// Normally.
    Normal,
    /// HTTP 500 with an HTML body.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    NotJson,
    /// No answer for 30 seconds.
    Hang,
    /// Normally, after this delay (a slow provider).
    Slow(Duration),
}

/// How ID tokens are made (feature `oidc`).
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::{AtHash, NonceReply, SigningAlg};
///
/// mock.script(|s| {
///     s.id_token.alg = SigningAlg::EdDsa;
///     s.id_token.exp_offset = -120; // expired two minutes ago
///     s.id_token.nonce = NonceReply::Omit;
///     s.id_token.at_hash = AtHash::Wrong;
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdTokenScript {
    /// The signing key. _Default:_ RS256.
    pub alg: SigningAlg,
    /// A forgery instead of a valid token. _Default:_ none.
    pub fault: Option<IdTokenFault>,
    /// `iss` other than the issuer. _Default:_ the issuer.
    pub iss: Option<String>,
    /// `aud` other than the client id. _Default:_ the client id.
    pub aud: Option<Vec<String>>,
    /// An `azp` claim. _Default:_ none.
    pub azp: Option<String>,
    /// `exp` relative to now, in seconds (negative: expired). _Default:_ `3600`.
    pub exp_offset: i64,
    /// `iat` relative to now, in seconds. _Default:_ `0`.
    pub iat_offset: i64,
    /// The `nonce` claim. _Default:_ the authorization request's.
    pub nonce: NonceReply,
    /// The `at_hash` claim. _Default:_ correct.
    pub at_hash: AtHash,
}

impl Default for IdTokenScript {
    fn default() -> Self {
        IdTokenScript {
            alg: SigningAlg::Rs256,
            fault: None,
            iss: None,
            aud: None,
            azp: None,
            exp_offset: 3600,
            iat_offset: 0,
            nonce: NonceReply::Echo,
            at_hash: AtHash::Correct,
        }
    }
}

/// The key that signs ID tokens.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// mock.script(|s| s.id_token.alg = rocket_oauth::testing::SigningAlg::EdDsa);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningAlg {
    /// RS256 with the current RSA key (see [`MockProvider::rotate_keys`](super::MockProvider::rotate_keys)).
    Rs256,
    /// EdDSA (Ed25519).
    EdDsa,
}

/// Forged ID tokens, each of which a client must refuse.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::IdTokenFault;
///
/// mock.script(|s| s.id_token.fault = Some(IdTokenFault::AlgNone));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenFault {
    /// A valid token with one byte of its signature changed.
    TamperedSignature,
    /// Signed by a key whose id the JWKS does not list.
    UnknownKeyId,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the RSA public key (the key-confusion attack).
    Hs256WithPublicKey,
}

/// The `nonce` claim of an ID token.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::NonceReply;
///
/// mock.script(|s| s.id_token.nonce = NonceReply::Value("someone-elses".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceReply {
    /// The authorization request's nonce (none after a refresh).
    Echo,
    /// No nonce (as LinkedIn does).
    Omit,
    /// This value.
    Value(String),
}

/// The `at_hash` claim of an ID token.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// mock.script(|s| s.id_token.at_hash = rocket_oauth::testing::AtHash::Omit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AtHash {
    /// The hash of the issued access token.
    Correct,
    /// The hash of another token.
    Wrong,
    /// No `at_hash`.
    Omit,
}

/// How the OAuth 1.0a credential endpoints answer.
///
/// ```rust
/// # let mock = rocket_oauth::testing::MockProvider::start();
/// use rocket_oauth::testing::OAuth1Reply;
///
/// mock.script(|s| s.oauth1 = OAuth1Reply::Problem("consumer_key_rejected".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuth1Reply {
    /// Correctly.
    Normal,
    /// Temporary credentials without `oauth_callback_confirmed=true`.
    CallbackNotConfirmed,
    /// HTTP 401 `oauth_problem=<this>` from both credential endpoints.
    Problem(String),
    /// Token credentials without `oauth_token_secret`.
    NoTokenSecret,
    /// HTTP 200 with an HTML body.
    NotForm,
    /// No answer for 30 seconds.
    Hang,
    /// A 2 MiB answer.
    Oversized,
}

impl EndpointReply {
    /// Answers a JSON endpoint as scripted: `None` to answer normally.
    pub(super) async fn misbehave(self) -> Option<MockResponse> {
        match self {
            EndpointReply::Normal => None,
            EndpointReply::ServerError => {
                Some(MockResponse::text("text/html", "<h1>Internal error</h1>").status(500))
            }
            EndpointReply::NotJson => {
                Some(MockResponse::text("application/json", "this is { not json"))
            }
            EndpointReply::Slow(delay) => {
                rocket::tokio::time::sleep(delay).await;
                None
            }
            EndpointReply::Hang => {
                rocket::tokio::time::sleep(HANG).await;
                Some(MockResponse::text("text/plain", "too late").status(504))
            }
        }
    }
}
