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
# Then, with the sandbox gone, what else the probe takes from the service at probe time:
#  - its user as it is now (src/verbs.c, verb_probe): APACHE_RUN_USER=web2 in envvars, with no
#    setup and no restart, makes the probe say "apache2.service runs as web2 now" and run as web2,
#    which fails on a module file that www-data may read and web2 may not; restored, it passes
#    as www-data;
#  - the environment of its next start (src/bus.c, bus_transient_start): a module that imports
#    only with PST_TOKEN=1 from an Environment= of apache2's and PST_EXTRA from an
#    EnvironmentFile= of apache2's (neither pyshare's) fails a plain runuser import with
#    pyshare's environment; the probe passes with both in a drop-in (daemon-reload, no
#    restart) and fails with either alone and without the drop-in.
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

# ---- the user the service runs as now --------------------------------------------------------
e2e_step "the probe runs as the user apache2 runs as now: a module file that www-data may read and web2 may not"
sp=$(e2e_site_packages mdweapp)
e2e_put_pkg "$sp" wwwonly 'VALUE = "for www-data"'
e2e_run pyshare repair mdweapp
e2e_run useradd --no-create-home --shell /usr/sbin/nologin web2
# web2 may read the whole venv (ACL entries added without touching the masks), but for one file.
e2e_run setfacl -R -n -m u:web2:rX /opt/pyshare/mdweapp
e2e_run setfacl -n -x u:web2 "$sp/wwwonly/__init__.py"
e2e_exec getfacl -p "$sp/wwwonly/__init__.py" >&2
e2e_run runuser -u www-data -- test -r "$sp/wwwonly/__init__.py"
e2e_expect_rc 1 runuser -u web2 -- test -r "$sp/wwwonly/__init__.py"
e2e_expect_rc 0 pyshare probe mdweapp wwwonly
e2e_out_has "probe mdweapp as www-data (" "the probe before the switch"

e2e_step "APACHE_RUN_USER=web2 in /etc/apache2/envvars (no setup, no restart): the probe runs as web2"
e2e_run cp -p /etc/apache2/envvars /etc/apache2/envvars.e2e-orig
e2e_run sed -i -e 's/^export APACHE_RUN_USER=.*/export APACHE_RUN_USER=web2/' \
	-e 's/^export APACHE_RUN_GROUP=.*/export APACHE_RUN_GROUP=web2/' /etc/apache2/envvars
e2e_exec grep -E '^export APACHE_RUN_(USER|GROUP)=' /etc/apache2/envvars >&2
# Apache's own view of its run configuration; pyshare reads the same from envvars (src/envvars.c).
e2e_expect_rc 0 apache2ctl -t -D DUMP_RUN_CFG
e2e_out_has 'User: name="web2"' "apache2ctl -t -D DUMP_RUN_CFG"
e2e_expect_rc 1 pyshare probe mdweapp wwwonly
e2e_out_has "apache2.service runs as web2 now (setup stored www-data): probing as web2; run \`pyshare setup mdweapp --user=web2\`" "the probe after the switch"
e2e_out_has "probe mdweapp as web2 (" "the probe after the switch"
e2e_out_has "FAIL  wwwonly  PermissionError: [Errno 13] Permission denied: '$sp/wwwonly/__init__.py'" \
	"the probe after the switch"
e2e_out_has "web2 cannot read $sp/wwwonly/__init__.py (" "the probe after the switch"
# repair would give access to www-data again, not to web2: the fix named is setup with the user.
grep -F "web2 cannot read $sp/wwwonly/__init__.py (" <<<"$E2E_OUT" | grep -qF "run \`pyshare setup mdweapp --user=web2\`" ||
	e2e_fail "the probe after the switch does not name \`pyshare setup mdweapp --user=web2\` as the fix"
# Only that file: as web2 the rest of the venv imports.
e2e_expect_rc 0 pyshare probe mdweapp mdwepkg
e2e_out_has "probe mdweapp as web2 (" "the probe of mdwepkg after the switch"

e2e_step "envvars restored: the probe runs as www-data again and passes"
e2e_run mv /etc/apache2/envvars.e2e-orig /etc/apache2/envvars
e2e_expect_rc 0 pyshare probe mdweapp wwwonly
e2e_out_has "probe mdweapp as www-data (" "the probe after the restore"
e2e_out_lacks "runs as web2 now" "the probe after the restore"

# ---- the environment of the unit's next start ------------------------------------------------
# pstenv imports only with PST_TOKEN=1 (from an Environment= of apache2's) and PST_EXTRA=extra-42
# (from an EnvironmentFile= of apache2's): neither is pyshare's.
e2e_step "a module that imports only with apache2's own Environment= and EnvironmentFile="
e2e_put_pkg "$sp" pstenv 'import os

_token, _extra = os.environ.get("PST_TOKEN"), os.environ.get("PST_EXTRA")
if _token != "1" or _extra != "extra-42":
    raise RuntimeError("pstenv needs PST_TOKEN=1 and PST_EXTRA=extra-42, got PST_TOKEN=%r PST_EXTRA=%r" % (_token, _extra))
VALUE = "env ok"'
e2e_run pyshare repair mdweapp
printf 'PST_EXTRA=extra-42\n' | e2e_put /etc/default/pst-extra
# A plain runuser import with pyshare's environment only (its EnvironmentFile for apache2) fails;
# with the two variables added it works: the module is found, only the environment decides.
e2e_expect_rc 1 /bin/sh -c 'set -a; . /etc/pyshare/services/apache2.service.env
	exec runuser -u www-data -- /usr/bin/python3 -c "import pstenv"'
e2e_out_has "RuntimeError: pstenv needs PST_TOKEN=1 and PST_EXTRA=extra-42, got PST_TOKEN=None PST_EXTRA=None" \
	"a plain runuser import with pyshare's environment"
e2e_run /bin/sh -c 'set -a; . /etc/pyshare/services/apache2.service.env; PST_TOKEN=1; PST_EXTRA=extra-42
	exec runuser -u www-data -- /usr/bin/python3 -c "import pstenv; print(pstenv.VALUE)"'

# probe_env_fails TOKEN EXTRA: `pyshare probe mdweapp pstenv` fails, and the module saw
# PST_TOKEN=TOKEN and PST_EXTRA=EXTRA (Python reprs).
probe_env_fails() {
	e2e_expect_rc 1 pyshare probe mdweapp pstenv
	e2e_out_has "FAIL  pstenv  RuntimeError: pstenv needs PST_TOKEN=1 and PST_EXTRA=extra-42, got PST_TOKEN=$1 PST_EXTRA=$2" \
		"the probe"
}

e2e_step "apache2 without those settings: the probe fails like the plain import"
probe_env_fails None None

e2e_step "a drop-in with Environment=PST_TOKEN=1 and EnvironmentFile=/etc/default/pst-extra: the probe passes"
printf '[Service]\nEnvironment=PST_TOKEN=1\nEnvironmentFile=/etc/default/pst-extra\n' | e2e_dropin apache2.service 20-e2e-env
[[ " $(e2e_prop apache2.service Environment) " == *" PST_TOKEN=1 "* ]] ||
	e2e_fail "systemd did not load apache2's Environment=PST_TOKEN=1"
[[ $(e2e_prop apache2.service EnvironmentFiles) == *"/etc/default/pst-extra (ignore_errors=no)"* ]] ||
	e2e_fail "systemd did not load apache2's EnvironmentFile=/etc/default/pst-extra"
# Not restarted: the probe takes the environment of the next start, not the running process's.
e2e_expect_rc 0 pyshare probe mdweapp pstenv
e2e_out_has "probe mdweapp as www-data (embedded Python" "the probe with the drop-in"
e2e_out_has "ok    pstenv   $sp/pstenv/__init__.py" "the probe with the drop-in"

e2e_step "each setting alone is not enough: the probe passes on exactly what the unit gives"
printf '[Service]\nEnvironment=PST_TOKEN=1\n' | e2e_dropin apache2.service 20-e2e-env
probe_env_fails "'1'" None
printf '[Service]\nEnvironmentFile=/etc/default/pst-extra\n' | e2e_dropin apache2.service 20-e2e-env
probe_env_fails None "'extra-42'"

e2e_step "the drop-in removed: the probe fails again"
e2e_dropin apache2.service 20-e2e-env --remove
probe_env_fails None None
e2e_log "PASS: $E2E_NAME"
