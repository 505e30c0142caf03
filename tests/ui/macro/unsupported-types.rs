use rocket_oauth::{Hooks, OAuth2Provider};

#[derive(OAuth2Provider)]
#[oauth(name = "e", authorize_url = "https://e.com/a", token_url = "https://e.com/t")]
enum NotAStruct {
    A,
}

#[derive(OAuth2Provider)]
#[oauth(name = "g", authorize_url = "https://e.com/a", token_url = "https://e.com/t")]
struct Generic<T>(T);

impl<T: Send + Sync + 'static> Hooks for Generic<T> {}

fn main() {}
