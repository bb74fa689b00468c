#!/usr/bin/env bats
# Python upgrades (issue 14): a venv built by another Python than the service's is the cause
# python-mismatch in status and the probe, setup refuses to wire it, and `pyshare rebuild`
# builds it again in place with the same distributions, or leaves the old one exactly as it was.
# The "old Python" is 3.9: a venv of this host's Python made to look as a 3.9 venv does
# (pyvenv.cfg, lib/python3.9, cpython-39 extension modules, bin/python leading to a
# /usr/bin/python3.9 that is not installed), as a dist-upgrade leaves a venv behind.
# A rebuild killed at points through its work: 94-adv-kill-rebuild.bats.
load helpers
load lib/rebuild

APP=pst-rebuild
RUNIT=pst-rebuild.service
RWHEELS=/var/tmp/pyshare-tests/rebuild-wheels

setup_file() { rebuild_setup_file; }
teardown_file() { rebuild_teardown_file; }
setup() { rebuild_setup; }

@test "status: a 3.9 venv under this host's Python is the cause python-mismatch, naming both versions and the fix" {
        [ ! -e /usr/bin/python3.9 ] || skip_or_fail "/usr/bin/python3.9 is installed: the aged venv's bin/python would lead somewhere"
        old_venv
        run "$PYSHARE" status "$APP"
        assert_status 1
        assert_output_has "  problem: $(MISMATCH_TEXT)"
        run "$PYSHARE" status "$APP" --json
        assert_status 1
        cause=$(jq -c ".apps[0].causes[0] | {cause, service_python, venv_python, fix}" <<<"$output")
        [ "$cause" = "{\"cause\":\"python-mismatch\",\"service_python\":\"$PYVER\",\"venv_python\":\"3.9\",\"fix\":\"pyshare rebuild $APP\"}" ]
        [ "$(jq -r '.apps[0].causes[0].text' <<<"$output")" = "$(MISMATCH_TEXT)" ]
}

@test "probe: the mismatch fails the verdict, with the cause in --json" {
        old_venv
        run "$PYSHARE" probe "$APP" --json
        assert_status 1
        [ "$(jq -r '.ok' <<<"$output")" = false ]
        [ "$(jq -r '.causes[0].cause' <<<"$output")" = python-mismatch ]
        [ "$(jq -r '.causes[0].venv_python' <<<"$output")" = 3.9 ]
        jq -e --arg t "$(MISMATCH_TEXT)" '.problems | index($t) != null' <<<"$output" >/dev/null
}

@test "setup refuses to wire a venv of another Python, and changes nothing" {
        old_venv
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        run "$PYSHARE" setup "$APP" --service="$RUNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "$(MISMATCH_TEXT); setup does not wire a virtualenv that the service's Python cannot import"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "rebuild --dry-run prints the requirements and the plan, and changes nothing" {
        old_venv
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        run "$PYSHARE" rebuild "$APP" --dry-run --find-links="$RWHEELS"
        assert_status 0
        assert_output_has "plan for rebuild $APP: /opt/pyshare/$APP, Python 3.9 -> /usr/bin/python3 (Python $PYVER)"
        assert_output_has "requirements (3):
  pstest_cext==2.0
  pstest_cli==1.0
  pstest_pure==1.0"
        assert_output_has "would move /opt/pyshare/$APP aside to /opt/pyshare/.$APP.pyshare-rebuild"
        assert_output_has "would install the requirements as _pyshare with pip install --no-index --find-links $RWHEELS"
        assert_output_has "plan for rebuild $APP: nothing was changed"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
        json=$("$PYSHARE" rebuild "$APP" --dry-run --json --find-links="$RWHEELS" 2>/dev/null)
        [ "$(jq -c '[.dry_run, .old_python_version, .python_version, [.requirements[].requirement]]' <<<"$json")" = \
                "[true,\"3.9\",\"$PYVER\",[\"pstest_cext==2.0\",\"pstest_cli==1.0\",\"pstest_pure==1.0\"]]" ]
}

@test "rebuild brings the venv back: status ok, the modules import, the console script runs" {
        old_venv
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        assert_status 0
        assert_output_has "rebuilt /opt/pyshare/$APP with /usr/bin/python3: 3 distributions"
        assert_output_has "rebuild $APP: done"
        # The rebuild's probe judges the next start; it says nothing about whether the service runs.
        assert_output_has "  now: not judged (after a change only the next start counts; \`pyshare probe $APP\` judges the running service too)"
        run "$PYSHARE" status "$APP"
        assert_status 0
        grep -qx "version = $PYVER.*" "/opt/pyshare/$APP/pyvenv.cfg"
        [ ! -e "/opt/pyshare/$APP/lib/python3.9" ]
        ls "$(site_of "$APP")"/pstest_cext.cpython-*.so >/dev/null
        run "$PYSHARE" probe "$APP" pstest_cext pstest_pure pstest_cli
        assert_status 0
        run runuser -u "$SVC_USER" -- "/opt/pyshare/$APP/bin/pstest-cli"
        assert_status 0
        [ "$output" = "pstest-cli ok" ]
        # nothing of the old venv is left beside it
        [ -z "$(ls -d /opt/pyshare/."$APP".* /opt/pyshare/"$APP".pre-rebuild-* 2>/dev/null)" ]
}

@test "rebuild --keep-old keeps the old venv under the name it prints" {
        old_venv
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS" --keep-old
        assert_status 0
        kept=$(ls -d /opt/pyshare/"$APP".pre-rebuild-*)
        [ -n "$kept" ]
        assert_output_has "kept the old virtualenv as $kept"
        grep -qx 'version = 3.9.2' "$kept/pyvenv.cfg"
}

@test "a rebuild whose requirements cannot be met leaves the old venv byte-identical (contents, owners, modes, ACLs)" {
        old_venv
        site=/opt/pyshare/$APP/lib/python3.9/site-packages
        sed -i 's/^Version: 1.0$/Version: 9.9/' "$site"/pstest_pure-1.0.dist-info/METADATA
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        [ "$status" -ne 0 ]
        assert_output_has "pstest_pure==9.9"
        assert_output_has "rebuild $APP: installing the requirements failed; the old virtualenv /opt/pyshare/$APP is back as it was"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
        [ ! -e "/opt/pyshare/.$APP.pyshare-rebuild" ]
}

@test "rebuild --upgrade takes the newest version of what cannot be had as it was, and lists the change" {
        old_venv
        site=/opt/pyshare/$APP/lib/python3.9/site-packages
        sed -i 's/^Version: 1.0$/Version: 9.9/' "$site"/pstest_pure-1.0.dist-info/METADATA
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS" --upgrade
        assert_status 0
        assert_output_has "  changed: pstest_pure 9.9 -> 1.0"
        run "$PYSHARE" status "$APP"
        assert_status 0
}

@test "a distribution installed from a wheel file of the old Python is asked for by name and version, whether the file is there or gone" {
        old_venv
        # What a 3.9 venv records for `pip install ./pstest_cext-2.0-cp39-cp39-linux_x86_64.whl`.
        site=/opt/pyshare/$APP/lib/python3.9/site-packages
        old_whl=/var/tmp/pyshare-tests/pstest_cext-2.0-cp39-cp39-linux_x86_64.whl
        cp "$RWHEELS"/pstest_cext-*.whl "$old_whl"
        printf '{"archive_info": {}, "url": "file://%s"}\n' "$old_whl" >"$site/pstest_cext-2.0.dist-info/direct_url.json"
        # a pure wheel fits every Python: that URL stays
        pure=$(ls "$RWHEELS"/pstest_pure-*.whl)
        printf '{"archive_info": {}, "url": "file://%s"}\n' "$pure" >"$site/pstest_pure-1.0.dist-info/direct_url.json"
        # Without a source the admin names, pip would ask its own index for that name: a stop.
        run "$PYSHARE" rebuild "$APP" --dry-run
        assert_status 65
        assert_output_has "pstest_cext 2.0 was installed from $old_whl, a wheel for another Python than $PYVER, and pip would look for pstest_cext==2.0 in the index of its own configuration, where that name may belong to another project: give --find-links=DIR with a wheel of it for Python $PYVER (or --index-url=URL)"
        note="pstest_cext 2.0 was installed from $old_whl, a wheel for another Python than $PYVER: asked for as pstest_cext==2.0"
        json=$("$PYSHARE" rebuild "$APP" --dry-run --json --find-links="$RWHEELS" 2>/dev/null)
        [ "$(jq -c '[[.requirements[].requirement], .requirement_notes]' <<<"$json")" = \
                "[[\"pstest_cext==2.0\",\"pstest_cli==1.0\",\"pstest_pure @ file://$pure\"],[\"$note\"]]" ]
        rm -f "$old_whl"
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        assert_status 0
        assert_output_has "  ($note)"
        assert_output_has "rebuild $APP: done"
        run "$PYSHARE" probe "$APP" pstest_cext pstest_pure
        assert_status 0
}

@test "a name, version or URL from the venv that pip would take as an option or not at all stops the rebuild, changing nothing" {
        old_venv
        site=/opt/pyshare/$APP/lib/python3.9/site-packages
        sed -i 's/^Name: pstest_pure$/Name: --index-url=http:\/\/127.0.0.1:2\/x\/#/' "$site"/pstest_pure-1.0.dist-info/METADATA
        grep -q '^Name: --index-url=' "$site"/pstest_pure-1.0.dist-info/METADATA
        printf '{"url": "file:///srv/a b.whl", "archive_info": {}}\n' >"$site/pstest_cext-2.0.dist-info/direct_url.json"
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        assert_status 65
        assert_output_has "pstest_pure-1.0.dist-info names a distribution or version that pip would not take as a requirement (PEP 508 names, PEP 440 versions): remove it, or repair the distribution it belongs to"
        assert_output_has "pstest_cext 2.0 records in its direct_url.json a URL that pip would not take (blanks or control characters): uninstall it, or install it again from an index"
        [[ "$output" != *"127.0.0.1:2"*"Looking in indexes"* ]]
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "an editable install stops the rebuild before anything changes, naming it" {
        old_venv
        site=/opt/pyshare/$APP/lib/python3.9/site-packages
        printf '{"url": "file:///srv/src/pstest_cli", "dir_info": {"editable": true}}\n' \
                >"$site"/pstest_cli-1.0.dist-info/direct_url.json
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        assert_status 65
        assert_output_has "pstest_cli 1.0 is an editable install of file:///srv/src/pstest_cli: pip cannot install it again as it was"
        assert_output_has "rebuild $APP: 1 distribution cannot be installed again as it was; nothing was changed"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "a rebuild interrupted with the old venv aside is rolled back by setup, and finished by the next rebuild" {
        old_venv
        before=$(snapshot "/opt/pyshare/$APP")
        # as a kill right after the new venv's mkdir leaves it
        mv "/opt/pyshare/$APP" "/opt/pyshare/.$APP.pyshare-rebuild"
        mkdir -m 0700 "/opt/pyshare/$APP"
        run "$PYSHARE" setup "$APP" --service="$RUNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "rolled back an interrupted rebuild: /opt/pyshare/$APP is the old virtualenv again"
        assert_output_has "$(MISMATCH_TEXT)"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP")" ]
        # committed, killed while deleting the old one
        cp -a "/opt/pyshare/$APP" "/opt/pyshare/.$APP.pyshare-rebuilt"
        run "$PYSHARE" rebuild "$APP" --find-links="$RWHEELS"
        assert_status 0
        assert_output_has "deleted the old virtualenv of a rebuild of $APP that was interrupted after it was done"
        [ ! -e "/opt/pyshare/.$APP.pyshare-rebuilt" ]
}

# The journal entries pyshare sends while "$@" runs, one per line ("FIELD=value|FIELD=value..."):
# from journalctl where journald runs, else from a listener on journald's socket, which
# sd_journal_send writes its datagrams to.
journal_of() {
        if [ -S /run/systemd/journal/socket ]; then
                local since
                since=$(date '+%Y-%m-%d %H:%M:%S')
                "$@"
                journalctl --sync 2>/dev/null || true
                journalctl --since "$since" -o json SYSLOG_IDENTIFIER=pyshare |
                        jq -r '"PYSHARE_APP=\(.PYSHARE_APP)|MESSAGE=\(.MESSAGE)"'
                return
        fi
        local made=() d
        for d in /run/systemd /run/systemd/journal; do
                [ -d "$d" ] || { mkdir "$d"; made=("$d" "${made[@]}"); }
        done
        local got=$BATS_TEST_TMPDIR/journal
        /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(5)
with open(sys.argv[1], "w") as out:
    try:
        while True:
            out.write("|".join(s.recv(65536).decode().split("\n")) + "\n")
            out.flush()
    except socket.timeout:
        pass
' "$got" &
        local pid=$!
        while [ ! -e "$got.ready" ]; do sleep 0.1; done
        "$@"
        wait "$pid"
        rm -f /run/systemd/journal/socket
        for d in "${made[@]}"; do rmdir "$d"; done
        cat "$got"
}

@test "the dpkg trigger's check prints each mismatch and logs it with PYSHARE_APP=, and rebuilds nothing" {
        old_venv
        grep -qx 'interest-noawait /usr/bin/python3' "$REPO/debian/pyshare.triggers"
        grep -qx 'interest-noawait /usr/lib/apache2/modules/mod_wsgi.so' "$REPO/debian/pyshare.triggers"
        grep -q '/usr/sbin/pyshare __python-check || true' "$REPO/debian/pyshare.postinst"
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        check() {
                DPKG_MAINTSCRIPT_NAME=postinst DPKG_MAINTSCRIPT_PACKAGE=pyshare "$PYSHARE" __python-check \
                        >"$BATS_TEST_TMPDIR/out" 2>&1
                echo $? >"$BATS_TEST_TMPDIR/rc"
        }
        journal=$(journal_of check)
        [ "$(cat "$BATS_TEST_TMPDIR/rc")" = 0 ]
        output=$(cat "$BATS_TEST_TMPDIR/out")
        assert_output_has "pyshare: warning: app $APP: $(MISMATCH_TEXT)"
        assert_output_has "pyshare: warning: 1 app cannot be imported by the Python its service would run now; pyshare rebuilds nothing by itself: run the \`pyshare rebuild\` named above"
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
        output=$journal
        assert_output_has "PYSHARE_APP=$APP|"
        grep "PYSHARE_APP=$APP|" <<<"$journal" | grep -qF "MESSAGE=app $APP: $(MISMATCH_TEXT)"
}
