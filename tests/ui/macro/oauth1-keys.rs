use rocket_oauth::{OAuth1Provider, OAuth2Provider};

#[derive(OAuth1Provider)]
#[oauth(name = "o1", authorize_url = "https://e.com/a")]
struct MissingEndpoints;

#[derive(OAuth1Provider)]
#[oauth(
    name = "o1",
    request_token_url = "https://e.com/r",
    authorize_url = "https://e.com/a",
    access_token_url = "https://e.com/t",
    token_url = "https://e.com/t"
)]
struct TokenUrl;

#[derive(OAuth2Provider)]
#[oauth(
    name = "o2",
    authorize_url = "https://e.com/a",
    token_url = "https://e.com/t",
    request_token_url = "https://e.com/r"
)]
struct NotOAuth1;

fn main() {}
