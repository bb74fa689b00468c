#!/usr/bin/env bats
# What a venv's .pth files may not do (their import lines are reported, never run by setup,
# repair or the probe), and the identity and environment pip runs with under pyshare pip.
load helpers
# A unit of its own, so that other apps never share its EnvironmentFile.
UNIT=pst-cov.service
PWNED=/tmp/pst-cov-pwned
PIPREC=/var/tmp/pst-cov-pip.json

setup_file() {
        fixtures
        cleanup_app pst-cov
        make_unit "$UNIT"
        rm -f "$PWNED" "$PIPREC"
        ps_setup_installed pst-cov
}

teardown_file() {
        cleanup_app pst-cov
        rm -rf "/etc/systemd/system/$UNIT" "/etc/systemd/system/$UNIT.d" "/etc/pyshare/services/$UNIT.env"
        rm -f "$PWNED" "$PIPREC"
}

@test ".pth import lines are reported by setup and repair, and never run by setup, repair or the probe" {
        site=$(site_of pst-cov)
        rm -f "$PWNED"
        as_deployer /usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write(sys.argv[2] + "\n")' \
                "$site/pst_cov_evil.pth" "import os; open('$PWNED','w')"
        msg="not run: import line of pst_cov_evil.pth: import os; open('$PWNED'"
        run ps_setup pst-cov
        assert_status 0
        assert_output_has "$msg"
        assert_output_has "ok    pstest_pure 1.0"
        [ ! -e "$PWNED" ]
        run "$PYSHARE" repair pst-cov
        assert_status 0
        assert_output_has "$msg"
        [ ! -e "$PWNED" ]
        run "$PYSHARE" probe pst-cov
        assert_status 0
        assert_output_has "ok    pstest_cext 2.0"
        [ ! -e "$PWNED" ]
        # the line is live: the venv's own interpreter runs it
        as_deployer "$(venv_of pst-cov)/bin/python" -c pass
        [ -e "$PWNED" ]
        rm -f "$PWNED" "$site/pst_cov_evil.pth"
        run "$PYSHARE" repair pst-cov
        assert_status 0
        [[ "$output" != *"pst_cov_evil.pth"* ]]
}

@test "pyshare pip runs pip as _pyshare, with only the deploy group, umask 002 and pip's own environment" {
        site=$(site_of pst-cov)
        rm -f "$PIPREC"
        # Run by pip's own interpreter when it starts (the venv's python runs .pth files).
        as_deployer /usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write(sys.argv[2] + "\n")' \
                "$site/pst_cov_rec.pth" "import os, json; m = os.umask(0); os.umask(m); open('$PIPREC', 'w').write(json.dumps(dict(uid=os.getuid(), euid=os.geteuid(), gid=os.getgid(), egid=os.getegid(), groups=sorted(os.getgroups()), umask=m, env=dict(os.environ))))"
        run env PST_COV_SECRET=1 HOME=/root/pst-cov LANG=pst_cov_lang PATH="/tmp/pst-cov-path:$PATH" \
                PYTHONPATH=/tmp/pst-cov-pp PIP_INDEX_URL=http://pst-cov.invalid/ "$PYSHARE" pip pst-cov list
        rm -f "$site/pst_cov_rec.pth"
        assert_status 0
        assert_output_has "as _pyshare in group $DEPLOY_GROUP"
        assert_output_has "pstest_pure 1.0"
        [ -f "$PIPREC" ]
        /usr/bin/python3 - "$PIPREC" "$(id -u _pyshare)" "$(getent group "$DEPLOY_GROUP" | cut -d: -f3)" \
                "$(id -g _pyshare)" <<'PY'
import json, sys
rec, uid, gid, own_gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(rec))
assert d["uid"] == d["euid"] == uid, d
# only the deploy group: primary and the one supplementary group, not _pyshare's own
assert d["gid"] == d["egid"] == gid, d
assert d["groups"] == [gid], (d["groups"], gid)
assert own_gid not in d["groups"] or own_gid == gid, d
assert d["umask"] == 0o002, oct(d["umask"])
# what src/pip.c passes, and nothing inherited from the caller
passed = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "PIP_NO_INPUT": "1",
          "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1", "PYTHONDONTWRITEBYTECODE": ""}
env = d["env"]
assert set(env) <= set(passed), sorted(set(env) - set(passed))
assert all(env[k] == passed[k] for k in env), env
for k in ("PST_COV_SECRET", "PYTHONPATH", "PIP_INDEX_URL"):
    assert k not in env, (k, env)
PY
        rm -f "$PIPREC"
        # pip's repair afterwards took the .pth's removal into account
        run "$PYSHARE" repair pst-cov
        assert_status 0
}
