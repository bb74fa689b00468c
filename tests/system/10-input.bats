#!/usr/bin/env bats
# Bad input gets one clear error, the documented exit status, and changes nothing.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-in
        mkdir -p /etc/pyshare /opt/pyshare
}

teardown_file() {
        cleanup_app pst-in
        userdel pst_member 2>/dev/null || echo "no pst_member"
        rm -f /etc/systemd/system/pst-rootsvc.service /etc/systemd/system/pst-dyn.service
}

state() { snapshot /etc/pyshare /opt/pyshare /etc/systemd/system /etc/tmpfiles.d; getent group; }

@test "malformed app names exit 2 and write nothing" {
        before=$(state)
        for name in "" "." ".." "../x" "a/b" "-rf" "a b" "%" "*" "@" "Upper" "é" \
                "$(printf 'a%.0s' {1..64})" "$(printf 'a\nb')"; do
                run "$PYSHARE" setup "$name" --service="$UNIT" --no-probe
                if [ -z "$name" ]; then assert_status 2; continue; fi
                assert_status 2
                [[ "$output" == *"invalid app name"* ]] || [[ "$output" == *"unknown option"* ]]
        done
        [ "$before" = "$(state)" ]
}

@test "malformed user, group, service and module names exit 2 and write nothing" {
        before=$(state)
        for bad in "" "Root" "a b" "../x" "a/b" "%u" "@x" "é" "$(printf 'b%.0s' {1..40})"; do
                run ps_setup pst-in --user="$bad" --no-probe
                assert_status 2
                run "$PYSHARE" setup pst-in --service="$UNIT" --group="$bad" --no-probe
                assert_status 2
        done
        run ps_setup pst-in --service='a/b' --no-probe
        assert_status 2
        run ps_setup pst-in --service='x%i' --no-probe
        assert_status 2
        run ps_setup pst-in --module='1abc' --no-probe
        assert_status 2
        assert_output_has "invalid module name '1abc'"
        [ "$before" = "$(state)" ]
}

@test "a service user that is root, or in the deploy group, is refused with 65" {
        id pst_member >/dev/null 2>&1 || useradd --system --no-create-home --groups "$DEPLOY_GROUP" pst_member
        before=$(state)
        run ps_setup pst-in --user=root --no-probe
        assert_status 65
        assert_output_has "user root has uid 0"
        run ps_setup pst-in --user=pst_member --no-probe
        assert_status 65
        assert_output_has "pst_member is a member of $DEPLOY_GROUP: it would get write access"
        run "$PYSHARE" setup pst-in --service="$UNIT" --group=root --no-probe
        assert_status 65
        [ "$before" = "$(state)" ]
}

@test "a unit without User= or with DynamicUser= is refused with 65, naming --user" {
        printf '[Service]\nExecStart=/bin/true\n' >/etc/systemd/system/pst-rootsvc.service
        printf '[Service]\nDynamicUser=yes\nUser=whatever\nExecStart=/bin/true\n' >/etc/systemd/system/pst-dyn.service
        before=$(state)
        run "$PYSHARE" setup pst-in --service=pst-rootsvc --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "pst-rootsvc.service has no User= and runs as root"
        assert_output_has "--user=USER"
        run "$PYSHARE" setup pst-in --service=pst-dyn --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "uses DynamicUser="
        [ "$before" = "$(state)" ]
}

@test "a user, service or Python that does not exist exits 69 and writes nothing" {
        before=$(state)
        run ps_setup pst-in --user=pst_nosuchuser --no-probe
        assert_status 69
        assert_output_has "user pst_nosuchuser does not exist"
        run "$PYSHARE" setup pst-in --service=pst-nosuch --group="$DEPLOY_GROUP" --no-probe
        assert_status 69
        assert_output_has "service pst-nosuch.service does not exist"
        run ps_setup pst-in --python=/usr/bin/python9.99 --no-probe
        assert_status 69
        assert_output_has "Python /usr/bin/python9.99 does not exist"
        run "$PYSHARE" probe pst-in
        assert_status 69
        assert_output_has "pst-in is not set up"
        [ "$before" = "$(state)" ]
}

@test "unsafe paths are refused with 65" {
        before=$(state)
        for p in "relative/dir" "/opt/a b" "/opt/x:y" '/opt/$x' "/opt/../etc" "/opt//x" "/opt/x/" "/"; do
                run ps_setup pst-in --prefix="$p" --no-probe
                assert_status 65
        done
        run ps_setup pst-in --python='/usr/bin/py thon' --no-probe
        assert_status 65
        [ "$before" = "$(state)" ]
}

@test "verbs that change things exit 77 without root; usage errors exit 2 with one line" {
        run runuser -u nobody -- "$PYSHARE" setup pst-in --service="$UNIT"
        assert_status 77
        assert_output_has "run it as root"
        run runuser -u nobody -- "$PYSHARE" repair pst-in
        assert_status 77
        run runuser -u nobody -- "$PYSHARE" remove pst-in
        assert_status 77
        run "$PYSHARE" setup pst-in --bogus
        assert_status 2
        [ "${#lines[@]}" -eq 1 ]
        assert_output_has "unknown option --bogus"
        run "$PYSHARE" probe pst-in --purge
        assert_status 2
        assert_output_has "option --purge does not go with this command"
        run "$PYSHARE" frobnicate
        assert_status 2
        run "$PYSHARE" probe pst-in --timeout=0
        assert_status 2
}

@test "a config file that is not root's, or is malformed, is refused with 65" {
        ps_setup pst-in --no-probe -q
        chown "$DEPLOYER" /etc/pyshare/pst-in.conf
        run "$PYSHARE" repair pst-in
        assert_status 65
        assert_output_has "/etc/pyshare/pst-in.conf is not owned by root or is writable by others"
        chown root /etc/pyshare/pst-in.conf
        echo "Bogus=1" >>/etc/pyshare/pst-in.conf
        run "$PYSHARE" repair pst-in
        assert_status 65
        assert_output_has "/etc/pyshare/pst-in.conf:8: unknown key"
        sed -i '/^Bogus=1$/d' /etc/pyshare/pst-in.conf
        run "$PYSHARE" repair pst-in
        assert_status 0
}

@test "--help lists the commands and options and points to pyshare(8); --version prints it" {
        run "$PYSHARE" --help
        assert_status 0
        for w in setup probe repair remove list status --root --dry-run --json --quiet --verbose "pyshare(8)"; do
                assert_output_has "$w"
        done
        run "$PYSHARE" --version
        assert_status 0
        [[ "$output" =~ ^pyshare\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}
