//! `mfaexec remove PROFILE [-f]`: deletes a profile's key from the key store, after asking on
//! the terminal, and drops the sessions cached from it (they were obtained with that key).

use crate::cli::RemoveArgs;
use crate::config::profile::{self, Request, SourceKind};
use crate::error::{Error, Result};
use crate::keys::{Store, index};
use crate::session::cache::{self, Cache};
use crate::sys::environ::Environment;

pub fn run(
    args: &RemoveArgs,
    env: &Environment,
    terminal: crate::sys::tty::Terminal,
) -> Result<()> {
    let name = args.profile.as_str();
    let record = index::lookup(env, name)?;
    let what = match &record {
        Some(r) => format!(
            "key {} of profile `{name}` from the {} store",
            r.access_key_id,
            r.store.name()
        ),
        None => format!("the key of profile `{name}` from the key store"),
    };
    if !args.force && !confirm(terminal, &format!("Delete {what}? [y/N] "))? {
        return Err(Error::new("nothing was deleted"));
    }
    // The sessions obtained with this key: found while the index still leads to it.
    let sessions = cached_sessions(name, env);
    let store = Store::open_for(name, env, crate::sys::tty::Asking::Terminal(terminal))?;
    let deleted = store.delete(name)?;
    if !deleted && record.is_none() {
        return Err(Error::new(format!(
            "profile `{name}` has no key in the {} store",
            store.name()
        ))
        .hint("`mfaexec list` shows where each profile's keys are"));
    }
    let mut dropped = 0;
    for path in sessions {
        if std::fs::remove_file(path).is_ok() {
            dropped += 1;
        }
    }
    crate::say!(
        "mfaexec: deleted {what}; dropped {dropped} cached session{}",
        if dropped == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Asks on the terminal; no terminal is a refusal with the way around it.
fn confirm(terminal: crate::sys::tty::Terminal, question: &str) -> Result<bool> {
    if !crate::sys::tty::has_terminal() {
        return Err(Error::new(
            "deleting a key needs a confirmation, and there is no terminal to ask on",
        )
        .hint("pass -f to delete without asking"));
    }
    let answer = terminal.read_line(question)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Cache entries of every profile whose keys are `name`'s stored key, and any entry written
/// for `name` itself.
fn cached_sessions(name: &str, env: &Environment) -> Vec<std::path::PathBuf> {
    let Ok(Some(cache)) = Cache::open(env) else {
        return Vec::new();
    };
    let entries = cache.entries();
    let mut keys = Vec::new();
    if let Ok(set) = profile::load(env, name) {
        for other in profile::names(&set) {
            let request = Request {
                profile: &other,
                duration: None,
                region: None,
                console: false,
            };
            if let Ok(plan) = profile::plan(env, &request)
                && matches!(&plan.source.kind, SourceKind::Store { profile, .. } if profile == name)
            {
                keys.push(cache::key(&plan));
            }
        }
    }
    entries
        .into_iter()
        .filter(|(path, entry)| {
            entry.as_ref().is_some_and(|e| e.profile == name)
                || path
                    .file_stem()
                    .is_some_and(|s| keys.iter().any(|k| s == k.as_str()))
        })
        .map(|(path, _)| path)
        .collect()
}
