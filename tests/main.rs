//! The one integration-test crate: every test runs the built `mfaexec` binary against the fake
//! STS in `support/`, from an empty environment with its own HOME and AWS files.

mod support;

mod cache;
mod calls;
mod completions;
mod credential_process;
mod errors;
mod exec;
mod fake_iam_selftest;
mod fake_sts_selftest;
mod front;
mod hardening;
mod integration;
mod keys;
mod layout;
mod login;
mod login_session;
mod mfa_process;
mod network;
mod profiles;
mod rotate;
mod serve;
mod server;
mod shells;
mod sso;
mod version;
mod warm;
mod write_file;
