//! One file per subcommand; this module holds the flow they share: profile → plan → session.

pub mod env;
pub mod exec;

use std::time::Duration;

use crate::cli::SessionArgs;
use crate::environ::Environment;
use crate::error::{Error, Result};
use crate::profile::{self, Plan, Request};
use crate::session::Session;
use crate::vars::{self, Vars};
use crate::{limits, mfa, sts};

/// How many codes a prompting user may try when STS says one is wrong or used.
const CODE_TRIES: usize = 3;
const DEFAULT_STS_TIMEOUT: u64 = 30;

/// Writes to stdout; a reader that went away (`mfaexec env prod | head -1`) ends the output
/// quietly, as for any Unix filter, instead of a panic.
pub fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}

pub fn log_to_stderr(verbose: bool) -> impl Fn(&str) {
    move |text: &str| {
        if verbose {
            eprintln!("mfaexec: {text}");
        }
    }
}

/// Reads the files and settles the plan; no network.
pub fn plan(args: &SessionArgs, env: &Environment) -> Result<Plan> {
    let name = profile::profile_name(args.profile.as_deref(), env)?;
    let set = profile::load(env, name)?;
    let plan = profile::resolve(
        &set,
        &Request {
            profile: name,
            duration: args.duration.as_deref(),
            region: args.region.as_deref(),
        },
        env,
    )?;
    let code_needed = plan.mfa.is_some();
    if let Some(code) = &args.token_code {
        mfa::from_flag(code)?;
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

/// Gets the session: asks for the code (unless given), calls STS, and asks again after a
/// refused code when the user is at the terminal.
pub fn session(plan: &Plan, args: &SessionArgs, env: &Environment) -> Result<Session> {
    let log = log_to_stderr(args.verbose);
    for note in &plan.notes {
        eprintln!("mfaexec: {note}");
    }
    let timeout = sts_timeout(env)?;
    let prompting = plan.mfa.is_some() && args.token_code.is_none();
    let mut code = match (&plan.mfa, &args.token_code) {
        (None, _) => None,
        (Some(_), Some(flag)) => Some(mfa::from_flag(flag)?),
        (Some(m), None) => Some(mfa::prompt(&m.serial)?),
    };
    let mut tries = 1;
    loop {
        match sts::obtain(plan, code.as_deref(), timeout, &log) {
            Ok(session) => return Ok(session),
            Err(sts::Failure::InvalidCode(e)) if prompting && tries < CODE_TRIES => {
                tries += 1;
                mfa::say(&format!(
                    "mfaexec: {}; {}",
                    e.message(),
                    "wait for the next code"
                ));
                let serial = &plan
                    .mfa
                    .as_ref()
                    .expect("prompting implies a serial")
                    .serial;
                code = Some(mfa::prompt(serial)?);
            }
            Err(failure) => return Err(failure.into_error()),
        }
    }
}

fn sts_timeout(env: &Environment) -> Result<Duration> {
    match env.get("MFAEXEC_STS_TIMEOUT") {
        None => Ok(Duration::from_secs(DEFAULT_STS_TIMEOUT)),
        Some(text) => match limits::parse(text) {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            Ok(_) => Err(Error::new("MFAEXEC_STS_TIMEOUT: must be more than 0s")),
            Err(e) => Err(Error::new(format!("MFAEXEC_STS_TIMEOUT: {e}"))),
        },
    }
}

/// The `--dry-run` report: what would be called, with what, for how long, and what the child
/// would get (secrets masked). Nothing secret is in a plan's printable parts.
pub fn dry_run_report(plan: &Plan, args: &SessionArgs) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<11} {text}\n"));
    let keys = &plan.source.keys;
    let mut chain: Vec<String> = plan
        .hops
        .iter()
        .rev()
        .map(|h| format!("`{}` (role {})", h.profile, h.role_arn))
        .collect();
    chain.push(format!(
        "{} ({} key {})",
        plan.source.describe(),
        if keys.is_temporary() {
            "temporary"
        } else {
            "long-term"
        },
        keys.access_key_id
    ));
    line("profile", plan.profile.clone());
    line("chain", chain.join(" <- "));
    let code_from = match (&plan.mfa, &args.token_code) {
        (None, _) => "no MFA".to_owned(),
        (Some(m), Some(_)) => format!(
            "MFA {} (from profile `{}`), code from --token-code",
            m.serial, m.profile
        ),
        (Some(m), None) => format!(
            "MFA {} (from profile `{}`), code asked on the terminal",
            m.serial, m.profile
        ),
    };
    if plan.hops.is_empty() {
        line(
            "call",
            format!(
                "sts:GetSessionToken with key {} of {}; {code_from}",
                keys.access_key_id,
                plan.source.describe()
            ),
        );
    }
    for (i, hop) in plan.hops.iter().enumerate() {
        let signer = if i == 0 {
            format!(
                "key {} of {}; {code_from}",
                keys.access_key_id,
                plan.source.describe()
            )
        } else {
            format!("the session of {}", plan.hops[i - 1].role_arn)
        };
        let mut extra = format!("session name {}", hop.session_name);
        if let Some(x) = &hop.external_id {
            extra.push_str(&format!(", external id {x}"));
        }
        if let Some(s) = &hop.source_identity {
            extra.push_str(&format!(", source identity {s}"));
        }
        line(
            "call",
            format!("sts:AssumeRole {} with {signer}; {extra}", hop.role_arn),
        );
    }
    line(
        "duration",
        format!(
            "{} ({}s) from {}; limit {}: {}",
            limits::format(plan.duration.secs),
            plan.duration.secs,
            plan.duration.origin,
            limits::format(plan.call.max()),
            plan.call.rule()
        ),
    );
    for note in &plan.notes {
        line("note", note.clone());
    }
    line(
        "region",
        match &plan.region {
            Some(r) => format!("{} (from {})", r.value, r.from),
            None => format!("{} (none configured)", profile::DEFAULT_REGION),
        },
    );
    line(
        "endpoint",
        match &plan.endpoint {
            Some(e) => format!("{} (from {})", e.value, e.from),
            None => format!("{} (default)", sts::endpoint_text(plan)),
        },
    );
    let placeholder = Session {
        keys: crate::session::Keys {
            access_key_id: "<from STS>".into(),
            secret_access_key: crate::session::Secret::new("****"),
            session_token: Some(crate::session::Secret::new("****")),
        },
        expiration: 0,
    };
    let Vars { unset, set } = vars::for_session(plan, &placeholder);
    line("unset", unset.join(" "));
    for (name, value) in set {
        let shown = if name == "AWS_CREDENTIAL_EXPIRATION" {
            "<from STS>".to_owned()
        } else {
            value
        };
        line("set", format!("{name}={shown}"));
    }
    out
}
