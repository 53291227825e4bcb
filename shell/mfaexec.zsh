# mfaexec's shell integration for zsh, printed by `mfaexec init zsh`. In ~/.zshrc:
#
#     eval "$(mfaexec init zsh)"
#
# - `mfaexec use PROFILE [OPTIONS]` exports the profile's session into this shell;
#   `mfaexec use --unset` puts back what the shell held before. Every other command goes to
#   the mfaexec binary unchanged.
# - `mfaexec_prompt` prints `PROFILE TIME-LEFT` (`prod 11h42m`, `prod expired`, `prod served`
#   after `use prod --server`), or nothing when
#   the shell holds no credentials from mfaexec:
#   setopt prompt_subst; RPROMPT='$(mfaexec_prompt)'
# - Before the next prompt after the credentials expire, one warning naming the command that
#   renews them (a precmd function).
#
# Helpers are named __mfaexec_*. Builtins are called as \builtin and the binary as
# \command mfaexec, so that the user's aliases and functions cannot take their place. Every
# function starts with `emulate -L zsh`, so the user's options do not change what it does.

# The variables `mfaexec env` sets or removes (src/vars.rs). The session ones are always taken
# out by `use --unset`; the others only while they still hold what `use` left in them.
\builtin typeset -ga __mfaexec_session_vars __mfaexec_other_vars
__mfaexec_session_vars=(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    AWS_CREDENTIAL_EXPIRATION MFAEXEC_PROFILE AWS_CONTAINER_CREDENTIALS_FULL_URI
    AWS_CONTAINER_AUTHORIZATION_TOKEN)
__mfaexec_other_vars=(AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION
    AWS_DEFAULT_REGION)

# $EPOCHSECONDS, so the prompt starts no process; without the module, `date +%s` is used.
\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || :

mfaexec() {
    \builtin emulate -L zsh
    if [[ ${1-} == use ]]; then
        \builtin shift
        __mfaexec_use "$@"
    else
        \command mfaexec "$@"
    fi
}

# `mfaexec use`: the output of `mfaexec env` is captured first and evaluated only when the
# binary succeeded, so a failure (a wrong code, a typo) changes nothing in the shell. The
# binary's errors and its MFA prompt go to the terminal as they are.
__mfaexec_use() {
    \builtin emulate -L zsh
    if [[ ${1-} == --unset ]]; then
        if (( $# > 1 )); then
            \builtin print -ru2 -- 'mfaexec: use --unset takes no other arguments'
            \builtin return 2
        fi
        __mfaexec_unset
        \builtin return 0
    fi
    \builtin local out
    \builtin integer exit_status=0
    out=$(\command mfaexec env --format posix "$@") || exit_status=$?
    if (( exit_status != 0 )); then
        \builtin return exit_status
    fi
    case $out in
    ('unset '* | 'export '*) ;;
    (*)
        # Not shell code: --help, --version or --dry-run asked for text to read.
        \builtin print -r -- "$out"
        \builtin return 0
        ;;
    esac
    if [[ -z ${__mfaexec_saved-} ]]; then
        __mfaexec_save before
        \builtin typeset -g __mfaexec_saved=1
    fi
    __mfaexec_eval "$out"
    __mfaexec_save after
    \builtin unset __mfaexec_warned
}

# Evaluates `mfaexec env` output with the builtins it names: no alias is expanded in it, and no
# function called `unset` or `export` runs instead (such functions are disabled for the moment
# and enabled again).
__mfaexec_eval() {
    \builtin emulate -L zsh
    \builtin setopt no_aliases
    \builtin local name
    \builtin local -a hidden
    for name in unset export; do
        if (( ${+functions[$name]} )); then
            \builtin disable -f $name
            hidden+=($name)
        fi
    done
    \builtin eval "$1"
    if (( $#hidden )); then
        \builtin enable -f $hidden
    fi
}

# Records each managed variable as `+VALUE` when set and an empty string when not, in
# __mfaexec_<when>_NAME. Session variables from an earlier mfaexec (a parent shell's `use`, the
# shell `mfaexec PROFILE` starts) are recorded as unset: `use --unset` leaves the shell without
# mfaexec credentials rather than bringing back an older session.
__mfaexec_save() {
    \builtin emulate -L zsh
    \builtin local name
    for name in $__mfaexec_session_vars $__mfaexec_other_vars; do
        __mfaexec_state $name
        if [[ $1 == before && -n ${MFAEXEC_PROFILE-} ]] && (( ${__mfaexec_session_vars[(Ie)$name]} )); then
            __mfaexec_reply=
        fi
        \builtin typeset -g "__mfaexec_${1}_${name}=${__mfaexec_reply}"
    done
}

# `mfaexec use --unset`: the shell gets back what it held before the first `use`. Without a
# record (credentials exported by a parent shell, or by `eval "$(mfaexec env ...)"`), only the
# session variables of mfaexec are removed.
__mfaexec_unset() {
    \builtin emulate -L zsh
    \builtin local name before after
    __mfaexec_revoke
    if [[ -z ${__mfaexec_saved-} ]]; then
        if [[ -n ${MFAEXEC_PROFILE-} ]]; then
            \builtin unset $__mfaexec_session_vars
        fi
        \builtin return 0
    fi
    for name in $__mfaexec_session_vars $__mfaexec_other_vars; do
        before=__mfaexec_before_$name
        before=${(P)before-}
        after=__mfaexec_after_$name
        after=${(P)after-}
        __mfaexec_state $name
        # A variable changed by hand since `use` is the user's, and stays.
        if (( ${__mfaexec_session_vars[(Ie)$name]} )) || [[ $__mfaexec_reply == "$after" ]]; then
            if [[ -n $before ]]; then
                \builtin export "$name=${before#+}"
            else
                \builtin unset $name
            fi
        fi
        \builtin unset __mfaexec_before_$name __mfaexec_after_$name
    done
    \builtin unset __mfaexec_saved __mfaexec_warned
}

# The shell lets go of a token of the credentials daemon (`use PROFILE --server`): the
# daemon revokes it.
__mfaexec_revoke() {
    \builtin emulate -L zsh
    if [[ -n ${MFAEXEC_PROFILE-} && -n ${AWS_CONTAINER_AUTHORIZATION_TOKEN-} &&
        ${AWS_CONTAINER_CREDENTIALS_FULL_URI-} == */profile/* ]]; then
        \command mfaexec serve --revoke >/dev/null 2>&1 || :
    fi
}

# `+VALUE` when the variable named $1 is set, else an empty string, in __mfaexec_reply.
__mfaexec_state() {
    \builtin emulate -L zsh
    if [[ -v $1 ]]; then
        \builtin typeset -g __mfaexec_reply="+${(P)1}"
    else
        \builtin typeset -g __mfaexec_reply=
    fi
}

# Prints `PROFILE TIME-LEFT`, `PROFILE expired`, or nothing. Its output is for a prompt: with
# prompt_subst, zsh prompt-expands what `$(mfaexec_prompt)` prints, so `%` is doubled and
# control characters are shown as `^[`, and the profile name is printed as it is.
mfaexec_prompt() {
    \builtin emulate -L zsh
    if [[ -n ${MFAEXEC_PROFILE-} && -z ${AWS_ACCESS_KEY_ID-} && -n ${AWS_CONTAINER_AUTHORIZATION_TOKEN-} ]]; then
        \builtin print -rn -- "${${(V)MFAEXEC_PROFILE}//\%/%%} served"
        \builtin return 0
    fi
    if [[ -z ${MFAEXEC_PROFILE-} || -z ${AWS_ACCESS_KEY_ID-} ]]; then
        \builtin return 0
    fi
    \builtin local shown=${${(V)MFAEXEC_PROFILE}//\%/%%}
    __mfaexec_seconds_left
    if [[ -z $__mfaexec_reply ]]; then
        \builtin print -rn -- "$shown"
    elif (( __mfaexec_reply <= 0 )); then
        \builtin print -rn -- "$shown expired"
    else
        __mfaexec_format_left $__mfaexec_reply
        \builtin print -rn -- "$shown $__mfaexec_reply"
    fi
}

# Seconds until AWS_CREDENTIAL_EXPIRATION (negative once past) in __mfaexec_reply; empty when
# it is unset or not a time. The parse is kept for the next prompt.
__mfaexec_seconds_left() {
    \builtin emulate -L zsh
    \builtin local expiration=${AWS_CREDENTIAL_EXPIRATION-}
    \builtin typeset -g __mfaexec_reply=
    if [[ -z $expiration ]]; then
        \builtin return 0
    fi
    if [[ $expiration != "${__mfaexec_parsed_text-}" ]]; then
        __mfaexec_rfc3339_epoch $expiration
        \builtin typeset -g __mfaexec_parsed_text=$expiration
        \builtin typeset -g __mfaexec_parsed_epoch=$__mfaexec_reply
    fi
    if [[ -z $__mfaexec_parsed_epoch ]]; then
        __mfaexec_reply=
        \builtin return 0
    fi
    \builtin local now=${EPOCHSECONDS-}
    if [[ -z $now ]]; then
        now=$(\command date +%s)
    fi
    __mfaexec_reply=$(( __mfaexec_parsed_epoch - now ))
}

# The Unix time of an RFC 3339 timestamp (2030-01-02T03:04:05Z; fractions of a second and
# +HH:MM offsets too) in __mfaexec_reply, empty for anything else. Plain arithmetic, so it is the same on
# Linux and macOS, whose `date` commands parse differently.
__mfaexec_rfc3339_epoch() {
    \builtin emulate -L zsh
    \builtin typeset -g __mfaexec_reply=
    \builtin local re='^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$'
    if ! [[ $1 =~ $re ]]; then
        \builtin return 0
    fi
    \builtin integer y=10#$match[1] m=10#$match[2] d=10#$match[3]
    \builtin integer hh=10#$match[4] mm=10#$match[5] ss=10#$match[6] offset=0
    if [[ -n $match[9] ]]; then
        offset=$(( 10#$match[10] * 3600 + 10#$match[11] * 60 ))
        if [[ $match[9] == - ]]; then
            offset=$(( -offset ))
        fi
    fi
    if (( m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 )); then
        \builtin return 0
    fi
    # Days since 1970-01-01 in the proleptic Gregorian calendar, from a year that starts in
    # March (so the leap day comes last).
    if (( m <= 2 )); then
        y=$(( y - 1 ))
    fi
    \builtin integer era=$(( y / 400 )) mp=$(( (m + 9) % 12 ))
    \builtin integer yoe=$(( y - era * 400 ))
    \builtin integer doe=$(( yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 + d - 1 ))
    __mfaexec_reply=$(( (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss - offset ))
}

# `11h42m`, `7m`, `45s` for $1 seconds, in __mfaexec_reply, as `mfaexec list` shows time left.
__mfaexec_format_left() {
    \builtin emulate -L zsh
    \builtin integer secs=$1
    if (( secs < 60 )); then
        \builtin typeset -g __mfaexec_reply=${secs}s
        \builtin return 0
    fi
    \builtin typeset -g __mfaexec_reply=
    if (( secs >= 3600 )); then
        __mfaexec_reply=$(( secs / 3600 ))h
    fi
    if (( secs % 3600 >= 60 )); then
        __mfaexec_reply=$__mfaexec_reply$(( secs % 3600 / 60 ))m
    fi
}

# A precmd function: once the shell's credentials have expired, says so once, with the
# command that renews them.
__mfaexec_precmd() {
    \builtin emulate -L zsh
    if [[ -z ${MFAEXEC_PROFILE-} || -z ${AWS_CREDENTIAL_EXPIRATION-} ||
        ${__mfaexec_warned-} == "$MFAEXEC_PROFILE $AWS_CREDENTIAL_EXPIRATION" ]]; then
        \builtin return 0
    fi
    __mfaexec_seconds_left
    if [[ -n $__mfaexec_reply ]] && (( __mfaexec_reply <= 0 )); then
        \builtin typeset -g __mfaexec_warned="$MFAEXEC_PROFILE $AWS_CREDENTIAL_EXPIRATION"
        \builtin print -ru2 -- "mfaexec: the credentials of profile $MFAEXEC_PROFILE in this shell have expired; renew them with: mfaexec use ${(q-)MFAEXEC_PROFILE}"
    fi
}

# Added to (never replacing) the user's precmd functions, once however often this is loaded.
\builtin typeset -ga precmd_functions
if (( ! ${precmd_functions[(Ie)__mfaexec_precmd]} )); then
    precmd_functions+=(__mfaexec_precmd)
fi
