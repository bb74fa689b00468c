#!/usr/bin/env bats
# Adversarial: CVE-2018-6954. While repair walks a big tree, the deployer swaps a directory of
# the tree with a symlink to a root-owned canary directory, over and over
# (renameat2(RENAME_EXCHANGE), lib/adv/swapper.c). Whatever repair sees, it may change only
# the tree: the canary keeps its owner, mode, contents and ACLs, and no ACL is added to it.
load helpers

APP=pst-adv-race
AUNIT=pst-adv-race.service
# the files under /etc that repair may rewrite (guard_snapshot)
GUARD_APPS=$APP
GUARD_UNITS=$AUNIT
RUNS=50

setup_file() {
        adv_fixtures
        adv_build swapper
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
        big=$(site_of "$APP")/pst_adv_big
        # ~20000 files, to make each walk long; the swapped directories sit a few levels down
        as_deployer "$SYSPY" "$ADV_LIB/mkbig.py" "$big" 19000
        as_deployer mkdir -p "$big/d05/d10/mid/target"
        as_deployer "$SYSPY" "$ADV_LIB/mkbig.py" "$big/d05/d10/mid/target" 1000
        as_deployer ln -s "$ADV_CANARY" "$big/d05/d10/mid/swaplink"
        # the swapped directories hold the canary's names: a path followed through the symlink
        # lands on the canary's own files
        for d in "$big/d05" "$big/d05/d10/mid/target"; do
                as_deployer mkdir -p "$d/sub"
                as_deployer sh -c "echo x > $d/secret && echo x > $d/shared && echo x > $d/sub/deep"
        done
        "$PYSHARE" repair "$APP" -q
}

teardown_file() {
        adv_cleanup "$APP"
        adv_unit_remove "$AUNIT"
}

setup() {
        guard_begin
        BIG=$(site_of "$APP")/pst_adv_big
        SWAPPER_PID=
}

teardown() {
        stop_swapper || echo "the swapper did not stop cleanly" >&2
        guard_check
}

# start_swapper A B: the deployer swaps A and B until stop_swapper.
start_swapper() {
        SWAPS=/var/tmp/pst-adv-swaps
        rm -f "$SWAPS"
        : >"$SWAPS"
        chown "$DEPLOYER" "$SWAPS"
        runuser -u "$DEPLOYER" -- "$ADV_BIN/swapper" "$1" "$2" "$SWAPS" 3>&- &
        SWAPPER_PID=$!
        sleep 0.2
        kill -0 "$SWAPPER_PID"
}

stop_swapper() {
        [ -n "$SWAPPER_PID" ] || return 0
        # the swapper (runuser's child) stops, puts the entries back, and runuser ends with it
        local p
        for p in $(pgrep -P "$SWAPPER_PID"); do
                kill -TERM "$p" 2>/dev/null || true
        done
        wait "$SWAPPER_PID" || true
        SWAPPER_PID=
        local n
        n=$(cat "$SWAPS" 2>/dev/null)
        rm -f "$SWAPS"
        echo "the swapper exchanged the two entries $n times" >&2
        [ "${n:-0}" -gt 1000 ]
}

# repair RUNS times while the swapper runs; before each run, PREP (as the deployer) if given.
repair_under_swaps() {
        local prep=$1 i statuses=
        for i in $(seq 1 "$RUNS"); do
                # racing the swapper, some of these fail: that is fine
                [ -z "$prep" ] || as_deployer sh -c "$prep" 2>/dev/null || true
                run timeout 120 "$PYSHARE" repair "$APP"
                assert_no_crash
                [ "$status" -ne 124 ] || { echo "repair hung" >&2; return 1; }
                statuses+=" $status"
                [ "$status" -eq 0 ] || printf 'run %s: repair exited with %s:\n%s\n' "$i" "$status" "$output" >&2
        done
        echo "repair exit statuses:$statuses" >&2
}

canary_untouched() {
        # the guard compares everything in teardown; say here already what went wrong
        local bad
        bad=$(find "$ADV_CANARY" \( ! -user root -o ! -group root -o -cnewer "$BATS_TEST_TMPDIR" \) -printf '%p %u:%g %m\n')
        bad+=$(getfacl -R -p "$ADV_CANARY" 2>/dev/null | grep -E "$ADV_SVC|$DEPLOY_GROUP|$DEPLOYER" || true)
        [ -z "$bad" ] || { printf 'the canary was changed:\n%s\n' "$bad" >&2; return 1; }
}

@test "a middle directory of the big tree swapped with a symlink to the canary during $RUNS repairs: nothing outside changes" {
        touch "$BATS_TEST_TMPDIR"
        # d05 holds ~1000 files and the deeper target; its twin is a symlink to the canary
        as_deployer ln -sfn "$ADV_CANARY" "$BIG/swaplink-d05"
        as_deployer find "$BIG/d05" -name 'f00*.py' -exec chmod 600 {} +
        start_swapper "$BIG/d05" "$BIG/swaplink-d05"
        repair_under_swaps "find $BIG/d05 $BIG/swaplink-d05 \\( -name 'f00*.py' -o -name secret -o -name shared -o -name deep \\) -exec chmod 600 {} +"
        stop_swapper
        canary_untouched
        [ -d "$BIG/d05" ]
        [ ! -L "$BIG/d05" ]
        [ -L "$BIG/swaplink-d05" ]
        run "$PYSHARE" repair "$APP"
        assert_status 0
        run "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "nothing to change"
        as_deployer rm -f "$BIG/swaplink-d05"
}

@test "the swap aimed at a directory whose files repair is about to change (chmod 600 before each run), $RUNS runs" {
        touch "$BATS_TEST_TMPDIR"
        target=$BIG/d05/d10/mid/target
        start_swapper "$target" "$BIG/d05/d10/mid/swaplink"
        # the deployer cannot reach the canary: whichever name the directory has, chmod finds it
        repair_under_swaps "chmod 700 $target/d00 2>/dev/null; find $BIG/d05/d10/mid -type f -exec chmod 600 {} +"
        stop_swapper
        canary_untouched
        [ -d "$target" ]
        [ ! -L "$target" ]
        [ -L "$BIG/d05/d10/mid/swaplink" ]
        run "$PYSHARE" repair "$APP"
        assert_status 0
        run "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "nothing to change"
        [ -z "$(find "$target" -type f ! -perm 660)" ]
}
