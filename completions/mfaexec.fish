# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mfaexec_global_optspecs
    string join \n h/help V/version
end

function __fish_mfaexec_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mfaexec_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mfaexec_using_subcommand
    set -l cmd (__fish_mfaexec_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mfaexec -n "__fish_mfaexec_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "exec" -d 'Run a command with the profile\'s credentials (the default subcommand)'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "env" -d 'Print the credentials as shell code: eval "$(mfaexec env prod)"'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "list" -d 'List the profiles, what each reaches, and its cached session'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "clear" -d 'Delete cached sessions: of the named profiles, or all'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "login" -d 'Open the AWS console signed in with the profile\'s session (up to 12h)'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "warm" -d 'Get the sessions of several profiles now, one MFA code each, so the day needs no more'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "serve" -d 'Run the credentials daemon: one endpoint for every shell and profile (`env --server`)'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "credential-process" -d 'Print the credential_process JSON, for `credential_process = mfaexec credential-process PROFILE`'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "write" -d 'Write the session into the shared credentials file, for tools that only read it'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "use" -d 'Export the credentials into the current shell (needs `mfaexec init`)'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "rotate" -d 'Replace the profile\'s IAM access key with a new one, keeping one working key at every step'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "init" -d 'Print the shell integration: eval "$(mfaexec init bash)"'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "add" -d 'Store an IAM user\'s access key in the key store (asked on the terminal, or two lines on stdin)'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "import" -d 'Move access keys from the credentials file into the key store'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "remove" -d 'Delete a profile\'s access key from the key store, and its cached sessions'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c mfaexec -n "__fish_mfaexec_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -l server -l ecs-server -d 'Give the command a local credentials endpoint instead of keys, renewed as it runs (for runs longer than a session); mfaexec stays as the command\'s parent'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand exec" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -l format -d 'How to print the variables' -r -f -a "posix\t'export NAME=\'value\' (bash, zsh, sh)'
fish\t'set -gx NAME \'value\''
powershell\t'$Env:NAME = \'value\''
json\t'The credential_process JSON object'
dotenv\t'NAME=value lines for `docker run --env-file` and dotenv loaders'"
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -l server -l ecs-server -d 'Print the variables of the credentials daemon (`mfaexec serve`, started if it is not running) instead of keys: the shell\'s SDKs then renew by themselves'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand env" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand list" -l names -d 'Only the profile names, one per line'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand list" -l json -d 'A JSON array, one object per profile'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand list" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand list" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand clear" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand clear" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -l destination -d 'The console page to open: a URL or a path such as /s3/home [default: the console home]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -l print -d 'Only print the sign-in URL on stdout; do not open a browser'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand login" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand warm" -l all -d 'Every profile with a role_arn or an mfa_serial of its own'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand warm" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand warm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand warm" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -l background -d 'Start the daemon detached from this terminal, and return once it answers'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -l status -d 'Show the daemon: the sessions it holds, their time left, and its clients'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -l stop -d 'Stop the running daemon'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -l revoke -d 'Revoke the token in $AWS_CONTAINER_AUTHORIZATION_TOKEN (what `use --unset` does)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -s v -l verbose -d 'Log each request to the endpoint (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -l detached -d 'Internal: the child that `--background` starts'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand serve" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand credential-process" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -l to -d 'The section of the credentials file to write [default: <PROFILE>-mfaexec]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand write" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s d -l duration -d 'Session duration: 3600, 90m, 12h, 1h30m [env: MFAEXEC_DURATION; default: the profile\'s duration_seconds, else 1h for a role and 12h for an MFA session]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s r -l refresh -d 'Ignore the cached session and get a new one, replacing it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -l dry-run -d 'Print what would be done (profiles, STS call, duration, variables) and make no call'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -l unset -d 'Remove what `use` exported, and give back the variables the shell held before'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand use" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -s t -l token-code -d 'The 6-digit MFA code; without it, mfaexec runs the profile\'s mfa_process, else asks on the terminal' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -l region -d 'The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s region, us-east-1]' -r -f
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -s v -l verbose -d 'Say on stderr what is being done (never a secret)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -l sso-login -d 'When an IAM Identity Center token has expired, run `aws sso login` (the AWS CLI on PATH, which opens the browser) and go on; without it, mfaexec names that command and stops'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand init" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand init" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand add" -l no-verify -d 'Store the key without testing it with sts:GetCallerIdentity'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand add" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand add" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand import" -l all -d 'Every profile with long-term keys in the credentials file'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand import" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand import" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand remove" -s f -l force -d 'Do not ask for confirmation'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand remove" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand remove" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "exec" -d 'Run a command with the profile\'s credentials (the default subcommand)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "env" -d 'Print the credentials as shell code: eval "$(mfaexec env prod)"'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "list" -d 'List the profiles, what each reaches, and its cached session'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "clear" -d 'Delete cached sessions: of the named profiles, or all'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "login" -d 'Open the AWS console signed in with the profile\'s session (up to 12h)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "warm" -d 'Get the sessions of several profiles now, one MFA code each, so the day needs no more'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "serve" -d 'Run the credentials daemon: one endpoint for every shell and profile (`env --server`)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "credential-process" -d 'Print the credential_process JSON, for `credential_process = mfaexec credential-process PROFILE`'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "write" -d 'Write the session into the shared credentials file, for tools that only read it'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "use" -d 'Export the credentials into the current shell (needs `mfaexec init`)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "rotate" -d 'Replace the profile\'s IAM access key with a new one, keeping one working key at every step'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "init" -d 'Print the shell integration: eval "$(mfaexec init bash)"'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "add" -d 'Store an IAM user\'s access key in the key store (asked on the terminal, or two lines on stdin)'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "import" -d 'Move access keys from the credentials file into the key store'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "remove" -d 'Delete a profile\'s access key from the key store, and its cached sessions'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "completions" -d 'Print shell completions'
complete -c mfaexec -n "__fish_mfaexec_using_subcommand help; and not __fish_seen_subcommand_from exec env list clear login warm serve credential-process write use rotate init add import remove completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# From mfaexec's clap definitions, for the part below.
set -g __mfaexec_subcommands exec env list clear login warm serve credential-process write use rotate init add import remove completions help
set -g __mfaexec_profile_commands exec env clear login warm credential-process write use rotate add import remove
set -g __mfaexec_value_options -d --duration -t --token-code --region --format --destination --to
complete -c mfaexec -n "__fish_mfaexec_using_subcommand init" -f -a "bash zsh fish"
complete -c mfaexec -n "__fish_mfaexec_using_subcommand completions" -f -a "bash zsh fish"

# What clap_complete cannot generate, appended by `mfaexec completions fish` after the
# generated completions above and the lists taken from the clap definitions: profile names from
# the user's own AWS config, the `mfaexec [OPTIONS] PROFILE [-- CMD]` shorthand, and the command
# wrapped after `--`, completed by its own completions (__fish_complete_subcommand).

# The generated conditions ask these two which subcommand is being completed. Redefined so that
# a first word that is not a subcommand reads as `exec` (the shorthand), and so that after
# `exec ... --` no subcommand matches: the words there belong to the wrapped command.
function __fish_mfaexec_needs_command
    set -l words (commandline -opc)
    set -e words[1]
    if not set -q words[1]
        return 0
    end
    set -l subcommand $words[1]
    if not contains -- $subcommand $__mfaexec_subcommands
        set subcommand exec
    end
    if builtin test $subcommand = exec; and contains -- -- $words
        builtin printf '%s\n' --
    else
        builtin printf '%s\n' $subcommand
    end
    return 1
end

function __fish_mfaexec_using_subcommand
    set -l subcommand (__fish_mfaexec_needs_command)
    builtin test -n "$subcommand"; and contains -- $subcommand $argv
end

function __mfaexec_profiles
    command mfaexec list --names 2>/dev/null
end

# Whether the word being completed is a PROFILE: after a subcommand that takes one, not as an
# option's value, and only once (except for `clear` and `warm`, which take several).
function __mfaexec_wants_profile
    set -l subcommand (__fish_mfaexec_needs_command)
    contains -- "$subcommand" $__mfaexec_profile_commands
    or return 1
    set -l words (commandline -opc)
    set -e words[1]
    if builtin test "$words[1]" = "$subcommand"
        set -e words[1]
    end
    set -l positionals 0
    set -l value_next 0
    for word in $words
        if builtin test $value_next = 1
            set value_next 0
        else if contains -- $word $__mfaexec_value_options
            set value_next 1
        else if not string match -q -- '-*' $word
            set positionals (math $positionals + 1)
        end
    end
    builtin test $value_next = 0
    and begin
        builtin test $positionals = 0; or contains -- $subcommand clear warm
    end
end

# The command after `--` and its arguments, completed as a command line of their own.
function __mfaexec_complete_command
    set -l words (commandline -opc) (commandline -ct)
    set -l at (contains -i -- -- $words)
    __fish_complete_subcommand --commandline $words[(math $at + 1)..-1]
end

# None of mfaexec's own arguments is a file; after `--`, the wrapped command's completions
# bring file names where it takes them.
complete -c mfaexec -f
complete -c mfaexec -n __fish_mfaexec_needs_command -f -a '(__mfaexec_profiles)' -d 'AWS profile'
complete -c mfaexec -n '__mfaexec_wants_profile; and not string match -q -- "-*" (commandline -ct)' -f -a '(__mfaexec_profiles)' -d 'AWS profile'
complete -c mfaexec -n '__fish_mfaexec_using_subcommand --' -x -a '(__mfaexec_complete_command)'
