#!/usr/bin/env bats
# The service model on a host without systemd (issue 12): probe and status read the next start
# from the unit's files and its drop-ins, never from pyshare's files alone; each failure has a
# stable cause (man/pyshare.8) and a fix.
load helpers

APP=pst-model
MUNIT=pst-model.service
DROPIN=/etc/systemd/system/$MUNIT.d/50-pyshare.conf
SVCENV=/etc/pyshare/services/$MUNIT.env

setup_file() {
        fixtures
        cleanup_app "$APP"
        rm -rf "/etc/systemd/system/$MUNIT.d" /etc/default/pst-model-legacy
        make_unit "$MUNIT"
        "$PYSHARE" setup "$APP" --service="$MUNIT" --group="$DEPLOY_GROUP" --module pstest_pure --no-probe >/dev/null
        deployer_install "$APP" 022 "$(wheel pstest_pure)"
        "$PYSHARE" repair "$APP" >/dev/null
        cp "$DROPIN" "$BATS_FILE_TMPDIR/dropin"
}

teardown_file() {
        cleanup_app "$APP"
        rm -rf "/etc/systemd/system/$MUNIT.d" "/etc/systemd/system/$MUNIT" /etc/default/pst-model-legacy
}

restore() {
        rm -rf "/etc/systemd/system/$MUNIT.d" /etc/default/pst-model-legacy
        mkdir -p "/etc/systemd/system/$MUNIT.d"
        cp "$BATS_FILE_TMPDIR/dropin" "$DROPIN"
}

# The "cause" of probe --json, and the causes of status --json's findings.
probe_cause() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cause"])'; }
status_causes() { /usr/bin/python3 -c 'import json,sys; print(" ".join(f["cause"] for f in json.load(sys.stdin)["apps"][0]["findings"]))'; }

@test "wired: probe and status ok, judged from the unit's files, the service not running" {
        restore
        run "$PYSHARE" probe "$APP"
        assert_status 0
        assert_output_has "probe $APP as $SVC_USER (embedded Python"
        assert_output_has "environment of $MUNIT's next start"
        assert_output_has "  next start: ok (the unit's files: systemd does not run here)"
        assert_output_has "  now: $MUNIT is not running: judged its next start only"
        run "$PYSHARE" status "$APP"
        assert_status 0
        assert_output_has "note: $MUNIT is not running: judged its next start only"
        assert_output_has "note: $MUNIT: the next start is read from the unit's files (systemd is not running)"
        run "$PYSHARE" --json probe "$APP"
        assert_status 0
        echo "$output" | /usr/bin/python3 -c 'import json,sys
p = json.load(sys.stdin)
assert p["ok"] and p["cause"] is None and p["findings"] == [], p
assert p["next_start"] == {"ok": True, "from": "files"}, p
assert p["now"] == {"judged": True, "running": False, "ok": None, "probed": False}, p'
}

@test "the drop-in removed: the probe no longer feeds pyshare's EnvironmentFile in (dropin-missing)" {
        restore
        rm "$DROPIN"
        # pyshare's EnvironmentFile still carries the path: only the unit decides.
        grep -q "^PYTHONPATH=.*$(site_of "$APP")" "$SVCENV"
        run "$PYSHARE" probe "$APP"
        assert_status 1
        assert_output_has "FAIL  pstest_pure  ModuleNotFoundError: No module named 'pstest_pure'"
        assert_output_has "  dropin-missing: $MUNIT does not load $SVCENV: pyshare's drop-in $DROPIN is missing: run \`pyshare setup $APP\`"
        assert_output_has "  next start: FAIL (the unit's files: systemd does not run here)"
        run "$PYSHARE" --json probe "$APP"
        assert_status 1
        [ "$(echo "$output" | probe_cause)" = dropin-missing ]
        run "$PYSHARE" status "$APP"
        assert_status 1
        assert_output_has "  problem: $MUNIT does not load $SVCENV: pyshare's drop-in $DROPIN is missing: run \`pyshare setup $APP\`"
        run "$PYSHARE" --json status "$APP"
        assert_status 1
        [ "$(echo "$output" | status_causes)" = dropin-missing ]
        run "$PYSHARE" setup "$APP" --service="$MUNIT" --group="$DEPLOY_GROUP" -q
        assert_status 0
        run "$PYSHARE" status "$APP"
        assert_status 0
}

@test "a later EnvironmentFile replaces PYTHONPATH: pythonpath-overridden names the file and line" {
        restore
        printf '# legacy\nPYTHONPATH=/srv/legacy\n' >/etc/default/pst-model-legacy
        printf '[Service]\nEnvironmentFile=/etc/default/pst-model-legacy\n' >"/etc/systemd/system/$MUNIT.d/90-legacy.conf"
        run "$PYSHARE" probe "$APP"
        assert_status 1
        assert_output_has "FAIL  pstest_pure  ModuleNotFoundError: No module named 'pstest_pure'"
        assert_output_has "  pythonpath-overridden: /etc/default/pst-model-legacy:2 sets PYTHONPATH=/srv/legacy, which replaces the app's (set at $SVCENV:"
        assert_output_has "$MUNIT's next start does not get $APP's PYTHONPATH; remove that line or make it keep the value it replaces"
        run "$PYSHARE" --json probe "$APP"
        [ "$(echo "$output" | probe_cause)" = pythonpath-overridden ]
        run "$PYSHARE" --json status "$APP"
        assert_status 1
        [ "$(echo "$output" | status_causes)" = pythonpath-overridden ]
        # Harmless: a later file that sets something else.
        printf 'PST_UNRELATED=1\n' >/etc/default/pst-model-legacy
        run "$PYSHARE" probe "$APP"
        assert_status 0
        run "$PYSHARE" status "$APP"
        assert_status 0
        restore
}

@test "a module that fails to import for its own reasons: import-error" {
        restore
        local sp
        sp=$(site_of "$APP")
        runuser -u "$DEPLOYER" -- sh -c "umask 002 && printf 'raise RuntimeError(\"boom\")\n' >$sp/pst_model_boom.py"
        run "$PYSHARE" --json probe "$APP" pst_model_boom
        assert_status 1
        [ "$(echo "$output" | probe_cause)" = import-error ]
        run "$PYSHARE" probe "$APP" pst_model_boom
        assert_output_has "  import-error: an import fails at $MUNIT's next start (its error is above)"
        rm -f "$sp/pst_model_boom.py"
}

@test "every cause the code can give is listed in the man page" {
        local c
        for c in $(grep '^#define SERVICE_CAUSE_' "$REPO/src/service.h" | grep -o '"[a-z-]*"' | tr -d '"'); do
                grep -q "^\.B $(sed 's/-/\\\\-/g' <<<"$c")\$" "$REPO/man/pyshare.8" || {
                        echo "cause $c is not in man/pyshare.8" >&2
                        return 1
                }
        done
}
