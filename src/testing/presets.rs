//! The presets' providers, as the kit plays them ([`MockProvider::preset`]): each preset
//! says how its provider answers (in `presets/`, with this kit's public API), and the kit
//! shapes its userinfo answers so ([`MockProvider::userinfo_shape`]).

use std::sync::Arc;

use serde_json::Value;

use super::mock::MockProvider;
use super::user::MockUser;
use crate::Provider;

/// A preset the kit plays: every preset of [`presets`](crate::presets) (see
/// [`MockProvider::preset`]).
pub trait Preset: Provider {
    /// Makes `mock` answer as this preset's provider.
    #[doc(hidden)]
    fn play(mock: &MockProvider);
}

impl MockProvider {
    /// Answers as preset `P`'s provider does: the userinfo in that provider's shape (each
    /// user's subject, email and whether it is verified, name, picture and groups where the
    /// provider puts them), and the further calls `P`'s login makes, from the same users:
    ///
    /// | preset | further calls |
    /// |---|---|
    /// | `GitHub` | `GET user/emails`: the user's email as the primary one, `verified` as set |
    /// | `Bitbucket` | `GET user/emails`: the same, in Bitbucket's `values` |
    /// | `Upwork` | `POST graphql`: the user; their first group as their company (`organizationId`), the others as its teams' ids |
    ///
    /// A user given [`MockUser::userinfo`] keeps that body. Endpoints added with
    /// [`endpoint`](Self::endpoint) afterwards answer first.
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket::local::asynchronous::Client;
    /// use rocket_oauth::presets::GitHub;
    /// use rocket_oauth::testing::{self, MockProvider, MockUser};
    /// use rocket_oauth::User;
    ///
    /// #[get("/who")]
    /// fn who(user: User<GitHub>) -> String {
    ///     format!("{} {:?}", user.subject, user.verified_email())
    /// }
    ///
    /// # rocket::async_test(async {
    /// let mock = MockProvider::start();
    /// mock.preset::<GitHub>();
    /// mock.add_user(MockUser::new("583231").email("octocat@github.com").name("The Octocat"));
    /// let rocket = rocket::custom(mock.configure::<GitHub>(testing::figment()))
    ///     .attach(GitHub.fairing())
    ///     .mount("/", routes![who]);
    /// let client = Client::tracked(rocket).await.unwrap();
    /// mock.log_in::<GitHub>(&client, "583231").await;
    /// let who = client.get("/who").dispatch().await.into_string().await.unwrap();
    /// assert_eq!(who, r#"583231 Some("octocat@github.com")"#);
    /// assert_eq!(mock.requests_to("/user/emails").len(), 1);
    /// # });
    /// ```
    pub fn preset<P: Preset>(&self) -> &Self {
        P::play(self);
        self
    }

    /// Answers userinfo requests with `shape(user)` instead of the user's claims (users given
    /// [`MockUser::userinfo`] keep that body): a provider's own profile format.
    ///
    /// ```rust
    /// use rocket_oauth::testing::MockProvider;
    /// use serde_json::json;
    ///
    /// let mock = MockProvider::start();
    /// mock.userinfo_shape(|user| json!({ "data": { "id": user.subject() } }));
    /// ```
    pub fn userinfo_shape(&self, shape: impl Fn(&MockUser) -> Value + Send + Sync + 'static) {
        *self.shared.shape.lock().unwrap() = Some(Arc::new(shape));
    }
}
