//! The real AWS CLI (v1, `awscli` from PyPI; `scripts/test` installs it) against the fake STS:
//! the consumer that proves what mfaexec hands out (credential_process JSON, written profiles,
//! the `--server` endpoint) is taken as it is meant.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{Out, Sandbox};

/// The AWS CLI from the test's own PATH. Missing, the test fails (it never skips): the JSON
/// must be proven against a real consumer.
pub fn aws_program() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("aws"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the AWS CLI (`aws`) is needed by this test and is not on PATH: \
                 install it with `pip install awscli` (.ci/run does)"
            )
        })
}

/// Runs the real AWS CLI with exactly the sandbox's environment (HOME, the AWS files, and
/// AWS_ENDPOINT_URL_STS pointing at the fake STS), instance metadata off, and no terminal (so
/// mfaexec under it cannot prompt): it reaches neither AWS nor the user's own files.
pub fn aws(s: &Sandbox, args: &[&str]) -> Out {
    let output = Command::new("setsid")
        .arg(aws_program())
        .args(args)
        .env_clear()
        .envs(s.vars().iter().map(|(k, v)| (k, v)))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(s.path(""))
        .stdin(Stdio::null())
        .output()
        .expect("run the AWS CLI");
    Out(output)
}

/// `aws sts get-caller-identity --profile PROFILE` against the fake; its answer's Arn.
#[track_caller]
pub fn caller_arn(s: &Sandbox, profile: &str) -> String {
    let out = aws(
        s,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            profile,
            "--region",
            "eu-west-1",
            "--output",
            "json",
        ],
    );
    assert!(
        out.0.status.success(),
        "aws failed: {:?}\nstdout: {}\nstderr: {}",
        out.0.status,
        out.stdout(),
        out.stderr()
    );
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).expect("aws prints JSON");
    v["Arn"].as_str().expect("an Arn").to_owned()
}
