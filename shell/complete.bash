# What clap_complete cannot generate, appended by `mfaexec completions bash` after the generated
# _mfaexec above and the lists taken from the clap definitions: profile names from the user's
# own AWS config, the `mfaexec [OPTIONS] PROFILE [-- CMD]` shorthand, and the command wrapped
# after `--`, completed by its own completion where bash-completion is loaded. Everything else
# goes to the generated _mfaexec.

# Adds the profiles of the user's AWS config that start with $1 to COMPREPLY.
__mfaexec_complete_profiles() {
    \builtin local name quoted
    # Without the binary or a readable config there is nothing to offer, and nothing to say.
    # shellcheck disable=SC2312
    while IFS= \builtin read -r name; do
        if [[ -n ${name} && ${name} == "$1"* ]]; then
            \builtin printf -v quoted '%q' "${name}"
            COMPREPLY+=("${quoted}")
        fi
    done < <(\command mfaexec list --names 2>/dev/null)
}

# Completes COMP_WORDS from index $1 on as a command line of its own: the command's name, then
# what its completion offers.
__mfaexec_complete_command() {
    if \builtin declare -F _comp_command_offset >/dev/null; then
        _comp_command_offset "$1"
    elif \builtin declare -F _command_offset >/dev/null; then
        _command_offset "$1"
    elif ((COMP_CWORD == $1)); then
        # Without bash-completion: command names here, file names (-o default) after.
        \builtin local name
        COMPREPLY=()
        # shellcheck disable=SC2312 # compgen fails only when nothing matches
        while IFS= \builtin read -r name; do
            COMPREPLY+=("${name}")
        done < <(\builtin compgen -c -- "${COMP_WORDS[COMP_CWORD]}")
    fi
}

__mfaexec_contains() {
    \builtin local word=$1 item
    \builtin shift
    for item in "$@"; do
        if [[ ${item} == "${word}" ]]; then
            \builtin return 0
        fi
    done
    \builtin return 1
}

_mfaexec_complete() {
    \builtin local cur=${COMP_WORDS[COMP_CWORD]-}
    \builtin local -a words
    words=("${COMP_WORDS[@]}")
    \builtin local cword=${COMP_CWORD} i
    COMPREPLY=()
    if ((cword == 1)); then
        _mfaexec "$@"
        if [[ ${cur} != -* ]]; then
            __mfaexec_complete_profiles "${cur}"
        fi
        \builtin return 0
    fi
    if ! __mfaexec_contains "${words[1]}" "${__mfaexec_subcommands[@]}"; then
        # `mfaexec [OPTIONS] PROFILE [-- CMD]` is `mfaexec exec ...`: the generated part reads
        # it so.
        words=("${words[0]}" exec "${words[@]:1}")
        cword=$((cword + 1))
    fi
    \builtin local subcommand=${words[1]}
    if [[ ${subcommand} == exec ]]; then
        for ((i = 1; i < COMP_CWORD; i++)); do
            if [[ ${COMP_WORDS[i]} == -- ]]; then
                __mfaexec_complete_command $((i + 1))
                \builtin return 0
            fi
        done
    fi
    if [[ ${cur} != -* ]] && __mfaexec_contains "${subcommand}" "${__mfaexec_profile_commands[@]}"; then
        # Is this word the PROFILE? Not when it is an option's value, nor when a profile came
        # already (except for `clear` and `warm`, which take several).
        \builtin local positionals=0 value_next=0
        for ((i = 2; i < cword; i++)); do
            if ((value_next)); then
                value_next=0
            elif [[ ${words[i]} == = ]]; then
                # bash splits `--duration=1h` at the `=`: the next word is the value.
                value_next=1
            elif __mfaexec_contains "${words[i]}" "${__mfaexec_value_options[@]}"; then
                value_next=1
            elif [[ ${words[i]} != -* ]]; then
                positionals=$((positionals + 1))
            fi
        done
        if ((!value_next)) && [[ ${words[cword - 1]} != = ]] &&
            { ((positionals == 0)) || [[ ${subcommand} == clear || ${subcommand} == warm ]]; }; then
            __mfaexec_complete_profiles "${cur}"
            \builtin return 0
        fi
    fi
    \builtin local -a COMP_WORDS
    COMP_WORDS=("${words[@]}")
    \builtin local COMP_CWORD=${cword}
    _mfaexec "${words[0]}" "${cur}" "${words[cword - 1]}"
}

# The generated part registered _mfaexec; this one goes first and hands over to it.
if [[ ${BASH_VERSINFO[0]} -eq 4 && ${BASH_VERSINFO[1]} -ge 4 || ${BASH_VERSINFO[0]} -gt 4 ]]; then
    \builtin complete -F _mfaexec_complete -o nosort -o bashdefault -o default mfaexec
else
    \builtin complete -F _mfaexec_complete -o bashdefault -o default mfaexec
fi
