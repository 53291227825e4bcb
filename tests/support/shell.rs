//! What the shell tests (tests/integration.rs), the completion tests and the `--server` tests
//! on an interactive terminal share: the shells, a sandbox with `mfaexec` on PATH, and a
//! terminal multiplexer to drive interactive shells.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sh {
    Bash,
    Zsh,
    Fish,
}

pub const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

impl Sh {
    pub fn name(self) -> &'static str {
        match self {
            Sh::Bash => "bash",
            Sh::Zsh => "zsh",
            Sh::Fish => "fish",
        }
    }

    pub fn path(self) -> PathBuf {
        tool(self.name(), self.name())
    }

    /// No startup files, and the strictest settings the scripts must load and run under.
    pub fn strict_flags(self) -> &'static [&'static str] {
        match self {
            Sh::Bash => &["--norc", "--noprofile", "-euo", "pipefail"],
            Sh::Zsh => &["-f", "-eu"],
            Sh::Fish => &["--no-config"],
        }
    }

    /// The line the README tells users to put in their startup file.
    pub fn init_line(self) -> &'static str {
        match self {
            Sh::Bash => r#"eval "$(mfaexec init bash)""#,
            Sh::Zsh => r#"eval "$(mfaexec init zsh)""#,
            Sh::Fish => "mfaexec init fish | source",
        }
    }

    /// `export NAME=VALUE` in this shell; `value` is used as it is (quote it if needed).
    pub fn export(self, name: &str, value: &str) -> String {
        match self {
            Sh::Fish => format!("set -gx {name} {value}"),
            _ => format!("export {name}={value}"),
        }
    }

    /// Runs `line`, then records its exit status in the output as `STATUS <n>\0`.
    pub fn status_of(self, line: &str) -> String {
        match self {
            Sh::Fish => format!("{line}\nprintf 'STATUS %s\\0' $status\n"),
            _ => {
                format!("__status=0\n{line} || __status=$?\nprintf 'STATUS %s\\0' \"$__status\"\n")
            }
        }
    }
}

/// The absolute path of a program the tests need; fails the test, saying how to install
/// it, when it is missing.
pub fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed, and this test runs it: install it (Debian/Ubuntu: \
                 `sudo apt-get install {package}`, macOS: `brew install {package}`)"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The standard sandbox with a directory at the head of PATH holding `mfaexec` (the built
/// binary), as after an install, and `terraform-fake`, a command to wrap.
pub fn sandbox() -> Sandbox {
    let mut s = Sandbox::standard();
    let dir = s.path("bin");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(bin(), dir.join("mfaexec")).unwrap();
    write_executable(&dir.join("terraform-fake"), "#!/bin/sh\nexit 0\n");
    s.set(
        "PATH",
        &format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display()),
    );
    s
}

pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` with `-c` in `sh` under its strict flags, in the sandbox's directory and
/// environment plus `extra`, in a session of its own (no terminal: mfaexec must not prompt).
pub fn run(s: &Sandbox, sh: Sh, script: &str, extra: &[(&str, &str)]) -> Output {
    run_with(s, sh, sh.strict_flags(), script, extra)
}

pub fn run_with(
    s: &Sandbox,
    sh: Sh,
    flags: &[&str],
    script: &str,
    extra: &[(&str, &str)],
) -> Output {
    s.command_of(tool("setsid", "util-linux"))
        .arg(sh.path())
        .args(flags)
        .arg("-c")
        .arg(script)
        .envs(extra.iter().copied())
        .current_dir(s.path("."))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {sh:?}: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A real terminal with a program in it (tmux, on a socket of the sandbox's own), for what
/// only an interactive shell does: prompts, their hooks, completion on Tab.
pub struct Tmux {
    tmux: PathBuf,
    socket: PathBuf,
}

impl Tmux {
    pub fn start(s: &Sandbox, argv: &[&str], extra: &[(&str, &str)]) -> Tmux {
        Tmux::start_named(s, "tmux", argv, extra)
    }

    /// As `start`, on a tmux server of its own named `name`: for several terminals at once.
    pub fn start_named(s: &Sandbox, name: &str, argv: &[&str], extra: &[(&str, &str)]) -> Tmux {
        let tmux = tool("tmux", "tmux");
        let socket = s.path(&format!("{name}.sock"));
        let status = s
            .command_of(&tmux)
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "200",
            ])
            .args(["-y", "50", "--"])
            .args(argv)
            .envs(extra.iter().copied())
            .env("TERM", "xterm-256color")
            .current_dir(s.path("."))
            .stdin(Stdio::null())
            .status()
            .expect("start tmux");
        assert!(status.success(), "tmux new-session failed: {status:?}");
        Tmux { tmux, socket }
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    /// Resizes the terminal (the program in it gets SIGWINCH).
    pub fn resize(&self, columns: u16, rows: u16) {
        let (x, y) = (columns.to_string(), rows.to_string());
        let out = self.tmux(&["resize-window", "-t", "t", "-x", &x, "-y", &y]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// Types `text` as it is.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Presses keys by tmux's names: `Enter`, `Tab`, `C-u`.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        text(&self.tmux(&["capture-pane", "-p", "-J", "-t", "t"]).stdout)
    }

    /// Everything the terminal showed, scrollback included.
    pub fn history(&self) -> String {
        text(
            &self
                .tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
                .stdout,
        )
    }

    /// Waits (up to 20s) until the whole history satisfies `done`; returns it.
    #[track_caller]
    pub fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let history = self.history();
            if done(&history) {
                return history;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what}; the terminal shows:\n{history}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the visible screen satisfies `done`; returns it.
    #[track_caller]
    pub fn wait_screen(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}
