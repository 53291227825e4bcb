//! The operating system's side, with no AWS in it: atomic private files, the rules for reading
//! a file and keeping a private directory, core dumps, the environment as a value, and the
//! SDK's log. Uses only `error` and `creds`.

pub mod atomic;
pub mod coredump;
pub mod environ;
pub mod files;
pub mod process;
pub mod sdklog;
pub mod startup;
pub mod time;
pub mod tty;
