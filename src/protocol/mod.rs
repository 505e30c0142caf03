//! The protocol layer: HTTP client, OAuth 2, OpenID Connect, OAuth 1.0a. Plain async Rust over the
//! `oauth2` and `openidconnect` crates — no Rocket types, typed errors — unit-testable
//! without a server. Each protocol is one [`Flow`](flow::Flow).

pub(crate) mod assertion;
pub(crate) mod build;
pub(crate) mod credentials;
pub(crate) mod dpop;
pub(crate) mod error;
pub(crate) mod flow;
pub(crate) mod http;
pub(crate) mod jose;
pub(crate) mod oauth1;
pub(crate) mod oauth2;
#[cfg(feature = "oidc")]
pub(crate) mod oidc;
#[cfg(feature = "oidc")]
pub(crate) mod resource;
#[cfg(feature = "apple")]
pub(crate) mod signed_secret;
