# Shared by the system tests: real users, groups, venvs and ACLs on this host, as root.
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PYSHARE=${PYSHARE:-$REPO/pyshare}
SVC_USER=pst_svc
DEPLOY_GROUP=pst_deploy
DEPLOYER=pst_deployer
UNIT=pst-web.service
WHEELS=/var/tmp/pyshare-tests/wheels
PYVER=$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

# A test that cannot run here is skipped with the reason; under CI=true that is a failure.
skip_or_fail() {
        if [ "${CI:-}" = true ]; then
                echo "cannot run here, and CI may not skip: $*" >&2
                return 1
        fi
        skip "$*"
}

require_root() {
        [ "$(id -u)" = 0 ] || skip_or_fail "needs root"
}

require_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null || skip_or_fail "needs $c"
        done
}

fixtures() {
        require_root
        getent group "$DEPLOY_GROUP" >/dev/null || groupadd --system "$DEPLOY_GROUP"
        id "$SVC_USER" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin "$SVC_USER"
        id "$DEPLOYER" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh --groups "$DEPLOY_GROUP" "$DEPLOYER"
        if [ ! -f "/etc/systemd/system/$UNIT" ]; then
                mkdir -p /etc/systemd/system
                printf '[Unit]\nDescription=pyshare test service\n[Service]\nUser=%s\nExecStart=/bin/true\n' \
                        "$SVC_USER" >"/etc/systemd/system/$UNIT"
        fi
        build_wheels
}

# A unit of its own for a test file, so that other apps never share its EnvironmentFile.
make_unit() {
        printf '[Unit]\nDescription=pyshare test service\n[Service]\nUser=%s\nExecStart=/bin/true\n' \
                "$SVC_USER" >"/etc/systemd/system/$1"
}

# The tests' own packages, so that a system-wide copy can never make a test pass.
build_wheels() {
        [ -f "$WHEELS/.done" ] && return 0
        rm -rf "$WHEELS"
        mkdir -p "$WHEELS"
        local mk="/usr/bin/python3 $REPO/tests/system/lib/mkwheel.py --out $WHEELS"
        $mk --name pstest_pure --version 1.0 \
                --module "pstest_pure/__init__.py=__version__ = '1.0'" \
                --module "pstest_pure/sub.py=VALUE = 42" >/dev/null
        $mk --name pstest_cext --version 2.0 --ext "pstest_cext=$REPO/tests/system/lib/pstest_cext.c" >/dev/null
        # Importable only through its .pth path line: PYTHONPATH must carry that directory.
        $mk --name pstest_pth --version 3.0 --data "pstest_pth.pth=pstest_pth_src" \
                --module "pstest_pth_src/pstest_pthmod.py=__version__ = '3.0'" >/dev/null
        chmod -R a+rX /var/tmp/pyshare-tests
        touch "$WHEELS/.done"
}

# pyshare setup for the test service, without the probe unless asked.
ps_setup() {
        local app=$1
        shift
        "$PYSHARE" setup "$app" --service="$UNIT" --group="$DEPLOY_GROUP" "$@"
}

venv_of() { echo "/opt/pyshare/$1"; }
site_of() { echo "/opt/pyshare/$1/lib/python$PYVER/site-packages"; }

# pip install as a member of the deploy group (never as root), with the given umask.
deployer_install() {
        local app=$1 mask=$2
        shift 2
        runuser -u "$DEPLOYER" -- env -i PATH=/usr/bin:/bin HOME=/tmp sh -c \
                "umask $mask && /opt/pyshare/$app/bin/pip install --quiet --no-index --no-deps --no-cache-dir --disable-pip-version-check $*"
}

wheel() { ls "$WHEELS"/"$1"-*.whl; }

cleanup_app() {
        local app
        for app in "$@"; do
                if [ -e "/etc/pyshare/$app.conf" ]; then
                        "$PYSHARE" remove "$app" --purge >/dev/null 2>&1 || echo "cleanup of $app failed" >&2
                fi
                rm -rf "/opt/pyshare/$app" "/etc/pyshare/$app.conf" "/etc/pyshare/$app.env" \
                        "/etc/tmpfiles.d/pyshare-$app.conf"
        done
}

# Everything that identifies a tree's state: paths, types, owners, modes, sizes, content
# hashes and ACLs (access and default). Two equal snapshots mean an identical tree.
snapshot() {
        local d
        for d in "$@"; do
                [ -e "$d" ] || { echo "absent $d"; continue; }
                find "$d" -xdev -printf '%p %y %u:%g %m %s\n' 2>/dev/null | sort
                find "$d" -xdev -type f -exec sha256sum {} + 2>/dev/null | sort
                getfacl -R -p -s "$d" 2>/dev/null
        done
}

# Fails unless "$output" contains the text.
assert_output_has() {
        if [[ "$output" != *"$1"* ]]; then
                printf 'expected output to contain:\n  %s\ngot:\n%s\n' "$1" "$output" >&2
                return 1
        fi
}

assert_status() {
        if [ "$status" -ne "$1" ]; then
                printf 'expected exit status %s, got %s; output:\n%s\n' "$1" "$status" "$output" >&2
                return 1
        fi
}
