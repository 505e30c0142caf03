use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(
    name = "example",
    authorize_url = "not a url",
    token_url = "http://example.com/token",
    userinfo_url = "ftp://example.com/me"
)]
struct BadUrls;

fn main() {}
