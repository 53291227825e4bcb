//! The file store: every profile's keys in one file, `$XDG_DATA_HOME/mfaexec/keys` (else
//! `~/.local/share/mfaexec/keys`), encrypted with age to a scrypt passphrase. The directory is
//! 0700 and the file 0600, replaced atomically (src/atomic.rs), so a crash leaves the old file
//! or the new one. For servers, SSH sessions and WSL, where no Secret Service runs.
//!
//! The passphrase comes from `MFAEXEC_FILE_PASSPHRASE` (for scripts: weaker, as the variable is
//! visible to the process's own user and may end up in shell history), else from the terminal
//! (`/dev/tty`), asked at most once per run, twice when the file is created; never in a run that
//! may not ask (a `--server` renewal), where a needed passphrase is an error of class
//! `NeedsUser`.
//!
//! The decrypted table is a header line, then one line per profile: the profile, the id and the
//! secret, separated by tabs, each field escaped (`\\`, `\t`, `\n`, `\r`), so that no row can
//! break the table (issue 18, defect 3). The first format (`v1`) had no escapes; it is still
//! read.

use std::cell::OnceCell;
use std::path::PathBuf;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::{Backend, index};
use crate::creds::{Keys, Secret};
use crate::error::{Class, Error, Result};
use crate::sys::atomic;
use crate::sys::environ::Environment;
use crate::sys::tty::{Asking, Terminal};

const HEADER: &str = "mfaexec keys v2";
/// Fields without escapes: a tab or line break in one broke the whole table.
const HEADER_V1: &str = "mfaexec keys v1";
const FILE: &str = "keys";
/// The most kept of a typed passphrase.
const PASSPHRASE_CAP: usize = 1024;

pub struct FileStore {
    dir: PathBuf,
    from_env: Option<SecretString>,
    ask: Asking,
    passphrase: OnceCell<SecretString>,
}

/// The decrypted content: profile, id, secret.
type Table = Vec<(String, String, Secret)>;

impl FileStore {
    pub fn new(env: &Environment, ask: Asking) -> Result<FileStore> {
        Ok(FileStore {
            dir: index::dir(env)?,
            from_env: env
                .get("MFAEXEC_FILE_PASSPHRASE")
                .map(|p| SecretString::from(p.to_owned())),
            ask,
            passphrase: OnceCell::new(),
        })
    }

    fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    fn passphrase(&self, creating: bool) -> Result<&SecretString> {
        if let Some(p) = self.passphrase.get() {
            return Ok(p);
        }
        let phrase = match (&self.from_env, self.ask) {
            (Some(p), _) => p.clone(),
            (None, Asking::Terminal(terminal)) => ask(terminal, creating, &self.path())?,
            (None, Asking::Never) => {
                return Err(Error::new(format!(
                    "the passphrase of {} is needed, and this run may not ask for it on the terminal",
                    self.path().display()
                ))
                .hint("set MFAEXEC_FILE_PASSPHRASE (weaker: for scripts), or keep the keys in the Secret Service")
                .class(Class::NeedsUser {
                    what: "the passphrase of the key file",
                }));
            }
        };
        Ok(self.passphrase.get_or_init(|| phrase))
    }

    fn read(&self) -> Result<Option<Table>> {
        let path = self.path();
        // The directory's and the file's rules are the cache's and the AWS files' (issue 18,
        // defects 10 and 11): checked before the passphrase is asked.
        if !index::check_dir(&self.dir)? {
            return Ok(None);
        }
        let hint = format!(
            "restore {} from a backup, or move it away and add the keys again",
            path.display()
        );
        let rules = crate::sys::files::Capped {
            cap: index::FILE_CAP,
            noun: "the key file",
            hint: &hint,
        };
        let Some(bytes) = crate::sys::files::read_capped(&path, &rules)? else {
            return Ok(None);
        };
        let identity = age::scrypt::Identity::new(self.passphrase(false)?.clone());
        let plain = Zeroizing::new(age::decrypt(&identity, &bytes).map_err(|e| {
            use age::DecryptError as D;
            match e {
                D::NoMatchingKeys
                | D::KeyDecryptionFailed
                | D::DecryptionFailed
                | D::InvalidMac => Error::new(format!(
                    "cannot decrypt {}: wrong passphrase, or the file is damaged",
                    path.display()
                ))
                .hint("check MFAEXEC_FILE_PASSPHRASE or retype the passphrase"),
                D::Io(e) => Error::new(format!(
                    "cannot decrypt {}: the file is damaged ({e})",
                    path.display()
                ))
                .hint("restore it from a backup, or move it away and add the keys again"),
                other => Error::new(format!(
                    "{} is not a readable key file ({other})",
                    path.display()
                ))
                .hint("restore it from a backup, or move it away and add the keys again"),
            }
        })?);
        let text = std::str::from_utf8(&plain)
            .map_err(|_| Error::new(format!("{} holds no valid key table", path.display())))?;
        parse(text)
            .map(Some)
            .ok_or_else(|| Error::new(format!("{} holds no valid key table", path.display())))
    }

    fn write(&self, table: &Table) -> Result<()> {
        let dir = self.dir.clone();
        let text = render(table);
        let recipient = age::scrypt::Recipient::new(self.passphrase(true)?.clone());
        let sealed = age::encrypt(&recipient, text.as_bytes())
            .map_err(|e| Error::new(format!("cannot encrypt the key file: {e}")))?;
        atomic::replace(&dir, &self.path(), ".keys.tmp-", &sealed)
    }
}

/// The table as text: each field escaped, so that whatever a field holds, the text has exactly
/// one line per row and three fields on each.
fn render(table: &Table) -> Zeroizing<String> {
    let mut text = Zeroizing::new(format!("{HEADER}\n"));
    for (profile, id, secret) in table {
        // Piece by piece: a format! would leave a copy of the secret in freed memory.
        escape_into(&mut text, profile);
        text.push('\t');
        escape_into(&mut text, id);
        text.push('\t');
        escape_into(&mut text, secret.expose());
        text.push('\n');
    }
    text
}

fn escape_into(text: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            '\t' => text.push_str("\\t"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            c => text.push(c),
        }
    }
}

/// A field back from `escape_into`; `None` for an escape it never writes.
fn unescape(field: &str) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(field.len()));
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

fn parse(text: &str) -> Option<Table> {
    let mut lines = text.split('\n');
    let header = lines.next()?;
    let v1 = match header {
        HEADER => false,
        HEADER_V1 => true,
        _ => return None,
    };
    lines
        .filter(|line| !line.is_empty())
        .map(|line| {
            if v1 {
                // The id and the secret never hold a tab (`check_keys`), a profile name might:
                // split from the right, so such a row of an older version is still read.
                let mut parts = line.rsplitn(3, '\t');
                let secret = Secret::new(parts.next()?);
                let id = parts.next()?.to_owned();
                let profile = parts.next()?.to_owned();
                return Some((profile, id, secret));
            }
            let mut parts = line.split('\t');
            let row = (
                unescape(parts.next()?)?.to_string(),
                unescape(parts.next()?)?.to_string(),
                Secret::new(unescape(parts.next()?)?.as_str()),
            );
            parts.next().is_none().then_some(row)
        })
        .collect()
}

/// Asks on the terminal; twice when the file is new, so a typo cannot lock the keys away.
fn ask(terminal: Terminal, creating: bool, path: &std::path::Path) -> Result<SecretString> {
    let none = || {
        Error::new(format!(
            "the passphrase of {} is needed, but there is no terminal to ask on",
            path.display()
        ))
        .hint("run mfaexec from a terminal, or set MFAEXEC_FILE_PASSPHRASE (weaker: for scripts)")
    };
    if !crate::sys::tty::has_terminal() {
        return Err(none());
    }
    let prompt = if creating && !path.exists() {
        "New passphrase for the mfaexec key file: "
    } else {
        "Passphrase of the mfaexec key file: "
    };
    let first = terminal.read_secret(prompt, "the passphrase", PASSPHRASE_CAP)?;
    if first.is_empty() {
        return Err(Error::new("the passphrase is empty").hint("type a passphrase"));
    }
    if creating && !path.exists() {
        let again =
            terminal.read_secret("Same passphrase again: ", "the passphrase", PASSPHRASE_CAP)?;
        if *again != *first {
            return Err(Error::new("the two passphrases differ; nothing was stored"));
        }
    }
    Ok(SecretString::from(first.to_string()))
}

impl Backend for FileStore {
    fn get(&self, profile: &str) -> Result<Option<Keys>> {
        let Some(table) = self.read()? else {
            return Ok(None);
        };
        Ok(table
            .into_iter()
            .find(|(p, _, _)| p == profile)
            .map(|(_, id, secret)| Keys {
                access_key_id: id,
                secret_access_key: secret,
                session_token: None,
            }))
    }

    fn set(&self, profile: &str, keys: &Keys) -> Result<()> {
        index::prepare_dir(&self.dir)?;
        let mut table = self.read()?.unwrap_or_default();
        table.retain(|(p, _, _)| p != profile);
        table.push((
            profile.to_owned(),
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
        ));
        self.write(&table)
    }

    fn delete(&self, profile: &str) -> Result<bool> {
        let Some(mut table) = self.read()? else {
            return Ok(false);
        };
        let before = table.len();
        table.retain(|(p, _, _)| p != profile);
        if table.len() == before {
            return Ok(false);
        }
        self.write(&table)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(profile: &str, id: &str, secret: &str) -> (String, String, Secret) {
        (profile.to_owned(), id.to_owned(), Secret::new(secret))
    }

    fn same(a: &Table, b: &Table) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2.expose() == y.2.expose())
    }

    // See: issue 18, defect 3.
    #[test]
    fn no_row_can_break_the_table() {
        let hostile = [
            "",
            "a\tb",
            "a\nb",
            "a\r\nb",
            "\\",
            "\\t",
            "\\\t",
            "end\\",
            "\t\t\n\n",
            HEADER,
            "\nmfaexec keys v2\nx\ty\tz",
            "ünïcödé\u{7f}\u{0}",
        ];
        for a in hostile {
            for b in hostile {
                let table: Table = vec![
                    row("default", "AKIAIOSFODNN7EXAMPLE", "secret"),
                    row(a, b, a),
                    row(b, a, b),
                    row("last", "AKIAIOSFODNN7EXAMPLF", "s/e+c=r"),
                ];
                let text = render(&table);
                assert_eq!(text.lines().count(), 5, "{a:?} {b:?}");
                let back = parse(&text).unwrap_or_else(|| panic!("{a:?} {b:?}"));
                assert!(same(&back, &table), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn the_first_format_is_still_read_a_tab_in_a_name_included() {
        let text = "mfaexec keys v1\ndefault\tAKIA1\ts1\na\tb\tAKIA2\ts2\n";
        let table = parse(text).unwrap();
        assert!(same(
            &table,
            &vec![row("default", "AKIA1", "s1"), row("a\tb", "AKIA2", "s2")]
        ));
        assert!(parse("mfaexec keys v2\nbad\\x\tAKIA\ts\n").is_none());
        assert!(parse("mfaexec keys v2\ntwo\tfields\n").is_none());
        assert!(parse("not a table\n").is_none());
    }
}
