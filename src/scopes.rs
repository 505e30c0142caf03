//! The scopes a bearer guard requires: the authorization server's [`Scoped`] and the
//! resource server's [`Bearer`], both.
//!
//! [`Scoped`]: crate::server::Scoped
//! [`Bearer`]: crate::resource::Bearer

/// The scopes a bearer guard requires (djoauth2's `oauth_scope`): derived, or by hand; `()`
/// requires none.
///
/// ```rust
/// use rocket_oauth::ScopeSet;
///
/// #[derive(ScopeSet)]
/// #[scopes("profile", "email")]
/// struct ReadEmail;
///
/// // The same, by hand:
/// struct ReadProfile;
///
/// impl ScopeSet for ReadProfile {
///     const SCOPES: &'static [&'static str] = &["profile"];
/// }
/// assert_eq!(ReadEmail::SCOPES, ["profile", "email"]);
/// assert!(<() as ScopeSet>::SCOPES.is_empty());
/// ```
pub trait ScopeSet: Send + Sync + 'static {
    /// Every one of these scopes is required.
    const SCOPES: &'static [&'static str];

    /// Whether `granted` holds every scope of the set.
    fn granted_in(granted: &[String]) -> bool {
        Self::SCOPES.iter().all(|s| granted.iter().any(|g| g == s))
    }
}

/// No scope required.
impl ScopeSet for () {
    const SCOPES: &'static [&'static str] = &[];
}
