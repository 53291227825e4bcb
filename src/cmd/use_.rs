//! `mfaexec use`, as the binary sees it: only when the shell integration is not loaded (with
//! it, the shell function `mfaexec` handles `use` itself, because no program can change the
//! environment of the shell that started it). So: say how to load it, and what works without.

use crate::cli::UseArgs;
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

/// What `env` sets that `use --unset` takes out again (src/vars.rs).
const SESSION_VARS: &str = "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION MFAEXEC_PROFILE AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN";

pub fn run(args: &UseArgs, env: &Environment) -> Result<()> {
    Err(not_loaded(args, env))
}

fn not_loaded(args: &UseArgs, env: &Environment) -> Error {
    let shell = env
        .get("SHELL")
        .and_then(|path| path.rsplit('/').next())
        .unwrap_or("");
    let unset = args.args.first().is_some_and(|a| a == "--unset");
    let env_args = if args.args.is_empty() {
        "PROFILE".to_owned()
    } else {
        shell_words::join(&args.args)
    };
    let posix_export = format!("eval \"$(mfaexec env {env_args})\"");
    // Without the integration, `use --unset` is the plain removal of what `env` exported.
    let (load, export, remove) = match shell {
        "fish" => (
            "add `mfaexec init fish | source` to ~/.config/fish/config.fish",
            format!("mfaexec env {env_args} --format fish | source"),
            format!("set -e -g {SESSION_VARS}"),
        ),
        "zsh" => (
            "add `eval \"$(mfaexec init zsh)\"` to ~/.zshrc",
            posix_export,
            format!("unset {SESSION_VARS}"),
        ),
        _ => (
            "add `eval \"$(mfaexec init bash)\"` to ~/.bashrc (zsh: `eval \"$(mfaexec init zsh)\"` in ~/.zshrc; fish: `mfaexec init fish | source` in config.fish)",
            posix_export,
            format!("unset {SESSION_VARS}"),
        ),
    };
    let instead = if unset { remove } else { export };
    let what = if unset { "use --unset" } else { "use" };
    Error::new(format!(
        "`mfaexec {what}` needs the shell integration, which this shell has not loaded"
    ))
    .hint(format!(
        "{load} and start a new shell; or, without it, run `{instead}`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(args: &[&str], shell: &str) -> String {
        let args = UseArgs {
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        let env = Environment::from_pairs(&[("SHELL", shell)]);
        not_loaded(&args, &env).hint_text().unwrap().to_owned()
    }

    #[test]
    fn the_hint_fits_the_users_shell_and_profile() {
        assert!(hint(&["prod"], "/bin/bash").contains("eval \"$(mfaexec init bash)\""));
        assert!(
            hint(&["prod", "-d", "2h"], "/bin/bash").contains("eval \"$(mfaexec env prod -d 2h)\"")
        );
        assert!(hint(&["prod"], "/usr/bin/zsh").contains("~/.zshrc"));
        let fish = hint(&["prod"], "/usr/local/bin/fish");
        assert!(fish.contains("mfaexec init fish | source"), "{fish}");
        assert!(
            fish.contains("mfaexec env prod --format fish | source"),
            "{fish}"
        );
        assert!(hint(&["it's"], "/bin/bash").contains(r"mfaexec env 'it'\''s'"));
        assert!(hint(&[], "/bin/bash").contains("mfaexec env PROFILE"));
        assert!(hint(&["--unset"], "/bin/bash").contains("unset AWS_ACCESS_KEY_ID "));
        assert!(hint(&["--unset"], "/usr/bin/fish").contains("set -e -g AWS_ACCESS_KEY_ID "));
    }
}
