//! Rendering variables for each shell. Every value is quoted by that shell's own rules so that
//! no value (quotes, `$()`, backticks, newlines) can run code when the output is evaluated.

use crate::cli::Format;
use crate::error::{Error, Result};
use crate::output::vars::Vars;

pub fn render(format: Format, vars: &Vars) -> Result<String> {
    if let Some((name, _)) = vars.set.iter().find(|(_, v)| v.contains('\0')) {
        return Err(Error::new(format!(
            "{name} holds a NUL byte and cannot be exported"
        )));
    }
    let mut out = String::new();
    match format {
        Format::Posix => {
            if !vars.unset.is_empty() {
                out.push_str(&format!("unset {}\n", vars.unset.join(" ")));
            }
            for (name, value) in &vars.set {
                out.push_str(&format!("export {name}={}\n", posix_quote(value)));
            }
        }
        Format::Fish => {
            // Only the global scope is changed. A bare `set -e NAME` erases the user's
            // universal variable (`set -Ux AWS_PROFILE work`) when the shell has no global of
            // that name: from fish_variables, for every fish, for good. A universal is hidden
            // in this shell by an empty, unexported global instead. Fish still exports an
            // exported universal to the commands it runs (no unexported global masks one), so
            // that case gets a warning.
            for name in &vars.unset {
                out.push_str(&format!("set -e -g {name}\n"));
                out.push_str(&format!("set -q -U {name}; and set -g -u {name}\n"));
                let warning = format!(
                    "mfaexec: warning: fish still passes the exported universal variable {name} \
                     to the commands it runs (a universal can only be hidden inside the shell), \
                     so they see it beside the session"
                );
                let hint = format!(
                    "hint: to keep it from them, unexport it (set -U -u {name}) or make it a \
                     global in config.fish instead"
                );
                out.push_str(&format!(
                    "set -q -U -x {name}; and builtin printf '%s\\n' {} {} >&2\n",
                    fish_quote(&warning),
                    fish_quote(&hint)
                ));
            }
            for (name, value) in &vars.set {
                out.push_str(&format!("set -gx {name} {}\n", fish_quote(value)));
            }
        }
        Format::Powershell => {
            for name in &vars.unset {
                out.push_str(&format!(
                    "Remove-Item Env:{name} -ErrorAction SilentlyContinue\n"
                ));
            }
            for (name, value) in &vars.set {
                out.push_str(&format!("$Env:{name} = {}\n", powershell_quote(value)));
            }
        }
        Format::Dotenv => {
            for (name, value) in &vars.set {
                // Docker's --env-file takes the rest of the line literally and has no escapes,
                // so a line break cannot be represented.
                if value.contains(['\n', '\r']) {
                    return Err(Error::new(format!(
                        "{name} holds a line break, which the dotenv format cannot carry"
                    ))
                    .hint("use --format posix or --format json"));
                }
                out.push_str(&format!("{name}={value}\n"));
            }
        }
        Format::Json => {
            let get = |name: &str| {
                vars.set
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.as_str())
            };
            let mut object = serde_json::Map::new();
            object.insert("Version".into(), 1.into());
            for (key, var) in [
                ("AccessKeyId", "AWS_ACCESS_KEY_ID"),
                ("SecretAccessKey", "AWS_SECRET_ACCESS_KEY"),
                ("SessionToken", "AWS_SESSION_TOKEN"),
                ("Expiration", "AWS_CREDENTIAL_EXPIRATION"),
            ] {
                if let Some(value) = get(var) {
                    object.insert(key.into(), value.into());
                }
            }
            out = serde_json::Value::Object(object).to_string();
            out.push('\n');
        }
    }
    Ok(out)
}

/// POSIX single quotes: everything literal, a `'` written as `'\''`.
pub fn posix_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special inside, escaped with a backslash.
pub fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quotes: a quote is doubled; PowerShell also takes the typographic single
/// quotes (U+2018..U+201B) as quotes, so those are doubled too.
pub fn powershell_quote(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const HOSTILE: &str = "a'b\"c$(touch /tmp/x)`id`\\n\n$HOME;|&*?~\u{2019}!";

    #[test]
    fn posix_quoting_keeps_everything_literal() {
        assert_eq!(posix_quote("it's"), r"'it'\''s'");
        assert_eq!(
            posix_quote("a'$(x)`y`\n"),
            "'a'\\''$(x)`y`\n'",
            "only the quote is touched"
        );
        // Every quote of the value became `'\''`; without those, one quoted run is left.
        let quoted = posix_quote(HOSTILE);
        let rest = quoted.replace(r"'\''", "");
        let inner = rest
            .strip_prefix('\'')
            .and_then(|r| r.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{quoted}"));
        assert!(!inner.contains('\''), "{quoted}");
    }

    #[test]
    fn fish_quoting_escapes_backslash_and_quote() {
        assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
    }

    /// No statement of the fish output changes a universal variable, or erases a variable
    /// without naming the global scope (which would erase a universal when there is no global).
    #[test]
    fn fish_output_changes_only_globals() {
        let vars = Vars {
            unset: vec!["AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"],
            set: vec![("AWS_ACCESS_KEY_ID", "ASIA1".into()), ("X", "it's".into())],
        };
        let out = render(Format::Fish, &vars).unwrap();
        let code: Vec<&str> = out
            .lines()
            .filter(|line| !line.contains("builtin printf"))
            .collect();
        let mut changes = 0;
        for statement in code
            .iter()
            .flat_map(|line| line.split("; "))
            .map(|s| s.trim_start_matches("and "))
            .filter(|s| s.starts_with("set "))
        {
            let flags: String = statement
                .split(' ')
                .skip(1)
                .take_while(|w| w.starts_with('-'))
                .collect();
            if flags.contains('q') {
                continue;
            }
            changes += 1;
            assert!(flags.contains('g'), "not global: {statement:?}");
            assert!(!flags.contains('U'), "universal: {statement:?}");
        }
        assert!(changes >= 8, "{out}");
        for name in &vars.unset {
            assert!(out.contains(&format!("set -e -g {name}\n")), "{out}");
            assert!(
                out.contains(&format!("set -q -U {name}; and set -g -u {name}\n")),
                "{out}"
            );
            assert!(
                out.contains(&format!("set -q -U -x {name}; and builtin printf ")),
                "{out}"
            );
        }
        assert!(
            out.ends_with("set -gx AWS_ACCESS_KEY_ID 'ASIA1'\nset -gx X 'it\\'s'\n"),
            "{out}"
        );
    }

    #[test]
    fn powershell_quoting_doubles_all_single_quotes() {
        assert_eq!(powershell_quote("a'b\u{2019}c"), "'a''b\u{2019}\u{2019}c'");
    }

    #[test]
    fn dotenv_refuses_line_breaks() {
        let vars = Vars {
            unset: vec![],
            set: vec![("X", "a\nb".into())],
        };
        assert!(render(Format::Dotenv, &vars).is_err());
    }

    #[test]
    fn json_is_the_credential_process_shape() {
        let vars = Vars {
            unset: vec!["AWS_PROFILE"],
            set: vec![
                ("AWS_ACCESS_KEY_ID", "ASIA1".into()),
                ("AWS_SECRET_ACCESS_KEY", HOSTILE.into()),
                ("AWS_SESSION_TOKEN", "tok".into()),
                ("AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05Z".into()),
                ("AWS_REGION", "eu-west-1".into()),
            ],
        };
        let v: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &vars).unwrap()).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["SecretAccessKey"], HOSTILE);
        assert_eq!(v["Expiration"], "2030-01-02T03:04:05Z");
        assert_eq!(v.as_object().unwrap().len(), 5);
    }

    // See: issue 18, defect 13. mfaexec now takes from STS and the cache only a key id of
    // upper-case letters and digits, and secrets without control characters, so the values
    // tests/shells.rs and tests/integration.rs sent through the fake STS before (a hostile key
    // id, tabs, newlines, CR, NEL) are rendered here, and read back by the real shells: the
    // renderer's hostile-string coverage stays whole.

    /// The earlier values of tests/shells.rs (`hostile`): `c` is the canary's absolute path,
    /// `PWNED` its relative one.
    fn sts_hostile(c: &str) -> [(&'static str, String); 3] {
        [
            (
                "AWS_ACCESS_KEY_ID",
                format!("-e ASIA'$(touch {c})'\"`touch {c}`\"\t;|&*?~!%{{a,b}}[x] #x \\"),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                format!(
                    "\n\t SECRETTEMP it's \"quoted\" $HOME ${{HOME}} ~ $(touch {c}) `touch PWNED` (touch {c}) $(touch PWNED)\n\
                     '; touch {c}; echo '\n\"; touch {c}; echo \"\n\
                     '\\'' \\' \\\\ \\n \\$HOME %PATH% $Env:HOME !! !$ ^ $((1+1)) <(touch {c}) >{c} \
                     \u{2019}\u{2018}\u{201A}\u{201B}; touch {c}; \u{2019} é ü ß 日本 🦀 \u{a0}\u{85}\u{2028}\r\n\
                     $'\\x41' *(e:'touch {c}':) =(touch {c}) {{touch,{c}}}\n"
                ),
            ),
            (
                "AWS_SESSION_TOKEN",
                format!(
                    "TOKENTEMP\u{2019}; New-Item {c}; \u{2019}$(New-Item {c})'; New-Item {c}; '\
                     \t~root * ? {{}} & | ; ! % \\\\'\\'' \\'; touch {c}; echo \\' \r \\\n\n"
                ),
            ),
        ]
    }

    /// The earlier values of tests/integration.rs (`use_carries_values_exactly`).
    fn use_hostile(c: &str) -> [(&'static str, String); 3] {
        [
            (
                "AWS_ACCESS_KEY_ID",
                format!("ASIA'\"$(touch {c})`touch {c}`\t;|&*? #x \\"),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                format!(
                    "\n\t SECRETTEMP it's \"q\" $HOME ${{HOME}} ~ $(touch {c})\n'; touch {c}; echo '\n\n\
                     \\' \\\\ \\n %PATH% \u{2019} é 日本 🦀 \r\n$'\\x41' {{touch,{c}}}\n\n"
                ),
            ),
            (
                "AWS_SESSION_TOKEN",
                format!("TOKENTEMP\\'; touch {c}; echo \\' \r \\\n\nset -gx X y\n"),
            ),
        ]
    }

    /// Evaluates `script` in `shell` (sourced from a file, and evaluated from a capture, as the
    /// documented lines do), in a UTF-8 and in the C locale, and checks each value comes back
    /// byte for byte and nothing ran.
    fn read_back(shell: &str, script: &str, values: &[(&'static str, String)], dir: &Path) {
        let file = dir.join("exports");
        std::fs::write(&file, script).unwrap();
        let ways: [&str; 2] = if shell == "fish" {
            ["source \"$ENV_FILE\"", "cat \"$ENV_FILE\" | source"]
        } else {
            [". \"$ENV_FILE\"", "eval \"$(cat \"$ENV_FILE\")\""]
        };
        let flags: &[&str] = match shell {
            "bash" => &["--norc", "--noprofile"],
            "zsh" => &["-f"],
            "fish" => &["--no-config"],
            _ => &[],
        };
        for locale in ["C.UTF-8", "C"] {
            for way in ways {
                let mut line = format!("{way}\n");
                for (i, (name, _)) in values.iter().enumerate() {
                    line.push_str(&format!("printf '%s' \"${name}\" > \"$OUT_DIR/{i}\"\n"));
                }
                let out = std::process::Command::new(shell)
                    .args(flags)
                    .arg("-c")
                    .arg(&line)
                    .env_clear()
                    .env("PATH", "/usr/bin:/bin")
                    .env("LC_ALL", locale)
                    .env("HOME", dir)
                    .env("ENV_FILE", &file)
                    .env("OUT_DIR", dir)
                    .current_dir(dir)
                    .output()
                    .unwrap_or_else(|e| panic!("{shell} is needed for this test: {e}"));
                let context = format!("{shell}, {way}, LC_ALL={locale}");
                assert!(
                    out.status.success(),
                    "{context}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    !dir.join("PWNED").exists() && !dir.join("canary").exists(),
                    "{context}: a value ran code"
                );
                for (i, (name, value)) in values.iter().enumerate() {
                    let got = std::fs::read(dir.join(i.to_string())).unwrap();
                    assert_eq!(String::from_utf8_lossy(&got), *value, "{context}: {name}");
                }
            }
        }
    }

    fn vars_of(values: &[(&'static str, String)]) -> Vars {
        Vars {
            unset: vec!["AWS_PROFILE"],
            set: values.to_vec(),
        }
    }

    #[test]
    fn hostile_values_come_back_exactly_from_every_shell() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("canary").display().to_string();
        for values in [sts_hostile(&c), use_hostile(&c)] {
            let posix = render(Format::Posix, &vars_of(&values)).unwrap();
            for shell in ["bash", "zsh", "dash", "/bin/sh"] {
                read_back(shell, &posix, &values, dir.path());
            }
            let fish = render(Format::Fish, &vars_of(&values)).unwrap();
            read_back("fish", &fish, &values, dir.path());
        }
    }

    #[test]
    fn hostile_values_in_json_and_powershell_are_exact() {
        let values = sts_hostile("/tmp/canary");
        let json = render(Format::Json, &vars_of(&values)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for (key, (_, value)) in ["AccessKeyId", "SecretAccessKey", "SessionToken"]
            .iter()
            .zip(&values)
        {
            assert_eq!(v[key].as_str(), Some(value.as_str()), "{key}");
        }
        let powershell = render(Format::Powershell, &vars_of(&values)).unwrap();
        for (name, value) in &values {
            let line = format!("$Env:{name} = {}\n", powershell_quote(value));
            assert!(powershell.contains(&line), "{name}");
            // Every single quote PowerShell knows is doubled: none ends the string early.
            let inner = &powershell_quote(value)[1..powershell_quote(value).len() - 1];
            let quotes =
                |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
            let mut chars = inner.chars().peekable();
            while let Some(ch) = chars.next() {
                if quotes(ch) {
                    assert_eq!(chars.next(), Some(ch), "{name}: a lone quote");
                }
            }
        }
    }

    /// The dotenv values tests/shells.rs sent through the fake STS: without a line break,
    /// anything is carried literally; a newline or a CR (which docker drops at a line's end)
    /// is refused, naming the variable.
    #[test]
    fn dotenv_carries_quotes_and_tabs_and_refuses_line_breaks_naming_the_variable() {
        let values = [
            ("AWS_ACCESS_KEY_ID", "ASIA'\"$HOME`x`=#;".to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "SECRETTEMP 'a' \"b\" $(c) ${d} \\e \t# f = g \u{2019}é ".to_owned(),
            ),
            ("AWS_SESSION_TOKEN", "TOKENTEMP=\\".to_owned()),
        ];
        let text = render(Format::Dotenv, &vars_of(&values)).unwrap();
        let want: String = values.iter().map(|(n, v)| format!("{n}={v}\n")).collect();
        assert_eq!(text, want);
        for (name, value) in [
            (
                "AWS_SECRET_ACCESS_KEY",
                sts_hostile("/tmp/canary")[1].1.clone(),
            ),
            ("AWS_SESSION_TOKEN", "TOKENTEMP\rX".to_owned()),
        ] {
            let vars = Vars {
                unset: vec![],
                set: vec![("AWS_ACCESS_KEY_ID", "ASIA1".into()), (name, value)],
            };
            let err = render(Format::Dotenv, &vars).unwrap_err();
            assert!(err.message().contains(name), "{}", err.message());
        }
    }
}
