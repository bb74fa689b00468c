#!/usr/bin/env bats
# Adversarial: the children pyshare starts (issue 10, findings 1 and 8).
# Finding 1: the caller's working directory and environment never reach a child. A directory
# owned by an unprivileged user holds Python modules that shadow what the children import
# (venv.py, ensurepip/, encodings/, sitecustomize.py, usercustomize.py, site.py, pip/) and
# the caller's environment carries PYTHONPATH, PYTHONSTARTUP, PYTHONINSPECT, PYTHONUSERBASE:
# `cd` there and run setup, repair, pip and probe; the planted code must never run (each
# module would leave a marker) and setup still works.
# Finding 8: a hostile image under --root: its python3 is a static binary that tries to write
# /root/PWNED-by-image on the host, to escape the chroot (mkdir/chroot/chdir("..")), and to use
# any fd it inherited. Nothing reaches the host, the run fails with a clear message, and the
# half-made venv is left root's, to be made again.
load helpers

APP=pst-adv-children
CUNIT=pst-adv-children.service
PLANT=/var/tmp/pst-adv-plant
# written by any planted module that runs (the deployer owns $PLANT: root could write there too)
MARKS=/var/tmp/pst-adv-plant-marks
PWNED=/root/PWNED-by-image

setup_file() {
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$CUNIT"
        rm -rf "$PLANT" "$MARKS"
        mkdir -m 0777 "$MARKS"
        mkdir "$PLANT"
        chown "$DEPLOYER:" "$PLANT"
        as_deployer sh -c "
                cd $PLANT
                for m in venv sitecustomize usercustomize site startup; do
                        printf 'open(\"$MARKS/%s\", \"w\").close()\n' \$m >\$m.py
                done
                for p in ensurepip pip encodings; do
                        mkdir \$p
                        printf 'open(\"$MARKS/%s\", \"w\").close()\n' \$p >\$p/__init__.py
                        cp \$p/__init__.py \$p/__main__.py
                done
                mkdir -p userbase/lib/python$PYVER/site-packages
                cp sitecustomize.py userbase/lib/python$PYVER/site-packages/usercustomize.py"
        cc -static -O1 -o "$ADV_BIN/image_python" "$ADV_LIB/image_python.c"
}

teardown_file() {
        [ -z "${IMG:-}" ] || rm -rf "$IMG"
        rm -f "$PWNED" /PWNED-by-image
        adv_cleanup "$APP"
        rm -f "/etc/systemd/system/$CUNIT" "/etc/pyshare/services/$CUNIT.env"
        rm -rf "/etc/systemd/system/$CUNIT.d" "$PLANT" "$MARKS"
}

setup() {
        rm -f "$MARKS"/*
}

# pyshare run from the planted directory, with the caller's PYTHON* variables set.
planted() {
        run bash -c "cd $PLANT && PYTHONPATH=$PLANT PYTHONSTARTUP=$PLANT/startup.py PYTHONINSPECT=1 \
                PYTHONUSERBASE=$PLANT/userbase $(printf '%q ' "$@")"
}

assert_nothing_planted_ran() {
        local ran
        ran=$(ls "$MARKS")
        if [ -n "$ran" ]; then
                echo "planted code ran as root: $ran" >&2
                echo "$output" >&2
                return 1
        fi
}

@test "setup from a directory with planted Python modules runs none of them and still works" {
        planted "$PYSHARE" setup "$APP" --service="$CUNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_nothing_planted_ran
        assert_status 0
        assert_output_has "created the virtualenv /opt/pyshare/$APP"
        [ -x "/opt/pyshare/$APP/bin/pip" ]
        [ "$(stat -c '%u' "/opt/pyshare/$APP/pyvenv.cfg")" = 0 ]
}

@test "an interrupted venv made again by setup from the planted directory runs none of them" {
        rm -rf "/opt/pyshare/$APP"
        install -d -m 0700 -o root -g root "/opt/pyshare/$APP"
        planted "$PYSHARE" setup "$APP" --no-probe
        assert_nothing_planted_ran
        assert_status 0
        assert_output_has "created the virtualenv /opt/pyshare/$APP"
}

@test "repair, pip and probe from the planted directory run none of them" {
        planted "$PYSHARE" repair "$APP"
        assert_nothing_planted_ran
        assert_status 0
        planted "$PYSHARE" pip "$APP" install --no-index --no-deps "$(wheel pstest_pure)"
        assert_nothing_planted_ran
        assert_status 0
        planted "$PYSHARE" probe "$APP" pstest_pure
        assert_nothing_planted_ran
        assert_status 0
        planted "$PYSHARE" probe "$APP" --interpreter pstest_pure
        assert_nothing_planted_ran
        assert_status 0
}

# An image whose python3 and apache2ctl are the hostile static binary (lib/adv/image_python.c),
# with its own users, groups and units.
make_hostile_image() {
        IMG=$(mktemp -d /var/tmp/pst-adv-img.XXXXXX)
        chmod 755 "$IMG"
        mkdir -p "$IMG/usr/bin" "$IMG/usr/sbin" "$IMG/etc/systemd/system" "$IMG/opt" "$IMG/tmp"
        chmod 1777 "$IMG/tmp"
        install -m 0755 "$ADV_BIN/image_python" "$IMG/usr/bin/python3"
        install -m 0755 "$ADV_BIN/image_python" "$IMG/usr/sbin/apache2ctl"
        printf 'root:x:0:0:root:/root:/bin/sh\nimgsvc:x:4900:4900::/nonexistent:/usr/sbin/nologin\n' >"$IMG/etc/passwd"
        printf 'root:x:0:\nimgsvc:x:4900:\nimgdeploy:x:4901:\n' >"$IMG/etc/group"
        printf '[Service]\nUser=imgsvc\nExecStart=/bin/true\n' >"$IMG/etc/systemd/system/imgweb.service"
        printf '[Service]\nExecStart=/usr/sbin/apache2ctl start\n' >"$IMG/etc/systemd/system/apache2.service"
}

assert_not_pwned() {
        if [ -e "$PWNED" ] || [ -e /PWNED-by-image ] || [ -e /pst-escape ]; then
                echo "the image's program wrote on the host:" >&2
                ls -la "$PWNED" /PWNED-by-image /pst-escape >&2 2>&1
                return 1
        fi
}

@test "--root: the image's python3 runs without root on the host and cannot get out of the image" {
        make_hostile_image
        rm -f "$PWNED" /PWNED-by-image
        guard_begin
        run "$PYSHARE" --root="$IMG" setup evil --service=imgweb --group=imgdeploy
        assert_not_pwned
        guard_check
        assert_status 73
        assert_output_has "cannot create the virtualenv $IMG/opt/pyshare/evil with /usr/bin/python3 -m venv"
        assert_output_has "the image's python3 is hostile: giving up"
        # it did run, and got nowhere
        report=$IMG/opt/pyshare/evil/report.txt
        [ -f "$report" ]
        grep -qx "chroot escape: no" "$report"
        grep -qx "wrote through an inherited fd: no" "$report"
        grep -qx "wrote /root/PWNED-by-image after the escape: no" "$report"
        # what it made is root's, and the venv is left as an interrupted creation (made again next time)
        [ "$(stat -c '%u:%g %a' "$IMG/opt/pyshare/evil")" = "0:0 700" ]
        [ -z "$(find "$IMG/opt/pyshare/evil" \( ! -user 0 -o ! -group 0 \) -print)" ]
        run "$PYSHARE" --root="$IMG" setup evil --service=imgweb --group=imgdeploy
        assert_status 73
        assert_not_pwned
}

@test "--root: the image's apache2ctl is never run to find Apache's user" {
        make_hostile_image
        rm -f "$PWNED" /PWNED-by-image
        run "$PYSHARE" --root="$IMG" setup evilweb --service=apache2.service --group=imgdeploy
        assert_not_pwned
        assert_status 69
        assert_output_has "pass --user=USER"
        [ ! -e "$IMG/opt/pyshare/evilweb" ]
}
