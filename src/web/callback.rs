//! Finishing a login, the same pipeline for every protocol:
//! attempt → the flow completes → identify → access rules → `after_login` → session.

use std::sync::Arc;

use rocket::http::Status;
use rocket::response::Redirect;
use rocket::route::Outcome;
use rocket::Request;
use serde::Serialize;

use crate::api::{ApiClient, NoRefresh};
use crate::config::ProviderConfig;
use crate::error::LoginError;
use crate::hooks::Denial;
use crate::login::Login;
use crate::pages::templates::{self, render};
use crate::protocol::error::FlowError;
use crate::protocol::flow::CallbackParams;
use crate::provider::Provider;
use crate::session::cookie::{Attempt, Taken};
use crate::session::manager::SaveError;
use crate::util::now;
use crate::web::pages::{error_page, error_page_saying, refuse};
use crate::web::state::ProviderState;

/// Why the pipeline stopped.
enum Stop {
    Failed(LoginError),
    /// The provider reported an error for this browser's own login attempt, and explained it.
    Reported(LoginError, String),
    Refused(Box<Denial>),
}

impl From<LoginError> for Stop {
    fn from(err: LoginError) -> Self {
        Stop::Failed(err)
    }
}

impl From<FlowError> for Stop {
    fn from(err: FlowError) -> Self {
        Stop::Failed(err.into())
    }
}

/// Answers a callback; `params` is `None` when its parameters could not be read.
pub(crate) async fn callback<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    params: Option<CallbackParams>,
) -> Outcome<'r> {
    let result = match params {
        Some(params) => finish_login(req, state, params).await,
        None => Err(LoginError::MissingState.into()),
    };
    // The error pages' futures (templates, the session store) are boxed: they are rare,
    // and would otherwise be part of, and copied with, every callback's future.
    match result {
        Ok(outcome) => outcome,
        Err(Stop::Failed(err)) => Box::pin(error_page(req, state, err)).await,
        Err(Stop::Reported(err, said)) => {
            Box::pin(error_page_saying(req, state, err, Some(&said))).await
        }
        Err(Stop::Refused(denial)) => Box::pin(refuse(req, state.name, *denial)).await,
    }
}

async fn finish_login<'r, P: Provider>(
    req: &'r Request<'_>,
    state: &ProviderState<P>,
    params: CallbackParams,
) -> Result<Outcome<'r>, Stop> {
    let attempt = take_attempt(req, state, &params)?;

    let completed = state
        .flow
        .complete(&state.http, &params, attempt.pending)
        .await?;
    let mut login = Login::new(completed.credentials, completed.userinfo, now());
    let refused = |denial| Stop::Refused(Box::new(denial));
    // One client with the new credentials, for the provider's identify and the hooks'.
    let api = ApiClient::<P>::of(state, Arc::new(login.clone()), Arc::new(NoRefresh)).erased();
    login.identity = state
        .provider
        .identify(&login, &api)
        .await
        .map_err(refused)?;
    login.identity = state.hooks.identify(&login, &api).await.map_err(refused)?;
    let access = &state.config.access;
    login.roles = access.roles_of(login.identity.as_ref());
    if !access.allows(login.identity.as_ref(), &login.roles) {
        log::info!(
            "`{}` user `{}` refused: no access rule admits them (policy `listed`)",
            state.name,
            login
                .identity
                .as_ref()
                .map_or("(no identity)", |i| i.subject.as_str())
        );
        return Err(LoginError::NotAllowed.into());
    }
    state
        .hooks
        .after_login(&login, req)
        .await
        .map_err(refused)?;
    login.data = state
        .hooks
        .session_data(&login, req)
        .await
        .map_err(refused)?
        .map(|data| data.0);
    state
        .sessions
        .create(req.cookies(), &login)
        .await
        .map_err(|e| match e {
            SaveError::TooLarge => LoginError::SessionTooLarge,
            SaveError::Store(e) => {
                log::error!("storing a `{}` session failed: {e}", state.name);
                LoginError::SessionStore
            }
        })?;
    Ok(landing(req, &login, attempt.next, (state.name, &state.config)).await)
}

/// Consumes the attempt the callback names. A provider-reported error wins over a missing
/// or mismatched attempt (the attempt is consumed either way); its `error_description` is
/// shown only when the callback belongs to this browser's own attempt, so that a forged link
/// cannot put a stranger's words on the application's pages.
fn take_attempt<P: Provider>(
    req: &Request<'_>,
    state: &ProviderState<P>,
    params: &CallbackParams,
) -> Result<Attempt, Stop> {
    let taken = state
        .flow
        .attempt_key(params)
        .map(|key| state.cookies.take_attempt(req.cookies(), key));
    if let Some(err) = state.flow.reported_error(params) {
        let ours = matches!(taken, Some(Taken::Found(_)));
        return Err(match params.get("error_description").filter(|_| ours) {
            Some(said) => Stop::Reported(err.into(), displayable_text(said)),
            None => Stop::Failed(err.into()),
        });
    }
    match taken {
        None => Err(LoginError::MissingState.into()),
        Some(Taken::Missing) => Err(LoginError::Expired.into()),
        Some(Taken::Mismatch) => Err(LoginError::StateMismatch.into()),
        Some(Taken::Found(attempt)) => Ok(attempt),
    }
}

/// A provider's free text, made presentable: no control characters, at most 300 characters
/// (the page template escapes it).
fn displayable_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// Where a successful login lands: `next`, or the success page (leading to `next`, when it
/// is shown for every login).
async fn landing<'r>(
    req: &'r Request<'_>,
    login: &Login,
    next: Option<String>,
    provider: (&str, &ProviderConfig),
) -> Outcome<'r> {
    match next {
        Some(next) if !provider.1.success_page => Outcome::from(req, Redirect::to(next)),
        next => success_page(req, login, next.as_deref().unwrap_or("/"), provider).await,
    }
}

/// The success page: `oauth/success`.
async fn success_page<'r>(
    req: &'r Request<'_>,
    login: &Login,
    next: &str,
    (provider, config): (&str, &ProviderConfig),
) -> Outcome<'r> {
    #[derive(Serialize)]
    struct Success<'a> {
        provider: &'a str,
        next: &'a str,
        continue_after: Option<u64>,
        userinfo: Option<&'a serde_json::Value>,
        scopes: &'a [String],
    }
    let context = Success {
        provider,
        next,
        continue_after: config.success_continue_after.map(|d| d.as_secs()),
        userinfo: login.userinfo(),
        scopes: &login.credentials.scopes,
    };
    Outcome::from(
        req,
        render(req, Status::Ok, templates::SUCCESS, &context).await,
    )
}
