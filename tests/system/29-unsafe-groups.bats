#!/usr/bin/env bats
# The service must not get the deploy group: a service user added to it after setup, or a
# unit whose Group= or SupplementaryGroups= names it, is refused.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-ids pst-grp
}

teardown_file() {
        gpasswd -d "$SVC_USER" "$DEPLOY_GROUP" >/dev/null 2>&1 || echo "$SVC_USER was not in $DEPLOY_GROUP"
        cleanup_app pst-ids pst-grp
        rm -rf /etc/systemd/system/pst-grp.service /etc/systemd/system/pst-grp.service.d
}

@test "a service user added to the deploy group after setup: repair and probe refuse it (65), status reports it" {
        ps_setup pst-ids --no-probe -q
        usermod -aG "$DEPLOY_GROUP" "$SVC_USER"
        before=$(snapshot /opt/pyshare/pst-ids /etc/pyshare)
        run "$PYSHARE" repair pst-ids
        assert_status 65
        assert_output_has "$SVC_USER is a member of $DEPLOY_GROUP: it would get write access to the environment"
        assert_output_has "gpasswd -d $SVC_USER $DEPLOY_GROUP"
        run "$PYSHARE" probe pst-ids
        assert_status 65
        run "$PYSHARE" status pst-ids
        assert_status 1
        assert_output_has "problem: user $SVC_USER and group $DEPLOY_GROUP are refused"
        [ "$before" = "$(snapshot /opt/pyshare/pst-ids /etc/pyshare)" ]
        gpasswd -d "$SVC_USER" "$DEPLOY_GROUP"
        run "$PYSHARE" repair pst-ids
        assert_status 0
        run "$PYSHARE" status pst-ids
        assert_status 0
}

@test "a unit whose Group= or SupplementaryGroups= holds the deploy group is refused (65), nothing written" {
        printf '[Service]\nUser=%s\nSupplementaryGroups=adm %s\nExecStart=/bin/true\n' "$SVC_USER" "$DEPLOY_GROUP" \
                >/etc/systemd/system/pst-grp.service
        before=$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d)
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        assert_output_has "pst-grp.service runs with the group $DEPLOY_GROUP (Group= or SupplementaryGroups=)"
        [ "$before" = "$(snapshot /etc/pyshare /opt/pyshare /etc/tmpfiles.d)" ]
        # A drop-in that empties the list takes the group away again (systemd's rule).
        mkdir -p /etc/systemd/system/pst-grp.service.d
        printf '[Service]\nSupplementaryGroups=\n' >/etc/systemd/system/pst-grp.service.d/10-reset.conf
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe -q
        assert_status 0
        printf '[Service]\nGroup=%s\n' "$DEPLOY_GROUP" >/etc/systemd/system/pst-grp.service.d/20-group.conf
        run "$PYSHARE" setup pst-grp --service=pst-grp --group="$DEPLOY_GROUP" --no-probe
        assert_status 65
        run "$PYSHARE" remove pst-grp --purge
        assert_status 0
}
