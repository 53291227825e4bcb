//! `mfaexec` hands every run that is not a cache hit to `mfaexec-core`: the same arguments
//! (argv[0] included) and the same environment, by exec, so that the user sees one program.
//!
//! mfaexec-core is looked for beside the real path of the running `mfaexec` (where
//! `cargo install` puts both), then in `../libexec/mfaexec/` from there (where the Debian
//! package puts it). Nothing else is searched, neither PATH nor a variable: mfaexec-core is
//! trusted with the keys as much as `mfaexec` is, so it must come from where `mfaexec` came from.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use crate::error::{EXIT_NOT_FOUND, Error};

/// The program that does everything.
pub const CORE: &str = "mfaexec-core";

/// Becomes mfaexec-core; returns only the error of one that could not be started.
pub fn to_core(args: &[OsString]) -> Error {
    let error = match core_path() {
        Ok(path) => {
            crate::sys::coredump::restore_for_exec();
            let mut command = Command::new(&path);
            if let Some((argv0, rest)) = args.split_first() {
                command.arg0(argv0).args(rest);
            }
            Error::exec_failed(path.display(), &command.exec())
        }
        Err(e) => e,
    };
    error.hint(format!(
        "{CORE} does everything but a cache hit, and is installed beside mfaexec: install both (`cargo install mfaexec` and the Debian package do)"
    ))
}

/// Where mfaexec-core is: the first of the places above that holds a file.
fn core_path() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::new(format!(
            "cannot find {CORE}: where mfaexec runs from is not known: {e}"
        ))
    })?;
    // The real path: a symbolic link to mfaexec (in ~/bin, say) leads to mfaexec-core's place.
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    let [beside, libexec] = [dir.join(CORE), dir.join("../libexec/mfaexec").join(CORE)];
    if beside.is_file() {
        return Ok(beside);
    }
    if libexec.is_file() {
        return Ok(libexec);
    }
    Err(Error::new(format!(
        "cannot find {CORE}: neither {} nor {} exists",
        beside.display(),
        libexec.display()
    ))
    .exit_code(EXIT_NOT_FOUND))
}
