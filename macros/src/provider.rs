//! `#[derive(OAuth2Provider)]`: parse the attributes, validate them, expand.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{DeriveInput, LitBool, LitStr, Token};

const ATTR: &str = "oauth";
const MISSING_ATTR: &str =
    "missing `#[oauth(...)]` attribute: `#[oauth(name = \"...\", authorize_url = \"...\", token_url = \"...\")]`";
const MISSING_NAME: &str = "missing `name = \"...\"` in `#[oauth(...)]`";
const MISSING_AUTHORIZE: &str = "missing `authorize_url = \"...\"` in `#[oauth(...)]`";
const MISSING_TOKEN: &str = "missing `token_url = \"...\"` in `#[oauth(...)]`";
const BAD_NAME: &str =
    "provider names may contain only lowercase ASCII letters, digits, `_` and `-`";
const GENERICS: &str =
    "generic providers are not supported by `#[derive(OAuth2Provider)]`; implement `rocket_oauth::Provider` by hand";
const NOT_STRUCT: &str = "`#[derive(OAuth2Provider)]` only supports structs";
const CLIENT_AUTH: &str =
    "expected `\"basic\"`, `\"post\"`, `\"client_secret_basic\"` or `\"client_secret_post\"`";

/// Which derive is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OAuth2,
    Oidc,
    OAuth1,
}

const MISSING_ISSUER: &str = "missing `issuer = \"...\"` in `#[oauth(...)]`";

/// The parsed attributes.
#[derive(Default)]
struct Attrs {
    name: Option<LitStr>,
    authorize_url: Option<LitStr>,
    token_url: Option<LitStr>,
    userinfo_url: Option<LitStr>,
    issuer: Option<LitStr>,
    scopes: Option<Vec<LitStr>>,
    client_auth: Option<LitStr>,
    pkce: Option<LitBool>,
    confirm: Option<LitBool>,
    form_post: Option<LitBool>,
    request_token_url: Option<LitStr>,
    access_token_url: Option<LitStr>,
}

/// Collects every error so that one compile shows them all.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }
}

fn set<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate oauth attribute `{key}`")));
    }
    *slot = Some(value);
    Ok(())
}

/// A `key = true`/`key = false`, or a bare `key` meaning `true`.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<LitBool> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<LitBool>()
    } else {
        Ok(LitBool::new(true, meta.path.span()))
    }
}

fn parse_attrs(input: &DeriveInput, errors: &mut Errors) -> Option<Attrs> {
    let mut attrs = Attrs::default();
    let mut found = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
        found = true;
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "name" => set(&mut attrs.name, meta.value()?.parse()?, &meta, &key),
                "authorize_url" => set(
                    &mut attrs.authorize_url,
                    meta.value()?.parse()?,
                    &meta,
                    &key,
                ),
                "token_url" => set(&mut attrs.token_url, meta.value()?.parse()?, &meta, &key),
                "userinfo_url" => set(&mut attrs.userinfo_url, meta.value()?.parse()?, &meta, &key),
                "issuer" => set(&mut attrs.issuer, meta.value()?.parse()?, &meta, &key),
                "client_auth" => set(&mut attrs.client_auth, meta.value()?.parse()?, &meta, &key),
                "pkce" => set(&mut attrs.pkce, flag(&meta)?, &meta, &key),
                "confirm" => set(&mut attrs.confirm, flag(&meta)?, &meta, &key),
                "form_post" => set(&mut attrs.form_post, flag(&meta)?, &meta, &key),
                "custom_hooks" => Err(meta.error(
                    "`custom_hooks` is gone: give the hooks at attach time, \
                     `Provider.fairing().hooks(MyHooks)`, with `impl rocket_oauth::Hooks for MyHooks`",
                )),
                "request_token_url" => set(
                    &mut attrs.request_token_url,
                    meta.value()?.parse()?,
                    &meta,
                    &key,
                ),
                "access_token_url" => set(
                    &mut attrs.access_token_url,
                    meta.value()?.parse()?,
                    &meta,
                    &key,
                ),
                "scopes" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    set(&mut attrs.scopes, list.into_iter().collect(), &meta, &key)
                }
                _ => Err(meta.error(format!(
                    "unknown oauth attribute `{}`; expected one of `name`, `authorize_url`, \
                     `token_url`, `userinfo_url`, `issuer`, `scopes`, `client_auth`, `pkce`, \
                     `confirm`, `form_post`, `request_token_url`, \
                     `access_token_url`",
                    quote::ToTokens::to_token_stream(&meta.path)
                ))),
            }
        });
        if let Err(e) = result {
            errors.push(e);
            // The rest of the attribute was not read: "missing key" errors would be noise.
            return None;
        }
    }
    if !found {
        errors.push(syn::Error::new(input.ident.span(), MISSING_ATTR));
        return None;
    }
    Some(attrs)
}

/// Checks that `lit` is an absolute `https` URL (`http` only on loopback hosts).
fn check_url(lit: &LitStr, errors: &mut Errors) {
    let value = lit.value();
    match url::Url::parse(&value) {
        Err(e) => errors.push(syn::Error::new(
            lit.span(),
            format!("invalid URL `{value}`: {e}"),
        )),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => errors.push(syn::Error::new(
            lit.span(),
            format!("`{value}` is not an http(s) URL"),
        )),
        Ok(url) if url.scheme() == "http" && !is_loopback(&url) => errors.push(syn::Error::new(
            lit.span(),
            format!("`{value}` must use https (http is allowed only on loopback hosts)"),
        )),
        Ok(_) => {}
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn validate(input: &DeriveInput, kind: Kind, attrs: &Attrs, errors: &mut Errors) {
    let span = input.ident.span();
    match &attrs.name {
        None => errors.push(syn::Error::new(span, MISSING_NAME)),
        Some(name) => {
            let value = name.value();
            let ok = !value.is_empty()
                && value.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !ok {
                errors.push(syn::Error::new(name.span(), BAD_NAME));
            }
        }
    }
    let oidc = kind == Kind::Oidc;
    let oauth1 = kind == Kind::OAuth1;
    for (value, what) in [
        (&attrs.request_token_url, "request_token_url"),
        (&attrs.access_token_url, "access_token_url"),
    ] {
        match value {
            None if oauth1 => errors.push(syn::Error::new(
                span,
                format!("missing `{what} = \"...\"` in `#[oauth(...)]`"),
            )),
            Some(url) if !oauth1 => errors.push(syn::Error::new(
                url.span(),
                format!("`{what}` is an OAuth 1.0a attribute: derive `OAuth1Provider`"),
            )),
            Some(url) => check_url(url, errors),
            None => {}
        }
    }
    if oauth1 {
        if let Some(url) = &attrs.token_url {
            errors.push(syn::Error::new(
                url.span(),
                "OAuth 1.0a providers have no `token_url`: use `access_token_url`",
            ));
        }
    }
    match &attrs.authorize_url {
        None if oidc => {}
        None => errors.push(syn::Error::new(span, MISSING_AUTHORIZE)),
        Some(url) => check_url(url, errors),
    }
    match &attrs.token_url {
        None if oidc || oauth1 => {}
        None => errors.push(syn::Error::new(span, MISSING_TOKEN)),
        Some(url) => check_url(url, errors),
    }
    match &attrs.issuer {
        None if oidc => errors.push(syn::Error::new(span, MISSING_ISSUER)),
        None => {}
        Some(issuer) => {
            // Microsoft's multi-tenant issuer holds a placeholder filled at login.
            let checkable = LitStr::new(
                &issuer.value().replace("{tenantid}", "tenant"),
                issuer.span(),
            );
            check_url(&checkable, errors);
        }
    }
    if let Some(url) = &attrs.userinfo_url {
        check_url(url, errors);
    }
    if let Some(auth) = &attrs.client_auth {
        if client_auth_variant(auth).is_none() {
            errors.push(syn::Error::new(auth.span(), CLIENT_AUTH));
        }
    }
    for scope in attrs.scopes.iter().flatten() {
        let value = scope.value();
        if value.is_empty() || value.contains(char::is_whitespace) {
            errors.push(syn::Error::new(
                scope.span(),
                "a scope must be one non-empty word; list scopes separately: `scopes(\"a\", \"b\")`",
            ));
        }
    }
}

fn client_auth_variant(lit: &LitStr) -> Option<&'static str> {
    match lit.value().as_str() {
        "basic" | "client_secret_basic" => Some("ClientSecretBasic"),
        "post" | "client_secret_post" => Some("ClientSecretPost"),
        _ => None,
    }
}

/// The inherent `fairing(self)` (so no trait import is needed).
fn companions(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let vis = &input.vis;
    quote_spanned! {ident.span()=>
        impl #ident {
            /// The fairing of this OAuth provider: attach it to mount its routes and enable
            /// its guards; give the application's hooks with `.hooks(..)`.
            #[allow(dead_code)]
            #vis fn fairing(self) -> ::rocket_oauth::OAuthFairing<Self> {
                ::rocket_oauth::OAuthFairing::new(self)
            }
        }
    }
}

/// Stub impls emitted next to errors, so that uses of the type do not add more errors.
/// Generic types get none: their bounds are unknown.
fn fallback(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let ident = &input.ident;
    let error = error.to_compile_error();
    if !input.generics.params.is_empty() {
        return error;
    }
    let companions = companions(input);
    quote! {
        #error
        impl ::rocket_oauth::Provider for #ident {
            const NAME: &'static str = "";
            fn defaults() -> ::rocket_oauth::ProviderDefaults {
                ::rocket_oauth::ProviderDefaults::oauth2_from_config()
            }
        }
        #companions
    }
}

pub fn derive(input: DeriveInput, kind: Kind) -> TokenStream {
    let mut errors = Errors::default();
    match &input.data {
        syn::Data::Struct(_) => {}
        syn::Data::Enum(e) => errors.push(syn::Error::new(e.enum_token.span, NOT_STRUCT)),
        syn::Data::Union(u) => errors.push(syn::Error::new(u.union_token.span, NOT_STRUCT)),
    }
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new(input.generics.span(), GENERICS));
    }
    let attrs = parse_attrs(&input, &mut errors);
    if let Some(attrs) = &attrs {
        validate(&input, kind, attrs, &mut errors);
    }
    match (attrs, errors.0) {
        (Some(attrs), None) => expand(&input, kind, &attrs),
        (_, Some(error)) => fallback(&input, error),
        (None, None) => unreachable!("a missing attribute is an error"),
    }
}

fn expand(input: &DeriveInput, kind: Kind, attrs: &Attrs) -> TokenStream {
    let ident = &input.ident;
    let name = attrs.name.as_ref().expect("validated");
    let mut builder = match kind {
        Kind::OAuth2 => {
            let authorize_url = attrs.authorize_url.as_ref().expect("validated");
            let token_url = attrs.token_url.as_ref().expect("validated");
            let mut builder = quote! {
                ::rocket_oauth::ProviderDefaults::oauth2(#authorize_url, #token_url)
            };
            if let Some(issuer) = &attrs.issuer {
                builder.extend(quote! { .issuer(#issuer) });
            }
            builder
        }
        Kind::OAuth1 => {
            let request_token_url = attrs.request_token_url.as_ref().expect("validated");
            let authorize_url = attrs.authorize_url.as_ref().expect("validated");
            let access_token_url = attrs.access_token_url.as_ref().expect("validated");
            quote! {
                ::rocket_oauth::ProviderDefaults::oauth1(
                    #request_token_url, #authorize_url, #access_token_url
                )
            }
        }
        Kind::Oidc => {
            let issuer = attrs.issuer.as_ref().expect("validated");
            let mut builder = quote! { ::rocket_oauth::ProviderDefaults::oidc(#issuer) };
            if let Some(url) = &attrs.authorize_url {
                builder.extend(quote! { .authorize_url(#url) });
            }
            if let Some(url) = &attrs.token_url {
                builder.extend(quote! { .token_url(#url) });
            }
            builder
        }
    };
    if let Some(url) = &attrs.userinfo_url {
        builder.extend(quote! { .userinfo_url(#url) });
    }
    if let Some(scopes) = &attrs.scopes {
        builder.extend(quote! { .scopes(&[#(#scopes),*]) });
    }
    if let Some(auth) = &attrs.client_auth {
        let variant = syn::Ident::new(client_auth_variant(auth).expect("validated"), auth.span());
        builder.extend(quote! { .client_auth(::rocket_oauth::config::ClientAuth::#variant) });
    }
    for (method, value) in [
        ("pkce", &attrs.pkce),
        ("confirm", &attrs.confirm),
        ("form_post", &attrs.form_post),
    ] {
        if let Some(value) = value {
            let method = syn::Ident::new(method, value.span());
            builder.extend(quote! { .#method(#value) });
        }
    }
    let companions = companions(input);
    quote! {
        impl ::rocket_oauth::Provider for #ident {
            const NAME: &'static str = #name;

            fn defaults() -> ::rocket_oauth::ProviderDefaults {
                #builder
            }
        }
        #companions
    }
}
