#!/bin/bash
# Issue 3, scenario 8: not only Apache. The seed's app served by Debian's gunicorn (the system
# one, running under /usr/bin/python3) from a unit with its own User=webapp; NumPy and Flask
# live only in the app's venv. `pyshare setup myapp --service myapp-gunicorn.service` finds the
# user over the bus, wires the unit (its PYTHONPATH makes the venv importable to the system
# gunicorn), and after a restart the page on :8000 answers 200 with the NumPy version.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "the seed's app under gunicorn as webapp, NumPy and Flask hidden from the system"
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_exec python3 -c 'import gunicorn' || e2e_fail "the system's gunicorn no longer imports"
e2e_put /var/www/myapp/wsgi.py <"$E2E_DIR/apps/seed/wsgi.py"
e2e_run useradd --system --no-create-home --shell /usr/sbin/nologin webapp
e2e_run useradd --create-home deployer
e2e_put /etc/systemd/system/myapp-gunicorn.service <<'UNIT'
[Unit]
Description=The seed's app under gunicorn
After=network.target

[Service]
User=webapp
ExecStart=/usr/bin/gunicorn --bind 127.0.0.1:8000 --chdir /var/www/myapp wsgi:application

[Install]
WantedBy=multi-user.target
UNIT
e2e_run systemctl daemon-reload

e2e_step "before pyshare: gunicorn cannot load the app (ModuleNotFoundError), nothing on :8000"
e2e_try systemctl start myapp-gunicorn.service
deadline=$((SECONDS + 30))
until e2e_exec journalctl -u myapp-gunicorn.service --no-pager -n 200 |
	grep -F "ModuleNotFoundError: No module named 'numpy'" >&2; do
	((SECONDS < deadline)) || e2e_fail "no ModuleNotFoundError for numpy in myapp-gunicorn's journal after 30 s"
	sleep 0.2
done
e2e_expect_http :8000/ 000
e2e_exec systemctl stop myapp-gunicorn.service || true
e2e_exec systemctl reset-failed myapp-gunicorn.service || true

e2e_step "pyshare setup --service myapp-gunicorn.service: the user webapp comes from the unit"
e2e_run pyshare setup myapp --service myapp-gunicorn.service --module numpy --module flask --no-probe
e2e_exec cat /etc/pyshare/myapp.conf >&2
e2e_exec grep -qx 'User=webapp' /etc/pyshare/myapp.conf ||
	e2e_fail "/etc/pyshare/myapp.conf has no User=webapp: the user was not taken from the unit"
e2e_exec getfacl -pc /opt/pyshare/myapp | grep -qx 'user:webapp:r-x' ||
	e2e_fail "no user:webapp:r-x ACL entry on /opt/pyshare/myapp"
e2e_run test -s /etc/systemd/system/myapp-gunicorn.service.d/50-pyshare.conf
envfiles=$(e2e_exec systemctl show myapp-gunicorn.service --property=EnvironmentFiles --value)
e2e_log "myapp-gunicorn EnvironmentFiles: $envfiles"
[[ $envfiles == */etc/pyshare/services/myapp-gunicorn.service.env* ]] ||
	e2e_fail "systemd does not know myapp-gunicorn's pyshare EnvironmentFile (no daemon-reload?)"
# Apache is not concerned.
e2e_run test ! -e /etc/systemd/system/apache2.service.d/50-pyshare.conf

e2e_step "the deployer installs the modules; repair; probe as webapp"
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp
e2e_run pyshare repair myapp
e2e_expect_rc 0 pyshare probe myapp numpy flask
e2e_out_has "as webapp" "the probe's output"
e2e_expect_rc 0 pyshare probe --interpreter myapp numpy flask

e2e_step "after a restart of myapp-gunicorn: 200 and the real NumPy version on :8000"
e2e_run systemctl restart myapp-gunicorn.service
e2e_wait_http :8000/ 200 30
e2e_expect_http :8000/ 200 "Hello, NumPy version is $numpy_version"
user=$(e2e_exec ps -o user= -p "$(e2e_main_pid myapp-gunicorn.service)")
[[ $user == webapp ]] || e2e_fail "gunicorn runs as '$user', not webapp"
e2e_log "PASS: $E2E_NAME"
