//! One file per subcommand; this module holds what they share: the plan from the command line,
//! the `--dry-run` report, output to stdout, and what `mfaexec`'s own cache hits share. Plan to session is `crate::session`.

pub mod add;
pub mod clear;
pub mod completions;
pub mod credential_process;
pub mod env;
pub mod exec;
pub mod import;
pub mod init;
pub mod list;
pub mod login;
pub mod remove;
pub mod rotate;
pub mod serve;
pub mod use_;
pub mod warm;
pub mod write;

use crate::cli::SessionArgs;
use crate::config::profile::{self, Plan, Request};
use crate::error::{Error, Result};
use crate::mfa;
use crate::sys::environ::Environment;

/// For `mfaexec`'s own runs (`exec::run_cached`, `credential_process::run_cached`): the plan
/// and the session the cache holds for it, when a hit serves this run as mfaexec-core would
/// serve it; not with -v, --dry-run or -r, whose output is mfaexec-core's. `None` otherwise,
/// having printed nothing.
fn cached(args: &SessionArgs, env: &Environment) -> Option<(Plan, crate::creds::Session)> {
    if args.dry_run || args.verbose || args.refresh {
        return None;
    }
    let plan = plan(args, env).ok()?;
    let session = crate::session::cached(&plan, args, env)?;
    Some((plan, session))
}

/// What a hit says before its own output: the SDK's warnings `mfaexec` held, and the daemon's
/// notices, as mfaexec-core says them before any command.
fn hit_said(env: &Environment) {
    crate::sys::sdklog::print_held();
    crate::run::daemon::notices::show(env);
}

/// Reads the files and settles the plan; no network.
pub fn plan(args: &SessionArgs, env: &Environment) -> Result<Plan> {
    plan_with(args, env, false)
}

/// The plan of a console sign-in: a profile without a role gets GetFederationToken.
pub fn console_plan(args: &SessionArgs, env: &Environment) -> Result<Plan> {
    plan_with(args, env, true)
}

fn plan_with(args: &SessionArgs, env: &Environment, console: bool) -> Result<Plan> {
    let name = profile::profile_name(args.profile.as_deref(), env)?;
    let plan = profile::plan(
        env,
        &Request {
            profile: name,
            duration: args.duration.as_deref(),
            region: args.region.as_deref(),
            console,
        },
    )?;
    let code_needed = plan.mfa.is_some();
    if let Some(code) = &args.token_code {
        mfa::from_flag(code)?;
        if !code_needed && plan.federation_name.is_some() {
            let mut plan = plan;
            plan.notes
                .push("--token-code is not used: GetFederationToken takes no MFA code".to_owned());
            return Ok(plan);
        }
        if !code_needed {
            return Err(Error::usage(format!(
                "--token-code was given, but profile `{}` has no mfa_serial",
                plan.profile
            ))
            .hint("add mfa_serial (your MFA device's ARN) to the profile, or leave out -t"));
        }
    }
    Ok(plan)
}
