#!/usr/bin/env bats
# --json: the one object on stdout of setup, list and remove, with the human lines beside it.
# bats sets $output, $status and $stderr in each test.
# shellcheck disable=SC2154
load helpers
bats_require_minimum_version 1.5.0
UNIT=pst-cov.service
JSON_UNIT=pst-cov-json.service

json_cleanup() {
        cleanup_app pst-cov pst-cov-json
        rm -f "/etc/systemd/system/$UNIT" "/etc/systemd/system/$JSON_UNIT" "/etc/pyshare/services/$UNIT.env" \
                "/etc/pyshare/services/$JSON_UNIT.env"
        rm -rf "/etc/systemd/system/$UNIT.d" "/etc/systemd/system/$JSON_UNIT.d"
}

setup_file() {
        fixtures
        json_cleanup
        make_unit "$UNIT"
        make_unit "$JSON_UNIT"
        # a second app, for the list
        ps_setup pst-cov --no-probe -q
}

teardown_file() {
        json_cleanup
}

@test "--json setup: one object with the app, what changed, the files and the probe; a human line too" {
        run --separate-stderr "$PYSHARE" --json setup pst-cov-json --service="$JSON_UNIT" --group="$DEPLOY_GROUP"
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
keys = {"app", "dry_run", "changed", "venv", "service", "user", "users", "group", "group_created", "venv_action",
        "files_changed", "files_unchanged", "permissions", "reload", "restart", "probe"}
assert set(d) == keys, sorted(set(d) ^ keys)
assert d["app"] == "pst-cov-json" and d["dry_run"] is False and d["changed"] is True, d
assert d["venv"] == "/opt/pyshare/pst-cov-json" and d["service"] == "pst-cov-json.service", d
assert d["user"] == "pst_svc" and d["users"] == ["pst_svc"] and d["group"] == "pst_deploy", d
assert d["group_created"] is False and d["venv_action"] == "created", d
files = {"/etc/pyshare/pst-cov-json.conf", "/etc/pyshare/pst-cov-json.env",
         "/etc/pyshare/services/pst-cov-json.service.env",
         "/etc/systemd/system/pst-cov-json.service.d/50-pyshare.conf", "/etc/tmpfiles.d/pyshare-pst-cov-json.conf"}
assert set(d["files_changed"]) == files, d["files_changed"]
assert d["files_unchanged"] == [], d["files_unchanged"]
p = d["permissions"]
assert set(p) == {"entries", "changed", "skipped", "errors", "notes"}, p
assert p["entries"] > 100 and 0 < p["changed"] <= p["entries"] and p["errors"] == 0, p
assert p["skipped"]["symlink"] >= 1 and p["skipped"]["error"] == 0 and p["skipped"]["hard link"] == 0, p
assert d["reload"] == "skipped" and d["restart"] == "needed", d
pr = d["probe"]
assert pr["app"] == "pst-cov-json" and pr["user"] == "pst_svc" and pr["ok"] is True and pr["modules"] == [], pr
assert pr["mode"] == "embedded" and pr["completed"] is True and pr["timed_out"] is False and pr["failure"] is None, pr
# setup judges the next start only: "now" says it was not judged, not that the service is stopped
assert pr["now"] == {"judged": False, "running": None, "ok": None, "probed": False}, pr["now"]
'
        # stdout is the object only; the messages went to stderr
        [[ "$stderr" == *"created the virtualenv /opt/pyshare/pst-cov-json with /usr/bin/python3"* ]]
        run --separate-stderr "$PYSHARE" --json setup pst-cov-json --no-probe
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["app"] == "pst-cov-json" and d["changed"] is False and d["files_changed"] == [], d
assert len(d["files_unchanged"]) == 5 and d["permissions"]["changed"] == 0, d
assert d["reload"] == "not-needed" and d["restart"] == "not-requested" and "probe" not in d, d
assert d["venv_action"] == "kept" and "diff" not in d, d
'
        run "$PYSHARE" setup pst-cov-json --no-probe
        assert_status 0
        assert_output_has "setup pst-cov-json: nothing to change, everything was already in place"
}

@test "--json list: the apps with service, user and venv; the human list has one line per app" {
        run --separate-stderr "$PYSHARE" --json list
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"apps", "changed"} and d["changed"] is False, d
assert all(set(a) == {"app", "service", "user", "users", "venv"} for a in d["apps"]), d
mine = [a for a in d["apps"] if a["app"] == "pst-cov-json"]
assert mine == [{"app": "pst-cov-json", "service": "pst-cov-json.service", "user": "pst_svc",
                 "users": ["pst_svc"], "venv": "/opt/pyshare/pst-cov-json"}], d
assert [a["app"] for a in d["apps"] if a["app"] == "pst-cov"] == ["pst-cov"], d
'
        run "$PYSHARE" list
        assert_status 0
        line=$(printf '%-20s %-24s %-12s %s' pst-cov-json "$JSON_UNIT" "$SVC_USER" /opt/pyshare/pst-cov-json)
        grep -qxF "$line" <<<"$output"
}

@test "--json remove: the app, changed, the files removed, purged; a second remove changes nothing; human lines" {
        run --separate-stderr "$PYSHARE" --json remove pst-cov-json
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"app", "dry_run", "changed", "files_removed", "purged", "reload", "restart"}, d
assert d["app"] == "pst-cov-json" and d["dry_run"] is False and d["changed"] is True and d["purged"] is False, d
files = {"/etc/pyshare/pst-cov-json.conf", "/etc/pyshare/pst-cov-json.env",
         "/etc/pyshare/services/pst-cov-json.service.env",
         "/etc/systemd/system/pst-cov-json.service.d/50-pyshare.conf", "/etc/tmpfiles.d/pyshare-pst-cov-json.conf"}
assert sorted(d["files_removed"]) == sorted(files), d["files_removed"]
assert d["reload"] == "skipped", d
'
        [ -d /opt/pyshare/pst-cov-json ] && [ ! -e /etc/pyshare/pst-cov-json.conf ]
        run --separate-stderr "$PYSHARE" --json remove pst-cov-json
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d == {"app": "pst-cov-json", "dry_run": False, "changed": False, "purged": False}, d
'
        run "$PYSHARE" remove pst-cov-json
        assert_status 0
        assert_output_has "remove pst-cov-json: nothing to remove (no /etc/pyshare/pst-cov-json.conf)"
        run "$PYSHARE" setup pst-cov-json --service="$JSON_UNIT" --group="$DEPLOY_GROUP" --no-probe -q
        assert_status 0
        run "$PYSHARE" remove pst-cov-json --purge
        assert_status 0
        assert_output_has "deleted the virtualenv /opt/pyshare/pst-cov-json"
        grep -qx "remove pst-cov-json: done" <<<"$output"
        [ ! -e /opt/pyshare/pst-cov-json ]
}
