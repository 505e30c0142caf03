//! `#[derive(ScopeSet)]`: the scopes a `Scoped<S>` guard requires, from `#[scopes(...)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{DeriveInput, LitStr, Token};

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .chars()
            .all(|c| matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))
}

pub fn derive(input: DeriveInput) -> TokenStream {
    match expand(&input) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(ScopeSet)]` takes no generics",
        ));
    }
    let mut attrs = input.attrs.iter().filter(|a| a.path().is_ident("scopes"));
    let Some(attr) = attrs.next() else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(ScopeSet)]` needs `#[scopes(\"a\", \"b\")]`: the scopes the guard requires",
        ));
    };
    if let Some(again) = attrs.next() {
        return Err(syn::Error::new_spanned(
            again,
            "`#[scopes(...)]` is given twice",
        ));
    }
    let scopes = attr.parse_args_with(Punctuated::<LitStr, Token![,]>::parse_terminated)?;
    if scopes.is_empty() {
        return Err(syn::Error::new_spanned(attr, "name at least one scope"));
    }
    if let Some(bad) = scopes.iter().find(|s| !is_scope_token(&s.value())) {
        return Err(syn::Error::new_spanned(
            bad,
            "a scope is printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)",
        ));
    }
    let name = &input.ident;
    let scopes = scopes.iter();
    Ok(quote! {
        impl ::rocket_oauth::ScopeSet for #name {
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
        }
    })
}
