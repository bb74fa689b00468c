#!/bin/bash
# Issue 4: tmpfiles.d. In the booted tree (systemd 252) with pyshare's .deb installed,
# systemd-tmpfiles --create accepts pyshare's own /usr/lib/tmpfiles.d/pyshare.conf and the
# per-app /etc/tmpfiles.d/pyshare-APP.conf that setup writes, without a word about either (a
# control file with a capital X in an ACL shows that systemd 252 does complain about that); and
# after someone breaks them, it restores the base directories and the lock, and the venv's top
# directory's owner, group, mode and ACLs (access and default) exactly as setup left them.
# Before all that: right after the .deb is installed, before any setup, /opt/pyshare exists as
# root:root 0755 (the postinst runs systemd-tmpfiles --create pyshare.conf).
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

APP=tapp
OWN=/usr/lib/tmpfiles.d/pyshare.conf
PER_APP=/etc/tmpfiles.d/pyshare-$APP.conf

# state PATH...: owner, group, mode and the full ACL (access and default) of each PATH.
state() { e2e_sh 'for p; do stat -c "%U:%G %a %F %n" "$p"; getfacl -p "$p" 2>/dev/null | grep -v "^# file:"; done' "$@"; }

# tmpfiles FILE...: systemd-tmpfiles --create FILE...; sets E2E_RC and E2E_OUT (stdout + stderr).
tmpfiles() { e2e_try systemd-tmpfiles --create "$@"; }

tree=$(e2e_rootfs bookworm)
pyshare_deb=$(e2e_pyshare_deb)
e2e_boot "$tree"
e2e_step "the .deb's postinst applies pyshare.conf (dh_installtmpfiles): the base directories, before any setup"
e2e_run test ! -e /opt/pyshare
e2e_install_pyshare_deb "$pyshare_deb"
e2e_exec systemd-tmpfiles --version | head -n 1 >&2
# Only the installation (and `pyshare --version`) ran: no pyshare command that creates them.
got=$(e2e_exec stat -c '%U:%G %a %F' /opt/pyshare) || e2e_fail "no /opt/pyshare after installing the .deb"
e2e_log "/opt/pyshare: $got"
[[ $got == "root:root 755 directory" ]] || e2e_fail "/opt/pyshare is '$got' after installing the .deb, expected 'root:root 755 directory'"

e2e_step "pyshare's own tmpfiles.d file and an app's"
e2e_run test -f "$OWN"
e2e_run useradd --create-home deployer
e2e_run pyshare setup "$APP" --no-probe --restart
e2e_exec cat "$OWN" "$PER_APP" >&2
# No capital X in an ACL: systemd-tmpfiles 252 rejects it (see the control below).
if e2e_exec grep -E '^a' "$OWN" "$PER_APP" | grep -q X; then
	e2e_fail "an ACL line uses a capital X"
fi
e2e_exec systemd-tmpfiles --cat-config | grep -F -e "$OWN" -e "$PER_APP" >&2 ||
	e2e_fail "systemd-tmpfiles --cat-config does not include pyshare's files"

e2e_step "control: systemd 252 does complain about a capital X in an ACL"
printf 'd /run/pst-x 0755 root root -\na+ /run/pst-x - - - - u:www-data:rwX\n' | e2e_put /run/pst-x.conf
tmpfiles /run/pst-x.conf
[[ -n $E2E_OUT ]] || e2e_fail "systemd-tmpfiles said nothing about u:www-data:rwX: the checks below would prove nothing"

e2e_step "systemd-tmpfiles --create accepts both files without a word"
tmpfiles "$OWN" "$PER_APP"
((E2E_RC == 0)) || e2e_fail "systemd-tmpfiles --create $OWN $PER_APP exited $E2E_RC"
[[ -z $E2E_OUT ]] || e2e_fail "systemd-tmpfiles --create had something to say about pyshare's files"
# The whole configuration: whatever else it says (the container's own files), nothing about ours.
tmpfiles
if grep -F -e pyshare -e "/opt/pyshare" <<<"$E2E_OUT"; then
	e2e_fail "systemd-tmpfiles --create (every file) complains about pyshare's lines"
fi

e2e_step "the base directories and the lock are restored"
good_base=$(state /opt/pyshare /etc/pyshare /etc/pyshare/services /run/pyshare.lock)
e2e_run chmod 0700 /opt/pyshare /etc/pyshare/services
e2e_run chmod 0644 /etc/pyshare
e2e_run rm -f /run/pyshare.lock
tmpfiles "$OWN"
if ((E2E_RC != 0)) || [[ -n $E2E_OUT ]]; then e2e_fail "systemd-tmpfiles --create $OWN failed or complained"; fi
now_base=$(state /opt/pyshare /etc/pyshare /etc/pyshare/services /run/pyshare.lock)
printf '%s\n' "$now_base" >&2
[[ $now_base == "$good_base" ]] || {
	diff <(printf '%s\n' "$good_base") <(printf '%s\n' "$now_base") >&2 || true
	e2e_fail "systemd-tmpfiles did not restore pyshare's base directories and lock"
}

e2e_step "the venv's top directory is restored: owner, group, mode, ACL and default ACL"
good=$(state "/opt/pyshare/$APP")
printf '%s\n' "$good" >&2
e2e_run chown deployer:deployer "/opt/pyshare/$APP"
e2e_run chmod 0750 "/opt/pyshare/$APP"
e2e_run setfacl -b "/opt/pyshare/$APP"
broken=$(state "/opt/pyshare/$APP")
printf '%s\n' "$broken" >&2
[[ $broken != "$good" ]] || e2e_fail "breaking /opt/pyshare/$APP changed nothing"
e2e_expect_rc 1 runuser -u www-data -- test -r "/opt/pyshare/$APP/pyvenv.cfg"
tmpfiles "$PER_APP"
if ((E2E_RC != 0)) || [[ -n $E2E_OUT ]]; then e2e_fail "systemd-tmpfiles --create $PER_APP failed or complained"; fi
now=$(state "/opt/pyshare/$APP")
printf '%s\n' "$now" >&2
[[ $now == "$good" ]] || {
	diff <(printf '%s\n' "$good") <(printf '%s\n' "$now") >&2 || true
	e2e_fail "systemd-tmpfiles did not restore /opt/pyshare/$APP as setup left it"
}
e2e_run runuser -u www-data -- test -r "/opt/pyshare/$APP/pyvenv.cfg"
e2e_expect_rc 0 pyshare status "$APP"
e2e_log "PASS: $E2E_NAME"
