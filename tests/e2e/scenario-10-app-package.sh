#!/bin/bash
# Issue 4: pyshare as the hook of an app's package. The example package tests/pkg/myapp (the
# seed's Flask + NumPy page at /myapp/, its modules only in wheels that it ships) is built with
# dpkg-buildpackage on the host, its wheels packed offline inside the tree from Debian's own
# python3-* files; pyshare's .deb is installed with apt. Then, in the booted tree:
#  - `apt install ./myapp_1.0_*.deb` and nothing else: 200 "Hello, NumPy version is X";
#  - `apt-get install --reinstall` of the same package: its postinst's setup changes nothing,
#    so apache2 is not restarted (same MainPID, no restart in the hook's output);
#  - an upgrade to 1.1 (a new wheel of the app's code, one more module to probe): the postinst's
#    setup installs the wheel as _pyshare and restarts apache2: 200 with the new text;
#  - `apt purge myapp`: no file of the app left (pyshare's files, the venv, the drop-in);
#  - pyshare removed first (forced) while another app shares apache2: purging myapp removes its
#    files by hand and rewrites apache2's merged EnvironmentFile exactly as pyshare would;
#  - remove myapp, purge pyshare, then purge myapp: the venv (kept on remove) goes;
#  - under a policy-rc.d that says no, the install succeeds and apache2 is not restarted; a
#    restart that fails is a warning, and the package is still installed and configured.
# Finally the same package goes into a tree that is not booted (a chroot, as an image build):
# the install succeeds, and the page answers 200 once that tree boots.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PKG=$E2E_REPO/tests/pkg
DISTS=(numpy Flask Werkzeug Jinja2 MarkupSafe itsdangerous click)
# Every file of myapp's in pyshare's world, and the package's own.
APP_FILES=(/etc/pyshare/myapp.conf /etc/pyshare/myapp.env /etc/tmpfiles.d/pyshare-myapp.conf
	/opt/pyshare/myapp /var/lib/pyshare/hook/myapp /usr/lib/pyshare/myapp.conf /usr/lib/myapp
	/usr/share/myapp /etc/apache2/conf-available/myapp.conf /etc/apache2/conf-enabled/myapp.conf)
SERVICE_FILES=(/etc/pyshare/services/apache2.service.env /etc/systemd/system/apache2.service.d/50-pyshare.conf)

# expect_gone PATH...: none of them exists inside.
expect_gone() {
	local p left=()
	for p in "$@"; do
		if e2e_exec test -e "$p" -o -L "$p"; then left+=("$p"); fi
	done
	((${#left[@]} == 0)) || e2e_fail "left behind: ${left[*]}"
	e2e_log "gone: $*"
}

# apt_do ARGS...: apt-get ARGS -y inside, offline, output shown; fails unless it exits 0.
apt_do() { e2e_run env DEBIAN_FRONTEND=noninteractive apt-get -y "$@"; }

# envfiles: the EnvironmentFiles systemd knows for apache2.
envfiles() { e2e_exec systemctl show apache2.service --property=EnvironmentFiles --value; }

tree=$(e2e_rootfs bookworm)
pyshare_deb=$(e2e_pyshare_deb)
work=""
e2e_tmpdir work

e2e_boot "$tree"

e2e_step "pyshare's .deb, installed with apt (offline)"
e2e_install_pyshare_deb "$pyshare_deb"
e2e_run id _pyshare

e2e_step "the wheels, packed inside the tree from Debian's python3-* packages (no PyPI)"
cp "$PKG/pack-wheels" "$(e2e_root)/var/tmp/pack-wheels"
e2e_run python3 /var/tmp/pack-wheels --out /var/tmp/wheels "${DISTS[@]}"
mkdir "$work/wheels"
cp "$(e2e_root)"/var/tmp/wheels/*.whl "$work/wheels/"
e2e_exec rm -rf /var/tmp/wheels /var/tmp/pack-wheels
ls -l "$work/wheels" >&2

e2e_step "myapp 1.0 and 1.1, built on the host with dpkg-buildpackage (and lintian)"
deb10=$("$PKG/build-myapp" --lintian --wheels "$work/wheels" --out "$work/debs") ||
	e2e_fail "build-myapp 1.0 failed"
deb11=$("$PKG/build-myapp" --version 1.1 --wheels "$work/wheels" --out "$work/debs") ||
	e2e_fail "build-myapp 1.1 failed"
ls -l "$work/debs" >&2

e2e_step "NumPy and Flask hidden from the system Python"
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_expect_http /myapp/ 404

# ---- install ---------------------------------------------------------------------------------
e2e_step "apt install ./myapp_1.0: the page answers, with no other command"
pid_before=$(e2e_main_pid apache2)
t0=$(e2e_now)
e2e_apt_install "$deb10"
e2e_log "apt install of myapp 1.0 took $(e2e_since "$t0") s"
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"
[[ $(e2e_main_pid apache2) != "$pid_before" ]] || e2e_fail "apache2 was not restarted by the postinst"
sp=$(e2e_site_packages myapp)
owner=$(e2e_exec stat -c %U:%G "$sp/numpy/__init__.py")
[[ $owner == _pyshare:deploy ]] || e2e_fail "numpy in the venv belongs to $owner, not _pyshare:deploy (pip's user)"
e2e_exec cat /etc/pyshare/myapp.conf >&2
if e2e_exec grep -Eq '^(Module|Requirements|Wheels|Service)=' /etc/pyshare/myapp.conf; then
	e2e_fail "/etc/pyshare/myapp.conf repeats the package's settings (it should hold only what differs)"
fi
e2e_exec grep -qx 'venv=/opt/pyshare/myapp' /var/lib/pyshare/hook/myapp ||
	e2e_fail "the hook did not record the venv in /var/lib/pyshare/hook/myapp"
e2e_run pyshare status myapp

# ---- reinstall: nothing changed, nothing restarted -------------------------------------------
e2e_step "apt-get install --reinstall of the same myapp 1.0: setup changes nothing, apache2 is not restarted"
pid_before=$(e2e_main_pid apache2)
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --reinstall \
	"/var/tmp/$(basename "$deb10")"
# The postinst did run (configure), and its `pyshare --json setup` said changed: false.
e2e_out_has "Setting up myapp (1.0)" "the reinstall"
e2e_out_lacks "pyshare-app-hook: restarting" "the reinstall"
e2e_out_lacks "try-restart" "the reinstall"
[[ $(e2e_main_pid apache2) == "$pid_before" ]] ||
	e2e_fail "apache2 was restarted by a reinstall that changed nothing (MainPID $pid_before -> $(e2e_main_pid apache2))"
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"

# ---- upgrade ---------------------------------------------------------------------------------
e2e_step "upgrade to myapp 1.1 while a client polls the page"
pid_before=$(e2e_main_pid apache2)
e2e_run systemd-run --quiet --unit=myapp-poll /bin/sh -c 'while :; do
	curl -s -o /dev/null --max-time 5 -w "%{http_code}\n" http://127.0.0.1/myapp/ >>/var/tmp/poll.log
	sleep 0.1; done'
sleep 1
t0=$(e2e_now)
e2e_apt_install "$deb11"
e2e_log "apt install of myapp 1.1 (upgrade) took $(e2e_since "$t0") s"
sleep 1
e2e_run systemctl stop myapp-poll.service
codes=$(e2e_exec sort /var/tmp/poll.log | uniq -c | sed 's/^ *//' | tr '\n' ' ')
e2e_log "status codes seen during the upgrade (count code): $codes"
e2e_expect_http /myapp/ 200 "Hello again from myapp 1.1, NumPy version is $numpy_version"
[[ $(e2e_main_pid apache2) != "$pid_before" ]] ||
	e2e_fail "apache2 was not restarted after the upgrade (the hook's try-restart)"
e2e_run test -d "$sp/myapp_web-1.1.dist-info"
e2e_run test ! -e "$sp/myapp_web-1.0.dist-info"
# The package's new Module= list applies (jinja2), with nothing stored in /etc for it.
e2e_expect_rc 0 pyshare probe myapp
e2e_out_has "jinja2" "the probe after the upgrade"
# While the old version served, the page never failed: only 200 (and, at most, no answer
# while apache2 restarts).
bad=$(e2e_exec grep -Ev '^(200|000)$' /var/tmp/poll.log | sort | uniq -c) || true
[[ -z $bad ]] || e2e_fail "the page failed during the upgrade: $bad"

# ---- purge -----------------------------------------------------------------------------------
e2e_step "apt purge myapp: nothing of the app is left"
apt_do purge myapp
expect_gone "${APP_FILES[@]}" "${SERVICE_FILES[@]}" /var/lib/pyshare
[[ $(envfiles) != */etc/pyshare/services/apache2.service.env* ]] ||
	e2e_fail "systemd still has pyshare's EnvironmentFile for apache2 after the purge"
e2e_expect_http /myapp/ 404
e2e_expect_rc 0 pyshare list
e2e_out_lacks "myapp" "pyshare list"

# ---- purge with pyshare gone, another app on the same service ---------------------------------
e2e_step "pyshare removed before myapp is purged, while another app shares apache2"
e2e_apt_install "$deb11"
e2e_expect_http /myapp/ 200 "Hello again from myapp 1.1, NumPy version is $numpy_version"
e2e_run pyshare setup other --no-probe
e2e_exec cat /etc/pyshare/services/apache2.service.env >&2
e2e_exec grep -q '^# Written by pyshare for apache2.service; apps: myapp, other\.$' \
	/etc/pyshare/services/apache2.service.env || e2e_fail "apache2's EnvironmentFile does not list both apps"
e2e_run dpkg --remove --force-depends pyshare
e2e_run test ! -e /usr/sbin/pyshare
e2e_expect_rc 0 dpkg --purge myapp
e2e_out_has "pyshare is not installed" "dpkg --purge myapp"
e2e_out_has "deleted the virtualenv /opt/pyshare/myapp" "dpkg --purge myapp"
expect_gone "${APP_FILES[@]}" /var/lib/pyshare
e2e_exec cat /etc/pyshare/services/apache2.service.env >&2
e2e_exec grep -q '^# Written by pyshare for apache2.service; apps: other\.$' \
	/etc/pyshare/services/apache2.service.env || e2e_fail "apache2's EnvironmentFile does not list other alone"
if e2e_exec grep -q myapp /etc/pyshare/services/apache2.service.env; then
	e2e_fail "apache2's EnvironmentFile still names myapp"
fi
e2e_run test -s /etc/systemd/system/apache2.service.d/50-pyshare.conf
e2e_run test -d /opt/pyshare/other
e2e_expect_http /myapp/ 404
# What the hook wrote by hand is what pyshare writes: setup of the other app changes nothing.
e2e_install_pyshare_deb "$pyshare_deb"
e2e_expect_rc 0 pyshare setup other --no-probe
e2e_out_has "nothing to change" "pyshare setup other after the hand-made purge"
e2e_run pyshare remove other --purge
expect_gone "${SERVICE_FILES[@]}"

# ---- remove, purge pyshare, purge the app ----------------------------------------------------
e2e_step "remove myapp (the venv stays), purge pyshare, then purge myapp: the venv goes"
e2e_apt_install "$deb10"
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"
apt_do remove myapp
e2e_run test -x /opt/pyshare/myapp/bin/python
expect_gone /etc/pyshare/myapp.conf /etc/pyshare/myapp.env "${SERVICE_FILES[@]}"
e2e_expect_http /myapp/ 404
apt_do purge pyshare
e2e_expect_rc 0 dpkg --purge myapp
e2e_out_has "deleted the virtualenv /opt/pyshare/myapp" "dpkg --purge myapp"
expect_gone "${APP_FILES[@]}" /var/lib/pyshare

# ---- restarts: policy-rc.d, and a restart that fails -----------------------------------------
e2e_step "policy-rc.d says no: the install succeeds and apache2 is not restarted"
e2e_install_pyshare_deb "$pyshare_deb"
printf '#!/bin/sh\nexit 101\n' | e2e_put /usr/sbin/policy-rc.d
e2e_run chmod 0755 /usr/sbin/policy-rc.d
pid_before=$(e2e_main_pid apache2)
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/var/tmp/$(basename "$deb10")"
e2e_out_has "policy-rc.d returned 101, not running 'try-restart apache2.service'" "the install under policy-rc.d"
[[ $(e2e_main_pid apache2) == "$pid_before" ]] || e2e_fail "apache2 was restarted although policy-rc.d said no"
e2e_run rm /usr/sbin/policy-rc.d
e2e_run systemctl restart apache2
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"

e2e_step "a restart that fails is a warning, not a failed install"
apt_do purge myapp
printf '[Service]\nExecStartPre=/bin/false\n' | e2e_put /etc/systemd/system/apache2.service.d/zz-fail.conf
e2e_run systemctl daemon-reload
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/var/tmp/$(basename "$deb10")"
e2e_out_has "pyshare-app-hook: warning: could not restart apache2.service" "the install whose restart fails"
e2e_run dpkg-query -W -f '${Status}\n' myapp
[[ $(e2e_exec dpkg-query -W -f '${Status}' myapp) == "install ok installed" ]] || e2e_fail "myapp is not installed and configured"
e2e_run rm /etc/systemd/system/apache2.service.d/zz-fail.conf
e2e_run systemctl daemon-reload
e2e_run systemctl restart apache2
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"

# ---- a tree that is not booted ---------------------------------------------------------------
e2e_step "the same package installed into a tree that is not booted (chroot)"
e2e_poweroff
mkdir "$work/upper" "$work/work" "$work/root"
chmod 0755 "$work/root"
mount -t overlay overlay -o "lowerdir=$tree,upperdir=$work/upper,workdir=$work/work" "$work/root"
e2e_defer umount "$work/root"
export E2E_CHROOT=$work/root
e2e_install_pyshare_deb "$pyshare_deb"
e2e_hide_system_modules
e2e_run test ! -e /run/systemd/system
t0=$(e2e_now)
cp "$deb10" "$work/root/var/tmp/"
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/var/tmp/$(basename "$deb10")"
e2e_log "apt install of myapp 1.0 in the chroot took $(e2e_since "$t0") s"
e2e_out_has "systemd is not running" "the install in the chroot"
grep -Eiq 'skip[a-z]*.*reload|reload.*skip' <<<"$E2E_OUT" ||
	e2e_fail "pyshare setup did not say that it skipped the reload"
for f in /opt/pyshare/myapp/bin/python /etc/pyshare/myapp.conf /etc/pyshare/myapp.env "${SERVICE_FILES[@]}" \
	/etc/apache2/conf-enabled/myapp.conf; do
	e2e_run test -e "$f"
done

e2e_step "the tree boots: the page answers"
unset E2E_CHROOT
e2e_boot "$work/root" --no-volatile
[[ $(envfiles) == */etc/pyshare/services/apache2.service.env* ]] ||
	e2e_fail "apache2 booted without pyshare's EnvironmentFile"
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"
e2e_run pyshare probe myapp
e2e_log "PASS: $E2E_NAME"
