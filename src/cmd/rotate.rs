//! `mfaexec rotate PROFILE`: replaces the IAM user's long-term access key with a new one, as
//! aws-vault's `rotate` does, so that at every step one working key is stored:
//!
//! 1. a session IAM accepts for key management: GetSessionToken with MFA when the profile has an
//!    `mfa_serial` (policies usually demand MFA for it; a cached one is reused), else the keys;
//! 2. ListAccessKeys: with two keys already there is no room for a third, so stop here;
//! 3. CreateAccessKey;
//! 4. the new key written where the old one was (byte-preserving, locked, atomic);
//! 5. GetCallerIdentity with the new key, retried while IAM propagates it (`MFAEXEC_ROTATE_WAIT`);
//! 6. DeleteAccessKey of the old key, and the cached sessions obtained with it cleared.
//!
//! A failure undoes what came before it when that is what keeps one working key stored (a new
//! key that cannot be stored, or does not work, is deleted again and the old one put back), and
//! the message names every key that exists. Only access key ids are ever shown.

use std::time::{Duration, Instant};

use crate::aws::iam::{Iam, NewKey};
use crate::aws::net::Network;
use crate::aws::sts;
use crate::cli::{RotateArgs, SessionArgs};
use crate::config::limits::{self, Call, Origin, Settled};
use crate::config::profile::{self, Plan, Request, SourceKind};
use crate::creds::Keys;
use crate::error::{Error, Result};
use crate::keys::Store;
use crate::output::credfile::CredFile;
use crate::session::cache::{self, Cache};
use crate::sys::environ::Environment;
use crate::{mfa, session as obtain};

const DEFAULT_WAIT: u64 = 15;

/// Where a key is kept: a section of the credentials or config file, or a key store.
enum Place {
    File { file: CredFile, section: String },
    Store { store: Store, profile: String },
}

impl Place {
    fn describe(&self) -> String {
        match self {
            Place::File { file, section } => format!("[{section}] of {}", file.path.display()),
            Place::Store { store, profile } => {
                format!("the {} store (profile `{profile}`)", store.name())
            }
        }
    }

    /// Whether key `id` is what this place holds now (read again, not assumed).
    fn holds(&self, id: &str) -> Result<bool> {
        match self {
            Place::File { file, section } => file.holds_key(section, id),
            Place::Store { store, profile } => {
                Ok(store.get(profile)?.is_some_and(|k| k.access_key_id == id))
            }
        }
    }

    /// Puts `to` where `from` is, only while `from` is still there.
    fn replace(&self, from: &Keys, to: &Keys, timeout: Duration) -> Result<()> {
        match self {
            Place::File { file, section } => {
                file.replace_keys(section, &from.access_key_id, to, timeout)
            }
            Place::Store { store, profile } => {
                let current = store.get(profile)?;
                if current.as_ref().map(|k| k.access_key_id.as_str())
                    != Some(from.access_key_id.as_str())
                {
                    return Err(Error::new(format!(
                        "the {} store no longer holds key {} for profile `{profile}`: it was changed meanwhile",
                        store.name(),
                        from.access_key_id
                    )));
                }
                store.set(profile, to)
            }
        }
    }
}

pub fn run(
    args: &RotateArgs,
    env: &Environment,
    terminal: crate::sys::tty::Terminal,
) -> Result<()> {
    let log = crate::error::log_to_stderr(args.verbose);
    let name = profile::profile_name(args.profile.as_deref(), env)?;
    let plan = profile::plan(
        env,
        &Request {
            profile: name,
            duration: None,
            region: args.region.as_deref(),
            console: false,
        },
    )?;
    if let Some(code) = &args.token_code {
        mfa::from_flag(code)?;
        if plan.mfa.is_none() {
            return Err(Error::usage(format!(
                "--token-code was given, but profile `{name}` has no mfa_serial"
            ))
            .hint("add mfa_serial (your MFA device's ARN) to the profile, or leave out -t"));
        }
    }
    // Where the key is, and the key itself: everything that can be refused without a call is
    // refused here. A store is opened once, here; the session below reads no store again.
    let (holder, old, places) = match &plan.source.kind {
        SourceKind::Profile(p) => {
            let old = plan
                .source
                .keys
                .clone()
                .ok_or_else(|| Error::new(format!("profile `{p}`: its keys were not read")))?;
            let places = places_of(env, p, &old)?;
            (p.clone(), old, places)
        }
        SourceKind::Store {
            profile,
            store,
            access_key_id,
        } => {
            let opened = Store::open_recorded(
                profile,
                access_key_id,
                *store,
                env,
                crate::sys::tty::Asking::Terminal(terminal),
            )?;
            let old = crate::keys::stored_keys(&opened, profile, access_key_id)?;
            let place = Place::Store {
                store: opened,
                profile: profile.clone(),
            };
            (profile.clone(), old, vec![place])
        }
        SourceKind::Process { profile, .. } => {
            return Err(Error::new(format!(
                "profile `{profile}` takes its keys from its credential_process, which mfaexec cannot write a new key into"
            ))
            .hint("rotate the key where that command reads it (your password manager or vault), or move it into mfaexec's store: mfaexec add PROFILE"));
        }
        SourceKind::Environment => {
            return Err(Error::new(format!(
                "profile `{name}` takes its keys from the environment (credential_source = Environment), which mfaexec cannot write back"
            ))
            .hint("rotate that key where it is set, or give the profile a source_profile that holds the keys"));
        }
        SourceKind::WebIdentity(w) => {
            return Err(Error::new(format!(
                "profile `{}` gets its credentials from web identity: there is no access key to rotate",
                w.profile
            ))
            .hint("web identity credentials are temporary; rotate the profile that holds an IAM user's keys"));
        }
        SourceKind::Login(l) => {
            return Err(Error::new(format!(
                "profile `{}` gets its credentials from `aws login`: there is no access key to rotate",
                l.profile
            ))
            .hint("`aws login` credentials are temporary; rotate the profile that holds an IAM user's keys"));
        }
        SourceKind::Sso(sso) => {
            return Err(Error::new(format!(
                "profile `{}` gets its credentials from IAM Identity Center: there is no access key to rotate",
                sso.profile
            ))
            .hint("IAM Identity Center's role credentials are temporary; rotate the profile that holds an IAM user's keys"));
        }
    };
    if old.is_temporary() {
        return Err(Error::new(format!(
            "profile `{holder}` holds temporary credentials (aws_session_token), not an IAM user's access key"
        ))
        .hint("rotate the profile that holds your long-term keys (aws_access_key_id starting with AKIA)"));
    }
    let mut plan = plan;
    plan.source.keys = Some(old.clone());
    let wait = rotate_wait(env)?;
    let timeout = obtain::sts_timeout(env)?;
    let set = profile::load(env, name)?;
    refuse_shared_key(env, &set, &holder, &old.access_key_id)?;
    let iam_endpoint = crate::aws::iam::endpoint(&set, env)?;
    // Proxies and the CA bundle, checked before any code is asked.
    let net = Network::load(&plan.net)?;
    let whose = if holder == name {
        format!("profile `{holder}`")
    } else {
        format!("profile `{holder}` (the source of `{name}`)")
    };
    let old_id = old.access_key_id.as_str();
    let stored = places
        .iter()
        .map(Place::describe)
        .collect::<Vec<_>>()
        .join(" and ");
    // The sessions to clear afterwards, found while the files still name the old key.
    let stale = stale_sessions(env, &set, args, old_id);

    // 1. Credentials IAM takes for key management.
    let session_plan = user_session_plan(&plan, &holder);
    let signer = match &plan.mfa {
        Some(_) => {
            let session_args = SessionArgs {
                profile: Some(holder.clone()),
                duration: None,
                token_code: args.token_code.clone(),
                region: args.region.clone(),
                refresh: false,
                dry_run: false,
                verbose: args.verbose,
                sso_login: false,
            };
            obtain::session(
                &session_plan,
                &session_args,
                env,
                crate::sys::tty::Asking::Terminal(terminal),
            )?
            .keys
        }
        None => old.clone(),
    };
    let iam = Iam::new(
        &signer,
        plan.sts_region(),
        iam_endpoint.as_ref(),
        (timeout, &net),
    )?;
    let fail = |what: String, state: String, e: &Error| {
        let mut err = Error::new(format!(
            "{whose}: rotating key {old_id}: {what}: {}; {state}",
            e.message()
        ));
        if let Some(hint) = e.hint_text() {
            err = err.hint(hint);
        }
        err
    };
    let untouched = format!("nothing was changed: {old_id} is still the key, in {stored}");

    // 2. The user's keys.
    log(&format!(
        "calling iam:ListAccessKeys signed by {}",
        signer.access_key_id
    ));
    let before = iam
        .list_access_keys()
        .map_err(|e| fail("cannot list the access keys".into(), untouched.clone(), &e))?;
    let others: Vec<&str> = before
        .iter()
        .map(|k| k.access_key_id.as_str())
        .filter(|id| *id != old_id)
        .collect();
    if before.len() >= 2 {
        return Err(Error::new(format!(
            "{whose}: the IAM user already has 2 access keys, {old_id} (in {stored}) and {}, and IAM allows no third; no key was made",
            others.join(", ")
        ))
        .hint(format!(
            "delete the key you no longer use ({}) in the IAM console (Users → you → Security credentials), then run `mfaexec rotate {name}` again",
            others.join(", ")
        )));
    }

    // 3. The new key.
    log("calling iam:CreateAccessKey");
    let new = match iam.create_access_key() {
        Ok(new) => new,
        Err(e) => {
            let state = after_failed_create(&iam, &before, old_id, &stored, &log);
            return Err(fail("IAM did not make a new key".into(), state, &e));
        }
    };
    let new_id = new.keys.access_key_id.clone();
    log(&format!("IAM made key {new_id} for user {}", new.user_name));

    // 4. Stored where the old one was.
    if let Err(e) = store(&places, &old, &new.keys, env) {
        // What each place holds now, read again: a new key still stored anywhere is not
        // deleted, since it may be the only working key left there.
        let holding = |id: &str| -> Vec<String> {
            places
                .iter()
                .filter(|p| p.holds(id).unwrap_or(false))
                .map(Place::describe)
                .collect()
        };
        let with_new = holding(&new_id);
        let with_old = holding(old_id);
        let state = if !with_new.is_empty() {
            format!(
                "{new_id} could not be taken out of {} again, so it was not deleted: both {old_id} and {new_id} exist{}",
                with_new.join(" and "),
                if with_old.is_empty() {
                    String::new()
                } else {
                    format!(", and {old_id} is in {}", with_old.join(" and "))
                }
            )
        } else if with_old.len() != places.len() {
            format!(
                "{new_id} was not deleted, and {old_id} is no longer in {}: both keys exist; check where they are stored",
                places
                    .iter()
                    .filter(|p| !p.holds(old_id).unwrap_or(false))
                    .map(Place::describe)
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        } else {
            match iam.delete_access_key(&new_id) {
                Ok(()) => format!(
                    "deleted {new_id} again, so {old_id} is the only key, still in {stored}"
                ),
                Err(d) => format!(
                    "{new_id} could not be deleted ({}), so it exists, unused and stored nowhere (delete it in the IAM console); {old_id} is still the key, in {stored}",
                    d.message()
                ),
            }
        };
        return Err(fail(
            format!("cannot store the new key {new_id}"),
            state,
            &e,
        ));
    }
    log(&format!("stored {new_id} in {stored}"));

    // 5. The new key works.
    if let Err(e) = verify(&plan, &new, wait, (timeout, &net), &log) {
        let state = match store(&places, &new.keys, &old, env) {
            Err(r) => format!(
                "{new_id} stays in {stored} (it may work in a minute) and {old_id} still exists and works, but could not be put back: {}",
                r.message()
            ),
            Ok(()) => match iam.delete_access_key(&new_id) {
                Ok(()) => format!(
                    "put {old_id} back in {stored} and deleted {new_id}, so {old_id} is the only key"
                ),
                Err(d) => format!(
                    "put {old_id} back in {stored}; {new_id} could not be deleted ({}), so it exists, unused and stored nowhere (delete it in the IAM console)",
                    d.message()
                ),
            },
        };
        let mut err = fail(
            format!(
                "the new key {new_id} did not work within {}",
                limits::format(wait.as_secs())
            ),
            state,
            &e,
        );
        err = err.hint(
            "IAM can take a while to make a new key known everywhere: try again later; MFAEXEC_ROTATE_WAIT sets how long mfaexec waits for it",
        );
        return Err(err);
    }

    // 6. The old key goes, and the sessions made with it.
    log(&format!("calling iam:DeleteAccessKey {old_id}"));
    if let Err(e) = iam.delete_access_key(old_id) {
        let state = format!(
            "{new_id} is stored in {stored} and works, and {old_id} still exists, stored nowhere"
        );
        return Err(
            fail(format!("cannot delete the old key {old_id}"), state, &e).hint(format!(
                "delete {old_id} in the IAM console (Users → you → Security credentials)"
            )),
        );
    }
    let cleared = clear_sessions(env, &stale);
    crate::say!(
        "mfaexec: {whose}: key {new_id} replaces {old_id} in {stored}; {old_id} is deleted{}",
        match cleared {
            0 => String::new(),
            1 => ", and its 1 cached session cleared".to_owned(),
            n => format!(", and its {n} cached sessions cleared"),
        }
    );
    Ok(())
}

/// Where the key of profile `holder` is written: its section of the credentials file and, when
/// the config file holds the same key, that section too. Refused before any call otherwise.
fn places_of(env: &Environment, holder: &str, old: &Keys) -> Result<Vec<Place>> {
    let key_id = old.access_key_id.as_str();
    let mut places = Vec::new();
    let mut looked = Vec::new();
    let credentials = CredFile::locate(env)?;
    let config = CredFile::locate_config(env)?;
    let mut candidates = vec![(credentials, holder.to_owned())];
    if holder == "default" {
        candidates.push((config.clone(), "profile default".to_owned()));
        candidates.push((config, "default".to_owned()));
    } else {
        candidates.push((config, format!("profile {holder}")));
    }
    for (file, section) in candidates {
        looked.push(format!("[{section}] of {}", file.path.display()));
        if file.holds_key(&section, key_id)? {
            places.push(Place::File { file, section });
        }
    }
    if places.is_empty() {
        return Err(Error::new(format!(
            "profile `{holder}`: key {key_id} is not written with its secret in {}, so mfaexec cannot put a new key in its place",
            looked.join(" or ")
        ))
        .hint("keep aws_access_key_id and aws_secret_access_key together in one section"));
    }
    Ok(places)
}

/// Refuses, before any call, a key that other profiles hold too (their own section in the
/// files, or their own line in mfaexec's store): rotating it would delete it in IAM under them
/// (issue 18, defect 9). Profiles that reach it through `source_profile` are not in the way:
/// they read the one place that is updated.
fn refuse_shared_key(
    env: &Environment,
    set: &aws_config::profile::ProfileSet,
    holder: &str,
    id: &str,
) -> Result<()> {
    let mut others = profile::file_holders_of(set, id);
    others.extend(crate::config::index::holders_of(env, id)?);
    others.retain(|p| p != holder);
    others.sort();
    others.dedup();
    if others.is_empty() {
        return Ok(());
    }
    let names = others
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (noun, them) = if others.len() == 1 {
        ("profile", "it")
    } else {
        ("profiles", "them")
    };
    Err(Error::new(format!(
        "key {id} of profile `{holder}` is also held by {noun} {names}: rotating it would leave {them} with a deleted key"
    ))
    .hint(format!(
        "keep the key in `{holder}` only, give the others `source_profile = {holder}`, then rotate again"
    )))
}

/// Replaces key `from` by `to` in every place; on a failure, the places already changed, and
/// the one that failed when it holds `to` anyway (a store written before its index failed),
/// are changed back, so all of them hold the same key.
fn store(places: &[Place], from: &Keys, to: &Keys, env: &Environment) -> Result<()> {
    let timeout = cache::lock_timeout(env)?;
    for (i, place) in places.iter().enumerate() {
        if let Err(e) = place.replace(from, to, timeout) {
            for done in places[..=i].iter().rev() {
                let _ = done.replace(to, from, timeout);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// The GetSessionToken plan of the keys' own user: the session IAM takes, with the plan's MFA
/// device, as short as STS allows. Its cache key is the one `mfaexec HOLDER` uses, so a session
/// cached today is reused and no code is asked.
fn user_session_plan(plan: &Plan, holder: &str) -> Plan {
    let root = plan
        .mfa
        .as_ref()
        .is_some_and(|m| profile::is_root_serial(&m.serial));
    Plan {
        profile: holder.to_owned(),
        hops: Vec::new(),
        federation_name: None,
        call: if root {
            Call::GetSessionTokenRoot
        } else {
            Call::GetSessionToken
        },
        duration: Settled {
            secs: 900,
            origin: Origin::Flag,
            note: None,
        },
        notes: Vec::new(),
        ..plan.clone()
    }
}

/// After a failed CreateAccessKey, which keys exist: an answer lost on the way may still have
/// made one, whose secret never arrived; that one is deleted.
fn after_failed_create(
    iam: &Iam,
    before: &[crate::aws::iam::KeyInfo],
    old_id: &str,
    stored: &str,
    log: &dyn Fn(&str),
) -> String {
    let untouched = format!("nothing was changed: {old_id} is still the key, in {stored}");
    let Ok(now) = iam.list_access_keys() else {
        return format!(
            "{old_id} is still the key, in {stored}; IAM could not be asked whether a new key was made anyway: check the IAM console"
        );
    };
    let made: Vec<String> = now
        .iter()
        .filter(|k| !before.contains(k))
        .map(|k| k.access_key_id.clone())
        .collect();
    if made.is_empty() {
        return untouched;
    }
    let mut lost = Vec::new();
    for id in &made {
        log(&format!(
            "IAM made key {id} although the answer was lost; deleting it"
        ));
        if iam.delete_access_key(id).is_err() {
            lost.push(id.clone());
        }
    }
    if lost.is_empty() {
        format!(
            "IAM made {} anyway, without the secret arriving, and it was deleted again; {old_id} is still the key, in {stored}",
            made.join(", ")
        )
    } else {
        format!(
            "IAM made {} anyway, without the secret arriving, and it could not be deleted (delete it in the IAM console); {old_id} is still the key, in {stored}",
            lost.join(", ")
        )
    }
}

/// GetCallerIdentity with the new key until it answers as the key's user, or `wait` is over.
fn verify(
    plan: &Plan,
    new: &NewKey,
    wait: Duration,
    (timeout, net): (Duration, &Network),
    log: &dyn Fn(&str),
) -> Result<()> {
    let start = Instant::now();
    let mut tries = 0u32;
    loop {
        tries += 1;
        log(&format!(
            "calling sts:GetCallerIdentity with the new key {} (try {tries})",
            new.keys.access_key_id
        ));
        let result = sts::caller_identity(plan, &new.keys, timeout, net);
        match result {
            Ok(arn) if user_of(&arn) == Some(new.user_name.as_str()) => return Ok(()),
            Ok(arn) => {
                return Err(Error::new(format!(
                    "STS says the new key belongs to {arn}, not to IAM user {}",
                    new.user_name
                )));
            }
            Err(e) => {
                let left = wait.saturating_sub(start.elapsed());
                if left.is_zero() {
                    return Err(e);
                }
                log(&format!("not yet: {}", e.message()));
                std::thread::sleep(left.min(Duration::from_secs(1)));
            }
        }
    }
}

/// `alice` from `arn:aws:iam::111111111111:user/path/alice`.
fn user_of(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next()
}

/// `MFAEXEC_ROTATE_WAIT`: how long a new key may take to work (IAM is eventually consistent).
fn rotate_wait(env: &Environment) -> Result<Duration> {
    match env.get("MFAEXEC_ROTATE_WAIT") {
        None => Ok(Duration::from_secs(DEFAULT_WAIT)),
        Some(text) => limits::parse(text).map(Duration::from_secs).map_err(|e| {
            Error::new(format!("MFAEXEC_ROTATE_WAIT: {e}")).hint("e.g. MFAEXEC_ROTATE_WAIT=30s")
        }),
    }
}

/// The cache keys, and the profile names, of every session obtained with key `old_id`: each
/// profile whose keys it is (for commands and for the console), and the user session above.
fn stale_sessions(
    env: &Environment,
    set: &aws_config::profile::ProfileSet,
    args: &RotateArgs,
    old_id: &str,
) -> (Vec<String>, Vec<String>) {
    let mut keys = Vec::new();
    let mut names = Vec::new();
    for name in profile::names(set) {
        for console in [false, true] {
            let request = Request {
                profile: &name,
                duration: None,
                region: args.region.as_deref(),
                console,
            };
            let Ok(plan) = profile::plan(env, &request) else {
                continue;
            };
            if plan.source.access_key_id() == Some(old_id) {
                keys.push(cache::key(&plan));
                keys.push(cache::key(&user_session_plan(&plan, &name)));
                if !names.contains(&name) {
                    names.push(name.clone());
                }
            }
        }
    }
    (keys, names)
}

fn clear_sessions(env: &Environment, (keys, names): &(Vec<String>, Vec<String>)) -> usize {
    let Ok(Some(cache)) = Cache::open(env) else {
        return 0;
    };
    cache
        .entries()
        .into_iter()
        .filter(|(path, entry)| {
            path.file_stem()
                .is_some_and(|s| keys.iter().any(|k| s == k.as_str()))
                || entry.as_ref().is_some_and(|e| names.contains(&e.profile))
        })
        .filter(|(path, _)| std::fs::remove_file(path).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_user_arns_only() {
        assert_eq!(
            user_of("arn:aws:iam::111111111111:user/alice"),
            Some("alice")
        );
        assert_eq!(
            user_of("arn:aws:iam::111111111111:user/team/a/alice"),
            Some("alice")
        );
        assert_eq!(user_of("arn:aws:sts::1:assumed-role/r/alice"), None);
        assert_eq!(user_of("arn:aws:iam::111111111111:root"), None);
    }
}
