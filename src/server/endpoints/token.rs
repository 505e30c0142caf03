//! The token endpoint: `authorization_code` (with PKCE), `refresh_token` (rotation, reuse
//! detection) and `client_credentials`, each grant its own function.

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
use super::{json_response, oauth_error, requested_scopes, Params};
use crate::server::config::{GrantType, RegisteredClient};
use crate::server::oidc::IdTokenFor;
use crate::server::store::{CodeGrant, ServerStoreError, TokenHash, TokenKind, TokenRecord};
use crate::server::ServerState;
use crate::util::{ct_eq, now, random_token};

pub(super) async fn token<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    state: &ServerState,
) -> Outcome<'r> {
    let (params, client) = match authenticated_form(req, data, state).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let grant = Grant { req, state, client };
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
    }
}

/// What an ID token needs from the grant.
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
        match store.use_code(&hash).await {
            Ok(true) => {}
            Ok(false) => return self.replayed(&grant).await,
            Err(e) => return self.store_failed(e),
        }
        let scopes = grant.scopes.clone();
        let id = IdContext {
            nonce: grant.nonce,
            auth_time: grant.auth_time,
            sid: grant.sid,
        };
        self.issue(
            Some(grant.owner),
            scopes,
            Some(grant.scopes),
            grant.family,
            id,
        )
        .await
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
        // The scope is checked before the token is spent: asking too much must not burn it.
        let scopes = requested_scopes(params, &record.scopes);
        if scopes.iter().any(|s| !record.scopes.contains(s)) {
            return self.invalid_scope("a scope exceeds the original grant");
        }
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
        // RFC 6749 §6: the new refresh token keeps the original grant's scope.
        let id = IdContext {
            nonce: None,
            auth_time: None,
            sid: None,
        };
        self.issue(record.owner, scopes, Some(record.scopes), record.family, id)
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
        let id = IdContext {
            nonce: None,
            auth_time: None,
            sid: None,
        };
        self.state.note_use(&self.client).await;
        self.issue(None, scopes, None, random_token(), id).await
    }

    /// Issues an access token for `scopes` (and a refresh token for `refresh_scopes`) and
    /// answers with them, unless the family was revoked meanwhile (a replay raced us).
    async fn issue(
        &self,
        owner: Option<String>,
        scopes: Vec<String>,
        refresh_scopes: Option<Vec<String>>,
        family: String,
        id: IdContext,
    ) -> Outcome<'r> {
        let state = self.state;
        let access = random_token();
        let ttl = i64::try_from(state.config.access_token_ttl).unwrap_or(i64::MAX);
        let record = |hash, kind, scopes: &Vec<String>, expires_at| TokenRecord {
            hash,
            kind,
            client_id: self.client.id.clone(),
            owner: owner.clone(),
            scopes: scopes.clone(),
            expires_at,
            family: family.clone(),
            revoked: false,
            used: false,
        };
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scopes.join(" "),
        });
        let mut records = vec![record(
            TokenHash::of(&access),
            TokenKind::Access,
            &scopes,
            now().saturating_add(ttl),
        )];
        // Refresh tokens only for clients that may use them.
        let refresh_scopes = refresh_scopes.filter(|_| self.client.allows(GrantType::RefreshToken));
        if let Some(refresh_scopes) = &refresh_scopes {
            let refresh = random_token();
            let refresh_ttl = i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX);
            records.push(record(
                TokenHash::of(&refresh),
                TokenKind::Refresh,
                refresh_scopes,
                now().saturating_add(refresh_ttl),
            ));
            body["refresh_token"] = json!(refresh);
        }
        match self
            .id_token(owner.as_deref(), &scopes, &id, &access, ttl)
            .await
        {
            Ok(Some(id_token)) => body["id_token"] = json!(id_token),
            Ok(None) => {}
            Err(()) => {
                return oauth_error(
                    self.req,
                    Status::InternalServerError,
                    "server_error",
                    "the ID token could not be signed",
                )
            }
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
        match state.store.family_revoked(&family).await {
            Ok(false) => json_response(self.req, Status::Ok, body),
            Ok(true) => self.invalid_grant("the grant was revoked"),
            Err(e) => self.store_failed(e),
        }
    }

    /// OpenID Connect: an ID token for a user's grant with `openid` (the keys are looked up
    /// only then); `Err` when it cannot be signed.
    async fn id_token(
        &self,
        owner: Option<&str>,
        scopes: &[String],
        id: &IdContext,
        access: &str,
        ttl: i64,
    ) -> Result<Option<String>, ()> {
        let state = self.state;
        let (Some(owner), true) = (owner, scopes.iter().any(|s| s == "openid")) else {
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
