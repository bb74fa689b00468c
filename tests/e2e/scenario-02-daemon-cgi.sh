#!/bin/bash
# Issue 3, scenario 2: mod_wsgi daemon mode and CGI.
# (a) The seed's app in a WSGIDaemonProcess answers 200 with the NumPy version after
#     `pyshare setup` and a restart (the daemon processes inherit Apache's environment).
# (b) A Python CGI script under /usr/lib/cgi-bin (mod_cgid): mod_cgid gives a CGI script only
#     a fixed environment, so PYTHONPATH reaches it only through `PassEnv PYTHONPATH`. Without
#     --cgi it answers 500 with ModuleNotFoundError; `pyshare setup --cgi` writes
#     /etc/apache2/conf-available/pyshare.conf (PassEnv PYTHONPATH) and enables it as
#     `a2enconf pyshare` does; after a restart it answers 200. Removing the last app with --cgi
#     disables and removes the snippet.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "the seed's app in daemon mode, a CGI script, NumPy and Flask hidden from the system"
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_put /var/www/myapp/wsgi.py <"$E2E_DIR/apps/seed/wsgi.py"
# The seed's app in mod_wsgi daemon mode; /cgi-bin/ comes from conf-enabled/serve-cgi-bin.conf
# (mod_alias maps it before mod_wsgi sees the request).
e2e_site myapp cgid <<'CONF'
	WSGIDaemonProcess myapp processes=1 threads=4 display-name=%{GROUP}
	WSGIProcessGroup myapp
	WSGIApplicationGroup %{GLOBAL}
	WSGIScriptAlias / /var/www/myapp/wsgi.py
	<Directory /var/www/myapp>
		Require all granted
	</Directory>
CONF
e2e_put /usr/lib/cgi-bin/hello.py <<'PY'
#!/usr/bin/python3
import numpy
print("Content-Type: text/plain\n\nHello from CGI, NumPy " + numpy.__version__)
PY
e2e_run chmod 0755 /usr/lib/cgi-bin/hello.py
e2e_run useradd --create-home deployer
e2e_run systemctl restart apache2
cgi_body="Hello from CGI, NumPy $numpy_version"$'\n'

e2e_step "before pyshare: both answer 500"
e2e_errlog_mark
e2e_expect_http / 500
e2e_expect_http /cgi-bin/hello.py 500
e2e_errlog_has "ModuleNotFoundError: No module named 'numpy'"

e2e_step "(a) daemon mode: pyshare setup, the deployer's install, a restart: 200"
e2e_run pyshare setup myapp --module numpy --module flask --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp
e2e_run pyshare repair myapp
e2e_probe_before_restart myapp numpy flask
e2e_run systemctl restart apache2
e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"
e2e_run pyshare probe myapp numpy flask
# The daemon really is a separate process group: a process named (wsgi:myapp).
e2e_exec pgrep -f '^\(wsgi:myapp\)' >/dev/null || e2e_fail "no (wsgi:myapp) daemon process"

e2e_step "(b) CGI without --cgi: still 500, ModuleNotFoundError (mod_cgid drops PYTHONPATH)"
e2e_run test ! -e /etc/apache2/conf-enabled/pyshare.conf
e2e_errlog_mark
e2e_expect_http /cgi-bin/hello.py 500
e2e_errlog_has "ModuleNotFoundError: No module named 'numpy'"

e2e_step "(b) pyshare setup --cgi and a restart: the CGI answers 200"
e2e_run pyshare setup myapp --cgi --module numpy --module flask --no-probe
e2e_run test -f /etc/apache2/conf-available/pyshare.conf
e2e_exec cat /etc/apache2/conf-available/pyshare.conf >&2
e2e_exec grep -Eq '^[[:space:]]*PassEnv[[:space:]]+([^#]*[[:space:]])?PYTHONPATH([[:space:]]|$)' \
	/etc/apache2/conf-available/pyshare.conf ||
	e2e_fail "/etc/apache2/conf-available/pyshare.conf has no 'PassEnv PYTHONPATH'"
link=$(e2e_exec readlink /etc/apache2/conf-enabled/pyshare.conf) ||
	e2e_fail "/etc/apache2/conf-enabled/pyshare.conf is not a symlink (not enabled as a2enconf does)"
[[ $link == ../conf-available/pyshare.conf ]] ||
	e2e_fail "/etc/apache2/conf-enabled/pyshare.conf -> $link, expected ../conf-available/pyshare.conf"
e2e_run apache2ctl configtest
e2e_run systemctl restart apache2
e2e_expect_http /cgi-bin/hello.py 200 "$cgi_body"
e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"

e2e_step "removing the last app disables and removes the CGI snippet"
e2e_run pyshare remove myapp
e2e_run test ! -e /etc/apache2/conf-enabled/pyshare.conf
e2e_run test ! -L /etc/apache2/conf-enabled/pyshare.conf
e2e_run test ! -e /etc/apache2/conf-available/pyshare.conf
e2e_run apache2ctl configtest
e2e_run systemctl restart apache2
e2e_expect_http /cgi-bin/hello.py 500
e2e_expect_http / 500
e2e_log "PASS: $E2E_NAME"
