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
        require_cmd losetup mknod cc
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
        drop_images
        rm -f "$PWNED" /PWNED-by-image
        adv_cleanup "$APP"
        adv_unit_remove "$CUNIT"
        rm -rf "$PLANT" "$MARKS"
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
        planted "$PYSHARE" setup "$APP" --service="$CUNIT" --group="$DEPLOY_GROUP" --no-probe
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

# A disk of the host: a loop device over a file of zeros. The images carry a 0666 device node
# for it (/dev/pst-disk), which no program of an image may write through.
DISK_FILE=/var/tmp/pst-adv-disk.img
make_disk() {
        [ -f "$BATS_FILE_TMPDIR/disk" ] && return 0
        rm -f "$DISK_FILE"
        truncate -s 1M "$DISK_FILE"
        losetup -f --show "$DISK_FILE" >"$BATS_FILE_TMPDIR/disk"
}

disk_untouched() {
        local disk
        disk=$(cat "$BATS_FILE_TMPDIR/disk")
        if [ -n "$(head -c 64 "$disk" | tr -d '\0')" ]; then
                echo "the image's program wrote to the host's disk $disk" >&2
                return 1
        fi
}

# An empty image with its own users, groups and units, and the device node.
image_base() {
        local img
        img=$(mktemp -d /var/tmp/pst-adv-img.XXXXXX)
        echo "$img" >>"$BATS_FILE_TMPDIR/images"
        chmod 755 "$img"
        mkdir -p "$img/usr/bin" "$img/usr/sbin" "$img/etc/systemd/system" "$img/opt" "$img/tmp" "$img/dev"
        chmod 1777 "$img/tmp"
        printf 'root:x:0:0:root:/root:/bin/sh\nimgsvc:x:4900:4900::/nonexistent:/usr/sbin/nologin\n' >"$img/etc/passwd"
        printf 'root:x:0:\nimgsvc:x:4900:\nimgdeploy:x:4901:\n' >"$img/etc/group"
        printf '[Service]\nUser=imgsvc\nExecStart=/bin/true\n' >"$img/etc/systemd/system/imgweb.service"
        printf '[Service]\nExecStart=/usr/sbin/apache2ctl start\n' >"$img/etc/systemd/system/apache2.service"
        make_disk
        local disk
        disk=$(cat "$BATS_FILE_TMPDIR/disk")
        mknod -m 0666 "$img/dev/pst-disk" b "$((0x$(stat -c %t "$disk")))" "$((0x$(stat -c %T "$disk")))"
        IMG=$img
}

# An image whose python3 and apache2ctl are the hostile static binary (lib/adv/image_python.c).
make_hostile_image() {
        image_base
        install -m 0755 "$ADV_BIN/image_python" "$IMG/usr/bin/python3"
        install -m 0755 "$ADV_BIN/image_python" "$IMG/usr/sbin/apache2ctl"
}

# An image with a real Python: the host's /usr, read-only.
make_python_image() {
        image_base
        rmdir "$IMG/usr/bin" "$IMG/usr/sbin"
        mount --bind /usr "$IMG/usr"
        mount -o remount,bind,ro "$IMG/usr"
        for l in bin lib lib64 sbin; do ln -s "usr/$l" "$IMG/$l"; done
}

drop_images() {
        local img
        if [ -f "$BATS_FILE_TMPDIR/images" ]; then
                while read -r img; do
                        if mountpoint -q "$img/usr"; then umount "$img/usr"; fi
                        rm -rf "$img"
                done <"$BATS_FILE_TMPDIR/images"
        fi
        if [ -f "$BATS_FILE_TMPDIR/disk" ]; then losetup -d "$(cat "$BATS_FILE_TMPDIR/disk")"; fi
        rm -f "$DISK_FILE" "$BATS_FILE_TMPDIR/images" "$BATS_FILE_TMPDIR/disk"
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
        disk_untouched
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
        grep -qx "wrote the image's device node: no" "$report"
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

@test "--root: the image's pip runs without root and without the image's uids on the host" {
        make_python_image
        run "$PYSHARE" --root="$IMG" setup good --service=imgweb --group=imgdeploy
        assert_status 0
        # a real pip in the sandbox installs, and what it wrote is root's, in the deploy group
        mkdir -p "$IMG/var/tmp/wheels"
        cp "$(wheel pstest_pure)" "$IMG/var/tmp/wheels/"
        run "$PYSHARE" --root="$IMG" pip good install --no-index --no-deps "/var/tmp/wheels/$(basename "$(wheel pstest_pure)")"
        assert_status 0
        assert_output_has "pip /opt/pyshare/good in a sandbox, without privileges on the host"
        assert_output_has "Successfully installed pstest-pure-1.0"
        [ -z "$(find "$IMG/opt/pyshare/good" ! -type l \( ! -user 0 -o ! -group 4901 \) -print)" ]
        run grep -c '^_pyshare:' "$IMG/etc/passwd"
        [ "$output" = 0 ]
}

@test "--root: a hostile pip in the image's venv gets nowhere: no device node, no way out, nothing left its own" {
        make_python_image
        run "$PYSHARE" --root="$IMG" setup bad --service=imgweb --group=imgdeploy
        assert_status 0
        rm -f "$PWNED" /PWNED-by-image
        install -m 0755 "$ADV_BIN/image_python" "$IMG/opt/pyshare/bad/bin/pip"
        guard_begin
        run "$PYSHARE" --root="$IMG" pip bad list
        assert_not_pwned
        disk_untouched
        guard_check
        assert_status 73
        assert_output_has "wrote the image's device node: no"
        assert_output_has "chroot escape: no"
        [ -z "$(find "$IMG/opt/pyshare/bad" ! -type l \( ! -user 0 -o ! -group 4901 \) -print)" ]
}
