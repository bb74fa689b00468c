#!/usr/bin/env bats
# --root on an image tree with its own users; --dry-run that changes nothing.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-dry
}

teardown_file() {
        cleanup_app pst-dry
        if [ -n "${IMG:-}" ] && mountpoint -q "$IMG/usr"; then umount "$IMG/usr"; fi
}

@test "--root sets up an app in an image with the image's users and groups and its own Python" {
        make_image
        host_before=$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d; getent group)
        run "$PYSHARE" --root="$IMG" setup img --service=imgweb --group=imgdeploy
        assert_status 0
        assert_output_has "not probing inside an image"
        assert_output_has "skipped daemon-reload"
        [ "$(stat -c '%u:%g %a' "$IMG/opt/pyshare/img")" = "0:4901 2770" ]
        getfacl -n -p "$IMG/opt/pyshare/img" | grep -qx "user:4900:r-x"
        grep -qx 'PYTHONPATH="/opt/pyshare/img/lib/python[0-9.]*/site-packages"' "$IMG/etc/pyshare/img.env"
        grep -qx "User=imgsvc" "$IMG/etc/pyshare/img.conf"
        # scripts inside the venv name the path the image will see, not the host's
        head -1 "$IMG/opt/pyshare/img/bin/pip" | grep -qx '#!/opt/pyshare/img/bin/python3*'
        [ -f "$IMG/etc/systemd/system/imgweb.service.d/50-pyshare.conf" ]
        [ "$host_before" = "$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d; getent group)" ]
        run "$PYSHARE" --root="$IMG" status img
        assert_status 0
        run "$PYSHARE" --root="$IMG" setup img
        assert_status 0
        assert_output_has "nothing to change"
        drop_image
}

@test "--root with a deploy group missing from the image says what to run and changes nothing" {
        make_image
        before=$(snapshot "$IMG/etc" "$IMG/opt")
        run "$PYSHARE" --root="$IMG" setup img --service=imgweb --group=nosuchgroup
        assert_status 69
        assert_output_has "groupadd --system nosuchgroup"
        [ "$before" = "$(snapshot "$IMG/etc" "$IMG/opt")" ]
        drop_image
}

@test "--root names the owner of a file in the image from the image's passwd, not the host's" {
        make_image
        # uid 1 is daemon on the host; in the image it is imgdaemon.
        printf 'imgdaemon:x:1:1::/nonexistent:/usr/sbin/nologin\n' >>"$IMG/etc/passwd"
        mkdir -p "$IMG/opt/pyshare"
        chown 1:1 "$IMG/opt/pyshare"
        chmod 755 "$IMG/opt/pyshare"
        run "$PYSHARE" --root="$IMG" --dry-run setup img --service=imgweb --group=imgdeploy
        assert_status 65
        assert_output_has "prefix $IMG/opt/pyshare refused: $IMG/opt/pyshare is owned by imgdaemon (drwxr-xr-x 0755)"
        drop_image
}

@test "--dry-run of a first setup prints the plan and changes nothing" {
        before=$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d /etc/systemd/system; getent group)
        run "$PYSHARE" --dry-run setup pst-dry --service="$UNIT" --group=pst_newgroup
        assert_status 0
        assert_output_has "would create the system group pst_newgroup"
        assert_output_has "would create the virtualenv /opt/pyshare/pst-dry"
        assert_output_has "would write /etc/pyshare/pst-dry.conf"
        assert_output_has "nothing was changed"
        [ "$before" = "$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d /etc/systemd/system; getent group)" ]
}

@test "--dry-run of repair, setup and remove on a broken app changes nothing and tells what it would do" {
        ps_setup pst-dry --no-probe -q
        chmod 600 "$(venv_of pst-dry)/pyvenv.cfg"
        chmod 700 "$(venv_of pst-dry)/bin"
        before=$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d /etc/systemd/system)
        run "$PYSHARE" --dry-run repair pst-dry
        assert_status 0
        assert_output_has "2 to change"
        run "$PYSHARE" --dry-run setup pst-dry --module=pstest_pure
        assert_status 0
        assert_output_has "would write /etc/pyshare/pst-dry.conf"
        run "$PYSHARE" --dry-run remove pst-dry --purge
        assert_status 0
        assert_output_has "would delete the virtualenv /opt/pyshare/pst-dry"
        [ "$before" = "$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d /etc/systemd/system)" ]
}
