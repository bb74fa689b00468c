#!/usr/bin/env bats
# --dry-run plans exactly what the real run then does: setup, repair, remove and rebuild, file
# by file, on a fresh system (no app on the service yet; for rebuild, a venv of another Python)
# and on a changed one (a second app on the same service, a tampered tree and env file). Also: --diff's content, --json's error object, and
# --json pip keeping pip's output off stdout.
# bats sets $output, $status and $stderr in each test.
# shellcheck disable=SC2154
load helpers
bats_require_minimum_version 1.5.0
UNIT=pst-plan.service
A=pst-plan-a
B=pst-plan-b
R=pst-plan-r

plan_cleanup() {
        cleanup_app "$A" "$B" "$R"
        rm -f "/etc/systemd/system/$UNIT" "/etc/pyshare/services/$UNIT.env"
        rm -rf "/etc/systemd/system/$UNIT.d"
}

setup_file() {
        fixtures
        plan_cleanup
        make_unit "$UNIT"
}

teardown_file() {
        plan_cleanup
}

# plan_then_real ARGS...: `pyshare --json --dry-run ARGS` (nothing may change), then the real
# `pyshare --json ARGS`; both objects are left in $BATS_TEST_TMPDIR/plan.json and real.json.
plan_then_real() {
        local before
        before=$(snapshot /etc/pyshare /etc/systemd/system /etc/tmpfiles.d /opt/pyshare)
        run --separate-stderr "$PYSHARE" --json --dry-run --diff "$@"
        assert_status 0
        printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/plan.json"
        [ "$before" = "$(snapshot /etc/pyshare /etc/systemd/system /etc/tmpfiles.d /opt/pyshare)" ] ||
                { echo "the dry run changed something" >&2; return 1; }
        run --separate-stderr "$PYSHARE" --json --diff "$@"
        assert_status 0
        printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/real.json"
}

# same_plan KEY...: the plan and the real run agree on changed, the reload (would-X is X) and
# each KEY (a list of files, or a dotted path such as permissions.changed); every planned
# file's "after" is what is on disk now (but files the venv's Python version goes into: a
# fresh system's plan cannot know it before the venv exists).
same_plan() {
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/plan.json" "$BATS_TEST_TMPDIR/real.json" "$@" <<'PY'
import json, os, sys
plan, real = (json.load(open(p)) for p in sys.argv[1:3])
def get(d, key):
    for k in key.split("."):
        d = d[k]
    return d
assert plan["dry_run"] is True and real["dry_run"] is False, (plan, real)
assert plan["changed"] is real["changed"], (plan["changed"], real["changed"])
if "reload" in real:
    assert plan["reload"].replace("would-reload", "reloaded") == real["reload"], (plan["reload"], real["reload"])
for key in sys.argv[3:]:
    assert get(plan, key) == get(real, key), (key, get(plan, key), get(real, key))
assert [d["path"] for d in plan["diff"]] == [d["path"] for d in real["diff"]], (plan["diff"], real["diff"])
for d in plan["diff"]:
    if d["symlink"] or "python3.X" in (d["after"] or ""):
        continue
    now = open(d["path"]).read() if os.path.exists(d["path"]) else None
    assert now == d["after"], (d["path"], now, d["after"])
PY
}

@test "fresh system: setup --dry-run plans the drop-in, the service's env file and the daemon-reload, as the real run does" {
        plan_then_real setup "$A" --service="$UNIT" --group="$DEPLOY_GROUP" --no-probe
        same_plan files_changed files_unchanged venv_action group_created
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/plan.json" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
assert "/etc/pyshare/services/$UNIT.env" in d["files_changed"], d
assert "/etc/systemd/system/$UNIT.d/50-pyshare.conf" in d["files_changed"], d
assert d["files_unchanged"] == [] and d["venv_action"] == "created" and d["changed"] is True, d
assert d["reload"] in ("would-reload", "skipped"), d
PY
}

@test "a second app on the same service: the plan rewrites the service's env file, not 'unchanged' with no reload" {
        plan_then_real setup "$B" --service="$UNIT" --group="$DEPLOY_GROUP" --no-probe
        same_plan files_changed files_unchanged
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/plan.json" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
svc = "/etc/pyshare/services/$UNIT.env"
assert svc in d["files_changed"] and svc not in d["files_unchanged"], d
after = [x["after"] for x in d["diff"] if x["path"] == svc][0]
assert "; apps: $A, $B." in after, after
PY
        grep -qF "; apps: $A, $B." "/etc/pyshare/services/$UNIT.env"
}

@test "a changed system: repair and setup plan the permissions and the env files the real run then changes" {
        site=$(site_of "$A")
        chmod 600 "$site/pip/__init__.py"
        printf 'PYTHONPATH=/stale\n' >"/etc/pyshare/$A.env"
        plan_then_real repair "$A"
        same_plan files_changed files_unchanged permissions.changed
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/real.json" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] is True and d["permissions"]["changed"] == 1, d
assert "/etc/pyshare/$A.env" in d["files_changed"], d
before = [x["before"] for x in d["diff"] if x["path"] == "/etc/pyshare/$A.env"][0]
assert before == "PYTHONPATH=/stale\n", before
PY
        [ "$(stat -c %a "$site/pip/__init__.py")" != 600 ]
        rm -f "/etc/systemd/system/$UNIT.d/50-pyshare.conf"
        plan_then_real setup "$A" --no-probe
        same_plan files_changed files_unchanged permissions.changed
        grep -qx "\"/etc/systemd/system/$UNIT.d/50-pyshare.conf\"" <(/usr/bin/python3 -c 'import json,sys; [print(json.dumps(f)) for f in json.load(open(sys.argv[1]))["files_changed"]]' "$BATS_TEST_TMPDIR/real.json")
        # and once everything is in place, both say nothing changes
        plan_then_real repair "$A"
        same_plan files_changed permissions.changed
        grep -q '"changed":false' "$BATS_TEST_TMPDIR/plan.json"
}

@test "remove: the plan lists the files the real run removes, with the service's env file rewritten, then removed with the last app" {
        plan_then_real remove "$A"
        same_plan files_removed purged
        grep -qF "; apps: $B." "/etc/pyshare/services/$UNIT.env"
        plan_then_real remove "$B" --purge
        same_plan files_removed purged
        [ ! -e "/etc/pyshare/services/$UNIT.env" ] && [ ! -e "/etc/systemd/system/$UNIT.d/50-pyshare.conf" ]
        [ ! -e "/opt/pyshare/$B" ]
}

@test "rebuild of a venv of another Python: the plan writes the env files the real run writes, with the new site-packages" {
        ps_setup "$R" --no-probe -q
        "$PYSHARE" pip "$R" install --quiet --no-index "$(wheel pstest_pure)" "$(wheel pstest_pth)" >/dev/null
        age_venv "$R"
        "$PYSHARE" repair "$R" -q
        plan_then_real rebuild "$R" --find-links="$WHEELS"
        same_plan files_changed files_unchanged
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/plan.json" "$BATS_TEST_TMPDIR/real.json" <<PY
import json, sys
plan, real = (json.load(open(p)) for p in sys.argv[1:3])
for d in (plan, real):
    assert d["changed"] is True, d
    assert sorted(d["files_changed"]) == ["/etc/pyshare/$R.env", "/etc/pyshare/services/$UNIT.env"], d
    assert d["files_unchanged"] == ["/etc/systemd/system/$UNIT.d/50-pyshare.conf"], d
    assert d["reload"] in ("not-needed", "skipped"), d
after = [x["after"] for x in plan["diff"] if x["path"] == "/etc/pyshare/$R.env"][0]
site = "/opt/pyshare/$R/lib/python$PYVER/site-packages"
assert f'PYTHONPATH="{site}:{site}/pstest_pth_src"' in after, after
assert plan["permissions"] is None and real["permissions"]["changed"] > 0, (plan, real)
PY
}

@test "rebuild on a changed system: an edited env file is planned for rewriting, the one left alone is not" {
        printf 'PYTHONPATH=/stale\n' >"/etc/pyshare/$R.env"
        plan_then_real rebuild "$R" --find-links="$WHEELS"
        same_plan files_changed files_unchanged
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/plan.json" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
assert d["files_changed"] == ["/etc/pyshare/$R.env"], d
assert "/etc/pyshare/services/$UNIT.env" in d["files_unchanged"], d
before = [x["before"] for x in d["diff"] if x["path"] == "/etc/pyshare/$R.env"][0]
assert before == "PYTHONPATH=/stale\n", before
PY
        cleanup_app "$R"
}

@test "--diff without --json prints the lines that change" {
        run "$PYSHARE" --dry-run --diff setup "$A" --service="$UNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "+++ b/etc/pyshare/services/$UNIT.env"
        assert_output_has "+# Written by pyshare for $UNIT; apps: $A."
        assert_output_has "--- /dev/null"
}

@test "--json: an error is one object on stdout with the message, the cause and the exit status" {
        run --separate-stderr "$PYSHARE" --json setup "$A" --service=pst-plan-nosuch.service --group="$DEPLOY_GROUP"
        assert_status 69
        /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d == {"command": "setup", "app": "pst-plan-a", "error": {
    "message": "service pst-plan-nosuch.service does not exist: install it first, or name another with --service=UNIT",
    "cause": "not-found", "errno": None, "exit_status": 69}}, d
' "$output"
        run --separate-stderr "$PYSHARE" --json setup "$A" --bogus
        assert_status 2
        /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["error"] == {"message": "unknown option --bogus", "cause": "usage", "errno": None, "exit_status": 2}, d
' "$output"
}

@test "--json pip: stdout is the one object, pip's own output goes to stderr" {
        ps_setup "$A" --no-probe -q
        run --separate-stderr "$PYSHARE" --json pip "$A" list
        assert_status 0
        /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["app"] == "pst-plan-a" and d["changed"] in (True, False) and "permissions" in d, d
' "$output"
        [[ "$stderr" == *"Package"* ]]
}
