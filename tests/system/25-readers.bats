#!/usr/bin/env bats
# Several users read one app's venv (issue 12, item 4): `--user` given more than once, stored as
# one User= line each, each user gets the ACL entries and the checks; setup adds the users that
# Apache runs a WSGIDaemonProcess of the venv as, saying so.
load helpers
RD_UNIT=pst-rd.service
RD_A=pst_rd_a
RD_B=pst_rd_b
RD_C=pst_rd_c

readers_cleanup() {
        cleanup_app pst-rd
        rm -f "/etc/systemd/system/$RD_UNIT" "/etc/pyshare/services/$RD_UNIT.env"
        rm -rf "/etc/systemd/system/$RD_UNIT.d"
        local u
        for u in "$RD_A" "$RD_B" "$RD_C"; do
                if id "$u" >/dev/null 2>&1; then userdel "$u"; fi
        done
}

setup_file() {
        fixtures
        readers_cleanup
        local u
        for u in "$RD_A" "$RD_B" "$RD_C"; do
                useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
        done
        usermod --append --groups "$DEPLOY_GROUP" "$RD_C"
        printf '[Service]\nUser=%s\nExecStart=/bin/true\n' "$RD_A" >"/etc/systemd/system/$RD_UNIT"
}

teardown_file() {
        readers_cleanup
}

teardown() {
        if [ -n "${IMG:-}" ]; then
                drop_image
                IMG=
        fi
}

rd_setup() {
        "$PYSHARE" setup pst-rd --service="$RD_UNIT" --group="$DEPLOY_GROUP" --no-probe "$@"
}

@test "setup --user twice: both users stored, both get the ACL entries and can read; status and JSON list them" {
        run rd_setup --user="$RD_A" --user="$RD_B"
        assert_status 0
        assert_output_has "setup pst-rd: venv /opt/pyshare/pst-rd, service $RD_UNIT, user $RD_A (also read by $RD_B), group $DEPLOY_GROUP"
        [ "$(grep '^User=' /etc/pyshare/pst-rd.conf)" = "$(printf 'User=%s\nUser=%s' "$RD_A" "$RD_B")" ]
        venv=$(venv_of pst-rd)
        getfacl -c -p "$venv" | grep -qx "user:$RD_B:r-x"
        getfacl -c -p "$venv" | grep -qx "default:user:$RD_B:r-x"
        getfacl -c -p "$venv" | grep -qx "user:$RD_A:r-x"
        grep -q "u:$RD_A:r-x,u:$RD_B:r-x,g:$DEPLOY_GROUP:rwx" /etc/tmpfiles.d/pyshare-pst-rd.conf
        grep -q "d:u:$RD_A:r-x,d:u:$RD_B:r-x,d:g:$DEPLOY_GROUP:rwx" /etc/tmpfiles.d/pyshare-pst-rd.conf
        deployer_install pst-rd 077 "$(wheel pstest_pure)"
        run "$PYSHARE" repair pst-rd
        assert_status 0
        f=$(site_of pst-rd)/pstest_pure/__init__.py
        runuser -u "$RD_B" -- cat "$f" >/dev/null
        runuser -u "$RD_A" -- cat "$f" >/dev/null
        run "$PYSHARE" status pst-rd
        assert_status 0
        assert_output_has "  readers  $RD_B"
        run "$PYSHARE" --json status pst-rd
        assert_status 0
        /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["apps"][0]; assert a["user"]==sys.argv[1], a; assert a["users"]==[sys.argv[1], sys.argv[2]], a' "$RD_A" "$RD_B" <<<"$output"
        out=$("$PYSHARE" --json setup pst-rd --service="$RD_UNIT" --group="$DEPLOY_GROUP" --no-probe --user="$RD_A" \
                --user="$RD_B" 2>/dev/null)
        /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); assert a["user"]==sys.argv[1], a; assert a["users"]==[sys.argv[1], sys.argv[2]], a; assert a["changed"] in (False, 0), a' "$RD_A" "$RD_B" <<<"$out"
}

@test "a reader that loses its ACL entry is a status problem naming it; repair gives it back" {
        f=$(site_of pst-rd)/pstest_pure/__init__.py
        [ -f "$f" ]
        setfacl -x "u:$RD_B" "$f"
        ! runuser -u "$RD_B" -- cat "$f" >/dev/null 2>&1 || false
        run "$PYSHARE" status pst-rd
        assert_status 1
        assert_output_has "problem: $RD_B cannot read $f"
        run "$PYSHARE" repair pst-rd
        assert_status 0
        runuser -u "$RD_B" -- cat "$f" >/dev/null
        run "$PYSHARE" status pst-rd
        assert_status 0
}

@test "a command line's list of users replaces the stored one: the dropped reader loses its entries" {
        run rd_setup --user="$RD_A"
        assert_status 0
        [ "$(grep -c '^User=' /etc/pyshare/pst-rd.conf)" = 1 ]
        ! getfacl -c -p "$(venv_of pst-rd)" | grep -q "$RD_B" || false
        ! getfacl -c -p "$(site_of pst-rd)/pstest_pure/__init__.py" | grep -q "$RD_B" || false
        ! grep -q "$RD_B" /etc/tmpfiles.d/pyshare-pst-rd.conf || false
}

@test "every user must pass the checks: a reader in the deploy group is refused and nothing changes" {
        before=$(snapshot /etc/pyshare "$(venv_of pst-rd)" /etc/tmpfiles.d)
        run rd_setup --user="$RD_A" --user="$RD_C"
        assert_status 65
        assert_output_has "$RD_C is a member of $DEPLOY_GROUP: it would get write access to the environment; remove it from the group (gpasswd -d $RD_C $DEPLOY_GROUP) or choose another --group"
        [ "$before" = "$(snapshot /etc/pyshare "$(venv_of pst-rd)" /etc/tmpfiles.d)" ]
        run rd_setup --user="$RD_A" --user=root
        assert_status 65
        assert_output_has "user root has uid 0"
        run rd_setup --user="$RD_A" --user=pst-no-such-reader
        assert_status 69
        assert_output_has "user pst-no-such-reader (a reader of pst-rd) does not exist; create it, or leave it out of the --user options"
        run rd_setup --user=u1 --user=u2 --user=u3 --user=u4 --user=u5 --user=u6 --user=u7 --user=u8 --user=u9
        assert_status 2
        assert_output_has "too many --user options: an app has at most 8 users"
        [ "$before" = "$(snapshot /etc/pyshare "$(venv_of pst-rd)" /etc/tmpfiles.d)" ]
}

@test "a stored reader added to the deploy group later is refused by repair" {
        run rd_setup --user="$RD_A" --user="$RD_B"
        assert_status 0
        usermod --append --groups "$DEPLOY_GROUP" "$RD_B"
        run "$PYSHARE" repair pst-rd
        gpasswd -d "$RD_B" "$DEPLOY_GROUP" >/dev/null
        assert_status 65
        assert_output_has "$RD_B is a member of $DEPLOY_GROUP"
}

@test "setup adds the user of a WSGIDaemonProcess whose python-home is the venv, saying so (image, files only)" {
        require_cmd apache2ctl
        make_image
        cp -a /etc/apache2 "$IMG/etc/apache2"
        sed -i -e 's/^export APACHE_RUN_USER=.*/export APACHE_RUN_USER=imgsvc/' -e 's/^export APACHE_RUN_GROUP=.*/export APACHE_RUN_GROUP=imgsvc/' "$IMG/etc/apache2/envvars"
        printf 'imgdmn:x:4903:4903::/nonexistent:/usr/sbin/nologin\nimgother:x:4904:4904::/nonexistent:/usr/sbin/nologin\n' >>"$IMG/etc/passwd"
        printf 'imgdmn:x:4903:\nimgother:x:4904:\n' >>"$IMG/etc/group"
        # apache2.service comes with the host's /usr; mod_wsgi is enabled as the package enables it.
        [ -f "$IMG/lib/systemd/system/apache2.service" ]
        [ -e "$IMG/etc/apache2/mods-enabled/wsgi.load" ] || ln -s ../mods-available/wsgi.load "$IMG/etc/apache2/mods-enabled/"
        printf 'WSGIDaemonProcess dmn user=imgdmn python-home=/opt/pyshare/imgapp/\nWSGIDaemonProcess other user=imgother python-home=/opt/pyshare/elsewhere\n' \
                >"$IMG/etc/apache2/conf-enabled/zz-daemons.conf"
        run "$PYSHARE" --root="$IMG" setup imgapp --group=imgdeploy
        assert_status 0
        assert_output_has "imgdmn reads $IMG/opt/pyshare/imgapp too: WSGIDaemonProcess dmn (/etc/apache2/conf-enabled/zz-daemons.conf:1) runs as imgdmn with python-home=/opt/pyshare/imgapp/"
        [[ $output != *imgother* ]]
        [ "$(grep '^User=' "$IMG/etc/pyshare/imgapp.conf")" = "$(printf 'User=imgsvc\nUser=imgdmn')" ]
        acl=$(getfacl -n -c -p "$IMG/opt/pyshare/imgapp")
        grep -qx "user:4903:r-x" <<<"$acl"
        [[ $acl != *4904* ]]
}
