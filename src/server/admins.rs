//! Who may use the server's admin pages: the application decides.

use rocket::Request;

/// The application's admin check for the server's admin pages (`<base_path>/admin`, see
/// [`AuthorizationServer::admin_pages`](super::AuthorizationServer::admin_pages)): the pages
/// answer `403` to anyone it does not name.
///
/// ```rust
/// use rocket::Request;
/// use rocket_oauth::server::Admins;
///
/// /// The signed-in user, if they are `root`.
/// struct Root;
///
/// #[rocket::async_trait]
/// impl Admins for Root {
///     async fn admin(&self, request: &Request<'_>) -> Option<String> {
///         let user = request.cookies().get_private("user")?.value().to_owned();
///         (user == "root").then_some(user)
///     }
/// }
/// ```
#[rocket::async_trait]
pub trait Admins: Send + Sync + 'static {
    /// The administrator making `request` (their name, shown on the pages and bound into
    /// their forms), or `None`.
    async fn admin(&self, request: &Request<'_>) -> Option<String>;
}
