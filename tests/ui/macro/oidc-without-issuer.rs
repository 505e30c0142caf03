use rocket_oauth::OidcProvider;

#[derive(OidcProvider)]
#[oauth(name = "corp", scopes("email"))]
struct NoIssuer;

#[derive(OidcProvider)]
#[oauth(name = "corp2", issuer = "http://sso.example.com")]
struct PlainHttp;

fn main() {}
