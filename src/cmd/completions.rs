//! `mfaexec completions <shell>` and `mfaexec man`, both generated from the clap definitions in
//! cli.rs, so they offer and document exactly what the binary parses.
//!
//! clap_complete writes static scripts: subcommands, options, `--format` and shell names. What
//! it cannot know is the user's own profiles, the `mfaexec PROFILE -- CMD` shorthand, and the
//! command wrapped after `--`; those are hand-written in `shell/complete.{bash,zsh,fish}` and
//! appended, after a few lines of data taken from the same clap definitions (the subcommand
//! names, the options that take a value). What this command prints is the one source: the
//! files in `completions/` and `mfaexec.1` are its output, and a test fails when they differ.

use clap::{Arg, ArgAction, Args, Command, CommandFactory, ValueHint};

use crate::cli::{Cli, CompletionsArgs, SessionArgs, Shell};
use crate::error::{Error, Result};
use crate::sys::environ::Environment;

const BASH: &str = include_str!("../../shell/complete.bash");
const ZSH: &str = include_str!("../../shell/complete.zsh");
const FISH: &str = include_str!("../../shell/complete.fish");

pub fn run(args: &CompletionsArgs, _env: &Environment) -> Result<()> {
    crate::output::print_stdout(&script(args.shell)?)
}

pub fn man(_env: &Environment) -> Result<()> {
    crate::output::print_stdout(&man_page()?)
}

/// The completion script for `shell`: clap_complete's, then the data, then the hand-written part.
pub fn script(shell: Shell) -> Result<String> {
    let mut cmd = view(Purpose::Completions);
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut generated = Vec::new();
    clap_complete::generate(generator, &mut cmd, "mfaexec", &mut generated);
    let generated = String::from_utf8(generated)
        .map_err(|_| Error::new("clap_complete wrote a completion script that is not UTF-8"))?;
    let data = Data::of(&cmd);
    let out = match shell {
        Shell::Bash => format!(
            "# shellcheck shell=bash\n\
             # The clap_complete part below fills COMPREPLY from compgen's split output, as bash\n\
             # completions do (its words hold no spaces), and its case statements end without a\n\
             # default branch.\n\
             # shellcheck disable=SC2207,SC2249\n\n\
             {generated}\n{}\n{BASH}",
            data.render_bash()
        ),
        Shell::Zsh => zsh(&generated, &data)?,
        Shell::Fish => {
            for helper in [
                "function __fish_mfaexec_needs_command",
                "function __fish_mfaexec_using_subcommand",
            ] {
                expect(&generated, helper, "fish")?;
            }
            format!("{generated}\n{}\n{FISH}", data.render_fish())
        }
    };
    Ok(out)
}

/// zsh runs the file as the body of `_mfaexec` and then calls the `_mfaexec` it defined, so the
/// generated function becomes `_mfaexec_clap`, the hand-written `_mfaexec` goes before the
/// final call, and the profile positionals complete with `__mfaexec_complete_profiles`.
fn zsh(generated: &str, data: &Data) -> Result<String> {
    let definition = "\n_mfaexec() {\n";
    expect(generated, definition, "zsh")?;
    let trailer = "\nif [ \"$funcstack[1]\" = \"_mfaexec\" ]; then";
    let at = generated
        .find(trailer)
        .ok_or_else(|| unexpected("zsh", trailer))?;
    let (body, trailer) = generated.split_at(at);
    let body = body.replacen(definition, "\n_mfaexec_clap() {\n", 1);
    // In the view, only PROFILE positionals keep clap's default action, `_default`.
    let action = ":_default' \\\n";
    let count = body.matches(action).count();
    if count != data.profile_positionals {
        return Err(Error::new(format!(
            "clap_complete's zsh script has {count} `_default` actions, where mfaexec has {} \
             PROFILE arguments",
            data.profile_positionals
        )));
    }
    let body = body.replace(action, ":__mfaexec_complete_profiles' \\\n");
    Ok(format!(
        "{}\n{}\n{ZSH}{trailer}",
        body.trim_end(),
        data.render_zsh()
    ))
}

fn expect(generated: &str, text: &str, shell: &str) -> Result<()> {
    if generated.contains(text) {
        Ok(())
    } else {
        Err(unexpected(shell, text))
    }
}

/// A clap_complete release that writes its scripts differently: the hand-written part must be
/// fitted to it again, and the tests say so first.
fn unexpected(shell: &str, text: &str) -> Error {
    Error::new(format!(
        "clap_complete's {shell} script no longer holds `{}`",
        text.trim()
    ))
    .hint("fit shell/complete.* and src/cmd/completions.rs to the new clap_complete output")
}

/// What the hand-written parts need from the clap definitions.
struct Data {
    /// Every subcommand name, `help` included: a first word that is none of these is a profile.
    subcommands: Vec<String>,
    /// The subcommands that take PROFILE as a positional.
    profile_commands: Vec<String>,
    /// `-d`, `--duration`, ...: the word after one of these is its value, not a positional.
    value_options: Vec<String>,
    profile_positionals: usize,
    /// (subcommand, its positional's possible values): `init` and `completions` take a shell.
    positional_values: Vec<(String, Vec<String>)>,
}

impl Data {
    fn of(cmd: &Command) -> Data {
        let mut subcommands: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        if !subcommands.iter().any(|s| s == "help") {
            subcommands.push("help".to_owned());
        }
        let profile_commands: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| s.get_positionals().any(is_profile))
            .map(|s| s.get_name().to_owned())
            .collect();
        let mut value_options = Vec::new();
        for arg in cmd.get_subcommands().flat_map(Command::get_arguments) {
            if arg.is_positional() || !arg.get_action().takes_values() {
                continue;
            }
            let names = arg
                .get_short_and_visible_aliases()
                .into_iter()
                .flatten()
                .map(|c| format!("-{c}"))
                .chain(
                    arg.get_long_and_visible_aliases()
                        .into_iter()
                        .flatten()
                        .map(|l| format!("--{l}")),
                );
            for name in names {
                if !value_options.contains(&name) {
                    value_options.push(name);
                }
            }
        }
        let positional_values = cmd
            .get_subcommands()
            .flat_map(|s| s.get_positionals().map(move |a| (s, a)))
            .filter_map(|(s, a)| {
                let values = a.get_possible_values();
                (!values.is_empty()).then(|| {
                    let names = values.iter().map(|v| v.get_name().to_owned()).collect();
                    (s.get_name().to_owned(), names)
                })
            })
            .collect();
        Data {
            subcommands,
            positional_values,
            profile_positionals: profile_commands.len(),
            profile_commands,
            value_options,
        }
    }

    fn render_bash(&self) -> String {
        format!(
            "# From mfaexec's clap definitions, for the part below.\n\
             __mfaexec_subcommands=({})\n\
             __mfaexec_profile_commands=({})\n\
             __mfaexec_value_options=({})\n",
            self.subcommands.join(" "),
            self.profile_commands.join(" "),
            self.value_options.join(" ")
        )
    }

    fn render_zsh(&self) -> String {
        format!(
            "# From mfaexec's clap definitions, for the part below.\n\
             typeset -ga __mfaexec_subcommands=({})\n\
             typeset -ga __mfaexec_profile_commands=({})\n\
             typeset -ga __mfaexec_value_options=({})\n",
            self.subcommands.join(" "),
            self.profile_commands.join(" "),
            self.value_options.join(" ")
        )
    }

    /// The lists, and the positionals with possible values, which clap_complete's fish
    /// script leaves out.
    fn render_fish(&self) -> String {
        let mut out = format!(
            "# From mfaexec's clap definitions, for the part below.\n\
             set -g __mfaexec_subcommands {}\n\
             set -g __mfaexec_profile_commands {}\n\
             set -g __mfaexec_value_options {}\n",
            self.subcommands.join(" "),
            self.profile_commands.join(" "),
            self.value_options.join(" ")
        );
        for (subcommand, values) in &self.positional_values {
            out.push_str(&format!(
                "complete -c mfaexec -n \"__fish_mfaexec_using_subcommand {subcommand}\" -f -a \"{}\"\n",
                values.join(" ")
            ));
        }
        out
    }
}

fn is_profile(arg: &Arg) -> bool {
    arg.get_id() == "profile" || arg.get_id() == "profiles"
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Completions,
    Man,
}

/// The CLI as a user of the shell integration types it: `use` takes a profile, the session
/// options and `--unset` (the shell function reads them; the binary's own `use` only explains
/// how to load it), hidden subcommands are left out, and options whose values are not files
/// say so, so that no shell offers file names for `--duration`. For completions, the command
/// after `--` is left to the hand-written part: clap_complete's zsh script would read every word
/// after the profile as that command, options included.
fn view(purpose: Purpose) -> Command {
    let cli = Cli::command();
    let mut root = Command::new("mfaexec")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommand_required(true);
    if let Some(about) = cli.get_about() {
        root = root.about(about.clone());
    }
    if let Some(about) = cli.get_long_about() {
        root = root.long_about(about.clone());
    }
    if let Some(usage) = cli.get_overridden_usage() {
        root = root.override_usage(usage.clone());
    }
    if let Some(after) = cli.get_after_help() {
        root = root.after_help(after.clone());
    }
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub = if sub.get_name() == "use" {
            use_view(sub)
        } else if purpose == Purpose::Completions && sub.get_arguments().any(Arg::is_last_set) {
            without_last(sub)
        } else {
            sub.clone()
        };
        root = root.subcommand(with_value_hints(sub));
    }
    root
}

/// `sub` without its `last` positional (the command after `--`).
fn without_last(sub: &Command) -> Command {
    // clap takes a `&'static str` name (without its `string` feature); this runs once, in a
    // process that prints a script and ends.
    let name: &'static str = Box::leak(sub.get_name().to_owned().into_boxed_str());
    let mut copy = Command::new(name);
    if let Some(about) = sub.get_about() {
        copy = copy.about(about.clone());
    }
    if let Some(about) = sub.get_long_about() {
        copy = copy.long_about(about.clone());
    }
    copy.args(sub.get_arguments().filter(|a| !a.is_last_set()).cloned())
        .groups(sub.get_groups().cloned())
}

fn use_view(real: &Command) -> Command {
    let mut cmd = SessionArgs::augment_args(Command::new("use")).arg(
        Arg::new("unset")
            .long("unset")
            .action(ArgAction::SetTrue)
            .exclusive(true)
            .help("Remove what `use` exported, and give back the variables the shell held before"),
    );
    if let Some(about) = real.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd.long_about(
        "Export the profile's credentials into the current shell, as `env` prints them. \
         This needs the shell integration: eval \"$(mfaexec init bash)\" in ~/.bashrc, \
         eval \"$(mfaexec init zsh)\" in ~/.zshrc, mfaexec init fish | source in config.fish.",
    )
}

fn with_value_hints(cmd: Command) -> Command {
    let ids: Vec<_> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
    ids.into_iter().fold(cmd, |cmd, id| {
        cmd.mut_arg(id, |arg| {
            if is_profile(&arg) {
                // clap_complete's default; the zsh part replaces it with the profile names.
                arg.value_hint(ValueHint::Unknown)
            } else if arg.get_action().takes_values()
                && arg.get_value_parser().possible_values().is_none()
            {
                arg.value_hint(ValueHint::Other)
            } else {
                arg
            }
        })
    })
}

/// One page: the top-level synopsis, description and options, then under COMMANDS each
/// subcommand's synopsis, description and options, all rendered by clap_mangen from the same
/// view as the completions.
fn man_page() -> Result<String> {
    let mut root = view(Purpose::Man);
    let names: Vec<String> = root
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        // -h and -V are on every subcommand; the top-level OPTIONS name them once.
        root = root.mut_subcommand(name, |s| {
            s.disable_help_flag(true).disable_version_flag(true)
        });
    }
    root.build();
    let failed = |e: std::io::Error| Error::new(format!("cannot render the man page: {e}"));
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(root.clone());
    page.render_title(&mut out).map_err(failed)?;
    page.render_name_section(&mut out).map_err(failed)?;
    page.render_synopsis_section(&mut out).map_err(failed)?;
    page.render_description_section(&mut out).map_err(failed)?;
    page.render_options_section(&mut out).map_err(failed)?;
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_page = clap_mangen::Man::new(sub.clone());
        let mut text = Vec::new();
        sub_page
            .render_synopsis_section(&mut text)
            .map_err(failed)?;
        sub_page
            .render_description_section(&mut text)
            .map_err(failed)?;
        sub_page.render_options_section(&mut text).map_err(failed)?;
        let heading = format!("mfaexec {}", sub.get_name());
        out.extend_from_slice(demote(&String::from_utf8_lossy(&text), &heading).as_bytes());
    }
    let mut extra = Vec::new();
    page.render_extra_section(&mut extra).map_err(failed)?;
    // clap_mangen heads the after_help text EXTRA; man pages call it NOTES.
    let extra = String::from_utf8_lossy(&extra).replacen(".SH EXTRA", ".SH NOTES", 1);
    out.extend_from_slice(extra.as_bytes());
    page.render_version_section(&mut out).map_err(failed)?;
    let text = String::from_utf8(out).map_err(|_| Error::new("the man page is not UTF-8"))?;
    Ok(once_quote_string(&text))
}

/// A subcommand's own page as a subsection of COMMANDS, headed `heading`.
fn demote(roff: &str, heading: &str) -> String {
    let mut out = String::new();
    for line in roff.lines() {
        match line {
            ".SH SYNOPSIS" => out.push_str(&format!(".SS \"{heading}\"\n")),
            ".SH DESCRIPTION" => out.push_str(".PP\n"),
            ".SH OPTIONS" => out.push_str(".PP\nOptions and arguments:\n"),
            _ if line.starts_with(".SH ") => {
                out.push_str(&line.replacen(".SH ", ".SS ", 1));
                out.push('\n');
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// clap_mangen defines the quote string `Aq` before every section; once is enough.
fn once_quote_string(roff: &str) -> String {
    let mut seen = false;
    let mut out = String::new();
    let mut lines = roff.lines();
    while let Some(line) = lines.next() {
        if line.starts_with(".ie \\n(.g .ds Aq") {
            let next = lines.next().unwrap_or_default();
            if !seen {
                out.push_str(line);
                out.push('\n');
                out.push_str(next);
                out.push('\n');
                seen = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(cmd: &Command) -> Vec<String> {
        let mut ids: Vec<String> = cmd
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// The view changes only what it says it changes: every other subcommand keeps every
    /// argument, so no option goes missing from the completions or the man page.
    #[test]
    fn the_view_keeps_every_argument() {
        let cli = Cli::command();
        for purpose in [Purpose::Completions, Purpose::Man] {
            let view = view(purpose);
            let names: Vec<&str> = view.get_subcommands().map(Command::get_name).collect();
            for real in cli.get_subcommands() {
                let name = real.get_name();
                if real.is_hide_set() {
                    assert!(!names.contains(&name), "hidden `{name}` is in the view");
                    continue;
                }
                let shown = view.find_subcommand(name).expect("in the view");
                if name == "use" {
                    let mut want = ids(&SessionArgs::augment_args(Command::new("use")));
                    want.push("unset".to_owned());
                    want.sort();
                    assert_eq!(ids(shown), want);
                    continue;
                }
                let mut want = ids(real);
                if purpose == Purpose::Completions {
                    want.retain(|id| id != "command");
                }
                assert_eq!(ids(shown), want, "`{name}`");
            }
        }
    }

    #[test]
    fn every_shell_gets_a_script() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell).unwrap();
            assert!(
                text.contains("mfaexec list --names"),
                "{shell:?}: no profile names"
            );
        }
        let zsh = script(Shell::Zsh).unwrap();
        assert!(zsh.starts_with("#compdef mfaexec\n"));
        assert!(!zsh.contains(":_default'"));
        assert!(
            zsh.trim_end().ends_with("fi"),
            "the call of _mfaexec is not last"
        );
    }
}
