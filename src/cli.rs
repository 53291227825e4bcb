//! Every clap type. The `///` comments are the help text users read.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run commands with MFA-protected AWS credentials, one MFA code per working day.
///
/// mfaexec calls STS AssumeRole directly from your IAM user's long-term keys with the MFA code,
/// which gives role sessions of up to 12 hours (role chaining would cap them at 1 hour), and hands
/// the temporary credentials only to the command it runs.
#[derive(Debug, Parser)]
#[command(
    name = "mfaexec",
    version = env!("MFAEXEC_VERSION"),
    propagate_version = true,
    subcommand_required = true,
    override_usage = "mfaexec [OPTIONS] <PROFILE> [-- <COMMAND> [ARGS]...]\n       mfaexec <COMMAND> ...",
    arg_required_else_help = true,
    after_help = "A first argument that is not a subcommand is a profile: `mfaexec prod -- CMD` is `mfaexec exec prod -- CMD`.\nA profile named like a subcommand is reached with `mfaexec exec NAME`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command with the profile's credentials (the default subcommand)
    ///
    /// mfaexec replaces itself with the command: its exit code, signals and terminal are the
    /// command's. Without a command, starts $SHELL. With --server, the command gets a local
    /// credentials endpoint instead of keys and runs as mfaexec's child.
    Exec(ExecArgs),
    /// Print the credentials as shell code: eval "$(mfaexec env prod)"
    Env(EnvArgs),
    /// List the profiles, what each reaches, and its cached session
    List(ListArgs),
    /// Delete cached sessions: of the named profiles, or all
    Clear(ClearArgs),
    /// Open the AWS console signed in with the profile's session (up to 12h)
    Login(LoginArgs),
    /// Get the sessions of several profiles now, one MFA code each, so the day needs no more
    ///
    /// One after another: a session still cached is kept, a chain whose first hop is cached
    /// needs no code, and two profiles on one MFA device get two codes (waiting for the next
    /// 30s window, as a code works once). Ends with a table of each profile's session.
    Warm(WarmArgs),
    /// Run the credentials daemon: one endpoint for every shell and profile (`env --server`)
    ///
    /// In the foreground (for `systemd --user`), or detached with --background (its log in
    /// $XDG_STATE_HOME/mfaexec/serve.log). One per user, on $XDG_RUNTIME_DIR/mfaexec/serve.sock.
    /// It renews the sessions it holds as `--server` does, never prompting.
    Serve(ServeArgs),
    /// Print the credential_process JSON, for `credential_process = mfaexec credential-process PROFILE`
    CredentialProcess(CredentialProcessArgs),
    /// Write the session into the shared credentials file, for tools that only read it
    Write(WriteArgs),
    /// Export the credentials into the current shell (needs `mfaexec init`)
    Use(UseArgs),
    /// Replace the profile's IAM access key with a new one, keeping one working key at every step
    ///
    /// CreateAccessKey, the new key written where the old one was, a check that it works
    /// (GetCallerIdentity, while IAM propagates it), then DeleteAccessKey of the old one. With
    /// mfa_serial, the IAM calls are signed by a session obtained with MFA.
    Rotate(RotateArgs),
    /// Print the shell integration: eval "$(mfaexec init bash)"
    Init(InitArgs),
    /// Store an IAM user's access key in the key store (asked on the terminal, or two lines on stdin)
    Add(AddArgs),
    /// Move access keys from the credentials file into the key store
    Import(ImportArgs),
    /// Delete a profile's access key from the key store, and its cached sessions
    Remove(RemoveArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
    /// Internal: how `--server` starts its command (see `run::child::spawn`)
    #[command(hide = true, name = "__start-command")]
    Launch(LaunchArgs),
}

#[derive(Debug, Args)]
pub struct LaunchArgs {
    /// The pid of the mfaexec whose command this is
    #[arg(long)]
    pub parent: u32,

    /// The program, already found on the command's PATH
    #[arg(long)]
    pub program: OsString,

    /// The name it is called by, then its arguments
    #[arg(last = true, required = true)]
    pub argv: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// The console page to open: a URL or a path such as /s3/home [default: the console home]
    #[arg(long, value_name = "URL_OR_PATH")]
    pub destination: Option<String>,

    /// Only print the sign-in URL on stdout; do not open a browser
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct WarmArgs {
    /// The profiles whose sessions to get, in this order
    #[arg(value_name = "PROFILE", required_unless_present = "all")]
    pub profiles: Vec<String>,

    /// Every profile with a role_arn or an mfa_serial of its own
    #[arg(long, conflicts_with = "profiles")]
    pub all: bool,

    /// Say on stderr what is being done (never a secret)
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Start the daemon detached from this terminal, and return once it answers
    #[arg(long, conflicts_with_all = ["status", "stop", "revoke"])]
    pub background: bool,

    /// Show the daemon: the sessions it holds, their time left, and its clients
    #[arg(long, conflicts_with_all = ["stop", "revoke"])]
    pub status: bool,

    /// Stop the running daemon
    #[arg(long, conflicts_with = "revoke")]
    pub stop: bool,

    /// Revoke the token in $AWS_CONTAINER_AUTHORIZATION_TOKEN (what `use --unset` does)
    #[arg(long)]
    pub revoke: bool,

    /// Log each request to the endpoint (never a secret)
    #[arg(short, long)]
    pub verbose: bool,

    /// Internal: the child that `--background` starts
    #[arg(long, hide = true)]
    pub detached: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// The section of the credentials file to write [default: <PROFILE>-mfaexec]
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The profile whose access key to replace; for a role profile, that of its source_profile
    /// [default: $AWS_PROFILE]
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The 6-digit MFA code; without it, mfaexec runs the profile's mfa_process, else asks on
    /// the terminal
    #[arg(short = 't', long, value_name = "CODE")]
    pub token_code: Option<String>,

    /// The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region, us-east-1]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Say on stderr what is being done (never a secret)
    #[arg(short, long)]
    pub verbose: bool,

    /// When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH,
    /// which opens the browser) and go on; without it, mfaexec names that command and stops
    #[arg(long)]
    pub sso_login: bool,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// What `use` was given; the shell integration handles it
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The profile the key is for; `[profile PROFILE]` is added to the config when missing
    #[arg(value_name = "PROFILE")]
    pub profile: String,

    /// Store the key without testing it with sts:GetCallerIdentity
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The profiles whose keys to move
    #[arg(value_name = "PROFILE", required_unless_present = "all")]
    pub profiles: Vec<String>,

    /// Every profile with long-term keys in the credentials file
    #[arg(long, conflicts_with = "profiles")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The profile whose key to delete
    #[arg(value_name = "PROFILE")]
    pub profile: String,

    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the profile names, one per line
    #[arg(long, conflicts_with = "json")]
    pub names: bool,

    /// A JSON array, one object per profile
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    /// The profiles whose cached sessions to delete [default: all]
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// Give the command a local credentials endpoint instead of keys, renewed as it runs (for
    /// runs longer than a session); mfaexec stays as the command's parent
    #[arg(long, visible_alias = "ecs-server")]
    pub server: bool,

    /// The command to run and its arguments, after `--`
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// How to print the variables
    #[arg(long, value_enum, default_value_t = Format::Posix)]
    pub format: Format,

    /// Print the variables of the credentials daemon (`mfaexec serve`, started if it is not
    /// running) instead of keys: the shell's SDKs then renew by themselves
    #[arg(long, visible_alias = "ecs-server")]
    pub server: bool,
}

/// What every command that obtains a session accepts.
#[derive(Debug, Args, Clone)]
pub struct SessionArgs {
    /// The AWS profile (from ~/.aws/config or ~/.aws/credentials) [default: $AWS_PROFILE]
    #[arg(value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile's
    /// duration_seconds, else 1h for a role and 12h for an MFA session]
    #[arg(short, long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// The 6-digit MFA code; without it, mfaexec runs the profile's mfa_process, else asks on
    /// the terminal
    #[arg(short = 't', long, value_name = "CODE")]
    pub token_code: Option<String>,

    /// The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region, us-east-1]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Ignore the cached session and get a new one, replacing it
    #[arg(short, long)]
    pub refresh: bool,

    /// Print what would be done (profiles, STS call, duration, variables) and make no call
    #[arg(long)]
    pub dry_run: bool,

    /// Say on stderr what is being done (never a secret)
    #[arg(short, long)]
    pub verbose: bool,

    /// When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH,
    /// which opens the browser) and go on; without it, mfaexec names that command and stops
    #[arg(long)]
    pub sso_login: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// export NAME='value' (bash, zsh, sh)
    Posix,
    /// set -gx NAME 'value'
    Fish,
    /// $Env:NAME = 'value'
    Powershell,
    /// The credential_process JSON object
    Json,
    /// NAME=value lines for `docker run --env-file` and dotenv loaders
    Dotenv,
}

/// Every subcommand's name, and `help`: a first argument that is none of these (nor a top-level
/// flag) is a profile. A unit test keeps this list equal to clap's.
const SUBCOMMANDS: &[&str] = &[
    "exec",
    "env",
    "list",
    "clear",
    "login",
    "warm",
    "serve",
    "credential-process",
    "write",
    "use",
    "rotate",
    "init",
    "add",
    "import",
    "remove",
    "completions",
    "man",
    "__start-command",
    "help",
];

const TOP_LEVEL_FLAGS: &[&str] = &["-h", "--help", "-V", "--version"];

/// Parses the command line, treating a first argument that is not a subcommand or a top-level
/// flag as the start of `exec`: `mfaexec prod -- CMD` and `mfaexec -d 12h prod -- CMD`.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    if let Some(cli) = parse_hit(&args) {
        return Ok(cli);
    }
    let mut args = args;
    if exec_implied(&args) {
        args.insert(1, OsString::from("exec"));
    }
    let mut command = Cli::command();
    let matches = command.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// Whether the first argument starts `exec` without naming it: a profile.
fn exec_implied(args: &[OsString]) -> bool {
    match args.get(1).and_then(|a| a.to_str()) {
        Some(first) => !SUBCOMMANDS.contains(&first) && !TOP_LEVEL_FLAGS.contains(&first),
        None => false,
    }
}

/// The command lines a cache hit may answer, `exec` (named or not) and `credential-process`,
/// parsed by a parser of those two alone: building every subcommand's arguments and help was
/// most of what clap cost a cache hit. `None` for any other command line and for anything but a
/// clean parse (an error, `--help`, `--version`), which is the whole parser's, whose messages
/// and help are the ones users see.
pub fn parse_hit(args: &[OsString]) -> Option<Cli> {
    use clap::FromArgMatches;
    let implied;
    let args = if exec_implied(args) {
        let mut with: Vec<OsString> = args.to_vec();
        with.insert(1, OsString::from("exec"));
        implied = with;
        &implied[..]
    } else if matches!(
        args.get(1).and_then(|a| a.to_str()),
        Some("exec" | "credential-process")
    ) {
        args
    } else {
        return None;
    };
    let command = clap::Command::new("mfaexec")
        .subcommand(ExecArgs::augment_args(clap::Command::new("exec")))
        .subcommand(CredentialProcessArgs::augment_args(clap::Command::new(
            "credential-process",
        )))
        .disable_help_subcommand(true);
    let matches = command.try_get_matches_from(args).ok()?;
    Cli::from_arg_matches(&matches).ok()
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn full(args: &[&str]) -> String {
        let mut args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let first = args[1].to_str().unwrap();
        if !SUBCOMMANDS.contains(&first) && !TOP_LEVEL_FLAGS.contains(&first) {
            args.insert(1, "exec".into());
        }
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        format!("{:?}", Cli::from_arg_matches(&matches).unwrap())
    }

    #[test]
    fn the_subcommand_list_is_clap_s() {
        let mut names: Vec<String> = Cli::command()
            .get_subcommands()
            .flat_map(|s| {
                std::iter::once(s.get_name().to_owned())
                    .chain(s.get_all_aliases().map(str::to_owned))
            })
            .collect();
        names.push("help".to_owned());
        names.sort();
        let mut ours: Vec<String> = SUBCOMMANDS.iter().map(|s| s.to_string()).collect();
        ours.sort();
        assert_eq!(ours, names);
    }

    #[test]
    fn the_hit_parser_leaves_every_other_line_to_the_whole_parser() {
        let lines: &[&[&str]] = &[
            &["mfaexec"],
            &["mfaexec", "list"],
            &["mfaexec", "env", "prod"],
            &["mfaexec", "--version"],
            &["mfaexec", "-V"],
            &["mfaexec", "--help"],
            &["mfaexec", "prod", "--help"],
            &["mfaexec", "exec", "--help"],
            &["mfaexec", "prod", "--no-such-flag", "--", "x"],
            &["mfaexec", "prod", "-d"],
            &["mfaexec", "help", "exec"],
            &["mfaexec", "__start-command", "1", "--", "x"],
            &["mfaexec", "credential-process", "--help"],
            &["mfaexec", "credential-process", "prod", "extra"],
            &["mfaexec", "write", "prod"],
        ];
        for line in lines {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            assert!(parse_hit(&args).is_none(), "{line:?} was taken for exec");
        }
    }

    #[test]
    fn the_hit_parser_gives_what_the_whole_parser_gives() {
        let lines: &[&[&str]] = &[
            &["mfaexec", "prod"],
            &["mfaexec", "prod", "--", "terraform", "plan", "-out", "x"],
            &["mfaexec", "exec", "prod", "--", "true"],
            &["mfaexec", "-d", "12h", "prod", "--", "true"],
            &[
                "mfaexec", "prod", "-t", "123456", "-r", "-v", "--", "a", "--b",
            ],
            &["mfaexec", "prod", "--server", "--", "sleep", "1"],
            &[
                "mfaexec",
                "prod",
                "--ecs-server",
                "--dry-run",
                "--region",
                "eu-west-1",
            ],
            &[
                "mfaexec",
                "prod",
                "--sso-login",
                "--duration=90m",
                "--",
                "x",
            ],
            &["mfaexec", "exec", "list", "--", "x"],
            &["mfaexec", "credential-process", "prod"],
            &[
                "mfaexec",
                "credential-process",
                "-d",
                "8h",
                "--region",
                "eu-west-1",
                "prod",
            ],
            &["mfaexec", "credential-process", "--dry-run", "prod"],
        ];
        for line in lines {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            let fast = parse_hit(&args).unwrap_or_else(|| panic!("{line:?} did not parse"));
            assert_eq!(format!("{fast:?}"), full(line), "{line:?}");
            assert_eq!(
                format!("{:?}", parse(args).unwrap()),
                full(line),
                "{line:?}"
            );
        }
    }

    #[test]
    fn what_the_exec_parser_refuses_gets_the_whole_parser_s_answer() {
        for line in [
            &["mfaexec", "prod", "--bogus"][..],
            &["mfaexec", "prod", "--help"],
            &["mfaexec", "prod", "-V"],
            &["mfaexec", "prod", "terraform"],
        ] {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            let mut whole: Vec<OsString> = args.clone();
            whole.insert(1, "exec".into());
            let expected = Cli::command().try_get_matches_from(whole).unwrap_err();
            let got = parse(args).unwrap_err();
            assert_eq!(got.kind(), expected.kind(), "{line:?}");
            assert_eq!(got.to_string(), expected.to_string(), "{line:?}");
        }
    }
}
