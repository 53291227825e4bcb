//! `mfaexec --version`: the package version, and the commit when built from a git checkout.

use std::process::Command;

use crate::support::Sandbox;

#[test]
fn version_names_the_package_version_and_the_checkout_commit() {
    let sandbox = Sandbox::empty();
    let out = sandbox.run(["--version"]).success();
    let version = env!("CARGO_PKG_VERSION");
    let root = env!("CARGO_MANIFEST_DIR");
    let commit = Command::new("git")
        .args(["-C", root, "rev-parse", "--short=7", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let expected = match commit {
        Some(commit) => format!("mfaexec {version} ({commit})\n"),
        // A build from the published crate: no .git, the bare version.
        None => format!("mfaexec {version}\n"),
    };
    assert_eq!(out.stdout(), expected);
    // Subcommands say the same.
    assert_eq!(
        sandbox.run(["list", "--version"]).success().stdout(),
        expected.replacen("mfaexec", "mfaexec-list", 1)
    );
}
