#!/bin/bash
# Issue 3, scenario 6: the probe sees the service's sandbox. Where systemd runs, `pyshare probe`
# runs as a transient unit with the service's sandbox properties copied from it, so that what
# the sandbox hides from the service it hides from the probe too, and the probe names the
# property. Two properties, each where a plain `runuser` import succeeds but the app fails:
#   ProtectHome=yes          and a venv under /home (--prefix=/home/deploy/venvs);
#   MemoryDenyWriteExecute=yes and a module whose import maps writable and executable memory
#                            (as JITs and cffi's own callbacks do).
# About the second: a ctypes callback (ctypes.CFUNCTYPE(...)(f)) is no such module on bookworm:
# its libffi 3.4 hands out closures from static trampolines (file-backed, never W+X), so it works
# under MemoryDenyWriteExecute=yes (checked below, so that the claim stays true).
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

# e2e_sandbox PROPERTY=VALUE: apache2's sandbox drop-in (replacing the last one), reload, restart.
sandbox() {
	printf '[Service]\n%s\n' "$1" | e2e_put /etc/systemd/system/apache2.service.d/10-e2e-sandbox.conf
	e2e_run systemctl daemon-reload
	e2e_run systemctl restart apache2
	local v
	v=$(e2e_exec systemctl show --property="${1%%=*}" --value apache2.service)
	e2e_log "apache2 ${1%%=*}=$v"
	[[ $v == "${1#*=}" ]] || e2e_fail "apache2 does not have $1 after daemon-reload ($v)"
}

# probe_names_property APP PROPERTY: `pyshare probe APP` fails (exit 1), and names PROPERTY as
# the cause, not only in its closing note about the sandbox it reproduced.
probe_names_property() {
	e2e_expect_rc 1 pyshare probe "$1"
	e2e_out_has "$2" "the probe's output"
	e2e_out_lacks "outside the service's sandbox" "the probe's output"
	grep -v '^note:' <<<"$E2E_OUT" | grep -qF -- "$2" ||
		e2e_fail "the probe failed but names $2 only in its closing note, not as the cause of the failure"
}

e2e_step "two WSGI apps: homeapp (venv under /home) and mdweapp (an import that needs W+X memory)"
e2e_pkg_apps home mdwe
e2e_run useradd --create-home deployer
# Open to traversal, so that without the sandbox www-data reaches the venv.
e2e_run install -d -m 0755 /home/deploy /home/deploy/venvs

e2e_step "ProtectHome=yes: setup homeapp under /home/deploy/venvs"
sandbox ProtectHome=yes
e2e_run pyshare setup homeapp --prefix=/home/deploy/venvs --module homepkg --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_put_pkg "$(e2e_site_packages homeapp /home/deploy/venvs)" homepkg 'VALUE = "from /home"'
e2e_run pyshare repair homeapp

e2e_step "ProtectHome=yes: a plain runuser import works, the app fails, the probe fails and names it"
e2e_run runuser -u www-data -- /home/deploy/venvs/homeapp/bin/python -c 'import homepkg; print(homepkg.VALUE)'
e2e_run systemctl restart apache2
e2e_errlog_mark
e2e_expect_http /home 500
e2e_errlog_has "ModuleNotFoundError: No module named 'homepkg'"
probe_names_property homeapp ProtectHome

e2e_step "MemoryDenyWriteExecute=yes: setup mdweapp, whose package maps W+X memory on import"
sandbox MemoryDenyWriteExecute=yes
e2e_run pyshare setup mdweapp --module mdwepkg --no-probe
e2e_put_pkg "$(e2e_site_packages mdweapp)" mdwepkg 'import mmap

# What a JIT or an old-style cffi callback does: anonymous memory both writable and executable.
_code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
VALUE = "W+X ok"'
e2e_run pyshare repair mdweapp
# The ctypes callback of the brief works under the property on bookworm (see the header).
e2e_run systemd-run --quiet --wait --pipe --property=MemoryDenyWriteExecute=yes --uid=www-data \
	/usr/bin/python3 -c 'import ctypes; CB = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 0); print("ctypes callback:", CB())'

e2e_step "MemoryDenyWriteExecute=yes: a plain runuser import works, the app fails, the probe fails and names it"
e2e_run runuser -u www-data -- /opt/pyshare/mdweapp/bin/python -c 'import mdwepkg; print(mdwepkg.VALUE)'
e2e_run systemctl restart apache2
e2e_errlog_mark
e2e_expect_http /mdwe 500
e2e_errlog_has "PermissionError: [Errno 1] Operation not permitted"
probe_names_property mdweapp MemoryDenyWriteExecute

e2e_step "without the sandbox drop-in: both apps answer 200, both probes pass"
e2e_run rm /etc/systemd/system/apache2.service.d/10-e2e-sandbox.conf
e2e_run systemctl daemon-reload
e2e_run systemctl restart apache2
e2e_expect_http /home 200 "home: from /home"
e2e_expect_http /mdwe 200 "mdwe: W+X ok"
e2e_expect_rc 0 pyshare probe homeapp
e2e_expect_rc 0 pyshare probe mdweapp
e2e_log "PASS: $E2E_NAME"
