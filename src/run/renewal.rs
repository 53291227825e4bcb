//! A `--server` renewal: the session obtained as `mfaexec PROFILE` would, with `Asking::Never`
//! (the terminal is the command's), and what came of it. "Only the user could renew" (a typed
//! code, the key file's passphrase) is its own result, remembered with the look of the session
//! cache it was found with: until the cache changes, requests start no renewal and open no key
//! source (issue 18, defect 5).

use std::time::{Instant, SystemTime};

use crate::cli::SessionArgs;
use crate::config::profile::Plan;
use crate::creds::Session;
use crate::error::{Class, Error};
use crate::session::{self as obtain, cache};
use crate::sys::environ::Environment;
use crate::sys::tty::Asking;

/// "Only the user could renew", and the look of the session cache it was found with.
pub struct Remembered {
    pub stamp: Option<SystemTime>,
    pub at: Instant,
}

/// What renewing needs: the plan, and the session arguments (without -t and -r).
pub struct Renewal {
    pub plan: Plan,
    pub args: SessionArgs,
    pub env: Environment,
    /// A chain's first hop when there is no cache.
    pub memory: obtain::Memory,
    /// A session cache is in use: a session that `mfaexec PROFILE -r` caches elsewhere reaches
    /// the endpoint. Without one, only a new run can.
    pub cached: bool,
}

pub enum Renewed {
    Session(Session),
    /// Only the user could renew the session: `what` (a typed code, the key file's passphrase),
    /// found when the cache looked like `stamp`.
    NeedsUser {
        what: &'static str,
        hint: Option<String>,
        stamp: Option<SystemTime>,
    },
    Failed(Error),
}

impl Renewal {
    /// `stamp`: the look of the cache before the renewal read it.
    pub fn obtain(&self, stamp: Option<SystemTime>) -> Renewed {
        match obtain::session_remembering(
            &self.plan,
            &self.args,
            &self.env,
            Some(&self.memory),
            Asking::Never,
        ) {
            Ok(session) => Renewed::Session(session),
            Err(e) => match e.class_of() {
                Class::NeedsUser { what } => Renewed::NeedsUser {
                    what,
                    hint: e.hint_text().map(str::to_owned),
                    stamp,
                },
                _ => Renewed::Failed(e),
            },
        }
    }

    /// The cache directory's modification time: a session written there by another run
    /// (`mfaexec PROFILE -r`) changes it. `None` without a cache: nothing can change then.
    pub fn cache_stamp(&self) -> Option<SystemTime> {
        if !self.cached {
            return None;
        }
        let dir = cache::Cache::dir(&self.env).ok()?;
        std::fs::metadata(dir).and_then(|m| m.modified()).ok()
    }
}
