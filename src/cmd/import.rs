//! `mfaexec import [PROFILE]... | --all`: moves long-term keys from the credentials file into
//! the key store. For each profile: write to the store, read the key back and compare, and only
//! then delete the two key lines from the file (byte-preserving, under its lock). A crash at any
//! point leaves the key in the file, in the store, or in both; never in neither. No copy or
//! backup of the file is made.

use std::time::Duration;

use crate::cli::ImportArgs;
use crate::config::profile;
use crate::creds::Keys;
use crate::error::{Error, Result};
use crate::keys::{self, Store};
use crate::output::credfile::CredFile;
use crate::sys::environ::Environment;

const FILE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(
    args: &ImportArgs,
    env: &Environment,
    terminal: crate::sys::tty::Terminal,
) -> Result<()> {
    // Every name is checked before a file is read or anything written: a name the index cannot
    // hold, refused after the store was written, broke the file store (issue 18, defect 3).
    for name in &args.profiles {
        super::add::check_profile_name(name)?;
    }
    let file = CredFile::locate(env)?;
    let set = profile::load(env, args.profiles.first().map_or("default", String::as_str))?;
    let names: Vec<String> = if args.all {
        let mut found = Vec::new();
        for name in profile::names(&set) {
            if file.keys_of(&name)?.is_some() && !has_token(&set, &name) {
                found.push(name);
            }
        }
        if found.is_empty() {
            return Err(Error::new(format!(
                "{} holds no long-term keys to import",
                file.describe()
            )));
        }
        found
    } else {
        args.profiles.clone()
    };
    // Every profile is checked before anything moves.
    let mut moves: Vec<(String, Keys)> = Vec::new();
    for name in &names {
        super::add::check_profile_name(name)?;
        let Some((id, secret)) = file.keys_of(name)? else {
            let why = if profile::has_file_keys(&set, name) {
                "its keys are in the config file, not in the credentials file"
            } else if set.get_profile(name).is_none() {
                "it does not exist"
            } else {
                "it has no aws_access_key_id and aws_secret_access_key there"
            };
            return Err(Error::new(format!(
                "profile `{name}`: nothing to import from {}: {why}",
                file.describe()
            ))
            .hint("`mfaexec list` shows where each profile's keys are"));
        };
        file.check_one_key(name)?;
        if has_token(&set, name) {
            return Err(Error::new(format!(
                "profile `{name}` holds temporary credentials (aws_session_token): only long-term keys are imported"
            )));
        }
        let keys = Keys {
            access_key_id: id,
            secret_access_key: secret,
            session_token: None,
        };
        keys::check_keys(&keys)
            .map_err(|e| Error::new(format!("profile `{name}`: {}", e.message())))?;
        if let Some(record) = keys::index::lookup(env, name)? {
            refuse_other_key(name, &keys, &record.access_key_id, record.store.name())?;
        }
        moves.push((name.clone(), keys));
    }
    let store = Store::open(env, crate::sys::tty::Asking::Terminal(terminal))?;
    for (name, keys) in &moves {
        if let Some(held) = store.get(name)? {
            refuse_other_key(name, keys, &held.access_key_id, store.name())?;
        }
    }
    for (name, keys) in &moves {
        store.set(name, keys)?;
        match store.get(name)? {
            Some(back) if &back == keys => {}
            _ => {
                return Err(Error::new(format!(
                    "profile `{name}`: the {} store did not give back the key just written; it stays in {}",
                    store.name(),
                    file.describe()
                ))
                .hint("check the store (is it unlocked? full?), then run mfaexec import again"));
            }
        }
        // A profile defined only by its credentials section must still exist once that
        // section is gone or left with comments only: it then gets a section in the config
        // file, as `add` gives one.
        let in_config = super::add::in_config(env, name)?;
        if !file.remove_keys(name, keys, FILE_LOCK_TIMEOUT)? {
            return Err(Error::new(format!(
                "profile `{name}`: {} changed while importing; key {} is now in the {} store, and the file was left as it is",
                file.describe(),
                keys.access_key_id,
                store.name()
            ))
            .hint(format!("look at the file, then run `mfaexec import {name}` again")));
        }
        if !in_config && !file.has_properties(name)? {
            super::add::add_config_section(env, name)?;
        }
        crate::say!(
            "mfaexec: moved key {} of profile `{name}` from {} into the {} store",
            keys.access_key_id,
            file.describe(),
            store.name()
        );
    }
    Ok(())
}

/// A different key already stored for the profile is never overwritten (it may be the one
/// that works): the user removes it first, as `add` asks.
fn refuse_other_key(name: &str, keys: &Keys, stored_id: &str, store: &str) -> Result<()> {
    if stored_id == keys.access_key_id {
        return Ok(());
    }
    Err(Error::new(format!(
        "profile `{name}`: the {store} store already holds key {stored_id}, and the credentials file has {}; nothing was imported",
        keys.access_key_id
    ))
    .hint(format!(
        "if {} is the key to keep, delete {stored_id} first with `mfaexec remove {name}`, then import again",
        keys.access_key_id
    )))
}

fn has_token(set: &aws_config::profile::ProfileSet, name: &str) -> bool {
    set.get_profile(name)
        .and_then(|p| p.get("aws_session_token"))
        .is_some_and(|v| !v.trim().is_empty())
}
