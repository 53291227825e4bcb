//! `--sso-login`: the AWS CLI's own sign-in (`aws sso login ...`, `aws login --profile P`) run
//! for the user, the AWS CLI on the PATH mfaexec was given, with mfaexec's environment, its
//! output on stderr (stdout may be an `env` script or a credential_process answer). It takes
//! the `Terminal`, which only a run with the user in front of it has: a `--server` renewal
//! cannot open a browser sign-in. Also the token check of those sources, before any call:
//! the two share its errors' shape, naming the profile and the command that signs in again.

use crate::error::{Class, Error, Result};
use crate::sys::environ::Environment;
use crate::sys::tty::Terminal;

/// A source whose token only the AWS CLI's sign-in makes (IAM Identity Center, `aws login`),
/// as its errors name it.
pub struct SignIn<'a> {
    pub profile: &'a str,
    /// The command that signs in again: `aws sso login --sso-session corp`.
    pub command: String,
    /// The hint of every error here.
    pub hint: String,
    /// The token file, else where such files are kept.
    pub place: String,
    /// What the token is called: "IAM Identity Center token".
    pub token: &'static str,
    /// Said of a token that has ended, before the command: "the IAM Identity Center token has
    /// expired: run".
    pub ended: &'static str,
    /// What only the user can give (`Class::NeedsUser`).
    pub what: &'static str,
}

impl SignIn<'_> {
    /// Refuses a missing token, or one that has expired with nothing to renew it. `token`: its
    /// expiry (Unix seconds) and whether the SDK can renew it, as its file says.
    pub fn check(&self, token: Option<(i64, bool)>) -> Result<()> {
        match token {
            None => Err(Error::new(format!(
                "profile `{}`: no {} ({}): sign in with `{}`",
                self.profile, self.token, self.place, self.command
            ))
            .hint(self.hint.clone())),
            Some((expires, refreshable)) if expires <= crate::sys::time::now() && !refreshable => {
                Err(self.ended())
            }
            Some(_) => Ok(()),
        }
    }

    /// Only the user can sign in again: under `--server` this is handled like a typed MFA code.
    pub fn ended(&self) -> Error {
        Error::new(format!(
            "profile `{}`: {} `{}`",
            self.profile, self.ended, self.command
        ))
        .hint(self.hint.clone())
        .class(Class::NeedsUser { what: self.what })
    }

    /// Runs the sign-in command (`--sso-login`).
    pub fn run(&self, env: &Environment, user: Terminal) -> Result<()> {
        run(self.profile, &self.command, &self.hint, env, user)
    }
}

/// Runs `command` (`aws ...`) for `profile`; `hint` is the failure's hint.
fn run(profile: &str, command: &str, hint: &str, env: &Environment, _user: Terminal) -> Result<()> {
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
