use rocket_oauth::OAuth2Provider;

#[derive(OAuth2Provider)]
#[oauth(name = "e", authorize_url = "https://e.com/a", token_url = "https://e.com/t")]
struct NoHooks;

fn main() {
    let _ = NoHooks::fairing();
}
