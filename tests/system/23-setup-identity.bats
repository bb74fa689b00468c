#!/usr/bin/env bats
# Whom setup gives access, and to which group: User= read from a unit file and its drop-ins
# without systemd, and a missing deploy group created as a system group.
load helpers
UNIT=pst-cov.service
USER_UNIT=pst-cov-user.service
COV_GROUP=pst_covgrp
COV_UA=pst_cov_ua
COV_UB=pst_cov_ub

identity_cleanup() {
        cleanup_app pst-cov-grp pst-cov-user
        rm -f "/etc/systemd/system/$UNIT" "/etc/systemd/system/$USER_UNIT" "/etc/pyshare/services/$UNIT.env" \
                "/etc/pyshare/services/$USER_UNIT.env"
        rm -rf "/etc/systemd/system/$UNIT.d" "/etc/systemd/system/$USER_UNIT.d"
        local u
        for u in "$COV_UA" "$COV_UB"; do
                if id "$u" >/dev/null 2>&1; then userdel "$u"; fi
        done
        if getent group "$COV_GROUP" >/dev/null; then groupdel "$COV_GROUP"; fi
}

setup_file() {
        fixtures
        identity_cleanup
        make_unit "$UNIT"
}

teardown_file() {
        identity_cleanup
}

@test "without systemd, setup reads User= from the unit file and its drop-ins, in the order of their names" {
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$COV_UA"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$COV_UB"
        printf '[Unit]\nDescription=pyshare coverage test\n[Service]\nUser=%s\nExecStart=/bin/true\n' "$COV_UA" \
                >"/etc/systemd/system/$USER_UNIT"
        mkdir -p "/etc/systemd/system/$USER_UNIT.d"
        printf '[Service]\nUser=%s\n' "$COV_UA" >"/etc/systemd/system/$USER_UNIT.d/05-first.conf"
        printf '[Service]\nUser=%s\n' "$COV_UB" >"/etc/systemd/system/$USER_UNIT.d/10-user.conf"
        [ ! -d /run/systemd/system ] # the unit file's parser, not the bus, must answer here
        run "$PYSHARE" setup pst-cov-user --service="$USER_UNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "user $COV_UB"
        grep -qx "User=$COV_UB" /etc/pyshare/pst-cov-user.conf
        getfacl -c -p "$(venv_of pst-cov-user)" | grep -qx "user:$COV_UB:r-x"
        ! getfacl -c -p "$(venv_of pst-cov-user)" | grep -q "$COV_UA" || false
        run "$PYSHARE" remove pst-cov-user --purge
        assert_status 0
}

@test "setup creates a missing deploy group as a system group" {
        run getent group "$COV_GROUP"
        assert_status 2
        run "$PYSHARE" setup pst-cov-grp --service="$UNIT" --group="$COV_GROUP" --no-probe
        assert_status 0
        setup_out=$output
        run getent group "$COV_GROUP"
        assert_status 0
        gid=$(echo "$output" | cut -d: -f3)
        [ "$gid" -gt 0 ] && [ "$gid" -lt 1000 ] # a system group (SYS_GID_MAX 999)
        [ -z "$(echo "$output" | cut -d: -f4)" ] # with no members
        output=$setup_out
        assert_output_has "created the system group $COV_GROUP (gid $gid)"
        [ "$(stat -c %G "$(venv_of pst-cov-grp)")" = "$COV_GROUP" ]
        getfacl -c -p "$(venv_of pst-cov-grp)" | grep -qx "default:group:$COV_GROUP:rwx"
        # the second run finds it
        run "$PYSHARE" setup pst-cov-grp --service="$UNIT" --group="$COV_GROUP" --no-probe
        assert_status 0
        [[ "$output" != *"created the system group"* ]]
        run "$PYSHARE" remove pst-cov-grp --purge
        assert_status 0
        groupdel "$COV_GROUP"
}
