#!/usr/bin/env bats
# Adversarial (issue 10, findings 2 and 9): where a venv may live and what purge may delete.
# - A prefix is only as safe as its least safe ancestor: one owned by a user other than root,
#   or writable by group or others without the sticky bit, lets that user swap the fresh 0700
#   venv for her own between root's mkdir and `python -m venv` (whose ensurepip then runs her
#   bin/python3 as root). Such a prefix is refused before anything is created.
# - System directories are never a prefix; an existing prefix is never chowned or chmodded.
# - Purge deletes only what carries pyshare's "created" marker and is owned as pyshare makes
#   it; an adopted venv keeps its files.
# Each test asserts that nothing outside changed (guard_begin/guard_check: /etc, /root, the
# canaries). The first command of a test that could damage the host under 0.1.0 is a dry run,
# so that on 0.1.0 the test fails before anything real runs.
load helpers

APP=pst-adv-prefix
AUNIT=pst-adv-prefix.service
# the app named after a directory of /etc: PREFIX/APP is /etc/apache2 once Prefix=/etc
ETCAPP=apache2
GUARD_APPS="$APP $ETCAPP"
GUARD_UNITS=$AUNIT
NEWGROUP=pst_adv_newgrp
SCRATCH="/var/tmp/pst-adv-gw /var/tmp/pst-adv-later /var/tmp/pst-adv-0700 /var/tmp/pst-adv-c /tmp/pst-adv-sticky /tmp/pst-adv-squat"

setup_file() {
        adv_fixtures
        adv_unit "$AUNIT"
        clean_all
}

teardown_file() {
        clean_all
        adv_unit_remove "$AUNIT"
}

clean_all() {
        local d
        rm -f "/usr/lib/pyshare/$APP.conf" "/usr/lib/pyshare/$ETCAPP.conf"
        # apps whose prefix is not /opt/pyshare: unwired by hand, their trees removed below
        for a in "$APP" "$ETCAPP"; do
                rm -f "/etc/pyshare/$a.conf" "/etc/pyshare/$a.env" "/etc/tmpfiles.d/pyshare-$a.conf"
                rm -rf "/opt/pyshare/$a"
        done
        rm -f "/etc/pyshare/services/$AUNIT.env"
        rm -rf "/etc/systemd/system/$AUNIT.d"
        for d in $SCRATCH; do
                rm -rf "$d"
        done
        rm -rf /home/"$DEPLOYER"/venvs
        getent group "$NEWGROUP" >/dev/null && groupdel "$NEWGROUP"
        true
}

setup() {
        clean_all
        guard_begin
}

teardown() {
        guard_check
}

# remove --purge, as a dry run and for real: neither deletes; $output is the real run's
purge_keeps() {
        run "$PYSHARE" remove "$1" --purge --dry-run
        assert_status 0
        [[ $output != *"would delete"* ]]
        run "$PYSHARE" remove "$1" --purge
        assert_status 0
        [[ $output != *"deleted the virtualenv"* ]]
}

# owner and mode as the refusal names them: "pst_deployer (drwxr-xr-x 0755)"
owner_mode() {
        echo "$(stat -c %U "$1") ($(stat -c %A "$1") $(stat -c %04a "$1"))"
}

@test "finding 2: a prefix in a user's home is refused before anything is created (the venv-swap race)" {
        home=/home/$DEPLOYER
        [ "$(stat -c %U "$home")" = "$DEPLOYER" ]
        want="prefix $home/venvs refused: $home is owned by $(owner_mode "$home")"
        # the group does not exist yet: a refused setup must not create it either
        run adv_setup "$APP" "$AUNIT" --group="$NEWGROUP" --prefix="$home/venvs" --no-probe
        assert_status 65
        assert_output_has "$want; whoever owns or may write a directory on the way to the virtualenv can swap it for her own between two of root's steps and so run code as root. Use the default /opt/pyshare"
        [ ! -e "$home/venvs" ]
        ! getent group "$NEWGROUP" || false
        [ ! -e "/etc/pyshare/$APP.conf" ]
        # the same below a sticky directory, where the user made the name first
        runuser -u "$DEPLOYER" -- mkdir -m 0755 /tmp/pst-adv-squat
        run adv_setup "$APP" "$AUNIT" --prefix=/tmp/pst-adv-squat/venvs --no-probe
        assert_status 65
        assert_output_has "prefix /tmp/pst-adv-squat/venvs refused: /tmp/pst-adv-squat is owned by $DEPLOYER (drwxr-xr-x 0755)"
        [ ! -e /tmp/pst-adv-squat/venvs ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
}

@test "finding 2: a prefix below a group-writable ancestor is refused; a root-owned one below sticky /tmp is fine" {
        install -d -m 0775 -o root -g "$DEPLOY_GROUP" /var/tmp/pst-adv-gw
        run adv_setup "$APP" "$AUNIT" --prefix=/var/tmp/pst-adv-gw/sub/venvs --no-probe
        assert_status 65
        assert_output_has "prefix /var/tmp/pst-adv-gw/sub/venvs refused: /var/tmp/pst-adv-gw is writable by its group, owner root (drwxrwxr-x 0775) without the sticky bit"
        [ ! -e /var/tmp/pst-adv-gw/sub ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
        # the sticky bit keeps others from renaming root's entry: allowed, and created root:root 0755
        run adv_setup "$APP" "$AUNIT" --prefix=/tmp/pst-adv-sticky/venvs --no-probe -q
        assert_status 0
        [ "$(stat -c '%U:%G %a' /tmp/pst-adv-sticky)" = "root:root 755" ]
        [ "$(stat -c '%U:%G %a' /tmp/pst-adv-sticky/venvs)" = "root:root 755" ]
        [ -f "/tmp/pst-adv-sticky/venvs/$APP/.pyshare-complete" ]
        run "$PYSHARE" status "$APP"
        assert_status 0
        # /tmp itself is one of the exact directories that are never a prefix
        run adv_setup "$ETCAPP" "$AUNIT" --prefix=/tmp --no-probe --dry-run
        assert_status 65
        assert_output_has "/tmp is a system directory and never a prefix"
        [ ! -e "/tmp/$ETCAPP" ]
}

@test "finding 2: a prefix that became unsafe after setup is a problem in status and refused by repair" {
        install -d -m 0755 /var/tmp/pst-adv-later
        adv_setup "$APP" "$AUNIT" --prefix=/var/tmp/pst-adv-later/venvs --no-probe -q
        run "$PYSHARE" status "$APP"
        assert_status 0
        before=$(snapshot /var/tmp/pst-adv-later/venvs)
        chown "$DEPLOYER" /var/tmp/pst-adv-later
        want="prefix /var/tmp/pst-adv-later/venvs refused: /var/tmp/pst-adv-later is owned by $DEPLOYER (drwxr-xr-x 0755)"
        run "$PYSHARE" status "$APP"
        assert_status 1
        assert_output_has "problem: $want"
        run "$PYSHARE" repair "$APP"
        assert_status 65
        assert_output_has "$want"
        # group-writable instead of foreign-owned: the same
        chown root /var/tmp/pst-adv-later
        chmod 0775 /var/tmp/pst-adv-later
        run "$PYSHARE" status "$APP"
        assert_status 1
        assert_output_has "problem: prefix /var/tmp/pst-adv-later/venvs refused: /var/tmp/pst-adv-later is writable by its group, owner root (drwxrwxr-x 0775) without the sticky bit"
        run "$PYSHARE" repair "$APP"
        assert_status 65
        chmod 0755 /var/tmp/pst-adv-later
        assert_same "the venv below the refused prefix" "$before" "$(snapshot /var/tmp/pst-adv-later/venvs)"
}

@test "finding 9: Prefix=/root in a package's settings is refused and /root keeps its owner, mode and ACL" {
        mkdir -p /usr/lib/pyshare
        printf '[App]\nService=%s\nGroup=%s\nPrefix=/root\n' "$AUNIT" "$DEPLOY_GROUP" >"/usr/lib/pyshare/$APP.conf"
        root_before=$(stat -c '%U:%G %a' /root; getfacl -p /root)
        run "$PYSHARE" setup "$APP" --no-probe --dry-run
        assert_status 65
        assert_output_has "/root is a system directory and never a prefix"
        [[ $output != *"set /root to"* ]]
        run "$PYSHARE" setup "$APP" --no-probe
        assert_status 65
        assert_output_has "/root is a system directory and never a prefix: a virtualenv there would sit among what the system keeps there, and removing it could take that along; use the default /opt/pyshare, or a directory of its own that root owns, such as /srv/venvs"
        [[ $output != *"set /root to"* ]]
        assert_same "/root" "$root_before" "$(stat -c '%U:%G %a' /root; getfacl -p /root)"
        [ ! -e "/root/$APP" ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
}

@test "finding 9: an existing root-owned 0700 prefix keeps its owner and mode; the service user gets only u:USER:--x" {
        install -d -m 0700 -o root -g root /var/tmp/pst-adv-0700
        run adv_setup "$APP" "$AUNIT" --prefix=/var/tmp/pst-adv-0700 --no-probe
        assert_status 0
        [[ $output != *"set /var/tmp/pst-adv-0700 to"* ]]
        assert_output_has "gave $ADV_SVC search permission on /var/tmp/pst-adv-0700 (ACL entry u:$ADV_SVC:--x"
        [ "$(stat -c %U:%G /var/tmp/pst-adv-0700)" = root:root ]
        acl=$(getfacl -c -p /var/tmp/pst-adv-0700)
        [[ $acl == *"user::rwx"* && $acl == *"user:$ADV_SVC:--x"* && $acl == *"group::---"* && $acl == *"other::---"* ]]
}

@test "finding 9: every exact system directory is refused as a prefix, in a dry run and for real" {
        for d in / /root /etc /usr /var /home /boot /proc /sys /dev /run /tmp /var/tmp /srv /opt; do
                run adv_setup "$APP" "$AUNIT" --prefix="$d" --no-probe --dry-run
                assert_status 65
                [ "$d" = / ] || assert_output_has "$d is a system directory and never a prefix"
                run adv_setup "$APP" "$AUNIT" --prefix="$d" --no-probe
                assert_status 65
                [ "$d" = / ] || assert_output_has "$d is a system directory and never a prefix"
                [ ! -e "${d%/}/$APP" ]
        done
        # the same from a package's settings, which name them without the --prefix syntax check
        mkdir -p /usr/lib/pyshare
        printf '[App]\nService=%s\nGroup=%s\nPrefix=/var/tmp\n' "$AUNIT" "$DEPLOY_GROUP" >"/usr/lib/pyshare/$APP.conf"
        run "$PYSHARE" setup "$APP" --no-probe
        assert_status 65
        assert_output_has "/var/tmp is a system directory and never a prefix"
        [ ! -e "/var/tmp/$APP" ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
}

@test "finding 9: after Prefix= changed to /etc, purge (dry run and real) leaves /etc/apache2 alone" {
        [ -d /etc/apache2 ] || skip_or_fail "needs /etc/apache2 (apache2 is installed by scripts/install-deps --test)"
        mkdir -p /usr/lib/pyshare
        printf '[App]\nService=%s\nGroup=%s\n' "$AUNIT" "$DEPLOY_GROUP" >"/usr/lib/pyshare/$ETCAPP.conf"
        "$PYSHARE" setup "$ETCAPP" --no-probe -q
        # a package upgrade changes the prefix
        printf 'Prefix=/etc\n' >>"/usr/lib/pyshare/$ETCAPP.conf"
        etc_before=$(snapshot /etc/apache2)
        purge_keeps "$ETCAPP"
        assert_output_has "left /etc/apache2 alone: /etc is a system directory and never a prefix"
        assert_same "/etc/apache2" "$etc_before" "$(snapshot /etc/apache2)"
        [ ! -e "/etc/pyshare/$ETCAPP.conf" ]
}

@test "finding 9: purge of an adopted venv unwires it and leaves its files" {
        mkdir -p /opt/pyshare
        "$SYSPY" -m venv --without-pip "/opt/pyshare/$APP"
        echo mine >"/opt/pyshare/$APP/precious"
        run adv_setup "$APP" "$AUNIT" --no-probe
        assert_status 0
        assert_output_has "adopted the existing virtualenv /opt/pyshare/$APP"
        [ "$(cat "/opt/pyshare/$APP/.pyshare-complete")" = "pyshare: adopted an existing virtualenv." ]
        purge_keeps "$APP"
        assert_output_has "left the files of /opt/pyshare/$APP in place: pyshare adopted that virtualenv rather than creating it, so they are not pyshare's to delete"
        [ "$(cat "/opt/pyshare/$APP/precious")" = mine ]
        [ -f "/opt/pyshare/$APP/pyvenv.cfg" ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
}

@test "finding 9: purge deletes a venv with 0.1.0's marker, and leaves one whose marker is gone or not pyshare's" {
        adv_setup "$APP" "$AUNIT" --no-probe -q
        # 0.1.0 wrote exactly this text
        [ "$(cat "/opt/pyshare/$APP/.pyshare-complete")" = "pyshare: this virtualenv was created completely." ]
        run "$PYSHARE" remove "$APP" --purge
        assert_status 0
        assert_output_has "deleted the virtualenv /opt/pyshare/$APP"
        [ ! -e "/opt/pyshare/$APP" ]
        # no marker: not pyshare's to delete
        adv_setup "$APP" "$AUNIT" --no-probe -q
        rm "/opt/pyshare/$APP/.pyshare-complete"
        purge_keeps "$APP"
        assert_output_has "left /opt/pyshare/$APP alone: it carries no .pyshare-complete marker, so pyshare did not create it"
        [ -f "/opt/pyshare/$APP/pyvenv.cfg" ]
        # a marker of someone else's text, after the app was removed: left too
        echo "made by hand" >"/opt/pyshare/$APP/.pyshare-complete"
        run "$PYSHARE" remove "$APP" --purge
        assert_status 0
        assert_output_has "left /opt/pyshare/$APP alone: its .pyshare-complete is not the marker pyshare writes"
        [ -f "/opt/pyshare/$APP/pyvenv.cfg" ]
}

@test "finding 9: setup's cleanup of an interrupted creation never deletes a root 0700 directory that is not one" {
        install -d -m 0755 /var/tmp/pst-adv-c
        install -d -m 0700 "/var/tmp/pst-adv-c/$APP"
        echo keep >"/var/tmp/pst-adv-c/$APP/precious"
        run adv_setup "$APP" "$AUNIT" --prefix=/var/tmp/pst-adv-c --no-probe --dry-run
        [[ $output != *"recreate"* ]]
        run adv_setup "$APP" "$AUNIT" --prefix=/var/tmp/pst-adv-c --no-probe
        assert_status 73
        assert_output_has "/var/tmp/pst-adv-c/$APP exists and is not a virtualenv"
        [ "$(cat "/var/tmp/pst-adv-c/$APP/precious")" = keep ]
}
