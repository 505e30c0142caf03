//! A provider's sessions: where a login lives between requests (in the cookie, or in a
//! [`SessionStore`] under a random id kept in the cookie), how long, and how its access
//! token is refreshed — once per session, however many requests (and instances) need it.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::http::CookieJar;

use super::cookie::Cookies;
use super::record::{decode, encode};
use super::rotation::{Patience, Rotations, PREFIX};
use super::store::{SessionRecord, SessionStore, SessionStoreError};
use crate::hooks::Hooks;
use crate::login::Login;
use crate::protocol::credentials::Credentials;
use crate::protocol::error::FlowError;
use crate::protocol::flow::Flow;
use crate::protocol::http::HttpClient;
use crate::util::{now, random_token};

/// How long a refresh's result is handed to requests that waited for it.
const FLIGHT_MEMORY: Duration = Duration::from_secs(30);
/// How long the cross-instance refresh lock is held at most.
const LOCK_TTL: Duration = Duration::from_secs(30);
/// How often, and how many times, a request waits for another instance's refresh.
const LOCK_POLL: Duration = Duration::from_millis(50);
const LOCK_POLLS: usize = 400;

/// A session read from a request.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub login: Arc<Login>,
    /// The store's session id (`None` when the session lives in the cookie).
    pub id: Option<String>,
}

/// Why a session could not be stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    #[error("the session does not fit in cookies")]
    TooLarge,
    #[error(transparent)]
    Store(#[from] SessionStoreError),
}

/// Why a session could not be refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotRefreshed {
    /// The provider refused: the session was ended (its cookie removed).
    Ended,
    /// The provider could not be reached, or the store failed: the session is kept.
    Unavailable,
}

/// The outcome of a refresh that the session's lock-holder made.
struct Landed {
    at: Instant,
    session: Session,
}

type Slot = Arc<tokio::sync::Mutex<Option<Landed>>>;

/// One provider's sessions.
pub(crate) struct Sessions {
    pub cookies: Cookies,
    pub(super) store: Option<Arc<dyn SessionStore>>,
    pub(super) provider: &'static str,
    /// Remember which user each provider session (`sid`) is: federated logout is on.
    pub(super) sid_index: bool,
    /// Absolute session lifetime, seconds.
    lifetime: i64,
    /// Refresh this many seconds before the access token expires.
    skew: i64,
    /// In-flight refreshes, by session.
    flights: Mutex<HashMap<u64, Slot>>,
    /// Refresh tokens that refreshes spent, and what replaced them.
    rotations: Rotations,
}

/// New credentials: taken from the ledger (another holder of the refresh token refreshed
/// first), or from the provider.
pub(crate) enum Renewed {
    Adopted(Credentials),
    /// The provider's, for `spent` (whose refresh token the refresh used).
    Refreshed {
        new: Credentials,
        spent: Credentials,
    },
}

impl Renewed {
    /// `old` with the new credentials; the hooks hear of a refresh at the provider (once per
    /// refresh: not again by the holders that adopt its credentials).
    pub async fn apply<H: Hooks + ?Sized>(self, old: &Login, hooks: &H) -> Login {
        let refreshed = self.is_refresh();
        let login = self.into_login(old);
        if refreshed {
            hooks.on_token_update(old, &login).await;
        }
        login
    }

    /// Whether the provider issued these credentials (rather than another holder's refresh).
    fn is_refresh(&self) -> bool {
        matches!(self, Renewed::Refreshed { .. })
    }

    fn into_login(self, old: &Login) -> Login {
        let mut login = Login::clone(old);
        login.credentials = match self {
            Renewed::Adopted(credentials)
            | Renewed::Refreshed {
                new: credentials, ..
            } => credentials,
        };
        login
    }
}

/// Whether the store could be locked for a refresh, or another instance refreshed meanwhile.
enum Locked {
    Yes,
    Refreshed(Session),
    Failed,
}

fn flight_key(value: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl Sessions {
    /// `ledger`: where rotated refresh tokens are recorded (`None`: in this process's memory).
    pub fn new(
        cookies: Cookies,
        store: Option<Arc<dyn SessionStore>>,
        ledger: Option<Arc<dyn SessionStore>>,
        provider: &'static str,
        lifetime: Duration,
        skew: Duration,
    ) -> Self {
        Sessions {
            cookies,
            rotations: Rotations::new(ledger, provider, seconds(lifetime)),
            store,
            provider,
            sid_index: false,
            lifetime: seconds(lifetime),
            skew: seconds(skew),
            flights: Mutex::default(),
        }
    }

    /// Whether the session is within its absolute lifetime.
    fn live(&self, login: &Login, now: i64) -> bool {
        now < login.issued_at.saturating_add(self.lifetime)
    }

    /// Whether the access token should be refreshed before use.
    pub fn needs_refresh(&self, login: &Login, now: i64) -> bool {
        login.credentials.expires_within(self.skew, now)
    }

    /// Sessions remember which user each provider session (`sid`) is, so that a logout
    /// naming only the provider session finds them.
    pub fn index_provider_sessions(mut self, on: bool) -> Self {
        self.sid_index = on;
        self
    }

    /// `<provider>:<subject>`, the key of a user's sessions.
    pub(super) fn user_key(&self, subject: &str) -> String {
        format!("{}:{subject}", self.provider)
    }

    fn user_of(&self, login: &Login) -> Option<String> {
        Some(self.user_key(&login.identity.as_ref()?.subject))
    }

    /// The session as stored (not refreshed); `None` when absent, unreadable or past its
    /// lifetime.
    pub async fn load(&self, jar: &CookieJar<'_>) -> Option<Session> {
        self.load_raw(self.cookies.read_session(jar)?).await
    }

    /// The session a cookie value holds (the session, or a store's id).
    async fn load_raw(&self, raw: String) -> Option<Session> {
        let session = match &self.store {
            None => Session {
                login: Arc::new(decode(&raw)?),
                id: None,
            },
            Some(store) => self.load_stored(store.as_ref(), raw).await?,
        };
        self.live(&session.login, now()).then_some(session)
    }

    async fn load_stored(&self, store: &dyn SessionStore, id: String) -> Option<Session> {
        if id.starts_with(PREFIX) {
            return None;
        }
        let record = match store.load(&id).await {
            Ok(record) => record?,
            Err(e) => {
                log::error!("loading a `{}` session failed: {e}", self.provider);
                return None;
            }
        };
        Some(Session {
            login: Arc::new(decode(&record.data)?),
            id: Some(id),
        })
    }

    /// Stores the session of a new login (under a new id, with a store; the browser's
    /// previous session is ended).
    pub async fn create(&self, jar: &CookieJar<'_>, login: &Login) -> Result<(), SaveError> {
        let id = match &self.store {
            Some(store) => {
                if let Some(old) = self.cookies.read_session(jar) {
                    store.delete(&old).await?;
                }
                Some(random_token())
            }
            None => None,
        };
        self.save(jar, id.as_deref(), login).await?;
        self.index_sid(login, self.ends(login)).await;
        Ok(())
    }

    /// When the session of `login` ends: at its lifetime, or without a refresh token when its
    /// access token expires.
    fn ends(&self, login: &Login) -> i64 {
        let ends = login.issued_at.saturating_add(self.lifetime);
        match (
            &login.credentials.refresh_token,
            login.credentials.expires_at,
        ) {
            (None, Some(expires)) => ends.min(expires),
            _ => ends,
        }
    }

    fn record(&self, login: &Login) -> SessionRecord {
        SessionRecord {
            user: self.user_of(login),
            expires_at: self.ends(login),
            data: encode(login),
        }
    }

    /// Writes the session: in the cookie, or in the store under `id` (and the id in the
    /// cookie).
    async fn save(
        &self,
        jar: &CookieJar<'_>,
        id: Option<&str>,
        login: &Login,
    ) -> Result<(), SaveError> {
        let max_age = self.ends(login).saturating_sub(now());
        let value = match (&self.store, id) {
            (Some(store), Some(id)) => {
                store.save(id, &self.record(login)).await?;
                id.to_owned()
            }
            _ => encode(login),
        };
        self.cookies
            .write_session(jar, &value, max_age)
            .map_err(|_| SaveError::TooLarge)
    }

    /// Writes a refreshed session; `false` when it was ended meanwhile. A stored session is
    /// only replaced while it exists (its cookie, the id, is left alone), so that a refresh
    /// landing after a logout cannot bring it back.
    async fn save_refreshed(
        &self,
        jar: &CookieJar<'_>,
        session: &Session,
        login: &Login,
    ) -> Result<bool, SaveError> {
        match (&self.store, session.id.as_deref()) {
            (Some(store), Some(id)) => Ok(store.update(id, &self.record(login)).await?),
            _ => self.save(jar, None, login).await.map(|()| true),
        }
    }

    /// New credentials for `old`: the newest that replaced its refresh token, if another
    /// holder of it (a background job, another session) refreshed first; otherwise (or when
    /// those are due too) the provider's, recorded for the token's other holders. The
    /// refresh token is locked meanwhile, so that its holders spend it once.
    pub async fn renew(
        &self,
        flow: &dyn Flow,
        http: &HttpClient,
        old: &Credentials,
    ) -> Result<Renewed, FlowError> {
        let patience = Patience {
            polls: LOCK_POLLS,
            every: LOCK_POLL,
        };
        let due = |credentials: &Credentials| credentials.expires_within(self.skew, now());
        // The newest credentials may change while this holder waits for the lock: then
        // lock those (a few times at most; the last try refreshes what it holds).
        let mut current = old.clone();
        let mut tries = 0;
        loop {
            if let Some(newest) = self.rotations.newest(&current).await {
                if !due(&newest) {
                    return Ok(Renewed::Adopted(newest));
                }
                current = newest;
            }
            let locked = self.rotations.lock(&current, LOCK_TTL, patience).await;
            // Another holder may have refreshed while this one waited.
            let moved = self.rotations.newest(&current).await;
            tries += 1;
            let renewed = match moved {
                Some(newest) if !due(&newest) => Some(Ok(Renewed::Adopted(newest))),
                Some(_) if tries < 3 => None,
                _ => Some(self.refresh_at_provider(flow, http, &current).await),
            };
            if locked {
                self.rotations.unlock(&current).await;
            }
            if let Some(renewed) = renewed {
                return renewed;
            }
        }
    }

    async fn refresh_at_provider(
        &self,
        flow: &dyn Flow,
        http: &HttpClient,
        current: &Credentials,
    ) -> Result<Renewed, FlowError> {
        match flow.refresh(http, current).await {
            Ok(new) => {
                self.rotations.record(current, &new).await;
                Ok(Renewed::Refreshed {
                    new,
                    spent: current.clone(),
                })
            }
            // Someone else spent it meanwhile: theirs are the newest.
            Err(e) if e.refresh_refused() => match self.rotations.newest(current).await {
                Some(theirs) => Ok(Renewed::Adopted(theirs)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Ends the browser's session (in the store too) and returns it.
    pub async fn end(&self, jar: &CookieJar<'_>) -> Option<Login> {
        let raw = self.cookies.read_session(jar);
        let ended = match raw.clone() {
            Some(raw) => self.load_raw(raw).await,
            None => None,
        };
        if let (Some(store), Some(id)) = (&self.store, raw) {
            if let Err(e) = store.delete(&id).await {
                log::error!("ending a `{}` session failed: {e}", self.provider);
            }
        }
        self.cookies.remove_session(jar);
        ended.map(|s| Arc::unwrap_or_clone(s.login))
    }

    /// Ends every session of the user `subject` (with a store).
    pub async fn end_user(&self, subject: &str) -> Result<usize, SessionStoreError> {
        match &self.store {
            Some(store) => store.delete_user(&self.user_key(subject)).await,
            None => Err(SessionStoreError::CookieSessions),
        }
    }

    fn slot(&self, key: u64) -> Slot {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.len() > 64 {
            // Forget finished flights nobody is waiting on.
            flights.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |l| {
                        l.as_ref().is_some_and(|l| l.at.elapsed() < FLIGHT_MEMORY)
                    })
            });
        }
        flights.entry(key).or_default().clone()
    }

    /// The session with a new access token (also when the current one is not expired but was
    /// refused, e.g. revoked): refreshed at most once however many requests ask at the same time (and, with a shared store, however many instances). `None` when
    /// it cannot be refreshed: the visitor is then logged out (the session is ended when the
    /// provider refused the refresh; kept when the provider could not be reached).
    pub async fn refresh<H: Hooks + ?Sized>(
        &self,
        jar: &CookieJar<'_>,
        session: Session,
        flow: &dyn Flow,
        http: &HttpClient,
        hooks: &H,
    ) -> Result<Session, NotRefreshed> {
        let Some(refresh_token) = session.login.credentials.refresh_token.as_ref() else {
            if session.login.credentials.is_expired(now()) {
                self.end(jar).await;
                return Err(NotRefreshed::Ended);
            }
            return Ok(session);
        };
        let key = flight_key(session.id.as_deref().unwrap_or(refresh_token.expose()));
        let slot = self.slot(key);
        let mut landed = slot.lock().await;
        let newer = |done: &&Landed| {
            done.at.elapsed() < FLIGHT_MEMORY
                && done.session.login.credentials.access_token.expose()
                    != session.login.credentials.access_token.expose()
        };
        // A refresh that landed while this request waited is newer than its copy.
        let session = match landed.as_ref().filter(newer) {
            Some(done) if !self.needs_refresh(&done.session.login, now()) => {
                if self.store.is_none() {
                    // This browser still holds the old cookie: hand it the new one too.
                    let _ = self.save(jar, None, &done.session.login).await;
                }
                return Ok(done.session.clone());
            }
            // Already due again: refresh the landed session (its refresh token is the
            // current one), never the stale copy.
            Some(done) => done.session.clone(),
            None => session,
        };
        let refreshed = self.refresh_once(jar, &session, flow, http, hooks).await;
        if let Ok(session) = &refreshed {
            *landed = Some(Landed {
                at: Instant::now(),
                session: session.clone(),
            });
        }
        refreshed
    }

    /// The stored session, if another instance refreshed it since `session` was read.
    async fn reread(&self, session: &Session) -> Option<Session> {
        let (store, id) = (self.store.as_ref()?, session.id.clone()?);
        let stored = self.load_stored(store.as_ref(), id).await?;
        let changed = stored.login.credentials.access_token.expose()
            != session.login.credentials.access_token.expose();
        changed.then_some(stored)
    }

    /// Takes the store's lock on the session, unless another instance refreshes it first.
    async fn lock(&self, store: &dyn SessionStore, session: &Session, id: &str) -> Locked {
        for _ in 0..LOCK_POLLS {
            match store.try_lock(id, LOCK_TTL).await {
                // Another instance may have refreshed and unlocked just before.
                Ok(true) => match self.reread(session).await {
                    Some(fresh) => {
                        if let Err(e) = store.unlock(id).await {
                            log::error!("unlocking a `{}` session failed: {e}", self.provider);
                        }
                        return Locked::Refreshed(fresh);
                    }
                    None => return Locked::Yes,
                },
                Ok(false) => {}
                Err(e) => {
                    log::error!("locking a `{}` session failed: {e}", self.provider);
                    return Locked::Failed;
                }
            }
            tokio::time::sleep(LOCK_POLL).await;
            if let Some(fresh) = self.reread(session).await {
                return Locked::Refreshed(fresh);
            }
        }
        Locked::Failed
    }

    /// Saves the session with its renewed credentials and tells the hooks of a refresh at
    /// the provider. A session ended meanwhile stays ended, and credentials the provider
    /// issued for it are revoked (its logout could not revoke what did not exist yet) and
    /// forgotten by the ledger (no other holder adopts them).
    async fn land<H: Hooks + ?Sized>(
        &self,
        jar: &CookieJar<'_>,
        session: &Session,
        renewed: Renewed,
        (flow, http): (&dyn Flow, &HttpClient),
        hooks: &H,
    ) -> Result<Session, NotRefreshed> {
        let spent = match &renewed {
            Renewed::Refreshed { spent, .. } => Some(spent.clone()),
            Renewed::Adopted(_) => None,
        };
        let login = renewed.into_login(&session.login);
        match self.save_refreshed(jar, session, &login).await {
            Ok(true) => {}
            Ok(false) => {
                log::info!("a `{}` session ended while it was refreshed", self.provider);
                self.cookies.remove_session(jar);
                if let Some(spent) = &spent {
                    self.rotations.forget(spent).await;
                    flow.revoke(http, &login.credentials).await;
                }
                return Err(NotRefreshed::Ended);
            }
            Err(e) => log::error!("saving a refreshed `{}` session failed: {e}", self.provider),
        }
        if spent.is_some() {
            hooks.on_token_update(&session.login, &login).await;
        }
        Ok(Session {
            login: Arc::new(login),
            id: session.id.clone(),
        })
    }

    async fn refresh_once<H: Hooks + ?Sized>(
        &self,
        jar: &CookieJar<'_>,
        session: &Session,
        flow: &dyn Flow,
        http: &HttpClient,
        hooks: &H,
    ) -> Result<Session, NotRefreshed> {
        let locked = match (&self.store, &session.id) {
            (Some(store), Some(id)) => {
                if let Some(fresh) = self.reread(session).await {
                    return Ok(fresh);
                }
                match self.lock(store.as_ref(), session, id).await {
                    Locked::Yes => Some((store, id)),
                    Locked::Refreshed(fresh) => return Ok(fresh),
                    Locked::Failed => return Err(NotRefreshed::Unavailable),
                }
            }
            _ => None,
        };
        let refreshed = match self.renew(flow, http, &session.login.credentials).await {
            Ok(renewed) => self.land(jar, session, renewed, (flow, http), hooks).await,
            Err(e) if e.refresh_refused() => match self.reread(session).await {
                // Another instance rotated the refresh token first.
                Some(fresh) => Ok(fresh),
                None => {
                    log::info!(
                        "`{}` refused to refresh a session ({e}): the visitor is logged out",
                        self.provider
                    );
                    self.end(jar).await;
                    Err(NotRefreshed::Ended)
                }
            },
            Err(e) => {
                log::warn!("refreshing a `{}` session failed: {e}", self.provider);
                Err(NotRefreshed::Unavailable)
            }
        };
        if let Some((store, id)) = locked {
            if let Err(e) = store.unlock(id).await {
                log::error!("unlocking a `{}` session failed: {e}", self.provider);
            }
        }
        refreshed
    }
}
