use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(userinfo_url = "https://example.com/me")]
struct NothingRequired;

fn main() {}
