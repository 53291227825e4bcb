//! `mfaexec credential-process`: the session as the credential_process JSON (AWS-RULES §8), so
//! that a profile with `credential_process = mfaexec credential-process prod` gives the AWS CLI,
//! every SDK and Terraform the same cached session, with no wrapper.
//!
//! SDKs run it with stdout and stderr captured and stdin not inherited: the prompt is on
//! `/dev/tty` (src/mfa.rs), and with neither a terminal nor a cached session it fails at once.
//! Processes started together share one prompt through the cache's lock.

use crate::cli::{CredentialProcessArgs, Format};
use crate::error::{Error, Result};
use crate::mfa;
use crate::output::{shell, vars};
use crate::sys::environ::Environment;

/// `mfaexec`'s own run, not mfaexec-core's: `run` for a session the cache holds, as
/// `exec::run_cached`. `None`, having printed and changed nothing, in every other case.
pub fn run_cached(args: &CredentialProcessArgs, env: &Environment) -> Option<Result<()>> {
    let (plan, session) = super::cached(&args.session, env)?;
    let text = shell::render(Format::Json, &vars::for_session(&plan, &session)).ok()?;
    super::hit_said(env);
    Some(crate::output::print_stdout(&text))
}

pub fn run(
    args: &CredentialProcessArgs,
    env: &Environment,
    terminal: crate::sys::tty::Terminal,
) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.session.dry_run {
        return crate::output::print_stdout(&crate::output::report::dry_run_report(
            &plan,
            &args.session,
            env,
        )?);
    }
    let session = crate::session::session(&plan, &args.session, env, crate::sys::tty::Asking::Terminal(terminal)).map_err(|e| {
        // The generic hint (-t CODE) is no help in a config file: the code changes every 30s.
        match &plan.mfa {
            Some(m) if e == mfa::no_terminal(&m.serial) => Error::new(format!(
                "profile `{}` has no cached session, and an MFA code is needed for {}, but there is no terminal to ask on",
                plan.profile, m.serial
            ))
            .hint(format!(
                "run `mfaexec credential-process {0}` once in a terminal (the session is cached for its lifetime), or set mfa_process in profile `{0}`",
                plan.profile
            )),
            _ => e,
        }
    })?;
    let text = shell::render(Format::Json, &vars::for_session(&plan, &session))?;
    crate::output::print_stdout(&text)
}
