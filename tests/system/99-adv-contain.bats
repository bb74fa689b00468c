#!/usr/bin/env bats
# Adversarial: code from a venv that tries to outlive the run that started it (security issue,
# findings 3 and 4), on a host without systemd, where the probe and pip run in a PID namespace
# of their own. A chain of 300 processes that each call setsid, each the parent of the next,
# and a double-forked daemon (lib/adv/pstest_adv_chain.py): after pyshare returns none of them
# is left, whether the probe's import or pip's interpreter (a .pth line) started them. Each pip
# run has a /tmp of its own: what app A's pip left there is not in app B's pip run, nor in the
# host's /tmp. A probed module that hands the probe's result pipe to a process outside (the
# test's, over a unix socket): pyshare still returns, and the lock is free.
# Every pyshare run is under `timeout`: a hang bound, never a speed claim.
load helpers
bats_require_minimum_version 1.5.0

APPA=pst-adv-contain-a
APPB=pst-adv-contain-b
AUNIT=pst-adv-contain.service
HOLDDIR=/run/pst-adv-contain
PIPUSER=_pyshare

setup_file() {
        require_cmd pgrep timeout flock
        [ "$(cat /proc/1/comm)" != systemd ] || skip_or_fail "systemd runs here: the units contain the runs (tests/e2e)"
        adv_fixtures
        adv_cleanup "$APPA" "$APPB"
        adv_unit "$AUNIT"
        adv_setup "$APPA" "$AUNIT" --no-probe -q
        adv_setup "$APPB" "$AUNIT" --no-probe -q
        local site
        site=$(site_of "$APPA")
        for m in pstest_adv_chain pstest_adv_passfd pstest_adv_victim; do
                as_deployer sh -c "cat > $site/$m.py" <"$ADV_LIB/$m.py"
        done
        "$PYSHARE" repair "$APPA" -q
        rm -f /tmp/pip-evil
}

teardown_file() {
        kill_marked
        adv_cleanup "$APPA" "$APPB"
        adv_unit_remove "$AUNIT"
        rm -f /tmp/pip-evil
        rm -rf "$HOLDDIR"
}

setup() {
        SITEA=$(site_of "$APPA")
        SITEB=$(site_of "$APPB")
}

teardown() {
        [ -z "${HOLDER:-}" ] || kill -9 "$HOLDER" 2>/dev/null || true
        kill_marked
        rm -f "$SITEA"/pst_adv_*.pth "$SITEB"/pst_adv_*.pth /tmp/pip-evil
}

# The chain's processes (argv "pst-adv-chain 1000") and those of the two users that ran venv
# code, zombies aside.
marked() {
        {
                pgrep -f '^pst-adv-chain 1000$' | xargs -r ps -o pid=,user=,stat=,args= -p
                ps -u "$ADV_SVC" -o pid=,user=,stat=,args=
                ! id "$PIPUSER" >/dev/null 2>&1 || ps -u "$PIPUSER" -o pid=,user=,stat=,args=
        } | awk '$3 !~ /^Z/' | sort -u || true
}

# What a failed test left running: killed one by one, by pid.
kill_marked() {
        local p
        for p in $(marked | awk '{print $1}'); do
                kill -9 "$p" 2>/dev/null || true
        done
}

assert_nothing_left() {
        local left
        left=$(marked)
        [ -z "$left" ] || { printf '%s processes outlived pyshare, among them:\n%s\n' "$(wc -l <<<"$left")" \
                "$(head -n 5 <<<"$left")" >&2; return 1; }
}

# bounded SECONDS CMD...: run CMD under `timeout`, setting $status and $output as bats's run
# does, but with the output in a file: a process that outlives CMD (a regression) cannot keep
# the test waiting for the end of a pipe.
bounded() {
        local secs=$1 out=$BATS_TEST_TMPDIR/out
        shift
        status=0
        timeout "$secs" "$@" >"$out" 2>&1 </dev/null || status=$?
        output=$(cat "$out")
        echo "$*: status $status" >&2
}

assert_returned() {
        [ "$status" -ne 124 ] || { echo "pyshare did not return within the bound: $output" >&2; return 1; }
        assert_no_crash
}

@test "finding 3: an import that starts a chain of 300 setsid processes and a double-forked daemon: none outlives the probe" {
        bounded 240 "$PYSHARE" probe "$APPA" pstest_adv_chain pstest_adv_victim --timeout=120
        assert_returned
        # the chain was complete before the probe ended
        assert_output_has "ok    pstest_adv_chain chain-300"
        assert_nothing_left
        # and the verdict says that the import left processes behind
        assert_status 1
        assert_output_has "the imports left"
}

@test "finding 3: the same chain from a .pth line under probe --interpreter: none outlives the probe" {
        as_deployer sh -c "echo 'import pstest_adv_chain' > $SITEA/pst_adv_chain.pth"
        bounded 120 "$PYSHARE" probe "$APPA" pstest_adv_victim --interpreter --timeout=60
        assert_returned
        assert_nothing_left
        assert_status 1
        assert_output_has "the imports left"
}

@test "finding 3: pip whose interpreter starts the chain (a .pth line) and writes /tmp/pip-evil: nothing is left, and app B's pip sees an empty /tmp" {
        as_deployer sh -c "cat > $SITEA/pst_adv_chain.pth" <<'PTH'
import os, sys; print('PST-TMP-A', sorted(os.listdir('/tmp'))); sys.stdout.flush(); open('/tmp/pip-evil', 'w').write('app A was here')
import pstest_adv_chain; print('PST-CHAIN', pstest_adv_chain.__version__)
PTH
        as_deployer sh -c "cat > $SITEB/pst_adv_seen.pth" <<'PTH'
import os, sys; print('PST-TMP-B', sorted(os.listdir('/tmp'))); sys.stdout.flush()
PTH
        bounded 300 "$PYSHARE" pip "$APPA" list
        assert_returned
        assert_status 0
        # the .pth lines ran in pip's interpreter, in a /tmp of the run's own
        assert_output_has "PST-TMP-A []"
        assert_output_has "PST-CHAIN chain-300"
        assert_nothing_left
        [ ! -e /tmp/pip-evil ] || { echo "app A's pip wrote to the host's /tmp" >&2; return 1; }

        bounded 300 "$PYSHARE" pip "$APPB" list
        assert_returned
        assert_status 0
        assert_output_has "PST-TMP-B []"
        assert_nothing_left
}

@test "finding 3: a pip run's /tmp is fresh each time, even for the same app" {
        as_deployer sh -c "cat > $SITEA/pst_adv_tmp.pth" <<'PTH'
import os, sys; print('PST-TMP-A', sorted(os.listdir('/tmp'))); sys.stdout.flush(); open('/tmp/pip-evil', 'w').write('app A was here')
PTH
        bounded 300 "$PYSHARE" pip "$APPA" list
        assert_returned
        assert_status 0
        assert_output_has "PST-TMP-A []"
        bounded 300 "$PYSHARE" pip "$APPA" list
        assert_returned
        assert_output_has "PST-TMP-A []"
        [ ! -e /tmp/pip-evil ]
}

# Starts lib/adv/fdholder.py (outside pyshare, as root) on $HOLDDIR/holder.sock.
start_holder() {
        rm -rf "$HOLDDIR"
        mkdir -m 0755 "$HOLDDIR"
        HOLDLOG=$BATS_TEST_TMPDIR/holder.log
        "$SYSPY" "$ADV_LIB/fdholder.py" "$HOLDDIR/holder.sock" "$HOLDLOG" 3>&- &
        HOLDER=$!
        local i
        for i in $(seq 1 100); do
                grep -qx listening "$HOLDLOG" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "the fd holder did not start" >&2
        return 1
}

@test "finding 4: the probed code passes the result pipe to a process outside: the probe returns by its deadline" {
        start_holder
        bounded 30 "$PYSHARE" probe "$APPA" pstest_adv_passfd --timeout=5
        assert_returned
        grep -qx 'held 2' "$HOLDLOG" || { echo "the holder never got the pipes" >&2; return 1; }
        assert_output_has "ok    pstest_adv_passfd passed"
        assert_status 0
        assert_nothing_left
}

@test "finding 4: the same during setup, which holds /run/pyshare.lock: setup returns and the lock is free" {
        start_holder
        bounded 120 "$PYSHARE" setup "$APPA" --service="$AUNIT" --group="$DEPLOY_GROUP" --module=pstest_adv_passfd
        assert_returned
        grep -qx 'held 2' "$HOLDLOG" || { echo "the holder never got the pipes" >&2; return 1; }
        # the holder still has the probe's pipes, and nothing else of pyshare's: the lock is free
        kill -0 "$HOLDER"
        flock -n /run/pyshare.lock true || { echo "/run/pyshare.lock is still held" >&2; return 1; }
        assert_nothing_left
}

@test "finding 3: a file in the host's /tmp handed to pip is refused with the reason, before pip runs" {
        bounded 60 "$PYSHARE" pip "$APPA" install --no-index /tmp/pst-adv-contain.whl
        assert_status 2
        assert_output_has "pip runs with a /tmp of its own, which does not have /tmp/pst-adv-contain.whl: put it in a directory that _pyshare can read, such as /var/tmp"
}
