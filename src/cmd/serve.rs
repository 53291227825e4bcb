//! `mfaexec serve`: the credentials daemon (run/daemon.rs). It takes no `Terminal`: nothing it
//! runs can prompt.

use crate::cli::ServeArgs;
use crate::error::Result;
use crate::run::daemon::{self, Action};
use crate::sys::environ::Environment;

pub fn run(args: &ServeArgs, env: &Environment) -> Result<()> {
    let action = if args.status {
        Action::Status
    } else if args.stop {
        Action::Stop
    } else if args.revoke {
        Action::Revoke
    } else if args.background {
        Action::Background {
            verbose: args.verbose,
        }
    } else {
        Action::Foreground {
            verbose: args.verbose,
        }
    };
    daemon::run(action, env, args.detached)
}
