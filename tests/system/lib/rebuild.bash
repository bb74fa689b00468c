# shellcheck shell=bash
# The aged venv of the rebuild tests (62-rebuild, 63-ansible-rebuild): an app set up by this
# host's Python with pstest_pure, pstest_cext and pstest_cli (a console script), then aged by
# helpers.bash's age_venv into a 3.9 venv, as a dist-upgrade leaves it. The test file sets
# $APP, $RUNIT and $RWHEELS and loads helpers first.

# setup_file, teardown_file and setup of such a test file.
rebuild_setup_file() {
        fixtures
        make_unit "$RUNIT"
        rebuild_wheels
}

# The wheels in $RWHEELS: the fixtures' pstest_pure and pstest_cext, and pstest_cli.
rebuild_wheels() {
        rm -rf "$RWHEELS"
        mkdir -p "$RWHEELS"
        /usr/bin/python3 "$REPO/tests/system/lib/mkwheel.py" --out "$RWHEELS" --name pstest_cli --version 1.0 \
                --module "pstest_cli/__init__.py=def main():\n    print('pstest-cli ok')" \
                --script pstest-cli=pstest_cli:main >/dev/null
        cp "$WHEELS"/pstest_pure-*.whl "$WHEELS"/pstest_cext-*.whl "$RWHEELS"/
        chmod -R a+rX "$RWHEELS"
}

rebuild_teardown_file() {
        cleanup_app "$APP"
        rm -rf /opt/pyshare/"$APP".pre-rebuild-* "$RWHEELS"
        rm -f "/etc/systemd/system/$RUNIT" "/etc/pyshare/services/$RUNIT.env"
        rm -rf "/etc/systemd/system/$RUNIT.d"
}

rebuild_setup() {
        cleanup_app "$APP"
        rm -rf /opt/pyshare/"$APP".pre-rebuild-* /opt/pyshare/."$APP".pyshare-*
}

old_venv() {
        "$PYSHARE" setup "$APP" --service="$RUNIT" --group="$DEPLOY_GROUP" --no-probe >/dev/null
        runuser -u "$DEPLOYER" -- env -i PATH=/usr/bin:/bin HOME=/tmp sh -c \
                "/opt/pyshare/$APP/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check --find-links $RWHEELS pstest_pure pstest_cext pstest_cli"
        "$PYSHARE" repair "$APP" >/dev/null
        age_venv "$APP"
        sed -i "1s|.*|#!/usr/bin/python3.9|" "/opt/pyshare/$APP/bin/pstest-cli"
}

MISMATCH_TEXT() {
        echo "/opt/pyshare/$APP was built by Python 3.9 (pyvenv.cfg says version = 3.9.2; it has lib/python3.9; its extension modules are built for Python 3.9; bin/python leads to /usr/bin/python3.9, which does not exist), but the app's Python /usr/bin/python3 (/usr/bin/python$PYVER) is Python $PYVER: run \`pyshare rebuild $APP\`"
}
