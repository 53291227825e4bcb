# What clap_complete cannot generate, added by `mfaexec completions zsh` to the generated
# _mfaexec_clap above and the lists taken from the clap definitions: profile names from the
# user's own AWS config (the generated PROFILE arguments call __mfaexec_complete_profiles), the
# `mfaexec [OPTIONS] PROFILE [-- CMD]` shorthand, and the command wrapped after `--`, completed
# by its own completion (_normal). Everything else goes to the generated _mfaexec_clap.

# The profiles of the user's AWS config.
__mfaexec_complete_profiles() {
    local -a profiles
    profiles=(${(f)"$(command mfaexec list --names 2>/dev/null)"})
    _wanted profiles expl 'AWS profile' compadd -a - profiles
}

_mfaexec() {
    local i
    if (( CURRENT == 2 )); then
        if [[ $PREFIX == -* ]]; then
            _mfaexec_clap "$@"
        else
            _alternative \
                'commands:mfaexec command:_mfaexec_commands' \
                'profiles:AWS profile:__mfaexec_complete_profiles'
        fi
        return
    fi
    if (( ! ${__mfaexec_subcommands[(Ie)${words[2]}]} )); then
        # `mfaexec [OPTIONS] PROFILE [-- CMD]` is `mfaexec exec ...`: the generated part reads
        # it so.
        words=("${words[1]}" exec "${(@)words[2,-1]}")
        (( CURRENT++ ))
    fi
    if [[ ${words[2]} == exec ]]; then
        for (( i = 3; i < CURRENT; i++ )); do
            if [[ ${words[i]} == -- ]]; then
                words=("${(@)words[i+1,-1]}")
                (( CURRENT -= i ))
                _normal
                return
            fi
        done
    fi
    _mfaexec_clap "$@"
}
