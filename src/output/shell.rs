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
}
