//! Corporate networks (issue 11): proxies, CA bundles, FIPS and dual-stack endpoints.
//!
//! The real things on loopback: Debian's tinyproxy (its log proves what went through it), and
//! the fake STS and federation endpoint behind a TLS front whose certificate comes from a test
//! CA made at test time, so only AWS_CA_BUNDLE or ca_bundle makes it trusted.

use crate::support::fake_sts::Fault;
use crate::support::net::{
    Answer, ClosingProxy, StandInProxy, TestCa, Tinyproxy, TlsFront, free_port, silent_server,
};
use crate::support::*;

/// The standard sandbox with STS and the federation endpoint at `https://localhost:PORT`,
/// served with a certificate for `names` from a fresh test CA, whose root is in `ca.pem`.
fn tls_sandbox(names: &[&str]) -> (Sandbox, TlsFront) {
    let mut s = Sandbox::standard();
    let ca = TestCa::new("mfaexec test root CA");
    let (chain, key) = ca.server_cert(names);
    let front = s.sts_behind_tls("localhost", chain, key);
    s.set(
        "MFAEXEC_FEDERATION_ENDPOINT",
        &format!("{}/federation", front.url("localhost")),
    );
    ca.write_bundle(&s.path("ca.pem"));
    (s, front)
}

fn bundle(s: &Sandbox) -> String {
    s.path("ca.pem").display().to_string()
}

fn connects_to(proxy: &Tinyproxy, front: &TlsFront) -> usize {
    let target = format!("CONNECT localhost:{} HTTP/1.1", front.addr.port());
    proxy.requests().iter().filter(|r| **r == target).count()
}

#[test]
fn sts_goes_through_the_proxy_with_aws_ca_bundle() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    let out = s
        .run(["env", "prod", "-t", &s.code(), "-v"])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    out.stdout_has("export AWS_SESSION_TOKEN=");
    out.stderr_has(&format!(
        "through the proxy {} (from HTTPS_PROXY); trusting {} (from AWS_CA_BUNDLE): 1 certificate",
        proxy.url(),
        bundle(&s)
    ));
    // Loopback is not bypassed: the call went through the proxy as a CONNECT tunnel.
    assert_eq!(connects_to(&proxy, &front), 1, "{}", proxy.log());
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn ca_bundle_in_the_profile_is_trusted_too() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    s.append_config(&format!("\n[profile prod]\nca_bundle = {}\n", bundle(&s)));
    let out = s
        .run(["env", "prod", "-t", &s.code(), "--dry-run"])
        .env("https_proxy", proxy.url())
        .success();
    out.stdout_has(&format!(
        "CA bundle   {} (from ca_bundle of profile `prod`): 1 certificate",
        bundle(&s)
    ));
    s.run(["env", "prod", "-t", &s.code()])
        .env("https_proxy", proxy.url())
        .success();
    assert_eq!(connects_to(&proxy, &front), 1, "{}", proxy.log());
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn without_the_bundle_the_certificate_is_not_trusted() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the certificate of localhost:{} (through the proxy {}) is not trusted: its issuer `CN=mfaexec test root CA` is not a known certificate authority",
        front.addr.port(),
        proxy.url()
    ));
    out.stderr_has("the MFA code was not used");
    out.stderr_has("hint: on a network that inspects TLS, set AWS_CA_BUNDLE");
    assert!(s.calls().is_empty(), "STS was reached");
    // The call's tunnel, and the one that looked at the certificate to name its issuer.
    assert_eq!(connects_to(&proxy, &front), 2);
    assert_eq!(front.handshakes(), 0);
}

#[test]
fn without_a_proxy_the_certificate_is_not_trusted_either() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let out = s.run(["env", "prod", "-t", &s.code()]).failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the certificate of localhost:{} is not trusted: its issuer `CN=mfaexec test root CA` is not",
        front.addr.port()
    ));
    assert!(s.calls().is_empty());
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let (s, front) = tls_sandbox(&["sts.other.example"]);
    let proxy = Tinyproxy::start();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the certificate of localhost:{} (through the proxy {}) is for another host name",
        front.addr.port(),
        proxy.url()
    ));
    assert!(s.calls().is_empty());
}

#[test]
fn no_proxy_bypasses_by_host_and_port() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    let port = front.addr.port();
    // Another port of the same host: still through the proxy.
    s.run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .env("NO_PROXY", format!("localhost:{}", port + 1))
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    assert_eq!(connects_to(&proxy, &front), 1);
    let out = s
        .run(["env", "prod", "-t", &s.code(), "-v", "-r"])
        .env("HTTPS_PROXY", proxy.url())
        .env("no_proxy", format!("example.com, localhost:{port}"))
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    out.stderr_has(&format!(
        "directly: `localhost:{port}` of no_proxy bypasses the proxy"
    ));
    assert_eq!(connects_to(&proxy, &front), 1, "{}", proxy.log());
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 2);
}

#[test]
fn http_endpoints_use_http_proxy_as_a_forward_proxy() {
    let s = Sandbox::standard();
    let proxy = Tinyproxy::start();
    // HTTPS_PROXY is not for http:// URLs.
    s.run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .success();
    assert!(proxy.requests().is_empty(), "{}", proxy.log());
    s.run(["env", "prod", "--dry-run"])
        .env("HTTPS_PROXY", proxy.url())
        .success()
        .stdout_has("proxy       STS: directly (HTTP_PROXY is not set)");
    s.run(["env", "prod", "-t", &s.code(), "-r"])
        .env("HTTP_PROXY", proxy.url())
        .success();
    assert_eq!(
        proxy.requests(),
        vec![format!("POST {}/ HTTP/1.1", s.sts.url())],
        "{}",
        proxy.log()
    );
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 2);
}

#[test]
fn a_proxy_that_is_not_listening_is_named() {
    let (s, _front) = tls_sandbox(&["localhost"]);
    let port = free_port();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: cannot connect to the proxy http://127.0.0.1:{port} (from HTTPS_PROXY): connection refused; the MFA code was not used"
    ));
    out.stderr_has("hint: check HTTPS_PROXY");
    assert!(s.calls().is_empty());
}

#[test]
fn proxy_authentication() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::with_basic_auth("alice", "s3cret");
    let run = |url: &str| {
        s.run(["env", "prod", "-t", &s.code(), "-v", "-r"])
            .env("HTTPS_PROXY", url)
            .env("AWS_CA_BUNDLE", bundle(&s))
    };
    let out = run(&proxy.url()).failure(1);
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTPS_PROXY) asks for a user name and password (407 Proxy Authentication Required); the MFA code was not used",
        proxy.url()
    ));
    out.stderr_has("hint: put them in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT");
    let wrong = proxy.url_as("alice:wr0ng");
    let out = run(&wrong).failure(1);
    // tinyproxy answers wrong credentials with 401, not 407.
    out.stderr_has(&format!(
        "the proxy http://alice:****@127.0.0.1:{} (from HTTPS_PROXY) refused to tunnel (CONNECT) to localhost:{}",
        proxy.port,
        front.addr.port()
    ));
    out.stderr_has("hint: check the user name and password in HTTPS_PROXY");
    assert!(!out.stderr().contains("wr0ng"), "{}", out.stderr());
    assert!(s.calls().is_empty());
    let right = proxy.url_as("alice:s3cret");
    let out = run(&right).success();
    assert!(!out.stderr().contains("s3cret"), "{}", out.stderr());
    out.stderr_has(&format!(
        "through the proxy http://alice:****@127.0.0.1:{} (from HTTPS_PROXY)",
        proxy.port
    ));
    assert_eq!(connects_to(&proxy, &front), 3, "{}", proxy.log());
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn a_proxy_that_closes_the_tunnel() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = ClosingProxy::start();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTPS_PROXY) closed the connection when asked to tunnel (CONNECT) to localhost:{}; the MFA code was not used",
        proxy.url(),
        front.addr.port()
    ));
    assert_eq!(proxy.connects(), 1);
    assert!(s.calls().is_empty());
}

#[test]
fn login_goes_through_the_proxy() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    let out = s
        .run(["login", "prod", "--print", "-t", &s.code(), "-v"])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    out.stdout_has("SigninToken=");
    out.stderr_has(&format!(
        "mfaexec: reaching {}/federation through the proxy {} (from HTTPS_PROXY)",
        front.url("localhost"),
        proxy.url()
    ));
    // One tunnel for STS, one for the federation endpoint.
    assert_eq!(connects_to(&proxy, &front), 2, "{}", proxy.log());
    assert_eq!(s.sts.federation_calls().len(), 1);
}

#[test]
fn login_refuses_an_untrusted_federation_endpoint() {
    let (s, front) = tls_sandbox(&["localhost"]);
    // STS over plain http (trusted by nobody's CA), federation over the test CA's TLS.
    let mut s = s;
    let plain = s.sts.url();
    s.set("AWS_ENDPOINT_URL_STS", &plain);
    let out = s
        .run(["login", "prod", "--print", "-t", &s.code()])
        .failure(1);
    out.stderr_has(&format!(
        "the certificate of localhost:{} is not trusted: its issuer `CN=mfaexec test root CA`",
        front.addr.port()
    ));
    out.stderr_has("hint: on a network that inspects TLS, set AWS_CA_BUNDLE");
    assert!(s.sts.federation_calls().is_empty());
    let proxy = Tinyproxy::start();
    s.run(["login", "prod", "--print"])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success()
        .stdout_has("SigninToken=");
    assert_eq!(connects_to(&proxy, &front), 1, "{}", proxy.log());
}

#[test]
fn a_bad_ca_bundle_is_refused_before_the_mfa_code() {
    let s = Sandbox::standard();
    let marker = s.path("code-asked");
    s.append_config(&format!(
        "\n[profile prod]\nmfa_process = touch {} && echo 123456\n",
        marker.display()
    ));
    let missing = s.path("no-such.pem");
    let out = s
        .run(["env", "prod"])
        .env("AWS_CA_BUNDLE", &missing)
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: CA bundle {} (from AWS_CA_BUNDLE): cannot read it",
        missing.display()
    ));
    let empty = s.path("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let out = s
        .run(["env", "prod"])
        .env("AWS_CA_BUNDLE", &empty)
        .failure(1);
    out.stderr_has(&format!(
        "mfaexec: CA bundle {} (from AWS_CA_BUNDLE): no certificate in it",
        empty.display()
    ));
    out.stderr_has("hint: AWS_CA_BUNDLE (or ca_bundle) must name a PEM file");
    let out = s
        .run(["login", "prod", "--print"])
        .env("AWS_CA_BUNDLE", &empty)
        .failure(1);
    out.stderr_has("no certificate in it");
    assert!(!marker.exists(), "an MFA code was asked");
    assert!(s.calls().is_empty());
}

#[test]
fn dry_run_shows_the_proxy_masked_and_the_bundle() {
    let (s, _front) = tls_sandbox(&["localhost"]);
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("HTTPS_PROXY", "http://bob:hunter2@127.0.0.1:3128")
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    out.stdout_has(
        "proxy       STS: through the proxy http://bob:****@127.0.0.1:3128 (from HTTPS_PROXY)",
    );
    out.stdout_has(&format!(
        "CA bundle   {} (from AWS_CA_BUNDLE): 1 certificate, the only roots trusted",
        bundle(&s)
    ));
    assert!(!out.stdout().contains("hunter2"), "{}", out.stdout());
    let out = s
        .run(["login", "prod", "--dry-run"])
        .env("HTTPS_PROXY", "http://bob:hunter2@127.0.0.1:3128")
        .env("NO_PROXY", ".localhost")
        .success();
    out.stdout_has("proxy       STS: directly: `.localhost` of NO_PROXY bypasses the proxy");
    out.stdout_has("proxy       sign-in: directly: `.localhost` of NO_PROXY bypasses the proxy");
    out.stdout_has("CA bundle   the system's root certificates");
    assert!(!out.stdout().contains("hunter2"));
    assert!(s.calls().is_empty());
}

/// The endpoint `--dry-run` shows for a region and settings, with no explicit endpoint.
fn dry_run_endpoint(s: &Sandbox, region: &str, vars: &[(&str, &str)]) -> String {
    let mut run = s
        .run(["env", "prod", "--dry-run", "--region", region])
        .env_remove("AWS_ENDPOINT_URL_STS");
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let out = run.success();
    out.stdout()
        .lines()
        .find_map(|l| l.strip_prefix("endpoint    "))
        .unwrap_or_else(|| panic!("no endpoint line:\n{}", out.stdout()))
        .to_owned()
}

#[test]
fn fips_and_dual_stack_endpoints_by_region_and_partition() {
    let s = Sandbox::standard();
    let fips = ("AWS_USE_FIPS_ENDPOINT", "true");
    let dual = ("AWS_USE_DUALSTACK_ENDPOINT", "true");
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&str, Vars, &str)] = &[
        ("us-east-1", &[], "https://sts.us-east-1.amazonaws.com"),
        (
            "us-east-1",
            &[fips],
            "https://sts-fips.us-east-1.amazonaws.com",
        ),
        (
            "us-west-2",
            &[fips],
            "https://sts-fips.us-west-2.amazonaws.com",
        ),
        ("eu-west-1", &[dual], "https://sts.eu-west-1.api.aws"),
        (
            "us-east-1",
            &[fips, dual],
            "https://sts-fips.us-east-1.api.aws",
        ),
        ("cn-north-1", &[], "https://sts.cn-north-1.amazonaws.com.cn"),
        (
            "cn-north-1",
            &[dual],
            "https://sts.cn-north-1.api.amazonwebservices.com.cn",
        ),
        (
            "us-gov-west-1",
            &[fips],
            "https://sts.us-gov-west-1.amazonaws.com",
        ),
        (
            "us-gov-east-1",
            &[dual],
            "https://sts.us-gov-east-1.api.aws",
        ),
        // sts_regional_endpoints = legacy: the global endpoint where it existed.
        (
            "eu-west-1",
            &[("AWS_STS_REGIONAL_ENDPOINTS", "legacy")],
            "https://sts.amazonaws.com",
        ),
        (
            "eu-west-1",
            &[("AWS_STS_REGIONAL_ENDPOINTS", "regional")],
            "https://sts.eu-west-1.amazonaws.com",
        ),
    ];
    for (region, vars, expected) in cases {
        let line = dry_run_endpoint(&s, region, vars);
        assert!(
            line.starts_with(&format!(
                "{expected} (the SDK's endpoint rules for {region}"
            )),
            "{region} {vars:?}: {line}"
        );
    }
    let line = dry_run_endpoint(&s, "eu-west-1", &[fips]);
    assert!(
        line.ends_with(", FIPS from AWS_USE_FIPS_ENDPOINT)"),
        "{line}"
    );
}

#[test]
fn endpoint_variants_from_the_profile_and_an_explicit_endpoint_wins() {
    let s = Sandbox::standard();
    s.append_config("\n[profile prod]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = TRUE\n");
    let line = dry_run_endpoint(&s, "us-east-2", &[]);
    assert_eq!(
        line,
        "https://sts-fips.us-east-2.api.aws (the SDK's endpoint rules for us-east-2, FIPS from use_fips_endpoint of profile `prod`, dual-stack from use_dualstack_endpoint of profile `prod`)"
    );
    // The variable wins over the profile.
    let line = dry_run_endpoint(&s, "us-east-2", &[("AWS_USE_FIPS_ENDPOINT", "false")]);
    assert!(line.starts_with("https://sts.us-east-2.api.aws "), "{line}");
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("AWS_USE_FIPS_ENDPOINT", "true")
        .success();
    out.stdout_has(&format!("endpoint    {} (from ", s.sts.url()));
    out.stdout_has("FIPS (AWS_USE_FIPS_ENDPOINT) does not apply to an explicit endpoint");
    // And the call goes there.
    s.run(["env", "prod", "-t", &s.code()])
        .env("AWS_USE_FIPS_ENDPOINT", "true")
        .success();
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn endpoint_settings_that_are_not_booleans_are_refused() {
    let s = Sandbox::standard();
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("AWS_USE_FIPS_ENDPOINT", "yes")
        .failure(2);
    out.one_line_error();
    out.stderr_has("mfaexec: AWS_USE_FIPS_ENDPOINT: `yes` is neither true nor false");
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("AWS_STS_REGIONAL_ENDPOINTS", "global")
        .failure(2);
    out.stderr_has("`global` is neither regional nor legacy");
}

#[test]
fn a_forward_proxy_asking_for_credentials() {
    let s = Sandbox::standard();
    let proxy = Tinyproxy::with_basic_auth("alice", "s3cret");
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url())
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTP_PROXY) asks for a user name and password (407 Proxy Authentication Required); the MFA code was not used (the proxy stopped the request)",
        proxy.url()
    ));
    assert!(s.calls().is_empty());
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("http_proxy", proxy.url_as("alice:s3cret"))
        .success();
    assert!(!out.stderr().contains("s3cret"));
    assert_eq!(
        proxy.requests(),
        vec![
            format!("POST {}/ HTTP/1.1", s.sts.url()),
            format!("POST {}/ HTTP/1.1", s.sts.url())
        ],
        "{}",
        proxy.log()
    );
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

/// The example in docs/networks.md for a TLS-inspecting corporate proxy, on loopback: the proxy wants
/// basic auth, the endpoint's certificate comes from the "company's" root in ~/.aws.
#[test]
fn the_readmes_corporate_proxy_example() {
    let mut s = Sandbox::standard();
    let ca = TestCa::new("Corp Example TLS Inspection Root");
    let (chain, key) = ca.server_cert(&["127.0.0.1"]);
    let front = s.sts_behind_tls("127.0.0.1", chain, key);
    ca.write_bundle(&s.home().join(".aws/corp-root.pem"));
    let proxy = Tinyproxy::with_basic_auth("alice", "PASSWORD");
    let home = s.home().display().to_string();
    let vars = [
        ("HTTPS_PROXY", proxy.url_as("alice:PASSWORD")),
        ("NO_PROXY", "localhost,.corp.example,10.0.0.0/8".to_owned()),
        ("AWS_CA_BUNDLE", format!("{home}/.aws/corp-root.pem")),
    ];
    for (k, v) in &vars {
        s.set(k, v);
    }
    let out = s.run(["prod", "--dry-run"]).success();
    out.stdout_has(&format!(
        "proxy       STS: through the proxy http://alice:****@127.0.0.1:{} (from HTTPS_PROXY)",
        proxy.port
    ));
    out.stdout_has(&format!(
        "CA bundle   {home}/.aws/corp-root.pem (from AWS_CA_BUNDLE): 1 certificate"
    ));
    assert!(!out.stdout().contains("PASSWORD"));
    let out = s
        .run([
            "prod",
            "-t",
            &s.code(),
            "--",
            "sh",
            "-c",
            "echo $HTTPS_PROXY",
        ])
        .success();
    // The command gets the same settings, for the AWS CLI and the SDKs.
    assert_eq!(out.stdout().trim(), vars[0].1);
    assert_eq!(
        proxy.requests(),
        vec![format!("CONNECT 127.0.0.1:{} HTTP/1.1", front.addr.port())],
        "{}",
        proxy.log()
    );
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

#[test]
fn ca_bundle_paths_may_start_with_the_home_directory() {
    let (s, _front) = tls_sandbox(&["localhost"]);
    std::fs::copy(s.path("ca.pem"), s.home().join("corp.pem")).unwrap();
    s.append_config("\n[profile prod]\nca_bundle = ~/corp.pem\n");
    let out = s.run(["env", "prod", "-t", &s.code()]).success();
    out.stdout_has("export AWS_SESSION_TOKEN=");
    let out = s.run(["env", "prod", "--dry-run"]).success();
    out.stdout_has(&format!(
        "CA bundle   {}/corp.pem (from ca_bundle of profile `prod`): 1 certificate",
        s.home().display()
    ));
}

#[test]
fn a_forward_proxy_that_is_not_listening_is_named() {
    let s = Sandbox::standard();
    let port = free_port();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", format!("http://127.0.0.1:{port}"))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: cannot connect to the proxy http://127.0.0.1:{port} (from HTTP_PROXY): connection refused; the MFA code was not used"
    ));
    assert!(s.calls().is_empty());
}

#[test]
fn login_names_a_proxy_failure_on_the_way_to_the_federation_endpoint() {
    let (mut s, front) = tls_sandbox(&["localhost"]);
    // STS over plain http (HTTPS_PROXY is not for it), federation over https through the proxy.
    let plain = s.sts.url();
    s.set("AWS_ENDPOINT_URL_STS", &plain);
    let proxy = ClosingProxy::start();
    let out = s
        .run(["login", "prod", "--print", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTPS_PROXY) closed the connection when asked to tunnel (CONNECT) to localhost:{}",
        proxy.url(),
        front.addr.port()
    ));
    assert_eq!(proxy.connects(), 1);
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
    assert!(s.sts.federation_calls().is_empty());
}

/// The MFA-code note of a failed run: what follows the last "; " of the error line.
fn note(out: &Out) -> String {
    let err = out.stderr();
    let line = err.lines().next().unwrap_or("");
    line.rsplit_once("; ")
        .map(|(_, n)| n.to_owned())
        .unwrap_or_default()
}

// See: net-review finding 1. The SDK's stalled-stream protection cut every wait at ~6s with
// "no answer ... within 30s; the MFA code may have been used", though nothing was sent.
#[test]
fn a_proxy_that_never_answers_the_connect() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = StandInProxy::start(Answer::Nothing);
    let start = std::time::Instant::now();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", bundle(&s))
        .env("MFAEXEC_STS_TIMEOUT", "8")
        .failure(1);
    let waited = start.elapsed();
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTPS_PROXY) did not answer the request to tunnel (CONNECT) to localhost:{} within 8s; the MFA code was not used (the request never reached STS)",
        proxy.url(),
        front.addr.port()
    ));
    out.stderr_has("hint: check HTTPS_PROXY");
    // The wait named is the wait made.
    assert!(waited >= std::time::Duration::from_secs(8), "{waited:?}");
    assert!(proxy.requests().iter().all(|r| r.starts_with("CONNECT ")));
    assert!(s.calls().is_empty());
    assert_eq!(front.handshakes(), 0);
}

#[test]
fn a_proxy_whose_tunnel_stays_silent() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = StandInProxy::start(Answer::TunnelThenNothing);
    for timeout in ["3", "8"] {
        let out = s
            .run(["env", "prod", "-t", &s.code(), "-r"])
            .env("HTTPS_PROXY", proxy.url())
            .env("AWS_CA_BUNDLE", bundle(&s))
            .env("MFAEXEC_STS_TIMEOUT", timeout)
            .failure(1);
        out.one_line_error();
        out.stderr_has(&format!(
            "mfaexec: no TLS handshake with localhost:{} through the proxy {} (from HTTPS_PROXY) within {timeout}s: the proxy opened the tunnel (CONNECT), but nothing answered through it",
            front.addr.port(),
            proxy.url(),
        ));
        assert_eq!(
            note(&out),
            "the MFA code was not used (the request never reached STS)"
        );
    }
    assert!(s.calls().is_empty());
}

#[test]
fn a_server_that_never_completes_the_tls_handshake() {
    let (s, _front) = tls_sandbox(&["localhost"]);
    let silent = silent_server();
    let endpoint = format!("https://localhost:{}", silent.port);
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("AWS_ENDPOINT_URL_STS", &endpoint)
        .env("AWS_CA_BUNDLE", bundle(&s))
        .env("MFAEXEC_STS_TIMEOUT", "7")
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: no connection to STS at {endpoint} within 7s (the TCP connection or the TLS handshake did not complete); the MFA code was not used (the request never reached STS)"
    ));
    assert!(s.calls().is_empty());
}

// See: net-review finding 3. A timeout after the request was sent: STS may have the code.
#[test]
fn a_timeout_after_the_request_was_sent_may_have_used_the_code() {
    let s = Sandbox::standard();
    s.sts
        .inject(Fault::Delay(std::time::Duration::from_secs(3)));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("MFAEXEC_STS_TIMEOUT", "1")
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: no answer from STS at {} within 1s",
        s.sts.url()
    ));
    assert_eq!(
        note(&out),
        "the MFA code may have been used: use the next one"
    );
}

#[test]
fn an_sts_failure_says_sts_received_the_code() {
    let s = Sandbox::standard();
    s.sts.inject(Fault::Status(503));
    let out = s.run(["env", "prod", "-t", &s.code()]).failure(1);
    out.one_line_error();
    out.stderr_has("mfaexec: STS failed with HTTP 503 for AssumeRole");
    assert_eq!(note(&out), "STS received the MFA code: use the next one");
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
}

// See: net-review finding 2. A forward proxy's own answer is not STS's.
#[test]
fn a_forward_proxys_own_error_is_not_an_sts_answer() {
    let s = Sandbox::standard();
    let proxy = Tinyproxy::start();
    // Nothing listens at this endpoint: tinyproxy answers 500 "Unable to connect" itself.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("AWS_ENDPOINT_URL_STS", &closed)
        .env("HTTP_PROXY", proxy.url())
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTP_PROXY) answered HTTP 500 instead of passing on an answer from STS at {closed}",
        proxy.url()
    ));
    assert_eq!(
        note(&out),
        "the MFA code may have been used: use the next one"
    );
    assert!(
        !out.stderr().contains("AWS had a problem"),
        "{}",
        out.stderr()
    );
    let busy = StandInProxy::start(Answer::Status(503));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", busy.url())
        .failure(1);
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTP_PROXY) answered HTTP 503 instead of passing on an answer from STS at {}",
        busy.url(),
        s.sts.url()
    ));
    assert_eq!(
        note(&out),
        "the MFA code may have been used: use the next one"
    );
    assert_eq!(
        busy.requests(),
        vec![format!("POST {}/ HTTP/1.1", s.sts.url())]
    );
    assert!(s.calls().is_empty());
}

#[test]
fn a_forward_proxy_refusing_the_credentials() {
    let s = Sandbox::standard();
    let proxy = Tinyproxy::with_basic_auth("alice", "s3cret");
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url_as("alice:wr0ng"))
        .failure(1);
    out.one_line_error();
    // tinyproxy answers wrong credentials with 401.
    out.stderr_has(&format!(
        "mfaexec: the proxy http://alice:****@127.0.0.1:{} (from HTTP_PROXY) refused the user name and password in its URL (HTTP 401); the MFA code was not used (the proxy stopped the request)",
        proxy.port
    ));
    assert!(!out.stderr().contains("wr0ng"));
    assert!(s.calls().is_empty());
}

// See: net-review finding 9. A forward proxy answering 407 to given credentials: check them.
#[test]
fn a_forward_proxy_answering_407_to_given_credentials() {
    let s = Sandbox::standard();
    let proxy = StandInProxy::start(Answer::Status(407));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url_as("bob:hunter2"))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy http://bob:****@127.0.0.1:{} (from HTTP_PROXY) refused the user name and password in its URL (407 Proxy Authentication Required); the MFA code was not used (the proxy stopped the request)",
        proxy.port
    ));
    out.stderr_has("hint: check the user name and password in HTTP_PROXY");
    assert!(!out.stderr().contains("hunter2"));
    // The credentials were sent, as basic auth.
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1);
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic"),
        "{}",
        heads[0]
    );
}

// See: net-review finding 4. curl and botocore take https_proxy and no_proxy over the upper
// case; so does mfaexec, or the command it runs would use another proxy than it did.
#[test]
fn lower_case_proxy_variables_win_as_for_curl_and_the_aws_cli() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = Tinyproxy::start();
    let unused = format!("http://127.0.0.1:{}", free_port());
    let out = s
        .run(["env", "prod", "-t", &s.code(), "-v"])
        .env("https_proxy", proxy.url())
        .env("HTTPS_PROXY", &unused)
        .env("AWS_CA_BUNDLE", bundle(&s))
        .success();
    out.stderr_has(&format!(
        "through the proxy {} (from https_proxy)",
        proxy.url()
    ));
    assert_eq!(connects_to(&proxy, &front), 1, "{}", proxy.log());
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("https_proxy", proxy.url())
        .env("no_proxy", "localhost")
        .env("NO_PROXY", "example.com")
        .success();
    out.stdout_has("proxy       STS: directly: `localhost` of no_proxy bypasses the proxy");
    let out = s
        .run(["env", "prod", "--dry-run"])
        .env("http_proxy", proxy.url())
        .env("HTTP_PROXY", &unused)
        .env("AWS_ENDPOINT_URL_STS", s.sts.url())
        .success();
    out.stdout_has(&format!(
        "proxy       STS: through the proxy {} (from http_proxy)",
        proxy.url()
    ));
}

// See: net-review finding 5. The bundle is set but lacks the root: say so, not "set AWS_CA_BUNDLE".
#[test]
fn a_bundle_without_the_right_root_is_named() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let other = TestCa::new("Some other root");
    let wrong = s.path("other.pem");
    std::fs::write(
        &wrong,
        format!("{}{}", other.pem(), TestCa::new("A third root").pem()),
    )
    .unwrap();
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("AWS_CA_BUNDLE", &wrong)
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the certificate of localhost:{} is not trusted: its issuer `CN=mfaexec test root CA` is not among the 2 certificates of {} (from AWS_CA_BUNDLE); the MFA code was not used",
        front.addr.port(),
        wrong.display()
    ));
    out.stderr_has(&format!(
        "hint: {} must hold the root certificate that issued it",
        wrong.display()
    ));
    assert!(
        !out.stderr()
            .contains("hint: on a network that inspects TLS, set"),
        "{}",
        out.stderr()
    );
    assert!(s.calls().is_empty());
}

// See: net-review finding 6. Bundles curl and Python accept: a UTF-8 byte order mark first, and
// `openssl x509 -trustout`'s TRUSTED CERTIFICATE blocks.
#[test]
fn bundles_with_a_bom_or_trusted_certificate_blocks_are_read() {
    let (s, _front) = tls_sandbox(&["localhost"]);
    let pem = std::fs::read_to_string(s.path("ca.pem")).unwrap();
    let bom = s.path("bom.pem");
    std::fs::write(&bom, format!("\u{feff}{pem}")).unwrap();
    let trusted = s.path("trusted.pem");
    let made = std::process::Command::new("openssl")
        .args(["x509", "-trustout", "-addtrust", "serverAuth", "-in"])
        .arg(s.path("ca.pem"))
        .arg("-out")
        .arg(&trusted)
        .status()
        .expect("run openssl (scripts/test installs it)");
    assert!(made.success());
    let text = std::fs::read_to_string(&trusted).unwrap();
    assert!(
        text.contains("-----BEGIN TRUSTED CERTIFICATE-----"),
        "{text}"
    );
    for bundle in [&bom, &trusted] {
        let out = s
            .run(["env", "prod", "-t", &s.code(), "-r", "-v"])
            .env("AWS_CA_BUNDLE", bundle)
            .success();
        out.stderr_has(&format!(
            "trusting {} (from AWS_CA_BUNDLE): 1 certificate",
            bundle.display()
        ));
    }
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 2);
    // A damaged block is named, with the command that writes plain PEM.
    let broken = s.path("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN TRUSTED CERTIFICATE-----\nnot base64!\n-----END TRUSTED CERTIFICATE-----\n",
    )
    .unwrap();
    let out = s
        .run(["env", "prod", "-t", &s.code(), "-r"])
        .env("AWS_CA_BUNDLE", &broken)
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: CA bundle {} (from AWS_CA_BUNDLE): not a PEM file: a TRUSTED CERTIFICATE block is not valid base64",
        broken.display()
    ));
    out.stderr_has(&format!(
        "hint: write its certificate as plain PEM with `openssl x509 -in {} -out root.pem`",
        broken.display()
    ));
}

// See: net-review finding 10. `http://alice:p@ss@host` was cut to the password `p`.
#[test]
fn a_raw_at_sign_in_the_proxy_password_is_refused() {
    let s = Sandbox::standard();
    let proxy = StandInProxy::start(Answer::Status(407));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url_as("alice:p@ss"))
        .failure(2);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: HTTP_PROXY `http://alice:****@127.0.0.1:{}`: the user name or password holds a raw `@`: write @ as %40",
        proxy.port
    ));
    assert!(!out.stderr().contains("ss@"), "{}", out.stderr());
    assert!(s.calls().is_empty());
    assert!(proxy.heads().is_empty());
    // Written as %40, the whole password is sent.
    s.run(["env", "prod", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url_as("alice:p%40ss"))
        .failure(1);
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1);
    // alice:p@ss
    assert!(heads[0].contains("Basic YWxpY2U6cEBzcw=="), "{}", heads[0]);
}

// See: issue 18, defect 6. With `http://alice:s3cr/et@127.0.0.1:3128`, --dry-run and the error
// line showed `alice:s3cr/et` (the mask cut the user info at the first `/`), and mfaexec
// connected to the host `alice`, not the one it named.
#[test]
fn a_raw_slash_question_mark_or_hash_in_the_proxy_password_is_refused_and_masked() {
    let s = Sandbox::standard();
    let proxy = StandInProxy::start(Answer::Status(407));
    for (password, raw, encoded) in [
        ("s3cr/et", '/', "%2F"),
        ("s3cr?et", '?', "%3F"),
        ("s3cr#et", '#', "%23"),
    ] {
        let url = format!("http://alice:{password}@127.0.0.1:{}", proxy.port);
        for args in [
            vec!["env", "prod", "--dry-run"],
            vec!["env", "prod", "-t", "123456"],
        ] {
            let out = s.run(args.clone()).env("HTTP_PROXY", &url).failure(2);
            out.one_line_error();
            out.stderr_has(&format!(
                "mfaexec: HTTP_PROXY `http://alice:****@127.0.0.1:{}`: the user name or password holds a raw `{raw}`: write {raw} as {encoded}",
                proxy.port
            ));
            for text in [out.stdout(), out.stderr()] {
                assert!(!text.contains("s3cr"), "{args:?}: {text}");
                assert!(!text.contains("et@"), "{args:?}: {text}");
            }
        }
    }
    assert!(s.calls().is_empty());
    assert!(proxy.heads().is_empty());
    // Written as %2F, the whole password goes to the proxy named.
    s.run(["env", "prod", "-t", &s.code()])
        .env(
            "HTTP_PROXY",
            format!("http://alice:s3cr%2Fet@127.0.0.1:{}", proxy.port),
        )
        .failure(1);
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1);
    // alice:s3cr/et
    assert!(
        heads[0].contains("Basic YWxpY2U6czNjci9ldA=="),
        "{}",
        heads[0]
    );
}

// See: net-review finding 11. An expired certificate was "not acceptable: Expired".
#[test]
fn an_expired_certificate_says_when_it_expired() {
    let mut s = Sandbox::standard();
    let ca = TestCa::new("mfaexec test root CA");
    let (chain, key) = ca.expired_server_cert(&["localhost"]);
    let front = s.sts_behind_tls("localhost", chain, key);
    ca.write_bundle(&s.path("ca.pem"));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the certificate of localhost:{} expired on 2020-01-02T00:00:00Z; the MFA code was not used",
        front.addr.port()
    ));
    out.stderr_has("hint: check this machine's clock");
    assert!(s.calls().is_empty());
}

// See: net-review finding 12. A dry run exited 0 with "network unusable: ...".
#[test]
fn dry_run_fails_on_an_unusable_proxy_or_bundle() {
    let s = Sandbox::standard();
    let missing = s.path("no-such.pem");
    let commands: [&[&str]; 3] = [
        &["env", "prod", "--dry-run"],
        &["login", "prod", "--dry-run"],
        &["prod", "--server", "--dry-run", "--", "true"],
    ];
    for command in commands {
        let out = s.run(command).env("AWS_CA_BUNDLE", &missing).failure(1);
        out.one_line_error();
        out.stderr_has(&format!(
            "mfaexec: CA bundle {} (from AWS_CA_BUNDLE): cannot read it",
            missing.display()
        ));
        assert!(out.stdout().is_empty(), "{}", out.stdout());
        let out = s
            .run(command)
            .env("HTTPS_PROXY", "socks5://127.0.0.1:1080")
            .env("HTTP_PROXY", "socks5://127.0.0.1:1080")
            .failure(2);
        out.stderr_has("only http:// proxies are supported");
    }
    assert!(s.calls().is_empty());
}

// See: net-review finding 7. The real call goes to the host the endpoint rules give: the
// CONNECT target proves it, with no network (the proxy closes each tunnel).
#[test]
fn the_call_goes_to_the_fips_dual_stack_or_global_host() {
    let s = Sandbox::standard();
    let proxy = ClosingProxy::start();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "us-east-1",
            "AWS_USE_FIPS_ENDPOINT",
            "true",
            "sts-fips.us-east-1.amazonaws.com:443",
        ),
        (
            "eu-west-1",
            "AWS_USE_DUALSTACK_ENDPOINT",
            "true",
            "sts.eu-west-1.api.aws:443",
        ),
        (
            "eu-west-1",
            "AWS_STS_REGIONAL_ENDPOINTS",
            "legacy",
            "sts.amazonaws.com:443",
        ),
    ];
    for (region, var, value, _) in cases {
        let out = s
            .run(["env", "prod", "-t", &s.code(), "--region", region])
            .env_remove("AWS_ENDPOINT_URL_STS")
            .env(var, value)
            .env("HTTPS_PROXY", proxy.url())
            .failure(1);
        out.stderr_has("closed the connection when asked to tunnel (CONNECT)");
    }
    let expected: Vec<String> = cases.iter().map(|c| c.3.to_owned()).collect();
    assert_eq!(proxy.targets(), expected);
    assert!(s.calls().is_empty());
}

#[test]
fn a_connect_proxy_answering_407_to_given_credentials() {
    let (s, front) = tls_sandbox(&["localhost"]);
    let proxy = StandInProxy::start(Answer::Status(407));
    let out = s
        .run(["env", "prod", "-t", &s.code()])
        .env("HTTPS_PROXY", proxy.url_as("bob:hunter2"))
        .env("AWS_CA_BUNDLE", bundle(&s))
        .failure(1);
    out.one_line_error();
    out.stderr_has(&format!(
        "mfaexec: the proxy http://bob:****@127.0.0.1:{} (from HTTPS_PROXY) refused the user name and password in its URL (407 Proxy Authentication Required); the MFA code was not used",
        proxy.port
    ));
    out.stderr_has("hint: check the user name and password in HTTPS_PROXY");
    assert!(!out.stderr().contains("hunter2"));
    let requests = proxy.requests();
    assert_eq!(
        requests.first().map(String::as_str),
        Some(format!("CONNECT localhost:{} HTTP/1.1", front.addr.port()).as_str())
    );
    assert!(
        proxy.heads()[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic"),
        "{}",
        proxy.heads()[0]
    );
    assert!(s.calls().is_empty());
}

/// A proxy host name that cannot be resolved. Resolving needs no network to fail: mfaexec runs
/// in a network namespace of its own (util-linux `unshare`), where the resolver is unreachable
/// and fails at once, so no query leaves the machine.
#[test]
fn a_proxy_host_that_cannot_be_resolved() {
    let s = Sandbox::standard();
    let namespaces = std::process::Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|st| st.success());
    assert!(
        namespaces,
        "`unshare -rn` (util-linux, user and network namespaces) is needed"
    );
    let output = s
        .command_of("unshare")
        .arg("-rn")
        .arg(bin())
        .args(["env", "prod", "-t", &s.code()])
        .env("AWS_ENDPOINT_URL_STS", "https://sts.example.com")
        .env("HTTPS_PROXY", "http://proxy.invalid:3128")
        .output()
        .unwrap();
    let out = Out(output);
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    out.one_line_error();
    out.stderr_has(
        "mfaexec: cannot connect to the proxy http://proxy.invalid:3128 (from HTTPS_PROXY): its host name cannot be resolved; the MFA code was not used",
    );
    out.stderr_has("hint: check HTTPS_PROXY");
}

// See: net-review finding 8. An http:// federation URL went through HTTP_PROXY as a CONNECT
// tunnel, while STS over http:// is forwarded; both are forward requests now.
#[test]
fn an_http_federation_endpoint_is_forwarded_through_the_proxy() {
    let mut s = Sandbox::standard();
    let federation = s.use_fake_federation();
    let proxy = Tinyproxy::with_basic_auth("alice", "s3cret");
    let out = s
        .run(["login", "prod", "--print", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url_as("alice:s3cret"))
        .success();
    out.stdout_has("SigninToken=");
    assert!(!out.stderr().contains("s3cret"));
    assert_eq!(
        proxy.requests(),
        vec![
            format!("POST {}/ HTTP/1.1", s.sts.url()),
            format!("POST {federation} HTTP/1.1"),
        ],
        "{}",
        proxy.log()
    );
    assert_eq!(s.sts.federation_calls().len(), 1);
}

#[test]
fn a_forward_proxy_asking_for_credentials_on_the_way_to_the_federation_endpoint() {
    let mut s = Sandbox::standard();
    let federation = s.use_fake_federation();
    // STS at localhost bypasses the proxy; the federation endpoint at 127.0.0.1 goes through it.
    let port = s.sts.url().rsplit(':').next().unwrap().to_owned();
    s.set("AWS_ENDPOINT_URL_STS", &format!("http://localhost:{port}"));
    let proxy = StandInProxy::start(Answer::Status(407));
    let out = s
        .run(["login", "prod", "--print", "-t", &s.code()])
        .env("HTTP_PROXY", proxy.url())
        .env("NO_PROXY", "localhost")
        .failure(1);
    // The session was made (and cached); the error is the last line before the hint.
    out.stderr_has(&format!(
        "mfaexec: the proxy {} (from HTTP_PROXY) asks for a user name and password (407 Proxy Authentication Required)",
        proxy.url()
    ));
    out.stderr_has("hint: put them in the proxy URL: HTTP_PROXY=http://USER:PASSWORD@HOST:PORT");
    assert_eq!(
        proxy.requests(),
        vec![format!("POST {federation} HTTP/1.1")]
    );
    assert_eq!(of(&s.calls(), "AssumeRole").len(), 1);
    assert!(s.sts.federation_calls().is_empty());
}
