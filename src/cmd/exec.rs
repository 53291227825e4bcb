//! `mfaexec exec`: replaces mfaexec with the command, the session's credentials in its
//! environment only. After exec nothing of mfaexec remains: exit code, signals and terminal are
//! the command's.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::ExecArgs;
use crate::error::{EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, Error, Result};
use crate::output::vars::{self, Vars};
use crate::sys::environ::Environment;

pub fn run(args: &ExecArgs, env: &Environment) -> Result<()> {
    let plan = super::plan(&args.session, env)?;
    if args.server {
        return crate::run::server::run(args, &plan, env);
    }
    let argv = command_line(&args.command, env);
    if args.session.dry_run {
        let shown: Vec<String> = argv
            .iter()
            .map(|a| shell_words::quote(&a.to_string_lossy()).into_owned())
            .collect();
        let report = super::dry_run_report(&plan, &args.session, env)?;
        return super::print_stdout(&format!("{report}{:<11} {}\n", "command", shown.join(" ")));
    }
    // Find the program before asking for a code: a typo must not cost an MFA code.
    let child_env = child_environment(
        env,
        &Vars {
            unset: vars::REMOVED.to_vec(),
            set: vec![],
        },
    );
    let program = find_program(&argv[0], &child_env)?;
    let session = crate::session::session(&plan, &args.session, env)?;
    let vars = vars::for_session(&plan, &session);
    let child_env = child_environment(env, &vars);
    if args.command.is_empty() {
        crate::say!(
            "mfaexec: starting {} with the credentials of profile `{}`; exit it to drop them",
            program.display(),
            plan.profile
        );
    }
    if args.session.verbose {
        crate::say!("mfaexec: exec {}", program.display());
    }
    crate::sys::coredump::restore_for_exec();
    let error = Command::new(&program)
        .arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(child_env)
        .exec();
    // exec only returns on failure.
    let code = match error.kind() {
        std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
        _ => EXIT_NOT_EXECUTABLE,
    };
    Err(Error::new(format!("cannot run {}: {error}", program.display())).exit_code(code))
}

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
        .iter()
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
