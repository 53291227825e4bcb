//! `mfaexec serve` (issue 19): the per-user credentials daemon, its control socket, and its
//! clients (`env --server`, `PROFILE --server -- CMD`). The daemon runs in each test's own
//! XDG_RUNTIME_DIR, and is stopped (or killed) when the test ends.
//!
//! Renewal is made quick as in tests/server.rs (whose sandbox this is):
//! `MFAEXEC_REFRESH_WINDOW=890` with `-d 15m` makes a session due 10 seconds after STS issued it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::aws_cli::aws_program;
use crate::support::fake_sts::Role;
use crate::support::shell::{self, SHELLS, Tmux};
use crate::support::*;

/// tests/server.rs's sandbox (alice's keys under `[alice]`, `prod` a direct role, `deploy` a
/// chain behind it), with the daemon's directories in it.
fn sandbox() -> Sandbox {
    configure(Sandbox::standard())
}

fn configure(s: Sandbox) -> Sandbox {
    let mut s = crate::server::alice_apart(s);
    let run = s.path("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    s.set("XDG_RUNTIME_DIR", &run.display().to_string());
    s.set("XDG_STATE_HOME", &s.path("state").display().to_string());
    s
}

fn socket(s: &Sandbox) -> PathBuf {
    s.path("run/mfaexec/serve.sock")
}

fn log(s: &Sandbox) -> String {
    std::fs::read_to_string(s.path("state/mfaexec/serve.log")).unwrap_or_default()
}

/// A daemon started with `serve --background`; killed when dropped.
struct Daemon {
    pid: u32,
}

impl Daemon {
    fn start(s: &Sandbox) -> Daemon {
        let out = s.run(["serve", "--background"]).success();
        let err = out.stderr();
        let pid = err
            .split("(pid ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no pid in: {err}"));
        Daemon { pid }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status();
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// The variables `env --server` printed.
fn exported(out: &Out) -> HashMap<String, String> {
    out.stdout()
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| {
            let words = shell_words::split(v).expect(v);
            (k.to_owned(), words.concat())
        })
        .collect()
}

/// The `unset` names of `env` output.
fn unset_names(out: &Out) -> Vec<String> {
    out.stdout()
        .lines()
        .filter_map(|l| l.strip_prefix("unset "))
        .flat_map(|rest| rest.split_whitespace().map(str::to_owned))
        .collect()
}

/// GET of a full URI `http://127.0.0.1:PORT/PATH` with `token`; the status and JSON body.
fn get(uri: &str, token: &str) -> (u16, serde_json::Value) {
    let rest = uri.strip_prefix("http://127.0.0.1:").expect(uri);
    let (port, path) = rest.split_at(rest.find('/').expect(uri));
    let port: u16 = port.parse().expect(uri);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn assume_role_calls(s: &Sandbox) -> Vec<fake_sts::Call> {
    of(&s.calls(), "AssumeRole")
}

#[test]
fn serve_status_and_stop_and_a_second_serve_finds_the_first() {
    let s = sandbox();
    s.run(["serve", "--status"])
        .failure(1)
        .stderr_has("mfaexec serve is not running")
        .one_line_error();
    let daemon = Daemon::start(&s);
    assert!(alive(daemon.pid));
    let sock = socket(&s);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sock), 0o600);
    assert_eq!(mode(&s.path("run/mfaexec")), 0o700);
    let status = s.run(["serve", "--status"]).success();
    status
        .stdout_has(&format!("pid {}", daemon.pid))
        .stdout_has("no sessions held");
    // A second one, in the foreground or not, says where the first is and leaves it be.
    for args in [&["serve"][..], &["serve", "--background"]] {
        let out = s.run(args).success();
        assert!(
            out.stderr().contains(&format!("(pid {})", daemon.pid)),
            "{args:?}: {}",
            out.stderr()
        );
    }
    assert!(alive(daemon.pid));
    s.run(["serve", "--stop"])
        .success()
        .stderr_has(&format!("serve (pid {}) has stopped", daemon.pid));
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(daemon.pid) {
        assert!(Instant::now() < deadline, "the daemon did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sock.exists(), "the socket is removed");
    s.run(["serve", "--stop"])
        .success()
        .stderr_has("not running");
    let log = log(&s);
    assert!(log.contains("serve started"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn a_stale_socket_of_a_killed_daemon_is_replaced() {
    let s = sandbox();
    let first = Daemon::start(&s);
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &first.pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(first.pid) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(socket(&s).exists(), "a killed daemon leaves its socket");
    s.run(["serve", "--status"])
        .failure(1)
        .stderr_has("not running");
    let second = Daemon::start(&s);
    assert_ne!(second.pid, first.pid);
    s.run(["serve", "--status"])
        .success()
        .stdout_has(&format!("pid {}", second.pid));
    assert!(log(&s).contains("replacing a stale one"), "{}", log(&s));
}

#[test]
fn a_client_of_another_uid_is_refused() {
    let s = sandbox();
    let _daemon = Daemon::start(&s);
    // Opened up, so that only the daemon's own check stands between another user and it.
    for (path, mode) in [("run", 0o755), ("run/mfaexec", 0o755)] {
        std::fs::set_permissions(s.path(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(socket(&s), std::fs::Permissions::from_mode(0o666)).unwrap();
    let client = "import socket,sys\n\
                  c=socket.socket(socket.AF_UNIX)\n\
                  c.connect(sys.argv[1])\n\
                  print(c.makefile().readline())";
    let out = s
        .command_of("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "python3",
            "-c",
            client,
        ])
        .arg(socket(&s))
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        answer.contains("answers no other user"),
        "{answer} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!answer.contains("profiles"), "{answer}");
    assert!(
        log(&s).contains("refused a client of uid 65534"),
        "{}",
        log(&s)
    );
}

#[test]
fn each_profile_gets_its_own_token_and_one_profiles_token_gets_403_at_the_other() {
    let s = sandbox();
    let _daemon = Daemon::start(&s);
    let code = s.code();
    let prod = s.run(["env", "prod", "-t", &code, "--server"]).success();
    let prod_vars = exported(&prod);
    assert!(
        !prod_vars.contains_key("AWS_ACCESS_KEY_ID"),
        "{prod_vars:?}"
    );
    let unset = unset_names(&prod);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ] {
        assert!(
            unset.contains(&name.to_owned()),
            "{name} not unset: {unset:?}"
        );
    }
    assert_no_secret(&prod.stdout());
    // The chain starts from prod's cached session: no code.
    let deploy = exported(&s.run(["env", "deploy", "--server"]).success());
    let (prod_uri, prod_token) = (
        &prod_vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &prod_vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    let (deploy_uri, deploy_token) = (
        &deploy["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &deploy["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    assert!(prod_uri.ends_with("/profile/prod"), "{prod_uri}");
    assert!(deploy_uri.ends_with("/profile/deploy"), "{deploy_uri}");
    assert_eq!(prod_token.len(), 64);
    assert_ne!(prod_token, deploy_token);

    let issued = s.sts.issued();
    let key_of = |role: &str| {
        issued
            .iter()
            .find(|i| i.role_arn.as_deref() == Some(role))
            .unwrap()
            .access_key_id
            .clone()
    };
    let (status, body) = get(prod_uri, prod_token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["AccessKeyId"], key_of(ADMIN));
    let (status, body) = get(deploy_uri, deploy_token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["AccessKeyId"], key_of(DEPLOY));
    let (status, body) = get(deploy_uri, prod_token);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("not for this profile"),
        "{body}"
    );
    let (status, _) = get(prod_uri, deploy_token);
    assert_eq!(status, 403);
    assert_eq!(get(prod_uri, &"0".repeat(64)).0, 403);
    assert_eq!(assume_role_calls(&s).len(), 2);

    let status = s.run(["serve", "--status"]).success();
    let text = status.stdout();
    for profile in ["prod", "deploy"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(profile) && l.contains("left")),
            "{text}"
        );
    }
    assert!(text.contains("env --server"), "{text}");
    let list = s.run(["list"]).success().stdout();
    for line in list.lines().skip(1) {
        let served = line.starts_with("prod ") || line.starts_with("deploy ");
        assert_eq!(line.ends_with(", served"), served, "{list}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&s.run(["list", "--json"]).success().stdout()).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "prod" && p["served"] == true),
        "{json}"
    );
    assert_no_secret(&text);
    assert!(!text.contains(prod_token.as_str()), "{text}");
    // The daemon's log names what it did, and holds no secret.
    let log = log(&s);
    assert_no_secret(&log);
    assert!(!log.contains(prod_token.as_str()));
}

#[test]
fn env_server_starts_the_daemon_when_none_runs_and_refuses_default_keys() {
    let s = sandbox();
    let code = s.code();
    let out = s.run(["env", "prod", "-t", &code, "--server"]).success();
    let vars = exported(&out);
    let status = s.run(["serve", "--status"]).success();
    let pid: u32 = status
        .stdout()
        .split("pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let _daemon = Daemon { pid };
    let (code, _) = get(
        &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    assert_eq!(code, 200);

    // Keys in [default] would win over the endpoint in the shell's SDKs.
    let t = Sandbox::standard();
    let before = t.calls().len();
    t.run(["env", "prod", "--server"])
        .failure(1)
        .stderr_has("the `default` profile holds static keys")
        .one_line_error();
    assert_eq!(t.calls().len(), before);
    t.run(["env", "prod", "--server", "--format", "json"])
        .failure(2)
        .stderr_has("--server prints the variables");
}

#[test]
fn a_command_under_server_uses_the_running_daemon_and_its_token_is_revoked_after() {
    let s = sandbox();
    let _daemon = Daemon::start(&s);
    let code = s.code();
    let envfile = s.path("cmd.env");
    let script = format!("env > '{}'", envfile.display());
    s.run(["prod", "-t", &code, "--server", "--", "sh", "-c", &script])
        .success();
    let env: HashMap<String, String> = std::fs::read_to_string(&envfile)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let uri = &env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
    assert!(uri.ends_with("/profile/prod"), "{uri}");
    assert!(!env.contains_key("AWS_ACCESS_KEY_ID"));
    let status = s.run(["serve", "--status"]).success().stdout();
    let port = status
        .split("endpoint 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap();
    assert!(uri.contains(&format!(":{port}/")), "{uri} {status}");
    // The command has ended: its token no longer works, and the session stays held.
    assert_eq!(get(uri, &env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]).0, 403);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("prod") && l.ends_with(" 0")),
        "{status}"
    );
}

#[test]
fn a_session_only_a_typed_code_renews_leaves_one_notice_for_the_next_command() {
    let s = sandbox();
    let _daemon = Daemon::start(&s);
    let code = s.code();
    let vars = exported(
        &s.run(["env", "prod", "-t", &code, "-d", "15m", "--server"])
            .success(),
    );
    let (uri, token) = (
        &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    let (_, first) = get(uri, token);
    // Due after 10 seconds: the renewal finds that only a typed code can renew.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (status, body) = get(uri, token);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["AccessKeyId"], first["AccessKeyId"]);
        if log(&s).contains("only a typed MFA code can renew it") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", log(&s));
        std::thread::sleep(Duration::from_millis(500));
    }
    let calls = assume_role_calls(&s).len();
    // Not to a command whose stderr is no terminal (an SDK's credential-process, a script).
    let piped = s.run(["list", "--names"]).success();
    assert!(!piped.stderr().contains("needs"), "{}", piped.stderr());
    let (_, shown) = s.terminal(&["list", "--names"]).finish();
    assert_eq!(
        shown
            .matches("mfaexec: prod needs a new MFA code: mfaexec prod -r")
            .count(),
        1,
        "{shown}"
    );
    // Once: the next command says nothing.
    let (_, again) = s.terminal(&["list", "--names"]).finish();
    assert!(!again.contains("needs"), "{again}");
    // More requests open no key source and ask STS nothing.
    for _ in 0..5 {
        assert_eq!(get(uri, token).0, 200);
    }
    assert_eq!(assume_role_calls(&s).len(), calls);
    // The user renews in a terminal; the daemon takes the newly cached session.
    let code = s.code();
    s.run(["prod", "-t", &code, "-r", "-d", "15m", "--", "true"])
        .success();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (status, body) = get(uri, token);
        assert_eq!(status, 200);
        if body["AccessKeyId"] != first["AccessKeyId"] {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The load: 50 clients of 20 requests each, over 5 profiles (prod and 4 chains from it).
/// The chains are due 10 seconds after they are issued, and renew from prod's cached session.
#[test]
fn fifty_clients_of_twenty_requests_over_five_profiles_get_no_5xx_and_one_call_per_renewal() {
    let s = sandbox();
    let roles: Vec<String> = (1..=4)
        .map(|i| format!("arn:aws:iam::444444444444:role/load{i}"))
        .collect();
    let mut config = s.config_text();
    for (i, role) in roles.iter().enumerate() {
        s.sts.add_role(Role {
            max_session_duration: 43200,
            trusted: vec![ADMIN.into()],
            ..Role::new(role)
        });
        config.push_str(&format!(
            "\n[profile load{}]\nrole_arn = {role}\nsource_profile = prod\n",
            i + 1
        ));
    }
    s.config(&config);
    let _daemon = Daemon::start(&s);
    let code = s.code();
    let mut grants = vec![exported(
        &s.run(["env", "prod", "-t", &code, "--server"]).success(),
    )];
    for i in 1..=4 {
        let name = format!("load{i}");
        grants.push(exported(
            &s.run(["env", &name, "-d", "15m", "--server"]).success(),
        ));
    }
    let grants: Vec<(String, String)> = grants
        .into_iter()
        .map(|v| {
            (
                v["AWS_CONTAINER_CREDENTIALS_FULL_URI"].clone(),
                v["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone(),
            )
        })
        .collect();
    let started = Instant::now();
    let results: Vec<Vec<(usize, u16, String, Duration)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|client| {
                let grants = &grants;
                scope.spawn(move || {
                    let profile = client % 5;
                    let (uri, token) = &grants[profile];
                    (0..20)
                        .map(|_| {
                            let at = Instant::now();
                            let (status, body) = get(uri, token);
                            let took = at.elapsed();
                            std::thread::sleep(Duration::from_millis(600));
                            (
                                profile,
                                status,
                                body["AccessKeyId"].as_str().unwrap_or("").to_owned(),
                                took,
                            )
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let all: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(all.len(), 1000);
    let failed: Vec<_> = all.iter().filter(|r| r.1 != 200).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    let mut times: Vec<Duration> = all.iter().map(|r| r.3).collect();
    times.sort();
    let calls = assume_role_calls(&s);
    let mut renewals = 0;
    for (i, role) in roles.iter().enumerate() {
        let keys: std::collections::BTreeSet<&str> = all
            .iter()
            .filter(|r| r.0 == i + 1)
            .map(|r| r.2.as_str())
            .collect();
        let role_calls = calls
            .iter()
            .filter(|c| c.params.get("RoleArn") == Some(role))
            .count();
        // Every session STS issued for the chain was handed out, and each took one call.
        assert_eq!(role_calls, keys.len(), "{role}: {keys:?}");
        renewals += role_calls - 1;
    }
    assert!(
        renewals >= 4,
        "each chain renewed at least once: {renewals}"
    );
    let admin_calls = calls
        .iter()
        .filter(|c| c.params.get("RoleArn").map(String::as_str) == Some(ADMIN))
        .count();
    assert_eq!(
        admin_calls, 1,
        "prod's session is not renewed, nor asked again"
    );
    println!(
        "load: 1000 requests from 50 clients over 5 profiles in {:.1}s; latency p50 {:?}, p99 {:?}, max {:?}; {} renewals, {} AssumeRole calls",
        elapsed.as_secs_f64(),
        times[500],
        times[990],
        times[999],
        renewals,
        calls.len()
    );
}

/// Two interactive shells, bash and zsh, under tmux: each takes a chain from prod of the
/// daemon and runs the real AWS CLI across renewals; one MFA code in all; the daemon outlives
/// both shells.
#[test]
fn bash_and_zsh_shells_share_the_daemon_and_the_aws_cli_renews_past_each_session() {
    let mut s = sandbox();
    let audit = "arn:aws:iam::444444444444:role/audit";
    s.sts.add_role(Role {
        max_session_duration: 43200,
        trusted: vec![ADMIN.into()],
        ..Role::new(audit)
    });
    s.append_config(&format!(
        "\n[profile audit]\nrole_arn = {audit}\nsource_profile = prod\nregion = eu-west-1\n"
    ));
    let bin_dir = bin().parent().unwrap().display().to_string();
    let aws_dir = aws_program().parent().unwrap().display().to_string();
    s.set(
        "PATH",
        &format!("{bin_dir}:{aws_dir}:/usr/local/bin:/usr/bin:/bin"),
    );
    let daemon = Daemon::start(&s);
    let code = s.code();
    // prod's session is cached here, with the one code; both chains start from it.
    s.run(["prod", "-t", &code, "--", "true"]).success();
    let shells = [("bash", "deploy", DEPLOY), ("zsh", "audit", audit)];
    let mut terminals = Vec::new();
    for (i, (shell, profile, _)) in shells.iter().enumerate() {
        let argv: Vec<&str> = match *shell {
            "bash" => vec!["bash", "--norc", "--noprofile", "-i"],
            _ => vec!["zsh", "-f", "-i"],
        };
        let tmux = Tmux::start_named(&s, &format!("tmux{i}"), &argv, &[]);
        tmux.line(&format!(
            "eval \"$(mfaexec env {profile} -d 15m --server)\" && echo READY-$MFAEXEC_PROFILE"
        ));
        tmux.wait(&format!("{shell} ready"), |h| {
            h.contains(&format!("READY-{profile}"))
        });
        terminals.push(tmux);
    }
    let arn_file = |i: usize, round: usize| s.path(&format!("aws{i}.{round}"));
    for round in 0..3 {
        if round > 0 {
            // Past the refresh window of the sessions handed out so far.
            std::thread::sleep(Duration::from_secs(12));
        }
        for (i, tmux) in terminals.iter().enumerate() {
            tmux.line(&format!(
                "aws sts get-caller-identity --output text --query Arn > '{}' 2>&1; echo DONE-\"\"{round}",
                arn_file(i, round).display()
            ));
            tmux.wait(&format!("round {round}"), |h| {
                h.contains(&format!("DONE-{round}"))
            });
            let arn = std::fs::read_to_string(arn_file(i, round)).unwrap();
            let role = shells[i].2.rsplit('/').next().unwrap();
            assert!(
                arn.contains(&format!(":assumed-role/{role}/")),
                "{} round {round}: {arn}",
                shells[i].1
            );
        }
    }
    let calls = s.calls();
    for (shell, profile, role) in &shells {
        let issued: Vec<String> = s
            .sts
            .issued()
            .into_iter()
            .filter(|x| x.role_arn.as_deref() == Some(*role))
            .map(|x| x.access_key_id)
            .collect();
        let signed: Vec<String> = of(&calls, "GetCallerIdentity")
            .into_iter()
            .filter(|c| issued.contains(&c.access_key_id))
            .map(|c| c.access_key_id)
            .collect();
        assert_eq!(signed.len(), 3, "{shell}: {signed:?}");
        // Renewed between the rounds: the last round signed with another session than the first.
        assert_ne!(
            signed[0], signed[2],
            "{shell} ({profile}): no renewal reached the AWS CLI"
        );
        // One call per renewal: as many AssumeRole calls for the chain as sessions issued.
        let role_calls = of(&calls, "AssumeRole")
            .iter()
            .filter(|c| c.params.get("RoleArn").map(String::as_str) == Some(*role))
            .count();
        assert_eq!(role_calls, issued.len(), "{shell}");
    }
    let with_code = of(&calls, "AssumeRole")
        .into_iter()
        .filter(|c| c.params.contains_key("TokenCode"))
        .count();
    assert_eq!(with_code, 1, "one MFA code in all");
    drop(terminals);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(daemon.pid), "the daemon survives the shells");
    s.run(["serve", "--status"]).success();
}

/// `use PROFILE --server` in real bash, zsh and fish: the prompt says "served", and
/// `use --unset` revokes the token and takes the variables out.
#[test]
fn use_server_in_each_shell_shows_served_and_unset_revokes_the_token() {
    let mut s = configure(shell::sandbox());
    // fish sets USER from the uid, and the session name (so the cache key) follows USER.
    s.set("USER", &whoami());
    let _daemon = Daemon::start(&s);
    let code = s.code();
    s.run(["prod", "-t", &code, "--", "true"]).success();
    for sh in SHELLS {
        let script = format!(
            "{init}\nmfaexec use prod --server\nprintf 'PROMPT=%s\\n' \"$(mfaexec_prompt)\"\n\
             printf 'URI=%s\\nTOKEN=%s\\n' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\"\n\
             mfaexec serve --status | grep -c 'env --server'\n\
             mfaexec use --unset\nprintenv AWS_CONTAINER_AUTHORIZATION_TOKEN || echo no-token\n",
            init = sh.init_line()
        );
        let out = shell::run(&s, sh, &script, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{sh:?}: {stdout} {stderr}");
        assert!(
            stdout.contains("PROMPT=prod served\n"),
            "{sh:?}: {stdout} {stderr}"
        );
        let value = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        let (uri, token) = (value("URI"), value("TOKEN"));
        assert!(uri.ends_with("/profile/prod"), "{sh:?}: {uri}");
        assert!(
            stdout.lines().any(|l| l == "1"),
            "{sh:?}: one client: {stdout}"
        );
        assert!(stdout.ends_with("no-token\n"), "{sh:?}: {stdout}");
        assert_eq!(get(&uri, &token).0, 403, "{sh:?}: the token was revoked");
    }
}

fn whoami() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn a_token_unused_for_the_idle_time_is_revoked_and_a_used_one_is_not() {
    let mut s = sandbox();
    s.set("MFAEXEC_SERVE_IDLE", "3s");
    let _daemon = Daemon::start(&s);
    let code = s.code();
    let used = exported(&s.run(["env", "prod", "-t", &code, "--server"]).success());
    let idle = exported(&s.run(["env", "prod", "--server"]).success());
    let grant = |v: &HashMap<String, String>| {
        (
            v["AWS_CONTAINER_CREDENTIALS_FULL_URI"].clone(),
            v["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone(),
        )
    };
    let (used_uri, used_token) = grant(&used);
    let (idle_uri, idle_token) = grant(&idle);
    assert_eq!(get(&idle_uri, &idle_token).0, 200);
    // The used token is asked every second; the other not at all for 6 seconds.
    for _ in 0..6 {
        assert_eq!(get(&used_uri, &used_token).0, 200);
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(get(&used_uri, &used_token).0, 200);
    assert_eq!(get(&idle_uri, &idle_token).0, 403);
    assert!(log(&s).contains("unused for 3s"), "{}", log(&s));
}

/// A direct role past its session: the daemon renews it with the code its mfa_process prints,
/// run in the daemon with the client's environment, with no terminal.
#[test]
fn a_direct_role_is_renewed_through_its_mfa_process() {
    let s = sandbox();
    let code_file = s.path("code");
    s.mfa_process_on_prod(&format!("cat '{}'", code_file.display()));
    let _daemon = Daemon::start(&s);
    std::fs::write(&code_file, s.code()).unwrap();
    let vars = exported(&s.run(["env", "prod", "-d", "15m", "--server"]).success());
    let (uri, token) = (
        &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    let (_, first) = get(uri, token);
    // The next window's code, for the renewal 10 seconds on.
    std::thread::sleep(Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::fs::write(&code_file, s.code()).unwrap();
        let (status, body) = get(uri, token);
        assert_eq!(status, 200, "{body}");
        if body["AccessKeyId"] != first["AccessKeyId"] {
            break;
        }
        assert!(Instant::now() < deadline, "no renewal: {}", log(&s));
        std::thread::sleep(Duration::from_millis(500));
    }
    let with_code: Vec<_> = assume_role_calls(&s)
        .into_iter()
        .filter(|c| c.params.contains_key("TokenCode"))
        .collect();
    assert_eq!(with_code.len(), 2, "the first session and one renewal");
    assert_ne!(
        with_code[0].params["TokenCode"],
        with_code[1].params["TokenCode"]
    );
}

/// `warm` with the daemon running hands it each session it warmed; a shell asking for one of
/// them later gets the held session, with no STS call.
#[test]
fn warm_hands_its_sessions_to_a_running_daemon() {
    let s = sandbox();
    let code_file = s.path("code");
    s.mfa_process_on_prod(&format!("cat '{}'", code_file.display()));
    std::fs::write(&code_file, s.code()).unwrap();
    let daemon = Daemon::start(&s);
    let out = s.run(["warm", "prod", "deploy"]).success();
    out.stderr_has(&format!(
        "handed to mfaexec serve (pid {}): prod, deploy",
        daemon.pid
    ));
    let status = s.run(["serve", "--status"]).success().stdout();
    for profile in ["prod", "deploy"] {
        assert!(
            status
                .lines()
                .any(|l| l.starts_with(profile) && l.contains("left") && l.ends_with(" 0")),
            "{status}"
        );
    }
    let calls = assume_role_calls(&s).len();
    assert_eq!(calls, 2);
    let vars = exported(&s.run(["env", "deploy", "--server"]).success());
    let (code, body) = get(
        &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(assume_role_calls(&s).len(), calls);
}
