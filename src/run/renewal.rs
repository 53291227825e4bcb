//! A `--server` renewal: the session obtained as `mfaexec PROFILE` would, with `Asking::Never`
//! (the terminal is the command's), and what came of it. "Only the user could renew" (a typed
//! code, the key file's passphrase) is its own result, found before any key source is opened.

use crate::cli::SessionArgs;
use crate::config::profile::Plan;
use crate::creds::Session;
use crate::error::{Class, Error};
use crate::session as obtain;
use crate::sys::environ::Environment;
use crate::sys::tty::Asking;

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
    /// Only the user could renew the session: `what` (a typed code, the key file's passphrase).
    NeedsUser {
        what: &'static str,
        hint: Option<String>,
    },
    Failed(Error),
}

impl Renewal {
    pub fn obtain(&self) -> Renewed {
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
                },
                _ => Renewed::Failed(e),
            },
        }
    }
}
