//! `--server` (issue 12): a credentials endpoint on 127.0.0.1 for one command, renewed as the
//! command runs; the real AWS CLI as the command; what is refused; the command's life (exit
//! code, signals, the terminal, the port and descriptors after it).
//!
//! Renewal is made quick with a refresh window just under the session's 15 minutes:
//! `MFAEXEC_REFRESH_WINDOW=890` with `-d 15m` makes a session due 10 seconds after STS issued
//! it (20 seconds for the tests that start the AWS CLI, slow to start on a busy machine).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::credential_process::aws_program;
use crate::support::fake_sts::Fault;
use crate::support::*;

const WINDOW: u64 = 890;
const SLOW_WINDOW: u64 = 880;

/// The standard sandbox with alice's keys under `[alice]` instead of `[default]` (an SDK would
/// prefer keys of the default profile to the endpoint), `prod` a direct role and `deploy` a
/// chain behind it.
fn sandbox() -> Sandbox {
    let mut s = Sandbox::standard();
    s.credentials(&format!(
        "[alice]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.alice.access_key_id, s.alice.secret_access_key
    ));
    s.config(&format!(
        "[profile alice]\nmfa_serial = {serial}\n\n\
         [profile prod]\nrole_arn = {ADMIN}\nsource_profile = alice\nmfa_serial = {serial}\nduration_seconds = 43200\nregion = eu-west-1\n\n\
         [profile deploy]\nrole_arn = {DEPLOY}\nsource_profile = prod\nregion = eu-west-1\n",
        serial = s.serial()
    ));
    s.set("MFAEXEC_REFRESH_WINDOW", &WINDOW.to_string());
    s.set("AWS_EC2_METADATA_DISABLED", "true");
    s
}

/// mfaexec with `--server` running a command that writes its environment to `env` and waits
/// for the file `stop`.
struct Served {
    child: Child,
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn waiting_command(dir: &Path) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "env > \"$0/env.tmp\"; mv \"$0/env.tmp\" \"$0/env\"; while [ ! -e \"$0/stop\" ]; do sleep 0.05; done"
            .into(),
        dir.display().to_string(),
    ]
}

/// mfaexec without a controlling terminal, stdout and stderr captured.
fn spawn(s: &Sandbox, args: &[String]) -> Child {
    Command::new("setsid")
        .arg(bin())
        .args(args)
        .env_clear()
        .envs(s.vars().iter().map(|(k, v)| (k, v)))
        .current_dir(s.path(""))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[track_caller]
fn wait_for_file(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!(
                "mfaexec ended ({status:?}) before {}: {err}",
                path.display()
            );
        }
        assert!(Instant::now() < deadline, "no {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(s: &Sandbox, options: &[&str]) -> Served {
    let dir = s.path("served");
    std::fs::create_dir_all(&dir).unwrap();
    let mut args: Vec<String> = options.iter().map(|a| (*a).to_owned()).collect();
    args.push("--".into());
    args.extend(waiting_command(&dir));
    let mut child = spawn(s, &args);
    wait_for_file(&dir.join("env"), &mut child);
    let env = std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Served { child, dir, env }
}

impl Served {
    fn port(&self) -> u16 {
        port_of(&self.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    }

    fn token(&self) -> &str {
        &self.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    }

    /// GET / with the run's token, as an SDK asks.
    fn get(&self) -> (u16, serde_json::Value) {
        let host = format!("127.0.0.1:{}", self.port());
        request(self.port(), "GET", &host, Some(self.token()))
    }

    fn finish(self) -> Output {
        std::fs::write(self.dir.join("stop"), "").unwrap();
        self.child.wait_with_output().unwrap()
    }
}

fn port_of(uri: &str) -> u16 {
    let rest = uri.strip_prefix("http://127.0.0.1:").expect(uri);
    rest.strip_suffix('/').expect(uri).parse().expect(uri)
}

/// One HTTP/1.1 request; the status and the JSON body.
fn request(port: u16, method: &str, host: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let (status, body) = raw_request(port, method, host, token, "");
    let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn raw_request(
    port: u16,
    method: &str,
    host: &str,
    token: Option<&str>,
    extra: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} / HTTP/1.1\r\nHost: {host}\r\n{auth}{extra}Accept: application/json\r\nConnection: close\r\n\r\n"
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
    (status, body)
}

fn assume_role_calls(s: &Sandbox) -> Vec<fake_sts::Call> {
    of(&s.calls(), "AssumeRole")
}

/// Sleeps until the session that expires at `expiration` (Unix seconds) is in the window.
fn until_due(expiration: u64) {
    until_in(expiration, WINDOW);
}

fn until_in(expiration: u64, window: u64) {
    let due = expiration - window + 1;
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now >= due {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Unix seconds of an RFC 3339 UTC time, as the endpoint writes it.
fn expiration_of(json: &serde_json::Value) -> u64 {
    let text = json["Expiration"].as_str().expect("an Expiration");
    let issued = jiff_free_parse(text);
    assert!(text.ends_with('Z'), "{text}");
    issued
}

/// `2030-01-02T03:04:05Z` to Unix seconds (days from civil, as in src/session.rs, reversed).
fn jiff_free_parse(text: &str) -> u64 {
    let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hh * 3600 + mm * 60 + ss) as u64
}

#[test]
fn the_aws_cli_gets_its_credentials_from_the_endpoint_and_no_keys() {
    let s = sandbox();
    let code = s.code();
    let script = format!(
        "env > '{}'; exec '{}' sts get-caller-identity --output json",
        s.path("env").display(),
        aws_program().display()
    );
    let out = s
        .run(["prod", "-t", &code, "--server", "--", "sh", "-c", &script])
        // Whatever credentials or endpoint the calling shell had must not reach the command.
        .env("AWS_ACCESS_KEY_ID", "AKIAOLDOLDOLDOLD")
        .env("AWS_SECRET_ACCESS_KEY", "old")
        .env("AWS_SESSION_TOKEN", "old")
        .env("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z")
        .env(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/x",
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/etc/hostname")
        .env("AWS_PROFILE", "prod")
        .success();
    let answer: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert!(
        answer["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::222222222222:assumed-role/admin/"),
        "{answer}"
    );
    let issued = s.sts.issued();
    assert_eq!(issued.len(), 1);
    let identity = of(&s.calls(), "GetCallerIdentity");
    assert_eq!(identity.len(), 1);
    assert_eq!(identity[0].access_key_id, issued[0].access_key_id);
    let env = std::fs::read_to_string(s.path("env")).unwrap();
    for gone in [
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "AWS_CREDENTIAL_EXPIRATION=",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=",
        "AWS_PROFILE=",
    ] {
        assert!(
            !env.lines().any(|l| l.starts_with(gone)),
            "{gone} in\n{env}"
        );
    }
    assert_no_secret(&env);
    let vars: HashMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    port_of(vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]);
    let token = vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    assert!(
        token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "256 bits in hex: {token}"
    );
    assert_eq!(vars["AWS_REGION"], "eu-west-1");
    assert_eq!(vars["AWS_DEFAULT_REGION"], "eu-west-1");
    assert_eq!(vars["MFAEXEC_PROFILE"], "prod");
    assert_no_secret(&out.stderr());
    assert!(!out.stderr().contains(token));
}

#[test]
fn each_run_gets_a_new_token() {
    let s = sandbox();
    let code = s.code();
    let first = serve(&s, &["prod", "-t", &code, "--server"]);
    let token = first.token().to_owned();
    assert!(first.finish().status.success());
    std::fs::remove_dir_all(s.path("served")).unwrap();
    let second = serve(&s, &["prod", "--server"]);
    assert_ne!(second.token(), token);
    assert!(second.finish().status.success());
}

// A direct role with mfa_process: the AWS CLI, asking again once the session is due, gets a
// renewed one, and the code came from mfa_process with no prompt.
#[test]
fn the_aws_cli_asks_again_and_gets_a_session_renewed_with_mfa_process() {
    let mut s = sandbox();
    s.set("MFAEXEC_REFRESH_WINDOW", &SLOW_WINDOW.to_string());
    let code_file = s.path("code");
    let config = std::fs::read_to_string(s.home().join(".aws/config")).unwrap();
    s.config(&config.replacen(
        "[profile prod]\n",
        &format!(
            "[profile prod]\nmfa_process = cat '{}'\n",
            code_file.display()
        ),
        1,
    ));
    let code = s.code();
    let aws = aws_program();
    let script = format!(
        "'{aws}' sts get-caller-identity > first && while [ ! -e go ]; do sleep 0.05; done && '{aws}' sts get-caller-identity > second",
        aws = aws.display()
    );
    let args: Vec<String> = [
        "prod", "-t", &code, "-d", "15m", "--server", "--", "sh", "-c", &script,
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let mut child = spawn(&s, &args);
    wait_for_file(&s.path("first"), &mut child);
    let issued = s.sts.issued();
    assert_eq!(issued.len(), 1);
    until_in(issued[0].expiration_unix, SLOW_WINDOW);
    std::fs::write(&code_file, s.code()).unwrap();
    std::fs::write(s.path("go"), "").unwrap();
    let out = Out(child.wait_with_output().unwrap());
    assert!(out.0.status.success(), "{}", out.stderr());
    let issued = s.sts.issued();
    let roles = assume_role_calls(&s);
    assert_eq!(roles.len(), 2, "one call per renewal");
    assert!(roles[1].params.contains_key("TokenCode"));
    let identity = of(&s.calls(), "GetCallerIdentity");
    assert_eq!(identity.len(), 2);
    assert_eq!(identity[0].access_key_id, issued[0].access_key_id);
    assert_eq!(identity[1].access_key_id, issued[1].access_key_id);
    assert!(!out.stderr().contains("Enter MFA code"));
    assert_no_secret(&out.stderr());
}

// A chain renews from the cached first hop: three renewals, one MFA code in all; one call per
// renewal, and none for requests while the session is good.
#[test]
fn a_chain_renewed_three_times_costs_one_code_and_one_call_per_renewal() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["deploy", "-t", &code, "-d", "15m", "--server"]);
    assert_eq!(assume_role_calls(&s).len(), 2, "prod, then deploy");
    let (status, first) = served.get();
    assert_eq!(status, 200, "{first}");
    let issued = s.sts.issued();
    assert_eq!(first["AccessKeyId"], issued[1].access_key_id.as_str());
    assert_eq!(
        first["SecretAccessKey"],
        issued[1].secret_access_key.as_str()
    );
    assert_eq!(first["Token"], issued[1].session_token.as_str());
    assert_eq!(expiration_of(&first), issued[1].expiration_unix);
    let mut current = first;
    for renewal in 1..=3 {
        let before = s.calls().len();
        served.get();
        assert_eq!(s.calls().len(), before, "no call while the session is good");
        until_due(expiration_of(&current));
        let (status, renewed) = served.get();
        assert_eq!(status, 200, "{renewed}");
        assert_ne!(renewed["AccessKeyId"], current["AccessKeyId"]);
        let calls = s.calls();
        assert_eq!(calls.len(), before + 1, "renewal {renewal}: one call");
        let call = calls.last().unwrap();
        assert_eq!(call.params["RoleArn"], DEPLOY);
        assert!(!call.params.contains_key("TokenCode"));
        assert_eq!(call.access_key_id, s.sts.issued()[0].access_key_id);
        let (_, again) = served.get();
        assert_eq!(again["AccessKeyId"], renewed["AccessKeyId"]);
        assert_eq!(s.calls().len(), before + 1);
        current = renewed;
    }
    let with_code = s
        .calls()
        .iter()
        .filter(|c| c.params.contains_key("TokenCode"))
        .count();
    assert_eq!(with_code, 1, "one MFA code in all");
    let out = served.finish();
    assert!(out.status.success());
    assert_no_secret(&String::from_utf8_lossy(&out.stderr));
}

// A direct role without mfa_process: only a typed code can renew it. The SDK gets an error it
// shows, mfaexec's stderr one line; after `mfaexec prod -r -t CODE` elsewhere, the next
// request gets the session that run cached.
#[test]
fn a_session_only_a_typed_code_renews_ends_with_one_line_then_is_picked_up() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "-d", "15m", "--server"]);
    let (status, first) = served.get();
    assert_eq!(status, 200);
    until_due(expiration_of(&first));
    let (status, ended) = served.get();
    assert_eq!(status, 503, "{ended}");
    let message = ended["Message"].as_str().unwrap();
    assert!(
        message.contains("the session of profile `prod` has ended")
            && message.contains("`mfaexec prod -r`"),
        "{message}"
    );
    assert_eq!(assume_role_calls(&s).len(), 1, "no call without a code");
    // The AWS CLI shows the message.
    let aws = Command::new("setsid")
        .arg(aws_program())
        .args(["sts", "get-caller-identity"])
        .env_clear()
        .envs(&served.env)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!aws.status.success());
    let aws_err = String::from_utf8_lossy(&aws.stderr);
    assert!(aws_err.contains("has ended"), "{aws_err}");
    assert_eq!(assume_role_calls(&s).len(), 1);

    let code = s.code();
    s.run(["prod", "-r", "-t", &code]).success();
    assert_eq!(assume_role_calls(&s).len(), 2);
    let (status, picked) = served.get();
    assert_eq!(status, 200, "{picked}");
    assert_eq!(
        picked["AccessKeyId"],
        s.sts.issued()[1].access_key_id.as_str()
    );
    assert_eq!(assume_role_calls(&s).len(), 2, "taken from the cache");

    let out = served.finish();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = "mfaexec: the session of profile `prod` has ended: run `mfaexec prod -r` in another terminal";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
    assert!(!stderr.contains("Enter MFA code"));
}

#[test]
fn wrong_or_missing_token_foreign_host_and_other_methods_get_403() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server", "-v"]);
    let port = served.port();
    let ours = format!("127.0.0.1:{port}");
    let wrong = "0".repeat(64);
    let refused = [
        request(port, "GET", &ours, Some(&wrong)),
        request(port, "GET", &ours, None),
        request(port, "GET", &ours, Some(&served.token()[..63])),
        request(
            port,
            "GET",
            &format!("evil.example:{port}"),
            Some(served.token()),
        ),
        request(port, "GET", "127.0.0.1:1", Some(served.token())),
        request(port, "POST", &ours, Some(served.token())),
        request(port, "PUT", &ours, Some(served.token())),
    ];
    for (i, (status, body)) in refused.iter().enumerate() {
        assert_eq!(*status, 403, "case {i}: {body}");
        assert!(body["Message"].is_string(), "case {i}: {body}");
        assert!(body.get("SecretAccessKey").is_none());
    }
    assert_eq!(
        request(
            port,
            "GET",
            &format!("localhost:{port}"),
            Some(served.token())
        )
        .0,
        200
    );
    assert_eq!(served.get().0, 200);
    // A request head over the cap is refused before it is looked at.
    let huge = format!("X-Filler: {}\r\n", "a".repeat(20_000));
    let (status, _) = raw_request(port, "GET", &ours, Some(served.token()), &huge);
    assert_ne!(status, 200);
    let token = served.token().to_owned();
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_secret(&stderr);
    assert!(!stderr.contains(&token));
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("endpoint: "))
        .collect();
    assert_eq!(
        lines.len(),
        refused.len() + 2,
        "one line per request:\n{stderr}"
    );
    assert!(lines[0].contains("GET / -> 403"), "{stderr}");
    assert!(lines.last().unwrap().contains("GET / -> 200"), "{stderr}");
}

#[test]
fn the_port_is_closed_after_the_command_and_nothing_is_inherited() {
    let s = sandbox();
    let code = s.code();
    // A background process outlives the command: had it inherited the listening socket, the
    // port would stay open.
    let script = format!(
        "ls -l /proc/$$/fd > '{dir}/fds-'\"$0\"; echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > '{dir}/uri'; sleep 30 > /dev/null 2>&1 & echo $! > '{dir}/background'",
        dir = s.path("").display()
    );
    s.run([
        "prod", "-t", &code, "--server", "--", "sh", "-c", &script, "server",
    ])
    .success();
    let background = std::fs::read_to_string(s.path("background")).unwrap();
    let uri = std::fs::read_to_string(s.path("uri")).unwrap();
    let connected = TcpStream::connect(("127.0.0.1", port_of(uri.trim())));
    let _ = Command::new("kill").arg(background.trim()).status();
    assert!(connected.is_err(), "the port is still open");
    // The same command exec'd by plain mfaexec (nothing of mfaexec left) sees the descriptors
    // mfaexec itself was given, no more.
    s.run(["prod", "--", "sh", "-c", &script, "exec"]).success();
    let fds = |name: &str| -> Vec<String> {
        std::fs::read_to_string(s.path(&format!("fds-{name}")))
            .unwrap()
            .lines()
            .filter_map(|l| {
                l.split_once(" -> ").map(|(fd, target)| {
                    let fd = fd.rsplit(' ').next().unwrap();
                    // Pipes differ between runs; the kind of each descriptor does not.
                    format!(
                        "{fd} {}",
                        target.split(':').next().unwrap().replace(name, "NAME")
                    )
                })
            })
            .collect()
    };
    let server = fds("server");
    assert!(!server.iter().any(|f| f.contains("socket")), "{server:?}");
    assert_eq!(server, fds("exec"));
}

// See: issue 12, "A conflict to refuse".
#[test]
fn static_keys_in_the_default_profile_are_refused_before_any_call() {
    let s = Sandbox::standard();
    let out = s.run(["prod", "--server", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("the `default` profile holds static keys")
        .stderr_has("mfaexec import default")
        .stderr_has("source_profile");
    assert!(s.calls().is_empty());
}

#[test]
fn the_exit_code_passes_through() {
    let s = sandbox();
    s.run(["prod", "--server", "--", "terraform-nope", "plan"])
        .failure(127)
        .one_line_error()
        .stderr_has("command not found: terraform-nope");
    assert!(s.calls().is_empty(), "a typo must not use up a code");
    let code = s.code();
    s.run([
        "prod",
        "-t",
        &code,
        "--ecs-server",
        "--",
        "sh",
        "-c",
        "exit 42",
    ])
    .failure(42);
    s.run(["exec", "prod", "--server", "--", "sh", "-c", "exit 3"])
        .failure(3);
}

#[test]
fn sigterm_and_sighup_are_passed_to_the_command() {
    let s = sandbox();
    let code = s.code();
    for (name, number, exit) in [("TERM", 15, 3), ("HUP", 1, 4)] {
        let dir = s.path("");
        let script = format!(
            "trap 'echo {name} > \"$0/got\"; exit {exit}' {name}; touch \"$0/ready\"; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done"
        );
        let _ = std::fs::remove_file(dir.join("ready"));
        let args: Vec<String> = ["prod", "-t", &code, "--server", "--", "sh", "-c", &script]
            .iter()
            .map(|a| (*a).to_owned())
            .chain([dir.display().to_string()])
            .collect();
        let mut child = spawn(&s, &args);
        wait_for_file(&dir.join("ready"), &mut child);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::try_from(number).unwrap()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(exit), "{name}: {out:?}");
        assert_eq!(
            std::fs::read_to_string(dir.join("got")).unwrap().trim(),
            name
        );
    }
}

#[test]
fn a_command_killed_by_a_signal_makes_mfaexec_die_by_that_signal() {
    let s = sandbox();
    let code = s.code();
    let out = s
        .run([
            "prod",
            "-t",
            &code,
            "--server",
            "--",
            "sh",
            "-c",
            "kill -KILL $$",
        ])
        .output();
    assert_eq!(out.signal(), Some(9), "{:?}", out.0.status);
    // SIGINT, which mfaexec holds back while the command runs, still ends it.
    let out = s
        .run(["prod", "--server", "--", "sh", "-c", "kill -INT $$"])
        .output();
    assert_eq!(out.signal(), Some(2), "{:?}", out.0.status);
}

// A renewal that fails for another reason than a missing code is said once and not tried
// again at once: SDKs retry quickly, and a retry could cost an MFA code.
#[test]
fn a_failed_renewal_is_an_error_and_is_not_retried_at_once() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["deploy", "-t", &code, "-d", "15m", "--server"]);
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    let before = s.calls().len();
    s.sts.inject(Fault::Error {
        status: 403,
        code: "AccessDenied".into(),
        message: "User: arn:aws:sts::222222222222:assumed-role/admin/x is not authorized to perform: sts:AssumeRole".into(),
    });
    let (status, failed) = served.get();
    assert_eq!(status, 503, "{failed}");
    let message = failed["Message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot renew the session of profile `deploy`: "),
        "{message}"
    );
    assert!(message.contains("may not assume role"), "{message}");
    let (status, again) = served.get();
    assert_eq!(status, 503);
    assert_eq!(again["Message"], failed["Message"]);
    assert_eq!(
        s.calls().len(),
        before + 1,
        "no second attempt within seconds"
    );
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .matches("mfaexec: cannot renew the session of profile `deploy`")
            .count(),
        1,
        "{stderr}"
    );
}

/// mfaexec on a pty as the shell's last command, as a user types it: `script` runs its line
/// with `sh -c`, which dash does not replace with the command, so `exec` does.
fn on_terminal(s: &Sandbox, args: &[&str]) -> pty::Terminal {
    let mut argv = vec!["exec".to_owned(), bin().display().to_string()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    pty::Terminal::start(&argv, s.vars())
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_command_and_mfaexec_ends_with_its_status() {
    let s = sandbox();
    let code = s.code();
    let script = "trap 'echo caught INT; exit 5' INT; echo ready; while :; do sleep 0.05; done";
    let mut term = on_terminal(
        &s,
        &["prod", "-t", &code, "--server", "--", "sh", "-c", script],
    );
    term.expect("ready", 1);
    // dash loses a SIGINT that arrives while it forks; let it reach `sleep` first.
    std::thread::sleep(Duration::from_millis(300));
    term.send(b"\x03");
    let (status, screen) = term.finish();
    assert!(screen.contains("caught INT"), "{screen}");
    assert_eq!(status, Some(5), "mfaexec ignored the Ctrl-C: {screen}");
    // A command that dies of the Ctrl-C: mfaexec dies of SIGINT too (`script` says 128 + 2).
    let mut term = on_terminal(
        &s,
        &[
            "prod",
            "--server",
            "--",
            "sh",
            "-c",
            "echo ready; exec sleep 30",
        ],
    );
    term.expect("ready", 1);
    // dash loses a SIGINT that arrives while it forks; let it reach `sleep` first.
    std::thread::sleep(Duration::from_millis(300));
    term.send(b"\x03");
    let (status, screen) = term.finish();
    assert_eq!(status, Some(130), "{screen}");
}

#[test]
fn sixteen_requests_during_a_renewal_make_one_call() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["deploy", "-t", &code, "-d", "15m", "--server"]);
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    let before = s.calls().len();
    // The renewal takes a second, so that all sixteen arrive while it is under way.
    s.sts.inject(Fault::Delay(Duration::from_secs(1)));
    let port = served.port();
    let token = served.token().to_owned();
    let answers: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let token = token.clone();
                scope
                    .spawn(move || request(port, "GET", &format!("127.0.0.1:{port}"), Some(&token)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(s.calls().len(), before + 1, "one STS call");
    let renewed = s.sts.issued().last().unwrap().access_key_id.clone();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["AccessKeyId"], renewed.as_str());
    }
    assert!(served.finish().status.success());
}

#[test]
fn dry_run_says_a_server_would_run_and_masks_the_token() {
    let s = sandbox();
    let out = s
        .run(["prod", "--server", "--dry-run", "--", "aws", "s3", "ls"])
        .success();
    out.stdout_has("server      a credentials endpoint on 127.0.0.1")
        .stdout_has("set         AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:<port>/")
        .stdout_has("set         AWS_CONTAINER_AUTHORIZATION_TOKEN=****")
        .stdout_has("set         AWS_REGION=eu-west-1")
        .stdout_has("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .stdout_has("command     aws s3 ls");
    assert!(!out.stdout().contains("set         AWS_ACCESS_KEY_ID"));
    assert!(!out.stdout().contains("refused"));
    // With keys in the default profile, the report says the run would be refused.
    let s = Sandbox::standard();
    s.run(["prod", "--server", "--dry-run"])
        .success()
        .stdout_has("note        refused: --server: the `default` profile holds static keys");
    assert!(s.calls().is_empty());
}

// See: issue 10's core limit. The command gets the user's core limit, as after exec, while
// mfaexec, which holds the session, keeps 0.
#[test]
fn the_command_keeps_the_users_core_limit_and_mfaexec_none() {
    let s = sandbox();
    let code = s.code();
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -S -c 1234 && exec \"$0\" \"$@\"",
            bin().to_str().unwrap(),
            "prod",
            "-t",
            &code,
            "--server",
            "--",
            "sh",
            "-c",
            "ulimit -S -c; sleep 0.5; grep 'core file' /proc/$PPID/limits",
        ])
        .env_clear()
        .envs(s.vars().iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("1234"), "{stdout}");
    // "Max core file size SOFT HARD bytes": mfaexec's soft limit is 0.
    let fields: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(fields[4], "0", "{stdout}");
}
