use rocket_oauth::{Hooks, OidcProvider};

#[derive(OidcProvider)]
#[oauth(name = "corp", scopes("email"))]
struct NoIssuer;

#[derive(OidcProvider)]
#[oauth(name = "corp2", issuer = "http://sso.example.com")]
struct PlainHttp;

impl Hooks for NoIssuer {}
impl Hooks for PlainHttp {}

fn main() {}
