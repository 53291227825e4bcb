//! The test bed: a sandbox per test (temporary HOME, AWS files, the fake STS) and a builder that
//! runs the real `mfaexec` binary in it from an empty environment, so no test depends on the
//! machine's own AWS setup or reaches the internet.
//!
//! What several test files share lives here, beside the sandbox: `fake_sts` (with `fake_iam`)
//! and `totp`, the fakes, with `http`, their request reader; `net`, proxies, a test CA and a TLS front; `keyring` and `keys`, the
//! key stores; `pty` and `shell`, terminals, shells and tmux; `aws_cli`, the real AWS CLI.

#![allow(dead_code)]

pub mod aws_cli;
pub mod fake_signin;
pub mod fake_sso;
pub mod fake_sts;
pub mod http;
pub mod keyring;
pub mod keys;
pub mod net;
pub mod pty;
pub mod shell;
pub mod totp;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use fake_sts::{Call, FakeSts, Role, User};

pub const STEP: &str = "111111111111";
pub const PROD: &str = "222222222222";
pub const TOOLS: &str = "333333333333";
pub const ADMIN: &str = "arn:aws:iam::222222222222:role/admin";
pub const SHORT: &str = "arn:aws:iam::222222222222:role/short";
pub const LOCKED: &str = "arn:aws:iam::222222222222:role/locked";
pub const DEPLOY: &str = "arn:aws:iam::333333333333:role/deploy";

/// Substrings the fake puts in every secret key and session token it knows: a test greps for
/// them to prove no secret leaked.
pub const SECRET_MARKERS: [&str; 3] = ["SECRETLONGTERM", "SECRETTEMP", "TOKENTEMP"];

pub struct Sandbox {
    pub sts: FakeSts,
    pub alice: User,
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Sandbox {
    /// An empty world: a fake STS, a HOME, no AWS files.
    pub fn empty() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        let sts = FakeSts::start();
        let alice = User::new("alice", STEP);
        sts.add_user(alice.clone());
        let vars = vec![
            ("HOME".into(), home.display().to_string()),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("USER".into(), "alice".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("AWS_ENDPOINT_URL_STS".into(), sts.url()),
            (
                "AWS_CONFIG_FILE".into(),
                home.join(".aws/config").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                home.join(".aws/credentials").display().to_string(),
            ),
        ];
        Sandbox {
            sts,
            alice,
            dir,
            vars,
        }
    }

    /// The usual setup: alice's long-term keys in `[default]` of the credentials file (account
    /// STEP), roles in other accounts, and profiles for each way mfaexec reaches them.
    pub fn standard() -> Sandbox {
        let s = Sandbox::empty();
        let alice_arn = s.alice.arn();
        s.sts.add_role(Role {
            max_session_duration: 43200,
            trusted: vec![alice_arn.clone()],
            ..Role::new(ADMIN)
        });
        s.sts.add_role(Role {
            trusted: vec![alice_arn.clone()],
            ..Role::new(SHORT)
        });
        s.sts.add_role(Role::new(LOCKED));
        s.sts.add_role(Role {
            max_session_duration: 43200,
            trusted: vec![ADMIN.into()],
            ..Role::new(DEPLOY)
        });
        s.credentials(&s.alice_keys_section("default"));
        s.config(&format!(
            "[default]\nmfa_serial = {serial}\n\n\
             [profile prod]\nrole_arn = {ADMIN}\nsource_profile = default\nmfa_serial = {serial}\nduration_seconds = 43200\nregion = eu-west-1\n\n\
             [profile short]\nrole_arn = {SHORT}\nsource_profile = default\n\n\
             [profile locked]\nrole_arn = {LOCKED}\nsource_profile = default\n\n\
             [profile deploy]\nrole_arn = {DEPLOY}\nsource_profile = prod\nduration_seconds = 43200\n",
            serial = s.serial()
        ));
        s
    }

    /// `[SECTION]` with alice's long-term keys and nothing else, as in a credentials file.
    pub fn alice_keys_section(&self, section: &str) -> String {
        format!(
            "[{section}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.alice.access_key_id, self.alice.secret_access_key
        )
    }

    pub fn serial(&self) -> String {
        self.alice.mfa_serial.clone().unwrap()
    }

    /// A currently valid, unused MFA code for alice.
    pub fn code(&self) -> String {
        self.sts.code(&self.serial())
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self, text: &str) {
        std::fs::write(self.home().join(".aws/config"), text).unwrap();
    }

    pub fn append_config(&self, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.home().join(".aws/config"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    pub fn credentials(&self, text: &str) {
        std::fs::write(self.home().join(".aws/credentials"), text).unwrap();
    }

    /// What the config file holds now.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.home().join(".aws/config")).unwrap()
    }

    /// What the credentials file holds now.
    pub fn credentials_text(&self) -> String {
        std::fs::read_to_string(self.home().join(".aws/credentials")).unwrap()
    }

    /// The session cache's default directory (under HOME's `.cache`).
    pub fn cache_dir(&self) -> PathBuf {
        self.home().join(".cache/mfaexec")
    }

    /// The session cache entries (`*.json`) in the default cache directory, sorted; none when
    /// the directory does not exist.
    pub fn cache_entries(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.cache_dir()) else {
            return Vec::new();
        };
        let mut entries: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        entries.sort();
        entries
    }

    /// Points `login` at the fake STS's own federation endpoint (plain http on loopback) for
    /// every later run; its URL.
    pub fn use_fake_federation(&mut self) -> String {
        let url = self.sts.federation_url();
        self.set("MFAEXEC_FEDERATION_ENDPOINT", &url);
        url
    }

    /// `mfa_process = COMMAND` on profile `prod` (which has its own mfa_serial), as its first
    /// setting.
    pub fn mfa_process_on_prod(&self, command: &str) {
        let config = self.config_text();
        self.config(&config.replacen(
            "[profile prod]\n",
            &format!("[profile prod]\nmfa_process = {command}\n"),
            1,
        ));
    }

    /// Sets a variable for every run of this sandbox.
    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.into(), value.into()));
    }

    /// Removes a variable `standard()` or `set` gave every run.
    pub fn unset(&mut self, name: &str) {
        self.vars.retain(|(k, _)| k != name);
    }

    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }

    pub fn calls(&self) -> Vec<Call> {
        self.sts.calls()
    }

    /// `program` as a plain `Command` with this sandbox's environment and nothing else: for
    /// what starts mfaexec another way (`sh` with a limit set first, `unshare`, a shell, the
    /// AWS CLI).
    pub fn command_of(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The binary as a plain `Command` with this sandbox's environment, for tests that need
    /// the process itself (its pid, many at once, its own stdio).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut cmd = self.command_of(bin());
        cmd.args(args.into_iter().map(Into::into));
        cmd
    }

    /// Starts mfaexec with `args` (stdio on /dev/null), SIGKILLs it after `delay` and reaps
    /// it: to stop it at any moment of what it does.
    pub fn run_killed_after<I, S>(&self, delay: std::time::Duration, args: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
    }

    /// mfaexec with `args`, started by `sh` after `ulimit -S -c SOFT` (a soft core limit of
    /// SOFT blocks, as a user's shell may set), stdin from /dev/null, and waited for: for what
    /// mfaexec and its command do with that limit.
    pub fn output_with_core_limit(&self, soft: u32, args: &[&str]) -> Output {
        self.command_of("sh")
            .args(["-c", &format!("ulimit -S -c {soft} && exec \"$0\" \"$@\"")])
            .arg(bin())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// mfaexec started without a terminal (as `run` does: `setsid`, a session of its own),
    /// stdout and stderr piped, not waited for: for many at once.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command_of("setsid")
            .arg(bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The binary on a real terminal (a pty), with this sandbox's environment: for the MFA
    /// prompt, which reads `/dev/tty`.
    pub fn terminal(&self, args: &[&str]) -> pty::Terminal {
        let mut argv = vec![bin().display().to_string()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        pty::Terminal::start(&argv, &self.vars)
    }

    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        // util-linux `setsid` puts mfaexec in a session of its own, without a controlling
        // terminal, even when the tests run from one (it execs: same process, same exit status).
        let mut cmd = self.command_of("setsid");
        cmd.arg(bin())
            .args(args.into_iter().map(Into::into))
            .current_dir(self.dir.path());
        Run {
            cmd,
            stdin: Vec::new(),
        }
    }
}

impl Sandbox {
    /// `run`, with files limited to `kib` KiB (`ulimit -f`, SIGXFSZ ignored): a write past it
    /// fails with EFBIG, as on a full quota, for tests of what a failed write leaves behind.
    pub fn run_with_file_limit<I, S>(&self, kib: u32, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut cmd = self.command_of("bash");
        cmd.args([
            "-c",
            r#"trap '' XFSZ; ulimit -f "$1"; shift; exec setsid "$@""#,
            "bash",
        ])
        .arg(kib.to_string())
        .arg(bin())
        .args(args.into_iter().map(Into::into))
        .current_dir(self.dir.path());
        Run {
            cmd,
            stdin: Vec::new(),
        }
    }
}

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mfaexec"))
}

#[must_use]
pub struct Run {
    cmd: Command,
    stdin: Vec<u8>,
}

impl Run {
    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(name, value);
        self
    }

    pub fn env_remove(mut self, name: &str) -> Self {
        self.cmd.env_remove(name);
        self
    }

    pub fn stdin(mut self, data: &str) -> Self {
        self.stdin = data.as_bytes().to_vec();
        self
    }

    /// Runs without a controlling terminal (a new session), as under CI or an SDK.
    pub fn output(mut self) -> Out {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn mfaexec");
        let mut stdin = child.stdin.take().unwrap();
        let data = std::mem::take(&mut self.stdin);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let output = child.wait_with_output().expect("wait for mfaexec");
        writer.join().unwrap();
        Out(output)
    }

    #[track_caller]
    pub fn success(self) -> Out {
        let out = self.output();
        assert!(
            out.0.status.success(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            out.0.status,
            out.stdout(),
            out.stderr()
        );
        out
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Out {
        let out = self.output();
        assert_eq!(
            out.0.status.code(),
            Some(code),
            "expected exit {code}, got {:?}\nstdout: {}\nstderr: {}",
            out.0.status,
            out.stdout(),
            out.stderr()
        );
        out
    }
}

pub struct Out(pub Output);

impl Out {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    pub fn signal(&self) -> Option<i32> {
        self.0.status.signal()
    }

    /// Asserts stderr holds `fragment`.
    #[track_caller]
    pub fn stderr_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stderr().contains(fragment),
            "stderr lacks {fragment:?}:\n{}",
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stdout().contains(fragment),
            "stdout lacks {fragment:?}:\n{}",
            self.stdout()
        );
        self
    }

    /// Asserts the error is `mfaexec: ...` plus at most a `hint:` line, and nothing secret.
    #[track_caller]
    pub fn one_line_error(&self) -> &Self {
        let err = self.stderr();
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            !lines.is_empty() && lines[0].starts_with("mfaexec: "),
            "not an mfaexec error: {err}"
        );
        assert!(
            lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
            "error is not one line plus an optional hint:\n{err}"
        );
        assert_no_secret(&err);
        self
    }

    /// `NAME=value` lines of a child that ran `env -0` ... parsed from `env` output.
    pub fn env_lines(&self) -> Vec<(String, String)> {
        self.stdout()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The value of `name` in the child's `env` output; a test failure without it.
    #[track_caller]
    pub fn var(&self, name: &str) -> String {
        self.env_lines()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {name} in:\n{}", self.stdout()))
    }
}

#[track_caller]
pub fn assert_no_secret(text: &str) {
    for marker in SECRET_MARKERS {
        assert!(
            !text.contains(marker),
            "a secret ({marker}…) leaked into:\n{text}"
        );
    }
}

/// The pid a process wrote to `path` (`echo $$ > FILE`).
#[track_caller]
pub fn read_pid(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Unix seconds of a UTC date and time: Howard Hinnant's days-from-civil (proleptic Gregorian,
/// March as the first month of the year), the reverse of how mfaexec prints times.
pub fn unix_seconds(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

/// Only the calls of one action.
pub fn of(calls: &[Call], action: &str) -> Vec<Call> {
    calls
        .iter()
        .filter(|c| c.action == action)
        .cloned()
        .collect()
}

/// The SDK's HTTP client with ring, as mfaexec builds its own, for the fakes' self-tests: the
/// SDK crates are built without a default client.
pub fn sdk_http_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
