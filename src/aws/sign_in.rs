//! `--sso-login`: the AWS CLI's own sign-in (`aws sso login ...`, `aws login --profile P`) run
//! for the user, the AWS CLI on the PATH mfaexec was given, with mfaexec's environment, its
//! output on stderr (stdout may be an `env` script or a credential_process answer). It takes
//! the `Terminal`, which only a run with the user in front of it has: a `--server` renewal
//! cannot open a browser sign-in.

use crate::error::{Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Terminal;

/// Runs `command` (`aws ...`) for `profile`; `hint` is the failure's hint.
pub fn run(
    profile: &str,
    command: &str,
    hint: &str,
    env: &Environment,
    _user: Terminal,
) -> Result<()> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let aws = which::which_in("aws", env.get_os("PATH"), cwd).map_err(|_| {
        Error::new(format!(
            "profile `{profile}`: --sso-login runs the AWS CLI (`{command}`), but `aws` is not on PATH"
        ))
        .hint("install the AWS CLI v2, or sign in from where it is installed")
    })?;
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    crate::say!("mfaexec: profile `{profile}`: running `{command}`");
    let stderr = std::io::stderr();
    let out = std::os::fd::AsFd::as_fd(&stderr)
        .try_clone_to_owned()
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null());
    let status = std::process::Command::new(aws)
        .args(args)
        .env_clear()
        .envs(env.iter())
        .stdout(out)
        .status()
        .map_err(|e| Error::new(format!("cannot run `{command}`: {e}")))?;
    if !status.success() {
        return Err(Error::new(format!(
            "profile `{profile}`: `{command}` failed ({status})"
        ))
        .hint(hint));
    }
    Ok(())
}
