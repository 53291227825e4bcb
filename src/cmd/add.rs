//! `mfaexec add PROFILE`: stores an IAM user's access key in the key store. The key is asked
//! on the terminal (the secret without echo), or read as two lines from stdin for scripts; it
//! never passes through argv or the environment. One sts:GetCallerIdentity tests it first.

use std::io::{BufRead, IsTerminal};

use crate::cli::AddArgs;
use crate::config::profile;
use crate::creds::{Keys, Secret};
use crate::error::{Error, Result};
use crate::keys::{self, Store, index};
use crate::output::credfile::CredFile;
use crate::sys::environ::Environment;
use zeroize::Zeroizing;

pub fn run(args: &AddArgs, env: &Environment, terminal: crate::sys::tty::Terminal) -> Result<()> {
    let name = args.profile.as_str();
    check_profile_name(name)?;
    let set = profile::load(env, name)?;
    if profile::has_file_keys(&set, name) {
        return Err(Error::new(format!(
            "profile `{name}` already has keys in the AWS files"
        ))
        .hint(format!(
            "move them into the key store with `mfaexec import {name}`"
        )));
    }
    if let Some(record) = index::lookup(env, name)? {
        return Err(Error::new(format!(
            "profile `{name}` already has key {} in the {} store",
            record.access_key_id,
            record.store.name()
        ))
        .hint(format!(
            "delete it first with `mfaexec remove {name}`, or replace it with `mfaexec rotate {name}`"
        )));
    }
    // The store first: a wrong MFAEXEC_STORE or no store at all is said before any input.
    let store = Store::open(env, crate::sys::tty::Asking::Terminal(terminal))?;
    let keys = read_keys(terminal)?;
    keys::check_keys(&keys)?;
    if !args.no_verify {
        let plan = profile::for_keys(env, name, keys.clone())?;
        let net = crate::aws::net::Network::load(&plan.net)?;
        let arn = crate::aws::sts::caller_identity(
            &plan,
            &keys,
            crate::session::sts_timeout(env)?,
            &net,
        )
            .map_err(|e| {
                let e = Error::new(format!("{}; nothing was stored", e.message()));
                e.hint("check the key in the IAM console (Users → you → Security credentials), or store it untested with --no-verify")
            })?;
        crate::say!("mfaexec: key {} belongs to {arn}", keys.access_key_id);
    }
    store.set(name, &keys)?;
    if set.get_profile(name).is_none() {
        add_config_section(env, name)?;
    }
    crate::say!(
        "mfaexec: stored key {} of profile `{name}` in the {} store{}",
        keys.access_key_id,
        store.name(),
        if args.no_verify {
            " (not tested: --no-verify)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Whether the config file defines profile `name` (`[profile NAME]`; `[default]` too for
/// `default`), as read now.
pub fn in_config(env: &Environment, name: &str) -> Result<bool> {
    let config = CredFile::locate_config(env)?;
    Ok(config.has_section(&format!("profile {name}"))?
        || (name == "default" && config.has_section("default")?))
}

/// Appends `[profile NAME]` (`[default]`) to the config file, so that a profile whose keys are
/// only in the store exists. Said on stderr.
pub fn add_config_section(env: &Environment, name: &str) -> Result<()> {
    let header = if name == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {name}]")
    };
    let config = CredFile::locate_config(env)?;
    config
        .add_section(&header, std::time::Duration::from_secs(30))
        .map_err(|e| {
            Error::new(format!(
                "profile `{name}`: the key is stored, but {header} could not be added to {}: {}",
                config.describe(),
                e.message()
            ))
            .hint(format!("add the line {header} to the config file by hand"))
        })?;
    crate::say!("mfaexec: added {header} to {}", config.describe());
    Ok(())
}

/// A name the AWS files can hold as a section: no brackets, spaces or control characters.
pub fn check_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"[]#;".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "`{}` is not a profile name the AWS files can hold",
            name.escape_default()
        ))
        .hint("use letters, digits and - _ . @ / (no spaces or brackets)"))
    }
}

/// The key: asked on the terminal when stdin is one, else two lines from stdin.
fn read_keys(terminal: crate::sys::tty::Terminal) -> Result<Keys> {
    let stdin = std::io::stdin();
    let (id, secret) = if stdin.is_terminal() {
        let id = terminal.read_line("Access key ID: ")?;
        let secret = terminal.read_secret("Secret access key: ", "the secret access key", 1024)?;
        (id, secret)
    } else {
        let mut lines = stdin.lock();
        let mut id = String::new();
        let mut secret = Zeroizing::new(String::new());
        lines
            .read_line(&mut id)
            .and_then(|_| lines.read_line(&mut secret))
            .map_err(|e| Error::new(format!("cannot read stdin: {e}")))?;
        (id, secret)
    };
    let id = id.trim();
    let secret = secret.trim();
    if id.is_empty() || secret.is_empty() {
        return Err(Error::new("no access key given: two lines are needed, the access key ID and then the secret access key")
            .hint("type them at the prompts, or pipe them: printf '%s\\n%s\\n' \"$ID\" \"$SECRET\" | mfaexec add PROFILE"));
    }
    Ok(Keys {
        access_key_id: id.to_owned(),
        secret_access_key: Secret::new(secret),
        session_token: None,
    })
}
