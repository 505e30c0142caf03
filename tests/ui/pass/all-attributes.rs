use rocket_oauth::{OAuth2Provider, OAuthFairing, Provider};

#[derive(OAuth2Provider)]
#[oauth(
    name = "github",
    authorize_url = "https://github.com/login/oauth/authorize",
    token_url = "https://github.com/login/oauth/access_token",
    userinfo_url = "https://api.github.com/user",
    issuer = "https://github.com/login/oauth",
    scopes("read:user", "user:email"),
    client_auth = "post",
    pkce = false,
    confirm,
    form_post = false
)]
pub struct GitHub;

#[derive(OAuth2Provider)]
#[oauth(name = "local-dev_2", authorize_url = "http://127.0.0.1:9000/a", token_url = "http://localhost:9000/t")]
#[oauth(scopes())]
struct Local {
    _tenant: String,
}

/// A provider given the application's hooks at attach time.
#[derive(OAuth2Provider)]
#[oauth(name = "custom", authorize_url = "https://e.com/a", token_url = "https://e.com/t")]
struct Custom;

struct Audit;

#[rocket::async_trait]
impl rocket_oauth::Hooks for Audit {
    async fn after_logout(&self, _: Option<&rocket_oauth::Login>, _: &rocket::Request<'_>) {}
}

fn main() {
    assert_eq!(GitHub::NAME, "github");
    let _ = GitHub.fairing();
    let _ = Local { _tenant: "t".into() }.fairing();
    let _ = OAuthFairing::new(Custom).hooks(Audit);
    assert_eq!(<Local as Provider>::NAME, "local-dev_2");
}

mod oauth1 {
    use rocket_oauth::OAuth1Provider;

    #[derive(OAuth1Provider)]
    #[oauth(
        name = "trello",
        request_token_url = "https://trello.com/1/OAuthGetRequestToken",
        authorize_url = "https://trello.com/1/OAuthAuthorizeToken",
        access_token_url = "https://trello.com/1/OAuthGetAccessToken",
        userinfo_url = "https://api.trello.com/1/members/me"
    )]
    pub struct Trello;

    #[allow(dead_code)]
    fn fairing() {
        let _ = Trello.fairing();
    }
}

mod oidc {
    use rocket_oauth::OidcProvider;

    #[derive(OidcProvider)]
    #[oauth(name = "google", issuer = "https://accounts.google.com", scopes("email"))]
    pub struct Google;

    #[derive(OidcProvider)]
    #[oauth(
        name = "microsoft",
        issuer = "https://login.microsoftonline.com/{tenantid}/v2.0",
        token_url = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    )]
    pub struct Microsoft;

    #[allow(dead_code)]
    fn fairings() {
        let _ = Google.fairing();
        let _ = Microsoft.fairing();
    }
}
