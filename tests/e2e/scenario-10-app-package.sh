#!/bin/bash
# Issue 4: pyshare as the hook of an app's package. The example package tests/pkg/myapp (the
# seed's Flask + NumPy page at /myapp/, its modules only in wheels that it ships) is built with
# dpkg-buildpackage on the host, its wheels packed offline inside the tree from Debian's own
# python3-* files: version 1.0 as a packager builds it with dh-pyshare's and pyshare's .debs
# (not the source tree's scripts/), 1.1 with the add-on from the source tree. pyshare's .deb is
# installed with apt. Then, in the booted tree:
#  - DPKG_ROOT: the hook's postinst configure and postrm purge with DPKG_ROOT naming another tree
#    (an overlay of the container's /) set the app up there and clean it again; nothing lands in
#    the running system and apache2 is not restarted;
#  - `apt install ./myapp_1.0_*.deb` and nothing else: 200 "Hello, NumPy version is X";
#  - `apt-get install --reinstall` of the same package: its postinst's setup changes nothing,
#    so apache2 is not restarted (same MainPID, no restart in the hook's output);
#  - a failed upgrade: the app unwired, the old postinst's `abort-upgrade` wires it again (200);
#  - an upgrade to 1.1 (a new wheel of the app's code, one more module to probe): the postinst's
#    setup installs the wheel as _pyshare and restarts apache2: 200 with the new text, and a
#    client polling the page meanwhile sees no failure but at most 3 s without an answer;
#  - `apt purge myapp`: no file of the app left (pyshare's files, the venv, the drop-in), and no
#    new path naming myapp or pyshare anywhere in the tree since before pyshare was installed,
#    but pyshare's own package files, what its tmpfiles.d creates (/etc/pyshare, /opt/pyshare,
#    the lock) and the test's copies of the .debs;
#  - the daemon-wired variant myapp-daemon (WSGIScript= and URL= in its APP.conf), installed
#    beside a shared-path app: its postinst's setup writes and enables pyshare-myapp-daemon.conf,
#    apache2's merged PYTHONPATH names only the other app, and the page answers 200 from the
#    daemon process pyshare-myapp-daemon with NumPy from its own venv; `apt purge` takes the
#    conf away and again leaves no new path naming myapp or pyshare;
#  - pyshare removed first (forced) while another app shares apache2: purging myapp removes its
#    files by hand and rewrites apache2's merged EnvironmentFile exactly as pyshare would;
#  - remove myapp, purge pyshare, then purge myapp: the venv (kept on remove) goes, and again no
#    new path names myapp or pyshare;
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
# The longest an upgrade may leave the page without an answer (apache2's restart), in seconds.
UPGRADE_MAX_DOWN=3

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

# build_myapp_packaged ARGS...: tests/pkg/build-myapp ARGS as a packager who installed
# dh-pyshare's .deb (and pyshare's, which it depends on) builds: `Build-Depends:
# dh-sequence-pyshare` must find the add-on, dh_pyshare and the hook where those packages put
# them. Installing them for real needs debhelper where they go: the booted tree has no
# debhelper, no network (--private-network) and empty package lists, and a second tree with
# debhelper (debootstrap or apt-get in a host chroot) would cost minutes. The host has debhelper
# (it builds the packages: bookworm's 13.11, and dh-pyshare's Depends asks for >= 13), so in a
# mount namespace of its own the build sees both packages unpacked over the host's /usr (an
# overlay: exactly the files the .debs install, at their paths), and the source tree's
# scripts/, where build-myapp points PATH and PERL5LIB, hidden under an empty tmpfs. Nothing of
# this reaches the host's mounts.
build_myapp_packaged() {
	local dest=""
	e2e_tmpdir dest
	dpkg-deb -x "$dh_deb" "$dest" && dpkg-deb -x "$pyshare_deb" "$dest" ||
		e2e_fail "cannot unpack $dh_deb and $pyshare_deb"
	unshare --mount --propagation private -- /bin/sh -ec '
		mount -t overlay overlay -o "lowerdir=$1/usr:/usr" /usr
		mount -t tmpfs -o mode=0755 tmpfs "$2/scripts"
		found=$(command -v dh_pyshare) || found=none
		[ "$found" = /usr/bin/dh_pyshare ] || { echo "dh_pyshare found: $found, not /usr/bin/dh_pyshare" >&2; exit 1; }
		[ -z "$(ls -A "$2/scripts")" ] || { echo "the source tree'"'"'s scripts/ is still visible" >&2; exit 1; }
		shift 2
		exec "$@"' sh "$dest" "$E2E_REPO" "$PKG/build-myapp" "$@"
}

tree=$(e2e_rootfs bookworm)
pyshare_deb=$(e2e_pyshare_deb)
# `make deb` (e2e_pyshare_deb) builds dh-pyshare's .deb with pyshare's.
dh_deb=""
for dh_deb in "$E2E_REPO"/dist/dh-pyshare_*_all.deb; do break; done
[[ -e $dh_deb ]] || e2e_fail "no dist/dh-pyshare_*_all.deb beside $pyshare_deb (make deb)"
work=""
e2e_tmpdir work

e2e_boot "$tree"

e2e_step "the wheels, packed inside the tree from Debian's python3-* packages (no PyPI)"
cp "$PKG/pack-wheels" "$(e2e_root)/var/tmp/pack-wheels"
e2e_run python3 /var/tmp/pack-wheels --out /var/tmp/wheels "${DISTS[@]}"
mkdir "$work/wheels"
cp "$(e2e_root)"/var/tmp/wheels/*.whl "$work/wheels/"
e2e_exec rm -rf /var/tmp/wheels /var/tmp/pack-wheels
ls -l "$work/wheels" >&2

e2e_step "dh-pyshare's .deb: the add-on where debhelper looks, the hook where pyshare's .deb puts it"
dpkg-deb -c "$dh_deb" >&2
dpkg-deb -c "$dh_deb" | awk '{ print $1, $6 }' >"$work/dh.contents"
for want in '-rwxr-xr-x ./usr/bin/dh_pyshare' '-rw-r--r-- ./usr/share/perl5/Debian/Debhelper/Sequence/pyshare.pm'; do
	grep -qxF -- "$want" "$work/dh.contents" || e2e_fail "$(basename "$dh_deb") lacks $want"
done
# The same add-on as the source's (a stale dist/ would test an old one).
for f in usr/bin/dh_pyshare:scripts/dh_pyshare \
	usr/share/perl5/Debian/Debhelper/Sequence/pyshare.pm:scripts/debhelper/Debian/Debhelper/Sequence/pyshare.pm; do
	dpkg-deb --fsys-tarfile "$dh_deb" | tar -xOf - "./${f%%:*}" | cmp -s - "$E2E_REPO/${f#*:}" ||
		e2e_fail "$(basename "$dh_deb")'s /${f%%:*} is not the source's ${f#*:} (make deb)"
done
e2e_log "$(basename "$dh_deb"): Provides: $(dpkg-deb -f "$dh_deb" Provides); Depends: $(dpkg-deb -f "$dh_deb" Depends)"
# myapp's Build-Depends names dh-sequence-pyshare: apt finds dh-pyshare through its Provides.
grep -qE '(^|, )dh-sequence-pyshare(,|$)' <<<"$(dpkg-deb -f "$dh_deb" Provides)" ||
	e2e_fail "$(basename "$dh_deb") does not provide dh-sequence-pyshare"
for dep in debhelper pyshare; do
	grep -qE "(^|, )$dep( \(|,|$)" <<<"$(dpkg-deb -f "$dh_deb" Depends)" ||
		e2e_fail "$(basename "$dh_deb") does not depend on $dep"
done
dpkg-deb -c "$pyshare_deb" | awk '{ print $6 }' | grep -qx './usr/share/pyshare/pyshare-app-hook' ||
	e2e_fail "$(basename "$pyshare_deb") does not install /usr/share/pyshare/pyshare-app-hook, the hook dh_pyshare reads"

e2e_step "myapp 1.0 built on the host with the packaged add-on (and lintian), 1.1 with the source tree's"
deb10=$(build_myapp_packaged --lintian --wheels "$work/wheels" --out "$work/debs") ||
	e2e_fail "build-myapp 1.0 with dh-pyshare's .deb failed"
deb11=$("$PKG/build-myapp" --version 1.1 --wheels "$work/wheels" --out "$work/debs") ||
	e2e_fail "build-myapp 1.1 failed"
debd=$("$PKG/build-myapp" --daemon --wheels "$work/wheels" --out "$work/debs") ||
	e2e_fail "build-myapp --daemon failed"
ls -l "$work/debs" >&2
# What dh_pyshare from the .deb put into the maintainer scripts: a call of the hook that pyshare's
# .deb installs, once per script, not a copy of it; in the postrm also the small purge fallback
# for when pyshare is gone; and pyshare in Depends.
dpkg-deb -e "$deb10" "$work/ctl10"
for script in postinst prerm postrm; do
	grep -qE "^[[:space:]]*/usr/share/pyshare/pyshare-app-hook $script myapp \"\\\$@\"\$" "$work/ctl10/$script" ||
		e2e_fail "the $script of $(basename "$deb10") does not call /usr/share/pyshare/pyshare-app-hook $script myapp"
	if grep -q 'pyshare_app_hook() (' "$work/ctl10/$script"; then
		e2e_fail "the $script of $(basename "$deb10") holds a copy of the hook"
	fi
done
grep -qx 'pyshare_purge_leftovers() (' "$work/ctl10/postrm" ||
	e2e_fail "the postrm of $(basename "$deb10") has no pyshare_purge_leftovers fallback"
grep -qxF '	pyshare_purge_leftovers myapp' "$work/ctl10/postrm" ||
	e2e_fail "the postrm of $(basename "$deb10") does not call pyshare_purge_leftovers myapp"
e2e_log "maintainer scripts of $(basename "$deb10"): $(wc -c "$work/ctl10/postinst" "$work/ctl10/prerm" "$work/ctl10/postrm" | head -n 3 | awk '{ printf "%s %s B; ", $2, $1 }')"
(($(stat -c %s "$work/ctl10/postinst") < 1024 && $(stat -c %s "$work/ctl10/postrm") < 6144)) ||
	e2e_fail "the maintainer scripts of $(basename "$deb10") are larger than a call and the fallback"
grep -qE '(^|, )pyshare \(>= ' <<<"$(dpkg-deb -f "$deb10" Depends)" ||
	e2e_fail "$(basename "$deb10") does not depend on pyshare: $(dpkg-deb -f "$deb10" Depends)"

e2e_step "NumPy and Flask hidden from the system Python"
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_expect_http /myapp/ 404

e2e_step "a listing of the tree before pyshare and myapp are installed"
fs_before=$(e2e_fs_list)
e2e_log "$(wc -l <<<"$fs_before") paths"

e2e_step "pyshare's .deb, installed with apt (offline)"
e2e_install_pyshare_deb "$pyshare_deb"
e2e_run id _pyshare
# What may stay after myapp is purged: pyshare's package files, what its tmpfiles.d creates
# (/etc/pyshare, /opt/pyshare, the lock) and this test's copies of the .debs.
allowed=$(
	e2e_pkg_footprint pyshare
	printf '/var/tmp/%s\n' "$(basename "$pyshare_deb")" "$(basename "$deb10")" "$(basename "$deb11")" \
		"$(basename "$debd")"
)
printf '%s\n' "$allowed" | sed 's/^/  allowed: /' >&2

# ---- DPKG_ROOT -------------------------------------------------------------------------------
e2e_step "DPKG_ROOT: the hook's postinst configure sets myapp up in another tree, not here"
R=/var/tmp/dpkg-root
e2e_root_overlay "$R"
cp "$deb10" "$(e2e_root)/var/tmp/"
e2e_run dpkg-deb -x "/var/tmp/$(basename "$deb10")" "$R"
# The hook as pyshare's .deb installs it (the same function dh_pyshare copied into myapp's
# scripts, checked above): the package's own postinst also enables Apache's conf with
# apache2_invoke, which knows nothing of DPKG_ROOT. The tree has no deploy group yet: pyshare
# --root creates none in an image, so the hook does (groupadd --root).
e2e_expect_rc 2 chroot "$R" getent group deploy
root_before=$(e2e_fs_list "$R")
pid_before=$(e2e_main_pid apache2)
e2e_expect_rc 0 env DPKG_ROOT="$R" /usr/share/pyshare/pyshare-app-hook postinst myapp configure
e2e_out_has "created the system group deploy in $R" "the hook under DPKG_ROOT"
e2e_expect_rc 0 chroot "$R" getent group deploy
e2e_out_lacks "restarting" "the hook under DPKG_ROOT"
[[ $(e2e_main_pid apache2) == "$pid_before" ]] || e2e_fail "apache2 was restarted by the hook under DPKG_ROOT"
# The running system got nothing: no new path names myapp or pyshare but pyshare's package
# files, no deploy group, no page. (Checked first: $R shows the running system's files too.)
e2e_fs_expect_no_new "$fs_before" 'myapp|pyshare' "$allowed" "" "after the DPKG_ROOT configure"
e2e_expect_rc 2 getent group deploy
e2e_expect_http /myapp/ 404
for f in /opt/pyshare/myapp/bin/python /opt/pyshare/myapp/.pyshare-complete /etc/pyshare/myapp.conf \
	/etc/pyshare/myapp.env /etc/tmpfiles.d/pyshare-myapp.conf "${SERVICE_FILES[@]}"; do
	e2e_run test -e "$R$f"
done
e2e_exec grep -qx 'venv=/opt/pyshare/myapp' "$R/var/lib/pyshare/hook/myapp" ||
	e2e_fail "the hook did not record the venv as /opt/pyshare/myapp in $R/var/lib/pyshare/hook/myapp"
# What it wrote names the tree's own paths, never $R: the tree works where it is booted.
e2e_try grep -rIlF "$R" "$R/etc/pyshare" "$R/etc/systemd/system/apache2.service.d" \
	"$R/etc/tmpfiles.d/pyshare-myapp.conf" "$R/var/lib/pyshare" "$R/opt/pyshare/myapp"
((E2E_RC == 1)) || e2e_fail "files in $R name $R (or grep failed, exit $E2E_RC)"
e2e_run chroot "$R" /opt/pyshare/myapp/bin/python -c 'import numpy, flask, myapp_web'

e2e_step "DPKG_ROOT: the hook's postrm purge cleans that tree"
e2e_expect_rc 0 env DPKG_ROOT="$R" /usr/share/pyshare/pyshare-app-hook postrm myapp purge
e2e_out_lacks "restarting" "the purge under DPKG_ROOT"
[[ $(e2e_main_pid apache2) == "$pid_before" ]] || e2e_fail "apache2 was restarted by the purge under DPKG_ROOT"
e2e_fs_expect_no_new "$root_before" 'myapp|pyshare' "" "$R" "after the DPKG_ROOT purge"
e2e_fs_expect_no_new "$fs_before" 'myapp|pyshare' "$allowed" "" "after the DPKG_ROOT purge"
e2e_root_overlay "$R" --remove

# ---- install ---------------------------------------------------------------------------------
e2e_step "apt install ./myapp_1.0: the page answers, with no other command"
pid_before=$(e2e_main_pid apache2)
t0=$(e2e_now)
cp "$deb10" "$(e2e_root)/var/tmp/"
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/var/tmp/$(basename "$deb10")"
e2e_log "apt install of myapp 1.0 took $(e2e_since "$t0") s"
# pyshare's hint fits the hook, which restarts apache2 right after: no command for a shell.
e2e_out_has "apache2.service is running with the old environment: the package's hook restarts it next (try-restart)" \
	"apt install of myapp 1.0"
e2e_out_lacks "--restart" "apt install of myapp 1.0"
e2e_out_lacks "systemctl restart apache2" "apt install of myapp 1.0"
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

# ---- a failed upgrade: abort-upgrade ---------------------------------------------------------
e2e_step "abort-upgrade: the old postinst wires the app again after a failed upgrade unwired it"
# When an upgrade fails after the old version was unwired, dpkg runs the old version's
# `postinst abort-upgrade NEWVERSION`, which must set the app up again. Unwire it (and restart
# apache2, which then has no PYTHONPATH for it: 500), then run the installed postinst as dpkg would.
e2e_run pyshare remove myapp
e2e_run systemctl restart apache2
e2e_expect_http /myapp/ 500
pid_before=$(e2e_main_pid apache2)
e2e_expect_rc 0 /var/lib/dpkg/info/myapp.postinst abort-upgrade 1.1
e2e_out_has "pyshare-app-hook: restarting apache2.service" "postinst abort-upgrade"
[[ $(e2e_main_pid apache2) != "$pid_before" ]] || e2e_fail "apache2 was not restarted by postinst abort-upgrade"
e2e_run test -s /etc/pyshare/myapp.conf
e2e_expect_http /myapp/ 200 "Hello, NumPy version is $numpy_version"

# ---- upgrade ---------------------------------------------------------------------------------
e2e_step "upgrade to myapp 1.1 while a client polls the page"
old_body="Hello, NumPy version is $numpy_version"
new_body="Hello again from myapp 1.1, NumPy version is $numpy_version"
# One line per request: its start (seconds), its status (000: no answer) and its body (old,
# new or other). A script file, since systemd expands $ in a unit's command line.
e2e_put /var/tmp/poll.sh <<'SH'
while :; do
	rm -f /var/tmp/poll.body
	t=$(date +%s.%N)
	c=$(curl -s -o /var/tmp/poll.body --max-time 5 -w '%{http_code}' http://127.0.0.1/myapp/)
	b=$(cat /var/tmp/poll.body 2>/dev/null)
	if [ "$b" = "$1" ]; then k=old; elif [ "$b" = "$2" ]; then k=new; else k=other; fi
	echo "$t ${c:-000} $k" >>/var/tmp/poll.log
	sleep 0.1
done
SH
pid_before=$(e2e_main_pid apache2)
e2e_run systemd-run --quiet --unit=e2e-poll /bin/sh /var/tmp/poll.sh "$old_body" "$new_body"
sleep 1
t0=$(e2e_now)
e2e_apt_install "$deb11"
e2e_log "apt install of myapp 1.1 (upgrade) took $(e2e_since "$t0") s"
sleep 1
e2e_run systemctl stop e2e-poll.service
poll=$(e2e_exec cat /var/tmp/poll.log)
codes=$(awk '{ print $2, $3 }' <<<"$poll" | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
e2e_log "answers during the upgrade (count status body): $codes"
e2e_expect_http /myapp/ 200 "$new_body"
[[ $(e2e_main_pid apache2) != "$pid_before" ]] ||
	e2e_fail "apache2 was not restarted after the upgrade (the hook's try-restart)"
e2e_run test -d "$sp/myapp_web-1.1.dist-info"
e2e_run test ! -e "$sp/myapp_web-1.0.dist-info"
# The package's new Module= list applies (jinja2), with nothing stored in /etc for it.
e2e_expect_rc 0 pyshare probe myapp
e2e_out_has "jinja2" "the probe after the upgrade"
# The page kept serving: no error ever (only 200, or no answer while apache2 restarts), every 200
# the old or the new page, at most UPGRADE_MAX_DOWN s from the first request without an answer to
# the next 200, the old page first and the new one last.
bad=$(awk '$2 != "200" && $2 != "000"' <<<"$poll" | awk '{ print $2 }' | sort | uniq -c) || true
[[ -z $bad ]] || e2e_fail "the page failed during the upgrade: $bad"
read -r n worst down_at_end other first last < <(awk '
	{ n++; t = $1 }
	n == 1 { first = $2 "/" $3 }
	$2 != "200" { if (!down) { down = 1; since = t }; next }
	down { if (t - since > worst) worst = t - since; down = 0 }
	$3 == "other" { other++ }
	{ last = $2 "/" $3 }
	END { if (down && t - since > worst) worst = t - since
		printf "%d %.2f %d %d %s %s\n", n, worst, down, other, first, last }' <<<"$poll")
e2e_log "$n answers; longest time without one: $worst s; first $first, last $last"
((n >= 10)) || e2e_fail "the poller made only $n requests"
[[ $first == 200/old ]] || e2e_fail "the first answer during the upgrade was $first, not the old page (200/old)"
((down_at_end == 0)) || e2e_fail "the page did not answer again after the upgrade"
((other == 0)) || e2e_fail "$other answers were 200 with neither the old nor the new page"
awk -v w="$worst" -v m="$UPGRADE_MAX_DOWN" 'BEGIN { exit !(w <= m) }' ||
	e2e_fail "the page did not answer for $worst s during the upgrade (at most $UPGRADE_MAX_DOWN s)"
[[ $last == 200/new ]] || e2e_fail "the last answer after the upgrade was $last, not the new page (200/new)"

# ---- purge -----------------------------------------------------------------------------------
e2e_step "apt purge myapp: nothing of the app is left"
apt_do purge myapp
expect_gone "${APP_FILES[@]}" "${SERVICE_FILES[@]}" /var/lib/pyshare
[[ $(envfiles) != */etc/pyshare/services/apache2.service.env* ]] ||
	e2e_fail "systemd still has pyshare's EnvironmentFile for apache2 after the purge"
e2e_expect_http /myapp/ 404
e2e_expect_rc 0 pyshare list
e2e_out_lacks "myapp" "pyshare list"
# Not only the paths above: nothing new anywhere names myapp or pyshare, but what may stay.
e2e_fs_expect_no_new "$fs_before" 'myapp|pyshare' "$allowed" "" "after apt purge myapp"

# ---- the daemon-wired variant ----------------------------------------------------------------
e2e_step "myapp-daemon beside a shared-path app: its postinst wires a mod_wsgi daemon process of its own"
D=/etc/apache2/conf-available/pyshare-myapp-daemon.conf
DL=/etc/apache2/conf-enabled/pyshare-myapp-daemon.conf
e2e_run pyshare setup other --no-probe
cp "$debd" "$(e2e_root)/var/tmp/"
e2e_expect_rc 0 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/var/tmp/$(basename "$debd")"
e2e_out_has "enabled $DL (a2enconf pyshare-myapp-daemon)" "apt install of myapp-daemon"
e2e_out_has "pyshare-app-hook: restarting apache2.service" "apt install of myapp-daemon"
e2e_exec cat "$D" >&2
e2e_run apache2ctl configtest
e2e_exec grep -q '^# Written by pyshare for apache2.service; apps: other\.$' /etc/pyshare/services/apache2.service.env ||
	e2e_fail "apache2's merged EnvironmentFile does not list the shared app other alone"
if e2e_exec grep -q myapp-daemon /etc/pyshare/services/apache2.service.env; then
	e2e_fail "apache2's merged EnvironmentFile names the daemon-wired myapp-daemon"
fi
e2e_expect_http /myapp-daemon/ 200 "Hello, NumPy version is $numpy_version"
e2e_expect_http /myapp-daemon/where 200 \
	"process group pyshare-myapp-daemon, numpy from $(e2e_site_packages myapp-daemon)/numpy/__init__.py"
e2e_run pyshare status myapp-daemon

e2e_step "apt purge myapp-daemon: the daemon conf is disabled and gone, and nothing else of the app is left"
apt_do purge myapp-daemon
expect_gone "$D" "$DL" /etc/pyshare/myapp-daemon.conf /opt/pyshare/myapp-daemon /var/lib/pyshare \
	/usr/lib/pyshare/myapp-daemon.conf /usr/share/myapp-daemon
e2e_run apache2ctl configtest
e2e_expect_http /myapp-daemon/ 404
e2e_run pyshare remove other --purge
e2e_fs_expect_no_new "$fs_before" 'myapp|pyshare' "$allowed" "" "after apt purge myapp-daemon"

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
# The hook went with pyshare: the postrm's fallback removes what is the app's alone and leaves
# apache2's merged EnvironmentFile, which names the other app too, with a warning.
e2e_expect_rc 0 dpkg --purge myapp
e2e_out_has "deleted the virtualenv /opt/pyshare/myapp" "dpkg --purge myapp"
e2e_out_has "pyshare: warning: left /etc/pyshare/services/apache2.service.env, which lists other apps too (myapp,other)" \
	"dpkg --purge myapp"
expect_gone "${APP_FILES[@]}" /var/lib/pyshare
e2e_run test -s /etc/systemd/system/apache2.service.d/50-pyshare.conf
e2e_run test -d /opt/pyshare/other
e2e_expect_http /myapp/ 404
# Once pyshare is back, setup of the other app rewrites it without myapp.
e2e_install_pyshare_deb "$pyshare_deb"
e2e_expect_rc 0 pyshare setup other --no-probe
e2e_exec grep -q '^# Written by pyshare for apache2.service; apps: other\.$' \
	/etc/pyshare/services/apache2.service.env || e2e_fail "apache2's EnvironmentFile does not list other alone"
if e2e_exec grep -q myapp /etc/pyshare/services/apache2.service.env; then
	e2e_fail "apache2's EnvironmentFile still names myapp"
fi
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
e2e_fs_expect_no_new "$fs_before" 'myapp|pyshare' "$allowed" "" "after purging pyshare, then myapp"

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
