//! The terminal itself (`/dev/tty`), never stdin or stdout, which belong to the command or are
//! captured (`eval "$(mfaexec env prod)"`, an SDK running credential_process): notices, and
//! secrets typed without echo, with the terminal's settings put back whatever ends the read.
//!
//! Reading the terminal takes a `Terminal`, a value only `main` gets (once), and which cannot
//! cross threads: a run without the user in front of it (a `--server` renewal, on a thread of
//! the endpoint) has none, and so cannot prompt by construction (issue 18, defect 2). It gets
//! `Asking::Never` where the foreground gets `Asking::Terminal`.

use std::fs::OpenOptions;
use std::io::Write;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// The terminal, if this process has one.
pub fn has_terminal() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// The right to read the terminal: every prompt takes it. Not `Send`: a thread of the endpoint
/// cannot be given one.
#[derive(Clone, Copy)]
pub struct Terminal {
    _not_send: PhantomData<*const ()>,
}

impl Terminal {
    /// For a unit test whose code path takes a `Terminal` but, given an mfa_process, never
    /// reads it.
    #[cfg(test)]
    pub fn for_tests() -> Terminal {
        Terminal {
            _not_send: PhantomData,
        }
    }

    /// For `main`, once: a second call gets `None`.
    pub fn take() -> Option<Terminal> {
        static TAKEN: AtomicBool = AtomicBool::new(false);
        (!TAKEN.swap(true, Ordering::SeqCst)).then_some(Terminal {
            _not_send: PhantomData,
        })
    }

    /// A secret typed on the terminal without echo (a secret access key, a passphrase): up to
    /// `cap` bytes; Ctrl-C and end of input are errors naming `what`.
    pub fn read_secret(
        &self,
        prompt: &str,
        what: &str,
        cap: usize,
    ) -> Result<zeroize::Zeroizing<String>> {
        read_secret(prompt, what, cap)
    }

    /// One line typed without echo, up to a code's length.
    pub(crate) fn read_hidden(&self, prompt: &str) -> std::io::Result<Typed> {
        read_hidden_capped(prompt, TYPED_CAP)
    }

    /// One line typed with echo (an access key id, an answer to a question).
    pub fn read_line(&self, prompt: &str) -> Result<String> {
        use std::io::BufRead;
        let mut tty = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(|e| Error::new(format!("cannot open the terminal: {e}")))?;
        tty.write_all(prompt.as_bytes())
            .and_then(|()| tty.flush())
            .map_err(|e| Error::new(format!("cannot write to the terminal: {e}")))?;
        let mut line = String::new();
        std::io::BufReader::new(&tty)
            .read_line(&mut line)
            .map_err(|e| Error::new(format!("cannot read the terminal: {e}")))?;
        Ok(line)
    }

    /// Tells the user something on the terminal (not stderr, which may be captured).
    pub fn say(&self, text: &str) {
        say(text);
    }
}

/// Whether a step may ask the user: only with the `Terminal` of the foreground.
#[derive(Clone, Copy)]
pub enum Asking {
    Terminal(Terminal),
    /// A `--server` renewal: what only the user could give is an error of class `NeedsUser`.
    Never,
}

impl Asking {
    /// A notice that is not a prompt: on the terminal when asking is allowed (see `notice`),
    /// else on stderr, never on a terminal that belongs to the command.
    pub fn notice(self, text: &str) {
        match self {
            Asking::Terminal(_) => notice(text),
            Asking::Never => crate::say!("{text}"),
        }
    }
}

/// Tells the user something on the terminal (not stderr, which may be captured).
fn say(text: &str) {
    if let Ok(mut tty) = OpenOptions::new().write(true).open("/dev/tty") {
        let _ = writeln!(tty, "{}", crate::error::visible(text));
    }
}

/// Tells the user something that is not a prompt: on the terminal when there is one (stderr may
/// be captured by an SDK running credential_process), else on stderr.
fn notice(text: &str) {
    match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(mut tty) => {
            let _ = writeln!(tty, "{}", crate::error::visible(text));
        }
        Err(_) => crate::say!("{text}"),
    }
}

/// The exit code of a run interrupted at the prompt, as shells report SIGINT (128 + 2).
pub const EXIT_INTERRUPTED: i32 = 130;

fn read_secret(prompt: &str, what: &str, cap: usize) -> Result<zeroize::Zeroizing<String>> {
    match read_hidden_capped(prompt, cap) {
        Ok(Typed::Line(line)) => Ok(zeroize::Zeroizing::new(line)),
        Ok(Typed::Interrupted) => {
            Err(Error::new(format!("interrupted at the prompt for {what}"))
                .exit_code(EXIT_INTERRUPTED))
        }
        Ok(Typed::End) => Err(Error::new(format!(
            "no {what}: the terminal sent end of input"
        ))),
        Err(e) => Err(Error::new(format!(
            "cannot read {what} from the terminal: {e}"
        ))),
    }
}

pub(crate) enum Typed {
    Line(String),
    /// Ctrl-C, or Ctrl-\ (quit).
    Interrupted,
    /// Ctrl-D on an empty line, or the terminal went away.
    End,
}

/// The most kept of one typed line: a code is 6 digits.
const TYPED_CAP: usize = 64;

/// The terminal's own settings, put back when dropped: on every way out of the prompt (a code,
/// Ctrl-C, end of input, an error, a panic). While it lives, a signal that kills mfaexec
/// (SIGINT, SIGTERM, SIGHUP, SIGQUIT from `kill`, `timeout` or a hang-up) puts them back
/// first: see `watch_signals`.
struct Restore;

/// The terminal being read and its settings from before the prompt, while they are changed.
static CHANGED: std::sync::Mutex<Option<(std::fs::File, nix::sys::termios::Termios)>> =
    std::sync::Mutex::new(None);

fn changed() -> std::sync::MutexGuard<'static, Option<(std::fs::File, nix::sys::termios::Termios)>>
{
    CHANGED.lock().unwrap_or_else(|e| e.into_inner())
}

fn put_back(slot: &mut Option<(std::fs::File, nix::sys::termios::Termios)>) {
    if let Some((tty, saved)) = slot.take() {
        let _ = nix::sys::termios::tcsetattr(&tty, nix::sys::termios::SetArg::TCSANOW, &saved);
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        put_back(&mut changed());
    }
}

/// The signals that end mfaexec by default and may come while the terminal is changed.
const ENDING: [nix::sys::signal::Signal; 4] = [
    nix::sys::signal::Signal::SIGINT,
    nix::sys::signal::Signal::SIGTERM,
    nix::sys::signal::Signal::SIGHUP,
    nix::sys::signal::Signal::SIGQUIT,
];

/// Once per run, before the terminal is first changed: catches the ending signals that are not
/// ignored (an ignored one cannot kill mfaexec, and catching it would undo `nohup` for the
/// command run later), on a thread that puts the terminal back, then dies of the signal as
/// it would have (`emulate_default_handler`). The thread blocks these signals itself, so that
/// `child::hold_signals` still gets them all while a command runs. signal-hook cannot give a
/// signal its default action back, so this stays for the rest of the run; the thread keeps
/// that action.
fn watch_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ignored = ignored_signals();
        let caught: Vec<i32> = ENDING
            .iter()
            .filter(|s| !ignored.contains(&(**s as i32)))
            .map(|s| *s as i32)
            .collect();
        let Ok(mut signals) = signal_hook::iterator::Signals::new(&caught) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("mfaexec-prompt-signals".into())
            .spawn(move || {
                let mut own = nix::sys::signal::SigSet::empty();
                for s in ENDING {
                    own.add(s);
                }
                let _ = own.thread_block();
                for signal in signals.forever() {
                    // Held until mfaexec is gone: the prompt cannot change the terminal again.
                    let mut slot = changed();
                    put_back(&mut slot);
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                }
            });
    });
}

/// The signals this process ignores (`SigIgn` in /proc/self/status: read without `sigaction`).
fn ignored_signals() -> Vec<i32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    (1..=64).filter(|n| mask & (1u64 << (n - 1)) != 0).collect()
}

/// Reads one line from /dev/tty without echo, keeping up to `cap` bytes of it, UTF-8 included
/// (a passphrase). Signals from the keyboard are off while it reads, so Ctrl-C arrives as a byte
/// and the settings are restored before mfaexec exits (killed by SIGINT with echo off, it would
/// leave the user's shell without echo).
fn read_hidden_capped(prompt: &str, cap: usize) -> std::io::Result<Typed> {
    use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices};
    use std::io::Read;
    let tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let saved = termios::tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet.local_flags &=
        !(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG | LocalFlags::IEXTEN);
    quiet.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    quiet.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    // The terminal's own keys for interrupt, quit, suspend and end of input (0: none).
    let key = |i: SpecialCharacterIndices| saved.control_chars[i as usize];
    let (intr, quit, susp, eof) = (
        key(SpecialCharacterIndices::VINTR),
        key(SpecialCharacterIndices::VQUIT),
        key(SpecialCharacterIndices::VSUSP),
        key(SpecialCharacterIndices::VEOF),
    );
    watch_signals();
    *changed() = Some((tty.try_clone()?, saved));
    let restore = Restore;
    termios::tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet)?;
    let mut tty = tty;
    tty.write_all(prompt.as_bytes())?;
    tty.flush()?;
    let mut line: Vec<u8> = Vec::new();
    let typed = loop {
        let mut byte = [0u8; 1];
        match tty.read(&mut byte) {
            Ok(0) => break Typed::End,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        match byte[0] {
            0 => {}
            b if b == intr || b == quit => break Typed::Interrupted,
            b if b == eof && line.is_empty() => break Typed::End,
            b if b == susp => {
                tty.write_all(
                    b"\r\nmfaexec: cannot suspend at this prompt: type the code, or interrupt\r\n",
                )?;
                tty.write_all(prompt.as_bytes())?;
                tty.flush()?;
                line.clear();
            }
            b'\r' | b'\n' => break Typed::Line(String::from_utf8_lossy(&line).into_owned()),
            0x7f | 0x08 => {
                // A whole character: its UTF-8 continuation bytes, then its first byte.
                while let Some(b) = line.pop() {
                    if b & 0xc0 != 0x80 {
                        break;
                    }
                }
            }
            0x15 => line.clear(),
            b if (b.is_ascii_graphic() || b == b' ' || b >= 0x80) && line.len() < cap => {
                line.push(b);
            }
            _ => {}
        }
    };
    let _ = tty.write_all(b"\n");
    drop(restore);
    Ok(typed)
}
