#!/usr/bin/env bats
# Adversarial: the shape of the tree and what it is mounted on. 20000 nested directories under
# a small fd limit (CVE-2021-3997), bind mounts of the same filesystem inside the tree (same
# st_dev: only the mount id tells), and filesystems without ACL support.
load helpers
bats_require_minimum_version 1.5.0

DEEPAPP=pst-adv-deep
BINDAPP=pst-adv-bind
RAMAPP=pst-adv-ramfs
RAMAPP2=pst-adv-ramfs2
AUNIT=pst-adv-mounts.service
# the files under /etc that these tests write or purge (guard_snapshot); not $RAMAPP, whose
# setup must write nothing
GUARD_APPS="$DEEPAPP $BINDAPP $RAMAPP2"
GUARD_UNITS=$AUNIT
OTHER=/var/tmp/pst-adv-other
RAMFS=/var/tmp/pst-adv-ramfs
RAMFS2=/var/tmp/pst-adv-ramfs2

setup_file() {
        adv_fixtures
        adv_cleanup "$DEEPAPP" "$BINDAPP" "$RAMAPP" "$RAMAPP2"
        adv_unit "$AUNIT"
        adv_setup "$DEEPAPP" "$AUNIT" --no-probe -q
        adv_setup "$BINDAPP" "$AUNIT" --no-probe -q
}

unmount_all() {
        local m
        for m in $(findmnt -rn -o TARGET | grep -E "^/opt/pyshare/($DEEPAPP|$BINDAPP)/|^$RAMFS|^$RAMFS2" | sort -r); do
                umount "$m" || umount -l "$m"
        done
}

teardown_file() {
        unmount_all
        local d
        for d in "$(venv_of "$DEEPAPP")" "$(venv_of "$BINDAPP")"; do
                [ ! -e "$d" ] || "$SYSPY" "$ADV_LIB/deeptree.py" remove "$d"
        done
        adv_cleanup "$DEEPAPP" "$BINDAPP" "$RAMAPP" "$RAMAPP2"
        rm -rf "$OTHER" "$RAMFS" "$RAMFS2" "$RAMFS2.orig"
        adv_unit_remove "$AUNIT"
}

setup() {
        guard_begin
}

teardown() {
        unmount_all
        guard_check
}

etc_state() {
        adv_etc_state
}

@test "20000 nested directories under ulimit -n 256: repair does not crash and says \"too deep\"; remove --purge fails clearly or succeeds" {
        site=$(site_of "$DEEPAPP")
        as_deployer mkdir "$site/pst_adv_deep"
        as_deployer "$SYSPY" "$ADV_LIB/deeptree.py" make "$site/pst_adv_deep" 20000
        run bash -c "ulimit -n 256 && exec timeout 300 \"\$0\" repair $DEEPAPP" "$PYSHARE"
        assert_no_crash
        [ "$status" -ne 124 ] || { echo "repair hung" >&2; return 1; }
        if [ "$status" -ne 0 ]; then
                assert_output_has "error"
        fi
        assert_output_has "too deep"
        run --separate-stderr bash -c "ulimit -n 256 && exec timeout 300 \"\$0\" --json repair $DEEPAPP" "$PYSHARE"
        assert_no_crash
        echo "$output" | "$SYSPY" -c 'import json,sys; d=json.load(sys.stdin); assert d["skipped"]["too deep"] >= 1, d'

        run bash -c "ulimit -n 256 && exec timeout 300 \"\$0\" remove $DEEPAPP --purge" "$PYSHARE"
        assert_no_crash
        [ "$status" -ne 124 ] || { echo "remove --purge hung" >&2; return 1; }
        if [ "$status" -ne 0 ]; then
                # a refusal names the venv and says why, in one error line
                assert_output_has "$(venv_of "$DEEPAPP")"
                [[ "$output" == *"error"* ]]
        else
                [ ! -e "$(venv_of "$DEEPAPP")" ]
        fi
        [ ! -e "$(venv_of "$DEEPAPP")" ] || "$SYSPY" "$ADV_LIB/deeptree.py" remove "$(venv_of "$DEEPAPP")"
}

@test "bind mounts of the same filesystem inside the tree (a directory, /etc read-only, a file): repair does not cross them, remove --purge refuses" {
        site=$(site_of "$BINDAPP")
        rm -rf "$OTHER"
        mkdir -p "$OTHER/sub"
        echo other >"$OTHER/file" && chmod 0600 "$OTHER/file"
        echo sub >"$OTHER/sub/deep" && chmod 0640 "$OTHER/sub/deep"
        chmod 0700 "$OTHER/sub"
        setfacl -m u:nobody:r-- "$OTHER/sub/deep"
        as_deployer mkdir -p "$site/pst_adv_pkg/sub/bound" "$site/pst_adv_pkg/etc"
        as_deployer sh -c "echo 'X = 1' > $site/pst_adv_pkg/file.py"
        mount --bind "$OTHER" "$site/pst_adv_pkg/sub/bound"
        mount --bind /etc "$site/pst_adv_pkg/etc"
        mount -o remount,bind,ro "$site/pst_adv_pkg/etc"
        mount --bind "$ADV_CANARY_OPEN/public" "$site/pst_adv_pkg/file.py"
        # the same filesystem: st_dev cannot tell them apart
        [ "$(stat -c %d "$site/pst_adv_pkg/sub/bound")" = "$(stat -c %d "$site")" ]
        [ "$(stat -c %d "$site/pst_adv_pkg/etc")" = "$(stat -c %d "$site")" ]
        chmod 600 "$(venv_of "$BINDAPP")/pyvenv.cfg"
        other_before=$("$SYSPY" "$ADV_LIB/treestate.py" --content "$OTHER")

        run "$PYSHARE" repair "$BINDAPP"
        assert_status 0
        assert_output_has "$site/pst_adv_pkg/sub/bound: other mount"
        assert_output_has "$site/pst_adv_pkg/etc: other mount"
        assert_output_has "$site/pst_adv_pkg/file.py: other mount"
        [[ "$output" != *"Read-only file system"* ]]
        assert_same "$OTHER" "$other_before" "$("$SYSPY" "$ADV_LIB/treestate.py" --content "$OTHER")"
        run adv_setup "$BINDAPP" "$AUNIT" --no-probe
        assert_status 0
        assert_same "$OTHER" "$other_before" "$("$SYSPY" "$ADV_LIB/treestate.py" --content "$OTHER")"

        run "$PYSHARE" remove "$BINDAPP" --purge
        assert_no_crash
        [ "$status" -ne 0 ]
        assert_output_has "$(venv_of "$BINDAPP")"
        assert_output_has "mount"
        [[ "$output" != *"Read-only file system"* ]]
        mountpoint -q "$site/pst_adv_pkg/sub/bound"
        mountpoint -q "$site/pst_adv_pkg/etc"
        assert_same "$OTHER" "$other_before" "$("$SYSPY" "$ADV_LIB/treestate.py" --content "$OTHER")"
}

@test "a prefix on ramfs (no ACL support): setup exits 73 with a clear error and writes nothing" {
        mkdir -p "$RAMFS"
        mount -t ramfs -o mode=0755 pst-adv-ramfs "$RAMFS"
        before=$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS"; getent group)
        run adv_setup "$RAMAPP" "$AUNIT" --prefix="$RAMFS" --no-probe
        assert_status 73
        assert_output_has "$RAMFS has no POSIX ACL support"
        assert_same "/etc or the ramfs" "$before" "$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS"; getent group)"
        run adv_setup "$RAMAPP" "$AUNIT" --prefix="$RAMFS/below/the/mount" --no-probe
        assert_status 73
        assert_output_has "no POSIX ACL support"
        assert_same "/etc or the ramfs" "$before" "$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS"; getent group)"
}

@test "a set-up venv that finds itself on ramfs (copied without ACLs): repair and setup exit 73 and change nothing, not even owners" {
        mkdir -p "$RAMFS2"
        adv_setup "$RAMAPP2" "$AUNIT" --prefix="$RAMFS2" --no-probe -q
        mv "$RAMFS2" "$RAMFS2.orig"
        mkdir -m 0755 "$RAMFS2"
        mount -t ramfs -o mode=0755 pst-adv-ramfs2 "$RAMFS2"
        # copied by root without keeping owners, as a restore from a backup does: every entry,
        # the top first, needs its group put right as well as its ACL
        cp -r "$RAMFS2.orig/$RAMAPP2" "$RAMFS2/"
        [ "$(stat -c %G "$RAMFS2/$RAMAPP2")" = root ]
        before=$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS2")
        run "$PYSHARE" repair "$RAMAPP2"
        assert_status 73
        assert_output_has "no POSIX ACL support"
        assert_output_has "$RAMFS2/$RAMAPP2"
        assert_same "/etc or the venv on ramfs" "$before" "$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS2")"
        run adv_setup "$RAMAPP2" "$AUNIT" --prefix="$RAMFS2" --no-probe
        assert_status 73
        assert_output_has "no POSIX ACL support"
        assert_same "/etc or the venv on ramfs" "$before" "$(etc_state; "$SYSPY" "$ADV_LIB/treestate.py" "$RAMFS2")"
        umount "$RAMFS2"
        rmdir "$RAMFS2"
        mv "$RAMFS2.orig" "$RAMFS2"
}
