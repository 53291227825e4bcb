//! Runs mfaexec on a real terminal (util-linux `script` allocates the pty), expect-style: wait
//! for text on the screen, then type. Used to test the MFA prompt, which reads `/dev/tty`.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Terminal {
    child: Child,
    stdin: ChildStdin,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    /// Starts `argv` on a new terminal with exactly the environment `vars`.
    pub fn start(argv: &[String], vars: &[(String, String)]) -> Terminal {
        let line = shell_words::join(argv);
        let mut child = Command::new("script")
            .args(["-qfec", &line, "/dev/null"])
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` is needed for terminal tests");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal {
            child,
            stdin,
            screen,
        }
    }

    /// Waits until `text` has appeared `times` times on the screen.
    #[track_caller]
    pub fn expect(&mut self, text: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.screen.lock().unwrap().matches(text).count();
            if seen >= times {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?} x{times}; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn send_line(&mut self, text: &str) {
        self.stdin
            .write_all(format!("{text}\r").as_bytes())
            .unwrap();
        self.stdin.flush().unwrap();
    }

    /// Types these bytes as they are (Ctrl-C is `\x03`).
    pub fn send(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The pid of `script`, which holds the terminal's master side: killing it hangs up.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    /// Waits for the program to end; returns its exit code and the whole screen.
    pub fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("terminal program did not end; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        (status.code(), self.screen())
    }
}
