# shellcheck shell=bash
#
# mfaexec's shell integration for bash, printed by `mfaexec init bash`. In ~/.bashrc:
#
#     eval "$(mfaexec init bash)"
#
# - `mfaexec use PROFILE [OPTIONS]` exports the profile's session into this shell;
#   `mfaexec use --unset` puts back what the shell held before. Every other command goes to
#   the mfaexec binary unchanged.
# - `mfaexec_prompt` prints `PROFILE TIME-LEFT` (`prod 11h42m`, `prod expired`, `prod served`
#   after `use prod --server`), or nothing when
#   the shell holds no credentials from mfaexec: PS1='$(mfaexec_prompt) \w \$ '
# - Before the next prompt after the credentials expire, one warning naming the command that
#   renews them.
#
# Helpers are named __mfaexec_*. Builtins are called as \builtin and the binary as
# \command mfaexec, so that the user's aliases and functions cannot take their place.

# The variables `mfaexec env` sets or removes (src/vars.rs). The session ones are always taken
# out by `use --unset`; the others only while they still hold what `use` left in them.
__mfaexec_session_vars=(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    AWS_CREDENTIAL_EXPIRATION MFAEXEC_PROFILE AWS_CONTAINER_CREDENTIALS_FULL_URI
    AWS_CONTAINER_AUTHORIZATION_TOKEN)
__mfaexec_other_vars=(AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION
    AWS_DEFAULT_REGION)

mfaexec() {
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
    if [[ ${1-} == --unset ]]; then
        if (($# > 1)); then
            \builtin printf 'mfaexec: use --unset takes no other arguments\n' >&2
            \builtin return 2
        fi
        __mfaexec_unset
        \builtin return 0
    fi
    \builtin local out status=0
    out=$(\command mfaexec env --format posix "$@") || status=$?
    if ((status != 0)); then
        \builtin return "${status}"
    fi
    case ${out} in
    'unset '* | 'export '*) ;;
    *)
        # Not shell code: --help, --version or --dry-run asked for text to read.
        \builtin printf '%s\n' "${out}"
        \builtin return 0
        ;;
    esac
    if [[ -z ${__mfaexec_saved-} ]]; then
        __mfaexec_save before
        __mfaexec_saved=1
    fi
    __mfaexec_eval "${out}"
    __mfaexec_save after
    \builtin unset __mfaexec_warned
}

# Evaluates `mfaexec env` output with the builtins it names: no alias is expanded in it, and no
# function called `export` or `unset` runs instead (such functions are put back afterwards).
__mfaexec_eval() {
    \builtin local aliases=0 name functions=
    if \builtin shopt -q expand_aliases; then
        aliases=1
        \builtin shopt -u expand_aliases
    fi
    for name in export unset; do
        if \builtin declare -F "${name}" >/dev/null; then
            functions+="$(\builtin declare -f "${name}")"$'\n'
            \builtin unset -f "${name}"
        fi
    done
    \builtin eval "$1"
    \builtin eval "${functions}"
    if ((aliases)); then
        \builtin shopt -s expand_aliases
    fi
}

# Records each managed variable as `+VALUE` when set and an empty string when not, in
# __mfaexec_<when>_NAME. Session variables from an earlier mfaexec (a parent shell's `use`, the
# shell `mfaexec PROFILE` starts) are recorded as unset: `use --unset` leaves the shell without
# mfaexec credentials rather than bringing back an older session.
__mfaexec_save() {
    \builtin local name
    for name in "${__mfaexec_session_vars[@]}" "${__mfaexec_other_vars[@]}"; do
        __mfaexec_state "${name}"
        if [[ $1 == before && -n ${MFAEXEC_PROFILE-} ]] && __mfaexec_is_session_var "${name}"; then
            __mfaexec_reply=
        fi
        \builtin printf -v "__mfaexec_${1}_${name}" '%s' "${__mfaexec_reply}"
    done
}

# `mfaexec use --unset`: the shell gets back what it held before the first `use`. Without a
# record (credentials exported by a parent shell, or by `eval "$(mfaexec env ...)"`), only the
# session variables of mfaexec are removed.
__mfaexec_unset() {
    \builtin local name before after
    __mfaexec_revoke
    if [[ -z ${__mfaexec_saved-} ]]; then
        if [[ -n ${MFAEXEC_PROFILE-} ]]; then
            \builtin unset "${__mfaexec_session_vars[@]}"
        fi
        \builtin return 0
    fi
    for name in "${__mfaexec_session_vars[@]}" "${__mfaexec_other_vars[@]}"; do
        before=__mfaexec_before_${name}
        before=${!before-}
        after=__mfaexec_after_${name}
        after=${!after-}
        __mfaexec_state "${name}"
        # A variable changed by hand since `use` is the user's, and stays.
        if __mfaexec_is_session_var "${name}" || [[ ${__mfaexec_reply} == "${after}" ]]; then
            if [[ -n ${before} ]]; then
                \builtin export "${name}=${before#+}"
            else
                \builtin unset "${name}"
            fi
        fi
        \builtin unset "__mfaexec_before_${name}" "__mfaexec_after_${name}"
    done
    \builtin unset __mfaexec_saved __mfaexec_warned
}

__mfaexec_is_session_var() {
    case $1 in
    AWS_ACCESS_KEY_ID | AWS_SECRET_ACCESS_KEY | AWS_SESSION_TOKEN | AWS_CREDENTIAL_EXPIRATION | MFAEXEC_PROFILE | \
        AWS_CONTAINER_CREDENTIALS_FULL_URI | AWS_CONTAINER_AUTHORIZATION_TOKEN)
        \builtin return 0
        ;;
    *) \builtin return 1 ;;
    esac
}

# `+VALUE` when the variable named $1 is set, else an empty string, in __mfaexec_reply.
__mfaexec_state() {
    if [[ -n ${!1+set} ]]; then
        __mfaexec_reply=+${!1}
    else
        __mfaexec_reply=
    fi
}

# The shell lets go of a token of the credentials daemon (`use PROFILE --server`): the
# daemon revokes it.
__mfaexec_revoke() {
    if [[ -n ${MFAEXEC_PROFILE-} && -n ${AWS_CONTAINER_AUTHORIZATION_TOKEN-} &&
        ${AWS_CONTAINER_CREDENTIALS_FULL_URI-} == */profile/* ]]; then
        \command mfaexec serve --revoke >/dev/null 2>&1 || :
    fi
}

# Prints `PROFILE TIME-LEFT`, `PROFILE expired`, `PROFILE served` (the credentials daemon
# renews it), or nothing.
mfaexec_prompt() {
    if [[ -n ${MFAEXEC_PROFILE-} && -z ${AWS_ACCESS_KEY_ID-} && -n ${AWS_CONTAINER_AUTHORIZATION_TOKEN-} ]]; then
        \builtin printf '%s served' "${MFAEXEC_PROFILE}"
        \builtin return 0
    fi
    if [[ -z ${MFAEXEC_PROFILE-} || -z ${AWS_ACCESS_KEY_ID-} ]]; then
        \builtin return 0
    fi
    __mfaexec_seconds_left
    if [[ -z ${__mfaexec_reply} ]]; then
        \builtin printf '%s' "${MFAEXEC_PROFILE}"
    elif ((__mfaexec_reply <= 0)); then
        \builtin printf '%s expired' "${MFAEXEC_PROFILE}"
    else
        __mfaexec_format_left "${__mfaexec_reply}"
        \builtin printf '%s %s' "${MFAEXEC_PROFILE}" "${__mfaexec_reply}"
    fi
}

# Seconds until AWS_CREDENTIAL_EXPIRATION (negative once past) in __mfaexec_reply; empty when
# it is unset or not a time. The parse is kept for the next prompt.
__mfaexec_seconds_left() {
    \builtin local expiration=${AWS_CREDENTIAL_EXPIRATION-}
    if [[ -z ${expiration} ]]; then
        __mfaexec_reply=
        \builtin return 0
    fi
    if [[ ${expiration} != "${__mfaexec_parsed_text-}" ]]; then
        __mfaexec_rfc3339_epoch "${expiration}"
        __mfaexec_parsed_text=${expiration}
        __mfaexec_parsed_epoch=${__mfaexec_reply}
    fi
    if [[ -z ${__mfaexec_parsed_epoch} ]]; then
        __mfaexec_reply=
        \builtin return 0
    fi
    __mfaexec_now
    __mfaexec_reply=$((__mfaexec_parsed_epoch - __mfaexec_reply))
}

# The Unix time now in __mfaexec_reply, without starting a process where bash can say it.
__mfaexec_now() {
    if [[ -n ${EPOCHSECONDS-} ]]; then
        __mfaexec_reply=${EPOCHSECONDS}
    elif ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
        \builtin printf -v __mfaexec_reply '%(%s)T' -1
    else
        __mfaexec_reply=$(\command date +%s)
    fi
}

# The Unix time of an RFC 3339 timestamp (2030-01-02T03:04:05Z; fractions of a second and
# +HH:MM offsets too) in __mfaexec_reply, empty for anything else. Plain arithmetic, so it is
# the same on Linux and macOS, whose `date` commands parse differently.
__mfaexec_rfc3339_epoch() {
    \builtin local re='^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$'
    __mfaexec_reply=
    if ! [[ $1 =~ ${re} ]]; then
        \builtin return 0
    fi
    \builtin local y=$((10#${BASH_REMATCH[1]})) m=$((10#${BASH_REMATCH[2]})) d=$((10#${BASH_REMATCH[3]}))
    \builtin local hh=$((10#${BASH_REMATCH[4]})) mm=$((10#${BASH_REMATCH[5]})) ss=$((10#${BASH_REMATCH[6]}))
    \builtin local offset=0
    if [[ -n ${BASH_REMATCH[9]} ]]; then
        offset=$((10#${BASH_REMATCH[10]} * 3600 + 10#${BASH_REMATCH[11]} * 60))
        if [[ ${BASH_REMATCH[9]} == - ]]; then
            offset=$((-offset))
        fi
    fi
    if ((m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)); then
        \builtin return 0
    fi
    # Days since 1970-01-01 in the proleptic Gregorian calendar, from a year that starts in
    # March (so the leap day comes last).
    if ((m <= 2)); then
        y=$((y - 1))
    fi
    \builtin local era=$((y / 400)) mp=$(((m + 9) % 12))
    \builtin local yoe=$((y - era * 400))
    \builtin local doe=$((yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 + d - 1))
    __mfaexec_reply=$(((era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss - offset))
}

# `11h42m`, `7m`, `45s` for $1 seconds, in __mfaexec_reply, as `mfaexec list` shows time left.
__mfaexec_format_left() {
    \builtin local secs=$1
    __mfaexec_reply=
    if ((secs < 60)); then
        __mfaexec_reply=${secs}s
        \builtin return 0
    fi
    if ((secs >= 3600)); then
        __mfaexec_reply=$((secs / 3600))h
    fi
    if ((secs % 3600 >= 60)); then
        __mfaexec_reply=${__mfaexec_reply}$((secs % 3600 / 60))m
    fi
}

# Runs before each prompt: once the shell's credentials have expired, says so once, with the
# command that renews them. Keeps $? for whatever runs after it.
__mfaexec_hook() {
    \builtin local status=$? profile
    if [[ -n ${MFAEXEC_PROFILE-} && -n ${AWS_CREDENTIAL_EXPIRATION-} &&
        ${__mfaexec_warned-} != "${MFAEXEC_PROFILE} ${AWS_CREDENTIAL_EXPIRATION}" ]]; then
        __mfaexec_seconds_left
        if [[ -n ${__mfaexec_reply} ]] && ((__mfaexec_reply <= 0)); then
            __mfaexec_warned="${MFAEXEC_PROFILE} ${AWS_CREDENTIAL_EXPIRATION}"
            \builtin printf -v profile '%q' "${MFAEXEC_PROFILE}"
            \builtin printf 'mfaexec: the credentials of profile %s in this shell have expired; renew them with: mfaexec use %s\n' \
                "${MFAEXEC_PROFILE}" "${profile}" >&2
        fi
    fi
    \builtin return "${status}"
}

# PROMPT_COMMAND may be a string or (bash >= 5.1) an array; the hook is added once to either,
# however often this script is loaded. In the string it goes first, so the user's commands
# still see the $? of the command line.
__mfaexec_add_hook() {
    \builtin local declaration command
    declaration=$(\builtin declare -p PROMPT_COMMAND 2>/dev/null) || declaration=
    if [[ ${declaration} == 'declare -a'* ]]; then
        for command in "${PROMPT_COMMAND[@]}"; do
            if [[ ${command} == __mfaexec_hook ]]; then
                \builtin return 0
            fi
        done
        PROMPT_COMMAND+=(__mfaexec_hook)
    elif [[ ${PROMPT_COMMAND-} != *__mfaexec_hook* ]]; then
        # In this branch PROMPT_COMMAND is a string; the array is the branch above.
        # shellcheck disable=SC2128,SC2178
        PROMPT_COMMAND="__mfaexec_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
    fi
}

__mfaexec_add_hook
