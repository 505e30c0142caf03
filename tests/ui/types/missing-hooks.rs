use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(name = "e", authorize_url = "https://e.com/a", token_url = "https://e.com/t")]
struct Bare;

// Given as the hooks, but it does not implement `Hooks`.
struct Forgotten;

fn main() {
    let _ = Bare.fairing().hooks(Forgotten);
}
