//! Named providers that just work: each preset is a [`Provider`] with its provider's real
//! endpoints, scopes, client authentication, PKCE support and quirks, and a
//! [`Hooks::identify`] that reads that provider's profile the right way (its stable user
//! id; an email counted as verified only when the provider says so).
//!
//! Keys (`client_id`, `client_secret`, `redirect_uri`) and any override come from
//! `oauth.<name>` as for any provider; hosts that differ per deployment are placeholders
//! filled from keys of their own (`base_url`, `tenant`, `realm`, `domain`,
//! `graph_version`: see each preset).
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket_oauth::presets::GitHub;
//! use rocket_oauth::User;
//!
//! #[get("/")]
//! fn home(user: User<GitHub>) -> String {
//!     format!("hello {}", user.name.as_deref().unwrap_or("stranger"))
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build().attach(GitHub::new().fairing()).mount("/", routes![home])
//! }
//! ```
//!
//! A preset runs the app's own hooks too (all but `identify`, which is the preset's):
//! `GitHub::with_hooks(MyHooks)`; its guards are then `User<GitHub<MyHooks>>`. To change how a
//! preset identifies users, write a provider of your own from its defaults
//! (`<GitHub as Provider>::defaults()`).

mod list;
mod profile;

pub use self::list::*;
pub use self::profile::{Kind, NoHooks, Preset};

/// Every preset's name and defaults, in the README's order (what `examples/presets.rs`
/// prints).
///
/// ```rust
/// let presets = rocket_oauth::presets::all();
/// assert!(presets.len() >= 24);
/// assert!(presets.iter().any(|(name, _)| *name == "github"));
/// ```
pub fn all() -> Vec<(&'static str, crate::ProviderDefaults)> {
    list::all()
}
