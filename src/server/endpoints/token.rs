//! The token endpoint: `authorization_code` (with PKCE), `refresh_token` (rotation, reuse
//! detection), `client_credentials` and the device grant, each its own function; with a
//! DPoP proof (RFC 9449 §5), the tokens are bound to its key.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::data::Data;
use rocket::http::Status;
use rocket::route::Outcome;
use rocket::Request;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::client_auth::authenticated_form;
use super::device::Polled;
use super::{json_response, oauth_error, proof_key, requested_scopes, Params};
use crate::server::config::{AccessTokenFormat, GrantType, RegisteredClient};
use crate::server::oidc::IdTokenFor;
use crate::server::resources::INVALID_TARGET;
use crate::server::store::{CodeGrant, ServerStoreError, TokenHash, TokenKind, TokenRecord};
use crate::server::ServerState;
use crate::util::{ct_eq, now, random_token};

pub(super) async fn token<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    // The proof first: a request sent again with a server nonce must find its client
    // assertion unspent.
    let jkt = match proof_key(req, state, "token") {
        Ok(jkt) => jkt,
        Err(outcome) => return *outcome,
    };
    let (params, client) = match authenticated_form(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    if jkt.is_none() && (client.dpop_bound_access_tokens || state.config.fapi2) {
        return oauth_error(
            req,
            Status::BadRequest,
            "invalid_dpop_proof",
            "this client's tokens are DPoP-bound: a DPoP proof is required",
        );
    }
    let grant = Grant {
        req,
        state,
        client,
        jkt,
    };
    let Some(name) = params.get("grant_type") else {
        return grant.invalid_request("grant_type is required");
    };
    let Some(grant_type) = GrantType::from_name(name) else {
        return oauth_error(
            req,
            Status::BadRequest,
            "unsupported_grant_type",
            "unsupported grant_type",
        );
    };
    // Each client uses only the grants it has (`grant_types`).
    if !grant.client.allows(grant_type) {
        return oauth_error(
            req,
            Status::BadRequest,
            "unauthorized_client",
            "the client may not use this grant type",
        );
    }
    match grant_type {
        GrantType::AuthorizationCode => grant.authorization_code(&params).await,
        GrantType::RefreshToken => grant.refresh_token(&params).await,
        GrantType::ClientCredentials => grant.client_credentials(&params).await,
        GrantType::DeviceCode => grant.device_code(&params).await,
    }
}

/// What a grant issues: for whom, which scopes, for which resources, in which family.
struct Issue {
    owner: Option<String>,
    scopes: Vec<String>,
    /// The access token's audience (RFC 8707).
    audience: Vec<String>,
    /// A refresh token's scopes and resources (the grant's), if the grant has one.
    refresh: Option<(Vec<String>, Vec<String>)>,
    family: String,
    id: IdContext,
}

/// What an ID token needs from the grant.
#[derive(Default)]
struct IdContext {
    nonce: Option<String>,
    auth_time: Option<i64>,
    sid: Option<String>,
}

/// A token request from an authenticated client.
struct Grant<'r, 's> {
    req: &'r Request<'r>,
    state: &'s ServerState,
    client: Cow<'s, RegisteredClient>,
    /// The key of the request's DPoP proof: the tokens are bound to it.
    jkt: Option<String>,
}

impl<'r> Grant<'r, '_> {
    fn invalid_request(&self, why: &str) -> Outcome<'r> {
        oauth_error(self.req, Status::BadRequest, "invalid_request", why)
    }

    fn invalid_grant(&self, why: &str) -> Outcome<'r> {
        oauth_error(self.req, Status::BadRequest, "invalid_grant", why)
    }

    fn invalid_scope(&self, why: &str) -> Outcome<'r> {
        oauth_error(self.req, Status::BadRequest, "invalid_scope", why)
    }

    fn store_failed(&self, e: ServerStoreError) -> Outcome<'r> {
        log::error!("{e}");
        oauth_error(
            self.req,
            Status::InternalServerError,
            "server_error",
            "the token store failed",
        )
    }

    /// RFC 6749 §4.1.3.
    async fn authorization_code(&self, params: &Params) -> Outcome<'r> {
        let Some(code) = params.get("code") else {
            return self.invalid_request("code is required");
        };
        let store = &self.state.store;
        let hash = TokenHash::of(code);
        let stored = match store.code(&hash).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return self.invalid_grant("unknown authorization code"),
            Err(e) => return self.store_failed(e),
        };
        if stored.used {
            return self.replayed(&stored.grant).await;
        }
        // Check the code's binding before using it: a stolen code sent with a wrong verifier
        // must not burn the legitimate client's redemption.
        let grant = stored.grant;
        if grant.client_id != self.client.id {
            return self.invalid_grant("the code was issued to another client");
        }
        if grant.expires_at <= now() {
            return self.invalid_grant("the authorization code expired");
        }
        // RFC 6749 §4.1.3: required if the authorization request included it; given anyway,
        // it must be the code's.
        match params.get("redirect_uri") {
            None if grant.redirect_uri_given => {
                return self.invalid_request("redirect_uri is required");
            }
            Some(uri) if uri != grant.redirect_uri => {
                return self.invalid_grant("redirect_uri does not match the authorization request");
            }
            _ => {}
        }
        if !pkce_ok(&grant.challenge, params.get("code_verifier")) {
            return self.invalid_grant("PKCE verification failed");
        }
        // RFC 9449 §10: a code bound to a DPoP key needs a proof of it.
        if let Some(bound) = &grant.dpop_jkt {
            if !self.jkt.as_deref().is_some_and(|jkt| ct_eq(jkt, bound)) {
                return self.invalid_grant("the code is bound to another DPoP key");
            }
        }
        // Before the code is used: a refused resource must not burn it.
        let Some(audience) = self.audience(params, Some(&grant.resources)) else {
            return self.invalid_target();
        };
        match store.use_code(&hash).await {
            Ok(true) => {}
            Ok(false) => return self.replayed(&grant).await,
            Err(e) => return self.store_failed(e),
        }
        self.issue(Issue {
            owner: Some(grant.owner),
            scopes: grant.scopes.clone(),
            audience,
            refresh: Some((grant.scopes, grant.resources)),
            family: grant.family,
            id: IdContext {
                nonce: grant.nonce,
                auth_time: grant.auth_time,
                sid: grant.sid,
            },
        })
        .await
    }

    /// RFC 8707 §2.2: the access token's audience: the token request's `resource`s, known
    /// ones among the `granted` ones (a grant that names none is for this application's own
    /// API; `None`: a client's own token, for any known resource), else the granted ones;
    /// `None` when a resource is refused.
    fn audience(&self, params: &Params, granted: Option<&[String]>) -> Option<Vec<String>> {
        let resources = &self.state.resources;
        let asked = resources.requested(&params.resources).ok()?;
        let granted = match granted {
            Some([]) => vec![resources.own.clone()],
            Some(granted) => granted.to_vec(),
            None if asked.is_empty() => vec![resources.own.clone()],
            None => return Some(asked),
        };
        if asked.is_empty() {
            return Some(granted);
        }
        asked.iter().all(|a| granted.contains(a)).then_some(asked)
    }

    fn invalid_target(&self) -> Outcome<'r> {
        oauth_error(
            self.req,
            Status::BadRequest,
            INVALID_TARGET,
            "a resource is not one this grant or server issues tokens for",
        )
    }

    /// RFC 6749 §4.1.2: a code used twice revokes what it issued.
    async fn replayed(&self, grant: &CodeGrant) -> Outcome<'r> {
        log::warn!(
            "authorization code replayed by `{}`: revoking its tokens",
            grant.client_id
        );
        if let Err(e) = self.state.store.revoke_family(&grant.family).await {
            return self.store_failed(e);
        }
        self.invalid_grant("the authorization code was already used")
    }

    /// RFC 6749 §6, with rotation: a refresh token is used once; reusing it revokes its
    /// family.
    async fn refresh_token(&self, params: &Params) -> Outcome<'r> {
        let Some(refresh) = params.get("refresh_token") else {
            return self.invalid_request("refresh_token is required");
        };
        let store = &self.state.store;
        let hash = TokenHash::of(refresh);
        let record = match store.token(&hash).await {
            Ok(Some(r)) if r.kind == TokenKind::Refresh && r.client_id == self.client.id => r,
            Ok(_) => return self.invalid_grant("unknown refresh token"),
            Err(e) => return self.store_failed(e),
        };
        if record.revoked || record.expires_at <= now() {
            return self.invalid_grant("the refresh token expired or was revoked");
        }
        // RFC 9449 §5: a bound refresh token (a public client's) needs a proof of its key.
        if let Some(bound) = &record.jkt {
            if !self.jkt.as_deref().is_some_and(|jkt| ct_eq(jkt, bound)) {
                return oauth_error(
                    self.req,
                    Status::BadRequest,
                    "invalid_dpop_proof",
                    "the refresh token is bound to another DPoP key",
                );
            }
        }
        // The scope is checked before the token is spent: asking too much must not burn it.
        let scopes = requested_scopes(params, &record.scopes);
        if scopes.iter().any(|s| !record.scopes.contains(s)) {
            return self.invalid_scope("a scope exceeds the original grant");
        }
        let Some(audience) = self.audience(params, Some(&record.audience)) else {
            return self.invalid_target();
        };
        match store.use_refresh_token(&hash).await {
            Ok(true) => {}
            Ok(false) => {
                log::warn!(
                    "refresh token reused by `{}`: revoking its family",
                    self.client.id
                );
                if let Err(e) = store.revoke_family(&record.family).await {
                    return self.store_failed(e);
                }
                return self.invalid_grant("the refresh token was already used");
            }
            Err(e) => return self.store_failed(e),
        }
        // RFC 6749 §6: the new refresh token keeps the original grant's scope (and
        // resources).
        self.issue(Issue {
            owner: record.owner,
            scopes,
            audience,
            refresh: Some((record.scopes, record.audience)),
            family: record.family,
            id: IdContext::default(),
        })
        .await
    }

    /// RFC 6749 §4.4: confidential clients only, no refresh token.
    async fn client_credentials(&self, params: &Params) -> Outcome<'r> {
        if !self.client.is_confidential() {
            return oauth_error(
                self.req,
                Status::BadRequest,
                "unauthorized_client",
                "public clients cannot use client_credentials",
            );
        }
        let allowed = match self.state.allowed_scopes(&self.client).await {
            Ok(allowed) => allowed,
            Err(e) => return self.store_failed(e),
        };
        let scopes: Vec<String> = requested_scopes(params, &allowed);
        if scopes.iter().any(|s| !allowed.contains(s)) {
            return self.invalid_scope("a requested scope is not allowed for this client");
        }
        let Some(audience) = self.audience(params, None) else {
            return self.invalid_target();
        };
        self.state.note_use(&self.client).await;
        self.issue(Issue {
            owner: None,
            scopes,
            audience,
            refresh: None,
            family: random_token(),
            id: IdContext::default(),
        })
        .await
    }

    /// RFC 8628 §3.4: a device polling for the tokens its user approved.
    async fn device_code(&self, params: &Params) -> Outcome<'r> {
        let Some(device_code) = params.get("device_code") else {
            return self.invalid_request("device_code is required");
        };
        let (device, grant) =
            match super::device::poll(self.state, &self.client.id, device_code).await {
                Polled::Approved(device, grant) => (device, grant),
                Polled::Refused(error) => {
                    return oauth_error(self.req, Status::BadRequest, error, "see RFC 8628 §3.5")
                }
                Polled::Unavailable => {
                    return oauth_error(
                        self.req,
                        Status::ServiceUnavailable,
                        "temporarily_unavailable",
                        "the store is unavailable",
                    )
                }
            };
        let Some(audience) = self.audience(params, Some(&grant.resources)) else {
            return self.invalid_target();
        };
        match super::device::consume(self.state, &device, &grant).await {
            Ok(true) => {}
            Ok(false) => return self.invalid_grant("the device code was already used"),
            Err(e) => return self.store_failed(e),
        }
        self.state.note_use(&self.client).await;
        self.issue(Issue {
            owner: grant.owner,
            scopes: grant.scopes.clone(),
            audience,
            refresh: Some((grant.scopes, grant.resources)),
            family: random_token(),
            id: IdContext {
                auth_time: grant.auth_time,
                ..IdContext::default()
            },
        })
        .await
    }

    /// Issues an access token (and a refresh token, when the grant has one and the client
    /// may refresh) and answers with them, unless the family was revoked meanwhile (a replay
    /// raced us).
    async fn issue(&self, issue: Issue) -> Outcome<'r> {
        let state = self.state;
        let ttl = i64::try_from(state.config.access_token_ttl).unwrap_or(i64::MAX);
        let Some((access, audience)) = self.access_token(&issue, ttl).await else {
            return self.signing_failed("the access token could not be signed");
        };
        // RFC 9449 §5: a confidential client's refresh token is bound by its authentication;
        // a public client's to the key.
        let bound = |kind| match kind {
            TokenKind::Refresh if self.client.is_confidential() => None,
            _ => self.jkt.clone(),
        };
        let record = |hash, kind, scopes: &[String], audience: &[String], expires_at| TokenRecord {
            hash,
            kind,
            client_id: self.client.id.clone(),
            owner: issue.owner.clone(),
            scopes: scopes.to_vec(),
            expires_at,
            family: issue.family.clone(),
            revoked: false,
            used: false,
            audience: audience.to_vec(),
            jkt: bound(kind),
        };
        let mut body = json!({
            "access_token": access,
            "token_type": if self.jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": ttl,
            "scope": issue.scopes.join(" "),
        });
        let expires_at = now().saturating_add(ttl);
        let mut records = vec![record(
            TokenHash::of(&access),
            TokenKind::Access,
            &issue.scopes,
            &audience,
            expires_at,
        )];
        // Refresh tokens only for clients that may use them.
        let refresh = issue
            .refresh
            .as_ref()
            .filter(|_| self.client.allows(GrantType::RefreshToken));
        if let Some((scopes, resources)) = refresh {
            let refresh = random_token();
            let refresh_ttl = i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX);
            let expires_at = now().saturating_add(refresh_ttl);
            let hash = TokenHash::of(&refresh);
            records.push(record(
                hash,
                TokenKind::Refresh,
                scopes,
                resources,
                expires_at,
            ));
            body["refresh_token"] = json!(refresh);
        }
        match self.id_token(&issue, &access, ttl).await {
            Ok(Some(id_token)) => body["id_token"] = json!(id_token),
            Ok(None) => {}
            Err(()) => return self.signing_failed("the ID token could not be signed"),
        }
        for record in records {
            if let Err(e) = state.store.save_token(record).await {
                log::error!("{e}");
                return oauth_error(
                    self.req,
                    Status::InternalServerError,
                    "server_error",
                    "the token could not be stored",
                );
            }
        }
        match state.store.family_revoked(&issue.family).await {
            Ok(false) => json_response(self.req, Status::Ok, body),
            Ok(true) => self.invalid_grant("the grant was revoked"),
            Err(e) => self.store_failed(e),
        }
    }

    fn signing_failed(&self, what: &str) -> Outcome<'r> {
        oauth_error(self.req, Status::InternalServerError, "server_error", what)
    }

    /// The access token and its audience: a random string, or (`access_token_format =
    /// "jwt"`) an RFC 9068 JWT, for this application's own API unless the grant names
    /// resources (a JWT always has an `aud`). `None` when it cannot be signed.
    async fn access_token(&self, issue: &Issue, ttl: i64) -> Option<(String, Vec<String>)> {
        let state = self.state;
        if state.config.access_token_format != AccessTokenFormat::Jwt {
            return Some((random_token(), issue.audience.clone()));
        }
        let audience = match issue.audience.is_empty() {
            true => vec![state.resources.own.clone()],
            false => issue.audience.clone(),
        };
        let now = now();
        let mut claims = json!({
            "iss": state.config.issuer,
            "sub": issue.owner.as_deref().unwrap_or(&self.client.id),
            "aud": if audience.len() == 1 { json!(audience[0]) } else { json!(audience) },
            "client_id": self.client.id,
            "scope": issue.scopes.join(" "),
            "iat": now,
            "exp": now.saturating_add(ttl),
            "jti": random_token(),
        });
        if let Some(jkt) = &self.jkt {
            // RFC 9449 §6.1: the key the token is bound to.
            claims["cnf"] = json!({ "jkt": jkt });
        }
        let keys = match state.keys().await? {
            Ok(keys) => keys,
            Err(e) => {
                log::error!("rocket_oauth: the signing keys are unavailable: {e}");
                return None;
            }
        };
        Some((keys.access_token(&claims)?, audience))
    }

    /// OpenID Connect: an ID token for a user's grant with `openid` (the keys are looked up
    /// only then); `Err` when it cannot be signed.
    async fn id_token(&self, issue: &Issue, access: &str, ttl: i64) -> Result<Option<String>, ()> {
        let state = self.state;
        let (id, scopes) = (&issue.id, &issue.scopes);
        let (Some(owner), true) = (issue.owner.as_deref(), scopes.iter().any(|s| s == "openid"))
        else {
            return Ok(None);
        };
        let Some(keys) = state.keys().await else {
            return Ok(None);
        };
        let claims = state.owner.claims(owner, scopes).await;
        let token = IdTokenFor {
            issuer: &state.config.issuer,
            client_id: &self.client.id,
            subject: owner,
            nonce: id.nonce.as_deref(),
            auth_time: id.auth_time,
            sid: id.sid.as_deref(),
            access_token: access,
            lifetime: ttl,
        };
        match keys.map(|keys| keys.id_token(&token, claims)) {
            Ok(Some(id_token)) => Ok(Some(id_token)),
            failed => {
                if let Err(e) = failed {
                    log::error!("rocket_oauth: the signing keys are unavailable: {e}");
                }
                log::error!("rocket_oauth: signing an ID token failed");
                Err(())
            }
        }
    }
}

/// Whether `verifier` answers the code's PKCE challenge.
fn pkce_ok(challenge: &Option<(String, String)>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (Some((challenge, method)), Some(verifier)) => {
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            ct_eq(&computed, challenge)
        }
        // A verifier without a challenge (or the reverse) is a downgrade attempt.
        _ => false,
    }
}
