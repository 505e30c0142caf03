use rocket_oauth::{Hooks, OAuth2Provider};

#[derive(OAuth2Provider)]
#[oauth(name = "example", authorize_url = "https://example.com/authorize")]
#[oauth(token_url = "https://example.com/token", name = "again")]
struct Twice;

impl Hooks for Twice {}

fn main() {}
