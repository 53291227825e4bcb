//! `mfaexec init <shell>`: prints the shell integration. The scripts are real files in `shell/`,
//! linted and run in the real shells by the tests, and embedded here as they are.

use crate::cli::{InitArgs, Shell};
use crate::error::Result;
use crate::sys::environ::Environment;

pub const BASH: &str = include_str!("../../shell/mfaexec.bash");
pub const ZSH: &str = include_str!("../../shell/mfaexec.zsh");
pub const FISH: &str = include_str!("../../shell/mfaexec.fish");

pub fn run(args: &InitArgs, _env: &Environment) -> Result<()> {
    crate::output::print_stdout(script(args.shell))
}

pub fn script(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CR would reach the shell as part of a word (`then\r`), so the files must keep LF
    /// endings whatever a checkout does.
    #[test]
    fn scripts_have_lf_line_endings_and_end_in_a_newline() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell);
            assert!(!text.contains('\r'), "{shell:?}: CR in the script");
            assert!(text.ends_with('\n'), "{shell:?}: no final newline");
        }
    }
}
