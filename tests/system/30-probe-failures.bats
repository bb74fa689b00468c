#!/usr/bin/env bats
# What makes the service's imports fail: the probe names the cause; repair fixes it.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-fail
        ps_setup pst-fail --module=pstest_pure --no-probe >/dev/null
        deployer_install pst-fail 002 "$(wheel pstest_pure) $(wheel pstest_cext)"
        "$PYSHARE" repair pst-fail >/dev/null
}

teardown_file() {
        cleanup_app pst-fail pst-home
        rm -rf /home/pst_alice_home
}

@test "chmod 600 on a module: the probe fails naming the file, its mode, ACL and the fix; repair fixes it" {
        f=$(ls "$(site_of pst-fail)"/pstest_cext.*.so)
        chmod 600 "$f"
        run "$PYSHARE" probe pst-fail pstest_cext
        assert_status 1
        assert_output_has "FAIL  pstest_cext  ImportError"
        assert_output_has "$SVC_USER cannot read $f (-rw------- "
        assert_output_has "m::---"
        assert_output_has "run \`pyshare repair pst-fail\`"
        run "$PYSHARE" repair pst-fail
        assert_status 0
        assert_output_has "1 changed"
        run "$PYSHARE" probe pst-fail pstest_cext
        assert_status 0
}

@test "chmod 700 on a package directory: a namespace package is a failure; repair fixes it" {
        d=$(site_of pst-fail)/pstest_pure
        chmod 700 "$d"
        run "$PYSHARE" probe pst-fail pstest_pure
        assert_status 1
        assert_output_has "imported as a namespace package, but the venv holds a regular package pstest_pure"
        assert_output_has "$SVC_USER cannot list $d (drwx--S--- "
        run "$PYSHARE" repair pst-fail
        assert_status 0
        run "$PYSHARE" probe pst-fail pstest_pure
        assert_status 0
        assert_output_has "ok    pstest_pure 1.0"
}

@test "a file moved in from a 0700 place keeps its closed mode: the probe fails, repair fixes it" {
        hidden=$(runuser -u "$DEPLOYER" -- mktemp -d)
        runuser -u "$DEPLOYER" -- sh -c "umask 077 && echo '__version__ = \"5\"' > $hidden/pstest_moved.py"
        runuser -u "$DEPLOYER" -- mv "$hidden/pstest_moved.py" "$(site_of pst-fail)/"
        rmdir "$hidden"
        run "$PYSHARE" probe pst-fail pstest_moved
        assert_status 1
        assert_output_has "$SVC_USER cannot read $(site_of pst-fail)/pstest_moved.py (-rw------- $DEPLOYER:"
        run "$PYSHARE" repair pst-fail
        assert_status 0
        run "$PYSHARE" probe pst-fail pstest_moved
        assert_status 0
        assert_output_has "ok    pstest_moved 5"
}

@test "pip install with umask 077 shrinks the mask below the default ACL: the probe reports it, repair fixes it" {
        run "$PYSHARE" probe pst-fail pstest_cext
        assert_status 0
        deployer_install pst-fail 077 "--force-reinstall $(wheel pstest_cext)"
        so=$(ls "$(site_of pst-fail)"/pstest_cext.*.so)
        run "$PYSHARE" probe pst-fail pstest_cext
        assert_status 1
        assert_output_has "$SVC_USER cannot read $so"
        run "$PYSHARE" repair pst-fail
        assert_status 0
        run "$PYSHARE" probe pst-fail pstest_cext
        assert_status 0
        assert_output_has "ok    pstest_cext 2.0"
}

@test "a venv under a root-owned 0700 directory: setup opens it to the service user; closed again, the probe names it and repair fixes it" {
        mkdir -p /home/pst_alice_home
        chmod 0700 /home/pst_alice_home
        # read and search for another user; write would make the prefix unsafe (refused)
        setfacl -m u:"$DEPLOYER":r-x /home/pst_alice_home
        run ps_setup pst-home --prefix=/home/pst_alice_home/venvs --module=pstest_homeonly --no-probe
        assert_status 0
        assert_output_has "gave $SVC_USER search permission on /home/pst_alice_home (ACL entry u:$SVC_USER:--x"
        site=$(ls -d /home/pst_alice_home/venvs/pst-home/lib/python*/site-packages)
        mkdir "$site/pstest_homeonly"
        echo "__version__ = '7'" >"$site/pstest_homeonly/__init__.py"
        "$PYSHARE" repair pst-home >/dev/null
        run "$PYSHARE" probe pst-home
        assert_status 0
        # The owner closes the home directory again: a chmod sets the mask to ---, which cancels
        # every named entry.
        chmod 0700 /home/pst_alice_home
        run "$PYSHARE" probe pst-home
        assert_status 1
        assert_output_has "$SVC_USER cannot enter /home/pst_alice_home (drwx------ root:root"
        assert_output_has "run \`pyshare repair pst-home\` (it gives $SVC_USER search permission there, as setfacl -m u:$SVC_USER:x /home/pst_alice_home does)"
        assert_output_has "move the venv out of the home directory or run \`pyshare setup\` with the default location"
        run "$PYSHARE" repair pst-home
        assert_status 0
        assert_output_has "gave $SVC_USER search permission on /home/pst_alice_home (ACL entry u:$SVC_USER:--x"
        acl=$(getfacl -c -p /home/pst_alice_home)
        [[ $acl == *"user:$SVC_USER:--x"* ]]
        # The mask only gained x: the other named entry is not widened back to rwx.
        [[ $acl == *"user:$DEPLOYER:r-x"*"#effective:--x"* ]]
        [[ $acl == *"mask::--x"* ]]
        [[ $acl == *"group::---"* ]]
        [[ $acl == *"other::---"* ]]
        [ "$(stat -c %U:%G /home/pst_alice_home)" = root:root ]
        run "$PYSHARE" probe pst-home
        assert_status 0
        assert_output_has "ok    pstest_homeonly 7"
        run "$PYSHARE" repair pst-home
        assert_status 0
        assert_output_has "nothing to change"
}

@test "the verdict comes over the result pipe: a module that prints a forged result cannot change it" {
        site=$(site_of pst-fail)
        runuser -u "$DEPLOYER" -- sh -c "printf '%s\n' 'import sys' 'print(\"M 707374657374 1 - - 0 - -\")' 'print(\"E\")' 'sys.stdout.flush()' 'raise ImportError(\"planted failure\")' > $site/pstest_forger.py"
        "$PYSHARE" repair pst-fail >/dev/null
        run "$PYSHARE" --json probe pst-fail pstest_forger
        assert_status 1
        echo "$output" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["modules"]; assert len(m)==1 and not m[0]["ok"] and "planted failure" in m[0]["error"], d'
}
