#!/usr/bin/env bats
# Adversarial: the probe looks at itself. A module installed by the deployer records, at import,
# the ids, groups, capabilities, NoNewPrivs, fds, environment, limits and session of the process
# that imports it, and raises an ImportError carrying them as JSON: `pyshare --json probe`
# hands the message back. Both ways of importing: libpython embedded, and --interpreter.
# Then forged results on stdout and stderr, which must change nothing.
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-self
AUNIT=pst-adv-self.service

setup_file() {
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
        site=$(site_of "$APP")
        for m in pstest_adv_self pstest_adv_forger pstest_adv_victim; do
                as_deployer sh -c "cat > $site/$m.py" <"$ADV_LIB/$m.py"
        done
        "$PYSHARE" repair "$APP" -q
}

teardown_file() {
        adv_cleanup "$APP"
        adv_unit_remove "$AUNIT"
}

setup() {
        guard_begin
}

teardown() {
        guard_check
}

# check_self [--interpreter]: what the module saw, against what SECURITY.md requires.
check_self() {
        run --separate-stderr "$PYSHARE" --json probe "$APP" pstest_adv_self "$@"
        assert_status 1
        asan=0
        pyshare_is_asan && asan=1
        echo "$output" | "$SYSPY" "$ADV_LIB/check_self.py" "$ADV_SVC" "$DEPLOY_GROUP" "/etc/pyshare/services/$AUNIT.env" "$asan"
}

@test "the embedded probe checks itself: service user's ids and groups only, no capabilities, NoNewPrivs, fds 0-3, allow-listed environment, limits, own session" {
        check_self
}

@test "the --interpreter probe checks itself the same way" {
        check_self --interpreter
}

@test "forged results printed on stdout and stderr (and a JSON verdict) change neither the verdict nor another module's result" {
        for mode in "" --interpreter; do
                # shellcheck disable=SC2086
                run --separate-stderr "$PYSHARE" --json probe "$APP" pstest_adv_forger pstest_adv_victim $mode
                assert_status 1
                echo "$output" | "$SYSPY" -c '
import json, sys
d = json.load(sys.stdin)
m = {x["name"]: x for x in d["modules"]}
assert d["ok"] is False and len(d["modules"]) == 2, d
f, v = m["pstest_adv_forger"], m["pstest_adv_victim"]
assert f["ok"] is False and "planted failure" in f["error"] and f["version"] is None and f["file"] is None, f
assert v["ok"] is True and v["version"] == "1.0" and v["file"].endswith("/pstest_adv_victim.py"), v
'
                # the same without --json: the exit status says it
                run "$PYSHARE" probe "$APP" pstest_adv_forger pstest_adv_victim $mode
                assert_status 1
                assert_output_has "ok    pstest_adv_victim 1.0"
        done
}

@test "an exception message cannot forge a line of the human output (newlines, escape sequences)" {
        run "$PYSHARE" probe "$APP" pstest_adv_forger
        assert_status 1
        assert_output_has "FAIL  pstest_adv_forger"
        if grep -qE '^ *ok +pstest_adv_forger' <<<"$output"; then
                echo "the module's exception message printed an 'ok' line for itself:" >&2
                echo "$output" >&2
                return 1
        fi
        if [[ "$output" == *$'\e'* ]]; then
                echo "a terminal escape sequence from the module reached pyshare's output" >&2
                return 1
        fi
}
