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
