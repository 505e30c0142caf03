use rocket_oauth::server::ScopeSet;

#[derive(ScopeSet)]
struct Missing;

#[derive(ScopeSet)]
#[scopes()]
struct Empty;

#[derive(ScopeSet)]
#[scopes("profile", "two words")]
struct Spaced;

#[derive(ScopeSet)]
#[scopes(profile)]
struct NotAString;

fn main() {}
