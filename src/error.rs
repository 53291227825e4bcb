//! The one error type: a one-line message naming the object, an optional `hint:` line with the
//! fix, and the exit code. Messages never carry a secret; constructors take only what is safe.

use std::fmt;

/// Exit codes, as shells and other exec tools use them.
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
pub const EXIT_NOT_FOUND: i32 = 127;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    hint: Option<String>,
    exit_code: i32,
    class: Class,
}

/// What kind of failure, for the callers that act on it (a `--server` renewal) without reading
/// the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Class {
    #[default]
    Other,
    /// Only the user could go on (`what`: "a typed MFA code", "the passphrase of the key
    /// file"), and this run may not ask: a `--server` renewal.
    NeedsUser { what: &'static str },
    /// A key store in another process did not answer in time.
    NoAnswer,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
            exit_code: EXIT_FAILURE,
            class: Class::Other,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(message).exit_code(EXIT_USAGE)
    }

    /// An exec of `program` that returned `error`: 127 when there is no such file, else 126,
    /// as shells say.
    pub fn exec_failed(program: impl fmt::Display, error: &std::io::Error) -> Self {
        let code = match error.kind() {
            std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
            _ => EXIT_NOT_EXECUTABLE,
        };
        Error::new(format!("cannot run {program}: {error}")).exit_code(code)
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn exit_code(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }

    #[must_use]
    pub fn class(mut self, class: Class) -> Self {
        self.class = class;
        self
    }

    pub fn class_of(&self) -> Class {
        self.class
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn code(&self) -> i32 {
        self.exit_code
    }

    /// The text printed on stderr: `mfaexec: message` and, when there is one, `hint: ...`.
    pub fn render(&self) -> String {
        let mut out = format!("mfaexec: {}\n", visible(&one_line(&self.message)));
        if let Some(hint) = &self.hint {
            out.push_str(&format!("hint: {}\n", visible(&one_line(hint))));
        }
        out
    }
}

/// Writes one line to stderr, and never fails: a message must not stop the work it reports on
/// (an MFA code already spent, a session not yet cached) because stderr is `/dev/full` or a pipe
/// nobody reads. `eprintln!` would panic there.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::error::write_stderr(format_args!($($arg)*))
    };
}

pub fn write_stderr(args: fmt::Arguments<'_>) {
    use std::io::Write;
    let text = args.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", visible(&text));
}

/// `text` with every control character (C0, DEL, C1) written as `\xHH`: a profile name or a
/// value from a file must not move the cursor, set the terminal's title or forge a line.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The `-v` log: `mfaexec: TEXT` on stderr when verbose, nothing otherwise.
pub fn log_to_stderr(verbose: bool) -> impl Fn(&str) {
    move |text: &str| {
        if verbose {
            say!("mfaexec: {text}");
        }
    }
}

/// An error with its causes, `a: b: c`, as ripgrep prints them; a cause already contained in
/// the text before it is left out (hyper and the SDK often repeat their source).
pub fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![without_request(err.to_string())];
    let mut source = err.source();
    while let Some(s) = source {
        let text = without_request(s.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The SDK's "failed to apply endpoint" error quotes the whole request (its `Debug` text),
/// the MFA code and the signature included: never let any of it into a message.
fn without_request(text: String) -> String {
    if text.contains("failed to apply endpoint") {
        return "the endpoint could not be applied to the request".to_owned();
    }
    match text.find("Request {") {
        Some(at) => format!("{}(request not shown)", &text[..at]),
        None => text,
    }
}

/// Keeps every error to one line even when a cause (an OS or AWS message) had several.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_and_hint_on_one_line_each() {
        let e = Error::new("profile `prod`: broken\nsecond line").hint("fix it");
        assert_eq!(
            e.render(),
            "mfaexec: profile `prod`: broken second line\nhint: fix it\n"
        );
        assert_eq!(e.code(), 1);
        assert_eq!(Error::usage("x").code(), 2);
    }

    #[test]
    fn control_characters_are_made_visible() {
        let e = Error::new("profile `\u{1b}]0;x\u{7}` does not exist\u{9b}").hint("a\tb");
        assert_eq!(
            e.render(),
            "mfaexec: profile `\\x1b]0;x\\x07` does not exist\\x9b\nhint: a\\x09b\n"
        );
        assert_eq!(visible("plain é"), "plain é");
    }

    #[test]
    fn a_cause_chain_never_quotes_the_request() {
        let sdk = std::io::Error::other(
            "failed to apply endpoint `x` to request `Request { body: SdkBody { TokenCode=123456 } }`",
        );
        let chain = cause_chain(&sdk);
        assert_eq!(chain, "the endpoint could not be applied to the request");
        let other = std::io::Error::other("bad: Request { TokenCode=123456 }");
        assert_eq!(cause_chain(&other), "bad: (request not shown)");
    }
}
