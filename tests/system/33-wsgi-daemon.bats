#!/usr/bin/env bats
# An app in a mod_wsgi daemon process of its own (setup --wsgi-script): the Apache conf it gets,
# enabled as a2enconf does (or in RHEL's conf.d), left out of the service's merged PYTHONPATH,
# tested with Apache's configtest before anything stays changed, and taken away by remove.
load helpers

APP=pst-wsgid
SCRIPT_DIR=/var/tmp/pst-wsgid-web

setup_file() {
        fixtures
        cleanup_app "$APP" pst-wsgid-shared pst-wsgid-c1 pst-wsgid-c2
        mkdir -p "$SCRIPT_DIR"
        printf 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n' \
                >"$SCRIPT_DIR/app.wsgi"
}

teardown_file() {
        cleanup_app "$APP" pst-wsgid-shared pst-wsgid-c1 pst-wsgid-c2
        rm -f /etc/apache2/conf-enabled/zz-pst-broken.conf
        rm -rf "$SCRIPT_DIR"
}

# A Debian image with Apache's configuration, an apache2 unit and a WSGI script.
make_apache_image() {
        make_image
        cp -a /etc/apache2 "$IMG/etc/apache2"
        rm -f "$IMG"/etc/apache2/conf-*/pyshare*
        cp /lib/systemd/system/apache2.service "$IMG/etc/systemd/system/"
        mkdir -p "$IMG/srv/web"
        echo 'def application(e, s): pass' >"$IMG/srv/web/app.wsgi"
}

@test "setup --wsgi-script in an image writes the daemon conf, enables it as a2enconf does, skips the configtest and says so" {
        require_cmd apache2ctl
        make_apache_image
        run "$PYSHARE" --root="$IMG" setup imgd --user=imgsvc --group=imgdeploy --wsgi-script=/srv/web/app.wsgi
        assert_status 0
        assert_output_has "enabled $IMG/etc/apache2/conf-enabled/pyshare-imgd.conf (a2enconf pyshare-imgd)"
        assert_output_has "skipped Apache's configuration test inside the image (--root): run \`apache2ctl configtest\` in it before Apache starts"
        want="# Written by pyshare setup for imgd: its own mod_wsgi daemon process, with its venv as
# python-home. \`pyshare remove imgd\` takes it away.
WSGIDaemonProcess pyshare-imgd python-home=/opt/pyshare/imgd user=imgsvc group=imgsvc lang=C.UTF-8 locale=C.UTF-8 display-name=%{GROUP}
WSGIScriptAlias /imgd /srv/web/app.wsgi process-group=pyshare-imgd application-group=%{GLOBAL}
<Directory /srv/web>
    Require all granted
</Directory>"
        [ "$(cat "$IMG/etc/apache2/conf-available/pyshare-imgd.conf")" = "$want" ]
        [ "$(readlink "$IMG/etc/apache2/conf-enabled/pyshare-imgd.conf")" = "../conf-available/pyshare-imgd.conf" ]
        grep -qx "WSGIScript=/srv/web/app.wsgi" "$IMG/etc/pyshare/imgd.conf"
        grep -qx "URL=/imgd" "$IMG/etc/pyshare/imgd.conf"
        # Not in the service's merged PYTHONPATH: no other app, so no merged file at all.
        [ ! -e "$IMG/etc/pyshare/services/apache2.service.env" ]
        [ ! -e "$IMG/etc/systemd/system/apache2.service.d/50-pyshare.conf" ]
        # --json names the conf; a rerun changes nothing and needs no test.
        run "$PYSHARE" --root="$IMG" --json setup imgd
        assert_status 0
        assert_output_has '"wsgi_conf":"/etc/apache2/conf-available/pyshare-imgd.conf","configtest":"not-needed"'
        # --url moves it; --dry-run shows the new text and changes nothing.
        before=$(snapshot "$IMG/etc")
        run "$PYSHARE" --root="$IMG" --dry-run setup imgd --wsgi-script=/srv/web/app.wsgi --url=/other
        assert_status 0
        assert_output_has "the conf would read:"
        assert_output_has "WSGIScriptAlias /other /srv/web/app.wsgi process-group=pyshare-imgd application-group=%{GLOBAL}"
        [ "$before" = "$(snapshot "$IMG/etc")" ]
        run "$PYSHARE" --root="$IMG" --json remove imgd --purge
        assert_status 0
        assert_output_has '"/etc/apache2/conf-enabled/pyshare-imgd.conf","/etc/apache2/conf-available/pyshare-imgd.conf"'
        [ ! -e "$IMG/etc/apache2/conf-enabled/pyshare-imgd.conf" ]
        [ ! -e "$IMG/etc/apache2/conf-available/pyshare-imgd.conf" ]
        drop_image
}

@test "a daemon-wired app beside a shared-path app: only the shared one is in the service's PYTHONPATH" {
        require_cmd apache2ctl
        make_apache_image
        run "$PYSHARE" --root="$IMG" setup imgshared --user=imgsvc --group=imgdeploy --service=apache2
        assert_status 0
        run "$PYSHARE" --root="$IMG" setup imgd --user=imgsvc --group=imgdeploy --wsgi-script=/srv/web/app.wsgi --url=/d
        assert_status 0
        grep -q "; apps: imgshared\.$" "$IMG/etc/pyshare/services/apache2.service.env"
        grep -q "/opt/pyshare/imgshared/" "$IMG/etc/pyshare/services/apache2.service.env"
        run grep -c "/opt/pyshare/imgd" "$IMG/etc/pyshare/services/apache2.service.env"
        [ "$output" = 0 ]
        grep -qx "WSGIScriptAlias /d /srv/web/app.wsgi process-group=pyshare-imgd application-group=%{GLOBAL}" \
                "$IMG/etc/apache2/conf-available/pyshare-imgd.conf"
        drop_image
}

@test "on a RHEL-family image the daemon conf goes to /etc/httpd/conf.d; --dry-run shows it" {
        IMG=$(mktemp -d /var/tmp/pst-rhel.XXXXXX)
        chmod 755 "$IMG"
        mkdir -p "$IMG/etc/httpd/conf" "$IMG/etc/httpd/conf.d" "$IMG/usr/lib/systemd/system" "$IMG/usr/bin" "$IMG/srv/rh"
        printf 'root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\n' >"$IMG/etc/passwd"
        printf 'root:x:0:\napache:x:48:\nimgdeploy:x:4901:\n' >"$IMG/etc/group"
        printf '[Service]\nExecStart=/usr/sbin/httpd -DFOREGROUND\n' >"$IMG/usr/lib/systemd/system/httpd.service"
        printf 'ServerRoot "/etc/httpd"\nUser apache\nGroup apache\nIncludeOptional conf.d/*.conf\n' \
                >"$IMG/etc/httpd/conf/httpd.conf"
        cp /usr/bin/true "$IMG/usr/bin/python3"
        echo 'def application(e, s): pass' >"$IMG/srv/rh/app.wsgi"
        before=$(snapshot "$IMG")
        run "$PYSHARE" --root="$IMG" --dry-run setup rh --group=imgdeploy --wsgi-script=/srv/rh/app.wsgi --url=/
        assert_status 0
        assert_output_has "would write $IMG/etc/httpd/conf.d/pyshare-rh.conf"
        assert_output_has "WSGIDaemonProcess pyshare-rh python-home=/opt/pyshare/rh user=apache group=apache lang=C.UTF-8 locale=C.UTF-8 display-name=%{GROUP}"
        assert_output_has "WSGIScriptAlias / /srv/rh/app.wsgi process-group=pyshare-rh application-group=%{GLOBAL}"
        assert_output_has "<Directory /srv/rh>"
        [ "$before" = "$(snapshot "$IMG")" ]
        rm -rf "$IMG"
}

@test "bad --wsgi-script and --url values are refused before anything changes" {
        require_cmd apache2ctl
        before=$(snapshot /etc/pyshare /etc/apache2)
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script=app.wsgi
        assert_status 65
        assert_output_has "--wsgi-script=app.wsgi: give the absolute path of the app's .wsgi file, made of letters, digits and . _ + @ - /"
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --url=/x
        assert_status 65
        assert_output_has "--url=/x needs --wsgi-script=PATH (or WSGIScript= in the settings): it is where Apache mounts that script"
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/app.wsgi" --url='/a b'
        assert_status 65
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/missing.wsgi"
        assert_status 69
        assert_output_has "WSGI script $SCRIPT_DIR/missing.wsgi: No such file or directory: give the path of the app's .wsgi file with --wsgi-script=PATH"
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR"
        assert_status 65
        assert_output_has "WSGI script $SCRIPT_DIR is not a regular file"
        run "$PYSHARE" setup "$APP" --service="$UNIT" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/app.wsgi"
        assert_status 65
        assert_output_has "--wsgi-script runs $APP in a mod_wsgi daemon process of Apache; $UNIT is not Apache (apache2 or httpd): name it with --service=apache2"
        [ "$before" = "$(snapshot /etc/pyshare /etc/apache2)" ]
}

@test "a package's APP.conf may name WSGIScript= and URL=" {
        require_cmd apache2ctl
        make_apache_image
        mkdir -p "$IMG/usr-pkg"
        printf '[App]\nUser=imgsvc\nGroup=imgdeploy\nWSGIScript=/srv/web/app.wsgi\nURL=/pkg\n' >"$IMG/usr-pkg/imgd.conf"
        run "$PYSHARE" --root="$IMG" --dry-run setup imgd --from=/usr-pkg/imgd.conf
        assert_status 0
        assert_output_has "WSGIScriptAlias /pkg /srv/web/app.wsgi process-group=pyshare-imgd application-group=%{GLOBAL}"
        printf '[App]\nWSGIScript=srv/web/app.wsgi\n' >"$IMG/usr-pkg/imgd.conf"
        run "$PYSHARE" --root="$IMG" --dry-run setup imgd --from=/usr-pkg/imgd.conf
        assert_status 65
        assert_output_has "WSGIScript"
        drop_image
}

@test "when Apache's configtest fails, setup puts its conf back: Apache's configuration is byte-identical, the test's output is shown" {
        require_cmd apache2ctl
        printf 'ThisIsNotADirective on\n' >/etc/apache2/conf-enabled/zz-pst-broken.conf
        before=$(snapshot /etc/apache2)
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/app.wsgi" --no-probe
        assert_status 1
        assert_output_has "Apache's configuration test failed with /etc/apache2/conf-available/pyshare-$APP.conf, so it was put back as it was and Apache's configuration is unchanged; fix what the test names and run pyshare setup again:"
        assert_output_has "Invalid command 'ThisIsNotADirective'"
        [ "$before" = "$(snapshot /etc/apache2)" ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
        rm -f /etc/apache2/conf-enabled/zz-pst-broken.conf
        # Fixed: the test passes, the conf stays, the app is not in the merged PYTHONPATH.
        run "$PYSHARE" --json setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/app.wsgi" --no-probe
        assert_status 0
        assert_output_has '"configtest":"passed"'
        apache2ctl configtest
        grep -qx "WSGIScriptAlias /$APP $SCRIPT_DIR/app.wsgi process-group=pyshare-$APP application-group=%{GLOBAL}" \
                "/etc/apache2/conf-available/pyshare-$APP.conf"
        if [ -e /etc/pyshare/services/apache2.service.env ]; then
                run grep -c "/opt/pyshare/$APP" /etc/pyshare/services/apache2.service.env
                [ "$output" = 0 ]
        fi
        # Only Apache's conf changes (another URL): the hint names the configuration, not the environment.
        run "$PYSHARE" setup "$APP" --group="$DEPLOY_GROUP" --wsgi-script="$SCRIPT_DIR/app.wsgi" --url=/pst-other --no-probe
        assert_status 0
        assert_output_has "restart apache2.service when it runs, to give it the new configuration (systemctl restart apache2.service)"
        [[ "$output" != *"new environment"* ]]
        run "$PYSHARE" remove "$APP" --purge
        assert_status 0
        assert_output_has "removed /etc/apache2/conf-enabled/pyshare-$APP.conf"
        [ ! -e "/etc/apache2/conf-available/pyshare-$APP.conf" ]
}

@test "a venv pyshare did not create is refused without --adopt; --adopt checks its Python, lists the changes and marks it adopted" {
        v=/opt/pyshare/pst-wsgid-shared
        mkdir -p /opt/pyshare
        /usr/bin/python3 -m venv --without-pip "$v"
        chown -R "$DEPLOYER" "$v"
        before=$(snapshot "$v" /etc/pyshare)
        run ps_setup pst-wsgid-shared --no-probe
        assert_status 73
        assert_output_has "$v is a virtualenv that pyshare did not create: pass --adopt to take it over (its owner, group, modes and ACLs change; remove --purge leaves its files), or choose another app name or --prefix"
        [ "$before" = "$(snapshot "$v" /etc/pyshare)" ]
        run "$PYSHARE" --dry-run setup pst-wsgid-shared --service="$UNIT" --group="$DEPLOY_GROUP" --adopt
        assert_status 0
        assert_output_has "would adopt $v (made with /usr/bin): write its marker .pyshare-complete saying so (remove --purge then leaves its files), set its owner root:$DEPLOY_GROUP, set-gid directories, modes and ACLs (below)"
        assert_output_has "permissions: "
        [ "$before" = "$(snapshot "$v" /etc/pyshare)" ]
        sed -i 's|^home = .*|home = /opt/other-python/bin|' "$v/pyvenv.cfg"
        run ps_setup pst-wsgid-shared --no-probe --adopt
        assert_status 65
        assert_output_has "$v was made with the Python in /opt/other-python/bin (pyvenv.cfg's home), not /usr/bin/python3: pass --python=/opt/other-python/bin/python3 to adopt it, or move it away and let setup create one"
        sed -i 's|^home = .*|home = /usr/bin|' "$v/pyvenv.cfg"
        run ps_setup pst-wsgid-shared --no-probe --adopt
        assert_status 0
        assert_output_has "adopted the existing virtualenv $v"
        [ "$(cat "$v/.pyshare-complete")" = "pyshare: adopted an existing virtualenv." ]
        [ "$(stat -c %U:%G "$v")" = "root:$DEPLOY_GROUP" ]
        run "$PYSHARE" remove pst-wsgid-shared --purge
        assert_status 0
        [ -d "$v/bin" ]
        rm -rf "$v"
}

@test "two apps of one service with one import name in two versions: setup and status name the conflict, the winner and the fix; the loser's probe names the other app" {
        local u=pst-wsgid.service w=/var/tmp/pst-wsgid-wheels
        make_unit "$u"
        rm -rf "$w" && mkdir -p "$w"
        for v in 1.0 2.0; do
                /usr/bin/python3 "$REPO/tests/system/lib/mkwheel.py" --out "$w" --name pstconf --version "$v" \
                        --module "pstconf/__init__.py=__version__ = '$v'" >/dev/null
        done
        chmod -R a+rX "$w"
        for app in pst-wsgid-c1 pst-wsgid-c2; do
                "$PYSHARE" setup "$app" --service="$u" --group="$DEPLOY_GROUP" --module=pstconf --no-probe >/dev/null
        done
        deployer_install pst-wsgid-c1 022 "$w/pstconf-1.0-py3-none-any.whl"
        deployer_install pst-wsgid-c2 022 "$w/pstconf-2.0-py3-none-any.whl"
        msg="import name pstconf is provided by pst-wsgid-c1 (pstconf 1.0) and pst-wsgid-c2 (pstconf 2.0): $u imports pst-wsgid-c1's pstconf 1.0 for all of them (first in its PYTHONPATH); wire pst-wsgid-c2 in a mod_wsgi daemon process of its own: pyshare setup pst-wsgid-c2 --wsgi-script=PATH"
        run "$PYSHARE" setup pst-wsgid-c2 --service="$u" --group="$DEPLOY_GROUP" --module=pstconf
        assert_status 1
        assert_output_has "conflict: $msg"
        assert_output_has "imported from the venv of the app pst-wsgid-c1 ($(site_of pst-wsgid-c1)/pstconf/__init__.py), not from pst-wsgid-c2's own"
        run "$PYSHARE" status pst-wsgid-c2
        assert_status 1
        assert_output_has "  problem: conflict: $msg"
        run "$PYSHARE" --json status pst-wsgid-c1
        assert_status 1
        assert_output_has '"conflicts":[{"cause":"conflict","name":"pstconf","imported":"pst-wsgid-c1","providers":[{"app":"pst-wsgid-c1","distribution":"pstconf","version":"1.0","daemon":false},{"app":"pst-wsgid-c2","distribution":"pstconf","version":"2.0","daemon":false}]'
        # The same version in both: a note, not a problem.
        deployer_install pst-wsgid-c2 022 "--force-reinstall $w/pstconf-1.0-py3-none-any.whl"
        "$PYSHARE" repair pst-wsgid-c2 >/dev/null
        run "$PYSHARE" status pst-wsgid-c2
        assert_output_has "  note: same version: import name pstconf is provided by pst-wsgid-c1 (pstconf 1.0) and pst-wsgid-c2 (pstconf 1.0)"
        [[ "$output" != *"problem: conflict"* ]]
        cleanup_app pst-wsgid-c1 pst-wsgid-c2
        rm -f "/etc/systemd/system/$u"
        rm -rf "$w"
}

@test "a WSGI script directly in a system directory (/, /etc, /tmp, ...) is refused: the conf would grant all of it" {
        require_cmd apache2ctl
        make_apache_image
        echo 'def application(e, s): pass' >"$IMG/app.wsgi"
        echo 'def application(e, s): pass' >"$IMG/etc/app.wsgi"
        before=$(snapshot "$IMG/etc" "$IMG/opt")
        run "$PYSHARE" --root="$IMG" setup imgd --user=imgsvc --group=imgdeploy --wsgi-script=/app.wsgi
        assert_status 65
        assert_output_has "WSGI script $IMG/app.wsgi is directly in /: the conf's <Directory /> would grant every client all of /; put the script in a directory of the app's own (/usr/share/imgd, /var/www/imgd) and give that path with --wsgi-script=PATH"
        run "$PYSHARE" --root="$IMG" setup imgd --user=imgsvc --group=imgdeploy --wsgi-script=/etc/app.wsgi
        assert_status 65
        assert_output_has "is directly in /etc: the conf's <Directory /etc> would grant every client all of /etc"
        [ "$before" = "$(snapshot "$IMG/etc" "$IMG/opt")" ]
        # The same from a package's settings.
        mkdir -p "$IMG/usr-pkg"
        printf '[App]\nUser=imgsvc\nGroup=imgdeploy\nWSGIScript=/app.wsgi\n' >"$IMG/usr-pkg/imgd.conf"
        run "$PYSHARE" --root="$IMG" setup imgd --from=/usr-pkg/imgd.conf
        assert_status 65
        assert_output_has "is directly in /: the conf's <Directory /> would grant every client all of /"
        [ "$before" = "$(snapshot "$IMG/etc" "$IMG/opt")" ]
        drop_image
}
