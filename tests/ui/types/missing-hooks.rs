use rocket_oauth::OAuth2Provider;

// `custom_hooks` says the application implements `Hooks` itself, but it does not.
#[derive(OAuth2Provider)]
#[oauth(
    name = "e",
    authorize_url = "https://e.com/a",
    token_url = "https://e.com/t",
    custom_hooks
)]
struct Bare;

fn main() {
    let _ = Bare.fairing();
}
