use rocket_oauth::OAuth2Provider;

// The attribute of old: hooks are given at attach time now.
#[derive(OAuth2Provider)]
#[oauth(
    name = "e",
    authorize_url = "https://e.com/a",
    token_url = "https://e.com/t",
    custom_hooks
)]
struct Old;

fn main() {
    let _ = Old.fairing();
}
