use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(name = "example", authorize_url = "https://example.com/authorize")]
#[oauth(token_url = "https://example.com/token", name = "again")]
struct Twice;

fn main() {}
