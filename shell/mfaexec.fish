# mfaexec's shell integration for fish, printed by `mfaexec init fish`. In
# ~/.config/fish/config.fish:
#
#     mfaexec init fish | source
#
# - `mfaexec use PROFILE [OPTIONS]` exports the profile's session into this shell;
#   `mfaexec use --unset` puts back what the shell held before. Every other command goes to
#   the mfaexec binary unchanged.
# - `mfaexec_prompt` prints `PROFILE TIME-LEFT` (`prod 11h42m`, `prod expired`, `prod served`
#   after `use prod --server`), or nothing when
#   the shell holds no credentials from mfaexec:
#   function fish_right_prompt; mfaexec_prompt; end
# - Before the next prompt after the credentials expire, one warning naming the command that
#   renews them (a fish_prompt event handler).
#
# Helpers are named __mfaexec_*. The binary is called as `command mfaexec` and output goes
# through `builtin printf`, so that the user's functions cannot take their place.
#
# Universal variables (`set -Ux AWS_PROFILE work`) are never changed: they belong to every fish
# of the user, and live on in fish_variables. Only globals are set and erased; a universal that
# `mfaexec env` removes is hidden in this shell by an empty, unexported global, which
# `use --unset` erases again.

# The variables `mfaexec env` sets or removes (src/vars.rs). The session ones are always taken
# out by `use --unset`; the others only while they still hold what `use` left in them.
set -g __mfaexec_session_vars AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_CREDENTIAL_EXPIRATION MFAEXEC_PROFILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_AUTHORIZATION_TOKEN
set -g __mfaexec_other_vars AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION \
    AWS_DEFAULT_REGION

function mfaexec --description 'Run commands with MFA-protected AWS credentials; `mfaexec use PROFILE` exports them here'
    if builtin test "$argv[1]" = use
        set -e argv[1]
        __mfaexec_use $argv
        return
    end
    command mfaexec $argv
end

# `mfaexec use`: the output of `mfaexec env` is captured first and sourced only when the
# binary succeeded, so a failure (a wrong code, a typo) changes nothing in the shell. The
# binary's errors and its MFA prompt go to the terminal as they are.
function __mfaexec_use
    if builtin test "$argv[1]" = --unset
        if builtin test (count $argv) -gt 1
            builtin printf '%s\n' 'mfaexec: use --unset takes no other arguments' >&2
            return 2
        end
        __mfaexec_unset
        return 0
    end
    # One element per line; the join below restores the text exactly (values may hold
    # newlines inside their quotes).
    set -l out (command mfaexec env --format fish $argv)
    set -l exit_status $status
    if builtin test $exit_status -ne 0
        return $exit_status
    end
    if not string match -q -- 'set -e *' $out[1]; and not string match -q -- 'set -gx *' $out[1]
        # Not shell code: --help, --version or --dry-run asked for text to read.
        builtin printf '%s\n' $out
        return 0
    end
    if not set -q __mfaexec_saved
        __mfaexec_save before
        set -g __mfaexec_saved 1
    end
    string join \n -- $out | builtin source
    __mfaexec_save after
    set -e -g __mfaexec_warned
    # The status of `set -e` above would say whether a warning had been given, not whether
    # `use` worked (`mfaexec use prod; and aws ...`).
    return 0
end

# Records each managed variable's global in __mfaexec_<when>_NAME: a copy when there is one,
# nothing when not; the names of the exported ones in __mfaexec_<when>_exported. A universal of
# the same name is not recorded: it is never changed. Session variables from an earlier mfaexec
# (a parent shell's `use`, the shell `mfaexec PROFILE` starts) are recorded as unset: `use
# --unset` leaves the shell without mfaexec credentials rather than bringing back an older
# session.
function __mfaexec_save --argument-names when
    set -g __mfaexec_{$when}_exported
    for name in $__mfaexec_session_vars $__mfaexec_other_vars
        set -l record __mfaexec_{$when}_$name
        set -e -g $record
        if not set -q -g $name
            continue
        end
        if builtin test $when = before; and set -q MFAEXEC_PROFILE; and contains -- $name $__mfaexec_session_vars
            continue
        end
        set -g $record $$name
        if set -q -g -x $name
            set -g -a __mfaexec_{$when}_exported $name
        end
    end
end

# `mfaexec use --unset`: the shell gets back what it held before the first `use`. Without a
# record (credentials exported by a parent shell, or by `mfaexec env ... | source`), only the
# session variables of mfaexec are removed.
function __mfaexec_unset
    __mfaexec_revoke
    if not set -q __mfaexec_saved
        if set -q MFAEXEC_PROFILE
            for name in $__mfaexec_session_vars
                set -e -g $name
            end
            # The globals `mfaexec env` left to hide universals of these names.
            for name in AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
                if set -q -U $name; and set -q -g -u $name; and builtin test (count $$name) -eq 0
                    set -e -g $name
                end
            end
        end
        return 0
    end
    for name in $__mfaexec_session_vars $__mfaexec_other_vars
        set -l before __mfaexec_before_$name
        # A variable changed by hand since `use` is the user's, and stays.
        if contains -- $name $__mfaexec_session_vars; or __mfaexec_same $name
            set -e -g $name
            if set -q $before
                if contains -- $name $__mfaexec_before_exported
                    set -g -x $name $$before
                else
                    set -g -u $name $$before
                end
            end
        end
        set -e -g $before
        set -e -g __mfaexec_after_$name
    end
    set -e -g __mfaexec_before_exported
    set -e -g __mfaexec_after_exported
    set -e -g __mfaexec_saved
    set -e -g __mfaexec_warned
end

# Whether the global $argv[1] is as `use` left it: absent as it was then, or holding the same
# and exported the same.
function __mfaexec_same --argument-names name
    set -l after __mfaexec_after_$name
    if not set -q -g $name
        not set -q $after
        return
    end
    set -q $after; or return 1
    builtin test (count $$name) -eq (count $$after); and builtin test "$$name" = "$$after"; or return 1
    if set -q -g -x $name
        contains -- $name $__mfaexec_after_exported
    else
        not contains -- $name $__mfaexec_after_exported
    end
end

# The shell lets go of a token of the credentials daemon (`use PROFILE --server`): the
# daemon revokes it.
function __mfaexec_revoke
    if set -q MFAEXEC_PROFILE[1]; and set -q AWS_CONTAINER_AUTHORIZATION_TOKEN[1]
        and string match -q -- '*/profile/*' "$AWS_CONTAINER_CREDENTIALS_FULL_URI"
        command mfaexec serve --revoke >/dev/null 2>&1
    end
    return 0
end

# Prints `PROFILE TIME-LEFT`, `PROFILE expired`, `PROFILE served` (the credentials daemon
# renews it), or nothing.
function mfaexec_prompt --description 'Print the profile of the shell\'s mfaexec credentials and their time left'
    if not set -q MFAEXEC_PROFILE[1]; or builtin test -z "$MFAEXEC_PROFILE"
        return 0
    end
    if set -q AWS_CONTAINER_AUTHORIZATION_TOKEN[1]; and not builtin test -n "$AWS_ACCESS_KEY_ID"
        builtin printf '%s served' $MFAEXEC_PROFILE
        return 0
    end
    if not set -q AWS_ACCESS_KEY_ID[1]; or builtin test -z "$AWS_ACCESS_KEY_ID"
        return 0
    end
    set -l left (__mfaexec_seconds_left)
    if builtin test -z "$left"
        builtin printf '%s' $MFAEXEC_PROFILE
    else if builtin test $left -le 0
        builtin printf '%s expired' $MFAEXEC_PROFILE
    else
        builtin printf '%s %s' $MFAEXEC_PROFILE (__mfaexec_format_left $left)
    end
end

# Prints the seconds until AWS_CREDENTIAL_EXPIRATION (negative once past); nothing when it is
# unset or not a time. The parse is kept for the next prompt.
function __mfaexec_seconds_left
    if not set -q AWS_CREDENTIAL_EXPIRATION[1]; or builtin test -z "$AWS_CREDENTIAL_EXPIRATION"
        return 0
    end
    if not set -q __mfaexec_parsed_text; or builtin test "$__mfaexec_parsed_text" != "$AWS_CREDENTIAL_EXPIRATION"
        set -g __mfaexec_parsed_text "$AWS_CREDENTIAL_EXPIRATION"
        set -g __mfaexec_parsed_epoch (__mfaexec_rfc3339_epoch "$AWS_CREDENTIAL_EXPIRATION")
    end
    if builtin test -z "$__mfaexec_parsed_epoch"
        return 0
    end
    math $__mfaexec_parsed_epoch - (command date +%s)
end

# Prints the Unix time of an RFC 3339 timestamp (2030-01-02T03:04:05Z; fractions of a second
# and +HH:MM offsets too), nothing for anything else. Plain arithmetic, so it is the same on
# Linux and macOS, whose `date` commands parse differently.
function __mfaexec_rfc3339_epoch
    set -l parts (string match -r -- '^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$' $argv[1])
    or return 0
    # parts[1] is the whole match; leading zeros are fine in math, which reads decimal.
    set -l y $parts[2]
    set -l m (math $parts[3])
    set -l d (math $parts[4])
    set -l hh (math $parts[5])
    set -l mm (math $parts[6])
    set -l ss (math $parts[7])
    set -l offset 0
    if builtin test -n "$parts[8]"
        set offset (math "$parts[9] * 3600 + $parts[10] * 60")
        if builtin test "$parts[8]" = -
            set offset (math -- -$offset)
        end
    end
    if builtin test $m -lt 1 -o $m -gt 12 -o $d -lt 1 -o $d -gt 31 -o $hh -gt 23 -o $mm -gt 59 -o $ss -gt 60
        return 0
    end
    # Days since 1970-01-01 in the proleptic Gregorian calendar, from a year that starts in
    # March (so the leap day comes last).
    if builtin test $m -le 2
        set y (math $y - 1)
    end
    set -l era (math "floor($y / 400)")
    set -l yoe (math "$y - $era * 400")
    set -l mp (math "($m + 9) % 12")
    set -l doe (math "$yoe * 365 + floor($yoe / 4) - floor($yoe / 100) + floor((153 * $mp + 2) / 5) + $d - 1")
    math "($era * 146097 + $doe - 719468) * 86400 + $hh * 3600 + $mm * 60 + $ss - $offset"
end

# Prints `11h42m`, `7m`, `45s` for $argv[1] seconds, as `mfaexec list` shows time left.
function __mfaexec_format_left --argument-names secs
    if builtin test $secs -lt 60
        builtin printf '%ss' $secs
        return 0
    end
    set -l out ''
    if builtin test $secs -ge 3600
        set out (math "floor($secs / 3600)")h
    end
    if builtin test (math "$secs % 3600") -ge 60
        set out $out(math "floor($secs % 3600 / 60)")m
    end
    builtin printf '%s' $out
end

# Before each prompt: once the shell's credentials have expired, says so once, with the
# command that renews them.
function __mfaexec_prompt_hook --on-event fish_prompt
    if not set -q MFAEXEC_PROFILE[1]; or not set -q AWS_CREDENTIAL_EXPIRATION[1]
        return 0
    end
    set -l seen "$MFAEXEC_PROFILE $AWS_CREDENTIAL_EXPIRATION"
    if set -q __mfaexec_warned; and builtin test "$__mfaexec_warned" = "$seen"
        return 0
    end
    set -l left (__mfaexec_seconds_left)
    if builtin test -n "$left"; and builtin test $left -le 0
        set -g __mfaexec_warned $seen
        builtin printf 'mfaexec: the credentials of profile %s in this shell have expired; renew them with: mfaexec use %s\n' \
            "$MFAEXEC_PROFILE" (string escape -- "$MFAEXEC_PROFILE") >&2
    end
end
