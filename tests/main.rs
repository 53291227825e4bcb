//! The one integration-test crate: every test runs the built `mfaexec` binary against the fake
//! STS in `support/`, from an empty environment with its own HOME and AWS files.

mod support;

mod fake_sts_selftest;
