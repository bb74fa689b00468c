#!/bin/bash
# Issue 3, scenario 3: two apps on one apache2. app1 imports its own package app1pkg, app2 its
# own app2pkg, each living only in its app's venv; both are set up on apache2.service, and
# after one restart both answer 200 (one merged EnvironmentFile carries both paths). Removing
# app1 and restarting leaves app2 working and app1 failing.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "two WSGI apps on one Apache, each importing its own package"
e2e_pkg_apps app1 app2
e2e_run useradd --create-home deployer
e2e_run systemctl restart apache2
e2e_errlog_mark
e2e_expect_http /app1 500
e2e_expect_http /app2 500
e2e_errlog_has "ModuleNotFoundError: No module named 'app1pkg'"
e2e_errlog_has "ModuleNotFoundError: No module named 'app2pkg'"

e2e_step "pyshare setup app1 and app2 on apache2.service; the deployer writes the packages"
e2e_run pyshare setup app1 --module app1pkg --no-probe
e2e_run pyshare setup app2 --module app2pkg --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_put_pkg "$(e2e_site_packages app1)" app1pkg 'VALUE = "one"'
e2e_put_pkg "$(e2e_site_packages app2)" app2pkg 'VALUE = "two"'
e2e_exec cat /etc/pyshare/services/apache2.service.env >&2
for n in 1 2; do
	e2e_exec grep -qF "/opt/pyshare/app$n/lib/" /etc/pyshare/services/apache2.service.env ||
		e2e_fail "apache2's merged EnvironmentFile does not name app$n's site-packages"
done
e2e_run pyshare repair app1
e2e_run pyshare repair app2
e2e_probe_before_restart app1 app1pkg
e2e_probe_before_restart app2 app2pkg

e2e_step "one restart: both answer 200"
e2e_run systemctl restart apache2
e2e_expect_http /app1 200 "app1: one"
e2e_expect_http /app2 200 "app2: two"
e2e_run pyshare probe app1 app1pkg
e2e_run pyshare probe app2 app2pkg
e2e_try pyshare list
e2e_out_has app1 "pyshare list"
e2e_out_has app2 "pyshare list"

e2e_step "pyshare remove app1 and a restart: app2 still 200, app1 500"
e2e_run pyshare remove app1
e2e_exec cat /etc/pyshare/services/apache2.service.env >&2
! e2e_exec grep -qF /opt/pyshare/app1/ /etc/pyshare/services/apache2.service.env ||
	e2e_fail "apache2's merged EnvironmentFile still names app1 after remove"
e2e_run test -s /etc/systemd/system/apache2.service.d/50-pyshare.conf
e2e_run systemctl restart apache2
e2e_errlog_mark
e2e_expect_http /app2 200 "app2: two"
e2e_expect_http /app1 500
e2e_errlog_has "ModuleNotFoundError: No module named 'app1pkg'"
e2e_run pyshare probe app2 app2pkg
e2e_try pyshare list
e2e_out_lacks app1 "pyshare list"
e2e_out_has app2 "pyshare list"
e2e_log "PASS: $E2E_NAME"
