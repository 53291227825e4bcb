//! "Only you can renew this": the daemon has no terminal, so it leaves one line in a file of
//! its directory, and the next mfaexec command the user runs in a terminal (any terminal)
//! prints it once
//! (`mfaexec: prod needs a new MFA code: mfaexec prod -r`).
//!
//! The reader claims the file by renaming it to a name of its own first, so two commands
//! started at once never both print it. On a cache hit this is an isatty and one failing
//! rename.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Appends `line` to the notices (a short write to a file opened for appending is one
/// `write`: lines of two renewals do not interleave).
pub fn leave(notices: &Path, line: &str) {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(notices);
    if let Ok(mut file) = file {
        let _ = file.write_all(format!("{}\n", line.replace('\n', " ")).as_bytes());
    }
}

/// The notices are at most this long; more is not read.
const MAX_NOTICES: u64 = 64 * 1024;

/// Prints the notices the daemon left, once, and removes them: only to a terminal, where the
/// user reads it (an SDK running `credential-process` may keep its stderr to itself).
pub fn show(env: &crate::sys::environ::Environment) {
    if !nix::unistd::isatty(std::io::stderr()).unwrap_or(false) {
        return;
    }
    let Ok(paths) = super::Paths::of(env) else {
        return;
    };
    let claimed = paths.dir.join(format!("notices.{}", std::process::id()));
    if std::fs::rename(&paths.notices, &claimed).is_err() {
        return;
    }
    let text = crate::sys::files::read_capped(
        &claimed,
        &crate::sys::files::Capped {
            cap: MAX_NOTICES,
            noun: "the daemon's notices",
            hint: "",
        },
    );
    let _ = std::fs::remove_file(&claimed);
    let Ok(Some(text)) = text else {
        return;
    };
    let mut said: Vec<&str> = Vec::new();
    for line in String::from_utf8_lossy(&text).lines() {
        if !line.trim().is_empty() && !said.contains(&line) {
            crate::say!("{line}");
        }
        said.push(line);
    }
}
