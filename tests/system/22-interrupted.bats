#!/usr/bin/env bats
# Runs that meet what another run left: a venv creation killed half-way, something that is not
# a venv where the venv should be, and a second pyshare that waits for the lock.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-int
}

teardown_file() {
        cleanup_app pst-int
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
