//! One session the endpoint serves, and its renewal: handed out while it is not due; once
//! due, renewed once in the background (one STS call however many requests come), the current
//! session still handed out until it really expires. What a renewal found (a new session,
//! "only the user can renew", a failure) is kept here, with what to answer meanwhile.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::{NEEDS_USER_RECHECK, QUICK_RENEWAL, RETRY_AFTER};
use crate::config::limits;
use crate::creds::Session;
use crate::error::Error;
use crate::run::renewal::{Remembered, Renewal, Renewed};

/// One session the endpoint serves and renews.
pub struct Held {
    pub renewal: Renewal,
    window: i64,
    /// Where the daemon leaves "only a typed code can renew" for the next mfaexec the user
    /// runs (`daemon::notices`); `None` under `--server`, whose stderr is the user's terminal.
    notices: Option<std::path::PathBuf>,
    /// Never held across an await: a renewal runs on a thread of its own and puts its result
    /// here, so requests (which a client may drop at any time) never own it.
    state: std::sync::Mutex<State>,
    /// Counts the renewals that ended; requests waiting for one watch it.
    renewed: watch::Sender<u64>,
}

impl Held {
    pub(crate) fn new(
        renewal: Renewal,
        session: Session,
        window: i64,
        notices: Option<std::path::PathBuf>,
    ) -> Arc<Held> {
        Arc::new(Held {
            renewal,
            window,
            notices,
            state: std::sync::Mutex::new(State::new(session)),
            renewed: watch::channel(0).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session held now (renewed or not), for `serve --status`.
    pub(crate) fn expiration(&self) -> i64 {
        self.lock().session.expiration
    }

    /// Only the user could renew it, as last found.
    pub(crate) fn needs_user(&self) -> bool {
        self.lock().needs_user.is_some()
    }

    /// Takes a session handed over by a client when it lasts longer than the one held: a user
    /// who ran `mfaexec PROFILE -r` hands a new one.
    pub(crate) fn offer(&self, session: Session) {
        let mut state = self.lock();
        if session.expiration > state.session.expiration {
            *state = State::new(session);
        }
    }
}

struct State {
    session: Session,
    /// How long the session had left when the endpoint got it.
    lifetime: i64,
    /// The "session has ended" line was printed for this session.
    ended_said: bool,
    /// When the last renewal failed for another reason than a missing code.
    failed: Option<Instant>,
    /// What the last renewal that did not succeed said: the answer once the session expired.
    last_error: Option<String>,
    /// A renewal is under way (one at a time).
    renewing: bool,
    /// Only the user could renew, as found when the cache looked like this.
    needs_user: Option<Remembered>,
}

impl State {
    fn new(session: Session) -> State {
        let lifetime = session.expiration.saturating_sub(crate::sys::time::now());
        State {
            session,
            lifetime,
            ended_said: false,
            failed: None,
            last_error: None,
            renewing: false,
            needs_user: None,
        }
    }

    /// Less than the refresh window is left. A window as long as the session itself would renew
    /// on every request; then half the session's lifetime stands in for it.
    fn due(&self, window: i64) -> bool {
        let window = if window >= self.lifetime {
            self.lifetime / 2
        } else {
            window
        };
        self.session
            .expiration
            .saturating_sub(crate::sys::time::now())
            < window
    }
}

/// The session to hand out. While it is not due, the current one. Once due, a renewal starts
/// in the background (one at a time, held by `Held`, so a client giving up cannot start a
/// second), and the current session is still handed out, after a short wait for a quick
/// renewal, until it has really expired; only then do requests wait for the renewal.
pub(super) async fn credentials(held: &Arc<Held>) -> std::result::Result<Session, String> {
    let mut renewed = held.renewed.subscribe();
    let grace = Instant::now() + QUICK_RENEWAL;
    let mut waited = false;
    loop {
        let expired = {
            let mut state = held.lock();
            if !state.due(held.window) {
                return Ok(state.session.clone());
            }
            let recently_failed = state.failed.is_some_and(|at| at.elapsed() < RETRY_AFTER);
            let needs_user = state.needs_user.as_ref().is_some_and(|r| {
                r.at.elapsed() < NEEDS_USER_RECHECK && r.stamp == held.renewal.cache_stamp()
            });
            if !state.renewing && !waited && !recently_failed && !needs_user {
                start_renewal(held, &mut state);
            }
            let expired = state.session.expiration <= crate::sys::time::now();
            if !state.renewing || (!expired && Instant::now() >= grace) {
                return if expired {
                    Err(state.last_error.clone().unwrap_or_else(|| {
                        format!(
                            "the session of profile `{}` has ended",
                            held.renewal.plan.profile
                        )
                    }))
                } else {
                    Ok(state.session.clone())
                };
            }
            expired
        };
        if expired {
            let _ = renewed.changed().await;
        } else {
            let left = grace.saturating_duration_since(Instant::now());
            let _ = tokio::time::timeout(left, renewed.changed()).await;
        }
        waited = true;
    }
}

/// Starts the renewal on a thread of its own (obtain::session blocks: a lock, an mfa_process,
/// its own runtime for STS), which puts its result in the state when it ends.
fn start_renewal(held: &Arc<Held>, state: &mut State) {
    state.renewing = true;
    let renewing = Arc::clone(held);
    let stamp = held.renewal.cache_stamp();
    let started = std::thread::Builder::new()
        .name("mfaexec-renew".into())
        .spawn(move || {
            let renewed = renewing.renewal.obtain(stamp);
            renewing.renewed(renewed);
        });
    if let Err(e) = started {
        state.renewing = false;
        held.record(
            state,
            Renewed::Failed(Error::new(format!("cannot start the renewal: {e}"))),
        );
    }
}

impl Held {
    /// The end of a renewal: its result in the state, and the waiting requests woken.
    fn renewed(&self, renewed: Renewed) {
        {
            let mut state = self.lock();
            state.renewing = false;
            self.record(&mut state, renewed);
        }
        self.renewed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn record(&self, state: &mut State, renewed: Renewed) {
        let profile = &self.renewal.plan.profile;
        match renewed {
            Renewed::Session(session) => *state = State::new(session),
            Renewed::NeedsUser { what, hint, stamp } => {
                state.needs_user = Some(Remembered {
                    stamp,
                    at: Instant::now(),
                });
                let again = self.renewal.again();
                if !state.ended_said {
                    state.ended_said = true;
                    let left = state
                        .session
                        .expiration
                        .saturating_sub(crate::sys::time::now())
                        .max(0);
                    log(&format!(
                        "mfaexec: the session of profile `{profile}` ends in {} and only {what} can renew it: {again}",
                        limits::format(left as u64)
                    ));
                    if let Some(hint) = hint {
                        log(&format!("hint: {hint}"));
                    }
                    if let Some(notices) = &self.notices {
                        crate::run::daemon::notices::leave(notices, &self.renewal.notice(what));
                    }
                }
                state.last_error = Some(format!(
                    "the session of profile `{profile}` has ended and only {what} can renew it: {again}"
                ));
            }
            Renewed::Failed(e) => {
                let message = format!(
                    "cannot renew the session of profile `{profile}`: {}",
                    e.message()
                );
                log(&format!("mfaexec: {message}"));
                if let Some(hint) = e.hint_text() {
                    log(&format!("hint: {hint}"));
                }
                state.failed = Some(Instant::now());
                state.last_error = Some(message);
            }
        }
    }
}

/// A line on stderr: the user's terminal under `--server`, the log under the daemon (whose
/// stderr is its log, and whose lines are stamped with the time there).
fn log(line: &str) {
    crate::run::daemon::log_line(line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::{Keys, Secret};

    fn state(left: i64, lifetime: i64) -> State {
        let session = Session {
            keys: Keys {
                access_key_id: "ASIAX".into(),
                secret_access_key: Secret::new("s"),
                session_token: Some(Secret::new("t")),
            },
            expiration: crate::sys::time::now() + left,
        };
        State {
            lifetime,
            ..State::new(session)
        }
    }

    #[test]
    fn due_within_the_window_or_half_a_session_shorter_than_it() {
        assert!(!state(400, 3600).due(300));
        assert!(state(200, 3600).due(300));
        // A window longer than the session would renew at every request.
        assert!(!state(2000, 3600).due(7200));
        assert!(state(1700, 3600).due(7200));
    }
}
