//! mfaexec's environment as a value: read once in `main`, passed down, never mutated, so the
//! child's environment is built explicitly and code stays testable.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// Variables no process mfaexec starts ever sees: the command (exec, `--server`), a helper
/// (mfa_process, credential_process) or a browser. The one list for every child.
/// `MFAEXEC_FILE_PASSPHRASE` opens the file store, which holds the long-term keys (issue 18).
pub const NEVER_PASSED: [&str; 1] = ["MFAEXEC_FILE_PASSPHRASE"];

/// Whether a child may see `name` (see `NEVER_PASSED`).
pub fn passed_to_children(name: &OsStr) -> bool {
    !NEVER_PASSED.iter().any(|n| OsStr::new(n) == name)
}

#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<OsString, OsString>,
}

impl Environment {
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Environment {
            vars: pairs
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                .collect(),
        }
    }

    /// An environment handed over as text (a client of the daemon sends its own).
    pub fn from_text_pairs(pairs: Vec<(String, String)>) -> Self {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                .collect(),
        }
    }

    /// The variables that are valid UTF-8, to hand over as text.
    pub fn text_pairs(&self) -> Vec<(&str, &str)> {
        self.vars
            .iter()
            .filter_map(|(k, v)| Some((k.to_str()?, v.to_str()?)))
            .collect()
    }

    /// A variable that is set, valid UTF-8 and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(OsStr::new(name))
            .and_then(|v| v.to_str())
            .filter(|v| !v.is_empty())
    }

    pub fn get_os(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The variables a child starts from: all of them but `NEVER_PASSED`.
    pub fn for_children(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.iter().filter(|(k, _)| passed_to_children(k))
    }

    /// The pairs aws-config's profile parser reads (`HOME`, `AWS_CONFIG_FILE`, ...).
    pub fn to_aws_env(&self) -> aws_types::os_shim_internal::Env {
        let pairs: Vec<(&str, &str)> = self
            .vars
            .iter()
            .filter_map(|(k, v)| Some((k.to_str()?, v.to_str()?)))
            .collect();
        aws_types::os_shim_internal::Env::from_slice(&pairs)
    }
}

/// `$VAR/mfaexec` when VAR (an XDG base directory) is an absolute path, else
/// `$HOME/FALLBACK/mfaexec`; `what` names the use in the error when neither is set.
pub fn xdg_dir(
    env: &Environment,
    var: &str,
    fallback: &str,
    what: &str,
) -> crate::error::Result<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    let base = match env.get(var) {
        Some(x) if Path::new(x).is_absolute() => PathBuf::from(x),
        _ => match env.get("HOME") {
            Some(home) => Path::new(home).join(fallback),
            None => {
                return Err(crate::error::Error::new(format!(
                    "neither {var} nor HOME is set, so there is no place for {what}"
                )));
            }
        },
    };
    Ok(base.join("mfaexec"))
}
