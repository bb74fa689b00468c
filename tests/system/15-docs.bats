#!/usr/bin/env bats
# What people are told: `pyshare --help`, pyshare(8) and the bash completion list exactly the
# commands and options that src/cli.c accepts (asked of the built binary itself), the man page
# formats without a warning, and `make check` counts a stage that cannot run here as skipped.
load helpers

CLI=$REPO/src/cli.c
MANPAGE=$REPO/man/pyshare.8
COMPLETION=$REPO/scripts/pyshare.bash-completion

# ---- the truth: src/cli.c's getopt table, checked against what ./pyshare accepts ---------

# "NAME KIND" for each long option of the getopt table (KIND: no_argument, required_argument).
table_options() {
        sed -n '/^static const struct option options\[\] = {/,/^};/p' "$CLI" |
                sed -nE 's/^[[:space:]]*\{"([a-z][a-z-]*)", *([a-z_]+),.*/\1 \2/p'
}

table_shorts() {
        grep -oE 'getopt_long\(argc, argv, "[^"]*"' "$CLI" | sed -E 's/.*"(.*)"/\1/' | tr -d ':+-' |
                grep -o . | sed 's/^/-/' | sort -u
}

# The commands of cli.c's table of verbs.
table_verbs() {
        sed -n '/^} verbs\[\] = {/,/^};/p' "$CLI" | sed -nE 's/^[[:space:]]*\{"([a-z]+)",.*/\1/p' | sort -u
}

# Whether ./pyshare takes OPTION (with a value when it needs one) after [VERB APP], or before
# any command when VERB is empty. --help makes it stop after parsing: nothing runs.
accepts() {
        local verb=$1 opt=$2 kind=$3 arg=$2
        if [ "$kind" = required_argument ]; then
                case $opt in
                --from) arg="$opt=/x" ;;
                *) arg="$opt=5" ;;
                esac
        fi
        if [ -n "$verb" ]; then
                "$PYSHARE" "$verb" x "$arg" --help >/dev/null 2>&1
        else
                "$PYSHARE" "$arg" --help >/dev/null 2>&1
        fi
}

# The options ./pyshare takes before a command (long and short), or only after VERB.
true_options() {
        local verb=$1 name kind
        {
                while read -r name kind; do
                        if accepts "" "--$name" "$kind"; then
                                [ -z "$verb" ] && echo "--$name"
                        elif [ -n "$verb" ] && accepts "$verb" "--$name" "$kind"; then
                                echo "--$name"
                        fi
                done < <(table_options)
                if [ -z "$verb" ]; then
                        for s in $(table_shorts); do accepts "" "$s" no_argument && echo "$s"; done
                fi
        } | sort -u
}

# ---- what the three documents say --------------------------------------------------------

# The options among a text's words, long (--x) or short (-x).
opts_in() { tr -s ' \t[]|,"=/().;:' '\n' | grep -xE -- '--?[a-zA-Z][a-z-]*' | sort -u; }

help_text() { "$PYSHARE" --help; }
help_section() { help_text | awk -v t="$1" '$0 == t { on = 1; next } on && /^$/ { exit } on'; }
help_verbs() { help_section "Commands:" | awk '/^  [a-z]/ { print $1 }' | sort -u; }
help_globals() { help_section "Global options:" | opts_in; }
help_verb_options() { help_section "Commands:" | awk -v v="$1" '/^  [a-z]/ { cur = $1 } cur == v' | opts_in; }

# The man page's source with \- as - and font escapes removed.
man_src() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MANPAGE"; }
man_section() { man_src | awk -v s="$1" '/^\.SH / { on = ($0 == ".SH " s || $0 == ".SH \"" s "\""); next } on'; }
man_subsection() { man_section "$1" | awk -v s="$2" '/^\.SS / { on = ($0 == ".SS \"" s "\""); next } on'; }
# The tags of the .TP paragraphs of a text.
tp_tags() { awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }'; }
man_synopsis_verbs() { man_section SYNOPSIS | awk '/^\.B [a-z]+$/ && $2 != "pyshare" { print $2 }' | sort -u; }
man_command_verbs() { man_section COMMANDS | tp_tags | awk '{ print $2 }' | sort -u; }
man_synopsis_options() {
        man_section SYNOPSIS | awk -v v="$1" '/^\.br/ { if (keep) print block; block = ""; keep = 0; next }
                { block = block "\n" $0 } $0 == ".B " v { keep = 1 } END { if (keep) print block }' | opts_in
}
man_globals() { man_subsection OPTIONS "Global options" | tp_tags | opts_in; }
man_verb_options() { man_subsection OPTIONS "Options of $1" | tp_tags | opts_in; }

# What the completion offers after the words given (the last one is the word being completed),
# with bash-completion's helpers reduced to what _pyshare needs of them.
complete_words() {
        bash -c '
                _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
                _filedir() { :; }
                compopt() { :; }
                source "$1" || exit 1
                shift
                COMP_WORDS=(pyshare "$@")
                COMP_CWORD=$#
                COMPREPLY=()
                _pyshare
                printf "%s\n" "${COMPREPLY[@]}"
        ' complete "$COMPLETION" "$@"
}
completion_verbs() { complete_words "" | grep -v '^-' | grep . | sort -u; }
completion_globals() { complete_words "" | grep '^-' | sed 's/=$//' | sort -u; }
completion_verb_options() {
        comm -23 <(complete_words "$1" - | grep '^-' | sed 's/=$//' | sort -u) <(completion_globals)
}

# Fails, showing the difference, unless the two sets are equal.
same() {
        local what=$1 a_name=$2 a=$3 b_name=$4 b=$5
        [ -n "$a" ] || { echo "$what: $a_name is empty" >&2; return 1; }
        if [ "$a" != "$b" ]; then
                echo "$what: $a_name (<) and $b_name (>) differ:" >&2
                diff <(echo "$a") <(echo "$b") >&2
                return 1
        fi
}

@test "the commands: src/cli.c runs the ones that --help, pyshare(8) and the completion list" {
        truth=$(table_verbs)
        [[ "$truth" == *pip* ]]
        same verbs src/cli.c "$truth" "--help" "$(help_verbs)"
        same verbs src/cli.c "$truth" "pyshare(8) SYNOPSIS" "$(man_synopsis_verbs)"
        same verbs src/cli.c "$truth" "pyshare(8) COMMANDS" "$(man_command_verbs)"
        same verbs src/cli.c "$truth" "the completion" "$(completion_verbs)"
}

@test "every long option: src/cli.c's getopt table, --help, pyshare(8) and the completion name the same" {
        truth=$(table_options | awk '{ print "--" $1 }' | sort -u)
        [[ "$truth" == *--lock-timeout* && "$truth" == *--no-watch* ]]
        same "long options" src/cli.c "$truth" "--help" "$(help_text | opts_in | grep -- '^--')"
        same "long options" src/cli.c "$truth" "pyshare(8) OPTIONS" "$(man_section OPTIONS | tp_tags | opts_in | grep -- '^--')"
        all_completion=$( (completion_globals; for v in $(table_verbs); do completion_verb_options "$v"; done) |
                grep -- '^--' | sort -u)
        same "long options" src/cli.c "$truth" "the completion" "$all_completion"
        # And ./pyshare takes each of them somewhere: before a command or after one.
        taken=$( (true_options ""; for v in $(table_verbs); do [ "$v" = pip ] || true_options "$v"; done) |
                grep -- '^--' | sort -u)
        same "long options" "the getopt table" "$truth" "what ./pyshare accepts" "$taken"
}

@test "global options (long and short): what ./pyshare takes before a command is what all three document" {
        truth=$(true_options "")
        [[ "$truth" == *--lock-timeout* && "$truth" == *-q* && "$truth" == *--version* ]]
        same "global options" "./pyshare" "$truth" "--help Global options" "$(help_globals)"
        same "global options" "./pyshare" "$truth" "pyshare(8) Global options" "$(man_globals)"
        same "global options" "./pyshare" "$truth" "the completion" "$(completion_globals)"
}

@test "each command's options: what ./pyshare takes after it is what all three document for it" {
        for v in $(table_verbs); do
                if [ "$v" = pip ]; then
                        truth="" # what follows "pip APP" is pip's
                else
                        truth=$(true_options "$v")
                fi
                help=$(help_verb_options "$v")
                synopsis=$(man_synopsis_options "$v")
                options=$(man_verb_options "$v")
                completion=$(completion_verb_options "$v")
                for doc in help synopsis options completion; do
                        if [ "$truth" != "${!doc}" ]; then
                                echo "options of $v: ./pyshare (<) and $doc (>) differ:" >&2
                                diff <(echo "$truth") <(echo "${!doc}") >&2
                                return 1
                        fi
                done
        done
        [[ "$(true_options setup)" == *--no-cgi* ]]
}

@test "--help and pyshare(8) name the default service (apache2, or httpd without apache2) and its user" {
        help=$(help_text)
        for w in apache2.service httpd.service www-data apache; do
                [[ "$help" == *"$w"* ]] || { echo "--help does not mention $w" >&2; return 1; }
        done
        service=$(man_subsection OPTIONS "Options of setup" | awk '/^\.BI --service= /,/^\.TP/' | tr '\n' ' ')
        [[ "$service" == *apache2.service* && "$service" == *httpd.service* ]]
        user=$(man_subsection OPTIONS "Options of setup" | awk '/^\.BI --user= /,/^\.TP/' | tr '\n' ' ')
        [[ "$user" == *www-data* && "$user" == *apache* ]]
}

@test "pyshare(8) formats without a warning" {
        require_cmd man
        run bash -c 'man --warnings -l "$1" 2>&1 >/dev/null' man "$MANPAGE"
        assert_status 0
        if [ -n "$output" ]; then
                printf 'man --warnings printed:\n%s\n' "$output" >&2
                return 1
        fi
}

@test "pyshare(8) has an EXIT STATUS section with 0 1 2 65 69 73 77, the codes --help lists" {
        codes=$(man_section "EXIT STATUS" | tp_tags | awk '{ print $2 }' | tr '\n' ' ')
        [ "$codes" = "0 1 2 65 69 73 77 " ] || { echo "EXIT STATUS lists: $codes" >&2; return 1; }
        help_codes=$(help_text | sed -n '/^Exit status:/,/^See/p' | grep -oE '(^|[ :,])[0-9]+ ' | tr -dc '0-9 \n' |
                tr -s ' \n' '\n' | grep . | tr '\n' ' ')
        [ "$help_codes" = "0 1 2 65 69 73 77 " ] || { echo "--help lists: $help_codes" >&2; return 1; }
}

# A copy of tests/run-check in a tree whose runners and make are stand-ins: unit passes 3,
# e2e and bench cannot run here (exit 77). make turns a failed recipe into exit 2, as make does.
run_check_tree() {
        local t=$1
        mkdir -p "$t/tests/e2e" "$t/bench" "$t/bin"
        cp "$REPO/tests/run-check" "$t/tests/run-check"
        printf '#!/bin/bash\necho "cannot run here"\nexit 77\n' >"$t/tests/e2e/run"
        printf '#!/bin/bash\necho "needs root"\nexit 77\n' >"$t/bench/run"
        cat >"$t/bin/make" <<'EOF'
#!/bin/bash
case " $* " in
*" unit "*) echo "unit: 3 passed, 0 failed" ;;
*" e2e "*) tests/e2e/run || exit 2 ;;
esac
exit 0
EOF
        chmod +x "$t/tests/run-check" "$t/tests/e2e/run" "$t/bench/run" "$t/bin/make"
}

@test "make check: a stage whose runner exits 77 is skipped (0 passed, 0 failed) unless CI=true, where it fails" {
        t=$(mktemp -d)
        run_check_tree "$t"
        run env -u CI PATH="$t/bin:$PATH" "$t/tests/run-check" unit e2e bench
        assert_status 0
        echo "$output" | grep -qE '^e2e +skipped +[0-9]+s  0 passed, 0 failed$'
        echo "$output" | grep -qE '^bench +skipped +[0-9]+s  0 passed, 0 failed$'
        assert_output_has "skipped (exit 77, cannot run here): e2e bench"
        [ "$(echo "$output" | tail -1)" = "3 passed, 0 failed" ]

        run env CI=true PATH="$t/bin:$PATH" "$t/tests/run-check" unit e2e bench
        assert_status 1
        echo "$output" | grep -qE '^e2e +FAILED \(exit 77\) +[0-9]+s  0 passed, 1 failed$'
        echo "$output" | grep -qE '^bench +FAILED \(exit 77\) +[0-9]+s  0 passed, 1 failed$'
        [ "$(echo "$output" | tail -1)" = "3 passed, 2 failed" ]

        # Any other failure stays one: a runner that exits 1 is no skip.
        printf '#!/bin/bash\nexit 1\n' >"$t/bench/run"
        run env -u CI PATH="$t/bin:$PATH" "$t/tests/run-check" bench
        assert_status 1
        [ "$(echo "$output" | tail -1)" = "0 passed, 1 failed" ]
        rm -rf "$t"
}

@test "completion: --service offers plain units and template instances, not templates" {
        fake=$(mktemp -d)
        cat >"$fake/systemctl" <<'SH'
#!/bin/sh
case "$*" in
*list-unit-files*) printf '%s\n' "apache2.service enabled enabled" "apache2@.service disabled enabled" \
        "getty@.service enabled enabled" "pst-x.service static -" ;;
*list-units*) printf '%s\n' "apache2@site1.service loaded active running Apache site1" \
        "getty@tty1.service loaded active running Getty" "ssh.service loaded active running SSH" ;;
esac
SH
        chmod +x "$fake/systemctl"
        got=$(PATH="$fake:$PATH" complete_words setup x --service "" | sort)
        rm -rf "$fake"
        want=$(printf '%s\n' apache2.service apache2@site1.service getty@tty1.service pst-x.service ssh.service | sort)
        same "--service completion" "wanted" "$want" "the completion" "$got"
}

@test "completion: probe APP completes the modules of APP's venv, under its Prefix=" {
        require_root
        prefix=/var/tmp/pst-compl
        site=$prefix/pst-compl/lib/python3.11/site-packages
        rm -rf "$prefix"
        mkdir -p "$site/numpy" "$site/flask" "$site/numpy-1.24.2.dist-info" "$site/__pycache__" /etc/pyshare
        touch "$site/six.py" "$site/_cffi_backend.cpython-311-x86_64-linux-gnu.so" "$site/distutils-precedence.pth"
        printf '[App]\nPrefix=%s\n' "$prefix" >/etc/pyshare/pst-compl.conf
        got=$(complete_words probe pst-compl "" | sort)
        got_n=$(complete_words probe pst-compl nu)
        rm -rf "$prefix" /etc/pyshare/pst-compl.conf
        same "probe's module completion" "wanted" "$(printf '%s\n' _cffi_backend flask numpy six | sort)" "the completion" "$got"
        [ "$got_n" = numpy ]
}

@test "pyshare(8): FILES names every key of APP.conf, and the pip example says alice is in the deploy group" {
        conf=$(man_section FILES | awk '/^\.I \/etc\/pyshare\/APP\.conf$/ { on = 1; next } on && /^\.TP/ { exit } on' | tr '\n' ' ')
        for key in Python= Group= Service= User= Prefix= Module= Cgi= Watch=; do
                [[ "$conf" == *"$key"* ]] || { echo "FILES /etc/pyshare/APP.conf lacks $key: $conf" >&2; return 1; }
        done
        examples=$(man_section EXAMPLES | tr '\n' ' ')
        [[ "$examples" == *"runuser -u alice"* ]]
        [[ "$examples" == *"alice installs into the venv as a member of its deploy group"* ]] ||
                { echo "EXAMPLES: $examples" >&2; return 1; }
        [[ "$examples" == *"usermod -aG deploy alice"* ]]
}
