//! `mfaexec write`: the session into a section of the shared credentials file, for tools that
//! read nothing else (an IDE plugin, an old SDK, a daemon). The file handling is src/credfile.rs;
//! here are the refusals that need the profiles, all made before any MFA code is spent.

use aws_config::profile::ProfileSet;

use crate::cli::WriteArgs;
use crate::config::profile;
use crate::error::{Error, Result};
use crate::output::credfile::{self, CredFile};
use crate::sys::environ::Environment;
use crate::sys::time::rfc3339;

/// Keys by which a profile gets credentials some other way: keys written into its section of
/// the credentials file would be merged with them (the credentials file wins key by key).
const OTHER_SOURCES: [&str; 8] = [
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
    "login_session",
];

pub fn run(args: &WriteArgs, env: &Environment, terminal: crate::sys::tty::Terminal) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    let name = args
        .to
        .clone()
        .unwrap_or_else(|| format!("{}-mfaexec", plan.profile));
    credfile::check_name(&name)?;
    let file = CredFile::locate(env)?;
    let set = profile::load(env, &plan.profile)?;
    check_profiles(&set, &name)?;
    file.check(&name)?;
    if args.session.dry_run {
        let report = crate::output::report::dry_run_report(&plan, &args.session, env)?;
        return crate::output::print_stdout(&format!(
            "{report}{:<11} section [{name}] of {}\n",
            "write",
            file.describe()
        ));
    }
    file.check_writable()?;
    let session = crate::session::session(
        &plan,
        &args.session,
        env,
        crate::sys::tty::Asking::Terminal(terminal),
    )?;
    // The region goes into the section too: without it `AWS_PROFILE=NAME aws ...` fails with
    // "You must specify a region" when the region was in the config's [profile PROFILE]. With
    // no region set anywhere, the one mfaexec used (us-east-1), so the advice below works.
    let region = plan
        .region
        .as_ref()
        .map_or(profile::DEFAULT_REGION, |r| r.value.as_str());
    file.write_session(
        &name,
        &session,
        Some(region),
        crate::session::cache::lock_timeout(env)?,
    )?;
    crate::say!(
        "mfaexec: wrote the session of {} to [{name}] in {}; it expires {} ({}); use it with AWS_PROFILE={name}, e.g. `AWS_PROFILE={name} aws sts get-caller-identity`",
        plan.profile,
        file.describe(),
        crate::sys::time::local_time(session.expiration),
        rfc3339(session.expiration)
    );
    Ok(())
}

/// Refuses a section another profile uses as its `source_profile`, and one whose profile gets
/// credentials another way (`--to prod` would mix keys into the role profile).
fn check_profiles(set: &ProfileSet, name: &str) -> Result<()> {
    let hint = "write to another section with --to NAME (the default is PROFILE-mfaexec)";
    let users: Vec<String> = profile::names(set)
        .into_iter()
        .filter(|other| other != name)
        .filter(|other| {
            set.get_profile(other)
                .and_then(|p| p.get("source_profile"))
                .is_some_and(|source| source.trim() == name)
        })
        .collect();
    if !users.is_empty() {
        let list = users
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (them, does) = if users.len() == 1 {
            (format!("profile {list}"), "does")
        } else {
            (format!("profiles {list}"), "do")
        };
        return Err(Error::new(format!(
            "section [{name}] is the source_profile of {them}, so writing a session there would change what {} {does}",
            if users.len() == 1 { list.as_str() } else { "they" }
        ))
        .hint(hint));
    }
    if let Some(p) = set.get_profile(name)
        && let Some(key) = OTHER_SOURCES
            .iter()
            .find(|k| p.get(k).is_some_and(|v| !v.trim().is_empty()))
    {
        return Err(Error::new(format!(
            "profile `{name}` gets its credentials from {key}; keys written into [{name}] of the credentials file would be mixed with it"
        ))
        .hint(hint));
    }
    Ok(())
}
