//! The AWS config and credentials files → a plan: which STS call, from which keys, for how long,
//! in which region and at which endpoint. Pure apart from reading the two files; no network.
//!
//! Parsing is aws-config's own (the same rules as every AWS SDK); resolution follows the Rust
//! SDK's `resolve_chain`: the named profile's role, then `source_profile` links until a profile
//! with keys, where a *source* profile's static keys win over its own role_arn.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::EnvConfigValue;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::Fs;

use crate::config::limits::{self, Call, Origin, Settled};
use crate::creds::{Keys, Secret};
use crate::error::{Error, Result, cause_chain};
use crate::sys::environ::Environment;

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
struct Files {
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
    fn for_run(env: &Environment) -> Result<Arc<Files>> {
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
    fn parsed_for(&self, env: &Environment, selected: &str) -> Result<Arc<ProfileSet>> {
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
    fn quick_plan(&self, env: &Environment, req: &Request<'_>) -> Option<Plan> {
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
        use aws_runtime::env_config::file::EnvConfigFileKind as Kind;
        let texts: Vec<(Kind, &std::path::PathBuf, &str)> = self
            .sources
            .iter()
            .map(|(kind, path)| {
                let bytes = &self.contents[path.as_os_str()];
                (*kind, path, std::str::from_utf8(bytes).unwrap_or(""))
            })
            .collect();
        let mut needed = vec![profile.to_owned(), "default".to_owned()];
        let mut i = 0;
        while i < needed.len() && needed.len() <= MAX_CHAIN + 3 {
            for (kind, _, text) in &texts {
                let mut inside = false;
                for line in text.lines() {
                    if line.starts_with('[') {
                        inside = section_profile(line, *kind).as_deref() == Some(&needed[i]);
                    } else if inside
                        && let Some((key, value)) = line.split_once('=')
                        && key.trim().eq_ignore_ascii_case("source_profile")
                    {
                        let value = value.trim().to_owned();
                        if !needed.contains(&value) {
                            needed.push(value);
                        }
                    }
                }
            }
            i += 1;
        }
        texts
            .into_iter()
            .map(|(kind, path, text)| {
                let mut out = String::with_capacity(text.len());
                let mut keep = true;
                for line in text.split_inclusive('\n') {
                    if line.starts_with('[') {
                        keep = match section_profile(line, kind) {
                            Some(name) => needed.contains(&name),
                            None => true,
                        };
                    }
                    if keep {
                        out.push_str(line);
                    } else if line.ends_with('\n') {
                        out.push('\n');
                    }
                }
                (path.clone().into_os_string(), out.into_bytes())
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

/// The profile a section header line names, as aws-config reads it: `[profile NAME]` or
/// `[default]` in the config file, `[NAME]` in the credentials file; None for any other
/// section of the config file (`[services x]`, `[sso-session y]`, an unprefixed `[name]`).
fn section_profile(
    line: &str,
    kind: aws_runtime::env_config::file::EnvConfigFileKind,
) -> Option<String> {
    use aws_runtime::env_config::file::EnvConfigFileKind as Kind;
    let inner = line.trim_end().strip_prefix('[')?;
    let inner = inner.split(']').next()?.trim();
    match kind {
        Kind::Credentials => Some(inner.to_owned()),
        Kind::Config => {
            let mut words = inner.splitn(2, char::is_whitespace);
            match (words.next(), words.next()) {
                (Some("profile"), Some(name)) => Some(name.trim().to_owned()),
                (Some("default"), None) => Some("default".to_owned()),
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
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let os_error = |e: std::io::Error| Error::new(format!("cannot read {shown}: {e}"));
    let check = |meta: &std::fs::Metadata| -> Result<()> {
        if !meta.is_file() {
            return Err(
                Error::new(format!("{shown} is not a regular file")).hint(format!(
                    "{variable} (or its default) must name a regular file"
                )),
            );
        }
        if meta.len() > FILE_CAP {
            return Err(Error::new(format!(
                "{shown} is {} bytes, over the {} MiB an AWS config file may have",
                meta.len(),
                FILE_CAP / 1024 / 1024
            ))
            .hint(format!("check {variable}")));
        }
        Ok(())
    };
    match std::fs::metadata(path) {
        // /dev/null (through symlinks too) is the usual way to switch a file off: empty.
        Ok(meta) if is_dev_null(&meta) => return Ok(Some(Vec::new())),
        Ok(meta) => check(&meta)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(os_error(e)),
    }
    // O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not wait.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(os_error)?;
    check(&file.metadata().map_err(os_error)?)?;
    let mut bytes = Vec::new();
    file.take(FILE_CAP + 1)
        .read_to_end(&mut bytes)
        .map_err(os_error)?;
    if bytes.len() as u64 > FILE_CAP {
        return Err(Error::new(format!(
            "{shown} grew over {} MiB while it was read",
            FILE_CAP / 1024 / 1024
        )));
    }
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Error::new(format!("{shown} is not UTF-8 text"))
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

/// A value and where it came from, for `--dry-run` and `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub value: String,
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Keys from this profile (aws_access_key_id / aws_secret_access_key) in the files.
    Profile(String),
    /// This profile's keys in a key store; the id comes from the store's index (no unlock).
    Store {
        profile: String,
        store: crate::config::index::Kind,
        access_key_id: String,
    },
    /// This profile's `credential_process`, run only when a new session is needed.
    Process { profile: String, command: String },
    /// `credential_source = Environment`: mfaexec's own AWS_ACCESS_KEY_ID...
    Environment,
}

/// Where the first call's keys come from. `keys` is known while planning for the files and the
/// environment; a store or a credential_process is read only when a new session is needed
/// (`obtain::load_keys`), never for a cache hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    pub keys: Option<Keys>,
}

impl Source {
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Profile(p) => format!("profile `{p}`"),
            SourceKind::Store { profile, store, .. } => {
                format!("profile `{profile}` in the {} store", store.name())
            }
            SourceKind::Process { profile, .. } => {
                format!("the credential_process of profile `{profile}`")
            }
            SourceKind::Environment => "the environment (credential_source = Environment)".into(),
        }
    }

    /// The access key id when it is known without unlocking or running anything.
    pub fn access_key_id(&self) -> Option<&str> {
        match (&self.kind, &self.keys) {
            (_, Some(keys)) => Some(&keys.access_key_id),
            (SourceKind::Store { access_key_id, .. }, None) => Some(access_key_id),
            _ => None,
        }
    }

    /// Temporary keys as far as planning knows (a credential_process may still return some).
    pub fn is_temporary(&self) -> bool {
        self.keys.as_ref().is_some_and(Keys::is_temporary)
    }

    /// A short name for where the keys come from, for `list`.
    pub fn origin(&self) -> String {
        match &self.kind {
            SourceKind::Profile(_) => "file".to_owned(),
            SourceKind::Store { store, .. } => store.name().to_owned(),
            SourceKind::Process { .. } => "credential_process".to_owned(),
            SourceKind::Environment => "environment".to_owned(),
        }
    }
}

/// One AssumeRole call of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub source_identity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub serial: String,
    /// The profile whose `mfa_serial` this is.
    pub profile: String,
    /// `mfa_process` (aws-vault's key): a command printing the code, and the profile it is on.
    pub process: Option<Located>,
}

/// Everything decided before any STS call.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: String,
    pub source: Source,
    /// AssumeRole calls in order; `hops[0]` is signed by the source keys. Empty: GetSessionToken.
    pub hops: Vec<Hop>,
    /// Sent on the first call (the only one signed by the user's own keys).
    pub mfa: Option<Mfa>,
    pub call: Call,
    pub duration: Settled,
    /// None: no region configured; STS is reached in us-east-1 and the child gets none.
    pub region: Option<Located>,
    pub endpoint: Option<Located>,
    /// Proxies, CA bundle and endpoint variants (src/net.rs).
    pub net: crate::config::network::Settings,
    /// The `Name` of a GetFederationToken call (console sign-in without a role).
    pub federation_name: Option<String>,
    /// One-line notices for stderr (a duration shortened, ...).
    pub notes: Vec<String>,
}

pub const DEFAULT_REGION: &str = "us-east-1";

impl Plan {
    /// `role admin in 222222222222`, or what kind of session token.
    pub fn describe(&self) -> String {
        match self.hops.last() {
            Some(hop) => {
                let parts: Vec<&str> = hop.role_arn.split(':').collect();
                let account = parts.get(4).copied().unwrap_or("?");
                let name = hop.role_arn.rsplit('/').next().unwrap_or(&hop.role_arn);
                format!("role {name} in {account}")
            }
            None if self.mfa.is_some() => "session token with MFA".to_owned(),
            None => "session token".to_owned(),
        }
    }

    pub fn sts_region(&self) -> &str {
        self.region
            .as_ref()
            .map_or(DEFAULT_REGION, |r| r.value.as_str())
    }
}

/// What the command line and environment contribute to a plan.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub profile: &'a str,
    pub duration: Option<&'a str>,
    pub region: Option<&'a str>,
    /// For the console: a profile without a role gets GetFederationToken, because the
    /// federation endpoint refuses GetSessionToken credentials (AWS-RULES §5).
    pub console: bool,
}

/// Picks the profile: the argument, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
pub fn profile_name<'a>(arg: Option<&'a str>, env: &'a Environment) -> Result<&'a str> {
    arg.or_else(|| env.get("AWS_PROFILE"))
        .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
        .ok_or_else(|| {
            Error::usage("no profile given and AWS_PROFILE is not set").hint(
                "name one: mfaexec PROFILE -- COMMAND (`aws configure list-profiles` lists them)",
            )
        })
}

/// Loads the files with `req.profile` selected (its `[services]` section decides the endpoint)
/// and resolves it. Every command plans through here, so all agree on a profile's cache key.
pub fn plan(env: &Environment, req: &Request<'_>) -> Result<Plan> {
    let files = Files::for_run(env)?;
    if let Some(plan) = files.quick_plan(env, req) {
        return Ok(plan);
    }
    let set = files.parsed_for(env, req.profile)?;
    check_chain_length(&set, req.profile)?;
    resolve(&set, req, env)
}

/// The most `source_profile` links a plan follows. Real chains have two or three; each hop is
/// an STS call, and AWS caps chained sessions at 1h anyway.
pub const MAX_CHAIN: usize = 32;

/// Refuses a `source_profile` chain longer than MAX_CHAIN, naming it, before resolving it (a
/// loop is left to `resolve`, which names it as a loop).
fn check_chain_length(set: &ProfileSet, name: &str) -> Result<()> {
    let mut chain: Vec<&str> = vec![name];
    let mut current = name;
    while let Some(profile) = set.get_profile(current) {
        let next = match (get(profile, "role_arn"), get(profile, "source_profile")) {
            (Some(_), Some(next)) if next != current && !chain.contains(&next) => next,
            _ => return Ok(()),
        };
        chain.push(next);
        if chain.len() > MAX_CHAIN + 1 {
            let shown = format!(
                "{} -> ... -> {}",
                chain[..3].join(" -> "),
                chain[chain.len() - 2..].join(" -> ")
            );
            // "-> ..." at the end only when the chain goes on past the last one shown.
            let goes_on = set.get_profile(next).is_some_and(|p| {
                get(p, "role_arn").is_some() && get(p, "source_profile").is_some()
            });
            let tail = if goes_on { " -> ..." } else { "" };
            return Err(Error::new(format!(
                "profile `{name}`: its source_profile chain is longer than {MAX_CHAIN} links: {shown}{tail}"
            ))
            .hint("point source_profile of a profile near the start at the profile that holds your keys"));
        }
        current = next;
    }
    Ok(())
}

pub fn resolve(set: &ProfileSet, req: &Request<'_>, env: &Environment) -> Result<Plan> {
    let name = req.profile;
    let top = set
        .get_profile(name)
        .ok_or_else(|| unknown_profile(set, name))?;

    // Walk source_profile links to the keys, collecting role hops from the target backwards.
    let mut hops_rev: Vec<(&Profile, String)> = Vec::new();
    let mut visited: Vec<&str> = Vec::new();
    let mut current = top;
    let source = loop {
        let pname = current.name();
        if visited.contains(&pname) {
            visited.push(pname);
            return Err(Error::new(format!(
                "profile `{name}`: source_profile links form a loop: {}",
                visited.join(" -> ")
            ))
            .hint("make the last source_profile in the loop a profile with aws_access_key_id"));
        }
        visited.push(pname);
        if visited.len() > 1
            && let Some(source) = long_term_source(current, env)?
        {
            break source;
        }
        let Some(role_arn) = get(current, "role_arn") else {
            break base_source(set, current, &visited, env)?;
        };
        check_role_arn(pname, role_arn)?;
        hops_rev.push((current, role_arn.to_owned()));
        match (
            get(current, "source_profile"),
            get(current, "credential_source"),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::new(format!(
                    "profile `{pname}` has both source_profile and credential_source"
                ))
                .hint("keep exactly one of them: source_profile names a profile with keys"));
            }
            (None, None) => {
                return Err(Error::new(format!(
                    "profile `{pname}` has role_arn but neither source_profile nor credential_source"
                ))
                .hint("add `source_profile = NAME`, naming the profile that holds your IAM user's keys"));
            }
            (None, Some(cs)) => break environment_source(pname, cs, env)?,
            (Some(sp), None) if sp == pname => {
                // A profile may name itself to use its own keys for its own role.
                break long_term_source(current, env)?.ok_or_else(|| {
                    Error::new(format!(
                        "profile `{pname}` is its own source_profile but has no aws_access_key_id"
                    ))
                    .hint("point source_profile at the profile that holds your IAM user's keys")
                })?;
            }
            (Some(sp), None) => {
                current = set.get_profile(sp).ok_or_else(|| {
                    Error::new(format!(
                        "profile `{pname}`: source_profile `{sp}` does not exist"
                    ))
                    .hint(suggest_hint(set, sp))
                })?;
            }
        }
    };

    let mut hops = Vec::with_capacity(hops_rev.len());
    for (profile, role_arn) in hops_rev.into_iter().rev() {
        hops.push(Hop {
            profile: profile.name().to_owned(),
            external_id: checked(profile, "external_id", 2, 1224, "+=,.@:/-")?,
            // The shape has no `:`, so the reserved `aws:` prefix is refused too.
            source_identity: checked(profile, "source_identity", 2, 64, "+=,.@-")?,
            session_name: match checked(profile, "role_session_name", 2, 64, "+=,.@-")? {
                Some(n) => n,
                None => default_session_name(env),
            },
            role_arn,
        });
    }

    let mut mfa = find_mfa(set, &hops, &source)?;
    let mut notes = Vec::new();
    let mut federation_name = None;
    let call = if hops.is_empty() && req.console {
        if source.is_temporary() {
            return Err(Error::new(format!(
                "profile `{name}` holds temporary credentials and no role_arn: the console needs a role, or long-term keys for GetFederationToken"
            ))
            .hint("add role_arn and source_profile to the profile, or use a profile with long-term keys"));
        }
        let root = mfa.as_ref().is_some_and(|m| is_root_serial(&m.serial));
        if mfa.take().is_some() {
            notes.push(format!(
                "profile `{name}` has no role: the console session comes from GetFederationToken, which takes no MFA code, so it carries no MFA context"
            ));
        }
        federation_name = Some(session_name_for(&local_user(env), 32));
        if root {
            Call::GetFederationTokenRoot
        } else {
            Call::GetFederationToken
        }
    } else if hops.is_empty() {
        if source.is_temporary() {
            return Err(Error::new(format!(
                "profile `{name}` holds temporary credentials (aws_session_token) and no role_arn: there is nothing for mfaexec to do"
            ))
            .hint(format!("use it directly (AWS_PROFILE={name}), or name it as source_profile of a role profile")));
        }
        if mfa.as_ref().is_some_and(|m| is_root_serial(&m.serial)) {
            Call::GetSessionTokenRoot
        } else {
            Call::GetSessionToken
        }
    } else if hops.len() > 1 || source.is_temporary() {
        Call::AssumeRoleChained
    } else {
        Call::AssumeRole
    };

    let requested = requested_duration(top, req.duration, env)?;
    let duration = limits::settle(requested, call, name)?;
    notes.extend(duration.note.clone());

    Ok(Plan {
        profile: name.to_owned(),
        region: region(top, req.region, env)?,
        endpoint: match endpoint(set, env) {
            Some(e) => {
                crate::config::endpoint::require_tls_beyond_loopback(&e.value, &e.from)?;
                Some(e)
            }
            None => None,
        },
        net: crate::config::network::settings(top, env)?,
        federation_name,
        source,
        hops,
        mfa,
        call,
        duration,
        notes,
    })
}

/// A plan for a call signed by `keys` outside the session flow (`mfaexec add` testing a new
/// key): the profile's region and STS endpoint, whether or not the profile exists yet.
pub fn for_keys(env: &Environment, name: &str, keys: Keys) -> Result<Plan> {
    let set = load(env, name)?;
    let region = match set.get_profile(name) {
        Some(profile) => region(profile, None, env)?,
        None => env
            .get("AWS_REGION")
            .map(|v| (v, "AWS_REGION"))
            .or_else(|| {
                env.get("AWS_DEFAULT_REGION")
                    .map(|v| (v, "AWS_DEFAULT_REGION"))
            })
            .map(|(value, from)| Located {
                value: value.to_owned(),
                from: from.to_owned(),
            }),
    };
    // A profile that does not exist yet has only the environment's network settings.
    let empty = Profile::new(name, std::collections::HashMap::new());
    let net = crate::config::network::settings(set.get_profile(name).unwrap_or(&empty), env)?;
    Ok(Plan {
        profile: name.to_owned(),
        net,
        source: Source {
            kind: SourceKind::Profile(name.to_owned()),
            keys: Some(keys),
        },
        hops: Vec::new(),
        mfa: None,
        call: Call::GetSessionToken,
        duration: limits::settle(None, Call::GetSessionToken, name)?,
        region,
        endpoint: match endpoint(&set, env) {
            Some(e) => {
                crate::config::endpoint::require_tls_beyond_loopback(&e.value, &e.from)?;
                Some(e)
            }
            None => None,
        },
        federation_name: None,
        notes: Vec::new(),
    })
}

/// Whether `name`'s section in the files holds `aws_access_key_id` or `aws_secret_access_key`.
pub fn has_file_keys(set: &ProfileSet, name: &str) -> bool {
    set.get_profile(name).is_some_and(|p| {
        get(p, "aws_access_key_id").is_some() || get(p, "aws_secret_access_key").is_some()
    })
}

fn get<'p>(profile: &'p Profile, key: &str) -> Option<&'p str> {
    profile.get(key).map(str::trim).filter(|v| !v.is_empty())
}

fn static_keys(profile: &Profile) -> Result<Option<Keys>> {
    match (
        get(profile, "aws_access_key_id"),
        get(profile, "aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Ok(Some(Keys {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: get(profile, "aws_session_token").map(Secret::new),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::new(format!(
            "profile `{}` has aws_access_key_id but no aws_secret_access_key",
            profile.name()
        ))
        .hint("add the secret key (`aws configure --profile NAME` writes both)")),
        (None, Some(_)) => Err(Error::new(format!(
            "profile `{}` has aws_secret_access_key but no aws_access_key_id",
            profile.name()
        ))
        .hint("add the access key id (`aws configure --profile NAME` writes both)")),
    }
}

/// A profile's long-term keys when they are in the files or in a key store (by the store's
/// index: nothing is unlocked here).
fn long_term_source(profile: &Profile, env: &Environment) -> Result<Option<Source>> {
    if let Some(keys) = static_keys(profile)? {
        return Ok(Some(Source {
            kind: SourceKind::Profile(profile.name().to_owned()),
            keys: Some(keys),
        }));
    }
    Ok(
        crate::config::index::lookup(env, profile.name())?.map(|record| Source {
            kind: SourceKind::Store {
                profile: profile.name().to_owned(),
                store: record.store,
                access_key_id: record.access_key_id,
            },
            keys: None,
        }),
    )
}

/// The end of the chain: a profile without role_arn takes its keys from the files, else the
/// key store, else its credential_process. `visited` is the chain from the named profile to
/// this one.
fn base_source(
    set: &ProfileSet,
    profile: &Profile,
    visited: &[&str],
    env: &Environment,
) -> Result<Source> {
    if let Some(source) = long_term_source(profile, env)? {
        return Ok(source);
    }
    let via = match visited {
        [_] | [] => String::new(),
        [top, ..] => format!(" (source of profile `{top}`)"),
    };
    if let Some(command) = get(profile, "credential_process") {
        if let Some(target) = mfaexec_target(command) {
            return Err(mfaexec_source(
                set,
                profile.name(),
                target.as_deref(),
                visited,
                &via,
            ));
        }
        return Ok(Source {
            kind: SourceKind::Process {
                profile: profile.name().to_owned(),
                command: command.to_owned(),
            },
            keys: None,
        });
    }
    let unsupported = [
        ("sso_session", "IAM Identity Center (SSO)"),
        ("sso_start_url", "IAM Identity Center (SSO)"),
        ("web_identity_token_file", "web identity"),
        ("login_session", "console login"),
    ];
    if let Some((_, what)) = unsupported.iter().find(|(k, _)| get(profile, k).is_some()) {
        return Err(Error::new(format!(
            "profile `{}`{via} gets its credentials from {what}, which mfaexec does not support",
            profile.name()
        ))
        .hint("mfaexec starts from an IAM user's long-term keys (aws_access_key_id); use the AWS CLI for this profile"));
    }
    Err(Error::new(format!(
        "profile `{}`{via} has no credentials: no aws_access_key_id and no role_arn",
        profile.name()
    ))
    .hint(format!(
        "store your IAM user's keys with `mfaexec add {}`, or add role_arn and source_profile",
        profile.name()
    )))
}

/// A profile whose `credential_process` is mfaexec itself. mfaexec never runs such a
/// credential_process, so nothing can actually loop; but the profile it names may lead back here, and then the
/// AWS CLI or an SDK using this profile would run mfaexec for it again and again (each run
/// refusing): say so, and name the profile to point it at.
fn mfaexec_source(
    set: &ProfileSet,
    this: &str,
    target: Option<&str>,
    visited: &[&str],
    via: &str,
) -> Error {
    let on_the_way: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
    let example = |avoid: &[String]| {
        format!(
            "credential_process = mfaexec credential-process {}",
            mfa_profile_example(set, avoid)
        )
    };
    let Some(target) = target else {
        return Error::new(format!(
            "profile `{this}`{via}: its credential_process runs mfaexec without naming a profile, so mfaexec would take AWS_PROFILE, which is this profile when a tool selected it"
        ))
        .hint(format!(
            "name the profile that has role_arn and mfa_serial: {}",
            example(&on_the_way)
        ));
    };
    if let Some(chain) = mfaexec_loop(set, target, visited) {
        return Error::new(format!(
            "profile `{this}`{via}: its credential_process runs `mfaexec credential-process {target}`, which leads back to itself ({}), so it would run mfaexec again and again",
            chain.join(" -> ")
        ))
        .hint(format!(
            "point it at the profile that has role_arn and mfa_serial, not at `{target}`: {}",
            example(&chain)
        ));
    }
    let fix = match visited {
        [.., hop, _] => {
            format!("in profile `{hop}`, write `source_profile = {target}` instead of `{this}`")
        }
        _ => format!(
            "name `{target}` instead of `{this}`: mfaexec gets the session of `{target}` itself"
        ),
    };
    Error::new(format!(
        "profile `{this}`{via} gets its credentials from `mfaexec credential-process {target}`, which is for the AWS CLI and SDKs: mfaexec does not run itself as a credential_process"
    ))
    .hint(fix)
}

/// The profile a `credential_process` command runs mfaexec for: `mfaexec credential-process
/// NAME` (or `mfaexec env NAME --format json`), through any path to the binary. `None`: not
/// mfaexec; `Some(None)`: mfaexec without a profile (it would take AWS_PROFILE).
fn mfaexec_target(command: &str) -> Option<Option<String>> {
    let words = shell_words::split(command).ok()?;
    let (program, rest) = words.split_first()?;
    let base = std::path::Path::new(program).file_name()?.to_str()?;
    if base.strip_suffix(".exe").unwrap_or(base) != "mfaexec" {
        return None;
    }
    let (subcommand, args) = rest.split_first()?;
    if subcommand != "credential-process" && subcommand != "env" {
        return None;
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => return Some(args.next().cloned()),
            "-d" | "--duration" | "-t" | "--token-code" | "--region" | "--format" => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            name => return Some(Some(name.to_owned())),
        }
    }
    Some(None)
}

/// Follows what resolving `target` would do, as `resolve` does: source_profile links, and any
/// further mfaexec credential_process at their end. `Some(chain)` when that reaches a profile
/// already on the way here.
fn mfaexec_loop(set: &ProfileSet, target: &str, visited: &[&str]) -> Option<Vec<String>> {
    let mut chain: Vec<String> = visited.iter().map(|s| (*s).to_owned()).collect();
    let mut next = target.to_owned();
    // The named profile of an mfaexec run: its own keys do not end the walk, its role does.
    let mut named = true;
    loop {
        if chain.contains(&next) {
            chain.push(next);
            return Some(chain);
        }
        chain.push(next.clone());
        let profile = set.get_profile(&next)?;
        let has_keys = get(profile, "aws_access_key_id").is_some();
        if has_keys && !named {
            return None;
        }
        next = match (get(profile, "role_arn"), get(profile, "source_profile")) {
            (Some(_), Some(source)) if source != next => {
                named = false;
                source.to_owned()
            }
            (Some(_), _) => return None,
            (None, _) if has_keys => return None,
            (None, _) => {
                named = true;
                mfaexec_target(get(profile, "credential_process")?)??
            }
        };
    }
}

/// A profile to suggest for `mfaexec credential-process`: one with a role and an MFA device
/// (else just a role, else a device), not one of `avoid`.
fn mfa_profile_example(set: &ProfileSet, avoid: &[String]) -> String {
    names(set)
        .into_iter()
        .filter(|n| !avoid.contains(n))
        .filter_map(|n| {
            let p = set.get_profile(&n)?;
            if get(p, "credential_process").is_some() {
                return None;
            }
            let rank = match (get(p, "role_arn"), get(p, "mfa_serial")) {
                (Some(_), Some(_)) => 0,
                (Some(_), None) => 1,
                (None, Some(_)) => 2,
                (None, None) => return None,
            };
            Some((rank, n))
        })
        .min()
        .map_or_else(|| "PROFILE".to_owned(), |(_, n)| n)
}

fn environment_source(pname: &str, credential_source: &str, env: &Environment) -> Result<Source> {
    match credential_source {
        "Environment" => {}
        "Ec2InstanceMetadata" | "EcsContainer" => {
            return Err(Error::new(format!(
                "profile `{pname}`: credential_source = {credential_source} is not supported by mfaexec"
            ))
            .hint("mfaexec supports source_profile and credential_source = Environment"));
        }
        other => {
            return Err(Error::new(format!(
                "profile `{pname}`: credential_source `{other}` is not valid"
            ))
            .hint("use Environment (mfaexec also knows Ec2InstanceMetadata and EcsContainer, but does not support them)"));
        }
    }
    match (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok(Source {
            kind: SourceKind::Environment,
            keys: Some(Keys {
                access_key_id: id.to_owned(),
                secret_access_key: Secret::new(secret),
                session_token: env.get("AWS_SESSION_TOKEN").map(Secret::new),
            }),
        }),
        _ => Err(Error::new(format!(
            "profile `{pname}`: credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
        ))
        .hint("export your IAM user's keys in those two variables, or use source_profile instead")),
    }
}

fn check_role_arn(pname: &str, arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(is_role_path_and_name);
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!(
            "profile `{pname}`: role_arn `{arn}` is not an IAM role ARN"
        ))
        .hint("it looks like arn:aws:iam::123456789012:role/NAME (the role's page in the IAM console shows it)"))
    }
}

/// IAM's rules for a role's path and name (`/division/NAME`): the path printable ASCII without
/// spaces, the name 1 to 64 letters, digits and `+=,.@_-`. Nothing else reaches STS, or the
/// terminal through `list` and `--dry-run`.
fn is_role_path_and_name(text: &str) -> bool {
    let (path, name) = text.rsplit_once('/').unwrap_or(("", text));
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        && path.len() <= 511
        && path.bytes().all(|b| b.is_ascii_graphic())
}

/// A profile value checked against STS's shape rules (AWS-RULES §3) so a typo is named here
/// instead of costing an MFA code on a ValidationError.
fn checked(
    profile: &Profile,
    key: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> Result<Option<String>> {
    let Some(value) = get(profile, key) else {
        return Ok(None);
    };
    if fits_shape(value, min, max, extra) {
        Ok(Some(value.to_owned()))
    } else {
        Err(Error::new(format!(
            "profile `{}`: {key} `{value}` is not valid",
            profile.name()
        ))
        .hint(format!(
            "AWS accepts {min} to {max} characters: letters, digits, _ and {extra}"
        )))
    }
}

pub fn fits_shape(value: &str, min: usize, max: usize, extra: &str) -> bool {
    let n = value.chars().count();
    (min..=max).contains(&n)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
}

/// `mfaexec-<local user>`, so CloudTrail names the person behind every role session.
pub fn default_session_name(env: &Environment) -> String {
    session_name_for(&local_user(env), 64)
}

/// The person at the keyboard: `$USER`, `$LOGNAME`, else the passwd entry of this uid.
fn local_user(env: &Environment) -> String {
    env.get("USER")
        .or_else(|| env.get("LOGNAME"))
        .map(str::to_owned)
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| "user".to_owned())
}

/// `mfaexec-<user>` with every character STS would refuse replaced, cut to `max` characters.
pub fn session_name_for(user: &str, max: usize) -> String {
    let clean: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("mfaexec-{clean}");
    name.truncate(max);
    name
}

fn find_mfa(set: &ProfileSet, hops: &[Hop], source: &Source) -> Result<Option<Mfa>> {
    // The code goes on the first call, the one signed by the user's own keys; the serial may be
    // written on any profile of the chain, nearest to that call first. `mfa_process` is
    // inherited the same way, independently: it may sit on the role profile while the serial
    // sits on the profile with the keys.
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(first) = hops.first() {
        candidates.push(&first.profile);
    }
    if let SourceKind::Profile(p) = &source.kind {
        candidates.push(p);
    }
    candidates.extend(hops.iter().skip(1).map(|h| h.profile.as_str()));
    let profiles: Vec<&Profile> = candidates
        .iter()
        .filter_map(|name| set.get_profile(name))
        .collect();
    let process = profiles.iter().find_map(|profile| {
        get(profile, "mfa_process").map(|command| Located {
            value: command.to_owned(),
            from: profile.name().to_owned(),
        })
    });
    for profile in profiles {
        let pname = profile.name();
        if let Some(serial) = get(profile, "mfa_serial") {
            if !fits_shape(serial, 9, 256, "+=/:,.@-") {
                return Err(Error::new(format!(
                    "profile `{pname}`: mfa_serial `{serial}` is not valid"
                ))
                .hint("it is your MFA device's ARN, like arn:aws:iam::123456789012:mfa/NAME (IAM console → your user → Security credentials)"));
            }
            return Ok(Some(Mfa {
                serial: serial.to_owned(),
                profile: pname.to_owned(),
                process,
            }));
        }
    }
    Ok(None)
}

pub fn is_root_serial(serial: &str) -> bool {
    serial.ends_with(":mfa/root-account-mfa-device") || serial.ends_with(":root")
}

fn requested_duration(
    top: &Profile,
    flag: Option<&str>,
    env: &Environment,
) -> Result<Option<(u64, Origin)>> {
    if let Some(text) = flag {
        let secs = limits::parse(text)
            .map_err(|e| Error::usage(format!("--duration: {e}")).hint("e.g. --duration 12h"))?;
        return Ok(Some((secs, Origin::Flag)));
    }
    if let Some(text) = env.get("MFAEXEC_DURATION") {
        let secs = limits::parse(text).map_err(|e| {
            Error::new(format!("MFAEXEC_DURATION: {e}")).hint("e.g. MFAEXEC_DURATION=12h")
        })?;
        return Ok(Some((secs, Origin::Env)));
    }
    if let Some(text) = get(top, "duration_seconds") {
        let secs = text.parse::<u64>().map_err(|_| {
            Error::new(format!(
                "profile `{}`: duration_seconds `{text}` is not a number of seconds",
                top.name()
            ))
            .hint("write it in seconds, e.g. duration_seconds = 43200 for 12h (the AWS CLI reads it too)")
        })?;
        return Ok(Some((secs, Origin::Profile(top.name().to_owned()))));
    }
    Ok(None)
}

fn region(top: &Profile, flag: Option<&str>, env: &Environment) -> Result<Option<Located>> {
    let from_env = || {
        env.get("AWS_REGION")
            .map(|v| (v, "AWS_REGION"))
            .or_else(|| {
                env.get("AWS_DEFAULT_REGION")
                    .map(|v| (v, "AWS_DEFAULT_REGION"))
            })
            .map(|(v, from)| (v.to_owned(), from.to_owned()))
    };
    let from_profile =
        || get(top, "region").map(|v| (v.to_owned(), format!("profile `{}`", top.name())));
    // Inside an mfaexec environment (its subshell, or a shell after `use`), the region
    // variables were most likely set by mfaexec for the previous profile: the profile's own
    // region comes first then, so `mfaexec use prod-us` after `use prod-eu` is not sent to
    // eu-west-1. --region always wins.
    let inside_mfaexec = env.get("MFAEXEC_PROFILE").is_some();
    let found = match flag {
        Some(v) => Some((v.to_owned(), "--region".to_owned())),
        None if inside_mfaexec => from_profile().or_else(from_env),
        None => from_env().or_else(from_profile),
    };
    let Some((value, from)) = found else {
        return Ok(None);
    };
    // A region becomes part of a host name and of the child's environment.
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(
            Error::usage(format!("region `{value}` from {from} is not valid"))
                .hint("a region looks like eu-west-1"),
        );
    }
    Ok(Some(Located { value, from }))
}

/// The STS endpoint exactly as AWS SDKs pick it: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the
/// profile's `[services]` section, its `endpoint_url`; all off when
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's `ignore_configured_endpoint_urls` is true.
fn endpoint(set: &ProfileSet, env: &Environment) -> Option<Located> {
    let aws_env = env.to_aws_env();
    let ignore = EnvConfigValue::new()
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .profile("ignore_configured_endpoint_urls")
        .load(&aws_env, Some(set))
        .is_some_and(|(v, _)| v.trim().eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    let (value, source) = EnvConfigValue::new()
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .service_id("sts")
        .load(&aws_env, Some(set))?;
    let value = value.trim().to_owned();
    (!value.is_empty()).then(|| Located {
        value,
        from: source.to_string(),
    })
}

fn unknown_profile(set: &ProfileSet, name: &str) -> Error {
    Error::new(format!("profile `{name}` does not exist")).hint(suggest_hint(set, name))
}

fn suggest_hint(set: &ProfileSet, name: &str) -> String {
    let close = closest(&names(set), name);
    if close.is_empty() {
        let all = names(set);
        if all.is_empty() {
            "no profiles are configured: see `aws configure`".to_owned()
        } else {
            format!("profiles: {}", all.join(", "))
        }
    } else {
        format!("did you mean {}?", close.join(" or "))
    }
}

/// Up to three names within a small edit distance, or containing / contained in `name`.
pub fn closest(names: &[String], name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let d = strsim::levenshtein(&n.to_lowercase(), &lower);
            let near = d <= (name.chars().count() / 3).max(2);
            let contains = n.to_lowercase().contains(&lower) || lower.contains(&n.to_lowercase());
            (near || contains).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| format!("`{n}`"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_name_falls_back_to_aws_profile_then_aws_default_profile() {
        let env = Environment::from_pairs(&[("AWS_PROFILE", "a"), ("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(profile_name(Some("x"), &env).unwrap(), "x");
        assert_eq!(profile_name(None, &env).unwrap(), "a");
        let env = Environment::from_pairs(&[("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(profile_name(None, &env).unwrap(), "b");
        let env = Environment::from_pairs(&[("AWS_PROFILE", "")]);
        assert_eq!(profile_name(None, &env).unwrap_err().code(), 2);
    }

    #[test]
    fn session_names_fit_sts() {
        assert_eq!(session_name_for("alice", 64), "mfaexec-alice");
        assert_eq!(session_name_for("jörg o'neil", 64), "mfaexec-j-rg-o-neil");
        assert_eq!(session_name_for(&"x".repeat(100), 64).len(), 64);
        assert!(fits_shape(&session_name_for("a b/c", 64), 2, 64, "+=,.@-"));
    }

    #[test]
    fn closest_names_by_edit_distance_or_containment() {
        let names: Vec<String> = ["prod", "prod-admin", "staging", "dev"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest(&names, "prdo"), vec!["`prod`"]);
        assert_eq!(closest(&names, "admin"), vec!["`prod-admin`"]);
        assert!(closest(&names, "zzzzzzzz").is_empty());
    }

    #[test]
    fn root_serials_are_recognised() {
        assert!(is_root_serial(
            "arn:aws:iam::123456789012:mfa/root-account-mfa-device"
        ));
        assert!(!is_root_serial("arn:aws:iam::123456789012:mfa/alice"));
    }
}
