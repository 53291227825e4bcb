//! Completions (`mfaexec completions bash|zsh|fish`) in the real shells: subcommands and
//! options, `--format` values and shell names from the clap definitions; profile names from the
//! user's own config (`mfaexec list --names`) after every subcommand that takes one and as the
//! first word; after `--`, the wrapped command's name and its own completions. bash through its
//! completion function (COMP_WORDS, COMP_CWORD), with and without bash-completion; fish through
//! `complete -C`; zsh in an interactive shell on a terminal (tmux). Also: the committed
//! `completions/*` and `mfaexec.1` are what the binary prints, and shellcheck passes on the
//! bash script.
//!
//! See: issue 5.

use std::path::PathBuf;

use crate::support::shell::*;
use crate::support::*;

fn manifest(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The standard profiles, as `list --names` prints them for the sandbox.
const PROFILES: [&str; 5] = ["default", "deploy", "locked", "prod", "short"];

fn sorted(mut words: Vec<String>) -> Vec<String> {
    words.sort();
    words.dedup();
    words
}

fn strings(words: &[&str]) -> Vec<String> {
    sorted(words.iter().map(|w| (*w).to_owned()).collect())
}

// ---------------------------------------------------------------------------------------------
// The committed files
// ---------------------------------------------------------------------------------------------

/// Each committed file is exactly what the binary prints; the failure says how to refresh it.
#[test]
fn committed_completions_and_man_page_are_current() {
    let s = sandbox();
    let mut stale = Vec::new();
    for (args, file) in [
        (&["completions", "bash"][..], "completions/mfaexec.bash"),
        (&["completions", "zsh"][..], "completions/_mfaexec"),
        (&["completions", "fish"][..], "completions/mfaexec.fish"),
        (&["man"][..], "mfaexec.1"),
    ] {
        let out = s.run(args).success();
        assert!(out.0.stderr.is_empty(), "{args:?}: {}", out.stderr());
        let committed = std::fs::read(manifest(file)).unwrap_or_default();
        if committed != out.0.stdout {
            stale.push(format!(
                "{file} differs from `mfaexec {}`: regenerate it with `cargo run --quiet -- {} > {file}`",
                args.join(" "),
                args.join(" ")
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// The man page documents every subcommand a user can type, `use` as the shell integration
/// takes it, and not the hidden `man`.
#[test]
fn man_page_covers_every_subcommand() {
    let s = sandbox();
    let page = s.run(["man"]).success().stdout();
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "not roff:\n{page}");
    assert!(page.contains(".TH mfaexec 1"));
    for sub in [
        "exec",
        "env",
        "list",
        "clear",
        "login",
        "credential-process",
        "write",
        "use",
        "init",
        "completions",
    ] {
        assert!(
            page.contains(&format!(".SS \"mfaexec {sub}\"")),
            "no section for {sub}"
        );
    }
    assert!(
        !page.contains("mfaexec man"),
        "the hidden `man` is documented"
    );
    assert!(
        page.contains("\\-\\-unset"),
        "`use --unset` is not documented"
    );
    // groff reads it without a warning.
    let groff = tool("groff", "groff-base");
    let out = std::process::Command::new(groff)
        .args(["-man", "-ww", "-z", "-Tutf8"])
        .arg(manifest("mfaexec.1"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "groff: {}",
        text(&out.stderr)
    );
}

#[test]
fn shellcheck_passes_on_the_bash_completions() {
    let out = std::process::Command::new(tool("shellcheck", "shellcheck"))
        .args(["--enable=all", "--shell=bash"])
        .arg(manifest("completions/mfaexec.bash"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The hand-written parts parse, and fish_indent leaves the fish one as it is.
#[test]
fn zsh_and_fish_parse_the_completions() {
    for (program, args, package) in [
        ("zsh", vec!["-n", "completions/_mfaexec"], "zsh"),
        (
            "fish",
            vec!["--no-execute", "completions/mfaexec.fish"],
            "fish",
        ),
        (
            "fish_indent",
            vec!["--check", "shell/complete.fish"],
            "fish",
        ),
    ] {
        let out = std::process::Command::new(tool(program, package))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{program} {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// bash
// ---------------------------------------------------------------------------------------------

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// What bash's completion function for `mfaexec` puts in COMPREPLY for `line` (the cursor at its
/// end; words split at spaces, as readline does for these lines), after `setup`. With
/// `bash_completion`, bash-completion is loaded first, as on most systems.
#[track_caller]
fn bash_complete(s: &Sandbox, line: &str, setup: &str, bash_completion: bool) -> Vec<String> {
    let mut words: Vec<&str> = line.split(' ').collect();
    if words.last() == Some(&"") {
        words.pop();
        words.push("");
    }
    let cword = words.len() - 1;
    let quoted: Vec<String> = words
        .iter()
        .map(|w| shell_words::quote(w).into_owned())
        .collect();
    let load = if bash_completion {
        assert!(
            std::path::Path::new(BASH_COMPLETION).exists(),
            "bash-completion is not installed, and this test loads it as users do: install it \
             (Debian/Ubuntu: `sudo apt-get install bash-completion`, macOS: `brew install \
             bash-completion@2`)"
        );
        format!("source {BASH_COMPLETION}\n")
    } else {
        String::new()
    };
    // compopt works only while readline completes; here it would print an error each time.
    let script = format!(
        "{load}compopt() {{ :; }}\nsource <(mfaexec completions bash)\n{setup}\n\
         COMP_LINE={line}\nCOMP_POINT=${{#COMP_LINE}}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\n\
         COMPREPLY=()\n\
         spec=$(complete -p mfaexec)\nfunction=${{spec#*-F }}\nfunction=${{function%% *}}\n\
         \"$function\" mfaexec \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        line = shell_words::quote(line),
        words = quoted.join(" "),
    );
    let out = run_with(s, Sh::Bash, &["--norc", "--noprofile"], &script, &[]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "bash completing {line:?}: {:?}\n{}",
        out.status,
        text(&out.stderr)
    );
    sorted(
        text(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Profile names come from the user's config: a profile added to it is offered at once.
#[test]
fn bash_completes_profile_names_from_the_users_config() {
    let s = sandbox();
    for with in [false, true] {
        let complete = |line: &str| bash_complete(&s, line, "", with);
        assert_eq!(complete("mfaexec pr"), strings(&["prod"]), "first word");
        for sub in [
            "exec",
            "env",
            "login",
            "use",
            "clear",
            "credential-process",
            "write",
        ] {
            assert_eq!(
                complete(&format!("mfaexec {sub} pr")),
                strings(&["prod"]),
                "after {sub}"
            );
            assert_eq!(
                complete(&format!("mfaexec {sub} ")),
                strings(&PROFILES),
                "after {sub}"
            );
        }
        assert_eq!(
            complete("mfaexec env -d 1h p"),
            strings(&["prod"]),
            "after an option's value"
        );
        assert_eq!(
            complete("mfaexec clear prod s"),
            strings(&["short"]),
            "clear takes several"
        );
        assert!(
            !complete("mfaexec env prod ").contains(&"prod".to_owned()),
            "a second profile offered"
        );
        let first = complete("mfaexec ");
        for word in PROFILES
            .iter()
            .chain(&["exec", "env", "use", "completions"])
        {
            assert!(
                first.contains(&(*word).to_owned()),
                "`mfaexec ` lacks {word}: {first:?}"
            );
        }
        assert!(
            !first.contains(&"man".to_owned()),
            "the hidden `man` is offered"
        );
    }
    s.append_config("\n[profile preview]\nregion = eu-west-1\n");
    assert_eq!(
        bash_complete(&s, "mfaexec pr", "", false),
        strings(&["preview", "prod"])
    );
    assert_eq!(
        bash_complete(&s, "mfaexec env pr", "", true),
        strings(&["preview", "prod"])
    );
}

#[test]
fn bash_completes_options_formats_and_shells() {
    let s = sandbox();
    for with in [false, true] {
        let complete = |line: &str| bash_complete(&s, line, "", with);
        assert_eq!(
            complete("mfaexec env --format "),
            strings(&["posix", "fish", "powershell", "json", "dotenv"])
        );
        assert_eq!(
            complete("mfaexec completions "),
            strings(&["bash", "zsh", "fish", "-h", "-V", "--help", "--version"])
        );
        assert_eq!(complete("mfaexec init z"), strings(&["zsh"]));
        assert_eq!(complete("mfaexec use --un"), strings(&["--unset"]));
        assert_eq!(complete("mfaexec env --dr"), strings(&["--dry-run"]));
        // The shorthand reads as `exec`: its options after a profile.
        assert_eq!(
            complete("mfaexec prod --re"),
            strings(&["--refresh", "--region"])
        );
        assert_eq!(complete("mfaexec l"), strings(&["list", "locked", "login"]));
        // No file names for a duration.
        assert_eq!(complete("mfaexec env -d 1"), strings(&["1"]));
    }
}

#[test]
fn bash_completes_the_command_after_dashdash() {
    let s = sandbox();
    let setup = "complete -W 'plan apply' terraform-fake";
    for with in [false, true] {
        for line in [
            "mfaexec prod -- ter",
            "mfaexec exec prod -- ter",
            "mfaexec -d 1h prod -- ter",
        ] {
            let got = bash_complete(&s, line, setup, with);
            assert!(
                got.contains(&"terraform-fake".to_owned()),
                "{line:?}: {got:?}"
            );
            assert!(
                got.iter().all(|w| w.starts_with("ter")),
                "{line:?}: {got:?}"
            );
        }
        assert!(
            !bash_complete(&s, "mfaexec prod -- terraform-fake --", setup, with)
                .contains(&"--duration".to_owned()),
            "mfaexec's own options offered to the wrapped command"
        );
    }
    // The wrapped command's own completion, through bash-completion's _command_offset.
    assert_eq!(
        bash_complete(&s, "mfaexec prod -- terraform-fake p", setup, true),
        strings(&["plan"])
    );
    assert_eq!(
        bash_complete(
            &s,
            "mfaexec exec -t 123456 prod -- terraform-fake a",
            setup,
            true
        ),
        strings(&["apply"])
    );
}

// ---------------------------------------------------------------------------------------------
// fish
// ---------------------------------------------------------------------------------------------

/// What `complete -C LINE` gives in fish after loading the completions and `setup`: the words,
/// without their descriptions.
#[track_caller]
fn fish_complete(s: &Sandbox, line: &str, setup: &str) -> Vec<String> {
    let script = format!(
        "mfaexec completions fish | source\n{setup}\ncomplete -C {}\n",
        shell_words::quote(line)
    );
    let out = run(s, Sh::Fish, &script, &[]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "fish completing {line:?}: {}",
        text(&out.stderr)
    );
    sorted(
        text(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect(),
    )
}

#[test]
fn fish_completes_profile_names_from_the_users_config() {
    let s = sandbox();
    let complete = |line: &str| fish_complete(&s, line, "");
    assert_eq!(complete("mfaexec pr"), strings(&["prod"]));
    for sub in [
        "exec",
        "env",
        "login",
        "use",
        "clear",
        "credential-process",
        "write",
    ] {
        assert_eq!(
            complete(&format!("mfaexec {sub} pr")),
            strings(&["prod"]),
            "after {sub}"
        );
        assert_eq!(
            complete(&format!("mfaexec {sub} ")),
            strings(&PROFILES),
            "after {sub}"
        );
    }
    assert_eq!(complete("mfaexec env -d 1h p"), strings(&["prod"]));
    assert_eq!(complete("mfaexec clear prod s"), strings(&["short"]));
    assert!(
        complete("mfaexec env prod ").is_empty(),
        "a second profile (or files) offered"
    );
    let first = complete("mfaexec ");
    for word in PROFILES
        .iter()
        .chain(&["exec", "env", "use", "completions"])
    {
        assert!(
            first.contains(&(*word).to_owned()),
            "`mfaexec ` lacks {word}: {first:?}"
        );
    }
    assert!(
        !first.contains(&"man".to_owned()),
        "the hidden `man` is offered"
    );
    s.append_config("\n[profile preview]\nregion = eu-west-1\n");
    assert_eq!(complete("mfaexec pr"), strings(&["preview", "prod"]));
    assert_eq!(complete("mfaexec env pr"), strings(&["preview", "prod"]));
}

#[test]
fn fish_completes_options_formats_and_shells() {
    let s = sandbox();
    let complete = |line: &str| fish_complete(&s, line, "");
    assert_eq!(
        complete("mfaexec env --format "),
        strings(&["posix", "fish", "powershell", "json", "dotenv"])
    );
    assert_eq!(
        complete("mfaexec completions "),
        strings(&["bash", "zsh", "fish"])
    );
    assert_eq!(complete("mfaexec init z"), strings(&["zsh"]));
    assert_eq!(complete("mfaexec use --un"), strings(&["--unset"]));
    assert_eq!(
        complete("mfaexec prod --re"),
        strings(&["--refresh", "--region"])
    );
    assert_eq!(complete("mfaexec l"), strings(&["list", "locked", "login"]));
}

#[test]
fn fish_completes_the_command_after_dashdash() {
    let s = sandbox();
    let setup = "complete -c terraform-fake -f -a 'plan apply'";
    for line in [
        "mfaexec prod -- ter",
        "mfaexec exec prod -- ter",
        "mfaexec -d 1h prod -- ter",
    ] {
        let got = fish_complete(&s, line, setup);
        assert!(
            got.contains(&"terraform-fake".to_owned()),
            "{line:?}: {got:?}"
        );
        assert!(
            got.iter().all(|w| w.starts_with("ter")),
            "{line:?}: {got:?}"
        );
    }
    assert_eq!(
        fish_complete(&s, "mfaexec prod -- terraform-fake p", setup),
        strings(&["plan"])
    );
    assert!(
        !fish_complete(&s, "mfaexec prod -- terraform-fake --", setup)
            .contains(&"--duration".to_owned()),
        "mfaexec's own options offered to the wrapped command"
    );
}

// ---------------------------------------------------------------------------------------------
// zsh, interactive
// ---------------------------------------------------------------------------------------------

const ZSH_PROMPT: &str = "zsh-test> ";

/// An interactive zsh on a terminal with the completions installed as users do (the file
/// `_mfaexec` in a directory of fpath, compinit), and `terraform-fake` with a completion of its
/// own.
fn zsh_terminal(s: &Sandbox) -> Tmux {
    let dir = s.path("zsh");
    let functions = dir.join("functions");
    std::fs::create_dir_all(&functions).unwrap();
    let script = s.run(["completions", "zsh"]).success().0.stdout;
    std::fs::write(functions.join("_mfaexec"), script).unwrap();
    std::fs::write(
        dir.join(".zshrc"),
        format!(
            "fpath=({} $fpath)\nautoload -Uz compinit && compinit -u -D\n\
             _terraform_fake() {{ compadd plan apply }}\ncompdef _terraform_fake terraform-fake\n\
             PROMPT='{ZSH_PROMPT}'\n",
            functions.display()
        ),
    )
    .unwrap();
    let zsh = Sh::Zsh.path().display().to_string();
    let zdotdir = dir.display().to_string();
    // -d: no global startup files; ZDOTDIR: only this .zshrc.
    let term = Tmux::start(s, &[&zsh, "-d", "-i"], &[("ZDOTDIR", &zdotdir)]);
    term.wait_screen("the prompt", |screen| screen.contains(ZSH_PROMPT));
    term
}

/// Types `line`, presses Tab, and waits until the screen satisfies `done`; then clears the line
/// and the screen for the next one.
#[track_caller]
fn zsh_tab(term: &Tmux, line: &str, what: &str, done: impl Fn(&str, &str) -> bool) {
    term.type_text(line);
    term.keys(&["Tab"]);
    term.wait_screen(what, |screen| {
        let edited = screen
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(ZSH_PROMPT))
            .unwrap_or_default()
            .trim_end();
        done(edited, screen)
    });
    term.keys(&["C-e", "C-u", "C-l"]);
    term.wait_screen("an empty line", |screen| {
        screen.trim_end().lines().count() == 1 && screen.trim_end() == ZSH_PROMPT.trim_end()
    });
}

#[test]
fn zsh_completes_in_an_interactive_shell() {
    let s = sandbox();
    let term = zsh_terminal(&s);
    zsh_tab(&term, "mfaexec pr", "`mfaexec prod`", |line, _| {
        line == "mfaexec prod"
    });
    zsh_tab(&term, "mfaexec env pr", "`mfaexec env prod`", |line, _| {
        line == "mfaexec env prod"
    });
    zsh_tab(
        &term,
        "mfaexec env --format ",
        "the five formats",
        |_, screen| {
            ["posix", "fish", "powershell", "json", "dotenv"]
                .iter()
                .all(|f| screen.contains(&format!("{f} ")))
        },
    );
    zsh_tab(
        &term,
        "mfaexec prod -- ter",
        "terraform-fake",
        |line, screen| {
            line == "mfaexec prod -- terraform-fake" || screen.contains("terraform-fake")
        },
    );
    zsh_tab(
        &term,
        "mfaexec prod -- terraform-fake p",
        "its own completion",
        |line, _| line == "mfaexec prod -- terraform-fake plan",
    );
    zsh_tab(&term, "mfaexec completions z", "`zsh`", |line, _| {
        line == "mfaexec completions zsh"
    });
    zsh_tab(&term, "mfaexec use --un", "`--unset`", |line, _| {
        line == "mfaexec use --unset"
    });
    zsh_tab(
        &term,
        "mfaexec clear prod sh",
        "a second profile",
        |line, _| line == "mfaexec clear prod short",
    );
    zsh_tab(
        &term,
        "mfaexec prod --ref",
        "the shorthand's options",
        |line, _| line == "mfaexec prod --refresh",
    );
    // From the user's config, read at each Tab.
    s.append_config("\n[profile zzz-new]\nregion = eu-west-1\n");
    zsh_tab(
        &term,
        "mfaexec login zz",
        "a profile added since",
        |line, _| line == "mfaexec login zzz-new",
    );
}
