#!/usr/bin/env bats
# Adversarial: what a deployer (or a careless root) plants in the tree. Symlinks, hard links,
# special files and set-id bits; repair and setup must finish, touch only the tree's own
# regular files and directories, and change nothing outside it (guard_snapshot).
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-tree
APP2=pst-adv-tree2
AUNIT=pst-adv-tree.service
# the files under /etc that repair and setup of these may rewrite (guard_snapshot)
GUARD_APPS="$APP $APP2"
GUARD_UNITS=$AUNIT

setup_file() {
        adv_fixtures
        adv_cleanup "$APP" "$APP2"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
        adv_setup "$APP2" "$AUNIT" --no-probe -q
        deployer_install "$APP" 002 "$(wheel pstest_pure)"
        "$PYSHARE" repair "$APP" -q
}

teardown_file() {
        adv_cleanup "$APP" "$APP2"
        adv_unit_remove "$AUNIT"
}

setup() {
        guard_begin
        V=$(venv_of "$APP")
        SITE=$(site_of "$APP")
        DEEP=$SITE/pstest_pure/pst_adv_a/b/c/d
        as_deployer mkdir -p "$DEEP"
}

teardown() {
        if [ -f "$BATS_FILE_TMPDIR/protected_hardlinks" ]; then
                sysctl -q -w fs.protected_hardlinks="$(cat "$BATS_FILE_TMPDIR/protected_hardlinks")"
                rm -f "$BATS_FILE_TMPDIR/protected_hardlinks"
        fi
        # what the test planted goes before the guard looks (hard links count in st_nlink)
        rm -rf "$SITE/pstest_pure/pst_adv_a" "$V"/pst_adv_* "$SITE"/pst_adv_* "$(site_of "$APP2")"/pst_adv_*
        guard_check
}

links_of() {
        local l
        for l in "$@"; do
                printf '%s -> %s\n' "$l" "$(readlink "$l")"
                [ -L "$l" ] || echo "$l is no longer a symlink"
        done
}

@test "symlinks to /etc, /etc/shadow, the canary and nowhere, at the top and deep: repair and setup succeed, follow none" {
        local links=()
        for d in "$V" "$DEEP"; do
                as_deployer ln -s /etc "$d/pst_adv_etc"
                as_deployer ln -s /etc/shadow "$d/pst_adv_shadow"
                as_deployer ln -s "$ADV_CANARY" "$d/pst_adv_canary"
                as_deployer ln -s "$ADV_CANARY/secret" "$d/pst_adv_canary_file"
                as_deployer ln -s /nonexistent/pst-adv "$d/pst_adv_dangling"
                as_deployer ln -s pst_adv_loop2 "$d/pst_adv_loop1"
                as_deployer ln -s pst_adv_loop1 "$d/pst_adv_loop2"
                links+=("$d"/pst_adv_etc "$d"/pst_adv_shadow "$d"/pst_adv_canary "$d"/pst_adv_canary_file
                        "$d"/pst_adv_dangling "$d"/pst_adv_loop1 "$d"/pst_adv_loop2)
        done
        # relative, climbing out of the tree; a .pth and a package directory that are links
        as_deployer ln -s ../../../../../../../../../../../etc "$DEEP/pst_adv_relative"
        as_deployer ln -s /etc/shadow "$SITE/pst_adv_shadow.pth"
        as_deployer ln -s /etc "$SITE/pst_adv_etcpkg"
        links+=("$DEEP/pst_adv_relative" "$SITE/pst_adv_shadow.pth" "$SITE/pst_adv_etcpkg")
        # and something for repair to do around them
        as_deployer chmod 600 "$SITE/pstest_pure/sub.py"
        as_deployer chmod 700 "$DEEP"
        before=$(links_of "${links[@]}"; "$SYSPY" "$ADV_LIB/treestate.py" "${links[@]}")

        run "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "symlinks left alone"
        run --separate-stderr "$PYSHARE" --json repair "$APP"
        assert_status 0
        echo "$output" | "$SYSPY" -c 'import json,sys; d=json.load(sys.stdin); assert d["skipped"]["symlink"] >= 17 and d["errors"] == 0, d'
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        [ "$before" = "$(links_of "${links[@]}"; "$SYSPY" "$ADV_LIB/treestate.py" "${links[@]}")" ]
        [ "$(stat -c %a "$SITE/pstest_pure/sub.py")" = 660 ]
        [ "$(stat -c %a "$DEEP")" = 2770 ]
        # nothing of /etc reached the EnvironmentFile through the linked .pth
        if grep '/etc' "/etc/pyshare/$APP.env" >&2; then echo "/etc reached the EnvironmentFile" >&2; return 1; fi
}

@test "hard links to root's files outside the tree (protected_hardlinks=0) and between two apps' trees: skipped with a warning naming the path" {
        sysctl -n fs.protected_hardlinks >"$BATS_FILE_TMPDIR/protected_hardlinks"
        sysctl -q -w fs.protected_hardlinks=0
        site2=$(site_of "$APP2")
        as_deployer ln "$ADV_CANARY_OPEN/secret" "$SITE/pst_adv_hl_secret"
        as_deployer ln "$ADV_CANARY_OPEN/public" "$DEEP/pst_adv_hl_public"
        as_deployer sh -c "umask 077 && echo 'X = 1' > $site2/pst_adv_shared.py"
        as_deployer ln "$site2/pst_adv_shared.py" "$SITE/pst_adv_shared.py"
        [ "$(stat -c %h "$ADV_CANARY_OPEN/secret")" = 2 ]
        shared_before=$("$SYSPY" "$ADV_LIB/treestate.py" --content "$site2/pst_adv_shared.py")

        run "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "$SITE/pst_adv_hl_secret: hard link"
        assert_output_has "$DEEP/pst_adv_hl_public: hard link"
        assert_output_has "$SITE/pst_adv_shared.py: hard link"
        run "$PYSHARE" repair "$APP2"
        assert_status 0
        assert_output_has "$site2/pst_adv_shared.py: hard link"
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        [ "$shared_before" = "$("$SYSPY" "$ADV_LIB/treestate.py" --content "$site2/pst_adv_shared.py")" ]
        # the canary's own files are checked by the guard in teardown, once the links are gone
        getfacl -p -n "$ADV_CANARY_OPEN/secret" | grep -qx "user:$(id -u nobody):r--"
        if getfacl -p "$ADV_CANARY_OPEN/secret" | grep "$ADV_SVC\|$DEPLOY_GROUP" >&2; then return 1; fi
}

@test "a FIFO, block and char device nodes and a socket, at the top and deep: repair finishes and leaves them as they were" {
        specials=()
        for d in "$V" "$DEEP"; do
                mkfifo -m 0600 "$d/pst_adv_fifo"
                mknod -m 0660 "$d/pst_adv_blk" b 7 0
                mknod -m 0666 "$d/pst_adv_chr" c 1 3
                "$SYSPY" -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$d/pst_adv_sock')"
                as_deployer mkfifo -m 0640 "$d/pst_adv_userfifo"
                setfacl -m u:nobody:rw- "$d/pst_adv_chr"
                specials+=("$d/pst_adv_fifo" "$d/pst_adv_blk" "$d/pst_adv_chr" "$d/pst_adv_sock" "$d/pst_adv_userfifo")
        done
        before=$("$SYSPY" "$ADV_LIB/treestate.py" "${specials[@]}")

        run timeout 30 "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "$V/pst_adv_fifo: special file"
        assert_output_has "$DEEP/pst_adv_blk: special file"
        # the notes stop at a few paths; the count covers all ten
        run --separate-stderr "$PYSHARE" --json repair "$APP"
        assert_status 0
        echo "$output" | "$SYSPY" -c 'import json,sys; d=json.load(sys.stdin); assert d["skipped"]["special file"] == 10 and d["errors"] == 0, d'
        run timeout 30 "$PYSHARE" status "$APP"
        [ "$status" -ne 124 ]
        assert_no_crash
        run timeout 60 "$PYSHARE" setup "$APP" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        [ "$before" = "$("$SYSPY" "$ADV_LIB/treestate.py" "${specials[@]}")" ]
}

@test "special files where pyshare reads (.pth, a dist-info's RECORD and top_level.txt): never opened, nothing blocks" {
        require_cmd strace
        dist=$SITE/pst_adv_fake-1.0.dist-info
        as_deployer mkdir "$dist"
        mkfifo "$SITE/pst_adv_fifo.pth"
        mknod "$SITE/pst_adv_chr.pth" c 1 5
        mknod "$SITE/pst_adv_blk.pth" b 7 0
        mkfifo "$dist/top_level.txt"
        mknod "$dist/RECORD" c 1 5
        before=$("$SYSPY" "$ADV_LIB/treestate.py" "$SITE"/pst_adv_*.pth "$dist/RECORD" "$dist/top_level.txt")
        trace=$BATS_TEST_TMPDIR/open.trace
        opened=
        for verb in repair status "probe --timeout=20"; do
                rm -f "$trace".*
                # -ff: a file per thread, so that no open is split into "unfinished" and "resumed"
                # shellcheck disable=SC2086
                run timeout 60 env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -ff -y -o "$trace" \
                        -e trace=open,openat,openat2,creat "$PYSHARE" $verb "$APP"
                [ "$status" -ne 124 ] || { echo "$verb hung" >&2; return 1; }
                assert_no_crash
                compgen -G "$trace.*" >/dev/null || { echo "strace wrote no trace" >&2; return 1; }
                # an open by name, or a reopen through /proc/self/fd that lands on one of them
                # (strace -y names the fd it returns); pinning with O_PATH opens nothing
                # (SECURITY.md: pin with openat(parent, name, O_PATH|O_NOFOLLOW|O_CLOEXEC))
                if cat "$trace".* | grep -E 'pst_adv_(fifo|chr|blk)\.pth("|>$)|pst_adv_fake-1\.0\.dist-info(>, "|/)(RECORD|top_level\.txt)("|>$)' |
                        grep -v 'O_PATH' >&2; then
                        echo "pyshare $verb opened a special file of the tree (SECURITY.md: never open() an entry to read it)" >&2
                        opened+=" $verb"
                fi
        done
        [ -z "$opened" ]
        assert_same "the special files" "$before" "$("$SYSPY" "$ADV_LIB/treestate.py" "$SITE"/pst_adv_*.pth "$dist/RECORD" "$dist/top_level.txt")"
}

@test "set-gid and set-uid binaries planted by the deployer (and by root), sticky and set-uid directories: the bits are removed" {
        as_deployer cp /bin/true "$V/pst_adv_sgid"
        as_deployer chmod 2755 "$V/pst_adv_sgid"
        as_deployer cp /bin/true "$DEEP/pst_adv_suid"
        as_deployer chmod 4755 "$DEEP/pst_adv_suid"
        as_deployer cp /bin/true "$DEEP/pst_adv_both"
        as_deployer chmod 6775 "$DEEP/pst_adv_both"
        as_deployer sh -c "echo x > $DEEP/pst_adv_sgid_noexec && chmod 2664 $DEEP/pst_adv_sgid_noexec"
        as_deployer sh -c "echo x > $DEEP/pst_adv_sticky && chmod 1664 $DEEP/pst_adv_sticky"
        as_deployer mkdir "$DEEP/pst_adv_dir_suid" "$DEEP/pst_adv_dir_sticky"
        as_deployer chmod 4775 "$DEEP/pst_adv_dir_suid"
        as_deployer chmod 1777 "$DEEP/pst_adv_dir_sticky"
        # root ran something in the tree: a set-uid-root file
        cp /bin/true "$SITE/pst_adv_root_suid"
        chmod 4755 "$SITE/pst_adv_root_suid"
        for f in "$V/pst_adv_sgid" "$DEEP/pst_adv_suid" "$DEEP/pst_adv_both" "$SITE/pst_adv_root_suid"; do
                [ -n "$(find "$f" -perm /6000)" ]
        done

        run "$PYSHARE" repair "$APP"
        assert_status 0
        # both branches print: -printf binds tighter than -o
        left=$(find "$V" -xdev \( \( -type f -perm /7000 \) -o \( -type d ! -perm 2770 \) \) -printf '%m %p\n')
        if [ -n "$left" ]; then
                printf 'set-id or sticky bits left, or directories not 2770:\n%s\n' "$left" >&2
                return 1
        fi
        [ "$(stat -c %a "$V/pst_adv_sgid")" = 770 ]
        [ "$(stat -c %a "$DEEP/pst_adv_sgid_noexec")" = 660 ]
        [ "$(stat -c '%U %a' "$SITE/pst_adv_root_suid")" = "root 770" ]
        run "$PYSHARE" repair "$APP"
        assert_status 0
        assert_output_has "nothing to change"
}
