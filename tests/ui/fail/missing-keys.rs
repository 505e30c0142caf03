use rocket_oauth::{Hooks, OAuth2Provider};

#[derive(OAuth2Provider)]
#[oauth(userinfo_url = "https://example.com/me")]
struct NothingRequired;

impl Hooks for NothingRequired {}

fn main() {}
