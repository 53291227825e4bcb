//! A real Secret Service for the key store tests: a private session D-Bus (`dbus-daemon` with a
//! configuration of its own, so nothing is D-Bus-activated behind the test's back) and
//! `gnome-keyring-daemon` on it, its login keyring created and unlocked with a known password,
//! and its files under the sandbox's HOME. `secret-tool` (libsecret) checks what is really in it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::Sandbox;

pub struct Keyring {
    bus: Child,
    daemon: Option<Child>,
    vars: Vec<(String, String)>,
}

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=SOCKET</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

impl Keyring {
    /// Starts the bus and the keyring, and points every later run of `s` at them.
    pub fn start(s: &mut Sandbox) -> Keyring {
        let run = s.path("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let socket = run.join("bus");
        let config = s.path("bus.conf");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("SOCKET", &socket.display().to_string()),
        )
        .unwrap();
        let bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian: dbus) is needed by the key store tests");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let vars = vec![
            (
                "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                format!("unix:path={}", socket.display()),
            ),
            ("XDG_RUNTIME_DIR".to_owned(), run.display().to_string()),
        ];
        for (k, v) in &vars {
            s.set(k, v);
        }
        let mut keyring = Keyring {
            bus,
            daemon: None,
            vars: s.vars().to_vec(),
        };
        keyring.start_daemon(s.home());
        keyring
    }

    fn start_daemon(&mut self, home: PathBuf) {
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .env("HOME", &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "gnome-keyring-daemon (Debian: gnome-keyring) is needed by the key store tests",
            );
        // The login keyring's password, then EOF: created if missing, and unlocked.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        self.daemon = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.name_has_owner() {
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not answer on the private bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn name_has_owner(&self) -> bool {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("dbus-send (Debian: dbus-bin)");
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// Stops the keyring daemon (the bus stays, with nothing to activate a new one): any run
    /// that opens the store now fails.
    pub fn stop_daemon(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.name_has_owner() {
            assert!(Instant::now() < deadline, "the keyring did not go away");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("the keyring daemon runs").id()
    }

    /// Sends `signal` (`STOP`, `CONT`) to the keyring daemon: a stopped one keeps its name on
    /// the bus and never answers, like a daemon hung on a dialog or swapped out.
    pub fn signal_daemon(&self, signal: &str) {
        let pid = self.daemon_pid();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }

    pub fn secret_tool(&self, args: &[&str]) -> Output {
        Command::new("secret-tool")
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .expect("secret-tool (Debian: libsecret-tools) is needed by the key store tests")
    }

    /// The secret of mfaexec's item for `profile`, as `secret-tool` reads it.
    pub fn lookup(&self, profile: &str) -> Option<String> {
        let out = self.secret_tool(&["lookup", "service", "mfaexec", "username", profile]);
        (out.status.success() && !out.stdout.is_empty())
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Deletes mfaexec's item for `profile`.
    pub fn clear(&self, profile: &str) {
        self.secret_tool(&["clear", "service", "mfaexec", "username", profile]);
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &daemon.id().to_string()])
                .status();
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
