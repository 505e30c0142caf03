//! Procedural macros for `rocket_oauth`. Use them through `rocket_oauth`, which re-exports
//! them and documents them.

#![deny(missing_docs)]

mod provider;
mod scopes;

use proc_macro::TokenStream;

/// Derives `rocket_oauth::Provider` from `#[oauth(...)]` attributes; see
/// `rocket_oauth::OAuth2Provider`.
#[proc_macro_derive(OAuth2Provider, attributes(oauth))]
pub fn derive_oauth2_provider(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    provider::derive(input, provider::Kind::OAuth2).into()
}

/// Derives `rocket_oauth::Provider` for an OpenID Connect provider from `#[oauth(...)]`
/// attributes; see `rocket_oauth::OidcProvider`.
#[proc_macro_derive(OidcProvider, attributes(oauth))]
pub fn derive_oidc_provider(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    provider::derive(input, provider::Kind::Oidc).into()
}

/// Derives `rocket_oauth::Provider` for an OAuth 1.0a provider from `#[oauth(...)]`
/// attributes; see `rocket_oauth::OAuth1Provider`.
#[proc_macro_derive(OAuth1Provider, attributes(oauth))]
pub fn derive_oauth1_provider(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    provider::derive(input, provider::Kind::OAuth1).into()
}

/// Derives `rocket_oauth::ScopeSet` from `#[scopes("a", "b")]`: the scopes a bearer guard
/// (`Scoped<S>`, `Bearer<R, S>`) requires; see `rocket_oauth::ScopeSet`.
#[proc_macro_derive(ScopeSet, attributes(scopes))]
pub fn derive_scope_set(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    scopes::derive(input).into()
}
