//! Running the user's command: the child process and its signals, and `--server`, the
//! credentials endpoint that lives as long as the command. Uses every layer below it, never
//! `cmd`.

pub mod child;
pub mod command;
pub mod daemon;
pub mod handover;
pub mod renewal;
pub mod server;
