#!/usr/bin/env bats
# Adversarial: hostile code in the venv, run by the probe. An import that sleeps forever, that
# leaves a setsid grandchild behind, that floods stdout, that eats memory; the same as .pth
# import lines for --interpreter (the venv's python runs them at startup). Each time: pyshare
# returns within the probe's deadline and a generous margin (--timeout=5, under 20 s: a hang
# bound, not a speed claim), exits 1 with a message (or, for a .pth line that does not stop
# the imports, with the verdict on them), stays small itself (/usr/bin/time %M < 100 MB), and
# leaves no process of the service user.
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-hostile
AUNIT=pst-adv-hostile.service
LINGER=/tmp/pst-adv-linger.pid
# what a hostile .pth line got to do, written by the line itself (as the service user)
PTHMARK=/tmp/pst-adv-pth.ran

setup_file() {
        require_cmd /usr/bin/time pgrep
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
        site=$(site_of "$APP")
        for m in pstest_adv_sleep pstest_adv_linger pstest_adv_flood pstest_adv_mem pstest_adv_victim; do
                as_deployer sh -c "cat > $site/$m.py" <"$ADV_LIB/$m.py"
        done
        "$PYSHARE" repair "$APP" -q
}

teardown_file() {
        kill_leftovers
        adv_cleanup "$APP"
        adv_unit_remove "$AUNIT"
        rm -f "$LINGER" "$LINGER.tmp" "$PTHMARK"
}

setup() {
        guard_begin
        rm -f "$LINGER" "$LINGER.tmp" "$PTHMARK"
        SITE=$(site_of "$APP")
}

teardown() {
        kill_leftovers
        rm -f "$SITE"/pst_adv_*.pth "$LINGER" "$LINGER.tmp" "$PTHMARK"
        guard_check
}

# The service user's processes, zombies aside (reaping them is their parent's business).
svc_processes() {
        ps -u "$ADV_SVC" -o pid=,stat=,args= | awk '$2 !~ /^Z/' || true
}

# What a failed test left running as the service user: killed one by one, by pid.
kill_leftovers() {
        local p
        for p in $(pgrep -u "$ADV_SVC"); do
                kill -9 "$p" 2>/dev/null || true
        done
}

# hostile_probe MODULE [OPTION...]: the probe with --timeout=5, bounded and measured.
hostile_probe() {
        local rss=$BATS_TEST_TMPDIR/rss t0
        t0=$(date +%s%N)
        run /usr/bin/time -f '%M' -o "$rss" timeout 60 "$PYSHARE" probe "$APP" "$@" --timeout=5
        ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
        PEAK_KB=$(tail -1 "$rss")
        echo "pyshare probe $*: status $status, ${ELAPSED_MS} ms, peak RSS ${PEAK_KB} kB" >&2
}

# assert_contained [STATUS...]: returned within the deadline (5 s) and a margin, small, nothing
# left running; the exit status one of STATUS (default 1).
assert_contained() {
        [ "$status" -ne 124 ] || { echo "pyshare did not return within 60 s" >&2; return 1; }
        [ "$ELAPSED_MS" -lt 20000 ] ||
                { echo "pyshare took $ELAPSED_MS ms with --timeout=5: the deadline did not hold" >&2; return 1; }
        assert_no_crash
        local want=" ${*:-1} "
        [[ "$want" == *" $status "* ]] ||
                { printf 'exit status %s, wanted one of:%s; output:\n%s\n' "$status" "$want" "$output" >&2; return 1; }
        [ "$PEAK_KB" -lt $((100 * 1024)) ] || { echo "pyshare grew to $PEAK_KB kB" >&2; return 1; }
        local left
        left=$(svc_processes)
        [ -z "$left" ] || { printf 'processes of %s left behind:\n%s\n' "$ADV_SVC" "$left" >&2; return 1; }
}

# The grandchild ran (the test tested something) and is gone.
assert_linger_gone() {
        [ -s "$LINGER" ] || { echo "the lingering grandchild never started" >&2; return 1; }
        read -r pid _ <"$LINGER"
        if kill -0 "$pid" 2>/dev/null; then
                echo "the setsid grandchild $pid is still running: $(ps -o pid,user,args -p "$pid")" >&2
                return 1
        fi
}

@test "an import that sleeps forever: the deadline ends it" {
        hostile_probe pstest_adv_sleep
        assert_contained
        assert_output_has "did not finish within 5 s"
}

@test "an import that leaves a setsid grandchild behind: it is killed, and the probe says so with exit 1" {
        hostile_probe pstest_adv_linger pstest_adv_victim
        assert_linger_gone
        assert_contained
        assert_output_has "left"
}

@test "an import that writes a gigabyte to stdout: pyshare stays small and returns" {
        hostile_probe pstest_adv_flood
        assert_contained
        [[ "$output" == *"FAIL  pstest_adv_flood"* ]] || [[ "$output" == *"did not finish within 5 s"* ]]
        # the flood is not echoed back
        [ "${#output}" -lt 100000 ]
}

@test "an import that allocates 10 GiB: the probe fails with MemoryError, pyshare stays small" {
        # ASan's allocator (the sanitizer build has no RLIMIT_AS on the probe) then refuses what
        # RLIMIT_AS refuses in the real build, instead of committing 10 GiB of this machine
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=4096" hostile_probe pstest_adv_mem
        assert_contained
        assert_output_has "MemoryError"
}

@test "a .pth import line that sleeps forever, under probe --interpreter" {
        as_deployer sh -c "echo 'import time; time.sleep(1000)' > $SITE/pst_adv_sleep.pth"
        hostile_probe pstest_adv_victim --interpreter
        assert_contained
        assert_output_has "did not finish within 5 s"
}

@test "a .pth import line that forks a setsid child that lingers, under probe --interpreter" {
        as_deployer sh -c "cat > $SITE/pst_adv_linger.pth" <<'PTH'
import os, time; (os.fork() == 0) and (os.setsid(), (os.fork() == 0) and (open('/tmp/pst-adv-linger.pid.tmp', 'w').write('%s %d\n' % (os.readlink('/proc/self'), os.getsid(0))), os.rename('/tmp/pst-adv-linger.pid.tmp', '/tmp/pst-adv-linger.pid'), time.sleep(1000)), os._exit(0)); time.sleep(0.5)
PTH
        hostile_probe pstest_adv_victim --interpreter
        assert_linger_gone
        assert_contained
        assert_output_has "left"
}

# A .pth line that does not stop the imports: the victim module still imports, and the verdict
# is on the modules, so either exit status says something true: 0 (all imported) or 1 with
# the reason. What matters is the bound, the size and the cleanup; and that the line ran.
assert_pth_ran() {
        [ -s "$PTHMARK" ] || { echo "the hostile .pth line never ran" >&2; return 1; }
        echo "the .pth line says: $(cat "$PTHMARK")" >&2
        if [ "$status" -eq 0 ]; then
                assert_output_has "ok    pstest_adv_victim"
        else
                [[ "$output" == *"did not finish within 5 s"* ]] || [[ "$output" == *"FAIL  pstest_adv_victim"* ]] ||
                        { echo "exit 1 without a reason" >&2; return 1; }
        fi
}

@test "a .pth import line that writes a gigabyte to stdout, under probe --interpreter: pyshare stays small and returns" {
        # site runs the line with exec() inside a function: no nested scope (a generator or a
        # comprehension) would see the line's own names, so the loop is a statement of its own
        as_deployer sh -c "cat > $SITE/pst_adv_flood.pth" <<PTH
import os; exec("open('$PTHMARK', 'w').write('flooding')\\nchunk = b'x' * (1 << 20)\\nn = 0\\nfor _ in range(1024):\\n    n += os.write(1, chunk)\\nopen('$PTHMARK', 'w').write('flooded %d bytes' % n)")
PTH
        hostile_probe pstest_adv_victim --interpreter
        assert_contained 0 1
        assert_pth_ran
        # the whole gigabyte went out before the imports, or the deadline cut it short
        if [ "$status" -eq 0 ]; then
                [ "$(cat "$PTHMARK")" = "flooded $((1 << 30)) bytes" ]
        else
                assert_output_has "did not finish within 5 s"
        fi
        # the flood is not echoed back
        [ "${#output}" -lt 100000 ]
}

@test "a .pth import line that allocates 10 GiB, under probe --interpreter: MemoryError, pyshare stays small" {
        # the sanitizer build leaves out the probe's address-space limit (ASan reserves
        # terabytes), and the venv's python is not ASan's: there the line limits itself to 4 GiB,
        # as RLIMIT_AS does in the real build, instead of taking 10 GiB of this machine
        local selflimit=
        if pyshare_is_asan; then
                selflimit="import resource; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
        fi
        as_deployer sh -c "cat > $SITE/pst_adv_mem.pth" <<PTH
import os; ${selflimit}exec("try:\\n    hog = bytearray(10 * 2**30)\\n    got = 'allocated 10 GiB'\\nexcept MemoryError:\\n    got = 'MemoryError'\\nopen('$PTHMARK', 'w').write(got)")
PTH
        hostile_probe pstest_adv_victim --interpreter
        assert_contained 0 1
        assert_pth_ran
        [ "$(cat "$PTHMARK")" = MemoryError ] || { echo "the probe's python got 10 GiB: no address-space limit" >&2; return 1; }
}

@test "pyshare killed (SIGKILL) while a probe imports: the probe dies with it (parent-death signal)" {
        timeout 60 "$PYSHARE" probe "$APP" pstest_adv_sleep --timeout=60 >/dev/null 2>&1 &
        local tpid=$! ppid='' i
        for i in $(seq 1 100); do
                ppid=$(pgrep -P "$tpid" || true)
                [ -n "$ppid" ] && [ -n "$(svc_processes)" ] && break
                sleep 0.1
        done
        [ -n "$ppid" ]
        [ -n "$(svc_processes)" ]
        sleep 0.5 # well into the import, privileges long dropped
        kill -9 "$ppid"
        wait "$tpid" || true
        for i in $(seq 1 20); do
                [ -z "$(svc_processes)" ] && break
                sleep 0.1
        done
        left=$(svc_processes)
        [ -z "$left" ] || { printf 'the probe outlived pyshare:\n%s\n' "$left" >&2; return 1; }
}
