//! The integration tests, in one binary (one link instead of one per file): real providers
//! and applications on loopback ports, driven by an HTTP client that keeps cookies.

#[cfg(feature = "server")]
mod clients;
mod common;

mod example;
mod failures;
#[cfg(feature = "oidc")]
mod federated;
mod guards;
mod hardening;
mod launch;
mod layers;
mod lifecycle;
mod listed;
mod login;
mod oauth1;
#[cfg(feature = "oidc")]
mod oidc;
mod presets;
mod properties;
#[cfg(feature = "server")]
mod provider;
#[cfg(feature = "oidc")]
mod resource;
#[cfg(feature = "server")]
mod sender;
#[cfg(feature = "server")]
mod server;
mod session_store;
mod signed_requests;
#[cfg(feature = "server")]
mod store;
mod testing_kit;
