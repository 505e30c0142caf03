use rocket_oauth::{Hooks, OAuth2Provider};

#[derive(OAuth2Provider)]
struct NoAttribute;

impl Hooks for NoAttribute {}

fn main() {}
