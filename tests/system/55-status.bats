#!/usr/bin/env bats
# status: exit 1 and the fix for a file of the app that is missing or out of date.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-ids
}

teardown_file() {
        cleanup_app pst-ids
}

@test "status exits 1 and names the fix when a file of the app is missing or out of date" {
        ps_setup pst-ids --no-probe -q
        rm /etc/tmpfiles.d/pyshare-pst-ids.conf
        run "$PYSHARE" status pst-ids
        assert_status 1
        assert_output_has "pst-ids: PROBLEMS"
        assert_output_has "problem: /etc/tmpfiles.d/pyshare-pst-ids.conf is missing: run \`pyshare setup pst-ids\`"
        run "$PYSHARE" --json status pst-ids
        assert_status 1
        echo "$output" | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["apps"][0]; assert not a["ok"] and any("tmpfiles" in p for p in a["problems"]), a'
        ps_setup pst-ids --no-probe -q
        run "$PYSHARE" status pst-ids
        assert_status 0
        assert_output_has "pst-ids: ok"
}
