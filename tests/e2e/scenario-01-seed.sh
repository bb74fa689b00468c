#!/bin/bash
# Issue 3, scenario 1: the seed's story. A Flask + NumPy app under mod_wsgi (embedded mode)
# whose modules live only in a venv fails with 500 and ModuleNotFoundError; after
# `pyshare setup` and a restart of apache2 it answers 200 with the real NumPy version.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs "${E2E_SUITE:-bookworm}")
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "the app, with NumPy and Flask hidden from the system Python"
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
[[ $numpy_version =~ ^[0-9]+\.[0-9]+ ]] || e2e_fail "no numpy version in the stash: '$numpy_version'"
e2e_log "numpy in the stash: $numpy_version"
e2e_seed_app
e2e_run useradd --create-home deployer
e2e_run systemctl restart apache2

e2e_step "before pyshare: 500 and ModuleNotFoundError"
e2e_expect_http / 500
e2e_exec grep -F "ModuleNotFoundError: No module named 'numpy'" /var/log/apache2/error.log >&2 ||
	e2e_fail "no ModuleNotFoundError for numpy in /var/log/apache2/error.log"

e2e_step "pyshare setup"
e2e_run pyshare setup myapp --module numpy --module flask --no-probe
e2e_run test -x /opt/pyshare/myapp/bin/python
owner=$(e2e_exec stat -c %U:%G /opt/pyshare/myapp)
[[ $owner == root:deploy ]] || e2e_fail "/opt/pyshare/myapp is owned by $owner, not root:deploy"
e2e_exec getfacl -p /opt/pyshare/myapp >&2
e2e_exec getfacl -pc /opt/pyshare/myapp | grep -qx 'user:www-data:r-x' ||
	e2e_fail "no user:www-data:r-x ACL entry on /opt/pyshare/myapp"
for f in /etc/pyshare/myapp.conf /etc/pyshare/myapp.env /etc/pyshare/services/apache2.service.env \
	/etc/systemd/system/apache2.service.d/50-pyshare.conf; do
	e2e_run test -s "$f"
done
e2e_exec grep -F 'EnvironmentFile=' /etc/systemd/system/apache2.service.d/50-pyshare.conf >&2 ||
	e2e_fail "the apache2 drop-in has no EnvironmentFile="
# The daemon-reload happened: systemd already knows the new EnvironmentFile.
envfiles=$(e2e_exec systemctl show apache2.service --property=EnvironmentFiles --value)
e2e_log "apache2 EnvironmentFiles: $envfiles"
[[ $envfiles == */etc/pyshare/services/apache2.service.env* ]] ||
	e2e_fail "systemd does not know apache2's pyshare EnvironmentFile (no daemon-reload?)"

e2e_step "a deployer installs the modules into the venv; repair; probe"
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp
e2e_run pyshare repair myapp
e2e_run pyshare probe myapp numpy flask

e2e_step "after a restart of apache2: 200 and the real NumPy version"
e2e_run systemctl restart apache2
e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"
e2e_log "PASS: $E2E_NAME"
