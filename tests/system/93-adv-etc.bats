#!/usr/bin/env bats
# Adversarial: writing under /etc fails. /etc/pyshare full (a tiny tmpfs) or read-only, and
# write, fsync and rename errors injected with strace: the previous files stay identical
# (contents, modes, owners, ACLs, inode), no temporary (.#*) is left, and pyshare exits 73
# naming the file and the cause.
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-etc
AUNIT=pst-adv-etc.service

setup_file() {
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
}

teardown_file() {
        while mountpoint -q /etc/pyshare; do umount /etc/pyshare; done
        adv_cleanup "$APP"
        rm -f "/etc/systemd/system/$AUNIT" "/etc/pyshare/services/$AUNIT.env"
        rm -rf "/etc/systemd/system/$AUNIT.d"
}

setup() {
        guard_begin
        ENV=/etc/pyshare/$APP.env
        CONF=/etc/pyshare/$APP.conf
        REAL_BEFORE=$(etc_all)
}

teardown() {
        while mountpoint -q /etc/pyshare; do umount /etc/pyshare; done
        guard_check
}

# Everything under /etc/pyshare (temporaries included) with inode numbers: "identical" means
# the same file, not a copy of it.
etc_all() {
        "$SYSPY" "$ADV_LIB/treestate.py" --content /etc/pyshare
        find /etc/pyshare -printf '%p %i\n' | LC_ALL=C sort
}

no_temporaries() {
        local t
        t=$(find /etc/pyshare /etc/tmpfiles.d "/etc/systemd/system/$AUNIT.d" -name '.#*' 2>/dev/null)
        [ -z "$t" ] || { printf 'temporaries left:\n%s\n' "$t" >&2; return 1; }
}

# A tmpfs on /etc/pyshare holding a copy of this app's files (the others' are hidden for the
# test), root's and 0755 as pyshare wants.
etc_on_tmpfs() {
        local opts=$1 save=$BATS_TEST_TMPDIR/etc-pyshare
        mkdir -p "$save/services"
        cp -a "$CONF" "$ENV" "$save/"
        cp -a "/etc/pyshare/services/$AUNIT.env" "$save/services/"
        mount -t tmpfs -o "mode=0755,$opts" pst-adv-etc /etc/pyshare
        cp -a "$save/." /etc/pyshare/
}

@test "/etc/pyshare full (a 32k tmpfs, filled): setup that must rewrite the config or the env file exits 73, the old files identical, no temporary left" {
        etc_on_tmpfs size=32k
        # the same size, other content: the env file needs rewriting too (done before the fill:
        # sed -i itself writes a temporary)
        sed -i "s/^# Written by pyshare/# written by pyshare/" "$ENV"
        dd if=/dev/zero of=/etc/pyshare/zz-pst-adv-fill bs=4k 2>/dev/null || true
        [ "$(df --output=avail /etc/pyshare | tail -1)" -eq 0 ]
        before=$(etc_all)

        run adv_setup "$APP" "$AUNIT" --module=pstest_new --no-probe
        assert_status 73
        assert_output_has "/etc/pyshare/$APP.conf"
        assert_output_has "No space left on device"
        assert_same /etc/pyshare "$before" "$(etc_all)"
        no_temporaries

        # the config is as it was: now the env file is the first to be written
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 73
        assert_output_has "$ENV"
        assert_output_has "No space left on device"
        assert_same /etc/pyshare "$before" "$(etc_all)"
        no_temporaries
        run "$PYSHARE" repair "$APP"
        assert_status 73
        assert_output_has "$ENV"
        assert_same /etc/pyshare "$before" "$(etc_all)"
        no_temporaries

        umount /etc/pyshare
        assert_same "the real /etc/pyshare" "$REAL_BEFORE" "$(etc_all)"
}

@test "/etc/pyshare read-only: setup and repair exit 73 naming the file and the cause, nothing changed" {
        etc_on_tmpfs size=1m
        sed -i "s/^# Written by pyshare/# written by pyshare/" "$ENV"
        mount -o remount,ro /etc/pyshare
        before=$(etc_all)
        run adv_setup "$APP" "$AUNIT" --module=pstest_new --no-probe
        assert_status 73
        assert_output_has "$CONF"
        assert_output_has "Read-only file system"
        assert_same /etc/pyshare "$before" "$(etc_all)"
        run "$PYSHARE" repair "$APP"
        assert_status 73
        assert_output_has "$ENV"
        assert_output_has "Read-only file system"
        assert_same /etc/pyshare "$before" "$(etc_all)"
        no_temporaries
        umount /etc/pyshare
        assert_same "the real /etc/pyshare" "$REAL_BEFORE" "$(etc_all)"
}

# The env file made stale (a rewrite is needed), saved; restore_stale puts it back.
make_stale() {
        printf '# stale\n' >>"$ENV"
        cp -a "$ENV" "$BATS_TEST_TMPDIR/stale.env"
}

restore_stale() {
        cat "$BATS_TEST_TMPDIR/stale.env" >"$ENV"
        chmod 0644 "$ENV"
        chown root:root "$ENV"
}

# index_of SYSCALL REGEX: the number of the SYSCALL call (1-based, this process only) whose
# strace -y line matches REGEX, in a real run of setup that rewrites the env file.
index_of() {
        local sc=$1 re=$2 trace=$BATS_TEST_TMPDIR/index.trace
        restore_stale
        strace_ps -y -o "$trace" -e trace="$sc" "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe >/dev/null 2>&1
        grep -E "^$sc\(" "$trace" | grep -nE -m1 "$re" | cut -d: -f1
}

# inject SYSCALL N: setup with the N-th SYSCALL failing with EIO.
inject() {
        restore_stale
        before=$(etc_all)
        run strace_ps -o /dev/null -e trace="$1" -e inject="$1:error=EIO:when=$2" \
                "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe
}

@test "write, fsync and rename of the env file's temporary fail with EIO (strace --inject): exit non-zero, the old file intact, no temporary" {
        require_cmd strace
        make_stale
        tmp_re="/etc/pyshare/\.#$APP\.env\."
        for sc in write fsync renameat; do
                if [ "$sc" = renameat ]; then
                        n=$(index_of renameat "\"$APP\.env\"")
                else
                        n=$(index_of "$sc" "^$sc\([0-9]+<$tmp_re")
                fi
                [ -n "$n" ] || { echo "no $sc of the env file's temporary seen" >&2; return 1; }
                inject "$sc" "$n"
                echo "$sc #$n failing: status $status" >&2
                assert_no_crash
                [ "$status" -ne 0 ]
                assert_output_has "$ENV"
                assert_output_has "Input/output error"
                assert_same /etc/pyshare "$before" "$(etc_all)"
                no_temporaries
        done
        # and it converges once the disk behaves
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        if grep -q stale "$ENV"; then echo "the stale env file was not rewritten" >&2; return 1; fi
}

@test "fsync of /etc/pyshare after the rename fails (EIO): the file is the old or the new one, whole, and the message does not say it is unchanged when it changed" {
        require_cmd strace
        make_stale
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        new=$(cat "$ENV")
        n=$(index_of fsync '^fsync\([0-9]+</etc/pyshare>\)')
        [ -n "$n" ]
        inject fsync "$n"
        assert_no_crash
        [ "$status" -ne 0 ]
        assert_output_has "$ENV"
        no_temporaries
        now=$(cat "$ENV")
        if [ "$now" = "$new" ]; then
                [[ "$output" != *"previous file is unchanged"* ]] ||
                        { printf 'the new file is in place, yet pyshare says the previous file is unchanged:\n%s\n' "$output" >&2; return 1; }
        else
                assert_same "$ENV" "$(cat "$BATS_TEST_TMPDIR/stale.env")" "$now"
        fi
        "$SYSPY" "$ADV_LIB/envfile.py" "$ENV" >/dev/null
}
