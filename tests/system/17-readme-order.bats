#!/usr/bin/env bats
# The README's two commands in its order on a fresh machine: the first ends in scripts/demo and
# leaves the demo app set up; the second runs the suite, whose demo test (16-demo.bats) must
# then pass, and leave the demo set up as the first command left it.
load helpers

setup_file() {
        require_root
        require_cmd apache2ctl
        # Under .ci/run the README's first command has run: its demo is set up already.
        if demo_is_scripts; then
                echo yes >"$BATS_FILE_TMPDIR/had-demo"
        elif [ -e /etc/pyshare/demo.conf ] || [ -e /opt/pyshare/demo ]; then
                echo "an app named demo is set up on this machine already, and not by scripts/demo; not touching it" >&2
                return 1
        fi
        getent group deploy >/dev/null && echo yes >"$BATS_FILE_TMPDIR/had-deploy"
        id pyshare-demo >/dev/null 2>&1 && echo yes >"$BATS_FILE_TMPDIR/had-user"
        return 0
}

teardown_file() {
        if [ -e "$BATS_FILE_TMPDIR/had-demo" ]; then
                demo_is_scripts || { echo "the demo that was set up before is gone" >&2; return 1; }
                return 0
        fi
        [ ! -e /etc/pyshare/demo.conf ] || "$PYSHARE" remove demo --purge >/dev/null 2>&1 ||
                echo "pyshare remove demo --purge failed" >&2
        rm -rf /opt/pyshare/demo
        [ -e "$BATS_FILE_TMPDIR/had-user" ] || userdel pyshare-demo 2>/dev/null || true
        [ -e "$BATS_FILE_TMPDIR/had-deploy" ] || groupdel deploy 2>/dev/null || true
}

@test "scripts/demo first, then the suite's demo test: every test of 16-demo.bats passes, and the demo stays set up" {
        run env PYSHARE="$PYSHARE" "$REPO/scripts/demo"
        assert_status 0
        [ -f /etc/pyshare/demo.conf ]
        run bats --tap "$REPO/tests/system/16-demo.bats"
        echo "$output" >&2
        assert_status 0
        [ "$(grep -c '^ok ' <<<"$output")" = 3 ]
        ! grep -q '^not ok' <<<"$output" || false
        ! grep -q '# skip' <<<"$output" || false
        # As the first command left it: set up, and its probe imports pyshare_demo.
        [ -f /etc/pyshare/demo.conf ]
        run "$PYSHARE" probe demo
        assert_status 0
        assert_output_has "ok    pyshare_demo 1.0"
}

# A copy of .ci/run and README.md in a tree whose scripts and make are stand-ins that log.
ci_tree() {
        local t=$1
        mkdir -p "$t/.ci" "$t/scripts" "$t/bin"
        cp "$REPO/.ci/run" "$t/.ci/run"
        cp "$REPO/README.md" "$t/README.md"
        printf '#!/bin/bash\necho "install-deps $*" >>"$CI_LOG"\n' >"$t/scripts/install-deps"
        printf '#!/bin/bash\necho "demo $*" >>"$CI_LOG"\nexit ${DEMO_RC:-0}\n' >"$t/scripts/demo"
        printf '#!/bin/bash\necho "make $*" >>"$CI_LOG"\n' >"$t/bin/make"
        chmod +x "$t/.ci/run" "$t/scripts/install-deps" "$t/scripts/demo" "$t/bin/make"
}

@test ".ci/run runs the README's two commands in the README's order, under CI=true, and stops at a failure" {
        t=$(mktemp -d)
        ci_tree "$t"
        run env CI_LOG="$t/log" PATH="$t/bin:$PATH" "$t/.ci/run"
        assert_status 0
        [ "$(cat "$t/log")" = "$(printf '%s\n' "install-deps " "make " "make install" "demo " "install-deps --test" "make check")" ] ||
                { cat "$t/log" >&2; return 1; }
        rm -f "$t/log"
        run env CI_LOG="$t/log" DEMO_RC=3 PATH="$t/bin:$PATH" "$t/.ci/run"
        [ "$status" -ne 0 ]
        ! grep -q "make check" "$t/log" || false
        rm -rf "$t"
}
