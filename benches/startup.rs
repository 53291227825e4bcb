//! Startup cost of mfaexec, printed as numbers (`cargo bench --bench startup`).
//!
//! - `/bin/true` alone, and `mfaexec prod -- /bin/true` answered from the session cache, run in
//!   turn (true, hit, true, hit...) so that the machine's load falls on both alike: the medians,
//!   and the median of each hit less the `/bin/true` run before it, which is what mfaexec adds
//!   to every command;
//! - a hit of an IAM Identity Center profile against the MFA profile's hit, in turn;
//! - `credential-process` answered from the cache, by `mfaexec` and by `mfaexec-core` itself,
//!   in turn; and `--version` the same way, for what a run `mfaexec` hands over pays;
//! - the cold path: a new session from the fake STS on 127.0.0.1 (AssumeRole with an MFA code);
//! - with many profiles (issue 10): `list` with 1,000 profiles in the config file, and a cache
//!   hit with 1,000 profiles against the same hit with 5 (the files are read and parsed once);
//! - the peak RSS and minor page faults of each: each scenario runs in a measuring copy of this
//!   program, whose getrusage(RUSAGE_CHILDREN) then holds its own runs only (the RSS high-water
//!   mark is kept across exec, so it covers mfaexec before it becomes /bin/true);
//! - the size of the two programs, as built for release (stripped): `mfaexec`, which a hit runs,
//!   and `mfaexec-core`, which every other run becomes.
//!
//! Runs the optimised binary cargo builds for benchmarks, against the same fakes the tests use.

// The modules' own unit tests are compiled here but not run (no test harness).
#[path = "../tests/support/fake_sso.rs"]
mod fake_sso;
#[path = "../tests/support/fake_sts.rs"]
#[allow(unused_imports)]
mod fake_sts;
#[path = "../tests/support/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "../tests/support/totp.rs"]
#[allow(dead_code, unused_imports)]
mod totp;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_sso::FakeSso;
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
    // An IAM Identity Center profile: its role credentials are cached like any session, and a
    // hit must cost what any hit costs (issue 17).
    let sso = FakeSso::start();
    let sso_expires = fake_sso::now() + 8 * 3600;
    sso.accept_token("ACCESSTOKEN-bench", sso_expires);
    let start_url = "https://d-1234567890.awsapps.com/start";
    fake_sso::write_token(
        home,
        "corp",
        start_url,
        "us-east-1",
        "ACCESSTOKEN-bench",
        sso_expires,
        None,
    );
    let mut config = std::fs::read_to_string(home.join(".aws/config")).unwrap();
    config.push_str(&format!(
        "\n[profile dev]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = Admin\nregion = eu-west-1\n\n\
         [sso-session corp]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
    ));
    std::fs::write(home.join(".aws/config"), config).unwrap();
    let vars = [
        ("HOME", home.display().to_string()),
        ("PATH", "/usr/bin:/bin".to_owned()),
        ("USER", "alice".to_owned()),
        ("AWS_ENDPOINT_URL_STS", sts.url()),
        ("AWS_ENDPOINT_URL_SSO", sso.url()),
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
    // Runs each of `argvs` `runs` times, in turn, in one measuring child.
    let measured_with = |config: Option<&str>, runs: usize, argvs: &[&[&str]]| -> Measured {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.arg("--measure").arg(runs.to_string());
        for (i, argv) in argvs.iter().enumerate() {
            if i > 0 {
                cmd.arg("--then");
            }
            cmd.args(*argv);
        }
        cmd.env_clear().envs(vars.iter().map(|(k, v)| (k, v)));
        if let Some(config) = config {
            cmd.env("AWS_CONFIG_FILE", config);
        }
        let out = cmd.stderr(Stdio::inherit()).output().unwrap();
        assert!(out.status.success(), "measuring {argvs:?} failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let mut first = lines.next().unwrap().split_whitespace();
        let rss: i64 = first.next().unwrap().parse().unwrap();
        let faults: i64 = first.next().unwrap().parse().unwrap();
        let times = lines
            .map(|line| {
                line.split_whitespace()
                    .map(|n| Duration::from_nanos(n.parse().unwrap()))
                    .collect()
            })
            .collect();
        Measured {
            times,
            rss,
            faults_per_run: faults as f64 / (runs * argvs.len()) as f64,
        }
    };
    let measured = |runs: usize, argvs: &[&[&str]]| measured_with(None, runs, argvs);
    let bin_str = bin.to_str().unwrap();
    let truth: &[&str] = &["/bin/true"];
    let hit_argv: &[&str] = &[bin_str, "prod", "--", "/bin/true"];
    let sso_argv: &[&str] = &[bin_str, "dev", "--", "/bin/true"];

    // Create the cached sessions, and warm the page cache.
    let code = sts.code(&serial);
    measured(1, &[&[bin_str, "prod", "-t", &code, "--", "/bin/true"]]);
    measured(1, &[sso_argv]);
    assert_eq!(sso.calls_of("GetRoleCredentials").len(), 1);
    measured(20, &[truth, hit_argv, sso_argv]);

    // The hit and /bin/true in turn; then each alone, for its peak RSS and page faults.
    let mut pair = measured(HIT_RUNS, &[truth, hit_argv]);
    let overhead = paired_overhead(&pair.times[0], &pair.times[1]);
    let alone = measured(MANY_RUNS, &[truth]);
    let hit = measured(MANY_RUNS, &[hit_argv]);
    let mut sso_pair = measured(HIT_RUNS, &[hit_argv, sso_argv]);
    let sso_over_hit = paired_overhead(&sso_pair.times[0], &sso_pair.times[1]);
    let sso_hit = measured(MANY_RUNS, &[sso_argv]);
    assert_eq!(sts.calls().len(), 1, "the hits made no STS call");
    assert_eq!(
        sso.calls_of("GetRoleCredentials").len(),
        1,
        "the SSO hits made no portal call"
    );

    // credential-process from the cache, by mfaexec and by mfaexec-core, in turn; and what a run
    // handed over pays, `--version` by mfaexec (which hands it over) and by mfaexec-core.
    let core = bin.with_file_name("mfaexec-core");
    let core_str = core.to_str().unwrap();
    let mut process_pair = measured(
        HIT_RUNS,
        &[
            &[core_str, "credential-process", "prod"],
            &[bin_str, "credential-process", "prod"],
        ],
    );
    let mut handover_pair = measured(
        MANY_RUNS,
        &[&[core_str, "--version"], &[bin_str, "--version"]],
    );

    let mut cold = Vec::with_capacity(COLD_RUNS);
    let mut cold_rss = 0;
    for i in 0..COLD_RUNS {
        if i % 3 == 0 {
            sts.advance_clock(90);
        }
        let code = sts.code(&serial);
        let run = measured(
            1,
            &[&[bin_str, "prod", "--refresh", "-t", &code, "--", "/bin/true"]],
        );
        cold.extend(run.times.into_iter().flatten());
        cold_rss = cold_rss.max(run.rss);
    }
    assert_eq!(sts.calls().len(), 1 + COLD_RUNS);

    measured_with(Some(&config_1000), 5, &[hit_argv]);
    let mut hit_5 = measured_with(Some(&config_5), MANY_RUNS, &[hit_argv]);
    let mut hit_1000 = measured_with(Some(&config_1000), MANY_RUNS, &[hit_argv]);
    let mut list_1000 = measured_with(Some(&config_1000), MANY_RUNS, &[&[bin_str, "list"]]);
    assert_eq!(
        sts.calls().len(),
        1 + COLD_RUNS,
        "the hits made no STS call"
    );
    let (h5, h1000, l1000) = (
        median(&mut hit_5.times[0]),
        median(&mut hit_1000.times[0]),
        median(&mut list_1000.times[0]),
    );

    let (a, h, c) = (
        median(&mut pair.times[0]),
        median(&mut pair.times[1]),
        median(&mut cold),
    );
    let size = std::fs::metadata(bin).unwrap().len();
    let core_size = std::fs::metadata(bin.with_file_name("mfaexec-core"))
        .unwrap()
        .len();
    println!("mfaexec startup, {} on {} cores", bin.display(), cores());
    println!(
        "  binary size, mfaexec (a hit runs it)       {size:>10} bytes ({:.2} MB; target <= 8 MB)",
        size as f64 / 1e6
    );
    println!(
        "  binary size, mfaexec-core (the rest)       {core_size:>10} bytes ({:.2} MB; both: {:.2} MB)",
        core_size as f64 / 1e6,
        (size + core_size) as f64 / 1e6
    );
    println!(
        "  /bin/true alone                     median {:>8.3} ms  ({HIT_RUNS} runs, in turn with the hit)",
        ms(a)
    );
    println!(
        "  mfaexec prod -- /bin/true (cached)  median {:>8.3} ms  ({HIT_RUNS} runs)",
        ms(h)
    );
    println!(
        "  overhead of a cache hit             median {:>8.3} ms  (of each hit over the /bin/true run before it; target <= 1.0 ms)",
        overhead
    );
    println!(
        "  SSO profile hit over the MFA hit    median {:>8.3} ms  ({HIT_RUNS} pairs; {:.3} ms against {:.3} ms)",
        sso_over_hit,
        ms(median(&mut sso_pair.times[1])),
        ms(median(&mut sso_pair.times[0])),
    );
    println!(
        "  credential-process prod (cached)    median {:>8.3} ms  ({HIT_RUNS} runs; by mfaexec-core itself: {:.3} ms)",
        ms(median(&mut process_pair.times[1])),
        ms(median(&mut process_pair.times[0])),
    );
    println!(
        "  a run handed over, --version        median {:>8.3} ms  ({MANY_RUNS} runs; by mfaexec-core itself: {:.3} ms)",
        ms(median(&mut handover_pair.times[1])),
        ms(median(&mut handover_pair.times[0])),
    );
    println!(
        "  cold: AssumeRole via fake STS       median {:>8.3} ms  ({COLD_RUNS} runs)",
        ms(c)
    );
    println!(
        "  peak RSS, /bin/true alone                  {:>8.1} MiB",
        mib(alone.rss)
    );
    println!(
        "  peak RSS, cache hit                        {:>8.1} MiB  (target <= 6 MiB)",
        mib(hit.rss)
    );
    println!(
        "  peak RSS, SSO profile hit                  {:>8.1} MiB",
        mib(sso_hit.rss)
    );
    println!(
        "  peak RSS, cold path                        {:>8.1} MiB",
        mib(cold_rss)
    );
    println!(
        "  minor page faults, /bin/true alone         {:>8.0} per run",
        alone.faults_per_run
    );
    println!(
        "  minor page faults, cache hit               {:>8.0} per run (mfaexec and then /bin/true)",
        hit.faults_per_run
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
        mib(list_1000.rss)
    );
}

/// What one measuring child saw: each command's run times, the peak RSS (KiB) and the minor
/// page faults per run.
struct Measured {
    times: Vec<Vec<Duration>>,
    rss: i64,
    faults_per_run: f64,
}

/// The median, in ms, of each B run's time less the A run's just before it.
fn paired_overhead(a: &[Duration], b: &[Duration]) -> f64 {
    let mut diffs: Vec<f64> = a.iter().zip(b).map(|(a, b)| ms(*b) - ms(*a)).collect();
    diffs.sort_by(f64::total_cmp);
    diffs[diffs.len() / 2]
}

/// The measuring child: `--measure RUNS PROGRAM ARGS... [--then PROGRAM ARGS...]`. With
/// `--then`, runs the two commands in turn, A B A B..., so that a change in the machine's load
/// falls on both alike. Prints the peak RSS of its runs (KiB) and their minor page faults on the
/// first line, then each run's time in nanoseconds, one line per command.
fn measure(args: &[String]) {
    let runs: usize = args[0].parse().unwrap();
    let argvs: Vec<&[String]> = args[1..].split(|a| a == "--then").collect();
    let mut out = vec![Vec::with_capacity(runs); argvs.len()];
    for _ in 0..runs {
        for (argv, times) in argvs.iter().zip(&mut out) {
            let start = Instant::now();
            let status = Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "{argv:?}: {status:?}");
            times.push(start.elapsed().as_nanos().to_string());
        }
    }
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    println!("{} {}", usage.max_rss(), usage.minor_page_faults());
    for times in out {
        println!("{}", times.join(" "));
    }
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
