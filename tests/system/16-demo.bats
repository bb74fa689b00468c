#!/usr/bin/env bats
# The README's first command ends in scripts/demo: with what `scripts/install-deps` (without
# --test) installs, the demo sets up its app for the default service, Apache, and its probe
# imports pyshare_demo as Apache's user.
# The README runs scripts/demo first and the suite second: a demo that scripts/demo set up is
# taken over (run again, probed, removed) and set up again at the end, as it was found; any
# other app named demo is left alone.
load helpers

DEMO_USER=pyshare-demo

setup_file() {
        require_root
        if demo_is_scripts; then
                echo yes >"$BATS_FILE_TMPDIR/had-demo"
        elif [ -e /etc/pyshare/demo.conf ] || [ -e /opt/pyshare/demo ]; then
                echo "an app named demo is set up on this machine already, and not by scripts/demo; not touching it" >&2
                return 1
        fi
        # The demo creates the group deploy when it is missing; then it goes again afterwards.
        if getent group deploy >/dev/null; then
                echo yes >"$BATS_FILE_TMPDIR/had-deploy"
        fi
        if id "$DEMO_USER" >/dev/null 2>&1; then
                echo yes >"$BATS_FILE_TMPDIR/had-user"
        fi
}

teardown_file() {
        if [ -e "$BATS_FILE_TMPDIR/had-demo" ]; then
                # As the README's first command left it.
                env PYSHARE="$PYSHARE" "$REPO/scripts/demo" >/dev/null 2>&1 ||
                        { echo "scripts/demo failed to set the demo up again" >&2; return 1; }
                demo_is_scripts || { echo "the demo is not set up again" >&2; return 1; }
                return 0
        fi
        if [ -e /etc/pyshare/demo.conf ]; then
                "$PYSHARE" remove demo --purge >/dev/null 2>&1 || echo "pyshare remove demo --purge failed" >&2
        fi
        rm -rf /opt/pyshare/demo
        [ -e "$BATS_FILE_TMPDIR/had-user" ] || userdel "$DEMO_USER" 2>/dev/null || echo "no $DEMO_USER"
        [ -e "$BATS_FILE_TMPDIR/had-deploy" ] || groupdel deploy 2>/dev/null || echo "no group deploy"
}

@test "scripts/install-deps without --test installs Apache and mod_wsgi, which the demo's default service needs" {
        run "$REPO/scripts/install-deps" --list
        assert_status 0
        echo "$output" | grep -qx apache2
        echo "$output" | grep -qx libapache2-mod-wsgi-py3
        # What the demo and its probe use comes from those packages.
        require_cmd apache2ctl
        runtime=$output
        for f in "$(command -v apache2ctl)" /usr/lib/apache2/modules/mod_wsgi.so; do
                pkg=$(dpkg -S "$f" | cut -d: -f1)
                grep -qx "$pkg" <<<"$runtime" || { echo "$f comes from $pkg, not in install-deps' list" >&2; return 1; }
        done
}

@test "scripts/demo sets up the demo app for apache2.service and ends with the probe importing pyshare_demo as www-data" {
        run env PYSHARE="$PYSHARE" "$REPO/scripts/demo"
        assert_status 0
        grep -qx "Service=apache2.service" /etc/pyshare/demo.conf
        grep -qx "User=www-data" /etc/pyshare/demo.conf
        # The last probe is the one of the final `pyshare setup demo`: it imports the package the
        # demo's deployer installed, from the venv, as Apache's user.
        last_probe=$(echo "$output" | awk '/^(.*: )?probe demo as / { block = "" } { block = block $0 "\n" } END { printf "%s", block }')
        [[ "$last_probe" == *"probe demo as www-data ("* ]] || { echo "no probe as www-data at the end:" >&2; echo "$output" >&2; return 1; }
        echo "$last_probe" | grep -qE "^ +ok +pyshare_demo 1\.0  $(site_of demo)/pyshare_demo/__init__\.py$" ||
                { echo "pyshare_demo did not import from the venv:" >&2; echo "$output" >&2; return 1; }
        if echo "$last_probe" | grep -q 'FAIL'; then
                echo "$output" >&2
                return 1
        fi
        # The deployer installed it as a member of the deploy group, never root.
        [ "$(stat -c %U "$(site_of demo)/pyshare_demo/__init__.py")" = "$DEMO_USER" ]
        id -nG "$DEMO_USER" | grep -qw deploy
        run "$PYSHARE" probe demo
        assert_status 0
}

@test "after the demo, pyshare remove demo --purge leaves nothing of it" {
        [ -e /etc/pyshare/demo.conf ]
        run "$PYSHARE" remove demo --purge
        assert_status 0
        [ ! -e /etc/pyshare/demo.conf ]
        [ ! -e /etc/pyshare/demo.env ]
        [ ! -e /opt/pyshare/demo ]
        [ ! -e /etc/tmpfiles.d/pyshare-demo.conf ]
}
