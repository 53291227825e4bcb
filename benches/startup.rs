//! Startup cost of mfaexec, printed as numbers (`cargo bench --bench startup`).
//!
//! - `/bin/true` alone, and `mfaexec prod -- /bin/true` answered from the session cache: the
//!   median of many runs and the difference, which is what mfaexec adds to every command;
//! - the cold path: a new session from the fake STS on 127.0.0.1 (AssumeRole with an MFA code);
//! - with many profiles (issue 10): `list` with 1,000 profiles in the config file, and a cache
//!   hit with 1,000 profiles against the same hit with 5 (the files are read and parsed once);
//! - the peak RSS of each: each scenario runs in a measuring copy of this program, whose
//!   getrusage(RUSAGE_CHILDREN) then holds the largest of its own runs only (the high-water mark
//!   is kept across exec, so it covers mfaexec before it becomes /bin/true).
//!
//! Runs the optimised binary cargo builds for benchmarks, against the same fake STS the tests use.

// The modules' own unit tests are compiled here but not run (no test harness).
#[path = "../tests/support/fake_sts.rs"]
#[allow(unused_imports)]
mod fake_sts;
#[path = "../tests/support/totp.rs"]
#[allow(dead_code, unused_imports)]
mod totp;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_sts::{FakeSts, Role, User};
use nix::sys::resource::{UsageWho, getrusage};

const HIT_RUNS: usize = 500;
const COLD_RUNS: usize = 30;
const MANY_RUNS: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--measure") {
        return measure(&args[2..]);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_mfaexec"));
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    let sts = FakeSts::start();
    let alice = User::new("alice", "111111111111");
    sts.add_user(alice.clone());
    let role = "arn:aws:iam::222222222222:role/admin";
    sts.add_role(Role {
        max_session_duration: 43200,
        trusted: vec![alice.arn()],
        ..Role::new(role)
    });
    let serial = alice.mfa_serial.clone().unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            alice.access_key_id, alice.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile prod]\nrole_arn = {role}\nsource_profile = default\nmfa_serial = {serial}\nduration_seconds = 43200\nregion = eu-west-1\n"
        ),
    )
    .unwrap();
    let vars = [
        ("HOME", home.display().to_string()),
        ("PATH", "/usr/bin:/bin".to_owned()),
        ("USER", "alice".to_owned()),
        ("AWS_ENDPOINT_URL_STS", sts.url()),
    ];
    // Config files with prod and 4, or 999, other role profiles.
    let config_with = |others: usize| {
        let mut text = std::fs::read_to_string(home.join(".aws/config")).unwrap();
        for i in 0..others {
            text.push_str(&format!(
                "\n[profile team-{i}]\nrole_arn = arn:aws:iam::222222222222:role/r{i}\nsource_profile = default\nmfa_serial = {serial}\nregion = eu-west-1\n"
            ));
        }
        let path = home.join(format!("config-{}", others + 1));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (config_5, config_1000) = (config_with(4), config_with(999));
    // Runs `argv` `runs` times in a measuring child; returns each run's time and the peak RSS.
    let measured_with =
        |config: Option<&str>, runs: usize, argv: &[&str]| -> (Vec<Duration>, i64) {
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.arg("--measure")
                .arg(runs.to_string())
                .args(argv)
                .env_clear()
                .envs(vars.iter().map(|(k, v)| (k, v)));
            if let Some(config) = config {
                cmd.env("AWS_CONFIG_FILE", config);
            }
            let out = cmd.stderr(Stdio::inherit()).output().unwrap();
            assert!(out.status.success(), "measuring {argv:?} failed");
            let text = String::from_utf8(out.stdout).unwrap();
            let mut fields = text.split_whitespace();
            let rss: i64 = fields.next().unwrap().parse().unwrap();
            let times = fields
                .map(|n| Duration::from_nanos(n.parse().unwrap()))
                .collect();
            (times, rss)
        };
    let measured = |runs: usize, argv: &[&str]| measured_with(None, runs, argv);
    let bin_str = bin.to_str().unwrap();

    // Create the cached session, and warm the page cache.
    let code = sts.code(&serial);
    measured(1, &[bin_str, "prod", "-t", &code, "--", "/bin/true"]);
    measured(20, &["/bin/true"]);
    measured(20, &[bin_str, "prod", "--", "/bin/true"]);

    let (mut alone, alone_rss) = measured(HIT_RUNS, &["/bin/true"]);
    let (mut hit, hit_rss) = measured(HIT_RUNS, &[bin_str, "prod", "--", "/bin/true"]);
    assert_eq!(sts.calls().len(), 1, "the hits made no STS call");

    let mut cold = Vec::with_capacity(COLD_RUNS);
    let mut cold_rss = 0;
    for i in 0..COLD_RUNS {
        if i % 3 == 0 {
            sts.advance_clock(90);
        }
        let code = sts.code(&serial);
        let (t, rss) = measured(
            1,
            &[bin_str, "prod", "--refresh", "-t", &code, "--", "/bin/true"],
        );
        cold.extend(t);
        cold_rss = cold_rss.max(rss);
    }
    assert_eq!(sts.calls().len(), 1 + COLD_RUNS);

    let hit_argv = [bin_str, "prod", "--", "/bin/true"];
    measured_with(Some(&config_1000), 5, &hit_argv);
    let (mut hit_5, _) = measured_with(Some(&config_5), MANY_RUNS, &hit_argv);
    let (mut hit_1000, _) = measured_with(Some(&config_1000), MANY_RUNS, &hit_argv);
    let (mut list_1000, list_rss) =
        measured_with(Some(&config_1000), MANY_RUNS, &[bin_str, "list"]);
    assert_eq!(
        sts.calls().len(),
        1 + COLD_RUNS,
        "the hits made no STS call"
    );
    let (h5, h1000, l1000) = (
        median(&mut hit_5),
        median(&mut hit_1000),
        median(&mut list_1000),
    );

    let (a, h, c) = (median(&mut alone), median(&mut hit), median(&mut cold));
    println!("mfaexec startup, {} on {} cores", bin.display(), cores());
    println!(
        "  /bin/true alone                     median {:>8.3} ms  ({HIT_RUNS} runs)",
        ms(a)
    );
    println!(
        "  mfaexec prod -- /bin/true (cached)  median {:>8.3} ms  ({HIT_RUNS} runs)",
        ms(h)
    );
    println!(
        "  overhead of a cache hit             median {:>8.3} ms",
        ms(h) - ms(a)
    );
    println!(
        "  cold: AssumeRole via fake STS       median {:>8.3} ms  ({COLD_RUNS} runs)",
        ms(c)
    );
    println!(
        "  peak RSS, /bin/true alone                  {:>8.1} MiB",
        mib(alone_rss)
    );
    println!(
        "  peak RSS, cache hit                        {:>8.1} MiB",
        mib(hit_rss)
    );
    println!(
        "  peak RSS, cold path                        {:>8.1} MiB",
        mib(cold_rss)
    );
    println!(
        "  cache hit, 5 profiles in the config        median {:>8.3} ms  ({MANY_RUNS} runs)",
        ms(h5)
    );
    println!(
        "  cache hit, 1,000 profiles in the config    median {:>8.3} ms  ({MANY_RUNS} runs)",
        ms(h1000)
    );
    println!(
        "  1,000 profiles over 5, for a hit           median {:>8.3} ms  (target <= 1 ms)",
        ms(h1000) - ms(h5)
    );
    println!(
        "  mfaexec list, 1,000 profiles               median {:>8.3} ms  ({MANY_RUNS} runs; target <= 50 ms)",
        ms(l1000)
    );
    println!(
        "  peak RSS, list of 1,000 profiles                  {:>8.1} MiB",
        mib(list_rss)
    );
}

/// The measuring child: `--measure RUNS PROGRAM ARGS...`; prints the peak RSS of its runs (KiB)
/// and each run's time in nanoseconds.
fn measure(args: &[String]) {
    let runs: usize = args[0].parse().unwrap();
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = Command::new(&args[1])
            .args(&args[2..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}: {status:?}");
        out.push(start.elapsed().as_nanos().to_string());
    }
    let rss = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    println!("{rss} {}", out.join(" "));
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
