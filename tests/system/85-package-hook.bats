#!/usr/bin/env bats
# A package's declarative settings (/usr/lib/pyshare/APP.conf), pip as pyshare's own user,
# and the repair path unit (--watch).
load helpers
UNIT=pst-pkg.service

setup_file() {
        fixtures
        make_unit "$UNIT"
        cleanup_app pst-pkg pst-from
        rm -rf /var/tmp/pst-pkgdata
        mkdir -p /var/tmp/pst-pkgdata/wheels /usr/lib/pyshare
        cp "$(wheel pstest_pure)" "$(wheel pstest_cext)" /var/tmp/pst-pkgdata/wheels/
        printf 'pstest_pure\npstest_cext\n' >/var/tmp/pst-pkgdata/requirements.txt
        chmod -R a+rX /var/tmp/pst-pkgdata
        cat >/usr/lib/pyshare/pst-pkg.conf <<CONF
[App]
Service=$UNIT
Group=$DEPLOY_GROUP
Module=pstest_pure
Module=pstest_cext
Requirements=/var/tmp/pst-pkgdata/requirements.txt
Wheels=/var/tmp/pst-pkgdata/wheels
CONF
}

teardown_file() {
        cleanup_app pst-pkg pst-from
        rm -rf /var/tmp/pst-pkgdata /usr/lib/pyshare/pst-pkg.conf /var/tmp/pst-pwned
        rm -f "/etc/systemd/system/$UNIT" /usr/local/lib/systemd/system/pyshare-repair@.path \
                /usr/local/lib/systemd/system/pyshare-repair@.service
}

@test "setup APP finds the package's settings, installs its requirements from its wheels as _pyshare, and probes" {
        run "$PYSHARE" setup pst-pkg
        assert_status 0
        assert_output_has "installed /var/tmp/pst-pkgdata/requirements.txt from /var/tmp/pst-pkgdata/wheels as _pyshare"
        assert_output_has "ok    pstest_pure 1.0"
        assert_output_has "ok    pstest_cext 2.0"
        # pip ran as _pyshare, never as root
        [ "$(stat -c %U "$(site_of pst-pkg)/pstest_pure/__init__.py")" = _pyshare ]
        [ "$(stat -c %G "$(site_of pst-pkg)/pstest_pure/__init__.py")" = "$DEPLOY_GROUP" ]
        # /etc keeps only what differs from the package's settings
        ! grep -q "^Requirements=" /etc/pyshare/pst-pkg.conf || false
        ! grep -q "^Module=" /etc/pyshare/pst-pkg.conf || false
        grep -qx "User=$SVC_USER" /etc/pyshare/pst-pkg.conf
}

@test "a second setup installs nothing and changes nothing" {
        run "$PYSHARE" setup pst-pkg
        assert_status 0
        assert_output_has "nothing to change"
        [[ "$output" != *"installed "* ]]
}

@test "the package's new settings take effect on the next setup; /etc overrides them" {
        sed -i 's/^Module=pstest_cext$/Module=pstest_pure.sub/' /usr/lib/pyshare/pst-pkg.conf
        run "$PYSHARE" setup pst-pkg
        assert_status 0
        assert_output_has "ok    pstest_pure.sub"
        run "$PYSHARE" setup pst-pkg --module=pstest_cext
        assert_status 0
        grep -qx "Module=pstest_cext" /etc/pyshare/pst-pkg.conf
        assert_output_has "ok    pstest_cext 2.0"
        [[ "$output" != *"pstest_pure.sub"* ]]
}

@test "pyshare pip runs pip as _pyshare: code planted in the venv never runs as root" {
        site=$(site_of pst-pkg)
        rm -f /var/tmp/pst-pwned
        runuser -u "$DEPLOYER" -- sh -c "echo 'import os; open(\"/var/tmp/pst-pwned\", \"a\").write(str(os.getuid()) + chr(10))' > $site/pst_planted.pth"
        run "$PYSHARE" pip pst-pkg install --no-index --no-deps "$(wheel pstest_pth)"
        assert_status 0
        assert_output_has "as _pyshare in group $DEPLOY_GROUP"
        [ -f /var/tmp/pst-pwned ]
        [ "$(sort -u /var/tmp/pst-pwned)" = "$(id -u _pyshare)" ]
        # and repair ran after it: the .pth directory is on PYTHONPATH
        grep -q "pstest_pth_src" /etc/pyshare/pst-pkg.env
        rm -f "$site/pst_planted.pth" /var/tmp/pst-pwned
}

@test "setup --from FILE reads the settings from that file" {
        sed "s/^Service=.*/Service=$UNIT/" /usr/lib/pyshare/pst-pkg.conf >/var/tmp/pst-pkgdata/from.conf
        run "$PYSHARE" setup pst-from --from=/var/tmp/pst-pkgdata/from.conf --no-probe
        assert_status 0
        assert_output_has "installed /var/tmp/pst-pkgdata/requirements.txt"
        run "$PYSHARE" setup pst-from --from=/var/tmp/pst-pkgdata/nope.conf --no-probe
        assert_status 69
        chown "$DEPLOYER" /var/tmp/pst-pkgdata/from.conf
        run "$PYSHARE" setup pst-from --from=/var/tmp/pst-pkgdata/from.conf --no-probe
        assert_status 65
        assert_output_has "is not owned by root"
}

@test "setup --watch enables the repair path unit with a drop-in naming site-packages; remove disables it" {
        mkdir -p /usr/local/lib/systemd/system
        cp "$REPO/units/pyshare-repair@.path" "$REPO/units/pyshare-repair@.service" /usr/local/lib/systemd/system/
        run "$PYSHARE" setup pst-pkg --watch --no-probe
        assert_status 0
        assert_output_has "enabled pyshare-repair@pst-pkg.path (systemctl enable)"
        [ "$(readlink /etc/systemd/system/paths.target.wants/pyshare-repair@pst-pkg.path)" = \
                /usr/local/lib/systemd/system/pyshare-repair@.path ]
        grep -qx "PathChanged=$(site_of pst-pkg)" /etc/systemd/system/pyshare-repair@pst-pkg.path.d/50-pyshare.conf
        grep -qx "Watch=yes" /etc/pyshare/pst-pkg.conf
        run "$PYSHARE" remove pst-pkg
        assert_status 0
        [ ! -e /etc/systemd/system/paths.target.wants/pyshare-repair@pst-pkg.path ]
        [ ! -e /etc/systemd/system/pyshare-repair@pst-pkg.path.d ]
}

@test "defaults are not written to /etc when a package has settings: a package's new Group= and Service= take effect" {
        getent group pst_deploy2 >/dev/null || groupadd --system pst_deploy2
        make_unit pst-pkg2.service
        printf '[App]\nService=%s\nGroup=%s\n' "$UNIT" "$DEPLOY_GROUP" >/usr/lib/pyshare/pst-mv.conf
        run "$PYSHARE" setup pst-mv --no-probe
        assert_status 0
        ! grep -qE '^(Python|Group|Prefix|Service)=' /etc/pyshare/pst-mv.conf || false
        printf '[App]\nService=pst-pkg2.service\nGroup=pst_deploy2\n' >/usr/lib/pyshare/pst-mv.conf
        run "$PYSHARE" setup pst-mv --no-probe
        assert_status 0
        [ "$(stat -c %G /opt/pyshare/pst-mv)" = pst_deploy2 ]
        grep -q "pst-mv" /etc/pyshare/services/pst-pkg2.service.env
        ! grep -qs "pst-mv" "/etc/pyshare/services/$UNIT.env" || false
        run "$PYSHARE" remove pst-mv --purge
        assert_status 0
        rm -f /usr/lib/pyshare/pst-mv.conf /etc/systemd/system/pst-pkg2.service
        groupdel pst_deploy2
}
