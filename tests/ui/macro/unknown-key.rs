use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(
    name = "example",
    authorize_url = "https://example.com/authorize",
    token_url = "https://example.com/token",
    tokn_url = "https://example.com/token"
)]
struct Typo;

fn main() {}
