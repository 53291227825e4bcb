//! A `--server` renewal: the session obtained as `mfaexec PROFILE` would, with `Asking::Never`
//! (the terminal is the command's), and what came of it. "Only the user could renew" (a typed
//! code, the key file's passphrase) is its own result, remembered with the look of the session
//! cache it was found with: until the cache changes, requests start no renewal and open no key
//! source (issue 18, defect 5).
//!
//! A provider source (IAM Identity Center, `aws login`) whose token has expired is the same
//! case: only the user can sign in again (`aws sso login`, `aws login`). The renewal names that command and never runs it,
//! even with `--sso-login`: signing in takes the foreground's `Terminal` (aws/sso.rs), which
//! cannot cross to the renewal's thread (it is not `Send`; `Renewal` is, below), and the
//! renewal asks with `Asking::Never`.

use std::time::{Instant, SystemTime};

use crate::cli::SessionArgs;
use crate::config::profile::{Plan, SourceKind};
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
    /// A renewal of `plan`'s session with the options it was first obtained with, but never
    /// `-t`, `-r` or `--dry-run`: a code is single-use, and a renewal takes what is cached.
    pub fn new(
        plan: &Plan,
        args: &SessionArgs,
        env: &Environment,
        memory: obtain::Memory,
    ) -> Renewal {
        let mut args = args.clone();
        args.refresh = false;
        args.token_code = None;
        args.dry_run = false;
        Renewal {
            plan: plan.clone(),
            args,
            env: env.clone(),
            memory,
            cached: matches!(cache::Cache::open(env), Ok(Some(_))),
        }
    }

    /// What the user does so that the next renewal succeeds.
    pub fn again(&self) -> String {
        let profile = &self.plan.profile;
        if let Some(command) = self.sign_in_command() {
            format!("run `{command}`, and the endpoint renews by itself")
        } else if self.cached {
            format!(
                "run `mfaexec {} -r` in another terminal",
                shell_words::quote(profile)
            )
        } else {
            "the session cache is off (MFAEXEC_CACHE), so the run must be restarted".to_owned()
        }
    }

    /// The line the daemon leaves for the next mfaexec command the user runs, in any terminal:
    /// `mfaexec: prod needs a new MFA code: mfaexec prod -r`.
    pub fn notice(&self, what: &str) -> String {
        let profile = &self.plan.profile;
        let command = self
            .sign_in_command()
            .unwrap_or_else(|| format!("mfaexec {} -r", shell_words::quote(profile)));
        let what = if what.contains("code") {
            "a new MFA code".to_owned()
        } else {
            what.to_owned()
        };
        format!("mfaexec: {profile} needs {what}: {command}")
    }

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
                // The error's hint offers --sso-login, which a renewal never acts on.
                Class::NeedsUser { what } if self.sign_in_command().is_some() => {
                    Renewed::NeedsUser {
                        what,
                        hint: Some(
                            "under --server mfaexec never runs a sign-in (it opens a browser), even with --sso-login"
                                .to_owned(),
                        ),
                        stamp,
                    }
                }
                Class::NeedsUser { what } => Renewed::NeedsUser {
                    what,
                    hint: e.hint_text().map(str::to_owned),
                    stamp,
                },
                _ => Renewed::Failed(e),
            },
        }
    }

    /// The command that signs the source in again, when only a sign-in renews it: the user
    /// runs it, and the next renewal finds the new token.
    pub fn sign_in_command(&self) -> Option<String> {
        match &self.plan.source.kind {
            SourceKind::Sso(sso) => Some(sso.login_command()),
            SourceKind::Login(login) => Some(login.login_command()),
            _ => None,
        }
    }

    /// The cache directory's modification time: a session written there by another run
    /// (`mfaexec PROFILE -r`) changes it; and the sign-in token's, which `aws sso login`
    /// rewrites. `None` without either: nothing can change then.
    pub fn cache_stamp(&self) -> Option<SystemTime> {
        let modified =
            |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let token = match &self.plan.source.kind {
            SourceKind::Sso(sso) => {
                crate::config::sso_token::path(&self.env, sso).and_then(|p| modified(&p))
            }
            SourceKind::Login(login) => {
                crate::config::login_token::path(&self.env, login).and_then(|p| modified(&p))
            }
            _ => None,
        };
        let cache = if self.cached {
            cache::Cache::dir(&self.env).ok().and_then(|d| modified(&d))
        } else {
            None
        };
        cache.max(token)
    }
}

/// The renewal crosses to a thread of its own: it holds nothing that may not (a `Terminal`).
const _: () = {
    const fn sendable<T: Send + Sync>() {}
    sendable::<Renewal>();
};
