# Shared by the system tests: real users, groups, venvs and ACLs on this host, as root.
# bats sets $output and $status in each test.
# shellcheck disable=SC2154
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

# An app set up with the test wheels pstest_pure and pstest_cext, installed by the deployer with
# a closed umask, and the tree repaired: what the service would import.
ps_setup_installed() {
        ps_setup "$1" --no-probe >/dev/null
        deployer_install "$1" 077 "$(wheel pstest_pure) $(wheel pstest_cext)"
        "$PYSHARE" repair "$1" >/dev/null
}

# Whether the app demo on this machine is the one scripts/demo sets up (the README's first
# command leaves it): its only module is pyshare_demo, which the demo's deployer installed.
demo_is_scripts() {
        [ -f /etc/pyshare/demo.conf ] && [ -d /opt/pyshare/demo ] || return 1
        [ "$(grep '^Module=' /etc/pyshare/demo.conf)" = "Module=pyshare_demo" ] || return 1
        [ "$(stat -c %U "$(site_of demo)/pyshare_demo/__init__.py" 2>/dev/null)" = pyshare-demo ]
}

# age_venv APP: the app's venv made to look as a dist-upgrade leaves a venv of Python 3.9
# (issue 14): pyvenv.cfg, lib/python3.9, cpython-39 extension modules, bin/python3 leading to a
# /usr/bin/python3.9 that is not installed.
age_venv() {
        local v=/opt/pyshare/$1 tag so
        tag=$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
        sed -i 's/^version = .*/version = 3.9.2/' "$v/pyvenv.cfg"
        mv "$v/lib/python$PYVER" "$v/lib/python3.9"
        for so in "$v"/lib/python3.9/site-packages/*.cpython-"$tag"-*.so; do
                [ ! -e "$so" ] || mv "$so" "${so/cpython-$tag-/cpython-39-}"
        done
        ln -sfn /usr/bin/python3.9 "$v/bin/python3"
}

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

# ---- the adversarial suite (90-*.bats) ----------------------------------------------------
# Its own service user (in a group of its own, so that the probe's groups can be checked),
# canaries outside every tree, and compiled helpers from lib/adv.
ADV_SVC=pst_adv_svc
ADV_EXTRA_GROUP=pst_adv_extra
ADV_LIB=$REPO/tests/system/lib/adv
ADV_BIN=/var/tmp/pst-adv-bin
ADV_CANARY=/var/tmp/pst-adv-canary
ADV_CANARY_OPEN=/var/tmp/pst-adv-canary-open
SYSPY=/usr/bin/python3

adv_fixtures() {
        fixtures
        getent group "$ADV_EXTRA_GROUP" >/dev/null || groupadd --system "$ADV_EXTRA_GROUP"
        id "$ADV_SVC" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --groups "$ADV_EXTRA_GROUP" "$ADV_SVC"
        adv_canaries
        mkdir -p "$ADV_BIN"
        chmod 0755 "$ADV_BIN"
        adv_build guardwalk
}

# Root's things that no test may change: a 0700 directory (the target of planted symlinks and
# swaps) and a 0755 one whose files a deployer can hard-link to; files with and without ACLs.
# Made afresh for each file of tests, so that a damaged canary never becomes the reference.
adv_canaries() {
        rm -rf "$ADV_CANARY" "$ADV_CANARY_OPEN"
        mkdir -m 0700 "$ADV_CANARY"
        mkdir -m 0750 "$ADV_CANARY/sub"
        echo secret >"$ADV_CANARY/secret" && chmod 0600 "$ADV_CANARY/secret"
        echo shared >"$ADV_CANARY/shared" && chmod 0640 "$ADV_CANARY/shared"
        echo deep >"$ADV_CANARY/sub/deep" && chmod 0600 "$ADV_CANARY/sub/deep"
        setfacl -m u:nobody:r-- "$ADV_CANARY/shared"
        setfacl -d -m u:nobody:r-x "$ADV_CANARY/sub"
        mkdir -m 0755 "$ADV_CANARY_OPEN"
        echo secret >"$ADV_CANARY_OPEN/secret" && chmod 0600 "$ADV_CANARY_OPEN/secret"
        echo public >"$ADV_CANARY_OPEN/public" && chmod 0644 "$ADV_CANARY_OPEN/public"
        setfacl -m u:nobody:r-- "$ADV_CANARY_OPEN/secret"
}

# Owner, mode, ACLs and contents of what lies outside every tree, into the file $1: all of /etc
# and /root, and the canaries. Equal files before and after a test mean nothing outside changed.
# - /etc, every entry (lib/adv/treestate.py): type, owner, mode, link count, ACLs, inode, ctime,
#   sha256 of regular files. Left out: only what pyshare writes for the apps ($GUARD_APPS) and
#   units ($GUARD_UNITS) a test file names, and the times of the directories holding those
#   files (their owner, mode and ACLs stay guarded). Users, groups and unit files are made in
#   setup_file, outside the guarded span.
# - /root, every entry (lib/adv/guardwalk.c, on both cores: a quarter of a million entries):
#   type, owner, mode, link count, ACLs, inode and ctime, which any write, chmod, chown, ACL or
#   rename moves and nothing sets back; hashing its gigabytes of toolchains would take minutes.
guard_snapshot() {
        local dest=$1 skip=() untimed=() a u rc=0 pid
        for a in ${GUARD_APPS:-}; do
                skip+=("--skip=/etc/pyshare/$a.conf" "--skip=/etc/pyshare/$a.env" "--skip=/etc/tmpfiles.d/pyshare-$a.conf")
        done
        for u in ${GUARD_UNITS:-}; do
                skip+=("--skip=/etc/pyshare/services/$u.env" "--skip=/etc/systemd/system/$u.d"
                        "--skip=/etc/systemd/system/$u.d/50-pyshare.conf")
        done
        [ -z "${GUARD_APPS:-}" ] || untimed+=("--untimed=/etc/pyshare" "--untimed=/etc/tmpfiles.d")
        [ -z "${GUARD_UNITS:-}" ] || untimed+=("--untimed=/etc/pyshare/services" "--untimed=/etc/systemd/system")
        [ -x "$ADV_BIN/guardwalk" ] || { echo "guard: $ADV_BIN/guardwalk is not built (adv_fixtures)" >&2; return 1; }
        "$ADV_BIN/guardwalk" --shard 1/2 /root >"$dest.root1" &
        pid=$!
        {
                stat -c '%n %F %U:%G %a %i' / /opt /var/tmp &&
                        "$SYSPY" "$ADV_LIB/treestate.py" --content --times "${skip[@]}" "${untimed[@]}" /etc &&
                        "$ADV_BIN/guardwalk" --shard 0/2 /root
        } >"$dest" || rc=1
        wait "$pid" || rc=1
        cat "$dest.root1" >>"$dest" || rc=1
        rm -f "$dest.root1"
        "$SYSPY" "$ADV_LIB/treestate.py" --content "$ADV_CANARY" "$ADV_CANARY_OPEN" >>"$dest" || rc=1
        [ "$rc" = 0 ] || { echo "guard: the snapshot failed (see $dest)" >&2; return 1; }
}

guard_begin() {
        GUARD_BEFORE=$BATS_TEST_TMPDIR/guard.before
        guard_snapshot "$GUARD_BEFORE"
}

guard_check() {
        local now=$BATS_TEST_TMPDIR/guard.after
        guard_snapshot "$now" || return 1
        if ! cmp -s "$GUARD_BEFORE" "$now"; then
                echo "something outside the tree changed (< before, > after):" >&2
                diff "$GUARD_BEFORE" "$now" | head -n 200 >&2
                return 1
        fi
        rm -f "$GUARD_BEFORE" "$now"
}

adv_unit() {
        printf '[Unit]\nDescription=pyshare adversarial test service\n[Service]\nUser=%s\nExecStart=/bin/true\n' \
                "$ADV_SVC" >"/etc/systemd/system/$1"
}

# adv_setup APP UNIT [OPTION...]
adv_setup() {
        local app=$1 unit=$2
        shift 2
        "$PYSHARE" setup "$app" --service="$unit" --group="$DEPLOY_GROUP" "$@"
}

adv_cleanup() {
        local app
        for app in "$@"; do
                cleanup_app "$app"
                adv_unit_remove "$app.service"
        done
}

# adv_unit_remove UNIT: the unit file, its drop-ins and its service EnvironmentFile.
adv_unit_remove() {
        rm -f "/etc/systemd/system/$1" "/etc/pyshare/services/$1.env"
        rm -rf "/etc/systemd/system/$1.d"
}

# The start and end of the kill-point tests (94-adv-kill*): $APP and $AUNIT cleared, the unit
# made, an empty state directory $KSTATE for the driver; at the end all of it removed again
# ($KSTATE kept with PST_ADV_KEEP=1, to look at).
kill_setup_file() {
        require_cmd strace
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        rm -rf "$KSTATE" /opt/pyshare/."$APP".pyshare-*
        mkdir -p "$KSTATE" /opt/pyshare
}

kill_teardown_file() {
        adv_cleanup "$APP"
        rm -rf /opt/pyshare/."$APP".pyshare-*
        adv_unit_remove "$AUNIT"
        [ -n "${PST_ADV_KEEP:-}" ] || rm -rf "$KSTATE"
}

# Compiles lib/adv/NAME.c into $ADV_BIN/NAME (readable and runnable by the deployer).
adv_build() {
        cc -O1 -Wall -Wextra -o "$ADV_BIN/$1" "$ADV_LIB/$1.c"
}

# A command as the deployer: a member of the deploy group, nothing more.
as_deployer() {
        runuser -u "$DEPLOYER" -- env -i PATH=/usr/bin:/bin HOME=/tmp "$@"
}

# pyshare under strace: LeakSanitizer cannot run under ptrace.
strace_ps() {
        env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace "$@"
}

pyshare_is_asan() {
        grep -qa __asan_init "$PYSHARE"
}

# Whether a process ended by a signal (status > 128) or crashed: a failure, with the output.
assert_no_crash() {
        if [ "$status" -ge 128 ] || [[ "$output" == *"Sanitizer"* ]] || [[ "$output" == *"runtime error"* ]]; then
                printf 'crashed (status %s):\n%s\n' "$status" "$output" >&2
                return 1
        fi
}

# assert_same WHAT BEFORE AFTER: fails with a diff when the two states differ.
assert_same() {
        if [ "$2" != "$3" ]; then
                echo "$1 changed:" >&2
                diff <(echo "$2") <(echo "$3") >&2
                return 1
        fi
}

# What pyshare wrote for the adversarial apps and units (their names start with pst-adv):
# files, temporaries included, with owner, mode, ACLs and contents.
adv_etc_state() {
        local d
        for d in /etc/pyshare /etc/pyshare/services /etc/tmpfiles.d /etc/systemd/system; do
                [ -d "$d" ] || { echo "absent $d"; continue; }
                stat -c '%n %U:%G %a' "$d"
                find "$d" -mindepth 1 -maxdepth 1 -name '*pst-adv*' -print0 |
                        xargs -0 -r "$SYSPY" "$ADV_LIB/treestate.py" --content
        done
}

# ---- images (--root) ------------------------------------------------------------------------
# An image: its own passwd, group and unit, and the host's /usr read-only (Python to chroot into).
make_image() {
        IMG=$(mktemp -d /var/tmp/pst-img.XXXXXX)
        chmod 755 "$IMG"
        mkdir -p "$IMG/usr" "$IMG/etc/systemd/system" "$IMG/opt" "$IMG/tmp" "$IMG/dev"
        chmod 1777 "$IMG/tmp"
        mount --bind /usr "$IMG/usr"
        mount -o remount,bind,ro "$IMG/usr"
        for l in bin lib lib64 sbin; do ln -s "usr/$l" "$IMG/$l"; done
        printf 'root:x:0:0:root:/root:/bin/bash\nimgsvc:x:4900:4900::/nonexistent:/usr/sbin/nologin\n' >"$IMG/etc/passwd"
        printf 'root:x:0:\nimgsvc:x:4900:\nimgdeploy:x:4901:\n' >"$IMG/etc/group"
        printf '[Service]\nUser=imgsvc\nExecStart=/bin/true\n' >"$IMG/etc/systemd/system/imgweb.service"
}

drop_image() {
        umount "$IMG/usr"
        rm -rf "$IMG"
}
