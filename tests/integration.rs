//! The shell integration (`mfaexec init bash|zsh|fish`) in the real shells, against the fake
//! STS: `use` exports the session and `use --unset` gives the shell back what it held; a
//! failing `use` changes nothing and shows the binary's error; other subcommands pass through
//! with their output and exit codes; `mfaexec_prompt`; the expiry warning, printed once by the
//! shell's own prompt hook (interactive shells under tmux); loading under each shell's strictest
//! flags; user aliases and functions that try to take the place of builtins; the lints.
//!
//! The shells and tools are required (CI installs them): a missing one fails its test with the
//! package to install.
//!
//! See: issue 5.

use std::collections::BTreeMap;

use crate::support::fake_sts;
use crate::support::shell::*;
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Reading the shell's variables
// ---------------------------------------------------------------------------------------------

/// Every variable `mfaexec env` sets or removes.
const VARS: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "MFAEXEC_PROFILE",
];

/// A shell function `report` that prints, NUL-separated, for each of VARS `set` (or an empty
/// field) and its value, then the exported environment (`env -0`), then `END`. Builtins are
/// called so that the hijack test's functions cannot change it.
fn report_function(sh: Sh) -> String {
    let names = VARS.join(" ");
    match sh {
        Sh::Fish => format!(
            "function report\n\
             for n in {names}\n\
             if set -q $n; builtin printf 'set\\0%s\\0' \"$$n\"; else; builtin printf '\\0\\0'; end\n\
             end\n\
             command env -0\n\
             builtin printf 'END\\0'\n\
             end\n"
        ),
        _ => format!(
            "report() {{\n\
             for __n in {names}; do\n\
             \\builtin eval \"\\builtin printf '%s\\0%s\\0' \\\"\\${{$__n+set}}\\\" \\\"\\${{$__n-}}\\\"\"\n\
             done\n\
             \\command env -0\n\
             \\builtin printf 'END\\0'\n\
             }}\n"
        ),
    }
}

/// What a shell held at one `report`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    vars: BTreeMap<&'static str, Option<String>>,
    /// The exported environment, without `_` (bash sets it to the last word of each command).
    exported: BTreeMap<String, String>,
}

impl Snapshot {
    fn get(&self, name: &str) -> Option<&str> {
        self.vars[name].as_deref()
    }

    /// `name` is set to `value` and exported as such.
    #[track_caller]
    fn assert_holds(&self, name: &str, value: &str, context: &str) {
        assert_eq!(self.get(name), Some(value), "{context}: {name}");
        assert_eq!(
            self.exported.get(name).map(String::as_str),
            Some(value),
            "{context}: {name} is not exported as set"
        );
    }

    #[track_caller]
    fn assert_unset(&self, name: &str, context: &str) {
        assert_eq!(self.get(name), None, "{context}: {name} is still set");
        assert!(
            !self.exported.contains_key(name),
            "{context}: {name} is still exported"
        );
    }
}

/// The snapshots and `STATUS` records of a script's output, in order.
#[track_caller]
fn parse(stdout: &[u8]) -> (Vec<Snapshot>, Vec<i32>) {
    let raw = text(stdout);
    let mut fields: Vec<String> = raw.split('\0').map(str::to_owned).collect();
    assert_eq!(
        fields.pop().as_deref(),
        Some(""),
        "output does not end in NUL: {raw:?}"
    );
    let mut fields = fields.into_iter().peekable();
    let (mut snapshots, mut statuses) = (Vec::new(), Vec::new());
    while let Some(first) = fields.peek().cloned() {
        if let Some(code) = first.strip_prefix("STATUS ") {
            statuses.push(code.trim().parse().expect("a status"));
            fields.next();
            continue;
        }
        let mut vars = BTreeMap::new();
        for name in VARS {
            let flag = fields.next().expect("report too short");
            let value = fields.next().expect("report too short");
            let value = match flag.as_str() {
                "set" => Some(value),
                "" if value.is_empty() => None,
                _ => panic!("report garbled at {name}: {raw:?}"),
            };
            vars.insert(name, value);
        }
        let mut exported = BTreeMap::new();
        for entry in fields.by_ref() {
            if entry == "END" {
                break;
            }
            let (k, v) = entry
                .split_once('=')
                .unwrap_or_else(|| panic!("not NAME=value: {entry:?}"));
            if k != "_" {
                exported.insert(k.to_owned(), v.to_owned());
            }
        }
        snapshots.push(Snapshot { vars, exported });
    }
    (snapshots, statuses)
}

/// Runs `body` after loading the integration and defining `report`; the script must succeed
/// with nothing on stderr but mfaexec's notices of new sessions.
#[track_caller]
fn run_ok(s: &Sandbox, sh: Sh, body: &str, extra: &[(&str, &str)]) -> (Vec<Snapshot>, Vec<i32>) {
    let script = format!("{}\n{}\n{body}", report_function(sh), sh.init_line());
    let out = run(s, sh, &script, extra);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success()
            && stderr
                .lines()
                .all(|l| l.starts_with("mfaexec: new session for ")),
        "{sh:?} failed ({:?}) running\n{body}\nstderr: {stderr}",
        out.status
    );
    assert_no_secret(&stderr);
    parse(&out.stdout)
}

/// Two MFA codes the fake accepts now: those of the current and the next 30-second window.
fn two_codes(s: &Sandbox) -> (String, String) {
    let now = s.sts.now();
    let seed = &s.alice.totp_seed;
    (
        crate::support::totp::code_at(seed, now),
        crate::support::totp::code_at(seed, now + crate::support::totp::STEP_SECS),
    )
}

/// The snapshot holds exactly the `index`th session the fake issued, for `profile`.
#[track_caller]
fn assert_session(snap: &Snapshot, s: &Sandbox, index: usize, profile: &str, context: &str) {
    let issued = s.sts.issued();
    let issued = issued
        .get(index)
        .unwrap_or_else(|| panic!("{context}: the fake issued no session #{index}"));
    snap.assert_holds("AWS_ACCESS_KEY_ID", &issued.access_key_id, context);
    snap.assert_holds("AWS_SECRET_ACCESS_KEY", &issued.secret_access_key, context);
    snap.assert_holds("AWS_SESSION_TOKEN", &issued.session_token, context);
    snap.assert_holds("MFAEXEC_PROFILE", profile, context);
    let expiration = snap
        .get("AWS_CREDENTIAL_EXPIRATION")
        .unwrap_or_else(|| panic!("{context}: no AWS_CREDENTIAL_EXPIRATION"));
    let e = issued.expiration_unix;
    assert!(
        [e - 1, e, e + 1]
            .iter()
            .any(|t| fake_sts::rfc3339(*t) == expiration),
        "{context}: AWS_CREDENTIAL_EXPIRATION {expiration} is not {}",
        fake_sts::rfc3339(e)
    );
    for name in ["AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        snap.assert_unset(name, context);
    }
}

// ---------------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------------

/// `mfaexec init SHELL` prints the file in shell/ byte for byte: the tested and linted file is
/// the one users load.
#[test]
fn init_prints_the_scripts_in_the_shell_directory() {
    let s = sandbox();
    for sh in SHELLS {
        let out = s.run(["init", sh.name()]).success();
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("shell")
            .join(format!("mfaexec.{}", sh.name()));
        let want = std::fs::read(&file).unwrap();
        assert!(
            out.0.stdout == want,
            "`mfaexec init {}` differs from {}",
            sh.name(),
            file.display()
        );
        assert!(out.0.stderr.is_empty());
    }
}

/// Loaded twice under `bash --norc -euo pipefail`, `zsh -f -eu` (NO_UNSET) and `fish
/// --no-config`, with the prompt helper and the hook run with and without credentials: no
/// output, no error.
fn loads_silently(sh: Sh) {
    let s = sandbox();
    let hook = match sh {
        Sh::Bash => "__mfaexec_hook",
        Sh::Zsh => "__mfaexec_precmd",
        Sh::Fish => "emit fish_prompt",
    };
    let script = format!(
        "{init}\n{init}\nmfaexec_prompt\n{hook}\n{}\n{}\n{}\nmfaexec_prompt >/dev/null\n{hook}\n\
         mfaexec use --unset\nmfaexec_prompt\n{hook}\n",
        sh.export("MFAEXEC_PROFILE", "prod"),
        sh.export("AWS_ACCESS_KEY_ID", "ASIAX"),
        sh.export("AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00Z"),
        init = sh.init_line()
    );
    let out = run(&s, sh, &script, &[]);
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{sh:?} under {:?}: {:?}\nstdout: {}\nstderr: {}",
        sh.strict_flags(),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn loads_silently_in_bash_under_euo_pipefail() {
    loads_silently(Sh::Bash);
}

#[test]
fn loads_silently_in_zsh_under_no_unset() {
    loads_silently(Sh::Zsh);
}

#[test]
fn loads_silently_in_fish() {
    loads_silently(Sh::Fish);
}

/// The hook is added to PROMPT_COMMAND, never replacing it, once however often the script is
/// loaded: as a string (first, so the user's commands still see `$?`) and as an array
/// (bash >= 5.1).
#[test]
fn bash_adds_its_hook_to_prompt_command_once() {
    let s = sandbox();
    let init = Sh::Bash.init_line();
    for (setup, show, want) in [
        ("", r#"printf '%s' "$PROMPT_COMMAND""#, "__mfaexec_hook"),
        (
            "PROMPT_COMMAND='echo mine'",
            r#"printf '%s' "$PROMPT_COMMAND""#,
            "__mfaexec_hook;echo mine",
        ),
        (
            "PROMPT_COMMAND=(first 'second one')",
            r#"printf '%s|' "${PROMPT_COMMAND[@]}""#,
            "first|second one|__mfaexec_hook|",
        ),
    ] {
        let out = run(
            &s,
            Sh::Bash,
            &format!("{setup}\n{init}\n{init}\n{show}"),
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), want, "after {setup:?}");
    }
    // The status of the command line reaches the user's PROMPT_COMMAND through the hook.
    let out = run_with(
        &s,
        Sh::Bash,
        &["--norc", "--noprofile"],
        &format!("PROMPT_COMMAND='echo status=$?'\n{init}\n(exit 3)\neval \"$PROMPT_COMMAND\""),
        &[],
    );
    assert_eq!(text(&out.stdout), "status=3\n", "{}", text(&out.stderr));
}

#[test]
fn zsh_adds_its_hook_to_precmd_functions_once() {
    let s = sandbox();
    let init = Sh::Zsh.init_line();
    for (setup, want) in [
        ("", "__mfaexec_precmd"),
        ("precmd_functions=(mine)", "mine __mfaexec_precmd"),
    ] {
        let out = run(
            &s,
            Sh::Zsh,
            &format!("{setup}\n{init}\n{init}\nprint -rn -- \"$precmd_functions\""),
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), want, "after {setup:?}");
    }
}

/// The user's own fish_prompt handlers still run, and the warning comes once.
#[test]
fn fish_adds_an_event_handler_beside_the_users() {
    let s = sandbox();
    let script = format!(
        "function mine --on-event fish_prompt; echo mine; end\n{init}\n{init}\n\
         set -gx MFAEXEC_PROFILE prod\nset -gx AWS_ACCESS_KEY_ID ASIAX\n\
         set -gx AWS_CREDENTIAL_EXPIRATION 2001-01-01T00:00:00Z\n\
         emit fish_prompt\nemit fish_prompt\n",
        init = Sh::Fish.init_line()
    );
    let out = run(&s, Sh::Fish, &script, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "mine\nmine\n");
    assert_eq!(
        text(&out.stderr).matches("have expired").count(),
        1,
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// use and use --unset
// ---------------------------------------------------------------------------------------------

/// A shell that had its own keys, a selected profile and a region: `use prod` replaces them
/// with the session (the region stays the shell's, which mfaexec prefers over the profile's,
/// and now fills AWS_DEFAULT_REGION too), `use short` switches, and `use --unset` gives back
/// exactly what the shell held before the first `use`.
fn use_then_unset_restores_the_shell(sh: Sh) {
    let s = sandbox();
    let (code1, code2) = two_codes(&s);
    let before: [(&str, &str); 6] = [
        ("AWS_ACCESS_KEY_ID", "AKIAUSEROWNKEY000001"),
        ("AWS_SECRET_ACCESS_KEY", "own secret"),
        ("AWS_SECURITY_TOKEN", "old token"),
        ("AWS_PROFILE", "dev"),
        ("AWS_DEFAULT_PROFILE", "dev-default"),
        ("AWS_REGION", "us-west-2"),
    ];
    let body = format!(
        "report\nmfaexec use prod -t {code1}\nreport\nmfaexec use short --token-code {code2}\nreport\n\
         mfaexec use --unset\nreport\n"
    );
    let (snaps, _) = run_ok(&s, sh, &body, &before);
    assert_eq!(snaps.len(), 4);
    for (name, value) in before {
        snaps[0].assert_holds(name, value, "before");
    }
    assert_session(&snaps[1], &s, 0, "prod", "after `use prod`");
    snaps[1].assert_holds("AWS_REGION", "us-west-2", "after `use prod`");
    snaps[1].assert_holds("AWS_DEFAULT_REGION", "us-west-2", "after `use prod`");
    assert_session(&snaps[2], &s, 1, "short", "after `use short`");
    assert_eq!(
        snaps[3], snaps[0],
        "{sh:?}: `use --unset` did not restore the shell"
    );
}

#[test]
fn use_then_unset_restores_the_shell_in_bash() {
    use_then_unset_restores_the_shell(Sh::Bash);
}

#[test]
fn use_then_unset_restores_the_shell_in_zsh() {
    use_then_unset_restores_the_shell(Sh::Zsh);
}

#[test]
fn use_then_unset_restores_the_shell_in_fish() {
    use_then_unset_restores_the_shell(Sh::Fish);
}

/// The region variables `use` set from the profile go when the shell had none; one the user
/// changed by hand since `use` is theirs and stays.
fn unset_removes_regions_only_where_use_left_them(sh: Sh) {
    let s = sandbox();
    let code = s.code();
    let body = format!(
        "report\nmfaexec use prod -t {code}\nreport\nmfaexec use --unset\nreport\n\
         mfaexec use prod\n{}\nmfaexec use --unset\nreport\n",
        sh.export("AWS_REGION", "ap-south-1")
    );
    let (snaps, _) = run_ok(&s, sh, &body, &[]);
    assert_eq!(snaps.len(), 4);
    snaps[1].assert_holds("AWS_REGION", "eu-west-1", "after `use prod`");
    snaps[1].assert_holds("AWS_DEFAULT_REGION", "eu-west-1", "after `use prod`");
    assert_eq!(
        snaps[2], snaps[0],
        "{sh:?}: `use --unset` left something behind"
    );
    assert_eq!(
        s.sts.issued().len(),
        1,
        "the second `use prod` was not served from the cache"
    );
    let changed = &snaps[3];
    changed.assert_holds("AWS_REGION", "ap-south-1", "a region changed by hand");
    changed.assert_unset("AWS_DEFAULT_REGION", "after the second --unset");
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_CREDENTIAL_EXPIRATION",
        "MFAEXEC_PROFILE",
    ] {
        changed.assert_unset(name, "after the second --unset");
    }
}

#[test]
fn unset_removes_regions_only_where_use_left_them_in_bash() {
    unset_removes_regions_only_where_use_left_them(Sh::Bash);
}

#[test]
fn unset_removes_regions_only_where_use_left_them_in_zsh() {
    unset_removes_regions_only_where_use_left_them(Sh::Zsh);
}

#[test]
fn unset_removes_regions_only_where_use_left_them_in_fish() {
    unset_removes_regions_only_where_use_left_them(Sh::Fish);
}

/// Credentials an earlier mfaexec put in the environment (a parent shell's `use`, the shell
/// `mfaexec prod` starts) are removed by `use --unset`, never brought back after a `use`; the
/// other variables stay.
fn unset_drops_inherited_mfaexec_credentials(sh: Sh) {
    let s = sandbox();
    let inherited: [(&str, &str); 7] = [
        ("AWS_ACCESS_KEY_ID", "ASIAPARENTSHELL00001"),
        ("AWS_SECRET_ACCESS_KEY", "parent secret"),
        ("AWS_SESSION_TOKEN", "parent token"),
        ("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z"),
        ("MFAEXEC_PROFILE", "prod"),
        ("AWS_REGION", "eu-central-1"),
        ("AWS_DEFAULT_REGION", "eu-central-1"),
    ];
    let (snaps, _) = run_ok(&s, sh, "mfaexec use --unset\nreport\n", &inherited);
    let (again, _) = run_ok(
        &s,
        sh,
        &format!(
            "mfaexec use prod -t {}\nreport\nmfaexec use --unset\nreport\n",
            s.code()
        ),
        &inherited,
    );
    assert_session(&again[0], &s, 0, "prod", "after `use prod`");
    for snap in [&snaps[0], &again[1]] {
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "MFAEXEC_PROFILE",
        ] {
            snap.assert_unset(name, "after --unset");
        }
        snap.assert_holds("AWS_REGION", "eu-central-1", "after --unset");
        snap.assert_holds("AWS_DEFAULT_REGION", "eu-central-1", "after --unset");
    }
}

#[test]
fn unset_drops_inherited_mfaexec_credentials_in_bash() {
    unset_drops_inherited_mfaexec_credentials(Sh::Bash);
}

#[test]
fn unset_drops_inherited_mfaexec_credentials_in_zsh() {
    unset_drops_inherited_mfaexec_credentials(Sh::Zsh);
}

#[test]
fn unset_drops_inherited_mfaexec_credentials_in_fish() {
    unset_drops_inherited_mfaexec_credentials(Sh::Fish);
}

/// The file a value would create if the shell ran a piece of it.
const CANARY: &str = "PWNED";

/// Values with every kind of quote and substitution come into the shell exactly, and none
/// runs: fish's capture splits the output into lines and joins them again. These are the most
/// hostile values STS can give (issue 18, defect 13: a key id of upper-case letters and digits,
/// secrets without control characters); the line breaks and tabs used here before are read
/// back by the real shells in the renderer's tests (src/output/shell.rs).
fn use_carries_values_exactly(sh: Sh) {
    let s = sandbox();
    let c = s.path(CANARY).display().to_string();
    let key = "ASIAHOSTILE000000002".to_owned();
    let secret = format!(
        "  SECRETTEMP it's \"q\" $HOME ${{HOME}} ~ $(touch {c}) '; touch {c}; echo ' \
         \\' \\\\ \\n %PATH% \u{2019} é 日本 🦀 $'\\x41' {{touch,{c}}} \
         ASIA'\"$(touch {c})`touch {c}` ;|&*? #x \\  "
    );
    let token = format!("TOKENTEMP\\'; touch {c}; echo \\' \\ set -gx X y; set -gx X y ");
    s.sts.next_credentials(&key, &secret, &token);
    let (snaps, _) = run_ok(
        &s,
        sh,
        &format!("mfaexec use prod -t {}\nreport\n", s.code()),
        &[],
    );
    assert!(!s.path(CANARY).exists(), "{sh:?}: a value ran code");
    snaps[0].assert_holds("AWS_ACCESS_KEY_ID", &key, "hostile key");
    snaps[0].assert_holds("AWS_SECRET_ACCESS_KEY", &secret, "hostile secret");
    snaps[0].assert_holds("AWS_SESSION_TOKEN", &token, "hostile token");
}

#[test]
fn use_carries_values_exactly_in_bash() {
    use_carries_values_exactly(Sh::Bash);
}

#[test]
fn use_carries_values_exactly_in_zsh() {
    use_carries_values_exactly(Sh::Zsh);
}

#[test]
fn use_carries_values_exactly_in_fish() {
    use_carries_values_exactly(Sh::Fish);
}

/// A successful `use` and `use --unset` return 0, so that `mfaexec use prod && aws ...` (fish:
/// `mfaexec use prod; and aws ...`) runs its second command.
fn use_and_unset_return_zero(sh: Sh) {
    let s = sandbox();
    let (code1, code2) = two_codes(&s);
    let and = match sh {
        Sh::Fish => "; and",
        _ => " &&",
    };
    let body = [
        sh.status_of(&format!("mfaexec use prod -t {code1}")),
        format!("mfaexec use prod -t {code2}{and} echo ok\n"),
        sh.status_of("mfaexec use --unset"),
        format!("mfaexec use prod -t {code2}{and} mfaexec use --unset{and} echo unset ok\n"),
        // Nothing saved any more: the plain removal.
        sh.status_of("mfaexec use --unset"),
    ]
    .concat();
    let script = format!("{}\n{body}", sh.init_line());
    let out = run(&s, sh, &script, &[]);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success()
            && stderr
                .lines()
                .all(|l| l.starts_with("mfaexec: new session for ")),
        "{sh:?}: {:?}\nstderr: {stderr}",
        out.status
    );
    assert_eq!(
        text(&out.stdout),
        "STATUS 0\0ok\nSTATUS 0\0unset ok\nSTATUS 0\0",
        "{sh:?}: the statuses of `use` and `use --unset`; stderr: {stderr}"
    );
    assert_eq!(s.sts.issued().len(), 1, "one session, reused");
}

#[test]
fn use_and_unset_return_zero_in_bash() {
    use_and_unset_return_zero(Sh::Bash);
}

#[test]
fn use_and_unset_return_zero_in_zsh() {
    use_and_unset_return_zero(Sh::Zsh);
}

#[test]
fn use_and_unset_return_zero_in_fish() {
    use_and_unset_return_zero(Sh::Fish);
}

/// Runs `script` in fish with its startup files, which universal variables need (`--no-config`
/// turns them off), and its own XDG directories in the sandbox, so that `set -U` writes the
/// sandbox's fish_variables and never the machine's. Returns the output and that file's path.
fn fish_with_universals(s: &Sandbox, script: &str) -> (std::process::Output, std::path::PathBuf) {
    let dirs: Vec<(&str, String)> = [
        ("XDG_CONFIG_HOME", "xdg/config"),
        ("XDG_DATA_HOME", "xdg/data"),
        ("XDG_RUNTIME_DIR", "xdg/runtime"),
    ]
    .iter()
    .map(|(var, dir)| {
        std::fs::create_dir_all(s.path(dir)).unwrap();
        (*var, s.path(dir).display().to_string())
    })
    .collect();
    let extra: Vec<(&str, &str)> = dirs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = s.path("xdg/config/fish");
    // The check comes first, before the script can write anything.
    let script = format!(
        "if builtin test \"$__fish_config_dir\" != '{}'\n\
         builtin printf 'fish uses %s, not the sandbox\\n' $__fish_config_dir >&2\n\
         exit 99\n\
         end\n{script}",
        config.display()
    );
    let out = run_with(s, Sh::Fish, &[], &script, &extra);
    (out, config.join("fish_variables"))
}

/// The user's universal variables (`set -Ux AWS_PROFILE work`, the usual fish way) are never
/// changed: `use` only hides them in this shell (an empty, unexported global), fish_variables
/// keeps them, `use --unset` shows them again as they are, and the next fish has them. A global
/// the shell had over a universal comes back as it was. fish passes an exported universal to
/// the commands it runs whatever the shell's globals are, which `use` warns about.
#[test]
fn use_leaves_fish_universal_variables_alone() {
    let s = sandbox();
    let (first, file) = fish_with_universals(
        &s,
        "set -Ux AWS_PROFILE work\nset -U AWS_DEFAULT_PROFILE dflt\nset -U AWS_SECURITY_TOKEN utok\n",
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stored = |when: &str| {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{when}: no {}: {e}", file.display()));
        for line in [
            "SETUVAR --export AWS_PROFILE:work",
            "SETUVAR AWS_DEFAULT_PROFILE:dflt",
            "SETUVAR AWS_SECURITY_TOKEN:utok",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{when}: fish_variables lacks {line:?}:\n{text}"
            );
        }
    };
    stored("after `set -U`");
    // For each name: the global (`-` for none, else its count and values), whether a universal
    // is there, and what a child process gets.
    let names = "AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SECURITY_TOKEN AWS_ACCESS_KEY_ID";
    let file_path = file.display().to_string();
    let script = format!(
        "function probe\n\
         builtin printf '== %s\\n' $argv[1]\n\
         for n in {names}\n\
         set -l g -\n\
         set -q -g $n; and set g (count $$n) $$n\n\
         set -l u no\n\
         set -q -U $n; and set u yes\n\
         set -l child (command env | string match -- \"$n=*\"); or set child -\n\
         builtin printf '%s global=%s universal=%s child=%s\\n' $n (string join , -- $g) $u \"$child\"\n\
         end\n\
         builtin printf 'file: %s\\n' (string match -- 'SETUVAR*' < '{file_path}')\n\
         end\n\
         {init}\n\
         set -gx AWS_SECURITY_TOKEN gtok\n\
         probe before\n\
         mfaexec use prod -t {code}\n\
         builtin printf 'use: %s\\n' $status\n\
         probe use\n\
         mfaexec use --unset\n\
         builtin printf 'unset: %s\\n' $status\n\
         probe unset\n",
        init = Sh::Fish.init_line(),
        code = s.code()
    );
    let (out, _) = fish_with_universals(&s, &script);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_no_secret(&stderr);
    let section = |name: &str| -> Vec<&str> {
        stdout
            .split("== ")
            .find(|part| part.starts_with(&format!("{name}\n")))
            .unwrap_or_else(|| panic!("no probe {name}:\n{stdout}"))
            .lines()
            .skip(1)
            .collect()
    };
    let has = |name: &str, line: &str| {
        assert!(
            section(name).contains(&line),
            "{name}: no {line:?} in\n{stdout}\nstderr: {stderr}"
        );
    };
    let files = |name: &str| {
        for line in [
            "file: SETUVAR --export AWS_PROFILE:work",
            "file: SETUVAR AWS_DEFAULT_PROFILE:dflt",
            "file: SETUVAR AWS_SECURITY_TOKEN:utok",
        ] {
            has(name, line);
        }
    };
    has(
        "before",
        "AWS_PROFILE global=- universal=yes child=AWS_PROFILE=work",
    );
    has(
        "before",
        "AWS_DEFAULT_PROFILE global=- universal=yes child=-",
    );
    has(
        "before",
        "AWS_SECURITY_TOKEN global=1,gtok universal=yes child=AWS_SECURITY_TOKEN=gtok",
    );
    files("before");
    assert!(stdout.contains("use: 0\n"), "{stdout}\n{stderr}");
    // Hidden in the shell, kept in fish_variables.
    has("use", "AWS_DEFAULT_PROFILE global=0 universal=yes child=-");
    has("use", "AWS_SECURITY_TOKEN global=0 universal=yes child=-");
    files("use");
    let key = &s.sts.issued()[0].access_key_id;
    has(
        "use",
        &format!("AWS_ACCESS_KEY_ID global=1,{key} universal=no child=AWS_ACCESS_KEY_ID={key}"),
    );
    // No unexported global masks an exported universal for fish's children (a long-standing
    // fish bug, noted in its source): the only way to keep it from them would be to change the
    // universal itself, for every fish. If this line fails, fish has fixed that, and the
    // warning below can go.
    has(
        "use",
        "AWS_PROFILE global=0 universal=yes child=AWS_PROFILE=work",
    );
    let warning = "mfaexec: warning: fish still passes the exported universal variable \
                   AWS_PROFILE to the commands it runs";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(
        stderr.contains("hint: to keep it from them, unexport it (set -U -u AWS_PROFILE)"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with("mfaexec: new session for ")
                || l.starts_with(warning)
                || l.starts_with("hint: ")),
        "{stderr}"
    );
    // Given back: the universals themselves (no global copy), and the global as it was.
    assert!(stdout.contains("unset: 0\n"), "{stdout}\n{stderr}");
    for line in [
        "AWS_PROFILE global=- universal=yes child=AWS_PROFILE=work",
        "AWS_DEFAULT_PROFILE global=- universal=yes child=-",
        "AWS_SECURITY_TOKEN global=1,gtok universal=yes child=AWS_SECURITY_TOKEN=gtok",
        "AWS_ACCESS_KEY_ID global=- universal=no child=-",
    ] {
        has("unset", line);
    }
    files("unset");
    // The next fish has them.
    let (after, _) = fish_with_universals(
        &s,
        "set -S AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SECURITY_TOKEN\n",
    );
    let shown = text(&after.stdout);
    for line in [
        "$AWS_PROFILE: set in universal scope, exported, with 1 elements",
        "$AWS_PROFILE[1]: |work|",
        "$AWS_DEFAULT_PROFILE: set in universal scope, unexported, with 1 elements",
        "$AWS_DEFAULT_PROFILE[1]: |dflt|",
        "$AWS_SECURITY_TOKEN: set in universal scope, unexported, with 1 elements",
        "$AWS_SECURITY_TOKEN[1]: |utok|",
    ] {
        assert!(
            shown.lines().any(|l| l == line),
            "the next fish: no {line:?} in\n{shown}{}",
            text(&after.stderr)
        );
    }
    assert!(!shown.contains("global scope"), "{shown}");
    stored("at the end");
}

/// A failing `use` changes nothing in the shell, returns the binary's status, and what the
/// user sees is the binary's own error: a refused code, an unknown profile, a usage error, and
/// `--unset` with more arguments.
fn failed_use_changes_nothing(sh: Sh) {
    let s = sandbox();
    let stale = s.sts.stale_code(&s.serial());
    let before: [(&str, &str); 3] = [
        ("AWS_PROFILE", "dev"),
        ("AWS_REGION", "us-west-2"),
        ("AWS_ACCESS_KEY_ID", "AKIAUSEROWNKEY000001"),
    ];
    for (line, code, error) in [
        (format!("mfaexec use prod -t {stale}"), 1, "refused"),
        ("mfaexec use nosuch -t 123456".to_owned(), 1, "`nosuch`"),
        ("mfaexec use prod --format json".to_owned(), 2, "--format"),
        ("mfaexec use --unset prod".to_owned(), 2, "--unset"),
    ] {
        let script = format!(
            "{}\n{}\nreport\n{}report\n",
            report_function(sh),
            sh.init_line(),
            sh.status_of(&line)
        );
        let out = run(&s, sh, &script, &before);
        let stderr = text(&out.stderr);
        assert!(
            out.status.success(),
            "{sh:?}: {line}: the script failed: {stderr}"
        );
        let (snaps, statuses) = parse(&out.stdout);
        assert_eq!(
            statuses,
            [code],
            "{sh:?}: the status of `{line}`; stderr: {stderr}"
        );
        assert_eq!(
            snaps[1], snaps[0],
            "{sh:?}: a failing `{line}` changed the shell"
        );
        // mfaexec's own errors, or clap's for a usage error.
        assert!(
            (stderr.starts_with("mfaexec: ") || stderr.starts_with("error: "))
                && stderr.contains(error),
            "{sh:?}: `{line}` did not show the binary's error ({error}): {stderr:?}"
        );
        assert_no_secret(&stderr);
    }
    assert!(s.sts.issued().is_empty(), "the fake issued credentials");
}

#[test]
fn failed_use_changes_nothing_in_bash() {
    failed_use_changes_nothing(Sh::Bash);
}

#[test]
fn failed_use_changes_nothing_in_zsh() {
    failed_use_changes_nothing(Sh::Zsh);
}

#[test]
fn failed_use_changes_nothing_in_fish() {
    failed_use_changes_nothing(Sh::Fish);
}

/// Every other subcommand reaches the binary unchanged: its output, its exit code (the wrapped
/// command's, for exec), and `env` output printed rather than evaluated. `use` with --dry-run
/// or --help prints the binary's text and exports nothing.
fn other_subcommands_pass_through(sh: Sh) {
    let s = sandbox();
    let code = s.code();
    let names = s.run(["list", "--names"]).success().stdout();
    let body = [
        sh.status_of("mfaexec list --names"),
        sh.status_of(&format!("mfaexec prod -t {code} -- sh -c 'exit 7'")),
        sh.status_of("mfaexec exec prod -- sh -c 'echo \"in child: $MFAEXEC_PROFILE\"'"),
        sh.status_of("mfaexec env prod --format json"),
        sh.status_of("mfaexec use prod --dry-run"),
        sh.status_of("mfaexec use --help"),
        sh.status_of("mfaexec use -t 12345"),
        "report\n".to_owned(),
    ]
    .concat();
    let script = format!("{}\n{}\n{body}", report_function(sh), sh.init_line());
    let out = run(&s, sh, &script, &[]);
    assert!(out.status.success(), "{sh:?}: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The commands' own output, each followed by its status; the report comes last.
    let statuses: Vec<i32> = stdout
        .split("STATUS ")
        .skip(1)
        .map(|rest| rest[..rest.find('\0').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [0, 7, 0, 0, 0, 0, 2],
        "{sh:?}: the statuses; stderr: {}",
        text(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("{names}STATUS 0\0")),
        "{sh:?}: `list --names` printed:\n{stdout}"
    );
    assert!(stdout.contains("in child: prod\n"), "{stdout}");
    assert!(
        stdout.contains("\"AccessKeyId\":"),
        "`env --format json` was not printed:\n{stdout}"
    );
    assert!(
        stdout.contains("sts:AssumeRole"),
        "the dry-run report was not printed:\n{stdout}"
    );
    assert!(
        stdout.contains("Usage: mfaexec env"),
        "no help was printed:\n{stdout}"
    );
    let last = "STATUS 2\0";
    let (snaps, _) = parse(&stdout.as_bytes()[stdout.rfind(last).unwrap() + last.len()..]);
    for name in VARS {
        snaps[0].assert_unset(name, "after passing through");
    }
    assert_eq!(s.sts.issued().len(), 1, "one session, reused");
}

#[test]
fn other_subcommands_pass_through_in_bash() {
    other_subcommands_pass_through(Sh::Bash);
}

#[test]
fn other_subcommands_pass_through_in_zsh() {
    other_subcommands_pass_through(Sh::Zsh);
}

#[test]
fn other_subcommands_pass_through_in_fish() {
    other_subcommands_pass_through(Sh::Fish);
}

/// Without the integration, the binary's `use` says how to load it and what to run instead.
#[test]
fn use_without_the_integration_says_how_to_enable_it() {
    let s = sandbox();
    let out = s.run(["use", "prod", "-d", "2h"]).failure(1);
    out.one_line_error()
        .stderr_has("needs the shell integration")
        .stderr_has(r#"eval "$(mfaexec init bash)""#)
        .stderr_has(r#"eval "$(mfaexec env prod -d 2h)""#);
    let out = s
        .run(["use", "prod"])
        .env("SHELL", "/usr/bin/fish")
        .failure(1);
    out.one_line_error()
        .stderr_has("mfaexec init fish | source")
        .stderr_has("mfaexec env prod --format fish | source");
    let out = s
        .run(["use", "--unset"])
        .env("SHELL", "/bin/zsh")
        .failure(1);
    out.one_line_error()
        .stderr_has(r#"eval "$(mfaexec init zsh)""#)
        .stderr_has("unset AWS_ACCESS_KEY_ID");
    assert!(s.calls().is_empty(), "the binary's `use` called STS");
}

// ---------------------------------------------------------------------------------------------
// mfaexec_prompt and the expiry warning
// ---------------------------------------------------------------------------------------------

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `2030-01-02T05:04:05+02:00` for a Unix time, to test offsets.
fn rfc3339_with_offset(unix: u64, offset_minutes: i64) -> String {
    let local = u64::try_from(unix as i64 + offset_minutes * 60).expect("after 1970 locally");
    let base = fake_sts::rfc3339(local);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.abs();
    format!("{}{sign}{:02}:{:02}", &base[..19], m / 60, m % 60)
}

/// What `mfaexec_prompt` prints: nothing without mfaexec credentials; profile and time left
/// (from AWS_CREDENTIAL_EXPIRATION, computed in the shell), `expired` once past; after a real
/// `use`, the session's 12h.
fn prompt(sh: Sh) {
    let s = sandbox();
    let t = now();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "^$"),
        (sh.export("MFAEXEC_PROFILE", "prod"), "^$"),
        (sh.export("AWS_ACCESS_KEY_ID", "ASIAX"), "^prod$"),
        (
            sh.export(
                "AWS_CREDENTIAL_EXPIRATION",
                &fake_sts::rfc3339(t + 3 * 3600 + 42 * 60 + 30),
            ),
            "^prod 3h4[12]m$",
        ),
        (
            sh.export(
                "AWS_CREDENTIAL_EXPIRATION",
                &rfc3339_with_offset(t + 7200 + 30, 120),
            ),
            "^prod (2h|1h59m)$",
        ),
        (
            sh.export(
                "AWS_CREDENTIAL_EXPIRATION",
                &rfc3339_with_offset(t + 600 + 30, -330),
            ),
            "^prod (10m|9m)$",
        ),
        (
            sh.export("AWS_CREDENTIAL_EXPIRATION", &fake_sts::rfc3339(t + 50)),
            "^prod [1-5][0-9]s$",
        ),
        (
            sh.export("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00.5Z"),
            "^prod expired$",
        ),
        (sh.export("AWS_CREDENTIAL_EXPIRATION", "soon"), "^prod$"),
        (
            format!("mfaexec use prod -t {}", s.code()),
            "^prod (12h|11h59m)$",
        ),
        ("mfaexec use --unset".to_owned(), "^$"),
    ];
    let show = match sh {
        Sh::Fish => "builtin printf '<%s>\\n' (mfaexec_prompt)",
        _ => "printf '<%s>\\n' \"$(mfaexec_prompt)\"",
    };
    let body: String = cases
        .iter()
        .map(|(line, _)| format!("{line}\n{show}\n"))
        .collect();
    let script = format!("{}\n{body}", sh.init_line());
    let out = run(&s, sh, &script, &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{sh:?}: {}", text(&out.stderr));
    let shown: Vec<&str> = stdout.lines().collect();
    assert_eq!(shown.len(), cases.len(), "{stdout}");
    for ((line, want), got) in cases.iter().zip(shown) {
        let got = got.trim_start_matches('<').trim_end_matches('>');
        assert!(
            matches_pattern(got, want),
            "{sh:?}: after `{line}`, mfaexec_prompt printed {got:?}, not {want}"
        );
    }
}

/// A tiny matcher for the patterns above: `^...$` with `[0-9]`-style classes, `(a|b)`
/// alternatives (one group), and literal text.
fn matches_pattern(text: &str, pattern: &str) -> bool {
    let pattern = pattern.trim_start_matches('^').trim_end_matches('$');
    if let (Some(open), Some(close)) = (pattern.find('('), pattern.find(')')) {
        let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
        return pattern[open + 1..close]
            .split('|')
            .any(|alt| matches_pattern(text, &format!("{head}{alt}{tail}")));
    }
    let (mut t, mut p) = (text.chars().peekable(), pattern.chars().peekable());
    while let Some(pc) = p.next() {
        let Some(tc) = t.next() else { return false };
        if pc == '[' {
            let class: String = p.by_ref().take_while(|c| *c != ']').collect();
            let (lo, hi) = (class.chars().next().unwrap(), class.chars().last().unwrap());
            if !(lo..=hi).contains(&tc) {
                return false;
            }
        } else if pc != tc {
            return false;
        }
    }
    t.next().is_none()
}

#[test]
fn prompt_in_bash() {
    prompt(Sh::Bash);
}

#[test]
fn prompt_in_zsh() {
    prompt(Sh::Zsh);
}

#[test]
fn prompt_in_fish() {
    prompt(Sh::Fish);
}

/// The RFC 3339 parsing each script does by itself (no `date -d`, which macOS lacks) agrees
/// with the calendar on leap days, centuries, far dates, fractions and offsets.
fn rfc3339_parser_agrees(sh: Sh) {
    let s = sandbox();
    let unix_times = [
        0,
        951_782_399,
        951_868_800,
        1_234_567_890,
        1_709_251_199,
        2_147_483_647,
        4_107_542_400,
        4_102_444_799,
    ];
    let mut cases: Vec<(String, Option<u64>)> = Vec::new();
    for t in unix_times {
        cases.push((fake_sts::rfc3339(t), Some(t)));
        cases.push((rfc3339_with_offset(t, 330), Some(t)));
        if t > 0 {
            cases.push((rfc3339_with_offset(t, -600), Some(t)));
        }
        cases.push((fake_sts::rfc3339(t).replace('Z', ".123456Z"), Some(t)));
    }
    for bad in [
        "2030-13-01T00:00:00Z",
        "2030-01-01T24:00:00Z",
        "2030-01-01",
        "2030-01-01T00:00:00",
        "x2030-01-01T00:00:00Z",
        "",
    ] {
        cases.push((bad.to_owned(), None));
    }
    let call = |t: &str| match sh {
        Sh::Fish => {
            format!("set -l r (__mfaexec_rfc3339_epoch '{t}')\nbuiltin printf '<%s>\\n' \"$r\"\n")
        }
        _ => format!("__mfaexec_rfc3339_epoch '{t}'\nprintf '<%s>\\n' \"$__mfaexec_reply\"\n"),
    };
    let body: String = cases.iter().map(|(t, _)| call(t)).collect();
    let out = run(&s, sh, &format!("{}\n{body}", sh.init_line()), &[]);
    assert!(out.status.success(), "{sh:?}: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got.len(), cases.len(), "{stdout}");
    for ((input, want), got) in cases.iter().zip(got) {
        let want = want
            .map(|t| format!("<{t}>"))
            .unwrap_or_else(|| "<>".to_owned());
        assert_eq!(got, want, "{sh:?}: {input:?}");
    }
}

#[test]
fn rfc3339_parser_agrees_in_bash() {
    rfc3339_parser_agrees(Sh::Bash);
}

#[test]
fn rfc3339_parser_agrees_in_zsh() {
    rfc3339_parser_agrees(Sh::Zsh);
}

#[test]
fn rfc3339_parser_agrees_in_fish() {
    rfc3339_parser_agrees(Sh::Fish);
}

/// The warning, through the hook as the shell runs it before each prompt: once per expired
/// session, naming the command that renews it; again for the next session once it expires.
fn expiry_warning_comes_once(sh: Sh) {
    let s = sandbox();
    let prompt = match sh {
        Sh::Bash => "eval \"$PROMPT_COMMAND\"",
        Sh::Zsh => "for f in $precmd_functions; do $f; done",
        Sh::Fish => "emit fish_prompt",
    };
    let past = sh.export("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z");
    let body = format!(
        "mfaexec use prod -t {code}\n{prompt}\n{past}\n{prompt}\n{prompt}\n{prompt}\n\
         mfaexec use prod\n{prompt}\n{past}\n{prompt}\n{prompt}\n",
        code = s.code()
    );
    let script = format!("{}\n{body}", sh.init_line());
    let out = run(&s, sh, &script, &[]);
    assert!(out.status.success(), "{sh:?}: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let warning = "mfaexec: the credentials of profile prod in this shell have expired; renew them \
                   with: mfaexec use prod\n";
    assert_eq!(
        stderr.matches(warning).count(),
        2,
        "{sh:?}: stderr:\n{stderr}"
    );
    let other: Vec<&str> = stderr
        .lines()
        .filter(|l| !warning.starts_with(l) && !l.starts_with("mfaexec: new session"))
        .collect();
    assert!(other.is_empty(), "{sh:?}: {other:?}");
}

#[test]
fn expiry_warning_comes_once_in_bash() {
    expiry_warning_comes_once(Sh::Bash);
}

#[test]
fn expiry_warning_comes_once_in_zsh() {
    expiry_warning_comes_once(Sh::Zsh);
}

#[test]
fn expiry_warning_comes_once_in_fish() {
    expiry_warning_comes_once(Sh::Fish);
}

/// In a real interactive shell on a terminal: the prompt setup of docs/shell.md shows the profile and
/// time left, the shell's own prompt hook prints the expiry warning once however many prompts
/// follow, and `use --unset` empties the prompt.
fn interactive(sh: Sh) {
    let s = sandbox();
    let rc = s.path("rc");
    let (argv, extra): (Vec<String>, Vec<(&str, String)>) = match sh {
        Sh::Bash => {
            std::fs::write(
                &rc,
                format!("{}\nPS1='[$(mfaexec_prompt)]$ '\n", sh.init_line()),
            )
            .unwrap();
            let argv = [
                "bash",
                "--noprofile",
                "--rcfile",
                &rc.display().to_string(),
                "-i",
            ];
            (argv.map(String::from).to_vec(), vec![])
        }
        Sh::Zsh => {
            std::fs::create_dir_all(&rc).unwrap();
            std::fs::write(
                rc.join(".zshrc"),
                format!(
                    "{}\nsetopt prompt_subst\nPROMPT='[$(mfaexec_prompt)]$ '\n",
                    sh.init_line()
                ),
            )
            .unwrap();
            // -d: no global startup files; ZDOTDIR: only this .zshrc.
            (
                vec!["zsh".into(), "-d".into(), "-i".into()],
                vec![("ZDOTDIR", rc.display().to_string())],
            )
        }
        Sh::Fish => {
            let init = format!(
                "set -g fish_greeting; {}; function fish_prompt; builtin printf '[%s]$ ' (mfaexec_prompt); end",
                sh.init_line()
            );
            (
                vec![
                    "fish".into(),
                    "--no-config".into(),
                    "-C".into(),
                    init,
                    "-i".into(),
                ],
                vec![],
            )
        }
    };
    let mut argv = argv;
    argv[0] = sh.path().display().to_string();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let term = Tmux::start(&s, &argv, &extra);
    term.wait("the first, empty prompt", |h| h.contains("[]$ "));
    term.line(&format!("mfaexec use prod -t {}", s.code()));
    term.wait("the prompt with the session", |h| {
        h.contains("[prod 12h]$ ") || h.contains("[prod 11h59m]$ ")
    });
    term.line(&sh.export("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z"));
    let warning = "have expired; renew them with: mfaexec use prod";
    term.wait("the warning", |h| h.contains(warning));
    for _ in 0..3 {
        term.keys(&["Enter"]);
    }
    let history = term.wait("four prompts saying expired", |h| {
        h.matches("[prod expired]$ ").count() >= 4
    });
    assert_eq!(history.matches(warning).count(), 1, "{sh:?}:\n{history}");
    term.line("mfaexec use --unset");
    term.wait("the empty prompt again", |h| {
        h.rsplit("use --unset")
            .next()
            .is_some_and(|after| after.contains("[]$ "))
    });
}

#[test]
fn interactive_bash_shows_the_prompt_and_warns_once() {
    interactive(Sh::Bash);
}

#[test]
fn interactive_zsh_shows_the_prompt_and_warns_once() {
    interactive(Sh::Zsh);
}

#[test]
fn interactive_fish_shows_the_prompt_and_warns_once() {
    interactive(Sh::Fish);
}

/// The Starship module of docs/shell.md: Starship runs `command` (and `when`) by writing it to the
/// stdin of `shell`, a fresh bash without startup files.
#[test]
fn starship_module_prints_the_prompt() {
    let s = sandbox();
    let command = r#"eval "$(mfaexec init bash)" && mfaexec_prompt"#;
    let when = r#"test -n "$MFAEXEC_PROFILE""#;
    let starship = |stdin: &str, extra: &[(&str, &str)]| {
        use std::io::Write;
        let mut child = std::process::Command::new(Sh::Bash.path())
            .args(["--noprofile", "--norc"])
            .env_clear()
            .envs(s.vars().iter().map(|(k, v)| (k, v)))
            .envs(extra.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let expiration = fake_sts::rfc3339(now() + 3600 + 5 * 60 + 30);
    let held = [
        ("MFAEXEC_PROFILE", "prod"),
        ("AWS_ACCESS_KEY_ID", "ASIAX"),
        ("AWS_CREDENTIAL_EXPIRATION", expiration.as_str()),
    ];
    let out = starship(command, &held);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
    assert!(
        ["prod 1h5m", "prod 1h4m"].contains(&text(&out.stdout).as_str()),
        "{:?}",
        text(&out.stdout)
    );
    assert!(starship(when, &held).status.success());
    assert!(!starship(when, &[]).status.success());
}

// ---------------------------------------------------------------------------------------------
// Aliases and functions, options, lints
// ---------------------------------------------------------------------------------------------

/// User aliases and functions named like the builtins and commands the scripts use (and zsh
/// options that change word splitting and arrays) change nothing: `use`, `--unset` and the
/// prompt work as without them.
fn cannot_be_hijacked(sh: Sh) {
    let s = sandbox();
    let names = match sh {
        Sh::Bash => {
            "builtin command eval export unset local return shift printf declare read date echo test shopt"
        }
        Sh::Zsh => {
            "builtin command eval export unset local return shift print printf typeset emulate date \
             echo test integer zmodload setopt enable disable"
        }
        // `test` is a keyword in fish, which no function can take.
        Sh::Fish => "printf echo source date",
    };
    let hijack = match sh {
        Sh::Fish => names
            .split(' ')
            .map(|n| format!("function {n}; command echo HIJACKED-{n}; end\n"))
            .collect::<String>(),
        Sh::Bash | Sh::Zsh => {
            let mut text = String::new();
            if sh == Sh::Bash {
                text.push_str("shopt -s expand_aliases\n");
            } else {
                text.push_str("setopt ksh_arrays sh_word_split rc_quotes\n");
            }
            // Functions first: with the aliases in place, `eval() {` would not parse.
            for n in [
                "eval", "export", "unset", "printf", "date", "echo", "test", "read",
            ] {
                text.push_str(&format!("{n}() {{ \\command echo HIJACKED-{n}; }}\n"));
            }
            for n in names.split(' ') {
                text.push_str(&format!("alias {n}='\\command echo HIJACKED-{n}'\n"));
            }
            text
        }
    };
    let expiration = fake_sts::rfc3339(now() + 3600 + 5 * 60 + 30);
    // The prompt goes to stderr through a child, past any hijacked printf or echo.
    let (set_expiration, show_prompt) = match sh {
        Sh::Fish => (
            format!("set -gx AWS_CREDENTIAL_EXPIRATION {expiration}"),
            "command env MFAEXEC_PROMPT=(mfaexec_prompt) sh -c 'echo \"$MFAEXEC_PROMPT\"' >&2",
        ),
        _ => (
            format!("\\builtin export AWS_CREDENTIAL_EXPIRATION={expiration}"),
            "\\command env MFAEXEC_PROMPT=\"$(mfaexec_prompt)\" sh -c 'echo \"$MFAEXEC_PROMPT\"' >&2",
        ),
    };
    // The user's own init line would be hijacked too; this one is not.
    let init = match sh {
        Sh::Fish => "command mfaexec init fish | builtin source",
        Sh::Bash => r#"\builtin eval "$(\command mfaexec init bash)""#,
        Sh::Zsh => r#"\builtin eval "$(\command mfaexec init zsh)""#,
    };
    let body = format!(
        "{hijack}\n{init}\nmfaexec use prod -t {code}\nreport\n{set_expiration}\n{show_prompt}\n\
         mfaexec use --unset\nreport\n",
        code = s.code(),
    );
    let script = format!("{}\n{body}", report_function(sh));
    let out = run(&s, sh, &script, &[]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{sh:?}: {stderr}");
    assert!(
        !stdout.contains("HIJACKED") && !stderr.contains("HIJACKED"),
        "{sh:?}:\n{stdout}\n{stderr}"
    );
    let (snaps, _) = parse(&out.stdout);
    assert_session(&snaps[0], &s, 0, "prod", "after `use prod`");
    assert!(
        stderr.contains("prod 1h5m\n") || stderr.contains("prod 1h4m\n"),
        "{sh:?}: the prompt: {stderr}"
    );
    for name in ["AWS_ACCESS_KEY_ID", "MFAEXEC_PROFILE", "AWS_REGION"] {
        snaps[1].assert_unset(name, "after --unset");
    }
}

#[test]
fn aliases_and_functions_cannot_hijack_bash() {
    cannot_be_hijacked(Sh::Bash);
}

#[test]
fn aliases_options_and_functions_cannot_hijack_zsh() {
    cannot_be_hijacked(Sh::Zsh);
}

#[test]
fn functions_cannot_hijack_fish() {
    cannot_be_hijacked(Sh::Fish);
}

fn manifest_path(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// shellcheck with every optional check on; the few disables in the file each say why.
#[test]
fn shellcheck_passes_on_the_bash_integration() {
    let out = std::process::Command::new(tool("shellcheck", "shellcheck"))
        .args(["--enable=all", "--shell=bash"])
        .arg(manifest_path("shell/mfaexec.bash"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// zsh and fish parse their scripts without running them, and fish_indent leaves its script as
/// it is.
#[test]
fn zsh_and_fish_parse_their_scripts() {
    for (program, args, package) in [
        ("zsh", vec!["-n", "shell/mfaexec.zsh"], "zsh"),
        ("fish", vec!["--no-execute", "shell/mfaexec.fish"], "fish"),
        ("fish_indent", vec!["--check", "shell/mfaexec.fish"], "fish"),
    ] {
        let out = std::process::Command::new(tool(program, package))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{program} {args:?}: {:?}\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}
