#!/bin/bash
# Issue 13: two apps on one apache2, each with its own version (1.0, 2.0) of one small package
# (a wheel built on the host) and the seed's NumPy (Debian's python3-numpy packed as a wheel
# inside the tree, then hidden from the system Python). Each page shows its verpkg's version,
# NumPy's, the venv NumPy came from, and which mod_wsgi process group and interpreter serve it
# (mod_wsgi.process_group, mod_wsgi.application_group). In the shared PYTHONPATH: setup of the
# second names the conflict, status exits 1 and names it, and the page of the app that loses
# shows the other's version, as the report predicted. Wired in mod_wsgi daemon processes of
# their own (setup --wsgi-script, application-group=%{GLOBAL}): each page shows its own version
# and NumPy from its own venv, served by its daemon in the main interpreter, and the probe of
# each agrees; while one app is still shared, the daemon of the other inherits its PYTHONPATH
# (the leak the probe names: that daemon imports the other app's NumPy).
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# E2E_SUITE=trixie: Debian 13 (mod_wsgi 5, Python 3.13), pyshare compiled inside as scenario 9 does.
suite=${E2E_SUITE:-bookworm}
tree=$(e2e_rootfs "$suite")
e2e_boot "$tree"
if [[ $suite == bookworm ]]; then
	e2e_install_pyshare
else
	e2e_build_pyshare_inside /usr/src/pyshare
fi

e2e_step "NumPy: Debian's python3-numpy packed as a wheel inside the tree, then hidden from the system Python"
e2e_put /var/tmp/pack-wheels <"$E2E_REPO/tests/pkg/pack-wheels"
numpy_whl=$(e2e_exec python3 /var/tmp/pack-wheels --out /var/tmp/wheels numpy) || e2e_fail "pack-wheels numpy failed"
e2e_run chmod -R a+rX /var/tmp/wheels
e2e_hide_system_modules
nv=$(e2e_stash_numpy_version)
e2e_log "numpy $nv: $numpy_whl"

e2e_step "the package verpkg 1.0 and 2.0, built on the host; two apps that show its version and NumPy's"
wheels=
e2e_tmpdir wheels
for v in 1.0 2.0; do
	/usr/bin/python3 "$E2E_REPO/tests/system/lib/mkwheel.py" --out "$wheels" --name verpkg --version "$v" \
		--module "verpkg/__init__.py=__version__ = '$v'" >/dev/null || e2e_fail "cannot build verpkg $v"
	e2e_put "/var/tmp/verpkg-$v-py3-none-any.whl" <"$wheels/verpkg-$v-py3-none-any.whl"
done
e2e_run chmod a+r /var/tmp/verpkg-1.0-py3-none-any.whl /var/tmp/verpkg-2.0-py3-none-any.whl
for n in alpha beta; do
	e2e_put "/var/www/$n/wsgi.py" <<PY
import numpy
import verpkg


def application(environ, start_response):
    venv = numpy.__file__.split("/lib/python3")[0]
    group = environ.get("mod_wsgi.process_group") or "embedded"
    interpreter = environ.get("mod_wsgi.application_group") or "main interpreter"
    body = f"$n: {verpkg.__version__}, numpy {numpy.__version__} from {venv} ({group}, {interpreter})".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
PY
done
{
	printf '\tWSGIScriptAlias /alpha /var/www/alpha/wsgi.py\n\tWSGIScriptAlias /beta /var/www/beta/wsgi.py\n'
	printf '\tWSGIApplicationGroup %%{GLOBAL}\n\t<Directory /var/www>\n\t\tRequire all granted\n\t</Directory>\n'
} | e2e_site shared
e2e_run useradd --create-home deployer

e2e_step "shared PYTHONPATH: alpha gets 1.0, beta 2.0; setup of beta names the conflict"
e2e_run pyshare setup alpha --module verpkg --module numpy --no-probe
e2e_run pyshare setup beta --module verpkg --module numpy --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_run runuser -u deployer -- /opt/pyshare/alpha/bin/pip install --quiet --no-index /var/tmp/verpkg-1.0-py3-none-any.whl "$numpy_whl"
e2e_run runuser -u deployer -- /opt/pyshare/beta/bin/pip install --quiet --no-index /var/tmp/verpkg-2.0-py3-none-any.whl "$numpy_whl"
e2e_run pyshare repair alpha
e2e_expect_rc 1 pyshare setup beta
e2e_out_has "conflict: import name verpkg is provided by alpha (verpkg 1.0) and beta (verpkg 2.0): apache2.service imports alpha's verpkg 1.0 for all of them (first in its PYTHONPATH); wire beta in a mod_wsgi daemon process of its own: pyshare setup beta --wsgi-script=PATH" "setup beta"
e2e_out_has "imported from the venv of the app alpha" "the probe of beta"
e2e_expect_rc 1 pyshare status beta
e2e_out_has "problem: conflict: import name verpkg" "pyshare status beta"
e2e_expect_rc 1 pyshare --json status beta
e2e_out_has '"cause":"conflict","name":"verpkg","imported":"alpha"' "pyshare --json status beta"
e2e_run systemctl restart apache2
e2e_expect_http /alpha 200 "alpha: 1.0, numpy $nv from /opt/pyshare/alpha (embedded, main interpreter)"
e2e_expect_http /beta 200 "beta: 1.0, numpy $nv from /opt/pyshare/alpha (embedded, main interpreter)"

e2e_step "beta in a daemon process, alpha still shared: the daemon inherits alpha's PYTHONPATH"
e2e_run a2dissite -q shared
e2e_run a2ensite -q 000-default
e2e_expect_rc 1 pyshare setup beta --wsgi-script=/var/www/beta/wsgi.py --restart
e2e_out_has "enabled /etc/apache2/conf-enabled/pyshare-beta.conf (a2enconf pyshare-beta)" "setup beta --wsgi-script"
e2e_out_has "imported from the venv of the app alpha" "the probe of the daemon-wired beta"
e2e_expect_http /beta 200 "beta: 1.0, numpy $nv from /opt/pyshare/alpha (pyshare-beta, main interpreter)"
e2e_exec cat /etc/apache2/conf-available/pyshare-beta.conf >&2

e2e_step "both in daemon processes of their own: each page shows its own version, the probes agree"
e2e_run pyshare setup alpha --wsgi-script=/var/www/alpha/wsgi.py --restart
e2e_run test ! -e /etc/pyshare/services/apache2.service.env
e2e_expect_http /alpha 200 "alpha: 1.0, numpy $nv from /opt/pyshare/alpha (pyshare-alpha, main interpreter)"
e2e_expect_http /beta 200 "beta: 2.0, numpy $nv from /opt/pyshare/beta (pyshare-beta, main interpreter)"
e2e_try pyshare probe alpha
((E2E_RC == 0)) || e2e_fail "the probe of alpha failed"
e2e_out_has "ok    verpkg 1.0  /opt/pyshare/alpha/lib/" "the probe of alpha"
e2e_out_has "ok    numpy $nv  /opt/pyshare/alpha/lib/" "the probe of alpha"
e2e_try pyshare probe beta
((E2E_RC == 0)) || e2e_fail "the probe of beta failed"
e2e_out_has "ok    verpkg 2.0  /opt/pyshare/beta/lib/" "the probe of beta"
e2e_out_has "ok    numpy $nv  /opt/pyshare/beta/lib/" "the probe of beta"
e2e_try pyshare status beta
((E2E_RC == 0)) || e2e_fail "pyshare status beta exited $E2E_RC"
# display-name=%{GROUP}: Apache's argv[0] (/usr/sbin/apache2) limits it to 17 characters.
e2e_try ps -eo user,args
e2e_out_has "www-data (wsgi:pyshare-alp" "the process list"
e2e_out_has "www-data (wsgi:pyshare-bet" "the process list"

e2e_step "remove takes the daemon conf away; the probe then says Apache would not use the venv"
e2e_run a2disconf -q pyshare-alpha
e2e_expect_rc 1 pyshare probe alpha
e2e_out_has "Apache defines no WSGIDaemonProcess pyshare-alpha" "the probe of alpha with its conf disabled"
e2e_run pyshare remove alpha
e2e_run test ! -e /etc/apache2/conf-available/pyshare-alpha.conf
e2e_run apache2ctl configtest

e2e_step "Apache's configtest fails (a broken file in conf-enabled): setup changes nothing of Apache's configuration, Apache keeps serving"
e2e_sh 'echo "ThisIsNotADirective on" >/etc/apache2/conf-enabled/zz-broken.conf'
apache_state() { e2e_sh 'find /etc/apache2 -printf "%p %y %l %m\n" | sort; find /etc/apache2 -type f -exec sha256sum {} + | sort'; }
before=$(apache_state)
e2e_expect_rc 1 pyshare setup alpha --wsgi-script=/var/www/alpha/wsgi.py --restart
e2e_out_has "Apache's configuration test failed with /etc/apache2/conf-available/pyshare-alpha.conf, so it was put back as it was and Apache's configuration is unchanged" "setup alpha with a broken Apache configuration"
e2e_out_has "Invalid command 'ThisIsNotADirective'" "setup alpha with a broken Apache configuration"
[[ $before == "$(apache_state)" ]] || e2e_fail "Apache's configuration changed although its configtest failed"
e2e_expect_http /beta 200 "beta: 2.0, numpy $nv from /opt/pyshare/beta (pyshare-beta, main interpreter)"
e2e_run rm /etc/apache2/conf-enabled/zz-broken.conf
e2e_log "PASS: $E2E_NAME"
