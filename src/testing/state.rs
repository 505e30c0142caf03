//! The mock provider's state, shared by its routes and its handle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::exchange::{Endpoint, RecordedRequest};
use super::script::Script;
use super::user::MockUser;
/// The client id (OAuth 1.0a: consumer key) the mock provider knows.
///
/// ```rust
/// # use rocket_oauth::OAuth2Provider;
/// # #[derive(OAuth2Provider)]
/// # #[oauth(name = "gh", authorize_url = "https://gh.example/a", token_url = "https://gh.example/t")]
/// # struct Gh;
/// let mock = rocket_oauth::testing::MockProvider::start();
/// let table = mock.provider_config::<Gh>("http://127.0.0.1:8000", "/auth/gh");
/// assert_eq!(table["client_id"], rocket_oauth::testing::CLIENT_ID);
/// assert_eq!(table["client_secret"], rocket_oauth::testing::CLIENT_SECRET);
/// ```
pub const CLIENT_ID: &str = "mock-client";

/// The client secret (OAuth 1.0a: consumer secret) the mock provider knows. It has
/// characters that must be encoded, so that encoding mistakes show (see [`CLIENT_ID`]).
pub const CLIENT_SECRET: &str = "mock s3cret&+";

/// An authorization code's grant.
pub(super) struct Grant {
    pub(super) subject: String,
    pub(super) redirect_uri: String,
    pub(super) challenge: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) scope: String,
}

/// A live access token.
pub(super) struct Issued {
    subject: String,
    expires: Option<Instant>,
}

/// A refresh token's grant.
#[derive(Clone)]
pub(super) struct RefreshGrant {
    pub(super) subject: String,
    pub(super) scope: String,
}

/// OAuth 1.0a temporary credentials.
pub(super) struct Temporary {
    pub(super) secret: String,
    pub(super) callback: String,
    /// Set once the user approved.
    pub(super) approved: Option<(String, String)>,
}

/// How the mock shapes a user's userinfo answer (a provider's own format).
pub(super) type Shape = Arc<dyn Fn(&MockUser) -> serde_json::Value + Send + Sync>;

/// What the mock's routes share with the [`MockProvider`] handle.
pub(super) struct Shared {
    pub(super) url: OnceLock<String>,
    pub(super) users: Mutex<Vec<MockUser>>,
    pub(super) current: Mutex<String>,
    pub(super) script: Mutex<Script>,
    pub(super) grants: Mutex<HashMap<String, Grant>>,
    pub(super) tokens: Mutex<HashMap<String, Issued>>,
    pub(super) refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    pub(super) temporary: Mutex<HashMap<String, Temporary>>,
    /// OAuth 1.0a token credentials: token → (secret, subject).
    pub(super) oauth1_tokens: Mutex<HashMap<String, (String, String)>>,
    pub(super) requests: Mutex<Vec<RecordedRequest>>,
    pub(super) revoked: Mutex<Vec<String>>,
    pub(super) bad_signatures: AtomicUsize,
    pub(super) endpoints: Mutex<Vec<Endpoint>>,
    /// How userinfo answers are shaped (a preset's provider), if not the claims.
    pub(super) shape: Mutex<Option<Shape>>,
    #[cfg(feature = "oidc")]
    pub(super) keys: super::keys::Keys,
    pub(super) counter: AtomicUsize,
    /// Each user's provider session (`sid`), named by their ID tokens.
    #[cfg(feature = "oidc")]
    pub(super) sids: Mutex<HashMap<String, String>>,
}

impl Shared {
    /// The mock's base URL, e.g. `http://127.0.0.1:41234`.
    pub(super) fn url(&self) -> &str {
        self.url.get().map(String::as_str).unwrap_or_default()
    }

    /// The issuer: scripted, or the URL.
    pub(super) fn issuer(&self) -> String {
        let scripted = self.script.lock().unwrap().issuer.clone();
        scripted.unwrap_or_else(|| self.url().to_owned())
    }

    pub(super) fn script(&self) -> Script {
        self.script.lock().unwrap().clone()
    }

    pub(super) fn record(&self, request: &RecordedRequest) {
        self.requests.lock().unwrap().push(request.clone());
    }

    /// A fresh unguessable value.
    pub(super) fn random(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        format!("{prefix}-{n}-{}", oauth2::CsrfToken::new_random().secret())
    }

    /// `subject`'s provider session (`sid`); a new one with `renew`.
    #[cfg(feature = "oidc")]
    pub(super) fn provider_session(&self, subject: &str, renew: bool) -> String {
        let mut sids = self.sids.lock().unwrap();
        if renew || !sids.contains_key(subject) {
            sids.insert(subject.to_owned(), self.random("sid"));
        }
        sids[subject].clone()
    }

    pub(super) fn user(&self, subject: &str) -> Option<MockUser> {
        let users = self.users.lock().unwrap();
        users.iter().find(|u| u.subject() == subject).cloned()
    }

    /// The user approving a request: `login_as`, or the current user.
    pub(super) fn approving_user(&self, login_as: Option<&str>) -> Option<MockUser> {
        let current = self.current.lock().unwrap().clone();
        self.user(login_as.unwrap_or(&current))
    }

    /// The user of a live access token.
    pub(super) fn token_user(&self, token: &str) -> Option<MockUser> {
        let subject = {
            let tokens = self.tokens.lock().unwrap();
            let issued = tokens.get(token)?;
            if issued.expires.is_some_and(|e| e <= Instant::now()) {
                return None;
            }
            issued.subject.clone()
        };
        self.user(&subject)
    }

    /// The user of OAuth 1.0a token credentials.
    pub(super) fn oauth1_user(&self, token: &str) -> Option<MockUser> {
        let subject = self.oauth1_tokens.lock().unwrap().get(token)?.1.clone();
        self.user(&subject)
    }

    /// A new access token for `subject`, with the scripted lifetime.
    pub(super) fn issue_access_token(&self, subject: &str) -> (String, Option<u64>) {
        let token = self.random("at");
        let expires_in = self.script.lock().unwrap().expires_in;
        let expires = expires_in.map(|s| Instant::now() + Duration::from_secs(s));
        self.tokens.lock().unwrap().insert(
            token.clone(),
            Issued {
                subject: subject.to_owned(),
                expires,
            },
        );
        (token, expires_in)
    }

    /// A new refresh token.
    pub(super) fn issue_refresh_token(&self, grant: RefreshGrant) -> String {
        let token = self.random("rt");
        self.refresh_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), grant);
        token
    }

    /// Expires every access token issued so far.
    pub(super) fn expire_access_tokens(&self) {
        let now = Instant::now();
        for issued in self.tokens.lock().unwrap().values_mut() {
            issued.expires = Some(now);
        }
    }

    /// Forgets a token of any kind (revocation).
    pub(super) fn revoke(&self, token: &str) {
        self.revoked.lock().unwrap().push(token.to_owned());
        self.tokens.lock().unwrap().remove(token);
        self.refresh_tokens.lock().unwrap().remove(token);
    }
}
