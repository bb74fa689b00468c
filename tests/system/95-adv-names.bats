#!/usr/bin/env bats
# Adversarial: hostile app, user and group names, uid/gid 0 in disguise and a service user that
# can write the tree. One clear error, the documented exit status, and, under strace -f, not
# a single syscall that could change a file: validation comes before the lock.
load helpers

AUNIT=pst-adv-names.service
ROOTUNIT=pst-adv-names-root.service

setup_file() {
        require_cmd strace
        adv_fixtures
        adv_unit "$AUNIT"
        printf '[Service]\nUser=0\nExecStart=/bin/true\n' >"/etc/systemd/system/$ROOTUNIT"
        # uid 0 and gid 0 under other names; service users inside the deploy group
        getent passwd pst_adv_toor >/dev/null || useradd --non-unique --uid 0 --gid 0 --no-create-home \
                --home-dir /nonexistent --shell /usr/sbin/nologin pst_adv_toor
        getent group pst_adv_wheel0 >/dev/null || groupadd --non-unique --gid 0 pst_adv_wheel0
        id pst_adv_member >/dev/null 2>&1 || useradd --system --no-create-home --groups "$DEPLOY_GROUP" pst_adv_member
        id pst_adv_primary >/dev/null 2>&1 || useradd --system --no-create-home --gid "$DEPLOY_GROUP" pst_adv_primary
        mkdir -p /etc/pyshare /opt/pyshare
}

teardown_file() {
        userdel -f pst_adv_toor 2>/dev/null || echo "no pst_adv_toor"
        groupdel -f pst_adv_wheel0 2>/dev/null || echo "no pst_adv_wheel0"
        userdel pst_adv_member 2>/dev/null || echo "no pst_adv_member"
        userdel pst_adv_primary 2>/dev/null || echo "no pst_adv_primary"
        rm -f "/etc/systemd/system/$AUNIT" "/etc/systemd/system/$ROOTUNIT"
}

setup() {
        guard_begin
}

teardown() {
        guard_check
}

# The hostile names of issue 5 (and a few more): empty, dots, slashes, an option, spaces,
# unit specifiers and globs, uppercase, non-ASCII, 256 characters, a newline, control bytes.
BAD_NAMES=("" "." ".." "../x" "a/b" "/etc" "-rf" "a b" " a" "%" "%i" "*" "?" "@" "a@b" "Upper"
        "é" "naïve" "$(printf 'a%.0s' {1..256})" "$(printf 'a\nb')" "$(printf 'a\tb')" "$(printf 'a\rb')"
        '$(id)' '`id`' "a;b" "a'b" 'a"b' 'a\b' "~" "a:b")

MUTATING='chown|fchown|fchownat|lchown|chmod|fchmod|fchmodat|fchmodat2|setxattr|lsetxattr|fsetxattr|removexattr|lremovexattr|fremovexattr|rename|renameat|renameat2|unlink|unlinkat|rmdir|mkdir|mkdirat|link|linkat|symlink|symlinkat|truncate|ftruncate|mknod|mknodat|flock|syscall_0x1c4'

# ps_traced ARG...: pyshare under strace -f; $status and $output as `run` sets them, and
# $writes: every syscall that could change a file (writes go only to stdout and stderr).
ps_traced() {
        local trace=$BATS_TEST_TMPDIR/names.trace
        run strace_ps -f -y -o "$trace" -e trace=all "$PYSHARE" "$@"
        writes=$(grep -E "^[0-9]+ +($MUTATING)\(" "$trace" || true)
        writes+=$'\n'$(grep -E "^[0-9]+ +(open|openat|openat2|creat)\(" "$trace" | grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC' || true)
        writes+=$'\n'$(grep -E "^[0-9]+ +(write|writev|pwrite64|pwritev|pwritev2|sendfile|copy_file_range)\(" "$trace" |
                grep -vE '\((1|2)<(pipe|socket|/dev/null|/dev/pts/[0-9]+|/tmp/[^>]*)' || true)
        writes+=$'\n'$(grep -E "^[0-9]+ +(clone|clone3|fork|vfork|execve)\(" "$trace" | grep -v "^[0-9]* *execve(\"$PYSHARE\"" || true)
        writes=$(echo "$writes" | sed '/^$/d')
}

# expect STATUS ARG...: the exit status, one error line, and nothing that writes.
expect() {
        local want=$1
        shift
        ps_traced "$@"
        if [ "$status" -ne "$want" ] || [ -n "$writes" ]; then
                printf 'pyshare' >&2
                printf ' %q' "$@" >&2
                printf '\n  exit %s (wanted %s), output:\n%s\n' "$status" "$want" "$output" >&2
                [ -z "$writes" ] || printf '  and it wrote:\n%s\n' "$writes" >&2
                return 1
        fi
        [[ "$output" == *"error"* ]] || [[ "$output" == *"pyshare:"* ]] ||
                { echo "no error message for: $*: $output" >&2; return 1; }
}

@test "hostile app names exit 2 in every verb, write nothing (strace -f)" {
        local failed=0
        for name in "${BAD_NAMES[@]}"; do
                expect 2 setup "$name" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe || failed=1
                expect 2 repair "$name" || failed=1
                expect 2 remove "$name" --purge || failed=1
                expect 2 probe "$name" || failed=1
                expect 2 status "$name" || failed=1
                expect 2 --dry-run setup "$name" --service="$AUNIT" --group="$DEPLOY_GROUP" || failed=1
        done
        # after "--", a name that looks like an option is still a name, and still refused
        expect 2 setup --service="$AUNIT" --no-probe -- -rf || failed=1
        expect 2 remove --purge -- ../x || failed=1
        [ "$failed" = 0 ]
}

@test "hostile user and group names exit 2 and write nothing (strace -f)" {
        local failed=0
        for name in "${BAD_NAMES[@]}"; do
                [ -n "$name" ] || continue # --user= empty: see below
                expect 2 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user="$name" --no-probe || failed=1
                expect 2 setup pst-adv-names --service="$AUNIT" --group="$name" --no-probe || failed=1
        done
        expect 2 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user= --no-probe || failed=1
        expect 2 setup pst-adv-names --service="$AUNIT" --group= --no-probe || failed=1
        [ "$failed" = 0 ]
        [ ! -e /etc/pyshare/pst-adv-names.conf ]
        [ ! -e /opt/pyshare/pst-adv-names ]
}

@test "uid 0 and gid 0 under any name, and service users inside the deploy group, exit 65 and write nothing (strace -f)" {
        local failed=0
        expect 65 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user=root --no-probe || failed=1
        expect 65 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user=pst_adv_toor --no-probe || failed=1
        expect 65 setup pst-adv-names --service="$AUNIT" --group=root --no-probe || failed=1
        expect 65 setup pst-adv-names --service="$AUNIT" --group=pst_adv_wheel0 --no-probe || failed=1
        # a unit that runs as User=0
        expect 65 setup pst-adv-names --service="$ROOTUNIT" --group="$DEPLOY_GROUP" --no-probe || failed=1
        # write access through a supplementary group, or through the primary group
        expect 65 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user=pst_adv_member --no-probe || failed=1
        expect 65 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user=pst_adv_primary --no-probe || failed=1
        # the deployer itself as the service user
        expect 65 setup pst-adv-names --service="$AUNIT" --group="$DEPLOY_GROUP" --user="$DEPLOYER" --no-probe || failed=1
        [ "$failed" = 0 ]
        [ ! -e /etc/pyshare/pst-adv-names.conf ]
        [ ! -e /opt/pyshare/pst-adv-names ]
}
