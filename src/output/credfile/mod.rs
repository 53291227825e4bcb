//! Writing a session into the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
//! `~/.aws/credentials`) for tools that read nothing else, the way aws-mfa does.
//!
//! The file is the user's, often edited by hand: every byte outside the target section stays as
//! it was (other sections, comments, blank lines, order, key spelling, CRLF line ends, a missing
//! final newline). So this is byte-level editing of lines, not a parse-and-serialise round trip;
//! aws-config's parser is only for reading profiles. Lines are classified exactly as aws-config
//! classifies them (`[` in column 0 starts a section, `#`/`;` in column 0 a comment, leading
//! whitespace a continuation), so the section found here is the one the SDKs read.
//!
//! The write is atomic: an exclusively created temporary file in the same directory, written,
//! made 0600, synced, renamed over the file, and the directory synced; a crash leaves the old
//! file or the new one. A credentials file that is a symlink (dotfiles) is resolved once and its
//! target replaced, so the link stays a link; nothing is ever opened through a symlink after
//! that. Concurrent writers take an `flock` on a sidecar lock file held across
//! read → modify → rename, so two writes never lose each other's section; the lock file is
//! removed by its holder (and re-checked by waiters), so none is left behind in `~/.aws`.

use std::fs::{self, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::OFlag;

use crate::creds::{Keys, Secret, Session};
use crate::error::{Error, Result};
use crate::sys::atomic;
use crate::sys::environ::Environment;
use crate::sys::time::rfc3339;

mod ini;
mod lock;

pub(crate) use ini::with_section;
use ini::*;
use lock::FileLock;

/// The key holding the expiry. Not an `aws_` key (the SDKs ignore unknown keys, but that prefix
/// is AWS's to give a meaning); `x_security_token_expires` in RFC 3339 is what saml2aws and
/// gimme-aws-creds write and what prompt tools such as Starship read.
pub const EXPIRY_KEY: &str = "x_security_token_expires";

/// Keys a section may hold and still be a session that mfaexec (or aws-mfa, saml2aws...) wrote:
/// only these are replaced; any other key is the user's and makes the section off limits.
/// `region` is written with the session (the AWS CLI and the SDKs read it from a credentials
/// section too), so it counts as one of them.
const SESSION_KEYS: [&str; 11] = [
    "region",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "x_security_token_expires",
    "x_principal_arn",
    "expiration",
    "aws_credential_expiration",
    "assumed_role",
    "assumed_role_arn",
];

/// The credentials file: as configured, and the file actually replaced.
#[derive(Debug, Clone)]
pub struct CredFile {
    /// The path as configured (shown to the user).
    pub path: PathBuf,
    /// The file replaced: `path`, or its symlink's target.
    pub real: PathBuf,
}

impl CredFile {
    /// `AWS_SHARED_CREDENTIALS_FILE` (with `~/` expanded, as aws-config does), else
    /// `~/.aws/credentials`; a symlink is resolved to its target.
    pub fn locate(env: &Environment) -> Result<CredFile> {
        CredFile::locate_as(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
    }

    /// The config file: `AWS_CONFIG_FILE`, else `~/.aws/config`, located the same way.
    pub fn locate_config(env: &Environment) -> Result<CredFile> {
        CredFile::locate_as(env, "AWS_CONFIG_FILE", ".aws/config")
    }

    fn locate_as(env: &Environment, var: &str, default: &str) -> Result<CredFile> {
        let home = env.get("HOME");
        let path = match env.get(var) {
            Some(p) => match (p.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => Path::new(home).join(rest),
                _ => PathBuf::from(p),
            },
            None => match home {
                Some(home) => Path::new(home).join(default),
                None => {
                    return Err(Error::new(format!(
                        "neither {var} nor HOME is set, so there is no file to write"
                    )));
                }
            },
        };
        let real = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(&path).map_err(|e| {
                Error::new(format!(
                    "{} is a symlink, and its target cannot be reached: {e}",
                    path.display()
                ))
                .hint("create the file it points to (even empty), or remove the symlink")
            })?,
            _ => path.clone(),
        };
        Ok(CredFile { path, real })
    }

    /// `PATH`, or `PATH (a symlink to REAL)`.
    pub fn describe(&self) -> String {
        if self.path == self.real {
            self.path.display().to_string()
        } else {
            format!(
                "{} (a symlink to {})",
                self.path.display(),
                self.real.display()
            )
        }
    }

    fn dir(&self) -> PathBuf {
        match self.real.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn file_name(&self) -> String {
        self.real.file_name().map_or_else(
            || "credentials".into(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The current bytes; `None` when there is no file yet. Never through a symlink (the one
    /// allowed was resolved by `locate`), and only a regular file of this user.
    pub fn read(&self) -> Result<Option<Vec<u8>>> {
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_NONBLOCK.bits())
            .open(&self.real)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::new(format!(
                    "cannot read {}: {e}",
                    self.real.display()
                )));
            }
        };
        let meta = file
            .metadata()
            .map_err(|e| Error::new(format!("cannot read {}: {e}", self.real.display())))?;
        if !meta.file_type().is_file() {
            return Err(Error::new(format!(
                "{} is not a regular file",
                self.real.display()
            )));
        }
        if meta.uid() != nix::unistd::getuid().as_raw() {
            return Err(Error::new(format!(
                "{} belongs to another user (uid {}); mfaexec does not replace it",
                self.real.display(),
                meta.uid()
            ))
            .hint("point AWS_SHARED_CREDENTIALS_FILE at a file of yours"));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", self.real.display())))?;
        Ok(Some(bytes))
    }

    /// Checks that section `name` of the file as it is now may be replaced (no lock: to refuse
    /// before any MFA code is spent; `write_session` checks again under the lock).
    pub fn check(&self, name: &str) -> Result<()> {
        match self.read()? {
            Some(bytes) => check_section(&bytes, name, &self.path),
            None => Ok(()),
        }
    }

    /// Writes the session into section `name`, replacing it in place or appending it; every
    /// other byte stays.
    pub fn write_session(
        &self,
        name: &str,
        session: &Session,
        region: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        let entries = session_entries(session, region)?;
        let dir = self.dir();
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        }
        let _lock = FileLock::take(
            &dir.join(format!(".{}.mfaexec-lock", self.file_name())),
            timeout,
        )?;
        let current = self.read()?.unwrap_or_default();
        check_section(&current, name, &self.path)?;
        let updated = with_section(&current, name, &entries);
        self.replace(&updated)
    }

    /// Whether section `name` holds access key `key_id` and a secret, as the SDKs read it.
    pub fn holds_key(&self, name: &str, key_id: &str) -> Result<bool> {
        Ok(self
            .read()?
            .is_some_and(|bytes| section_holds_key(&bytes, name, key_id)))
    }

    /// Replaces the values of `aws_access_key_id` (`from`) and `aws_secret_access_key` in
    /// section `name` with `to`'s, in place: every other byte stays. Under the lock, and only
    /// while the section still holds `from`: a file changed meanwhile is left alone.
    pub fn replace_keys(&self, name: &str, from: &str, to: &Keys, timeout: Duration) -> Result<()> {
        for value in [to.access_key_id.as_str(), to.secret_access_key.expose()] {
            if !fits_ini(value) {
                return Err(Error::new(format!(
                    "key {} cannot be written to an INI file: it holds a space or line break, or starts with # or ;",
                    to.access_key_id
                )));
            }
        }
        let _lock = self.locked(timeout)?;
        let current = self.read()?.unwrap_or_default();
        if !section_holds_key(&current, name, from) {
            return Err(Error::new(format!(
                "section [{name}] of {} no longer holds key {from}: the file was changed meanwhile",
                self.path.display()
            )));
        }
        self.replace(&with_keys(&current, name, to))
    }

    /// Checks that the file can be replaced (a file can be created in its directory, made if
    /// missing), before any MFA code is spent on a session that could not be written.
    pub fn check_writable(&self) -> Result<()> {
        let dir = self.dir();
        let cannot = |e: std::io::Error| {
            Error::new(format!(
                "cannot write {}: cannot create a file in {}: {e}",
                self.describe(),
                dir.display()
            ))
            .hint("check the directory's permissions, or point AWS_SHARED_CREDENTIALS_FILE at a file you can write")
        };
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(cannot)?;
        }
        atomic::probe(&dir).map_err(cannot)
    }

    /// Atomic replacement (src/atomic.rs), 0600 whatever the file was before.
    fn replace(&self, bytes: &[u8]) -> Result<()> {
        let prefix = format!(".{}.mfaexec-tmp-", self.file_name());
        atomic::replace(&self.dir(), &self.real, &prefix, bytes)
    }
}

impl CredFile {
    fn locked(&self, timeout: Duration) -> Result<FileLock> {
        let dir = self.dir();
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        }
        FileLock::take(
            &dir.join(format!(".{}.mfaexec-lock", self.file_name())),
            timeout,
        )
    }

    /// The access key id and secret of section `name` (its last values, as the SDKs merge
    /// occurrences); `None` when it has neither.
    pub fn keys_of(&self, name: &str) -> Result<Option<(String, Secret)>> {
        let Some(bytes) = self.read()? else {
            return Ok(None);
        };
        let bytes = zeroize::Zeroizing::new(bytes);
        let props = section_properties(&bytes, name);
        let last = |key: &str| {
            props
                .iter()
                .rev()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        Ok(
            match (last("aws_access_key_id"), last("aws_secret_access_key")) {
                (Some(id), Some(secret)) => Some((id, Secret::new(secret))),
                _ => None,
            },
        )
    }

    /// Refuses section `name` when it holds more than one key (two sections of that name, or a
    /// key line repeated, with different values), naming the lines: `remove_keys` deletes
    /// every key line of the section, and only one key can be stored for it.
    pub fn check_one_key(&self, name: &str) -> Result<()> {
        let Some(bytes) = self.read()? else {
            return Ok(());
        };
        let bytes = zeroize::Zeroizing::new(bytes);
        let Some((key, numbers)) = conflicting_keys(&bytes, name) else {
            return Ok(());
        };
        let numbers: Vec<String> = numbers.iter().map(usize::to_string).collect();
        let listed = match numbers.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => numbers.join(""),
        };
        Err(Error::new(format!(
            "profile `{name}`: {} holds different keys for it: {key} on lines {listed}; nothing was imported",
            self.describe()
        ))
        .hint(format!(
            "keep one key in the [{name}] section(s), delete the other lines, then import again"
        )))
    }

    /// Deletes the `aws_access_key_id` and `aws_secret_access_key` lines of section `name`,
    /// keeping every other byte, and the section itself when nothing else (no property, no
    /// comment) is left in it. Under the file's lock, and only while every key line of the
    /// section still holds `keys` (the file may have changed since it was read). `false`: it
    /// no longer did, and nothing was changed.
    pub fn remove_keys(&self, name: &str, keys: &Keys, timeout: Duration) -> Result<bool> {
        let _lock = self.locked(timeout)?;
        let Some(current) = self.read()? else {
            return Ok(false);
        };
        let current = zeroize::Zeroizing::new(current);
        // Every key line deleted must hold the key that was stored: a line with another value
        // (a second section of the same name) would be lost (issue 18, defect 4).
        let found = zeroize::Zeroizing::new(
            key_lines(&current, name)
                .into_iter()
                .map(|(_, k, v)| (k, v))
                .collect::<Vec<_>>(),
        );
        let stored = |(k, v): &(String, String)| match k.as_str() {
            "aws_access_key_id" => v == &keys.access_key_id,
            _ => v == keys.secret_access_key.expose(),
        };
        if !found.iter().any(|(k, _)| k == "aws_access_key_id") || !found.iter().all(stored) {
            return Ok(false);
        }
        let updated = zeroize::Zeroizing::new(without_keys(&current, name));
        self.replace(&updated)?;
        Ok(true)
    }

    /// Whether the file has a section `name` (`profile NAME` in the config file), read now.
    pub fn has_section(&self, name: &str) -> Result<bool> {
        let Some(bytes) = self.read()? else {
            return Ok(false);
        };
        let all = lines(&bytes);
        Ok(!occurrences(&bytes, &all, name).is_empty())
    }

    /// Whether section `name` has any property, read now.
    pub fn has_properties(&self, name: &str) -> Result<bool> {
        Ok(self
            .read()?
            .is_some_and(|bytes| !section_properties(&bytes, name).is_empty()))
    }

    /// Appends an empty section `header` (`[profile NAME]`, `[default]`) at the end, keeping
    /// every byte before it; nothing when a section of that name is there already.
    pub fn add_section(&self, header: &str, timeout: Duration) -> Result<()> {
        let _lock = self.locked(timeout)?;
        let current = self.read()?.unwrap_or_default();
        let all = lines(&current);
        let exists = all.iter().any(|l| {
            let content = &current[l.start..l.end];
            kind(content) == Kind::Header
                && header_name(content).as_deref() == header_name(header.as_bytes()).as_deref()
        });
        if exists {
            return Ok(());
        }
        let eol: &[u8] = all
            .iter()
            .find_map(|l| (l.next > l.end).then(|| &current[l.end..l.next]))
            .unwrap_or(b"\n");
        let mut out = current.clone();
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(eol);
        self.replace(&out)
    }
}

/// A section name the SDKs accept in a credentials file: aws-config's identifier rule.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--to: `{name}` is not a profile name the AWS SDKs accept"
        ))
        .hint("use letters, digits and _ - / . % @ : + (no spaces or brackets)"))
    }
}

/// The lines written, in order. Values are checked to survive the INI format: a space, line
/// break, or a leading `#`/`;` would be cut or misread by the parsers.
fn session_entries(session: &Session, region: Option<&str>) -> Result<Vec<(&'static str, String)>> {
    let keys = &session.keys;
    let token = keys.session_token.as_ref().ok_or_else(|| {
        Error::new("the session has no session token; mfaexec writes only temporary credentials")
    })?;
    let mut entries = vec![
        ("aws_access_key_id", keys.access_key_id.clone()),
        (
            "aws_secret_access_key",
            keys.secret_access_key.expose().to_owned(),
        ),
        ("aws_session_token", token.expose().to_owned()),
        (EXPIRY_KEY, rfc3339(session.expiration)),
    ];
    entries.extend(region.map(|r| ("region", r.to_owned())));
    for (key, value) in &entries {
        if !fits_ini(value) {
            return Err(Error::new(format!(
                "the session's {key} cannot be written to an INI file: it holds a space or line break, or starts with # or ;"
            ))
            .hint("use `mfaexec env --format json` or credential_process instead"));
        }
    }
    Ok(entries)
}

/// A value the INI parsers read back as written: not empty, no space or line break, and no
/// leading `#`/`;`.
fn fits_ini(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(['#', ';'])
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------------------------------------
// Byte-level INI editing
// ---------------------------------------------------------------------------------------------

/// Refuses a section holding long-term keys (`AKIA…`, or keys with no session token) or
/// anything that is not part of a session.
fn check_section(bytes: &[u8], name: &str, path: &Path) -> Result<()> {
    let props = section_properties(bytes, name);
    let has = |key: &str| props.iter().any(|(k, v)| k == key && !v.is_empty());
    let hint = "write to another section with --to NAME; mfaexec only replaces a section holding a session";
    let long_term = props
        .iter()
        .any(|(k, v)| k == "aws_access_key_id" && v.starts_with("AKIA"));
    if long_term {
        return Err(Error::new(format!(
            "section [{name}] of {} holds long-term keys (an AKIA… access key id), which mfaexec never overwrites",
            path.display()
        ))
        .hint(hint));
    }
    if (has("aws_access_key_id") || has("aws_secret_access_key")) && !has("aws_session_token") {
        return Err(Error::new(format!(
            "section [{name}] of {} holds keys without a session token, so long-term keys, which mfaexec never overwrites",
            path.display()
        ))
        .hint(hint));
    }
    if let Some((key, _)) = props
        .iter()
        .find(|(k, _)| !SESSION_KEYS.contains(&k.as_str()))
    {
        return Err(Error::new(format!(
            "section [{name}] of {} holds `{key}`, which is not part of a session and would be lost",
            path.display()
        ))
        .hint(hint));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_keys_drops_only_the_key_lines_of_every_occurrence() {
        let file = "[a]\naws_access_key_id = A1\n# kept\naws_secret_access_key = S1\nregion = x\n\n\
                    [b]\naws_access_key_id=B1\naws_secret_access_key=S2\n\n[a]\nAWS_SECRET_ACCESS_KEY = S3\n";
        assert_eq!(
            String::from_utf8(without_keys(file.as_bytes(), "a")).unwrap(),
            "[a]\n# kept\nregion = x\n\n[b]\naws_access_key_id=B1\naws_secret_access_key=S2\n\n"
        );
        // A section left empty goes, with what lies between its lines; what follows stays.
        assert_eq!(
            String::from_utf8(without_keys(file.as_bytes(), "b")).unwrap(),
            "[a]\naws_access_key_id = A1\n# kept\naws_secret_access_key = S1\nregion = x\n\n\n[a]\nAWS_SECRET_ACCESS_KEY = S3\n"
        );
        // A comment in the section keeps it (and itself).
        assert_eq!(
            String::from_utf8(without_keys(
                b"[cm]\n# laptop key, expires 2027 -- ask ops\naws_access_key_id = C\naws_secret_access_key = S\n[d]\n",
                "cm"
            ))
            .unwrap(),
            "[cm]\n# laptop key, expires 2027 -- ask ops\n[d]\n"
        );
        // No final newline, CRLF: untouched elsewhere.
        assert_eq!(
            without_keys(b"[c]\r\nx = 1\r\naws_access_key_id = C", "c"),
            b"[c]\r\nx = 1\r\n"
        );
    }

    fn entries() -> Vec<(&'static str, String)> {
        vec![
            ("aws_access_key_id", "ASIANEW".into()),
            ("aws_secret_access_key", "secret".into()),
            ("aws_session_token", "token".into()),
            (EXPIRY_KEY, "2030-01-02T03:04:05Z".into()),
        ]
    }

    const BLOCK: &str = "[s]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret\naws_session_token = token\nx_security_token_expires = 2030-01-02T03:04:05Z";

    fn edit(text: &str) -> String {
        String::from_utf8(with_section(text.as_bytes(), "s", &entries())).unwrap()
    }

    #[test]
    fn appends_to_an_empty_or_unterminated_file() {
        assert_eq!(edit(""), format!("{BLOCK}\n"));
        assert_eq!(edit("[a]\nk = v"), format!("[a]\nk = v\n\n{BLOCK}\n"));
        assert_eq!(edit("[a]\nk = v\n\n"), format!("[a]\nk = v\n\n{BLOCK}\n"));
        assert_eq!(
            edit("[a]\r\nk = v\r\n"),
            format!("[a]\r\nk = v\r\n\r\n{}\r\n", BLOCK.replace('\n', "\r\n"))
        );
    }

    #[test]
    fn replaces_in_place_keeping_what_follows() {
        let text = "# top\n[a]\nk=v\n\n[ s ]  # mine\naws_access_key_id = ASIAOLD\n  cont\n; c\naws_session_token = t\n\n# about b\n[b]\nx = 1";
        assert_eq!(
            edit(text),
            format!("# top\n[a]\nk=v\n\n{BLOCK}\n\n# about b\n[b]\nx = 1")
        );
        // At the end, without a final newline: still without one.
        assert_eq!(
            edit("[a]\nk = v\n[s]\naws_session_token = t"),
            format!("[a]\nk = v\n{BLOCK}")
        );
        // A duplicate later section is removed (the SDKs would merge it in).
        assert_eq!(
            edit("[s]\na=1\n[b]\nx=1\n[s]\nb=2\n# end\n"),
            format!("{BLOCK}\n[b]\nx=1\n# end\n")
        );
    }

    #[test]
    fn headers_are_found_as_aws_config_finds_them() {
        // Indented: a continuation line, not a header. Prefixed: not this profile.
        let text = "[a]\nk = v\n  [s]\n[profile s]\n";
        assert_eq!(edit(text), format!("{text}\n{BLOCK}\n"));
        assert_eq!(header_name(b"[ s ] ; note"), Some("s".into()));
        assert_eq!(header_name(b"[s"), None);
        assert_eq!(
            property(b"Aws_Session_Token = a#b ; c"),
            Some(("aws_session_token".into(), "a#b".into()))
        );
    }

    #[test]
    fn refuses_long_term_keys_and_foreign_settings() {
        let p = Path::new("f");
        let ok = "[s]\naws_access_key_id = ASIA1\naws_secret_access_key = x\naws_session_token = t\nexpiration = 2020-01-01 00:00:00\n";
        assert!(check_section(ok.as_bytes(), "s", p).is_ok());
        assert!(check_section(b"[t]\naws_access_key_id = AKIA1\n", "s", p).is_ok());
        for bad in [
            "[s]\naws_access_key_id = AKIA1\naws_secret_access_key = x\naws_session_token = t\n",
            "[s]\naws_access_key_id = ASIA1\naws_secret_access_key = x\n",
            "[s]\nrole_arn = arn:aws:iam::1:role/x\n",
            "[s]\nAWS_ACCESS_KEY_ID=AKIA1\n",
        ] {
            assert!(check_section(bad.as_bytes(), "s", p).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_values_are_replaced_in_place_and_nothing_else() {
        let keys = Keys {
            access_key_id: "AKIANEW".into(),
            secret_access_key: crate::creds::Secret::new("new/secret+x"),
            session_token: None,
        };
        let text = "# c\r\n[a]\r\naws_access_key_id = AKIAOLD\r\n\r\n[s]  ; me\r\nAWS_Access_Key_Id=AKIAOLD\r\n  cont = x\r\naws_secret_access_key =   old  # since 2025\r\nregion = x\r\n[s]\r\naws_access_key_id\t=\tAKIAOLD";
        let out = String::from_utf8(with_keys(text.as_bytes(), "s", &keys)).unwrap();
        assert_eq!(
            out,
            "# c\r\n[a]\r\naws_access_key_id = AKIAOLD\r\n\r\n[s]  ; me\r\nAWS_Access_Key_Id=AKIANEW\r\n  cont = x\r\naws_secret_access_key =   new/secret+x  # since 2025\r\nregion = x\r\n[s]\r\naws_access_key_id\t=\tAKIANEW"
        );
        assert!(section_holds_key(out.as_bytes(), "s", "AKIANEW"));
        assert!(!section_holds_key(out.as_bytes(), "s", "AKIAOLD"));
        // The id alone, without a secret, is not a key mfaexec can replace.
        assert!(!section_holds_key(out.as_bytes(), "a", "AKIAOLD"));
        assert_eq!(value_span(b"k = v#x"), Some((4, 7)));
        assert_eq!(value_span(b"k ="), Some((3, 3)));
    }

    #[test]
    fn names_follow_the_sdk_identifier_rule() {
        assert!(check_name("prod-mfaexec").is_ok());
        assert!(check_name("a.b@c/d:e+f%g_h").is_ok());
        for bad in ["", "a b", "a]", "[a", "a#b", "a\n"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
