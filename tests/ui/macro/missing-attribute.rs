use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
struct NoAttribute;

fn main() {}
