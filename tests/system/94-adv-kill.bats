#!/usr/bin/env bats
# Adversarial: kill -9 at 200 points of setup and repair, chosen by syscall count among
# pyshare's own mutating syscalls (strace -f for the walk's worker threads; these runs start no
# child, and where `python -m venv` runs, strace -b execve leaves it alone), then a rerun.
# 200 real kills: 70 + 60 + 60 + 10, each test's count enforced by the driver, which replaces a
# point the run did not reach with another until that many runs were killed. Right after each
# kill every file pyshare writes is absent (as before), old or new, never torn, and
# EnvironmentFiles parse; after the rerun the venv (owners, modes, ACLs,
# contents) and the files under /etc equal a clean run's, temporaries included.
# The driver is lib/adv/killpoints.py. pyshare runs under lib/no-fchmodat2.c, so that its
# chmod goes through /proc/self/fd as on Debian 12's kernel, where strace 6.1 can see it
# (it does not know fchmodat2).
load helpers

APP=pst-adv-kill
AUNIT=pst-adv-kill.service
# the files under /etc that the kill runs write and the driver restores (guard_snapshot)
GUARD_APPS=$APP
GUARD_UNITS=$AUNIT
KSTATE=/var/tmp/pst-adv-kill

setup_file() {
        kill_setup_file
        cc -O1 -o "$ADV_BIN/no-fchmodat2" "$REPO/tests/system/lib/no-fchmodat2.c"
        kp save --app "$APP" --unit "$AUNIT" "$KSTATE/s0"

        # s1: what setup finds right after `python -m venv` (a small venv, so that 200 restores
        # stay fast): root's 0700 top, the completion marker, two packages
        v=$(venv_of "$APP")
        site=$(site_of "$APP")
        mkdir -m 0700 "$v"
        "$SYSPY" -m venv --without-pip "$v"
        chmod 0700 "$v"
        printf 'pyshare: this virtualenv was created completely.\n' >"$v/.pyshare-complete"
        "$SYSPY" -m zipfile -e "$(wheel pstest_pure)" "$site"
        "$SYSPY" -m zipfile -e "$(wheel pstest_pth)" "$site"
        kp save --app "$APP" --unit "$AUNIT" "$KSTATE/s1"

        # s2: set up, then a deployer installed with umask 077, added a .pth directory (the
        # EnvironmentFiles must change) and planted a set-gid binary; root closed a file
        adv_setup "$APP" "$AUNIT" --no-probe -q
        as_deployer sh -c "umask 077 && $SYSPY -m zipfile -e $(wheel pstest_cext) $site"
        as_deployer mkdir "$site/pst_adv_extra_src"
        as_deployer sh -c "echo pst_adv_extra_src > $site/pst_adv_extra.pth"
        chmod 600 "$site/pstest_pure/sub.py"
        as_deployer cp /bin/true "$site/pst_adv_sgid"
        as_deployer chmod 2755 "$site/pst_adv_sgid"
        kp save --app "$APP" --unit "$AUNIT" "$KSTATE/s2"
}

teardown_file() { kill_teardown_file; }

setup() {
        guard_begin
}

teardown() {
        guard_check
}

kp() {
        "$SYSPY" "$ADV_LIB/killpoints.py" "$@"
}

# kill_at STATE POINTS [DRIVER OPTION...] -- PYSHARE ARG...
kill_at() {
        local state=$1 points=$2
        shift 2
        run kp kill --app "$APP" --unit "$AUNIT" --state "$KSTATE/$state" --points "$points" \
                --log "$BATS_TEST_TMPDIR/kills.log" "$@"
        echo "$output" >&2
        assert_status 0
}

@test "setup killed at 70 points of its walk and its files, then rerun: the state of a clean setup, no torn file" {
        kill_at s1 70 --wrapper "$ADV_BIN/no-fchmodat2" -- "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe
}

@test "setup that rewrites the config and both EnvironmentFiles killed at 60 points, then rerun" {
        kill_at s2 60 --wrapper "$ADV_BIN/no-fchmodat2" -- "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --module=pstest_pure --no-probe
}

@test "repair killed at 60 points (walk, app and service EnvironmentFiles), then rerun" {
        kill_at s2 60 --wrapper "$ADV_BIN/no-fchmodat2" -- "$PYSHARE" repair "$APP"
}

@test "a first setup, python -m venv included, killed at 10 points around the venv's creation and its first files, then rerun" {
        # venvs made by two runs differ in their .pyc files: compare owners, modes and ACLs only
        # strace -b execve: the python child is not traced (no wrapper then: it would exec)
        kill_at s0 10 --no-content --etc-share 0.5 --detach-on-exec \
                --pick '^([0-9]+ +)?(mkdirat|fchown|fchmod)\(' --pick '\.pyshare-complete' \
                --pick '^([0-9]+ +)?(write|fsync|renameat)\([0-9]+</etc/' \
                -- "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe
}
