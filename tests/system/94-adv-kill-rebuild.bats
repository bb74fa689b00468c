#!/usr/bin/env bats
# Adversarial (issue 14): `pyshare rebuild` killed (kill -9) at points through its work, chosen
# by the driver of 94-adv-kill.bats (lib/adv/killpoints.py) among pyshare's own mutating
# syscalls (the move aside, the new venv's directory and marker, the walks, the env files, the
# move of the old venv out of the way and its deletion) and, where a child does the work, when
# a path appears (`python -m venv` bringing pip, pip installing the requirements). Right after
# each kill: the old venv is whole, at the app's path or aside, and the app's path never mixes
# it with the new one (--rebuild); no child still runs in the venv; each file under /etc is
# old or new, never torn. Then the next run, a rebuild and a setup in turn: the rebuild
# finishes (the state of a clean rebuild), the setup finishes a rebuild that was done or rolls
# it back and refuses the old venv as the mismatch it is, leaving the saved state itself,
# contents included (--rolled-back-status 65).
load helpers

APP=pst-adv-rbkill
AUNIT=pst-adv-rbkill.service
# the files under /etc that the kill runs write and the driver restores (guard_snapshot)
# shellcheck disable=SC2034
GUARD_APPS=$APP
# shellcheck disable=SC2034
GUARD_UNITS=$AUNIT
KSTATE=/var/tmp/pst-adv-rbkill

setup_file() {
        kill_setup_file
        # The app as a dist-upgrade leaves it (see 62-rebuild.bats): set up by this host's
        # Python with two packages (one a C extension), then aged into a 3.9 venv, its env
        # files naming the 3.9 site-packages as a repair wrote them then.
        adv_setup "$APP" "$AUNIT" --no-probe -q
        # pyshare pip, not the deployer's: it makes the user _pyshare before the guard looks at /etc
        "$PYSHARE" pip "$APP" install --quiet --no-index "$(wheel pstest_pure)" "$(wheel pstest_cext)" >/dev/null
        age_venv "$APP"
        "$PYSHARE" repair "$APP" -q
        grep -q "/opt/pyshare/$APP/lib/python3.9/site-packages" "/etc/pyshare/$APP.env"
        "$SYSPY" "$ADV_LIB/killpoints.py" save --app "$APP" --unit "$AUNIT" "$KSTATE/old"
}

teardown_file() { kill_teardown_file; }

setup() {
        guard_begin
}

teardown() {
        guard_check
}

@test "rebuild killed at 14 of its syscalls (each step) and while its children work, then rebuild or setup: the old venv or the new one, never a mix, and never lost" {
        local v=/opt/pyshare/$APP
        local rebuild=("$PYSHARE" rebuild "$APP" --find-links="$WHEELS")
        run "$SYSPY" "$ADV_LIB/killpoints.py" kill --app "$APP" --unit "$AUNIT" --state "$KSTATE/old" \
                --points 14 --no-content --detach-on-exec --rebuild --per-pick \
                --pick '^([0-9]+ +)?renameat2\(' --pick "^([0-9]+ +)?mkdirat\(.*\"$APP\"" \
                --pick '^([0-9]+ +)?(write|renameat)\(.*\.pyshare-complete' \
                --pick '^([0-9]+ +)?(write|renameat)\([0-9]+</etc/' \
                --pick "^([0-9]+ +)?(fchownat|setxattr)\([0-9]+</opt/pyshare/${APP}[/>]" \
                --pick "^([0-9]+ +)?unlinkat\(.*\.$APP\.pyshare-rebuilt" \
                --watch "$v/lib/python$PYVER/site-packages/pip/__init__.py" \
                --watch "$v/lib/python$PYVER/site-packages/pstest_pure" \
                --rerun "${rebuild[*]}" \
                --rerun "$PYSHARE setup $APP --service=$AUNIT --group=$DEPLOY_GROUP --no-probe" \
                --rolled-back-status 65 --log "$BATS_TEST_TMPDIR/kills.log" -- "${rebuild[@]}"
        cat "$BATS_TEST_TMPDIR/kills.log" >&2
        echo "$output" >&2
        assert_status 0
        # the points reached the moves and the files the rebuild writes
        grep -q "^ok   kill at renameat2 #[0-9]* (.*\"\\.$APP\\.pyshare-rebuild\"" "$BATS_TEST_TMPDIR/kills.log"
        grep -q '^ok   kill at .*</etc/pyshare/' "$BATS_TEST_TMPDIR/kills.log"
        grep -q '^ok   kill at when .*pstest_pure appears' "$BATS_TEST_TMPDIR/kills.log"
}
