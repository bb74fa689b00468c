#!/usr/bin/env bats
# Apache as the service: the default service and its run user read from its configuration files, httpd on a
# RHEL-family system, and the CGI conf that passes PYTHONPATH on.
load helpers

setup_file() {
        fixtures
        cleanup_app pst-apache
}

teardown_file() {
        cleanup_app pst-apache
        if [ -n "${RHEL_IMG:-}" ]; then rm -rf "$RHEL_IMG"; fi
}

@test "the default service is apache2; its user, read from envvars and apache2.conf, is the one apache2ctl -t -D DUMP_RUN_CFG gives" {
        require_cmd apache2ctl
        want=$(apache2ctl -t -D DUMP_RUN_CFG 2>/dev/null | sed -n 's/^User: name="\([^"]*\)".*/\1/p')
        [ -n "$want" ]
        run "$PYSHARE" setup pst-apache --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "service apache2.service, user $want"
        grep -qx "User=$want" /etc/pyshare/pst-apache.conf
        grep -qx "Service=apache2.service" /etc/pyshare/pst-apache.conf
        grep -q "pst-apache" /etc/pyshare/services/apache2.service.env
        [ -f /etc/systemd/system/apache2.service.d/50-pyshare.conf ]
}

@test "setup --cgi makes Apache pass PYTHONPATH to CGI scripts, as a2enconf would; remove of the last such app undoes it" {
        require_cmd apache2ctl
        run "$PYSHARE" setup pst-apache --group="$DEPLOY_GROUP" --cgi --no-probe
        assert_status 0
        assert_output_has "enabled /etc/apache2/conf-enabled/pyshare.conf (a2enconf pyshare)"
        grep -qx "PassEnv PYTHONPATH" /etc/apache2/conf-available/pyshare.conf
        [ "$(readlink /etc/apache2/conf-enabled/pyshare.conf)" = "../conf-available/pyshare.conf" ]
        grep -qx "Cgi=yes" /etc/pyshare/pst-apache.conf
        apache2ctl -t
        run "$PYSHARE" setup pst-in-cgi --service="$UNIT" --group="$DEPLOY_GROUP" --cgi --no-probe
        assert_status 65
        assert_output_has "is not Apache"
        run "$PYSHARE" remove pst-apache
        assert_status 0
        [ ! -e /etc/apache2/conf-enabled/pyshare.conf ]
        [ ! -e /etc/apache2/conf-available/pyshare.conf ]
}

# A static program that leaves a marker where it runs (inside a chroot: in the image) and
# prints a run configuration naming the user "pwned": if pyshare ran it, both would show.
hostile_tool() {
        printf '%s\n' '#include <stdio.h>' \
                'int main(void) { FILE *f = fopen("/tool-ran", "w"); if (f) fclose(f);' \
                '  puts("User: name=\"pwned\" id=0"); return 0; }' >"$1.c"
        cc -static -O1 -o "$1" "$1.c"
        rm -f "$1.c"
}

# An image of a RHEL-family system: httpd instead of apache2, its own users, httpd.conf naming
# the user apache, and an httpd that must never run.
make_rhel_image() {
        RHEL_IMG=$(mktemp -d /var/tmp/pst-rhel.XXXXXX)
        chmod 755 "$RHEL_IMG"
        mkdir -p "$RHEL_IMG/etc/httpd/conf" "$RHEL_IMG/etc/httpd/conf.d" "$RHEL_IMG/usr/sbin" "$RHEL_IMG/usr/bin" \
                "$RHEL_IMG/usr/lib/systemd/system"
        printf 'root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\n' >"$RHEL_IMG/etc/passwd"
        printf 'root:x:0:\napache:x:48:\nimgdeploy:x:4901:\n' >"$RHEL_IMG/etc/group"
        printf '[Service]\nExecStart=/usr/sbin/httpd -DFOREGROUND\n' >"$RHEL_IMG/usr/lib/systemd/system/httpd.service"
        printf 'ServerRoot "/etc/httpd"\nUser apache\nGroup apache\nIncludeOptional conf.d/*.conf\n' \
                >"$RHEL_IMG/etc/httpd/conf/httpd.conf"
        hostile_tool "$RHEL_IMG/usr/sbin/httpd"
        printf '#include <stdio.h>\nint main(void) { puts("3.11"); return 0; }\n' >"$RHEL_IMG/python3.c"
        cc -static -O1 -o "$RHEL_IMG/usr/bin/python3" "$RHEL_IMG/python3.c"
        rm -f "$RHEL_IMG/python3.c"
}

@test "on a system with httpd and no apache2 (RHEL family) the default service is httpd.service, run as apache from httpd.conf; its httpd never runs" {
        make_rhel_image
        before=$(snapshot "$RHEL_IMG")
        run "$PYSHARE" --root="$RHEL_IMG" --dry-run setup rhelapp --group=imgdeploy
        assert_status 0
        assert_output_has "plan for setup rhelapp: venv /opt/pyshare/rhelapp, service httpd.service, user apache, group imgdeploy"
        [ "$before" = "$(snapshot "$RHEL_IMG")" ]
        [ ! -e "$RHEL_IMG/tool-ran" ]
        # Where both exist, Debian's apache2 wins; its configuration is missing from this image.
        printf '[Service]\nExecStart=/bin/true\n' >"$RHEL_IMG/usr/lib/systemd/system/apache2.service"
        run "$PYSHARE" --root="$RHEL_IMG" --dry-run setup rhelapp --group=imgdeploy
        assert_status 69
        assert_output_has "apache2.service has no /etc/apache2/apache2.conf: is Apache installed? Install it or pass --user=USER"
        [ ! -e "$RHEL_IMG/tool-ran" ]
        rm -rf "$RHEL_IMG"
}

@test "--root on a Debian image whose apache2ctl is hostile: it never runs; the run user comes from the image's envvars" {
        require_cmd apache2ctl
        IMG=$(mktemp -d /var/tmp/pst-deb.XXXXXX)
        chmod 755 "$IMG"
        mkdir -p "$IMG/etc" "$IMG/usr/sbin" "$IMG/usr/bin" "$IMG/lib/systemd/system"
        cp -a /etc/apache2 "$IMG/etc/apache2"
        sed -i -e 's/^export APACHE_RUN_USER=.*/export APACHE_RUN_USER=imgweb/' "$IMG/etc/apache2/envvars"
        printf 'root:x:0:0:root:/root:/bin/bash\nimgweb:x:4902:4902::/nonexistent:/usr/sbin/nologin\n' >"$IMG/etc/passwd"
        printf 'root:x:0:\nimgweb:x:4902:\nimgdeploy:x:4901:\n' >"$IMG/etc/group"
        cp /lib/systemd/system/apache2.service "$IMG/lib/systemd/system/"
        for t in apache2ctl apachectl apache2; do hostile_tool "$IMG/usr/sbin/$t"; done
        printf '#include <stdio.h>\nint main(void) { puts("3.11"); return 0; }\n' >"$IMG/python3.c"
        cc -static -O1 -o "$IMG/usr/bin/python3" "$IMG/python3.c"
        rm -f "$IMG/python3.c"
        before=$(snapshot "$IMG")
        run "$PYSHARE" --root="$IMG" --dry-run setup debapp --group=imgdeploy
        assert_status 0
        assert_output_has "plan for setup debapp: venv /opt/pyshare/debapp, service apache2.service, user imgweb, group imgdeploy"
        [ ! -e "$IMG/tool-ran" ]
        [ ! -e /tool-ran ]
        [ "$before" = "$(snapshot "$IMG")" ]
        # A User that names a variable envvars does not set: one error naming the file and line.
        sed -i -e '/^export APACHE_RUN_USER=/d' "$IMG/etc/apache2/envvars"
        run "$PYSHARE" --root="$IMG" --dry-run setup debapp --group=imgdeploy
        assert_status 69
        assert_output_has "cannot read the run user of apache2.service from its configuration: /etc/apache2/apache2.conf:115: User \${APACHE_RUN_USER}: the variable is not set; pass --user=USER"
        [ ! -e "$IMG/tool-ran" ]
        rm -rf "$IMG"
}
