#!/usr/bin/env bats
# repair: one walk that puts everything right, touches nothing that is right, never follows
# what a deployer planted.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-rep
        ps_setup pst-rep --no-probe >/dev/null
        deployer_install pst-rep 002 "$(wheel pstest_pure)"
        "$PYSHARE" repair pst-rep >/dev/null
        rm -rf /var/tmp/pst-canary
        mkdir -p /var/tmp/pst-canary
        echo canary >/var/tmp/pst-canary/file
        chmod 0600 /var/tmp/pst-canary/file
}

teardown_file() {
        cleanup_app pst-rep
        rm -rf /var/tmp/pst-canary
}

# LeakSanitizer cannot run under ptrace: the strace tests turn it off for themselves.
# syscall_0x1c4 is fchmodat2 as Debian 12's strace (6.1) prints it: it does not know the name.
MUTATING='chown|fchown|fchownat|lchown|chmod|fchmod|fchmodat|fchmodat2|setxattr|lsetxattr|fsetxattr|removexattr|lremovexattr|fremovexattr|rename|renameat|renameat2|unlink|unlinkat|mkdir|mkdirat|rmdir|link|linkat|symlink|symlinkat|truncate|ftruncate|syscall_0x1c4'

@test "a second repair makes no mutating syscall at all (strace -f -c)" {
        require_cmd strace
        "$PYSHARE" repair pst-rep >/dev/null
        run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -c -o /var/tmp/pst-strace.txt "$PYSHARE" repair pst-rep
        assert_status 0
        assert_output_has "repair pst-rep: nothing to change"
        grep -qE '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ +([0-9]+ +)?(statx|newfstatat|lgetxattr|fgetxattr)$' /var/tmp/pst-strace.txt
        if grep -wE "($MUTATING)$" /var/tmp/pst-strace.txt; then
                echo "mutating syscalls seen in a no-op repair" >&2
                return 1
        fi
        rm -f /var/tmp/pst-strace.txt
}

@test "planted symlinks (to /etc, /etc/shadow, the canary, dangling) are left alone and not followed" {
        site=$(site_of pst-rep)
        before=$(snapshot /etc/shadow /etc/passwd /var/tmp/pst-canary; stat -c '%U:%G %a' /etc /root)
        runuser -u "$DEPLOYER" -- ln -s /etc "$site/pst_link_etc"
        runuser -u "$DEPLOYER" -- ln -s /etc/shadow "$site/pstest_pure/pst_link_shadow"
        runuser -u "$DEPLOYER" -- ln -s /var/tmp/pst-canary "$site/pst_link_canary"
        runuser -u "$DEPLOYER" -- ln -s /nonexistent "$site/pst_link_dangling"
        run "$PYSHARE" repair pst-rep
        assert_status 0
        [ "$before" = "$(snapshot /etc/shadow /etc/passwd /var/tmp/pst-canary; stat -c '%U:%G %a' /etc /root)" ]
        [ -L "$site/pst_link_etc" ]
        rm -f "$site"/pst_link_* "$site/pstest_pure/pst_link_shadow"
}

@test "a planted set-gid or set-uid binary loses the bit; a hard link to a root file is skipped with a warning" {
        site=$(site_of pst-rep)
        runuser -u "$DEPLOYER" -- cp /bin/true "$site/pst_sgid"
        runuser -u "$DEPLOYER" -- chmod 2755 "$site/pst_sgid"
        runuser -u "$DEPLOYER" -- cp /bin/true "$site/pst_suid"
        runuser -u "$DEPLOYER" -- chmod 4755 "$site/pst_suid"
        ln /var/tmp/pst-canary/file "$site/pst_hardlink"
        canary=$(snapshot /var/tmp/pst-canary)
        run "$PYSHARE" repair pst-rep
        assert_status 0
        assert_output_has "$site/pst_hardlink: hard link (more than one name), left alone"
        [ "$(stat -c %a "$site/pst_sgid")" = 770 ]
        [ "$(stat -c %a "$site/pst_suid")" = 770 ]
        [ "$canary" = "$(snapshot /var/tmp/pst-canary)" ]
        rm -f "$site/pst_sgid" "$site/pst_suid" "$site/pst_hardlink"
}

@test "FIFOs, sockets and device nodes are skipped without blocking and get no ACL" {
        site=$(site_of pst-rep)
        mkfifo "$site/pst_fifo"
        mknod "$site/pst_chr" c 1 3
        /usr/bin/python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$site/pst_sock')"
        before=$(cd "$site" && getfacl -p pst_fifo pst_chr pst_sock; stat -c '%n %U:%G %a' pst_fifo pst_chr pst_sock)
        run timeout 20 "$PYSHARE" repair pst-rep
        assert_status 0
        assert_output_has "$site/pst_fifo: special file"
        assert_output_has "$site/pst_chr: special file"
        assert_output_has "$site/pst_sock: special file"
        [ "$before" = "$(cd "$site" && getfacl -p pst_fifo pst_chr pst_sock; stat -c '%n %U:%G %a' pst_fifo pst_chr pst_sock)" ]
        rm -f "$site/pst_fifo" "$site/pst_chr" "$site/pst_sock"
}

@test "repair --json counts entries, changes and skips" {
        site=$(site_of pst-rep)
        chmod 600 "$site/pstest_pure/sub.py"
        runuser -u "$DEPLOYER" -- ln -sf /etc "$site/pst_link_etc"
        run "$PYSHARE" --json repair pst-rep
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["permissions"]
assert d["app"] == "pst-rep" and d["changed"] is True and p["changed"] == 1 and p["entries"] > 100, d
assert p["skipped"]["symlink"] >= 1 and p["errors"] == 0, d
'
        rm -f "$site/pst_link_etc"
}

@test "chmod falls back to /proc/self/fd when fchmodat2 is missing (kernel 6.1)" {
        require_cmd strace
        f=$(site_of pst-rep)/pst_sgid2
        runuser -u "$DEPLOYER" -- cp /bin/true "$f"
        runuser -u "$DEPLOYER" -- chmod 2755 "$f"
        cc -O1 -o /var/tmp/pst-no-fchmodat2 "$REPO/tests/system/lib/no-fchmodat2.c"
        run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -o /var/tmp/pst-strace2.txt -e trace=chmod,fchmodat /var/tmp/pst-no-fchmodat2 "$PYSHARE" repair pst-rep
        assert_status 0
        grep -qE '(chmod|fchmodat)\(.*"/proc/self/fd/[0-9]+"' /var/tmp/pst-strace2.txt
        [ "$(stat -c %a "$f")" = 770 ]
        rm -f /var/tmp/pst-strace2.txt "$f"
}
