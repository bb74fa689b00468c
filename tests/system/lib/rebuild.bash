# shellcheck shell=bash
# The aged venv of the rebuild tests (62-rebuild, 63-ansible-rebuild): an app set up by this
# host's Python with pstest_pure, pstest_cext and pstest_cli (a console script), then made to
# look as a 3.9 venv does (pyvenv.cfg, lib/python3.9, cpython-39 extension modules, bin/python
# leading to a /usr/bin/python3.9 that is not installed), as a dist-upgrade leaves a venv behind.
# Uses $APP, $RUNIT and $RWHEELS of the test file, and helpers.bash's fixtures.

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

old_venv() {
        "$PYSHARE" setup "$APP" --service="$RUNIT" --group="$DEPLOY_GROUP" --no-probe >/dev/null
        runuser -u "$DEPLOYER" -- env -i PATH=/usr/bin:/bin HOME=/tmp sh -c \
                "/opt/pyshare/$APP/bin/pip install --quiet --no-index --no-cache-dir --disable-pip-version-check --find-links $RWHEELS pstest_pure pstest_cext pstest_cli"
        "$PYSHARE" repair "$APP" >/dev/null
        local v=/opt/pyshare/$APP tag
        tag=$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
        sed -i 's/^version = .*/version = 3.9.2/' "$v/pyvenv.cfg"
        mv "$v/lib/python$PYVER" "$v/lib/python3.9"
        for so in "$v"/lib/python3.9/site-packages/*.cpython-"$tag"-*.so; do
                mv "$so" "${so/cpython-$tag-/cpython-39-}"
        done
        ln -sfn /usr/bin/python3.9 "$v/bin/python3"
        sed -i "1s|.*|#!/usr/bin/python3.9|" "$v/bin/pstest-cli"
}

MISMATCH_TEXT() {
        echo "/opt/pyshare/$APP was built by Python 3.9 (pyvenv.cfg says version = 3.9.2; it has lib/python3.9; its extension modules are built for Python 3.9; bin/python leads to /usr/bin/python3.9, which does not exist), but the app's Python /usr/bin/python3 (/usr/bin/python$PYVER) is Python $PYVER: run \`pyshare rebuild $APP\`"
}
