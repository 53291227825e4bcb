//! Reading the AWS config and credentials files: the checks aws-config does not make (a regular
//! file, a size cap, the path in every OS error), then aws-config's own parser, once per run.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::Fs;

use crate::error::{Error, Result, cause_chain};
use crate::sys::environ::Environment;

use super::plan::*;

/// The most read of an AWS config or credentials file: real ones are a few KiB, and even a
/// thousand profiles take a few hundred.
pub const FILE_CAP: u64 = 4 * 1024 * 1024;

/// Reads and parses the config and credentials files (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`), with `selected`
/// as the profile whose `[services]` section decides the endpoint.
///
/// mfaexec reads the files itself, with the checks aws-config does not make (a regular file
/// through symlinks, at most FILE_CAP, an OS error named with the path), and hands aws-config
/// only their contents to parse. They are read and parsed once per run (see `Files`).
pub fn load(env: &Environment, selected: &str) -> Result<Arc<ProfileSet>> {
    Files::for_run(env)?.parsed_for(env, selected)
}

/// The AWS files of this run, read once and parsed once: `list` with a thousand profiles, or a
/// long chain with its cached prefixes, plans every profile from the same parse (a re-read and
/// re-parse per profile made `list` take seconds). A profile is resolved from a parse made with
/// it selected only when its own endpoint settings (`services`, `endpoint_url`,
/// `ignore_configured_endpoint_urls`, which aws-config reads from the selected profile) differ
/// from those of the first parse's selected profile; such parses are kept too.
pub(super) struct Files {
    paths: Vec<std::path::PathBuf>,
    /// (kind, path) in the order aws-config merges them; the contents are in `contents`.
    sources: Vec<(
        aws_runtime::env_config::file::EnvConfigFileKind,
        std::path::PathBuf,
    )>,
    contents: std::collections::HashMap<std::ffi::OsString, Vec<u8>>,
    parsed: Mutex<Vec<Arc<ProfileSet>>>,
}

/// The keys by which a selected profile changes the STS endpoint (see `endpoint`).
const ENDPOINT_KEYS: [&str; 3] = [
    "services",
    "endpoint_url",
    "ignore_configured_endpoint_urls",
];

static RUN_FILES: Mutex<Option<Arc<Files>>> = Mutex::new(None);

impl Files {
    pub(super) fn for_run(env: &Environment) -> Result<Arc<Files>> {
        use aws_runtime::env_config::file::EnvConfigFileKind as Kind;
        let locations = [
            (Kind::Config, "AWS_CONFIG_FILE", "~/.aws/config"),
            (
                Kind::Credentials,
                "AWS_SHARED_CREDENTIALS_FILE",
                "~/.aws/credentials",
            ),
        ];
        let paths: Vec<_> = locations
            .iter()
            .map(|(_, variable, default)| aws_file_path(env, variable, default))
            .collect();
        let mut memo = RUN_FILES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(files) = memo.as_ref().filter(|f| f.paths == paths) {
            return Ok(Arc::clone(files));
        }
        let mut sources = Vec::new();
        let mut contents = std::collections::HashMap::new();
        for ((kind, variable, _), path) in locations.iter().zip(&paths) {
            if let Some(bytes) = read_aws_file(path, variable)? {
                contents.insert(path.clone().into_os_string(), bytes);
                sources.push((*kind, path.clone()));
            }
        }
        let files = Arc::new(Files {
            paths,
            sources,
            contents,
            parsed: Mutex::new(Vec::new()),
        });
        *memo = Some(Arc::clone(&files));
        Ok(files)
    }

    /// A parse whose selected profile decides the endpoint as `selected` would.
    pub(super) fn parsed_for(&self, env: &Environment, selected: &str) -> Result<Arc<ProfileSet>> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        let settings = |set: &ProfileSet, name: &str| {
            let profile = set.get_profile(name);
            ENDPOINT_KEYS.map(|k| profile.and_then(|p| p.get(k)).map(str::to_owned))
        };
        if let Some(first) = parsed.first() {
            let wanted = settings(first, selected);
            if let Some(set) = parsed.iter().find(|set| {
                set.selected_profile() == selected
                    || settings(set, set.selected_profile()) == wanted
            }) {
                return Ok(Arc::clone(set));
            }
        }
        let set = Arc::new(self.parse(env, selected)?);
        parsed.push(Arc::clone(&set));
        Ok(set)
    }

    /// The plan of one profile from a parse of only the sections it can read, when no whole
    /// parse was needed yet: a cache hit in a config of a thousand profiles then costs what it
    /// costs with five. The other sections are blanked line by line (so line numbers in errors
    /// stay right). `None` on any error: the whole parse then gives the error with all its
    /// context (closest names, loops through other profiles).
    pub(super) fn quick_plan(&self, env: &Environment, req: &Request<'_>) -> Option<Plan> {
        if !self
            .parsed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            let set = self.parsed_for(env, req.profile).ok()?;
            check_chain_length(&set, req.profile).ok()?;
            return resolve(&set, req, env).ok();
        }
        let contents = self.relevant_to(req.profile);
        let set = self.parse_contents(env, req.profile, contents).ok()?;
        check_chain_length(&set, req.profile).ok()?;
        resolve(&set, req, env).ok()
    }

    /// The files with only the sections `profile`'s plan can read: its own, those of its
    /// source_profile chain and `default`, in both files, and in the config file every section
    /// that is not a `[profile NAME]` (services, sso-session, and invalid ones the SDK warns
    /// about). Every other line is left empty.
    fn relevant_to(&self, profile: &str) -> std::collections::HashMap<std::ffi::OsString, Vec<u8>> {
        // One pass over each file makes an index of its sections; the profiles needed are
        // found in the index, and the files rebuilt from it: a hit costs one look at each line
        // however long the source_profile chain is (issue 18: four passes, and a String per
        // section header, made a thousand profiles cost a hit 7 million instructions).
        let files: Vec<(&std::path::PathBuf, &str, Vec<Section<'_>>)> = self
            .sources
            .iter()
            .map(|(kind, path)| {
                let bytes = &self.contents[path.as_os_str()];
                let text = std::str::from_utf8(bytes).unwrap_or("");
                (path, text, sections(text, *kind))
            })
            .collect();
        let mut needed: Vec<&str> = vec![profile, "default"];
        let mut i = 0;
        while i < needed.len() && needed.len() <= MAX_CHAIN + 3 {
            let name = needed[i];
            for section in files.iter().flat_map(|(_, _, sections)| sections) {
                if section.profile == Some(name) {
                    for source in &section.sources {
                        if !needed.contains(source) {
                            needed.push(source);
                        }
                    }
                }
            }
            i += 1;
        }
        files
            .iter()
            .map(|(path, text, sections)| {
                let mut out = String::with_capacity(text.len());
                for section in sections {
                    let part = &text[section.start..section.end];
                    if section.profile.is_none_or(|name| needed.contains(&name)) {
                        out.push_str(part);
                    } else {
                        // Blanked line by line: line numbers in errors stay right.
                        let lines = part.bytes().filter(|&b| b == b'\n').count();
                        out.extend(std::iter::repeat_n('\n', lines));
                    }
                }
                ((*path).clone().into_os_string(), out.into_bytes())
            })
            .collect()
    }

    fn parse(&self, env: &Environment, selected: &str) -> Result<ProfileSet> {
        self.parse_contents(env, selected, self.contents.clone())
    }

    fn parse_contents(
        &self,
        env: &Environment,
        selected: &str,
        contents: std::collections::HashMap<std::ffi::OsString, Vec<u8>>,
    ) -> Result<ProfileSet> {
        use aws_runtime::env_config::file::EnvConfigFileKind as Kind;
        let mut builder = EnvConfigFiles::builder();
        for (kind, path) in &self.sources {
            builder = builder.with_file(*kind, path);
        }
        if self.sources.is_empty() {
            builder = builder.with_contents(Kind::Config, "");
        }
        let fs = Fs::from_raw_map(contents);
        let (aws_env, files) = (env.to_aws_env(), builder.build());
        let future =
            aws_config::profile::load(&fs, &aws_env, &files, Some(Cow::Owned(selected.to_owned())));
        block_on(future).map_err(|e| {
            Error::new(format!("cannot read the AWS config files: {}", cause_chain(&e)))
                .hint("fix the file named above; `aws configure list-profiles` shows what the AWS CLI makes of it")
        })
    }
}

/// A stretch of an AWS file from one section header to the next (or the lines before the
/// first header): the profile its header names (`None`: a config section that names no
/// profile, or no header, which is always kept), and the values of its `source_profile` lines.
struct Section<'a> {
    profile: Option<&'a str>,
    start: usize,
    end: usize,
    sources: Vec<&'a str>,
}

/// The sections of `text`, in order, covering all of it.
fn sections(
    text: &str,
    kind: aws_runtime::env_config::file::EnvConfigFileKind,
) -> Vec<Section<'_>> {
    let mut out = Vec::new();
    let mut current = Section {
        profile: None,
        start: 0,
        end: 0,
        sources: Vec::new(),
    };
    let mut pos = 0;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = &text[pos..end];
        match line.as_bytes()[0] {
            b'[' => {
                current.end = pos;
                out.push(std::mem::replace(
                    &mut current,
                    Section {
                        profile: section_profile(line, kind),
                        start: pos,
                        end: 0,
                        sources: Vec::new(),
                    },
                ));
            }
            // Only a line that can be `source_profile = ...` is looked into.
            b's' | b'S' | b' ' | b'\t' if current.profile.is_some() => {
                if let Some((key, value)) = line.split_once('=')
                    && key.trim().eq_ignore_ascii_case("source_profile")
                {
                    current.sources.push(value.trim());
                }
            }
            _ => {}
        }
        pos = end;
    }
    current.end = text.len();
    out.push(current);
    out
}

/// The profile a section header line names, as aws-config reads it: `[profile NAME]` or
/// `[default]` in the config file, `[NAME]` in the credentials file; None for any other
/// section of the config file (`[services x]`, `[sso-session y]`, an unprefixed `[name]`).
fn section_profile(
    line: &str,
    kind: aws_runtime::env_config::file::EnvConfigFileKind,
) -> Option<&str> {
    use aws_runtime::env_config::file::EnvConfigFileKind as Kind;
    let inner = line.trim_end().strip_prefix('[')?;
    let inner = inner.split(']').next()?.trim();
    match kind {
        Kind::Credentials => Some(inner),
        Kind::Config => {
            let mut words = inner.splitn(2, char::is_whitespace);
            match (words.next(), words.next()) {
                (Some("profile"), Some(name)) => Some(name.trim()),
                (Some("default"), None) => Some("default"),
                _ => None,
            }
        }
    }
}

/// Where aws-config looks: the variable's path, else the default, with a leading `~`
/// component replaced by HOME.
fn aws_file_path(env: &Environment, variable: &str, default: &str) -> std::path::PathBuf {
    let text = env.get(variable).unwrap_or(default);
    let path = std::path::Path::new(text);
    let mut parts = path.components();
    match (parts.next(), env.get("HOME")) {
        (Some(std::path::Component::Normal(first)), Some(home)) if first == "~" => {
            std::path::Path::new(home).join(parts.as_path())
        }
        _ => path.to_path_buf(),
    }
}

/// The null device (character device 1:3 on Linux), whatever its path.
fn is_dev_null(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    meta.file_type().is_char_device()
        && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev())
}

/// The bytes of one AWS file, `None` when it does not exist (as for aws-config, an absent file
/// is an empty one). Anything but a regular file (through symlinks) is refused before it is
/// opened, so a FIFO cannot hang and /dev/zero cannot fill memory.
fn read_aws_file(path: &std::path::Path, variable: &str) -> Result<Option<Vec<u8>>> {
    // /dev/null (through symlinks too) is the usual way to switch a file off: empty.
    if std::fs::metadata(path).is_ok_and(|meta| is_dev_null(&meta)) {
        return Ok(Some(Vec::new()));
    }
    let hint = format!("{variable} (or its default) must name a regular file of at most 4 MiB");
    let rules = crate::sys::files::Capped {
        cap: FILE_CAP,
        noun: "an AWS config file",
        hint: &hint,
    };
    let Some(bytes) = crate::sys::files::read_capped(path, &rules)? else {
        return Ok(None);
    };
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Error::new(format!("{} is not UTF-8 text", path.display()))
            .hint("AWS config files are text; check the file's encoding"));
    }
    Ok(Some(bytes))
}

/// Drives a future to completion on this thread. aws-config's loader is `async` but reads with
/// `std::fs` (awslabs/aws-sdk-rust#867), so it finishes on its first poll; this keeps the cache
/// path free of a tokio runtime. Should a later aws-config really wait, a runtime takes over
/// instead of a busy loop.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
        return value;
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(_) => loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        },
    }
}

/// Every profile name, sorted.
pub fn names(set: &ProfileSet) -> Vec<String> {
    let mut names: Vec<String> = set.profiles().map(str::to_owned).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_runtime::env_config::file::EnvConfigFileKind as Kind;

    #[test]
    fn sections_cover_the_file_and_find_every_source_profile_line() {
        let text = "# top\n[default]\nregion = x\n[profile prod]\n  Source_Profile = alice\nrole_arn = r\n[services s]\nsts =\n  endpoint_url = u\n[profile other]\nsource_profile=default";
        let all = sections(text, Kind::Config);
        let joined: String = all.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(joined, text);
        let names: Vec<Option<&str>> = all.iter().map(|s| s.profile).collect();
        assert_eq!(
            names,
            [None, Some("default"), Some("prod"), None, Some("other")]
        );
        assert_eq!(all[2].sources, ["alice"]);
        assert_eq!(all[4].sources, ["default"]);
        // `[services s]` names no profile: its lines are never taken for source_profile.
        assert!(all[3].sources.is_empty());
        let creds = sections("[alice]\nsource_profile = bob\n", Kind::Credentials);
        assert_eq!(creds[1].profile, Some("alice"));
        assert_eq!(creds[1].sources, ["bob"]);
        assert!(sections("", Kind::Config).len() == 1);
    }
}
