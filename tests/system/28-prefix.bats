#!/usr/bin/env bats
# The prefix: on a filesystem without ACLs, writable by others, or a directory above the venv
# swapped for a symlink after setup.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-ramfs pst-open pst-ln
}

teardown_file() {
        cleanup_app pst-ramfs pst-open pst-ln
        rm -rf /var/tmp/pst-open /var/tmp/pst-ln /var/tmp/pst-ln-real
        if mountpoint -q /var/tmp/pst-ramfs; then umount /var/tmp/pst-ramfs; fi
        rmdir /var/tmp/pst-ramfs 2>/dev/null || echo "no ramfs dir"
}

@test "a prefix on a filesystem without ACL support is an error with nothing written" {
        mkdir -p /var/tmp/pst-ramfs
        mountpoint -q /var/tmp/pst-ramfs || mount -t ramfs ramfs /var/tmp/pst-ramfs
        before=$(snapshot /etc/pyshare /etc/tmpfiles.d /etc/systemd/system /var/tmp/pst-ramfs)
        run ps_setup pst-ramfs --prefix=/var/tmp/pst-ramfs/venvs --no-probe
        assert_status 73
        assert_output_has "the filesystem of /var/tmp/pst-ramfs has no POSIX ACL support"
        assert_output_has "Nothing was changed."
        [ "$before" = "$(snapshot /etc/pyshare /etc/tmpfiles.d /etc/systemd/system /var/tmp/pst-ramfs)" ]
}

@test "a prefix that others may write is refused (65): they could swap the environment" {
        install -d -m 0777 -o "$DEPLOYER" /var/tmp/pst-open
        before=$(snapshot /etc/pyshare /var/tmp/pst-open /etc/tmpfiles.d)
        run ps_setup pst-open --prefix=/var/tmp/pst-open --no-probe
        assert_status 65
        assert_output_has "prefix /var/tmp/pst-open refused: /var/tmp/pst-open is owned by $DEPLOYER (drwxrwxrwx 0777); whoever owns or may write a directory on the way to the virtualenv can swap it for her own"
        [ "$before" = "$(snapshot /etc/pyshare /var/tmp/pst-open /etc/tmpfiles.d)" ]
}

@test "a directory above the venv swapped for a symlink after setup: status names it, nothing follows it" {
        install -d -m 0755 /var/tmp/pst-ln
        run ps_setup pst-ln --prefix=/var/tmp/pst-ln/venvs --no-probe -q
        assert_status 0
        mv /var/tmp/pst-ln /var/tmp/pst-ln-real
        ln -s pst-ln-real /var/tmp/pst-ln
        before=$(snapshot /var/tmp/pst-ln-real)
        run "$PYSHARE" status pst-ln
        assert_status 1
        assert_output_has "problem: /var/tmp/pst-ln is a symbolic link (or not a directory), which pyshare does not follow"
        run "$PYSHARE" repair pst-ln
        [ "$status" -ne 0 ]
        assert_output_has "/var/tmp/pst-ln"
        [ "$before" = "$(snapshot /var/tmp/pst-ln-real)" ]
        rm /var/tmp/pst-ln
        mv /var/tmp/pst-ln-real /var/tmp/pst-ln
        run "$PYSHARE" status pst-ln
        assert_status 0
}
