use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(name = 5)]
struct NumberName;

#[derive(OAuth2Provider)]
#[oauth(name = "ok", authorize_url = "https://e.com/a", token_url = "https://e.com/t", pkce = "yes")]
struct StringBool;

#[derive(OAuth2Provider)]
#[oauth(name = "ok", authorize_url = "https://e.com/a", token_url = "https://e.com/t", client_auth = "jwt")]
struct UnknownAuth;

#[derive(OAuth2Provider)]
#[oauth(name = "Git Hub", authorize_url = "https://e.com/a", token_url = "https://e.com/t", scopes("a b"))]
struct BadName;

fn main() {}
