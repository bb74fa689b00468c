#!/usr/bin/env bats
# setup → packages installed by a deployer → the probe imports them as the service user.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-main
}

teardown_file() {
        cleanup_app pst-main
}

@test "setup creates the venv, the group's tree, the files, and says systemd was skipped" {
        run ps_setup pst-main --module=pstest_pure --module=pstest_cext --module=pstest_pthmod --no-probe
        assert_status 0
        assert_output_has "created the virtualenv /opt/pyshare/pst-main with /usr/bin/python3"
        assert_output_has "systemd is not running here: skipped daemon-reload"
        v=$(venv_of pst-main)
        [ "$(stat -c '%U:%G %a' "$v")" = "root:$DEPLOY_GROUP 2770" ]
        [ "$(stat -c '%U:%G %a' /opt/pyshare)" = "root:root 755" ]
        getfacl -p "$v" | grep -qx "user:$SVC_USER:r-x"
        getfacl -p "$v" | grep -qx "group:$DEPLOY_GROUP:rwx"
        getfacl -p "$v" | grep -qx "default:user:$SVC_USER:r-x"
        getfacl -p "$v" | grep -qx "default:other::---"
        getfacl -p "$v/pyvenv.cfg" | grep -qx "user:$SVC_USER:r--"
        [ -f "$v/.pyshare-complete" ]
        grep -qx "User=$SVC_USER" /etc/pyshare/pst-main.conf
        grep -qx "Module=pstest_cext" /etc/pyshare/pst-main.conf
        grep -qx "PYTHONPATH=\"$(site_of pst-main)\"" /etc/pyshare/pst-main.env
        grep -qx "VIRTUAL_ENV=\"$v\"" /etc/pyshare/pst-main.env
        grep -qx "EnvironmentFile=-/etc/pyshare/services/$UNIT.env" "/etc/systemd/system/$UNIT.d/50-pyshare.conf"
        grep -qx "d $v 2770 root $DEPLOY_GROUP -" /etc/tmpfiles.d/pyshare-pst-main.conf
}

@test "a deployer installs a pure package, a C extension and a .pth-only package; the probe imports all three as the service user" {
        deployer_install pst-main 002 "$(wheel pstest_pure) $(wheel pstest_cext) $(wheel pstest_pth)"
        run "$PYSHARE" repair pst-main
        assert_status 0
        # The .pth directory reaches PYTHONPATH only through pyshare (a PYTHONPATH entry is no site dir).
        grep -qx "PYTHONPATH=\"$(site_of pst-main):$(site_of pst-main)/pstest_pth_src\"" /etc/pyshare/pst-main.env
        grep -q "pstest_pth_src" "/etc/pyshare/services/$UNIT.env"
        run "$PYSHARE" probe pst-main
        assert_status 0
        assert_output_has "probe pst-main as $SVC_USER (embedded Python"
        assert_output_has "ok    pstest_pure 1.0  $(site_of pst-main)/pstest_pure/__init__.py"
        assert_output_has "ok    pstest_cext 2.0  $(site_of pst-main)/pstest_cext.cpython-"
        assert_output_has "ok    pstest_pthmod 3.0  $(site_of pst-main)/pstest_pth_src/pstest_pthmod.py"
        assert_output_has "could not reproduce the service's sandbox"
}

@test "probe --json prints one object with the documented shape" {
        run "$PYSHARE" --json probe pst-main pstest_pure
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["app"] == "pst-main" and d["user"] == "pst_svc" and d["ok"] is True, d
m = d["modules"][0]
assert m["name"] == "pstest_pure" and m["ok"] is True and m["version"] == "1.0", m
assert m["file"].endswith("/site-packages/pstest_pure/__init__.py") and m["error"] is None, m
'
}

@test "probe --interpreter runs the venv's python and agrees" {
        run "$PYSHARE" probe pst-main pstest_cext --interpreter
        assert_status 0
        assert_output_has "interpreter Python"
        assert_output_has "ok    pstest_cext 2.0"
}

@test "probe of a missing module fails with exit 1 and the exception" {
        run "$PYSHARE" probe pst-main pstest_pure pstest_nosuch
        assert_status 1
        assert_output_has "FAIL  pstest_nosuch  ModuleNotFoundError: No module named 'pstest_nosuch'"
}

@test "the probe runs as the service user with only the service's environment" {
        site=$(site_of pst-main)
        runuser -u "$DEPLOYER" -- sh -c "printf '%s\n' 'import os' 'IDS = (os.getuid(), os.geteuid(), os.getgid(), sorted(os.getgroups()))' 'ENV = sorted(os.environ)' 'FDS = sorted(os.listdir(\"/proc/self/fd\"))' > $site/pstest_whoami.py"
        "$PYSHARE" repair pst-main >/dev/null
        run "$PYSHARE" --json probe pst-main pstest_whoami
        assert_status 0
        # the module reports nothing itself; import it again in a probe that prints the values
        uid=$(id -u "$SVC_USER")
        cat >"$site/pstest_whoami_check.py" <<PY
import os, pstest_whoami as w
assert w.IDS[0] == w.IDS[1] == $uid, w.IDS
assert 0 not in w.IDS[3], w.IDS
assert set(w.ENV) <= {"PATH", "LANG", "PYTHONPATH", "LC_CTYPE"}, w.ENV
assert "PYTHONPATH" in w.ENV
__version__ = "checked"
PY
        "$PYSHARE" repair pst-main >/dev/null
        run "$PYSHARE" probe pst-main pstest_whoami_check
        assert_status 0
        assert_output_has "ok    pstest_whoami_check checked"
}

@test "a second setup rewrites nothing and says so" {
        before=$(stat -c '%i %Y' /etc/pyshare/pst-main.conf /etc/pyshare/pst-main.env "/etc/pyshare/services/$UNIT.env" \
                "/etc/systemd/system/$UNIT.d/50-pyshare.conf" /etc/tmpfiles.d/pyshare-pst-main.conf)
        snap=$(snapshot "$(venv_of pst-main)")
        run ps_setup pst-main --no-probe
        assert_status 0
        assert_output_has "setup pst-main: nothing to change, everything was already in place"
        [[ "$output" != *"wrote "* ]]
        [[ "$output" != *"daemon-reload"* ]]
        after=$(stat -c '%i %Y' /etc/pyshare/pst-main.conf /etc/pyshare/pst-main.env "/etc/pyshare/services/$UNIT.env" \
                "/etc/systemd/system/$UNIT.d/50-pyshare.conf" /etc/tmpfiles.d/pyshare-pst-main.conf)
        [ "$before" = "$after" ]
        [ "$snap" = "$(snapshot "$(venv_of pst-main)")" ]
}

@test "setup with the probe exits 0 when the stored modules import" {
        run ps_setup pst-main
        assert_status 0
        assert_output_has "ok    pstest_pthmod 3.0"
}

@test "setup exits 1 when its probe fails, after writing everything" {
        run ps_setup pst-main --module=pstest_nosuch
        assert_status 1
        assert_output_has "FAIL  pstest_nosuch  ModuleNotFoundError"
        grep -qx "Module=pstest_nosuch" /etc/pyshare/pst-main.conf
        run ps_setup pst-main --module=pstest_pure --module=pstest_cext --module=pstest_pthmod
        assert_status 0
}

@test "status is ok, list shows the app, --json status is parseable" {
        run "$PYSHARE" status pst-main
        assert_status 0
        assert_output_has "pst-main: ok"
        run "$PYSHARE" list
        assert_status 0
        assert_output_has "pst-main"
        assert_output_has "$UNIT"
        run "$PYSHARE" --json status pst-main
        assert_status 0
        echo "$output" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["apps"][0]["app"]=="pst-main", d'
}

@test "the tmpfiles.d entry is accepted by systemd-tmpfiles --create and restores the top directory" {
        require_cmd systemd-tmpfiles
        v=$(venv_of pst-main)
        chmod 0700 "$v"
        setfacl -b "$v"
        run systemd-tmpfiles --create /etc/tmpfiles.d/pyshare-pst-main.conf
        assert_status 0
        [ "$(stat -c '%U:%G %a' "$v")" = "root:$DEPLOY_GROUP 2770" ]
        getfacl -p "$v" | grep -qx "user:$SVC_USER:r-x"
        getfacl -p "$v" | grep -qx "default:user:$SVC_USER:r-x"
        run "$PYSHARE" status pst-main
        assert_status 0
}
