#!/bin/bash
# Issue 4: the repair path unit. With pyshare's .deb installed, `pyshare setup APP --watch`
# enables pyshare-repair@APP.path; a deployer then installs into site-packages in two ways that
# leave www-data unable to read: a package copied in with chmod 600 on its files, and a wheel
# with a C extension pip-installed under umask 077 (the .so comes out 0711, which shrinks the
# ACL mask to --x). Nobody runs pyshare: within a bounded wait (polled, up to 30 s each; no
# speed is asserted) www-data can read the files and the probe imports both packages. The
# journal shows pyshare-repair@APP.service running `pyshare repair APP`, and the path unit does
# not keep triggering itself with repair's own changes. systemd has loaded the repair unit with
# its hardening (NoNewPrivileges, ProtectSystem=strict, ReadWritePaths, CapabilityBoundingSet as
# units/pyshare-repair@.service gives them), and systemd-analyze verify accepts both units.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

APP=watched
WAIT=30

# wait_readable FILE: poll until www-data can read FILE (at most $WAIT s); prints the seconds.
wait_readable() {
	local t0 deadline=$((SECONDS + WAIT))
	t0=$(e2e_now)
	until e2e_exec runuser -u www-data -- cat "$1" >/dev/null 2>&1; do
		((SECONDS < deadline)) || {
			e2e_exec stat -c '%A %U:%G %n' "$1" >&2 || true
			e2e_exec getfacl -p "$1" >&2 || true
			e2e_exec systemctl status --no-pager "pyshare-repair@$APP.path" "pyshare-repair@$APP.service" >&2 || true
			e2e_fail "www-data still cannot read $1 after $WAIT s, with the watch enabled"
		}
		sleep 0.5
	done
	e2e_since "$t0"
}

# runs: how many times pyshare-repair@APP.service has finished so far.
runs() {
	e2e_exec journalctl --no-pager -o cat -u "pyshare-repair@$APP.service" |
		grep -c "Finished pyshare-repair@$APP.service" || true
}

tree=$(e2e_rootfs bookworm)
pyshare_deb=$(e2e_pyshare_deb)
wheel=""
e2e_cext_wheel wheel

e2e_boot "$tree"
e2e_install_pyshare_deb "$pyshare_deb"

e2e_step "pyshare setup $APP --watch"
e2e_run useradd --create-home deployer
e2e_run pyshare setup "$APP" --watch --no-probe
# The next step setup names: apache2 then runs with the app's PYTHONPATH, so the probes below
# judge a running service that has it (issue 12: a probe before the restart exits 1).
e2e_run systemctl restart apache2
sp=$(e2e_site_packages "$APP")
e2e_run systemctl is-enabled "pyshare-repair@$APP.path"
e2e_run systemctl is-active "pyshare-repair@$APP.path"
e2e_exec cat "/etc/systemd/system/pyshare-repair@$APP.path.d/50-pyshare.conf" >&2
e2e_exec grep -qx "PathChanged=$sp" "/etc/systemd/system/pyshare-repair@$APP.path.d/50-pyshare.conf" ||
	e2e_fail "the path unit's drop-in does not name $sp"
# systemd itself watches that directory (the drop-in was loaded: daemon-reload happened).
e2e_exec systemctl show "pyshare-repair@$APP.path" --property=Paths --value >&2
[[ $(e2e_exec systemctl show "pyshare-repair@$APP.path" --property=Paths --value) == *"$sp"* ]] ||
	e2e_fail "systemd's pyshare-repair@$APP.path does not watch $sp"
e2e_run usermod --append --groups deploy deployer
runs_before=$(runs)

e2e_step "the repair unit's hardening, as systemd loaded it; systemd-analyze verify accepts both units"
# The values of units/pyshare-repair@.service (for an app under the default prefix, setup writes
# no drop-in for the service): only the venv, /etc/pyshare and the lock writable, and the four
# capabilities repair needs (systemd lists them lower-case, in capability-number order).
e2e_expect_prop "pyshare-repair@$APP.service" NoNewPrivileges yes
e2e_expect_prop "pyshare-repair@$APP.service" ProtectSystem strict
e2e_expect_prop "pyshare-repair@$APP.service" ReadWritePaths "-/opt/pyshare/$APP -/etc/pyshare -/run/pyshare.lock"
e2e_expect_prop "pyshare-repair@$APP.service" CapabilityBoundingSet \
	"cap_chown cap_dac_read_search cap_fowner cap_fsetid"
e2e_exec test ! -e "/etc/systemd/system/pyshare-repair@$APP.service.d" ||
	e2e_fail "setup wrote a drop-in for pyshare-repair@$APP.service for an app under /opt/pyshare"
unitdir=$(e2e_sh 'for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -f "$d/pyshare-repair@.service" ] && { echo "$d"; exit 0; }; done; exit 1') ||
	e2e_fail "the .deb installed no pyshare-repair@.service"
# Both template files, and both instances as setup --watch left them (with the path unit's
# drop-in). verify exits 0 on mere warnings, so its output must be empty too. --man=no: the
# tree has no man(1) to run `man pyshare(8)` for Documentation=; the page itself is checked.
e2e_run test -f /usr/share/man/man8/pyshare.8.gz
for unit in "$unitdir/pyshare-repair@.service" "$unitdir/pyshare-repair@.path" \
	"pyshare-repair@$APP.service" "pyshare-repair@$APP.path"; do
	e2e_expect_rc 0 systemd-analyze verify --man=no "$unit"
	[[ -z $E2E_OUT ]] || e2e_fail "systemd-analyze verify $unit had something to say"
done

e2e_step "a deployer copies a package in, chmod 600 on its files; no pyshare command follows"
e2e_sh 'runuser -u deployer -- sh -ec "umask 077; mkdir \"$1/wpkg\"
	printf \"VALUE = 42\n\" >\"$1/wpkg/__init__.py\"; chmod 600 \"$1/wpkg/__init__.py\"; chmod 700 \"$1/wpkg\""' "$sp"
e2e_exec stat -c '%A %U:%G %n' "$sp/wpkg" "$sp/wpkg/__init__.py" >&2
if e2e_exec runuser -u www-data -- cat "$sp/wpkg/__init__.py" >/dev/null 2>&1; then
	e2e_log "(www-data could already read it when first checked: the repair was quicker than this check)"
fi
took=$(wait_readable "$sp/wpkg/__init__.py")
e2e_log "www-data can read $sp/wpkg/__init__.py after $took s"
e2e_exec getfacl -p "$sp/wpkg/__init__.py" >&2
e2e_expect_rc 0 pyshare probe "$APP" wpkg

e2e_step "a deployer pip-installs a wheel with a C extension under umask 077; no pyshare command follows"
wheel_in=/var/tmp/$(basename "$wheel")
cp "$wheel" "$(e2e_root)$wheel_in"
e2e_run chmod 0644 "$wheel_in"
e2e_run runuser -u deployer -- env HOME=/home/deployer /bin/sh -ec "umask 077
	/opt/pyshare/$APP/bin/pip install --no-index --no-deps --no-cache-dir --disable-pip-version-check $wheel_in"
so=$(e2e_sh 'ls "$1"/pstest_cext.*.so' "$sp") || e2e_fail "pip did not install the extension"
e2e_exec stat -c '%A %U:%G %n' "$so" >&2
took=$(wait_readable "$so")
e2e_log "www-data can read $so after $took s"
e2e_exec getfacl -p "$so" >&2
e2e_expect_rc 0 pyshare probe "$APP" wpkg pstest_cext

e2e_step "the repair service ran, and the watch settles"
e2e_exec systemctl status --no-pager "pyshare-repair@$APP.service" >&2 || true
e2e_exec journalctl --no-pager -o short -u "pyshare-repair@$APP.service" >&2
e2e_exec journalctl --no-pager -o cat -u "pyshare-repair@$APP.service" | grep -q "repair $APP" ||
	e2e_fail "the journal of pyshare-repair@$APP.service has no 'repair $APP'"
[[ $(e2e_exec systemctl show "pyshare-repair@$APP.service" --property=Result --value) == success ]] ||
	e2e_fail "pyshare-repair@$APP.service did not end with success"
e2e_run systemctl is-active "pyshare-repair@$APP.path"
# Once no one installs anything, the service stops being started: repair's own chmods do not
# trigger the path unit again and again.
n1=$(runs)
sleep 8
n2=$(runs)
e2e_log "pyshare-repair@$APP.service finished $((n1 - runs_before)) times for the two installs; $((n2 - n1)) more in the 8 s after"
((n1 > runs_before)) || e2e_fail "pyshare-repair@$APP.service never ran"
((n2 == n1)) || e2e_fail "pyshare-repair@$APP.service keeps running with nothing installed ($n1 -> $n2)"

e2e_step "remove disables the watch"
e2e_run pyshare remove "$APP"
e2e_expect_rc 1 systemctl is-enabled "pyshare-repair@$APP.path"
e2e_run test ! -e "/etc/systemd/system/pyshare-repair@$APP.path.d"
e2e_log "PASS: $E2E_NAME"
