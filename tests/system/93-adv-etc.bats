#!/usr/bin/env bats
# Adversarial: writing under /etc fails. /etc/pyshare full (a tiny tmpfs) or read-only, and
# write, fsync and rename errors injected with strace: the previous files stay identical
# (contents, modes, owners, ACLs, inode), no temporary (.#*) is left, and pyshare exits 73
# naming the file and the cause.
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-etc
AUNIT=pst-adv-etc.service
# the files under /etc that these tests make stale and pyshare rewrites (guard_snapshot)
GUARD_APPS=$APP
GUARD_UNITS=$AUNIT

setup_file() {
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
}

teardown_file() {
        while mountpoint -q /etc/pyshare; do umount /etc/pyshare; done
        adv_cleanup "$APP"
        adv_unit_remove "$AUNIT"
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

# A file pyshare writes (the env file unless named) made stale, so that setup must rewrite it,
# and saved; restore_stale puts the stale copy back.
make_stale() {
        STALE=${1:-$ENV}
        printf '# stale\n' >>"$STALE"
        cp -a "$STALE" "$BATS_TEST_TMPDIR/stale"
}

restore_stale() {
        cat "$BATS_TEST_TMPDIR/stale" >"$STALE"
        chmod 0644 "$STALE"
        chown root:root "$STALE"
}

# index_of SYSCALL REGEX: the number of the SYSCALL call (1-based, this process only) whose
# strace -y line matches REGEX, in a real run of setup that rewrites the stale file.
index_of() {
        local sc=$1 re=$2 trace=$BATS_TEST_TMPDIR/index.trace
        restore_stale
        strace_ps -y -o "$trace" -e trace="$sc" "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe >/dev/null 2>&1
        grep -E "^$sc\(" "$trace" | grep -nE -m1 "$re" | cut -d: -f1
}

# inject SYSCALL N: setup with the N-th SYSCALL failing with EIO.
inject() {
        restore_stale
        before=$(etc_files_state)
        run strace_ps -o /dev/null -e trace="$1" -e inject="$1:error=EIO:when=$2" \
                "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe
}

# Every file pyshare writes under /etc for the app (lib/adv/killpoints.py names them).
etc_files() {
        "$SYSPY" "$ADV_LIB/killpoints.py" files --app "$APP" --unit "$AUNIT"
}

# The directories of those files, everything in them: contents, owners, modes, ACLs, inodes and
# ctimes of the files ("identical" means the same file, untouched), temporaries included. The
# directories' own times move when a temporary comes and goes.
etc_files_state() {
        local dirs=(/etc/pyshare /etc/pyshare/services /etc/tmpfiles.d "/etc/systemd/system/$AUNIT.d")
        "$SYSPY" "$ADV_LIB/treestate.py" --content --times "${dirs[@]/#/--untimed=}" "${dirs[@]}"
}

# ERE-quoted, for the paths in strace lines.
ere() { sed 's/[].[\\*^$()+?{}|]/\\&/g' <<<"$1"; }

@test "write, fsync and rename of each file's temporary under /etc fail with EIO (strace --inject): exit non-zero, the old files intact, no temporary" {
        require_cmd strace
        mapfile -t files < <(etc_files)
        [ "${#files[@]}" -eq 5 ]
        local f sc n dir base tries=0
        for f in "${files[@]}"; do
                # everything current, then only this file stale: setup's one write is this file's
                run adv_setup "$APP" "$AUNIT" --no-probe
                assert_status 0
                [ -f "$f" ] || { echo "setup did not write $f" >&2; return 1; }
                make_stale "$f"
                dir=$(ere "$(dirname "$f")")
                base=$(ere "$(basename "$f")")
                for sc in write fsync renameat; do
                        case $sc in
                        write | fsync) n=$(index_of "$sc" "^$sc\\([0-9]+<$dir/\\.#$base\\.[0-9a-f]+>") ;;
                        renameat) n=$(index_of renameat "^renameat\\([0-9]+<$dir>, \"\\.#$base\\.[0-9a-f]+\", [0-9]+<$dir>, \"$base\"\\)") ;;
                        esac
                        [ -n "$n" ] || { echo "no $sc of the temporary of $f seen" >&2; return 1; }
                        inject "$sc" "$n"
                        echo "$f: $sc #$n failing: status $status" >&2
                        tries=$((tries + 1))
                        assert_no_crash
                        [ "$status" -ne 0 ] || { echo "setup succeeded with the $sc of $f failing:" >&2; echo "$output" >&2; return 1; }
                        assert_output_has "$f"
                        assert_output_has "Input/output error"
                        assert_same "/etc (with the $sc of $f failing)" "$before" "$(etc_files_state)"
                        no_temporaries
                done
        done
        [ "$tries" -eq 15 ]
        # and it converges once the disk behaves
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        if grep -l stale "${files[@]}" >&2; then echo "a stale file was not rewritten" >&2; return 1; fi
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
                assert_same "$ENV" "$(cat "$BATS_TEST_TMPDIR/stale")" "$now"
        fi
        "$SYSPY" "$ADV_LIB/envfile.py" "$ENV" >/dev/null
}
