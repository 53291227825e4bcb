//! The command mfaexec runs: its argument list, its environment (built as a value from
//! mfaexec's own, with the session's variables), and the program found on the child's PATH.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, Error, Result};
use crate::output::vars::{self, Vars};
use crate::sys::environ::Environment;

/// The command, or the user's shell when none is given.
pub(crate) fn command_line(command: &[OsString], env: &Environment) -> Vec<OsString> {
    if command.is_empty() {
        let shell = env
            .get_os("SHELL")
            .filter(|s| !s.is_empty())
            .unwrap_or(OsStr::new("/bin/sh"));
        vec![shell.to_owned()]
    } else {
        command.to_vec()
    }
}

/// mfaexec's environment minus what the session replaces, plus the session's variables.
pub(crate) fn child_environment(env: &Environment, vars: &Vars) -> Vec<(OsString, OsString)> {
    let mut out: Vec<(OsString, OsString)> = env
        .for_children()
        .filter(|(k, _)| {
            let k = k.to_str().unwrap_or("");
            !vars::REMOVED.contains(&k)
                && !vars.unset.contains(&k)
                && !vars.set.iter().any(|(n, _)| *n == k)
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    out.extend(
        vars.set
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
    out
}

/// Looks the program up on the child's PATH, as a shell would, and tells "not found" (127)
/// from "found but not executable" (126).
pub(crate) fn find_program(program: &OsStr, child_env: &[(OsString, OsString)]) -> Result<PathBuf> {
    let shown = program.to_string_lossy();
    let not_found = || Error::new(format!("command not found: {shown}")).exit_code(EXIT_NOT_FOUND);
    let not_executable = |path: &Path| {
        Error::new(format!(
            "{}: permission denied (not executable)",
            path.display()
        ))
        .exit_code(EXIT_NOT_EXECUTABLE)
    };
    if program.is_empty() {
        return Err(not_found());
    }
    if Path::new(program).components().count() > 1 || program.to_string_lossy().contains('/') {
        let path = PathBuf::from(program);
        return match path.metadata() {
            Err(_) => Err(not_found()),
            Ok(m) if m.is_dir() || m.permissions().mode() & 0o111 == 0 => {
                Err(not_executable(&path))
            }
            Ok(_) => Ok(path),
        };
    }
    let path_var = child_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    match which::which_in(program, Some(&path_var), &cwd) {
        Ok(path) => Ok(path),
        Err(_) => {
            // A file of that name that is not executable: 126, like a shell says.
            let blocked = std::env::split_paths(&path_var)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file());
            match blocked {
                Some(p) => Err(not_executable(&p)),
                None => Err(not_found()),
            }
        }
    }
}
