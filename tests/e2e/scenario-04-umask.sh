#!/bin/bash
# Issue 3, scenario 4: a deployer in the deploy group installs a wheel with a C extension with
# pip under umask 077 after setup. pip chmods the extension to 0711 (executable members keep
# their x bits), which shrinks the ACL mask to --x and cancels www-data's r-x entry: the default
# ACL does not save it. The probe names the unreadable .so; `pyshare repair` fixes it; after a
# restart the app imports the extension and answers 200.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
wheel=""
e2e_cext_wheel wheel

e2e_boot "$tree"
e2e_install_pyshare

e2e_step "an app that imports the C extension pstest_cext"
e2e_put /var/www/cext/wsgi.py <<'PY'
import pstest_cext


def application(environ, start_response):
    body = ("pstest_cext.add(2, 3) = %d" % pstest_cext.add(2, 3)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
PY
e2e_site cext <<'CONF'
	WSGIScriptAlias / /var/www/cext/wsgi.py
	WSGIApplicationGroup %{GLOBAL}
	<Directory /var/www/cext>
		Require all granted
	</Directory>
CONF
e2e_run useradd --create-home deployer
wheel_in=/tmp/$(basename "$wheel")
e2e_put "$wheel_in" <"$wheel"
e2e_run chmod 0644 "$wheel_in"

e2e_step "pyshare setup; the deployer pip-installs the wheel with umask 077"
e2e_run pyshare setup cext --module pstest_cext --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_run runuser -u deployer -- env HOME=/home/deployer /bin/sh -ec "umask 077
	/opt/pyshare/cext/bin/pip install --no-index --no-deps --no-cache-dir \
		--disable-pip-version-check $wheel_in"
so=$(e2e_sh 'ls "$1"/pstest_cext.*.so' "$(e2e_site_packages cext)") || e2e_fail "pip did not install the extension"
e2e_exec stat -c '%A %U:%G %n' "$so" >&2
e2e_exec getfacl -p "$so" >&2
# The story's premise: pip left www-data unable to read the extension.
if e2e_exec runuser -u www-data -- test -r "$so"; then
	e2e_fail "www-data can read $so after pip under umask 077: the scenario's premise does not hold"
fi

e2e_step "the probe fails and names the unreadable .so"
e2e_expect_rc 1 pyshare probe cext pstest_cext
grep -F -- "$so" <<<"$E2E_OUT" | grep -Eiq 'cannot read|unreadable|not readable' ||
	e2e_fail "the probe's output does not name $so as unreadable"

e2e_step "pyshare repair; the probe passes"
e2e_expect_rc 0 pyshare repair cext
e2e_exec getfacl -p "$so" >&2
e2e_exec runuser -u www-data -- test -r "$so" || e2e_fail "www-data still cannot read $so after repair"
e2e_probe_before_restart cext pstest_cext
e2e_out_has "pstest_cext" "the probe's output"

e2e_step "after a restart of apache2: the app imports the extension"
e2e_run systemctl restart apache2
e2e_expect_http / 200 "pstest_cext.add(2, 3) = 5"
e2e_expect_rc 0 pyshare probe cext pstest_cext
e2e_log "PASS: $E2E_NAME"
