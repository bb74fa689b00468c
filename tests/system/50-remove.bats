#!/usr/bin/env bats
# Several apps on one service share one merged EnvironmentFile; remove unwires one at a time.
load helpers
UNIT=pst-rm.service

setup_file() {
        fixtures
        make_unit "$UNIT"
        cleanup_app pst-a pst-b
}

teardown_file() {
        cleanup_app pst-a pst-b
        rm -f "/etc/systemd/system/$UNIT"
}

@test "two apps on one service: the service's EnvironmentFile carries both, sorted by app name" {
        ps_setup pst-b --no-probe -q
        ps_setup pst-a --no-probe -q
        grep -qx "PYTHONPATH=\"$(site_of pst-a):$(site_of pst-b)\"" "/etc/pyshare/services/$UNIT.env"
        grep -q "apps: pst-a, pst-b" "/etc/pyshare/services/$UNIT.env"
        [ "$(grep -c EnvironmentFile= "/etc/systemd/system/$UNIT.d/50-pyshare.conf")" = 1 ]
}

@test "remove keeps the venv and the other app; the second remove is a no-op" {
        run "$PYSHARE" remove pst-b
        assert_status 0
        assert_output_has "kept the virtualenv /opt/pyshare/pst-b"
        [ -d /opt/pyshare/pst-b ]
        [ ! -e /etc/pyshare/pst-b.conf ] && [ ! -e /etc/pyshare/pst-b.env ] && [ ! -e /etc/tmpfiles.d/pyshare-pst-b.conf ]
        grep -qx "PYTHONPATH=\"$(site_of pst-a)\"" "/etc/pyshare/services/$UNIT.env"
        [ -f "/etc/systemd/system/$UNIT.d/50-pyshare.conf" ]
        run "$PYSHARE" remove pst-b
        assert_status 0
        assert_output_has "nothing to remove"
}

@test "setup adopts the kept venv again" {
        run ps_setup pst-b --no-probe
        assert_status 0
        grep -q "pst-b" "/etc/pyshare/services/$UNIT.env"
        run "$PYSHARE" remove pst-b
        assert_status 0
}

@test "removing the last app removes the service's EnvironmentFile and the drop-in; --purge deletes the venv without following links" {
        mkdir -p /var/tmp/pst-keep && echo keep >/var/tmp/pst-keep/file
        ln -s /var/tmp/pst-keep "$(site_of pst-a)/pst_link_out"
        run "$PYSHARE" remove pst-a --purge
        assert_status 0
        assert_output_has "deleted the virtualenv /opt/pyshare/pst-a"
        [ ! -e /opt/pyshare/pst-a ]
        [ "$(cat /var/tmp/pst-keep/file)" = keep ]
        [ ! -e "/etc/pyshare/services/$UNIT.env" ]
        [ ! -e "/etc/systemd/system/$UNIT.d/50-pyshare.conf" ]
        [ ! -e "/etc/systemd/system/$UNIT.d" ]
        rm -rf /var/tmp/pst-keep
}

@test "remove, then remove --purge, deletes the kept venv" {
        ps_setup pst-b --no-probe -q
        run "$PYSHARE" remove pst-b
        assert_status 0
        [ -d /opt/pyshare/pst-b ]
        run "$PYSHARE" remove pst-b --purge
        assert_status 0
        assert_output_has "deleted the virtualenv /opt/pyshare/pst-b (the app was removed before)"
        [ ! -e /opt/pyshare/pst-b ]
}
