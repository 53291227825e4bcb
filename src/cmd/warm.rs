//! `mfaexec warm PROFILE... | --all` (issue 19): every named profile's session now, one after
//! another, so that the rest of the day needs no code. A session still cached is kept; a chain
//! whose first hop is cached (by an earlier profile of this run, too) needs no code; every other
//! session with MFA gets a code of its own (`mfa::window`: a device takes a code once). A code
//! STS refuses is asked again, as a normal run does, but never one handed out before. A table
//! of each profile's session ends the run; one that failed is in it, and makes the exit code 1.

use std::io::Write;
use std::time::Duration;

use clap::{Args, FromArgMatches};

use crate::cli::{SessionArgs, WarmArgs};
use crate::config::limits;
use crate::config::profile::{self, Mfa, Plan, Request};
use crate::error::{Error, Result};
use crate::mfa::window::{CodeFrom, Codes};
use crate::session::{self, CodeSource, cache::Cache};
use crate::sys::environ::Environment;
use crate::sys::time::{local_time, now};
use crate::sys::tty::{Asking, EXIT_INTERRUPTED, Terminal};

/// Where a profile's session came from.
enum Origin {
    Cache,
    /// Chained on from the cached session of this profile.
    Chain(String),
    Code(CodeFrom),
    /// A profile without MFA (a session token from keys alone).
    NoMfa,
}

struct Row {
    profile: String,
    outcome: std::result::Result<(i64, Origin), String>,
}

pub fn run(args: &WarmArgs, env: &Environment, terminal: Terminal) -> Result<()> {
    limits::check_settings(env)?;
    let step = limits::setting(env, &limits::TOTP_STEP)?;
    let process_timeout = limits::setting(env, &limits::MFA_PROCESS_TIMEOUT)?;
    let Some(cache) = Cache::open(env)? else {
        return Err(Error::new(
            "warm keeps the sessions in the session cache, which MFAEXEC_CACHE=off switches off",
        )
        .hint("unset MFAEXEC_CACHE to warm sessions"));
    };
    let names = if args.all {
        profiles_to_warm(env)?
    } else {
        let mut names: Vec<String> = Vec::new();
        for name in &args.profiles {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    };
    if names.is_empty() {
        return Err(Error::new(
            "no profile has a role_arn or an mfa_serial to warm",
        ));
    }
    let mut codes = Codes::new(
        Duration::from_secs(step),
        Duration::from_secs(process_timeout),
    );
    let mut rows = Vec::new();
    for name in names {
        let outcome = match warm(&name, args, env, &cache, &mut codes, terminal) {
            Ok(got) => Ok(got),
            // Ctrl-C at a prompt stops the run, not only this profile.
            Err(e) if e.code() == EXIT_INTERRUPTED => return Err(e),
            Err(e) => {
                let named = if e.message().starts_with(&format!("profile `{name}`")) {
                    e.message().to_owned()
                } else {
                    format!("profile `{name}`: {}", e.message())
                };
                let mut shown = Error::new(named);
                if let Some(hint) = e.hint_text() {
                    shown = shown.hint(hint);
                }
                let _ = std::io::stderr().write_all(shown.render().as_bytes());
                Err(e.message().to_owned())
            }
        };
        rows.push(Row {
            profile: name,
            outcome,
        });
    }
    let handed = hand_to_daemon(&rows, env, &cache);
    crate::output::print_stdout(&table(&rows))?;
    if let Some(line) = handed {
        crate::say!("{line}");
    }
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.profile.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{} of {} profiles not warmed: {}",
        failed.len(),
        rows.len(),
        failed.join(", ")
    )))
}

/// One profile's session, and where it came from. Whether a code is needed is decided here,
/// before asking for one: the cache, then a cached first hop, as `session::session` looks.
fn warm(
    name: &str,
    args: &WarmArgs,
    env: &Environment,
    cache: &Cache,
    codes: &mut Codes,
    terminal: Terminal,
) -> Result<(i64, Origin)> {
    let plan = profile::plan(
        env,
        &Request {
            profile: name,
            duration: None,
            region: None,
            console: false,
        },
    )?;
    let session_args = session_args(name, args.verbose);
    if let Some(expiration) = cached(&plan, env, cache)? {
        return Ok((expiration, Origin::Cache));
    }
    let ask = Asking::Terminal(terminal);
    let origin =
        if let Some((_, _, from)) = session::cached_prefix(&plan, &session_args, env, cache) {
            Origin::Chain(from)
        } else if let Some(mfa) = &plan.mfa {
            let mut source = ProfileCodes {
                codes,
                profile: name,
                mfa,
                terminal,
                tries: 0,
                from: None,
            };
            let session = session::session_with_codes(&plan, &session_args, env, ask, &mut source)?;
            // No code asked: another mfaexec cached the session while this one waited for it.
            let origin = source.from.map_or(Origin::Cache, Origin::Code);
            return Ok((session.expiration, origin));
        } else {
            Origin::NoMfa
        };
    let session = session::session(&plan, &session_args, env, ask)?;
    Ok((session.expiration, origin))
}

/// With a credentials daemon running (`mfaexec serve`), each warmed session is handed to it,
/// which then holds it until it expires; the line to say so, or why not.
fn hand_to_daemon(rows: &[Row], env: &Environment, cache: &Cache) -> Option<String> {
    let daemon = match crate::run::daemon::client::running(env) {
        Ok(Some(daemon)) => daemon,
        Ok(None) => return None,
        Err(e) => {
            return Some(format!(
                "mfaexec: the sessions were not handed to mfaexec serve: {}",
                e.message()
            ));
        }
    };
    let mut handed = Vec::new();
    for row in rows.iter().filter(|r| r.outcome.is_ok()) {
        let plan = profile::plan(
            env,
            &Request {
                profile: &row.profile,
                duration: None,
                region: None,
                console: false,
            },
        );
        let Ok(plan) = plan else { continue };
        let Some(entry) = cache.read(&crate::session::cache::key(&plan), now()) else {
            continue;
        };
        let args = session_args(&row.profile, false);
        if let Err(e) = daemon.hold(&plan, &args, env, &entry.session) {
            return Some(format!(
                "mfaexec: the session of `{}` was not handed to mfaexec serve: {}",
                row.profile,
                e.message()
            ));
        }
        handed.push(row.profile.as_str());
    }
    (!handed.is_empty()).then(|| {
        format!(
            "mfaexec: handed to mfaexec serve (pid {}): {}",
            daemon.pid,
            handed.join(", ")
        )
    })
}

/// The codes of one profile's session, from the run's `Codes`. After a refused code: typed,
/// as many tries as a normal run gives; from mfa_process, one more (a process printing wrong
/// codes would burn them for ever).
struct ProfileCodes<'a> {
    codes: &'a mut Codes,
    profile: &'a str,
    mfa: &'a Mfa,
    terminal: Terminal,
    tries: usize,
    from: Option<CodeFrom>,
}

impl CodeSource for ProfileCodes<'_> {
    fn first(&mut self) -> Result<String> {
        let (code, from) = self.codes.next(self.profile, self.mfa, self.terminal)?;
        self.tries = 1;
        self.from = Some(from);
        Ok(code)
    }

    fn after_refusal(&mut self, refused: Error) -> Result<String> {
        let tries = match &self.mfa.process {
            Some(_) => 2,
            None => session::CODE_TRIES,
        };
        if self.tries >= tries {
            return Err(match &self.mfa.process {
                Some(p) => session::process_codes_refused(refused, p, &self.mfa.serial),
                None => refused,
            });
        }
        self.tries += 1;
        let (code, from) =
            self.codes
                .after_refusal(self.profile, self.mfa, self.terminal, refused.message())?;
        self.from = Some(from);
        Ok(code)
    }
}

/// The expiry of the cached session `session::session` would hand out now: one with at least
/// the refresh window left (warm has no `--duration`, so none asks for a longer one).
fn cached(plan: &Plan, env: &Environment, cache: &Cache) -> Result<Option<i64>> {
    let window = crate::session::cache::refresh_window(env)? as i64;
    let now = now();
    Ok(cache
        .read(&crate::session::cache::key(plan), now)
        .map(|entry| entry.session.expiration)
        .filter(|expiration| expiration.saturating_sub(now) >= window))
}

/// The options of a session for `name` as the other commands get them with no flags given:
/// built by clap, so a field added to SessionArgs gets its own default here too.
fn session_args(name: &str, verbose: bool) -> SessionArgs {
    let command = SessionArgs::augment_args(clap::Command::new("warm"));
    let matches = command
        .try_get_matches_from(["warm"])
        .expect("SessionArgs parses with no arguments");
    let mut args = SessionArgs::from_arg_matches(&matches).expect("matches of its own command");
    args.profile = Some(name.to_owned());
    args.verbose = verbose;
    args
}

/// `--all`: every profile with a role_arn or an mfa_serial in its own section (one with keys
/// alone has no MFA session to keep).
fn profiles_to_warm(env: &Environment) -> Result<Vec<String>> {
    let selected = env.get("AWS_PROFILE").unwrap_or("default");
    let set = profile::load(env, selected)?;
    Ok(profile::names(&set)
        .into_iter()
        .filter(|name| {
            set.get_profile(name).is_some_and(|p| {
                ["role_arn", "mfa_serial"]
                    .iter()
                    .any(|k| p.get(k).is_some_and(|v| !v.trim().is_empty()))
            })
        })
        .collect())
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Cache => "cached".to_owned(),
        Origin::Chain(from) => format!("new, chained from the cached session of `{from}`"),
        Origin::Code(CodeFrom::Typed) => "new, with a typed code".to_owned(),
        Origin::Code(CodeFrom::Process) => "new, with a code from mfa_process".to_owned(),
        Origin::NoMfa => "new, no MFA".to_owned(),
    }
}

fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            let (expires, session) = match &r.outcome {
                Ok((expiration, origin)) => (local_time(*expiration), origin_text(origin)),
                Err(why) => ("-".to_owned(), format!("failed: {why}")),
            };
            // Escaped as stderr is: a profile name or an error text may hold control characters.
            [r.profile.clone(), expires, session]
                .map(|cell| crate::error::visible(&cell).into_owned())
        })
        .collect();
    crate::output::table(["PROFILE", "EXPIRES", "SESSION"], &cells)
}
