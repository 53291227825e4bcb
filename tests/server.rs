//! `--server` (issue 12): a credentials endpoint on 127.0.0.1 for one command, renewed as the
//! command runs; the real AWS CLI as the command; what is refused; the command's life (exit
//! code, signals, the terminal, the port and descriptors after it).
//!
//! Renewal is made quick with a refresh window just under the session's 15 minutes:
//! `MFAEXEC_REFRESH_WINDOW=890` with `-d 15m` makes a session due 10 seconds after STS issued
//! it (20 seconds for the tests that start the AWS CLI, slow to start on a busy machine).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::aws_cli::aws_program;
use crate::support::fake_sts::Fault;
use crate::support::*;

const WINDOW: u64 = 890;
const SLOW_WINDOW: u64 = 880;

/// The standard sandbox with alice's keys under `[alice]` instead of `[default]` (an SDK would
/// prefer keys of the default profile to the endpoint), `prod` a direct role and `deploy` a
/// chain behind it.
fn sandbox() -> Sandbox {
    alice_apart(Sandbox::standard())
}

/// `s` set up as `sandbox()` is: also for the daemon's tests (tests/serve.rs).
pub(crate) fn alice_apart(mut s: Sandbox) -> Sandbox {
    s.credentials(&s.alice_keys_section("alice"));
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
/// for the file `stop` (at most two minutes). Dropped without `finish` (a failed assertion),
/// it kills mfaexec and its command, which lead their own process group (`setsid`).
struct Served {
    child: Option<Child>,
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn waiting_command(dir: &Path) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "env > \"$0/env.tmp\"; mv \"$0/env.tmp\" \"$0/env\"; i=0; while [ ! -e \"$0/stop\" ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done"
            .into(),
        dir.display().to_string(),
    ]
}

/// mfaexec without a controlling terminal, stdout and stderr captured.
fn spawn(s: &Sandbox, args: &[impl AsRef<OsStr>]) -> Child {
    // The signals start at their defaults whatever the test runner inherited: a runner started
    // in the background (`nohup`, `&`) ignores SIGHUP and SIGINT, and an ignored signal is
    // never delivered, so forwarding could not be seen.
    s.command_of("setsid")
        .args(["env", "--default-signal=INT,QUIT,TERM,HUP"])
        .arg(bin())
        .args(args)
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
    serve_command(s, options, waiting_command(&dir))
}

/// As `serve`, with a command of the caller's that writes its environment to `served/env`
/// first (the command gets the directory `served` as `$0` when it is `sh -c`).
fn serve_command(s: &Sandbox, options: &[&str], command: Vec<String>) -> Served {
    let dir = s.path("served");
    std::fs::create_dir_all(&dir).unwrap();
    let mut args: Vec<String> = options.iter().map(|a| (*a).to_owned()).collect();
    args.push("--".into());
    args.extend(command);
    let mut child = spawn(s, &args);
    wait_for_file(&dir.join("env"), &mut child);
    let env = served_env(&dir.join("env"));
    Served {
        child: Some(child),
        dir,
        env,
    }
}

/// `PROFILE -t CODE -d 15m --server`, once its first session is due (in the refresh window);
/// that first session, as the endpoint handed it out.
fn served_until_due(s: &Sandbox, profile: &str) -> (Served, serde_json::Value) {
    let code = s.code();
    let served = serve(s, &[profile, "-t", &code, "-d", "15m", "--server"]);
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    (served, first)
}

impl Served {
    fn port(&self) -> u16 {
        endpoint_of(&self.env).0
    }

    fn token(&self) -> &str {
        &self.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    }

    /// GET / with the run's token, as an SDK asks.
    fn get(&self) -> (u16, serde_json::Value) {
        get(self.port(), self.token())
    }

    fn finish(mut self) -> Output {
        std::fs::write(self.dir.join("stop"), "").unwrap();
        self.child.take().unwrap().wait_with_output().unwrap()
    }

    /// GETs until the answer is a session other than `old` (the renewal runs in the
    /// background; the current session is handed out meanwhile), at most 30 seconds.
    #[track_caller]
    fn get_renewed(&self, old: &serde_json::Value) -> (u16, serde_json::Value) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self.get();
            if status != 200 || body["AccessKeyId"] != old["AccessKeyId"] {
                return (status, body);
            }
            assert!(Instant::now() < deadline, "no renewal");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(child.id());
            let _ = child.wait();
        }
    }
}

/// SIGKILL to the process group led by `pid`, a process this test started with `setsid`.
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
}

/// The environment the command wrote (`env > FILE`).
fn served_env(file: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The endpoint mfaexec gave a command, from the command's environment: its port and token.
fn endpoint_of(env: &HashMap<String, String>) -> (u16, String) {
    (
        port_of(&env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]),
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone(),
    )
}

fn port_of(uri: &str) -> u16 {
    let rest = uri.strip_prefix("http://127.0.0.1:").expect(uri);
    rest.strip_suffix('/').expect(uri).parse().expect(uri)
}

/// GET / of the endpoint at `port` with `token`, as an SDK asks; the status and the JSON body.
fn get(port: u16, token: &str) -> (u16, serde_json::Value) {
    request(port, "GET", &format!("127.0.0.1:{port}"), Some(token))
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
    let status = status_of(&answer);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The status code of an HTTP answer, 0 if there is none.
fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
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

/// `2030-01-02T03:04:05Z` to Unix seconds.
fn jiff_free_parse(text: &str) -> u64 {
    let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    unix_seconds(y, m, d, hh, mm, ss) as u64
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
    let code_file = with_mfa_process(&s, "");
    let code = s.code();
    let aws = aws_program();
    let script = format!(
        "env > served-env.tmp; mv served-env.tmp served-env; '{aws}' sts get-caller-identity > first && i=0; while [ ! -e go ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done && '{aws}' sts get-caller-identity > second",
        aws = aws.display()
    );
    let mut child = spawn(
        &s,
        &[
            "prod", "-t", &code, "-d", "15m", "--server", "--", "sh", "-c", &script,
        ],
    );
    wait_for_file(&s.path("first"), &mut child);
    let issued = s.sts.issued();
    assert_eq!(issued.len(), 1);
    until_in(issued[0].expiration_unix, SLOW_WINDOW);
    std::fs::write(&code_file, s.code()).unwrap();
    // The first request that finds the session due starts the renewal, in the background.
    let (port, token) = endpoint_of(&served_env(&s.path("served-env")));
    get(port, &token);
    until_calls(&s, 2);
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
        let (status, renewed) = served.get_renewed(&current);
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

// A direct role without mfa_process: only a typed code can renew it. Once the session is due,
// mfaexec's stderr says so in one line, and the session is still handed out until it really
// expires (a 503 would make the SDK fail with minutes left); after `mfaexec prod -r -t CODE`
// elsewhere, the next request gets the session that run cached.
#[test]
fn a_session_only_a_typed_code_renews_is_served_until_it_expires_with_one_line() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "-d", "15m", "--server"]);
    let (status, first) = served.get();
    assert_eq!(status, 200);
    until_due(expiration_of(&first));
    for _ in 0..3 {
        let (status, still) = served.get();
        assert_eq!(status, 200, "{still}");
        assert_eq!(still["AccessKeyId"], first["AccessKeyId"]);
    }
    assert_eq!(assume_role_calls(&s).len(), 1, "no call without a code");
    // The AWS CLI still works with the current session.
    let aws = Command::new("setsid")
        .arg(aws_program())
        .args(["sts", "get-caller-identity"])
        .env_clear()
        .envs(&served.env)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        aws.status.success(),
        "{}",
        String::from_utf8_lossy(&aws.stderr)
    );
    assert_eq!(assume_role_calls(&s).len(), 1);

    let code = s.code();
    s.run(["prod", "-r", "-t", &code]).success();
    assert_eq!(assume_role_calls(&s).len(), 2);
    let (status, picked) = served.get_renewed(&first);
    assert_eq!(status, 200, "{picked}");
    assert_eq!(
        picked["AccessKeyId"],
        s.sts.issued()[1].access_key_id.as_str()
    );
    assert_eq!(assume_role_calls(&s).len(), 2, "taken from the cache");

    let out = served.finish();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = "and only a typed MFA code can renew it: run `mfaexec prod -r` in another terminal";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
    assert!(
        stderr.contains("mfaexec: the session of profile `prod` ends in "),
        "{stderr}"
    );
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
        .stderr_has("the `default` profile holds static keys (`aws_access_key_id`)")
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
        let dir_arg = dir.display().to_string();
        let mut child = spawn(
            &s,
            &[
                "prod", "-t", &code, "--server", "--", "sh", "-c", &script, &dir_arg,
            ],
        );
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
    // SIGINT, which mfaexec holds back while the command runs, still ends it. Started through
    // spawn, so that mfaexec and the shell begin with SIGINT at its default even when the test
    // runner ignores it (a run in the background): a shell cannot undo an ignored SIGINT.
    let status = spawn(&s, &["prod", "--server", "--", "sh", "-c", "kill -INT $$"])
        .wait_with_output()
        .unwrap()
        .status;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(2),
        "{status:?}"
    );
}

// A renewal that fails for another reason than a missing code is said once and not tried
// again at once: SDKs retry quickly, and a retry could cost an MFA code.
#[test]
fn a_failed_renewal_is_said_once_not_retried_at_once_and_the_session_still_served() {
    let s = sandbox();
    let (served, first) = served_until_due(&s, "deploy");
    let before = s.calls().len();
    s.sts.inject(Fault::Error {
        status: 403,
        code: "AccessDenied".into(),
        message: "User: arn:aws:sts::222222222222:assumed-role/admin/x is not authorized to perform: sts:AssumeRole".into(),
    });
    for _ in 0..3 {
        let (status, still) = served.get();
        assert_eq!(status, 200, "{still}");
        assert_eq!(still["AccessKeyId"], first["AccessKeyId"]);
    }
    assert_eq!(
        s.calls().len(),
        before + 1,
        "no second attempt within seconds"
    );
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr
            .matches("mfaexec: cannot renew the session of profile `deploy`: ")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("may not assume role"), "{stderr}");
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
    // `env --default-signal`: the terminal's default for SIGINT even when the test runner
    // ignores it (a run in the background), which a shell could not undo.
    let mut term = on_terminal(
        &s,
        &[
            "prod",
            "-t",
            &code,
            "--server",
            "--",
            "env",
            "--default-signal=INT",
            "sh",
            "-c",
            script,
        ],
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
            "env",
            "--default-signal=INT",
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
    let (served, first) = served_until_due(&s, "deploy");
    let before = s.calls().len();
    // The renewal takes a second, so that all sixteen arrive while it is under way.
    s.sts.inject(Fault::Delay(Duration::from_secs(1)));
    let port = served.port();
    let token = served.token().to_owned();
    let answers: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let token = token.clone();
                scope.spawn(move || get(port, &token))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (_, renewed) = served.get_renewed(&first);
    assert_eq!(s.calls().len(), before + 1, "one STS call");
    let renewed_key = s.sts.issued().last().unwrap().access_key_id.clone();
    assert_eq!(renewed["AccessKeyId"], renewed_key.as_str());
    // Each got the current session at once, or the renewed one.
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert!(
            body["AccessKeyId"] == first["AccessKeyId"]
                || body["AccessKeyId"] == renewed["AccessKeyId"],
            "{body}"
        );
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
    let out = s.output_with_core_limit(
        1234,
        &[
            "prod",
            "-t",
            &code,
            "--server",
            "--",
            "sh",
            "-c",
            "ulimit -S -c; sleep 0.5; grep 'core file' /proc/$PPID/limits",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("1234"), "{stdout}");
    // "Max core file size SOFT HARD bytes": mfaexec's soft limit is 0.
    let fields: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(fields[4], "0", "{stdout}");
}

/// The process's state letter from /proc (None once it is gone); `Z` is a zombie.
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// The pids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

fn gone(pid: u32) -> bool {
    matches!(state_of(pid), None | Some('Z'))
}

// A test that fails mid-way drops its Served: mfaexec and the command end with it, and the
// command's own wait is bounded.
#[test]
fn a_dropped_served_run_leaves_no_process() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    let mfaexec = served.pid();
    let command = children_of(mfaexec);
    assert_eq!(command.len(), 1, "{command:?}");
    drop(served);
    assert!(gone(mfaexec), "mfaexec {mfaexec} still runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(command[0]) {
        assert!(
            Instant::now() < deadline,
            "the command {} still runs",
            command[0]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A shell script for `serve_command`: writes its environment, runs `body` (in `$0`), then
/// waits for the file `stop`, at most two minutes.
fn script_command(s: &Sandbox, body: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!(
            "env > \"$0/env.tmp\"; mv \"$0/env.tmp\" \"$0/env\"; cd \"$0\" || exit 9; {body}; i=0; while [ ! -e stop ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done"
        ),
        s.path("served").display().to_string(),
    ]
}

/// `prod` takes its code from `mfa_process`: `before` (`sh` code, ending in a separator when
/// not empty) run before it prints the file `code`.
fn with_mfa_process(s: &Sandbox, before: &str) -> PathBuf {
    let code_file = s.path("code");
    s.mfa_process_on_prod(&format!("{before}cat '{}'", code_file.display()));
    code_file
}

/// Waits, at most 60 seconds, until STS got `n` AssumeRole calls.
#[track_caller]
fn until_calls(s: &Sandbox, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while assume_role_calls(s).len() < n {
        assert!(
            Instant::now() < deadline,
            "{} calls",
            assume_role_calls(s).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits, at most 30 seconds, for a file.
#[track_caller]
fn until_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILLs these pids, all started by this test, when dropped.
struct KillOnDrop(Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

// A renewal through a slow mfa_process: a process the command leaves running meanwhile (a
// daemon it double-forks) is not mfaexec's to kill.
#[test]
fn an_orphan_the_command_makes_during_a_renewal_stays_alive() {
    let s = sandbox();
    let code_file = with_mfa_process(&s, "sleep 3; ");
    let code = s.code();
    let served = serve_command(
        &s,
        &["prod", "-t", &code, "-d", "15m", "--server"],
        script_command(
            &s,
            "i=0; while [ ! -e go ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done; ( sleep 100 >/dev/null 2>&1 & echo $! > grand.tmp; mv grand.tmp grand.pid )",
        ),
    );
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    std::fs::write(&code_file, s.code()).unwrap();
    let port = served.port();
    let token = served.token().to_owned();
    let asking = std::thread::spawn(move || get(port, &token));
    // mfa_process is sleeping: the command's orphan is made now.
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(s.path("served/go"), "").unwrap();
    until_file(&s.path("served/grand.pid"));
    let grandchild = read_pid(&s.path("served/grand.pid"));
    let _kill = KillOnDrop(vec![grandchild]);
    until_calls(&s, 2);
    let _ = asking.join();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !gone(grandchild),
        "the command's orphan {grandchild} was killed by the renewal"
    );
    assert!(served.finish().status.success());
}

// On a terminal, the command (a job-control shell) holds the terminal; mfa_process reading
// /dev/tty during a renewal fails at once instead of stopping mfaexec and the command.
#[test]
fn a_renewal_never_reads_the_terminal_and_never_stops_mfaexec() {
    let s = sandbox();
    with_mfa_process(&s, "read c < /dev/tty; echo \"$c\"; ");
    let code = s.code();
    let dir = s.path("served");
    std::fs::create_dir_all(&dir).unwrap();
    // `set -m`: the subshell runs as a job of its own, in the terminal's foreground.
    let script = format!(
        "cd '{}' || exit 9; echo $$ > command.pid; echo $PPID > mfaexec.pid; env > env; set -m; (echo ready; i=0; while [ ! -e stop ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done)",
        dir.display()
    );
    // mfaexec as a job of a job-control shell, as typed at a prompt (a process group whose
    // parent is in the same session: a read from the background stops it).
    let line = shell_words::join(
        [
            bin().display().to_string().as_str(),
            "prod",
            "-t",
            &code,
            "-d",
            "15m",
            "--server",
            "--",
            "sh",
            "-c",
            &script,
        ]
        .iter(),
    );
    let mut term = pty::Terminal::start(
        &["sh".into(), "-c".into(), format!("set -m; {line}")],
        s.vars(),
    );
    term.expect("ready", 1);
    let mfaexec = read_pid(&dir.join("mfaexec.pid"));
    let command = read_pid(&dir.join("command.pid"));
    let _kill = KillOnDrop(vec![mfaexec, command]);
    let (port, token) = endpoint_of(&served_env(&dir.join("env")));
    let (_, first) = get(port, &token);
    until_due(expiration_of(&first));
    let asking = std::thread::spawn(move || get(port, &token));
    term.expect("cannot renew the session of profile `prod`", 1);
    assert_ne!(state_of(mfaexec), Some('T'), "mfaexec was stopped");
    let _ = asking.join();
    std::fs::write(dir.join("stop"), "").unwrap();
    let (status, screen) = term.finish();
    assert_eq!(status, Some(0), "{screen}");
    assert_eq!(assume_role_calls(&s).len(), 1);
}

/// GET / with the token, giving up after `timeout` as an SDK does; the status, 0 if it gave up.
fn impatient_get(served: &Served, timeout: Duration) -> u16 {
    let port = served.port();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {}\r\n",
        served.token()
    );
    raw_status_within(port, &head, timeout)
}

// A session that is due but still valid is handed out at once while a slow renewal runs: the
// SDK would give up on the endpoint long before STS answered.
#[test]
fn a_due_session_is_answered_at_once_while_a_slow_renewal_runs() {
    let s = sandbox();
    let (served, first) = served_until_due(&s, "deploy");
    let before = s.calls().len();
    s.sts.inject(Fault::Delay(Duration::from_secs(5)));
    let started = Instant::now();
    let (status, answer) = served.get();
    let took = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["AccessKeyId"], first["AccessKeyId"]);
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let (_, renewed) = served.get_renewed(&first);
    assert_ne!(renewed["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(s.calls().len(), before + 1, "one call");
    assert!(served.finish().status.success());
}

// Clients that give up after a second during a five-second renewal (cache off, so no file lock
// hides it): the renewal belongs to the server, not to a request, and runs once.
#[test]
fn clients_giving_up_during_a_renewal_do_not_start_another() {
    let mut s = sandbox();
    let code_file = with_mfa_process(&s, "echo run >> runs; ");
    s.set("MFAEXEC_CACHE", "off");
    let (served, first) = served_until_due(&s, "prod");
    std::fs::write(&code_file, s.code()).unwrap();
    s.sts.inject(Fault::Delay(Duration::from_secs(5)));
    for _ in 0..4 {
        impatient_get(&served, Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, renewed) = served.get_renewed(&first);
    assert_ne!(renewed["AccessKeyId"], first["AccessKeyId"]);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(assume_role_calls(&s).len(), 2, "one call for the renewal");
    let runs = std::fs::read_to_string(s.path("runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "one mfa_process run");
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("waiting for another mfaexec"), "{stderr}");
}

/// `prod --server` with `settings` added to the `default` profile: refused before any call,
/// naming `key`.
#[track_caller]
fn refused_for_default(key: &str, settings: &str) {
    let s = sandbox();
    let config = s.config_text();
    s.config(&format!("{config}\n[default]\n{settings}\n"));
    let out = s.run(["prod", "--server", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has(&format!("the `default` profile has `{key}`"))
        .stderr_has("hint: ");
    assert!(s.calls().is_empty());
}

#[test]
fn a_default_profile_that_assumes_a_role_itself_is_refused() {
    refused_for_default(
        "role_arn",
        &format!("role_arn = {ADMIN}\nsource_profile = alice"),
    );
}

#[test]
fn a_default_profile_with_credential_process_is_refused() {
    refused_for_default("credential_process", "credential_process = /bin/true");
}

#[test]
fn a_default_profile_with_sso_session_is_refused() {
    refused_for_default("sso_session", "sso_session = corp");
}

#[test]
fn a_default_profile_with_sso_start_url_is_refused() {
    refused_for_default(
        "sso_start_url",
        "sso_start_url = https://corp.awsapps.com/start",
    );
}

#[test]
fn a_default_profile_with_web_identity_is_refused() {
    refused_for_default(
        "web_identity_token_file",
        "web_identity_token_file = /nonexistent/token",
    );
}

#[test]
fn a_default_profile_with_only_a_session_token_is_refused() {
    let s = sandbox();
    let credentials = s.credentials_text();
    s.credentials(&format!(
        "{credentials}\n[default]\naws_session_token = IQoJb3JpZ2luX2VjEXAMPLE\n"
    ));
    let out = s.run(["prod", "--server", "--", "true"]).failure(1);
    out.one_line_error()
        .stderr_has("the `default` profile holds static keys (`aws_session_token`)")
        .stderr_has("mfaexec import default");
    assert!(s.calls().is_empty());
}

// With the cache off, a chain's first hop is kept in the server's memory: the chain renews from
// it with no MFA code, as it would from the cached one.
#[test]
fn with_the_cache_off_a_chain_renews_from_the_first_hop_kept_in_memory() {
    let mut s = sandbox();
    s.set("MFAEXEC_CACHE", "off");
    let code = s.code();
    let served = serve(&s, &["deploy", "-t", &code, "-d", "15m", "--server"]);
    assert_eq!(assume_role_calls(&s).len(), 2, "prod, then deploy");
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    let (status, renewed) = served.get_renewed(&first);
    assert_eq!(status, 200, "{renewed}");
    let calls = assume_role_calls(&s);
    assert_eq!(calls.len(), 3, "one call for the renewal");
    let call = calls.last().unwrap();
    assert_eq!(call.params["RoleArn"], DEPLOY);
    assert!(!call.params.contains_key("TokenCode"));
    assert_eq!(call.access_key_id, s.sts.issued()[0].access_key_id);
    assert!(served.finish().status.success());
}

// With the cache off, `mfaexec PROFILE -r` elsewhere cannot reach the server: the line says the
// run must be restarted instead.
#[test]
fn with_the_cache_off_a_session_needing_a_typed_code_says_to_restart() {
    let mut s = sandbox();
    s.set("MFAEXEC_CACHE", "off");
    let (served, _) = served_until_due(&s, "prod");
    let (status, _) = served.get();
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(500));
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("only a typed MFA code can renew it: the session cache is off (MFAEXEC_CACHE), so the run must be restarted"),
        "{stderr}"
    );
    assert!(!stderr.contains("-r`"), "{stderr}");
}

/// The next STS answer's session lasts 40 seconds instead of what was asked: a session that
/// expires within a test.
fn next_session_lasts_40s(s: &Sandbox) {
    s.sts.inject(Fault::Rewrite(|body| {
        let (open, close) = ("<Expiration>", "</Expiration>");
        let start = body.find(open).unwrap() + open.len();
        let end = start + body[start..].find(close).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        format!(
            "{}{}{}",
            &body[..start],
            fake_sts::rfc3339(now + 40),
            &body[end..]
        )
    }));
}

/// alice's keys in the file store (moved there with the passphrase given once), and no
/// MFAEXEC_FILE_PASSPHRASE for the runs after.
fn keys_in_the_file_store(s: &Sandbox) {
    s.run(["import", "alice"])
        .env("MFAEXEC_STORE", "file")
        .env("MFAEXEC_FILE_PASSPHRASE", "correct horse")
        .success();
}

/// `--server` on a terminal with the keys in the file store and no MFAEXEC_FILE_PASSPHRASE: the
/// passphrase is asked once, before the command starts; the renewal, due while the command reads
/// the terminal, neither writes to it nor reads from it, says on stderr why it cannot renew, and
/// the endpoint answers 503 once the session has expired. `expected` is the stderr line.
fn renewal_on_a_terminal_never_asks_for_the_passphrase(s: &Sandbox, expected: &str) {
    keys_in_the_file_store(s);
    next_session_lasts_40s(s);
    let dir = s.path("served");
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "cd '{}' || exit 9; echo $$ > command.pid; echo $PPID > mfaexec.pid; env > env; echo ready; read line; echo \"command got: $line\"; i=0; while [ ! -e stop ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done",
        dir.display()
    );
    let code = s.code();
    let line = shell_words::join(
        [
            bin().display().to_string().as_str(),
            "prod",
            "-t",
            &code,
            "-d",
            "15m",
            "--server",
            "--",
            "sh",
            "-c",
            &script,
        ]
        .iter(),
    );
    let err = s.path("stderr");
    let mut term = pty::Terminal::start(
        &[
            "sh".into(),
            "-c".into(),
            format!("{line} 2>'{}'", err.display()),
        ],
        s.vars(),
    );
    term.expect("Passphrase of the mfaexec key file: ", 1);
    term.send_line("correct horse");
    term.expect("ready", 1);
    let pid = |name: &str| -> u32 {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let _kill = KillOnDrop(vec![pid("mfaexec.pid"), pid("command.pid"), term.pid()]);
    let env: HashMap<String, String> = std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let port = port_of(&env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]);
    let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone();
    let host = format!("127.0.0.1:{port}");
    let (status, first) = request(port, "GET", &host, Some(&token));
    assert_eq!(status, 200, "{first}");
    let expiration = expiration_of(&first);
    // Due at half its 40s (the window is longer than the session).
    until_in(expiration, 19);
    let (status, _) = request(port, "GET", &host, Some(&token));
    assert_eq!(status, 200);
    let stderr = || std::fs::read_to_string(&err).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stderr().contains(expected) {
        assert!(Instant::now() < deadline, "{}\n{}", stderr(), term.screen());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next line typed is the command's.
    term.send_line("for the command");
    term.expect("command got: for the command", 1);
    until_in(expiration, 0);
    std::thread::sleep(Duration::from_millis(1100));
    let (status, body) = request(port, "GET", &host, Some(&token));
    assert_eq!(status, 503, "{body}");
    std::fs::write(dir.join("stop"), "").unwrap();
    let (status, screen) = term.finish();
    assert_eq!(status, Some(0), "{screen}\n{}", stderr());
    assert_eq!(
        screen.matches("Passphrase of the mfaexec key file").count(),
        1,
        "{screen}"
    );
    assert!(!screen.contains("mfaexec:"), "{screen}");
    let stderr = stderr();
    assert_eq!(stderr.matches(expected).count(), 1, "{stderr}");
    assert!(!stderr.contains("cannot renew"), "{stderr}");
    assert_eq!(assume_role_calls(s).len(), 1);
}

// See: issue 18, defect 2. Only a typed code can renew: the renewal decides that before it
// opens the store, so it never asks for the store's passphrase either.
#[test]
fn a_renewal_needing_a_typed_code_never_asks_for_the_file_store_passphrase() {
    let s = sandbox();
    renewal_on_a_terminal_never_asks_for_the_passphrase(
        &s,
        "and only a typed MFA code can renew it: run `mfaexec prod -r` in another terminal",
    );
}

// See: issue 18, defect 2. mfa_process could give the code, but the store needs a passphrase:
// handled like a typed code, without running mfa_process.
#[test]
fn a_renewal_needing_the_file_store_passphrase_is_handled_like_a_typed_code() {
    let s = sandbox();
    let ran = s.path("ran");
    let code_file = with_mfa_process(&s, &format!("echo ran >> '{}';", ran.display()));
    std::fs::write(&code_file, "000000").unwrap();
    renewal_on_a_terminal_never_asks_for_the_passphrase(
        &s,
        "and only the passphrase of the key file can renew it: run `mfaexec prod -r` in another terminal",
    );
    assert!(!ran.exists(), "mfa_process ran though no key could be read");
}

// See: issue 18, defect 5. While only a typed code can renew, requests are answered from what
// the endpoint remembers: the key source (a credential_process here) is not run for each, only
// again once the cache changed (`mfaexec prod -r` in another terminal).
#[test]
fn requests_while_only_a_typed_code_can_renew_run_no_key_source() {
    let mut s = sandbox();
    let vault = s.path("vault.sh");
    std::fs::write(
        &vault,
        format!(
            "echo run >> '{}'\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' {} {}\n",
            s.path("runs").display(),
            s.alice.access_key_id,
            s.alice.secret_access_key
        ),
    )
    .unwrap();
    s.credentials("");
    s.config(&format!(
        "[profile vault]\ncredential_process = /bin/sh {}\n\n\
         [profile prod]\nrole_arn = {ADMIN}\nsource_profile = vault\nmfa_serial = {}\nduration_seconds = 43200\nregion = eu-west-1\n",
        vault.display(),
        s.serial()
    ));
    s.set("AWS_EC2_METADATA_DISABLED", "true");
    let runs = || {
        std::fs::read_to_string(s.path("runs"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "-d", "15m", "--server"]);
    assert_eq!(runs(), 1);
    let (_, first) = served.get();
    until_due(expiration_of(&first));
    for _ in 0..30 {
        let (status, body) = served.get();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["AccessKeyId"], first["AccessKeyId"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(runs(), 1, "the credential_process ran for a request");
    // A session cached elsewhere is still picked up.
    let code = s.code();
    s.run(["prod", "-r", "-t", &code]).success();
    assert_eq!(runs(), 2);
    let (status, renewed) = served.get_renewed(&first);
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(runs(), 2);
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("only a typed MFA code can renew it").count(),
        1,
        "{stderr}"
    );
}

// Idle, half-sent and dribbling connections (a local flood) cannot hold off the command's
// requests: over the connection limit a request gets 503 at once, and connections that send no
// head within two seconds are dropped.
#[test]
fn idle_and_dribbling_connections_cannot_hold_off_requests() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    let port = served.port();
    let mut flood: Vec<TcpStream> = (0..70)
        .map(|i| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            if i % 2 == 0 {
                let _ = c.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            }
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (status, body) = served.get();
    assert!(status == 503 || status == 200, "{status} {body}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered after {:?}",
        started.elapsed()
    );
    // The flood is dropped within two seconds: a request is served again.
    std::thread::sleep(Duration::from_millis(2500));
    let (status, body) = served.get();
    assert_eq!(status, 200, "{body}");
    // A dribbling connection keeps a byte coming, never a whole head: dropped all the same.
    let mut dribble = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let mut kept = true;
    for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAccept: */*\r\n" {
        if dribble.write_all(&[*byte]).is_err() {
            kept = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if kept {
        dribble
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut rest = Vec::new();
        kept = dribble.read_to_end(&mut rest).is_err();
    }
    assert!(
        !kept,
        "the dribbling connection was kept for {:?}",
        started.elapsed()
    );
    for c in &mut flood {
        let _ = c.shutdown(std::net::Shutdown::Both);
    }
    assert!(served.finish().status.success());
}

/// Sends `head` as it is (the request line and headers, without the final empty line) and
/// returns the status.
fn raw_status(port: u16, head: &str) -> u16 {
    raw_status_within(port, head, Duration::from_secs(10))
}

/// As `raw_status`, giving up after `timeout`; 0 if it gave up.
fn raw_status_within(port: u16, head: &str, timeout: Duration) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream
        .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    status_of(&String::from_utf8_lossy(&answer))
}

// A second Host header (RFC 9112: more than one is a bad request) is refused even when the
// first is ours.
#[test]
fn two_host_headers_are_refused() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    let port = served.port();
    let auth = format!("Authorization: {}\r\n", served.token());
    let ours = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}");
    assert_eq!(raw_status(port, &ours), 200);
    for second in ["evil.example:80", &format!("127.0.0.1:{port}")] {
        let twice = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: {second}\r\n{auth}");
        let status = raw_status(port, &twice);
        assert!(status == 403 || status == 400, "{second}: {status}");
    }
    assert!(served.finish().status.success());
}

// The AWS CLI's own refresh ahead of expiry, in ONE botocore process: after a renewal it moves
// to the new session, with one STS call for the renewal.
#[test]
fn one_botocore_process_moves_to_the_renewed_session() {
    let s = sandbox();
    let python = aws_program().parent().unwrap().join("python3");
    let script = r#"
import os, time, botocore.session
client = botocore.session.get_session().create_client("sts", region_name="eu-west-1")
def wait(name):
    for _ in range(1200):
        if os.path.exists(name):
            return
        time.sleep(0.05)
for step in ("first", "second", "third"):
    client.get_caller_identity()
    open(step, "w").close()
    wait("go-" + step)
"#;
    let code = s.code();
    let python = python.display().to_string();
    let mut child = spawn(
        &s,
        &[
            "deploy", "-t", &code, "-d", "15m", "--server", "--", &python, "-c", script,
        ],
    );
    let _kill = KillOnDrop(vec![child.id()]);
    wait_for_file(&s.path("first"), &mut child);
    let issued = s.sts.issued();
    assert_eq!(issued.len(), 2, "prod, then deploy");
    until_due(issued[1].expiration_unix);
    // The call after the session is due starts the renewal (and gets the current session or,
    // if the renewal is quick, the new one).
    std::fs::write(s.path("go-first"), "").unwrap();
    wait_for_file(&s.path("second"), &mut child);
    until_calls(&s, 3);
    std::fs::write(s.path("go-second"), "").unwrap();
    wait_for_file(&s.path("third"), &mut child);
    std::fs::write(s.path("go-third"), "").unwrap();
    let out = Out(child.wait_with_output().unwrap());
    assert!(out.0.status.success(), "{}", out.stderr());
    let issued = s.sts.issued();
    assert_eq!(assume_role_calls(&s).len(), 3, "one call for the renewal");
    let identity = of(&s.calls(), "GetCallerIdentity");
    assert_eq!(identity.len(), 3);
    assert_eq!(identity[0].access_key_id, issued[1].access_key_id);
    assert_eq!(identity[2].access_key_id, issued[2].access_key_id);
}

// More Host checks: a name that only starts like ours, no Host at all (HTTP/1.0 allows that),
// HTTP/1.0 with our Host, and the absolute form of the request target.
#[test]
fn host_checks_for_suffixes_no_host_http_1_0_and_absolute_targets() {
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    let port = served.port();
    let auth = format!("Authorization: {}\r\n", served.token());
    let cases = [
        (
            format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}.evil\r\n{auth}"),
            403,
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: localhost:{port}0\r\n{auth}"),
            403,
        ),
        (format!("GET / HTTP/1.0\r\n{auth}"), 403),
        (
            format!("GET / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{auth}"),
            200,
        ),
        (
            format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"),
            200,
        ),
        (
            format!("GET http://evil.example:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"),
            403,
        ),
    ];
    for (head, expected) in &cases {
        let status = raw_status(port, head);
        if *expected == 403 {
            assert!(status == 403 || status == 400, "{head:?}: {status}");
        } else {
            assert_eq!(status, *expected, "{head:?}");
        }
    }
    assert!(served.finish().status.success());
}

// The terminal closes: its shell (the session leader) dies of SIGHUP, and the kernel sends
// SIGHUP to the foreground process group, the command included. mfaexec does not pass its own
// copy on, so the command's HUP trap runs once.
#[test]
fn a_terminal_hangup_reaches_the_command_once() {
    let s = sandbox();
    let code = s.code();
    // Two SIGHUPs that reach the command almost together are merged into one; a few rounds
    // make a second one seen.
    for round in 0..3 {
        let dir = s.path(&format!("hangup-{round}"));
        std::fs::create_dir_all(&dir).unwrap();
        let script = format!(
            "cd '{}' || exit 9; echo $$ > command.pid; echo $PPID > mfaexec.pid; trap 'echo HUP >> hups' HUP; echo ready; i=0; while [ $i -lt 3000000 ] && [ ! -e hups ]; do i=$((i+1)); done; j=0; while [ $j -lt 200000 ]; do j=$((j+1)); done",
            dir.display()
        );
        // Not `exec`: the terminal's shell stays the session leader, mfaexec a job of it.
        let mut term = s.terminal(&["prod", "-t", &code, "--server", "--", "sh", "-c", &script]);
        term.expect("ready", 1);
        let _kill = KillOnDrop(vec![
            read_pid(&dir.join("mfaexec.pid")),
            read_pid(&dir.join("command.pid")),
        ]);
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-KILL", &term.pid().to_string()])
            .status();
        until_file(&dir.join("hups"));
        std::thread::sleep(Duration::from_millis(1500));
        // (The command waits with shell builtins only, so each SIGHUP runs the trap at once and two
        // are not merged into one while a `sleep` runs.)
        let hups = std::fs::read_to_string(dir.join("hups")).unwrap();
        assert_eq!(hups.lines().count(), 1, "{hups}");
    }
}

// In an interactive bash on a real terminal (tmux): resizes reach the command, Ctrl-Z stops the
// job, `fg` continues it (resizes still reach it), and Ctrl-C ends it with mfaexec's status 130.
#[test]
fn ctrl_z_fg_and_resizes_in_an_interactive_shell() {
    let s = sandbox();
    let code = s.code();
    let term = crate::support::shell::Tmux::start(
        &s,
        &["bash", "--norc", "--noprofile", "-i"],
        &[("PS1", "$ ")],
    );
    // The quotes keep the typed line from showing the words the command prints.
    let script = "trap 'echo got-\"\"WINCH' WINCH; echo re\"\"ady; i=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done";
    term.line(&shell_words::join([
        bin().display().to_string().as_str(),
        "prod",
        "-t",
        &code,
        "--server",
        "--",
        "sh",
        "-c",
        script,
    ]));
    term.wait("ready", |h| h.contains("ready"));
    term.resize(150, 40);
    term.wait("a first WINCH", |h| h.matches("got-WINCH").count() >= 1);
    term.keys(&["C-z"]);
    term.wait("the job stopped", |h| h.contains("Stopped"));
    term.line("fg");
    std::thread::sleep(Duration::from_millis(500));
    term.resize(120, 30);
    term.wait("a WINCH after fg", |h| h.matches("got-WINCH").count() >= 2);
    term.keys(&["C-c"]);
    term.line("echo status=$?");
    term.wait("the exit status", |h| h.contains("status=130"));
}

// See: issue 18, defect 7: the command of `--server` got MFAEXEC_FILE_PASSPHRASE.
#[test]
fn the_command_never_sees_the_file_store_passphrase() {
    let mut s = sandbox();
    s.set("MFAEXEC_FILE_PASSPHRASE", "correct horse battery staple");
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    assert!(
        served
            .env
            .contains_key("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        "{:?}",
        served.env.keys()
    );
    assert!(
        !served.env.contains_key("MFAEXEC_FILE_PASSPHRASE"),
        "{:?}",
        served.env.keys()
    );
    assert!(served.finish().status.success());
}

/// This process's real group id, from /proc: `Command::gid` with it makes std fork and exec.
fn own_gid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Gid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// See: issue 18, defect 15: glibc's posix_spawn started the command with signals 32 and 33
// ignored (SigIgn 0000000180000000 from a shell), which survive its exec; a shell ignores
// none. The command must ignore exactly what mfaexec's parent made mfaexec ignore: mfaexec's
// own set, without the SIGPIPE that Rust programs ignore. (The test runner may itself have
// been posix_spawned, and then nothing can reset its 32 and 33: hence the comparison.)
#[test]
fn the_command_starts_with_no_signal_blocked_nor_ignored_but_what_mfaexec_was_given() {
    use std::os::unix::process::CommandExt;
    let s = sandbox();
    let code = s.code();
    let out = Command::new("setsid")
        .args(["env", "--default-signal"])
        .arg(bin())
        .args(["prod", "-t", &code, "--server", "--", "sh", "-c"])
        .arg("exec grep -H -e ^SigBlk: -e ^SigIgn: /proc/self/status /proc/$PPID/status")
        .env_clear()
        .envs(s.vars().iter().map(|(k, v)| (k, v)))
        // Forked (std's `gid` path), not posix_spawned: mfaexec starts as from a shell.
        .gid(own_gid())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // /proc/self/status:SigBlk:, /proc/self/status:SigIgn:, then mfaexec's two.
    let masks: Vec<u64> = stdout
        .lines()
        .map(|l| u64::from_str_radix(l.rsplit('\t').next().unwrap().trim(), 16).unwrap())
        .collect();
    assert_eq!(masks.len(), 4, "{stdout}");
    assert_eq!(
        masks[0], 0,
        "the command starts with signals blocked:\n{stdout}"
    );
    let (command, mfaexec) = (masks[1], masks[3]);
    let sigpipe = 1 << (13 - 1);
    assert_eq!(
        command,
        mfaexec & !sigpipe,
        "the command ignores {command:016x}, mfaexec {mfaexec:016x}:\n{stdout}"
    );
}

// See: issue 18, defect 15: after `kill -KILL` of mfaexec under `--server`, the command ran on
// with a dead endpoint.
#[test]
fn the_command_gets_sigterm_when_mfaexec_is_killed() {
    let s = sandbox();
    let code = s.code();
    let dir = s.path("served");
    std::fs::create_dir_all(&dir).unwrap();
    let mut args: Vec<String> = ["prod", "-t", &code, "--server", "--"]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    args.extend(script_command(
        &s,
        "echo $$ > pid; trap 'echo TERM > term; exit 0' TERM",
    ));
    let mut child = spawn(&s, &args);
    wait_for_file(&dir.join("env"), &mut child);
    until_file(&dir.join("pid"));
    let command: u32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _kill = KillOnDrop(vec![command]);
    // The command is mfaexec's child, with the name it was called by.
    let stat = std::fs::read_to_string(format!("/proc/{command}/stat")).unwrap();
    assert!(stat.contains("(sh)"), "{stat}");
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("term").exists() {
        assert!(
            Instant::now() < deadline,
            "the command got no SIGTERM after mfaexec was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One GET with the token on a new connection: the status, or 0 when the connection was closed
/// or failed before an answer.
fn get_status(port: u16, token: &str) -> u16 {
    let attempt = || -> std::io::Result<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let head = format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes())?;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        Ok(answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    };
    attempt().unwrap_or(0)
}

// See: issue 18, defect 14: any local process could exhaust the endpoint; 300 cycling
// connections made 22 of 40 good requests get 503. Each of 300 threads, all on 127.0.0.1,
// opens a connection, sends nothing, and opens the next as soon as the endpoint closes it,
// while the command's SDK asks 40 times with the token. The counts are printed (run with
// `--nocapture` to see them).
#[test]
fn many_idle_unauthenticated_connections_do_not_keep_the_command_from_its_credentials() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let s = sandbox();
    let code = s.code();
    let served = serve(&s, &["prod", "-t", &code, "--server"]);
    let (port, token) = (served.port(), served.token().to_owned());
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..300)
        .map(|_| {
            let (stop, opened) = (Arc::clone(&stop), Arc::clone(&opened));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut idle) = TcpStream::connect(("127.0.0.1", port)) else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    opened.fetch_add(1, Ordering::Relaxed);
                    let _ = idle.set_read_timeout(Some(Duration::from_millis(500)));
                    // Held until the endpoint closes it (or half a second, to see `stop`).
                    let mut buf = [0u8; 256];
                    while !stop.load(Ordering::Relaxed) {
                        match idle.read(&mut buf) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..40 {
        *counts.entry(get_status(port, &token)).or_default() += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.join().unwrap();
    }
    println!(
        "issue 18, defect 14: 300 cycling idle connections ({} opened); 40 requests with the token, by status (0: closed unanswered): {counts:?}",
        opened.load(Ordering::Relaxed)
    );
    assert_eq!(counts.get(&200), Some(&40), "{counts:?}");
    assert!(served.finish().status.success());
}

const SSO_START: &str = "https://d-1234567890.awsapps.com/start";
const SSO_TOKEN: &str = "ACCESSTOKEN-valid";

/// `sandbox()` with the fake portal and `dev`, an sso-session profile whose role credentials
/// last `session_secs` and whose token (no refresh token) expires in `token_secs`.
fn sso_sandbox(session_secs: u64, token_secs: u64) -> (Sandbox, fake_sso::FakeSso) {
    let mut s = sandbox();
    let sso = fake_sso::FakeSso::start();
    sso.set_session_secs(session_secs);
    s.set("AWS_ENDPOINT_URL_SSO", &sso.url());
    s.set("AWS_ENDPOINT_URL_SSO_OIDC", &sso.url());
    s.append_config(&format!(
        "\n[profile dev]\nsso_session = corp\nsso_account_id = {PROD}\nsso_role_name = Admin\nregion = eu-west-1\n\n\
         [sso-session corp]\nsso_start_url = {SSO_START}\nsso_region = us-east-1\n"
    ));
    let expires = fake_sso::now() + token_secs;
    sso.accept_token(SSO_TOKEN, expires);
    fake_sso::write_token(
        &s.home(),
        "corp",
        SSO_START,
        "us-east-1",
        SSO_TOKEN,
        expires,
        None,
    );
    (s, sso)
}

// See: issue 17. A due SSO session is renewed from the portal (a second GetRoleCredentials),
// with no code and nothing asked.
#[test]
fn an_sso_session_is_renewed_from_the_portal_while_its_token_is_valid() {
    let (s, sso) = sso_sandbox(900, 3600);
    let served = serve(&s, &["dev", "--server"]);
    let (status, first) = served.get();
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["AccessKeyId"], sso.issued()[0].access_key_id.as_str());
    until_due(expiration_of(&first));
    let (status, renewed) = served.get_renewed(&first);
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(
        renewed["AccessKeyId"],
        sso.issued()[1].access_key_id.as_str()
    );
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 2);
    let out = served.finish();
    assert!(out.status.success());
    assert_no_secret(&String::from_utf8_lossy(&out.stderr));
}

// See: issue 17. The token expires under a running command: the sign-in command is said once,
// never run (not even with --sso-login: a stand-in `aws` on PATH records any run), the current
// session is served until it expires, and then the endpoint answers 503 naming the command.
#[test]
fn an_expired_sso_token_under_server_is_said_once_and_served_until_the_session_ends() {
    let (mut s, sso) = sso_sandbox(24, 6);
    let bin_dir = s.path("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let script = bin_dir.join("aws");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {}\n", s.path("aws-ran").display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set("PATH", &format!("{}:/usr/bin:/bin", bin_dir.display()));
    let served = serve(&s, &["dev", "--server", "--sso-login"]);
    let (status, first) = served.get();
    assert_eq!(status, 200, "{first}");
    let expiration = expiration_of(&first);
    // Due at half its 24s, with the token expired: still the same session, and no call.
    while fake_sso::now() < expiration - 10 {
        std::thread::sleep(Duration::from_millis(200));
    }
    for _ in 0..3 {
        let (status, still) = served.get();
        assert_eq!(status, 200, "{still}");
        assert_eq!(still["AccessKeyId"], first["AccessKeyId"]);
    }
    while fake_sso::now() <= expiration {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = served.get();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.to_string()
            .contains("aws sso login --sso-session corp"),
        "{body}"
    );
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 1);
    assert!(!s.path("aws-ran").exists(), "the renewal ran the AWS CLI");
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = "only a new IAM Identity Center sign-in can renew it: run `aws sso login --sso-session corp`";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
    assert!(!stderr.contains("add --sso-login"), "{stderr}");
}

// See: issue 17. An `aws login` session that ends under a running command: said once with
// `aws login --profile P`, the current credentials served until they expire, then 503.
#[test]
fn an_ended_login_session_under_server_is_said_once_and_served_until_it_expires() {
    let mut s = sandbox();
    let signin = fake_signin::FakeSignin::start();
    signin.set_expires_in(24);
    signin.accept_refresh_token("REFRESH-1");
    s.set("AWS_ENDPOINT_URL_SIGNIN", &signin.url());
    let arn = "arn:aws:iam::222222222222:user/alice";
    s.append_config(&format!("\n[profile me]\nlogin_session = {arn}\n"));
    // Due at once: the SDK renews it when mfaexec starts, for 24s.
    fake_signin::write_token(
        &s.home(),
        arn,
        ("ASIALOGINFILE0000001", "SECRETTEMPLOGIN", "TOKENTEMPLOGIN"),
        fake_sso::now() + 60,
        "REFRESH-1",
    );
    let served = serve(&s, &["me", "--server", "--sso-login"]);
    let (status, first) = served.get();
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["AccessKeyId"],
        signin.issued()[0].access_key_id.as_str()
    );
    signin.end_sessions();
    let expiration = expiration_of(&first);
    while fake_sso::now() < expiration - 8 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, still) = served.get();
    assert_eq!(status, 200, "{still}");
    assert_eq!(still["AccessKeyId"], first["AccessKeyId"]);
    while fake_sso::now() <= expiration {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = served.get();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.to_string().contains("aws login --profile me"),
        "{body}"
    );
    let out = served.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = "only a new `aws login` sign-in can renew it: run `aws login --profile me`";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
}
