#!/usr/bin/env bats
# Issue 15: what a newcomer sees, as transcripts: the README's next step after the probe's
# FAIL, repair naming its changes, remove --restart, the words of status and probe, a missing
# --python, a mistyped app, and the hints and probe results under the package hook.
load helpers
UNIT=pst-new.service
APP=pst-new
NOVER_WHEELS=/var/tmp/pst-new-wheels

setup_file() {
        fixtures
        make_unit "$UNIT"
        cleanup_app "$APP" pst-new-hook
        rm -rf "$NOVER_WHEELS" /var/lib/pyshare/hook/pst-new-hook
        mkdir -p "$NOVER_WHEELS"
        # A distribution whose module has no __version__: the probe shows the distribution's.
        /usr/bin/python3 "$REPO/tests/system/lib/mkwheel.py" --out "$NOVER_WHEELS" --name pstest_nover \
                --version 4.2 --module "pstest_nover/__init__.py=VALUE = 1" >/dev/null
        chmod -R a+rX "$NOVER_WHEELS"
}

teardown_file() {
        cleanup_app "$APP" pst-new-hook pst-new-tpo
        rm -rf "$NOVER_WHEELS" /var/lib/pyshare/hook/pst-new-hook
        rmdir /var/lib/pyshare/hook /var/lib/pyshare 2>/dev/null || true
        rm -f "/etc/systemd/system/$UNIT"
}

@test "README: the seed's setup ends in FAIL and exit 1; pyshare pip installs, then the probe is ok" {
        run ps_setup "$APP" --module=pstest_pure --module=pstest_nover
        assert_status 1
        assert_output_has "  FAIL  pstest_pure  ModuleNotFoundError: No module named 'pstest_pure'"
        run "$PYSHARE" pip "$APP" install --no-index --no-deps "$(wheel pstest_pure)" "$NOVER_WHEELS"/pstest_nover-4.2-*.whl
        assert_status 0
        run "$PYSHARE" probe "$APP"
        assert_status 0
        assert_output_has "  ok    pstest_pure 1.0  $(site_of "$APP")/pstest_pure/__init__.py"
}

@test "probe: a module without __version__ shows its distribution's version from the metadata" {
        run "$PYSHARE" probe "$APP" pstest_nover
        assert_status 0
        assert_output_has "  ok    pstest_nover 4.2  $(site_of "$APP")/pstest_nover/__init__.py"
        run "$PYSHARE" --json probe "$APP" pstest_nover
        echo "$output" | /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin)["modules"][0]; assert m["version"] == "4.2", m'
}

@test "repair --dry-run and -v name each entry and what changes, capped with a count" {
        site=$(site_of "$APP")
        chmod 0600 "$site/pstest_pure/__init__.py"
        run "$PYSHARE" --dry-run repair "$APP"
        assert_status 0
        assert_output_has "  would change $site/pstest_pure/__init__.py: mode 0600 -> 0660"
        assert_output_has "the changes above would be made"
        [ "$(stat -c %a "$site/pstest_pure/__init__.py")" = 600 ]
        # Without -v the changes are counted, not listed; with -v they are listed.
        run "$PYSHARE" repair "$APP"
        assert_status 0
        [[ "$output" != *"changed $site/pstest_pure/__init__.py"* ]]
        chmod 0600 "$site/pstest_pure/__init__.py"
        chgrp "$DEPLOYER" "$site/pstest_pure/sub.py" 2>/dev/null || chgrp nogroup "$site/pstest_pure/sub.py"
        run "$PYSHARE" -v repair "$APP"
        assert_status 0
        assert_output_has "  changed $site/pstest_pure/__init__.py: mode 0600 -> 0660"
        grep -qE "^  changed $site/pstest_pure/sub\.py: group [a-z_]+ -> $DEPLOY_GROUP\$" <<<"$output"
        # More than 20 changes: the first 20, then how many more.
        for i in $(seq 1 25); do touch "$site/pst_many_$i.txt" && chmod 0600 "$site/pst_many_$i.txt"; done
        run "$PYSHARE" --dry-run repair "$APP"
        assert_status 0
        [ "$(grep -c '^  would change ' <<<"$output")" = 20 ]
        assert_output_has "  ... and 5 more entries"
        "$PYSHARE" repair "$APP" >/dev/null
        rm -f "$site"/pst_many_*.txt
}

@test "status: one entry that differs is 'entry differs', two are 'entries differ'" {
        site=$(site_of "$APP")
        "$PYSHARE" repair "$APP" >/dev/null
        chmod 0640 "$site/pstest_pure/sub.py"
        run "$PYSHARE" status "$APP"
        assert_output_has "note: 1 entry differs from pyshare's owners, modes or ACLs (pyshare repair $APP puts it right)"
        chmod 0640 "$site/pstest_pure/__init__.py"
        run "$PYSHARE" status "$APP"
        assert_output_has "note: 2 entries differ from pyshare's owners, modes or ACLs (pyshare repair $APP puts them right)"
        "$PYSHARE" repair "$APP" >/dev/null
}

@test "probe header: when Python cannot start it says why instead of 'Python ?'" {
        venv=$(venv_of "$APP")
        mv "$venv/bin/python" "$venv/bin/python.away"
        run "$PYSHARE" probe "$APP" --interpreter
        mv "$venv/bin/python.away" "$venv/bin/python"
        assert_status 1
        assert_output_has "probe $APP as $SVC_USER (interpreter Python not started: the probe failed before it, environment of"
        [[ "$output" != *"Python ?"* ]]
}

@test "a --python that does not exist is named as missing, not as a package to install" {
        run ps_setup pst-new-tpo --python=/usr/bin/python3.9 --no-probe
        assert_status 69
        assert_output_has "pyshare: error: Python /usr/bin/python3.9 does not exist: name an installed Python with --python=PATH (ls /usr/bin/python3*), or leave --python out for /usr/bin/python3"
        [[ "$output" != *"apt-get install"* ]]
        [ ! -e /etc/pyshare/pst-new-tpo.conf ]
}

@test "status of a mistyped app suggests the nearest app that is set up first" {
        run "$PYSHARE" status pst-nwe
        assert_status 69
        assert_output_has "pyshare: error: pst-nwe is not set up (there is no /etc/pyshare/pst-nwe.conf): did you mean $APP? Otherwise run \`pyshare setup pst-nwe\` first"
        run "$PYSHARE" status pst-zzzzzzzzz
        assert_status 69
        assert_output_has "pyshare: error: pst-zzzzzzzzz is not set up: there is no /etc/pyshare/pst-zzzzzzzzz.conf; run \`pyshare setup pst-zzzzzzzzz\` first"
}

@test "remove --restart is accepted; without systemd it says it cannot restart" {
        run ps_setup pst-new-tpo --no-probe
        assert_status 0
        run "$PYSHARE" remove pst-new-tpo --restart
        assert_status 0
        assert_output_has "systemd is not running here: cannot restart $UNIT; start it after boot"
        run "$PYSHARE" remove pst-new-tpo --restart
        assert_status 0
        [[ "$output" != *"restart"*"$UNIT"* ]]
        run "$PYSHARE" list --restart
        assert_status 2
}

@test "hints fit the caller: a shell gets systemctl restart, the package hook no command" {
        run ps_setup pst-new-tpo --no-probe
        assert_status 0
        assert_output_has "restart $UNIT when it runs, to give it the new environment (systemctl restart $UNIT)"
        "$PYSHARE" remove pst-new-tpo >/dev/null
        run env PYSHARE_CALLER=app-hook DPKG_MAINTSCRIPT_NAME=postinst "$PYSHARE" setup pst-new-tpo --service="$UNIT" \
                --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "$UNIT gets the new environment when it starts"
        [[ "$output" != *"systemctl restart"* ]]
        [[ "$output" != *"--restart"* ]]
        cleanup_app pst-new-tpo
}

# The journal without journald: a datagram socket at its path, in a mount namespace of our own.
# Prints the fields of every entry received while running the command, after its output.
with_fake_journal() {
        unshare --mount --propagation private -- /bin/bash -c '
                mkdir -p /run/systemd
                mount -t tmpfs -o mode=0755 tmpfs /run/systemd
                mkdir /run/systemd/journal
                /usr/bin/python3 -c "
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/run/systemd/journal/socket\")
open(\"/run/systemd/ready\", \"w\").close()
out = open(sys.argv[1], \"wb\")
while True:
    d = s.recv(1 << 20)
    out.write(d.replace(b\"\\n\", b\" | \") + b\"\\n\")
    out.flush()
" "$1" &
                srv=$!
                while [ ! -e /run/systemd/ready ]; do sleep 0.05; done
                shift
                "$@"
                rc=$?
                sleep 0.2
                kill $srv
                exit $rc
        ' journal "$@"
}

@test "a failed setup under dpkg: the probe's failures in dpkg's output and in the journal with PYSHARE_APP=" {
        mkdir -p /usr/lib/pyshare
        printf '[App]\nService=%s\nGroup=%s\nModule=pstest_missing\n' "$UNIT" "$DEPLOY_GROUP" >/usr/lib/pyshare/pst-new-hook.conf
        jlog=$(mktemp)
        run with_fake_journal "$jlog" env DPKG_MAINTSCRIPT_NAME=postinst DPKG_MAINTSCRIPT_PACKAGE=pst-new-hook \
                PATH="$(dirname "$PYSHARE"):$PATH" "$REPO/scripts/pyshare-app-hook" postinst pst-new-hook configure
        journal=$(cat "$jlog")
        rm -f "$jlog" /usr/lib/pyshare/pst-new-hook.conf
        assert_status 1
        assert_output_has "  FAIL  pstest_missing  ModuleNotFoundError: No module named 'pstest_missing'"
        assert_output_has "pyshare-app-hook: \`pyshare setup pst-new-hook\` failed (exit 1): see its messages above;"
        grep -q "MESSAGE=  FAIL  pstest_missing  ModuleNotFoundError: No module named 'pstest_missing' | .*PYSHARE_APP=pst-new-hook" \
                <<<"$journal" || { echo "journal:" >&2; echo "$journal" >&2; return 1; }
        # No hint for a shell right before the hook's own restart.
        [[ "$output" != *"systemctl restart"* ]]
        cleanup_app pst-new-hook
}
