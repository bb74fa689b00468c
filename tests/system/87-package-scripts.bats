#!/usr/bin/env bats
# An app package built with dh_pyshare calls the hook that pyshare's package installs once
# (/usr/share/pyshare/pyshare-app-hook) instead of carrying copies of it; its postrm keeps only
# the purge fallback for when pyshare was removed first, which (like the hook's purge) deletes a
# venv only when pyshare's marker says that pyshare created it (issue 10, finding 9).
load helpers
APP=pst-fb
PKGDIR=/var/tmp/pst-fb-pkg
# tests/pkg's daemon-wired variant (build-myapp --daemon), and an app that shares apache2's
# PYTHONPATH beside it.
DAPP=myapp-daemon
DPKG=/var/tmp/pst-fb-daemon
SHARED=pst-fb-shared
AVAIL=/etc/apache2/conf-available/pyshare-$DAPP.conf
ENABLED=/etc/apache2/conf-enabled/pyshare-$DAPP.conf

setup_file() {
        fixtures
        require_cmd dpkg-buildpackage dh unshare
        cleanup_app "$APP"
        rm -rf "$PKGDIR" /var/tmp/pst-fb-prefix /var/tmp/pst-fb-target /var/lib/pyshare/hook/$APP
        # The smallest app package: /usr/lib/pyshare/pst-fb.conf and dh-sequence-pyshare.
        local src=$PKGDIR/src
        mkdir -p "$src/debian/source"
        printf '[App]\nService=pst-fb.service\nModule=json\n' >"$src/$APP.conf"
        cat >"$src/debian/control" <<'EOF'
Source: pst-fb
Section: web
Priority: optional
Maintainer: pyshare developers <maintainers@users.noreply.r-seed-a9294fbf.example>
Build-Depends: debhelper-compat (= 13), dh-sequence-pyshare,
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: pst-fb
Architecture: all
Depends: ${misc:Depends},
Description: test app for pyshare's package scripts
 A test package.
EOF
        printf 'pst-fb (1.0) unstable; urgency=medium\n\n  * Test.\n\n -- pyshare developers <maintainers@users.noreply.r-seed-a9294fbf.example>  Wed, 25 Nov 2026 00:00:00 +0000\n' \
                >"$src/debian/changelog"
        printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' >"$src/debian/rules"
        chmod +x "$src/debian/rules"
        echo "3.0 (native)" >"$src/debian/source/format"
        echo "$APP.conf usr/lib/pyshare" >"$src/debian/pst-fb.install"
        cp "$REPO/debian/copyright" "$src/debian/"
        (cd "$src" && PATH="$REPO/scripts:$PATH" PERL5LIB="$REPO/scripts/debhelper" \
                dpkg-buildpackage -us -uc -b -d >"$PKGDIR/build.log" 2>&1) ||
                { tail -n 30 "$PKGDIR/build.log" >&2; return 1; }
        dpkg-deb -e "$PKGDIR"/pst-fb_1.0_all.deb "$PKGDIR/ctl"
}

teardown_file() {
        cleanup_app "$APP" "$DAPP" "$SHARED"
        rm -rf "$PKGDIR" /var/tmp/pst-fb-prefix /var/tmp/pst-fb-target /var/lib/pyshare/hook/$APP \
                "$DPKG" /var/lib/pyshare/hook/$DAPP "$AVAIL" "$ENABLED"
        rmdir /var/lib/pyshare/hook /var/lib/pyshare 2>/dev/null || true
        rm -f /etc/pyshare/services/pst-fb.service.env
        rm -rf /etc/systemd/system/pst-fb.service.d
}

# The package's postrm as dpkg runs it on purge, with pyshare (and its hook) gone: an empty
# tmpfs over /usr/share/pyshare in a mount namespace of its own.
postrm_without_pyshare() {
        unshare --mount --propagation private -- /bin/sh -c '
                [ ! -d /usr/share/pyshare ] || mount -t tmpfs tmpfs /usr/share/pyshare
                exec /bin/sh -e "$1" purge' sh "$PKGDIR/ctl/postrm"
}

# as_installed CMD...: CMD in a mount namespace of its own whose /usr shows myapp-daemon's files
# and the hook where pyshare's package puts it (/usr/share/pyshare/pyshare-app-hook) over the
# host's, as after `dpkg -i`; without the hook with --no-hook (pyshare removed first). The
# host's /usr gets none of them.
as_installed() {
        local root=$DPKG/root
        if [ "$1" = --no-hook ]; then
                root=$DPKG/root-nohook
                shift
        fi
        unshare --mount --propagation private -- /bin/sh -ec '
                mount -t overlay overlay -o "lowerdir=$1/usr:/usr" /usr
                [ -e "$1/usr/share/pyshare" ] || [ ! -d /usr/share/pyshare ] || mount -t tmpfs tmpfs /usr/share/pyshare
                shift
                exec env PATH="$0:$PATH" "$@"' "$(dirname "$PYSHARE")" "$root" "$@"
}

# A venv as pyshare leaves one: a root-owned top directory with pyvenv.cfg and the marker.
fake_venv() { # DIR MARKER-TEXT
        mkdir -p "$1/lib"
        touch "$1/pyvenv.cfg" "$1/lib/keep"
        printf '%s\n' "$2" >"$1/.pyshare-complete"
}
CREATED="pyshare: this virtualenv was created completely."
ADOPTED="pyshare: adopted an existing virtualenv."

@test "dh_pyshare: postinst and prerm call the installed hook, postrm calls it or the fallback; no copy of the hook" {
        ctl=$PKGDIR/ctl
        grep -qxF "/usr/share/pyshare/pyshare-app-hook postinst $APP \"\$@\"" "$ctl/postinst"
        grep -qxF "	/usr/share/pyshare/pyshare-app-hook prerm $APP \"\$@\"" "$ctl/prerm"
        grep -qxF "if [ -x /usr/share/pyshare/pyshare-app-hook ]; then" "$ctl/postrm"
        grep -qxF "	/usr/share/pyshare/pyshare-app-hook postrm $APP \"\$@\"" "$ctl/postrm"
        grep -qxF "	pyshare_purge_leftovers $APP" "$ctl/postrm"
        ! grep -q 'pyshare_app_hook' "$ctl/postinst" "$ctl/prerm" "$ctl/postrm" || false
        [ "$(stat -c %s "$ctl/postinst")" -lt 512 ]
        [ "$(stat -c %s "$ctl/prerm")" -lt 512 ]
        [ "$(stat -c %s "$ctl/postrm")" -lt 6144 ]
        sh -n "$ctl/postrm"
}

@test "postrm purge without pyshare: the app's files and the venv pyshare created go; another app's services file stays" {
        make_unit pst-fb.service
        run "$PYSHARE" setup "$APP" --service=pst-fb.service --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        [ -f /etc/pyshare/services/pst-fb.service.env ]
        run postrm_without_pyshare
        assert_status 0
        assert_output_has "pyshare: removed /etc/pyshare/$APP.conf"
        assert_output_has "pyshare: removed /etc/pyshare/services/pst-fb.service.env"
        assert_output_has "pyshare: deleted the virtualenv /opt/pyshare/$APP"
        [ ! -e /opt/pyshare/$APP ]
        [ ! -e /etc/pyshare/$APP.conf ] && [ ! -e /etc/pyshare/$APP.env ] && [ ! -e /etc/tmpfiles.d/pyshare-$APP.conf ]
        [ ! -e /etc/systemd/system/pst-fb.service.d/50-pyshare.conf ]
        rm -f /etc/systemd/system/pst-fb.service
}

@test "postrm purge without pyshare: an adopted venv, a marker not root's, a wrong text or a symlinked venv are left" {
        fake_venv /opt/pyshare/$APP "$ADOPTED"
        run postrm_without_pyshare
        assert_status 0
        assert_output_has "pyshare: left /opt/pyshare/$APP: pyshare adopted it rather than created it, so its files stay"
        [ -f /opt/pyshare/$APP/lib/keep ]

        printf '%s\n' "$CREATED" >/opt/pyshare/$APP/.pyshare-complete
        chown "$DEPLOYER" /opt/pyshare/$APP/.pyshare-complete
        run postrm_without_pyshare
        assert_output_has "pyshare: warning: left /opt/pyshare/$APP: it has no root-owned marker .pyshare-complete saying that pyshare created it"
        [ -f /opt/pyshare/$APP/lib/keep ]

        chown root /opt/pyshare/$APP/.pyshare-complete
        printf 'pyshare: something else\n' >/opt/pyshare/$APP/.pyshare-complete
        run postrm_without_pyshare
        assert_output_has "pyshare: warning: left /opt/pyshare/$APP: it has no root-owned marker"
        [ -f /opt/pyshare/$APP/lib/keep ]

        chown "$DEPLOYER" /opt/pyshare/$APP
        printf '%s\n' "$CREATED" >/opt/pyshare/$APP/.pyshare-complete
        run postrm_without_pyshare
        assert_output_has "pyshare: warning: left /opt/pyshare/$APP: not a root-owned directory at /opt/pyshare/$APP"
        [ -f /opt/pyshare/$APP/lib/keep ]
        rm -rf /opt/pyshare/$APP

        fake_venv /var/tmp/pst-fb-target "$CREATED"
        ln -s /var/tmp/pst-fb-target /opt/pyshare/$APP
        run postrm_without_pyshare
        assert_output_has "pyshare: warning: left /opt/pyshare/$APP: not a root-owned directory at /opt/pyshare/$APP (a symbolic link on the way"
        [ -f /var/tmp/pst-fb-target/lib/keep ]
        rm -f /opt/pyshare/$APP
}

@test "postrm purge without pyshare: only the venv under the app's configured prefix is deleted" {
        mkdir -p /var/tmp/pst-fb-prefix
        fake_venv /var/tmp/pst-fb-prefix/$APP "$CREATED"
        fake_venv /opt/pyshare/$APP "$CREATED"
        printf '[App]\nPrefix=/var/tmp/pst-fb-prefix\n' >/etc/pyshare/$APP.conf
        run postrm_without_pyshare
        assert_status 0
        assert_output_has "pyshare: deleted the virtualenv /var/tmp/pst-fb-prefix/$APP"
        [ ! -e /var/tmp/pst-fb-prefix/$APP ]
        [ -f /opt/pyshare/$APP/lib/keep ]
        rm -rf /opt/pyshare/$APP
}

@test "the hook's own purge (pyshare installed) leaves an adopted venv's files too" {
        fake_venv /opt/pyshare/$APP "$ADOPTED"
        run env PATH="$(dirname "$PYSHARE"):$PATH" "$REPO/scripts/pyshare-app-hook" postrm "$APP" purge
        assert_status 0
        assert_output_has "pyshare: left /opt/pyshare/$APP: pyshare adopted it rather than created it, so its files stay"
        [ -f /opt/pyshare/$APP/lib/keep ]
        printf '%s\n' "$CREATED" >/opt/pyshare/$APP/.pyshare-complete
        run env PATH="$(dirname "$PYSHARE"):$PATH" "$REPO/scripts/pyshare-app-hook" postrm "$APP" purge
        assert_status 0
        assert_output_has "pyshare: deleted the virtualenv /opt/pyshare/$APP"
        [ ! -e /opt/pyshare/$APP ]
}

@test "tests/pkg's daemon-wired variant: build-myapp --daemon builds myapp-daemon with dh_pyshare, lintian-clean, WSGIScript= and URL= in its APP.conf" {
        require_cmd lintian
        rm -rf "$DPKG"
        mkdir -p "$DPKG"
        python3 "$REPO/tests/pkg/pack-wheels" --out "$DPKG/wheels" numpy Flask Werkzeug Jinja2 MarkupSafe itsdangerous click >/dev/null
        # myapp too: lintian reads the postrm, which carries the hook's purge fallback.
        run "$REPO/tests/pkg/build-myapp" --lintian --wheels "$DPKG/wheels" --out "$DPKG/debs"
        assert_status 0
        run "$REPO/tests/pkg/build-myapp" --daemon --lintian --wheels "$DPKG/wheels" --out "$DPKG/debs"
        assert_status 0
        deb=$DPKG/debs/${DAPP}_1.0_$(dpkg --print-architecture).deb
        [ "${lines[-1]}" = "$deb" ]
        dpkg-deb -x "$deb" "$DPKG/root"
        dpkg-deb -x "$deb" "$DPKG/root-nohook"
        dpkg-deb -e "$deb" "$DPKG/ctl"
        grep -qx "WSGIScript=/usr/share/$DAPP/wsgi.py" "$DPKG/root/usr/lib/pyshare/$DAPP.conf"
        grep -qx "URL=/$DAPP" "$DPKG/root/usr/lib/pyshare/$DAPP.conf"
        # pyshare writes the Apache conf: the package ships none, and its scripts are dh_pyshare's alone.
        [ ! -e "$DPKG/root/etc" ]
        grep -qxF "/usr/share/pyshare/pyshare-app-hook postinst $DAPP \"\$@\"" "$DPKG/ctl/postinst"
        ! grep -q 'apache2_invoke' "$DPKG/ctl/postinst" "$DPKG/ctl/postrm" || false
        install -D -m 0755 "$REPO/scripts/pyshare-app-hook" "$DPKG/root/usr/share/pyshare/pyshare-app-hook"
}

@test "myapp-daemon's postinst wires a mod_wsgi daemon process: the conf enabled, Apache's configtest passes, not in apache2's merged PYTHONPATH" {
        require_cmd apache2ctl
        [ -f "$DPKG/ctl/postinst" ]
        run "$PYSHARE" setup "$SHARED" --service=apache2.service --group="$DEPLOY_GROUP" --module=json --no-probe
        assert_status 0
        run as_installed /bin/sh -e "$DPKG/ctl/postinst" configure
        assert_status 0
        assert_output_has "enabled $ENABLED (a2enconf pyshare-$DAPP)"
        assert_output_has "ok    numpy "
        assert_output_has "ok    myapp_web 1.0"
        # The probe judged the daemon process, not the service's model, and says so (it used to
        # claim that apache2's unit could not be read and that apache2 did not run).
        assert_output_has "probe $DAPP as www-data (daemon Python $PYVER."
        assert_output_has ", environment of what apache2.service passes its daemon processes, "
        assert_output_has "  next start: ok (the daemon process as Apache's configuration defines it)"
        assert_output_has "  now: not judged: a daemon process runs with the configuration Apache read at its last start or reload"
        [[ "$output" != *"the unit could not be read"* && "$output" != *"judged its next start only"* ]]
        grep -qx "WSGIDaemonProcess pyshare-$DAPP python-home=/opt/pyshare/$DAPP user=www-data group=www-data lang=C.UTF-8 locale=C.UTF-8 display-name=%{GROUP}" "$AVAIL"
        grep -qx "WSGIScriptAlias /$DAPP /usr/share/$DAPP/wsgi.py process-group=pyshare-$DAPP application-group=%{GLOBAL}" "$AVAIL"
        [ "$(readlink "$ENABLED")" = "../conf-available/pyshare-$DAPP.conf" ]
        as_installed apache2ctl configtest
        # The package's settings stay the package's: /etc holds none of them.
        ! grep -qE '^(WSGIScript|URL|Module|Service)=' "/etc/pyshare/$DAPP.conf" || false
        grep -qx "venv=/opt/pyshare/$DAPP" "/var/lib/pyshare/hook/$DAPP"
        [ "$(stat -c %U "$(site_of "$DAPP")/numpy/__init__.py")" = _pyshare ]
        # apache2's merged PYTHONPATH has the shared app, not the daemon-wired one.
        grep -Eq "^# Written by pyshare for apache2.service; apps: (.*, )?$SHARED(, .*)?\.$" /etc/pyshare/services/apache2.service.env
        grep -q "/opt/pyshare/$SHARED/" /etc/pyshare/services/apache2.service.env
        ! grep -q "/opt/pyshare/$DAPP" /etc/pyshare/services/apache2.service.env || false
        run as_installed "$PYSHARE" status "$DAPP"
        assert_status 0
        run as_installed "$PYSHARE" --json probe "$DAPP"
        assert_status 0
        assert_output_has '"mode":"daemon"'
        assert_output_has '"next_start":{"ok":true,"from":"apache"},"now":{"judged":false,"running":null,"ok":null,"probed":false}'
}

@test "myapp-daemon's prerm remove takes the conf and its link away (the venv stays); postrm purge deletes the venv" {
        [ -f "$DPKG/ctl/prerm" ]
        run as_installed /bin/sh -e "$DPKG/ctl/prerm" remove
        assert_status 0
        [ ! -e "$AVAIL" ] && [ ! -L "$ENABLED" ]
        as_installed apache2ctl configtest
        [ -x "/opt/pyshare/$DAPP/bin/python" ]
        run as_installed /bin/sh -e "$DPKG/ctl/postrm" purge
        assert_status 0
        assert_output_has "pyshare: deleted the virtualenv /opt/pyshare/$DAPP"
        [ ! -e "/opt/pyshare/$DAPP" ] && [ ! -e "/var/lib/pyshare/hook/$DAPP" ]
        # Purged while still set up: the hook's `pyshare remove --purge` takes the conf away too.
        run as_installed /bin/sh -e "$DPKG/ctl/postinst" configure
        assert_status 0
        [ -L "$ENABLED" ]
        run as_installed /bin/sh -e "$DPKG/ctl/postrm" purge
        assert_status 0
        [ ! -e "$AVAIL" ] && [ ! -L "$ENABLED" ] && [ ! -e "/opt/pyshare/$DAPP" ] && [ ! -e "/etc/pyshare/$DAPP.conf" ]
        ! grep -qs "$DAPP" /etc/pyshare/services/apache2.service.env || false
}

@test "myapp-daemon's postrm purge without pyshare: the fallback removes the daemon conf and its link too" {
        [ -f "$DPKG/ctl/postrm" ]
        run as_installed /bin/sh -e "$DPKG/ctl/postinst" configure
        assert_status 0
        [ -L "$ENABLED" ]
        run as_installed --no-hook /bin/sh -e "$DPKG/ctl/postrm" purge
        assert_status 0
        assert_output_has "pyshare: removed $ENABLED"
        assert_output_has "pyshare: removed $AVAIL"
        assert_output_has "pyshare: reload Apache to stop the daemon process of $DAPP"
        assert_output_has "pyshare: deleted the virtualenv /opt/pyshare/$DAPP"
        [ ! -e "$AVAIL" ] && [ ! -L "$ENABLED" ] && [ ! -e "/etc/pyshare/$DAPP.conf" ]
        apache2ctl configtest
        "$PYSHARE" remove "$SHARED" --purge >/dev/null
}
