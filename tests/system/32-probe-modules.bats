#!/usr/bin/env bats
# What the probe imports when no module is given or stored: every top-level package of the
# venv but pip's and setuptools'.
# bats sets $output, $status and $stderr in each test.
# shellcheck disable=SC2154
load helpers
# A unit of its own, so that other apps never share its EnvironmentFile.
UNIT=pst-cov.service
bats_require_minimum_version 1.5.0

setup_file() {
        fixtures
        cleanup_app pst-cov
        make_unit "$UNIT"
        ps_setup_installed pst-cov
}

teardown_file() {
        cleanup_app pst-cov
        rm -rf "/etc/systemd/system/$UNIT" "/etc/systemd/system/$UNIT.d" "/etc/pyshare/services/$UNIT.env"
}

@test "with no modules given or stored, the probe imports every top-level package of the venv but pip's and setuptools'" {
        site=$(site_of pst-cov)
        ! grep -q '^Module=' /etc/pyshare/pst-cov.conf || false
        # pip and setuptools are there, and left out
        compgen -G "$site/pip-*.dist-info" >/dev/null
        compgen -G "$site/setuptools-*.dist-info" >/dev/null
        rm -f "$site/pst_cov_setid.py" "$site/pst_cov_closed.txt"
        rm -rf "$site/pst_cov_dir"
        run --separate-stderr "$PYSHARE" --json probe pst-cov
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [m["name"] for m in d["modules"]]
assert sorted(names) == ["pstest_cext", "pstest_pure"], names
assert "pip" not in names and "setuptools" not in names and "pkg_resources" not in names, names
assert d["ok"] is True and all(m["ok"] for m in d["modules"]), d
assert d["app"] == "pst-cov" and d["user"] == "pst_svc", d
'
        run "$PYSHARE" probe pst-cov
        assert_status 0
        assert_output_has "ok    pstest_pure 1.0"
        assert_output_has "ok    pstest_cext 2.0"
}
