#!/usr/bin/env bats
# Interrupted runs, the lock, Apache's run user, filesystems without ACLs.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-int pst-apache pst-ramfs
}

teardown_file() {
        cleanup_app pst-int pst-apache pst-ramfs
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
