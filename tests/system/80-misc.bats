#!/usr/bin/env bats
# Interrupted runs, the lock, Apache's run user, filesystems without ACLs.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-int pst-apache pst-ramfs pst-ids pst-grp pst-open pst-ln
}

teardown_file() {
        gpasswd -d "$SVC_USER" "$DEPLOY_GROUP" >/dev/null 2>&1 || echo "$SVC_USER was not in $DEPLOY_GROUP"
        cleanup_app pst-int pst-apache pst-ramfs pst-ids pst-grp pst-open pst-ln
        if [ -n "${RHEL_IMG:-}" ]; then rm -rf "$RHEL_IMG"; fi
        rm -rf /etc/systemd/system/pst-grp.service /etc/systemd/system/pst-grp.service.d /var/tmp/pst-open \
                /var/tmp/pst-ln /var/tmp/pst-ln-real
        if mountpoint -q /var/tmp/pst-ramfs; then umount /var/tmp/pst-ramfs; fi
        rmdir /var/tmp/pst-ramfs 2>/dev/null || echo "no ramfs dir"
}

@test "a venv creation killed half-way is detected and redone on the next run" {
        ps_setup pst-int --no-probe >/var/tmp/pst-int.log 2>&1 &
        pid=$!
        for _ in $(seq 1 200); do
                pgrep -f "venv /opt/pyshare/pst-int" >/dev/null && break
                sleep 0.05
        done
        kill -9 "$pid" $(pgrep -f "venv /opt/pyshare/pst-int")
        wait "$pid" || echo "killed as intended"
        [ -d /opt/pyshare/pst-int ]
        [ ! -e /opt/pyshare/pst-int/.pyshare-complete ]
        [ "$(stat -c '%U:%G %a' /opt/pyshare/pst-int)" = "root:root 700" ]
        [ ! -e /etc/pyshare/pst-int.conf ]
        run ps_setup pst-int --no-probe
        assert_status 0
        assert_output_has "created the virtualenv /opt/pyshare/pst-int"
        [ -f /opt/pyshare/pst-int/.pyshare-complete ]
        [ -x /opt/pyshare/pst-int/bin/pip ]
        run "$PYSHARE" status pst-int
        assert_status 0
        rm -f /var/tmp/pst-int.log
}

@test "something that is not a venv where the venv should be is refused, not deleted" {
        mkdir -p /opt/pyshare/pst-notvenv
        echo precious >/opt/pyshare/pst-notvenv/data
        chown "$DEPLOYER" /opt/pyshare/pst-notvenv
        run ps_setup pst-notvenv --no-probe
        assert_status 73
        assert_output_has "/opt/pyshare/pst-notvenv exists and is not a virtualenv"
        [ "$(cat /opt/pyshare/pst-notvenv/data)" = precious ]
        rm -rf /opt/pyshare/pst-notvenv /etc/pyshare/pst-notvenv.conf
}

@test "one pyshare at a time: a second one waits for the lock, or gives up after --lock-timeout" {
        flock /run/pyshare.lock sleep 3 &
        holder=$!
        sleep 0.3
        run "$PYSHARE" --lock-timeout=1 repair pst-int
        assert_status 73
        assert_output_has "another pyshare is running; waiting"
        assert_output_has "still holds /run/pyshare.lock after 1 s"
        run "$PYSHARE" --lock-timeout=20 repair pst-int
        assert_status 0
        assert_output_has "another pyshare is running; waiting"
        wait "$holder"
}

@test "the default service is apache2 and its user comes from apache2ctl -t -D DUMP_RUN_CFG" {
        require_cmd apache2ctl
        want=$(apache2ctl -t -D DUMP_RUN_CFG 2>/dev/null | sed -n 's/^User: name="\([^"]*\)".*/\1/p')
        [ -n "$want" ]
        run "$PYSHARE" setup pst-apache --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "service apache2.service, user $want"
        grep -qx "User=$want" /etc/pyshare/pst-apache.conf
        grep -qx "Service=apache2.service" /etc/pyshare/pst-apache.conf
        grep -q "pst-apache" /etc/pyshare/services/apache2.service.env
        [ -f /etc/systemd/system/apache2.service.d/50-pyshare.conf ]
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

@test "setup --cgi makes Apache pass PYTHONPATH to CGI scripts, as a2enconf would; remove of the last such app undoes it" {
        require_cmd apache2ctl
        run "$PYSHARE" setup pst-apache --group="$DEPLOY_GROUP" --cgi --no-probe
        assert_status 0
        assert_output_has "enabled /etc/apache2/conf-enabled/pyshare.conf (a2enconf pyshare)"
        grep -qx "PassEnv PYTHONPATH" /etc/apache2/conf-available/pyshare.conf
        [ "$(readlink /etc/apache2/conf-enabled/pyshare.conf)" = "../conf-available/pyshare.conf" ]
        grep -qx "Cgi=yes" /etc/pyshare/pst-apache.conf
        apache2ctl -t
        run "$PYSHARE" setup pst-in-cgi --service="$UNIT" --group="$DEPLOY_GROUP" --cgi --no-probe
        assert_status 65
        assert_output_has "is not Apache"
        run "$PYSHARE" remove pst-apache
        assert_status 0
        [ ! -e /etc/apache2/conf-enabled/pyshare.conf ]
        [ ! -e /etc/apache2/conf-available/pyshare.conf ]
}

# An image of a RHEL-family system: httpd instead of apache2, its own users, and a static
# stand-in for httpd whose DUMP_RUN_CFG names the user apache.
make_rhel_image() {
        RHEL_IMG=$(mktemp -d /var/tmp/pst-rhel.XXXXXX)
        chmod 755 "$RHEL_IMG"
        mkdir -p "$RHEL_IMG/etc" "$RHEL_IMG/usr/sbin" "$RHEL_IMG/usr/bin" "$RHEL_IMG/usr/lib/systemd/system"
        printf 'root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\n' >"$RHEL_IMG/etc/passwd"
        printf 'root:x:0:\napache:x:48:\nimgdeploy:x:4901:\n' >"$RHEL_IMG/etc/group"
        printf '[Service]\nExecStart=/usr/sbin/httpd -DFOREGROUND\n' >"$RHEL_IMG/usr/lib/systemd/system/httpd.service"
        printf '#include <stdio.h>\nint main(void) { puts("ServerRoot: \\"/etc/httpd\\"\\nUser: name=\\"apache\\" id=48"); return 0; }\n' \
                >"$RHEL_IMG/httpd.c"
        cc -static -O1 -o "$RHEL_IMG/usr/sbin/httpd" "$RHEL_IMG/httpd.c"
        cp "$RHEL_IMG/usr/sbin/httpd" "$RHEL_IMG/usr/bin/python3"
}

@test "on a system with httpd and no apache2 (RHEL family) the default service is httpd.service, run as apache" {
        make_rhel_image
        before=$(snapshot "$RHEL_IMG")
        run "$PYSHARE" --root="$RHEL_IMG" --dry-run setup rhelapp --group=imgdeploy
        assert_status 0
        assert_output_has "plan for setup rhelapp: venv /opt/pyshare/rhelapp, service httpd.service, user apache, group imgdeploy"
        [ "$before" = "$(snapshot "$RHEL_IMG")" ]
        # Where both exist, Debian's apache2 wins; its apache2ctl is missing from this image.
        printf '[Service]\nExecStart=/bin/true\n' >"$RHEL_IMG/usr/lib/systemd/system/apache2.service"
        run "$PYSHARE" --root="$RHEL_IMG" --dry-run setup rhelapp --group=imgdeploy
        assert_status 69
        assert_output_has "apache2.service has no /usr/sbin/apache2ctl"
}

@test "a service user added to the deploy group after setup: repair and probe refuse it (65), status reports it" {
        ps_setup pst-ids --no-probe -q
        usermod -aG "$DEPLOY_GROUP" "$SVC_USER"
        before=$(snapshot /opt/pyshare/pst-ids /etc/pyshare)
        run "$PYSHARE" repair pst-ids
        assert_status 65
        assert_output_has "$SVC_USER is a member of $DEPLOY_GROUP: it would get write access to the environment"
        assert_output_has "gpasswd -d $SVC_USER $DEPLOY_GROUP"
        run "$PYSHARE" probe pst-ids
        assert_status 65
        run "$PYSHARE" status pst-ids
        assert_status 1
        assert_output_has "problem: user $SVC_USER and group $DEPLOY_GROUP are refused"
        [ "$before" = "$(snapshot /opt/pyshare/pst-ids /etc/pyshare)" ]
        gpasswd -d "$SVC_USER" "$DEPLOY_GROUP"
        run "$PYSHARE" repair pst-ids
        assert_status 0
        run "$PYSHARE" status pst-ids
        assert_status 0
}

@test "status exits 1 and names the fix when a file of the app is missing or out of date" {
        ps_setup pst-ids --no-probe -q
        rm /etc/tmpfiles.d/pyshare-pst-ids.conf
        run "$PYSHARE" status pst-ids
        assert_status 1
        assert_output_has "pst-ids: PROBLEMS"
        assert_output_has "problem: /etc/tmpfiles.d/pyshare-pst-ids.conf is missing: run \`pyshare setup pst-ids\`"
        run "$PYSHARE" --json status pst-ids
        assert_status 1
        echo "$output" | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["apps"][0]; assert not a["ok"] and any("tmpfiles" in p for p in a["problems"]), a'
        ps_setup pst-ids --no-probe -q
        run "$PYSHARE" status pst-ids
        assert_status 0
        assert_output_has "pst-ids: ok"
}

@test "a unit whose Group= or SupplementaryGroups= holds the deploy group is refused (65), nothing written" {
        printf '[Service]\nUser=%s\nSupplementaryGroups=adm %s\nExecStart=/bin/true\n' "$SVC_USER" "$DEPLOY_GROUP" \
                >/etc/systemd/system/pst-grp.service
        before=$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d)
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "pst-grp.service runs with the group $DEPLOY_GROUP (Group= or SupplementaryGroups=)"
        [ "$before" = "$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d)" ]
        # A drop-in that empties the list takes the group away again (systemd's rule).
        mkdir -p /etc/systemd/system/pst-grp.service.d
        printf '[Service]\nSupplementaryGroups=\n' >/etc/systemd/system/pst-grp.service.d/10-reset.conf
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe -q
        assert_status 0
        printf '[Service]\nGroup=%s\n' "$DEPLOY_GROUP" >/etc/systemd/system/pst-grp.service.d/20-group.conf
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        run "$PYSHARE" remove pst-grp --purge
        assert_status 0
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
