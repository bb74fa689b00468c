#!/bin/bash
# Issue 14: a Python upgrade. On Debian 12 (bookworm: Python 3.11), the seed's app in a venv with
# NumPy and Flask, a pure-Python package with a console script (pstest_pure) and a C extension
# (pstest_cext), served by mod_wsgi: 200. The venv and what pyshare wrote are carried into Debian
# 13 (trixie: Python 3.13, mod_wsgi 5) as a dist-upgrade leaves them: the same /opt/pyshare/myapp,
# /etc/pyshare, apache2 drop-in, site, app code and accounts. There, with pyshare 0.1.0 compiled
# for trixie and installed from its .deb:
#   - the page is 500; status and the probe name the mismatch (3.11 against 3.13,
#     "cause": "python-mismatch") and `pyshare rebuild myapp` as the fix;
#   - installing mod_wsgi's or python3's package again (the same version, made from its installed
#     files) fires pyshare's dpkg trigger: dpkg's output and the journal (PYSHARE_APP=myapp) carry
#     the mismatch, and nothing changes;
#   - rebuilds whose requirements cannot be met (pinned versions that have no wheel for 3.13; with
#     --upgrade, a wheel taken away) leave the old venv as it was: contents, inodes, owners, modes
#     and ACLs;
#   - `rebuild --upgrade --find-links` (NumPy, Flask and what Flask needs packed from Debian 13's
#     own packages, the test packages built for 3.13 inside) lists the version changes; after a
#     restart the page is 200 with trixie's NumPy, the console script runs, status is ok, and the
#     trigger has nothing more to say.
# e2e-tree: trixie   (bookworm too, which tests/e2e/run always prepares)
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

bookworm=$(e2e_rootfs bookworm)
trixie=$(e2e_rootfs trixie)
V=/opt/pyshare/myapp
MKWHEEL=tests/system/lib/mkwheel.py
# pstest_pure 1.0: pure Python; its console script uses the C extension.
PURE_MODULE='pstest_pure/__init__.py=import sys\nimport pstest_cext\n\n\ndef main():\n    print("pstest-pure on Python %d.%d: pstest_cext.add(2, 3) = %d" % (sys.version_info[0], sys.version_info[1], pstest_cext.add(2, 3)))'
PURE_ARGS=(--name pstest_pure --version 1.0 --module "$PURE_MODULE" --script pstest-pure=pstest_pure:main)

# console_script PYVER: the venv's console script, run as www-data, says so on Python PYVER.
console_script() {
	local out
	out=$(e2e_exec runuser -u www-data -- "$V/bin/pstest-pure" 2>&1) || e2e_fail "$V/bin/pstest-pure failed: $out"
	e2e_log "$V/bin/pstest-pure: $out"
	[[ $out == "pstest-pure on Python $1: pstest_cext.add(2, 3) = 5" ]] ||
		e2e_fail "$V/bin/pstest-pure said '$out', expected Python $1 and 5"
}

# ---- Debian 12 -------------------------------------------------------------------------------

carry=""
e2e_tmpdir carry
cext_wheel=""
e2e_cext_wheel cext_wheel
pure_wheel=$(/usr/bin/python3 "$E2E_REPO/$MKWHEEL" --out "$carry" "${PURE_ARGS[@]}") ||
	e2e_fail "cannot build the pstest_pure wheel on the host"

e2e_boot "$bookworm"
e2e_install_pyshare
e2e_step "Debian 12: the seed's app in a venv with NumPy, Flask, pstest_pure and pstest_cext"
e2e_hide_system_modules
old_numpy=$(e2e_stash_numpy_version)
e2e_seed_app
e2e_run useradd --create-home deployer
e2e_run pyshare setup myapp --module numpy --module flask --module pstest_pure --module pstest_cext --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp
for w in "$cext_wheel" "$pure_wheel"; do
	name=$(basename "$w")
	e2e_put "/var/tmp/wheels/$name" <"$w"
done
e2e_run chmod -R a+rX /var/tmp/wheels
e2e_run runuser -u deployer -- env HOME=/home/deployer "$V/bin/pip" install --quiet --no-index --no-cache-dir \
	--disable-pip-version-check --find-links /var/tmp/wheels pstest_pure pstest_cext
e2e_run pyshare repair myapp
e2e_run systemctl restart apache2
e2e_expect_http / 200 "Hello, NumPy version is $old_numpy"
e2e_run pyshare probe myapp
console_script 3.11

e2e_step "what a dist-upgrade keeps: the venv, /etc/pyshare, the drop-in, the site, the app's code, the accounts"
# The accounts go by name: the trees' system ids differ (trixie's messagebus has the gid that
# bookworm's groupadd --system gives deploy), and a dist-upgrade keeps each file's owner as
# the system resolves it.
deploy_members=$(e2e_sh 'getent group deploy | cut -d: -f4')
e2e_log "deploy's members on Debian 12: $deploy_members"
e2e_exec tar -C / --acls --xattrs -cpf - opt/pyshare etc/pyshare etc/systemd/system/apache2.service.d \
	etc/tmpfiles.d/pyshare-myapp.conf etc/apache2/sites-available/myapp.conf etc/apache2/sites-enabled/myapp.conf \
	var/www/myapp \
	>"$carry/state.tar" || e2e_fail "cannot carry the state out of Debian 12"
e2e_log "carried $(du -h "$carry/state.tar" | cut -f1)"
e2e_shutdown

# ---- Debian 13 -------------------------------------------------------------------------------

e2e_boot "$trixie"
e2e_step "Debian 13 as the dist-upgrade left it"
e2e_run groupadd --system deploy
for u in ${deploy_members//,/ }; do
	if [[ $u == deployer ]]; then
		e2e_run useradd --create-home deployer
	else
		e2e_sh 'id -u "$1" >/dev/null 2>&1 ||
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1"' "$u"
	fi
	e2e_run usermod --append --groups deploy "$u"
done
e2e_exec tar -C / --acls --xattrs -xpf - <"$carry/state.tar" || e2e_fail "cannot unpack the state in Debian 13"
e2e_run a2dissite -q 000-default
e2e_run systemctl daemon-reload
e2e_exec getfacl -p "$V" >&2

e2e_step "pyshare for Debian 13: compiled inside, installed from its .deb (its triggers known to dpkg)"
e2e_compile_pyshare_inside /usr/src/pyshare
e2e_install_pyshare_deb_inside /usr/src/pyshare
e2e_exec grep -x -e '/usr/lib/apache2/modules/mod_wsgi.so pyshare/noawait' -e '/usr/bin/python3 pyshare/noawait' \
	/var/lib/dpkg/triggers/File >&2 || e2e_fail "dpkg has no file trigger of pyshare on mod_wsgi.so or python3"
[[ $(e2e_exec grep -c ' pyshare/noawait$' /var/lib/dpkg/triggers/File) == 3 ]] ||
	e2e_fail "dpkg does not know pyshare's three file triggers"

e2e_step "wheels for Python 3.13: NumPy, Flask and its requirements from Debian 13's packages; the test packages built inside"
e2e_run python3 -I /usr/src/pyshare/tests/pkg/pack-wheels --out /var/tmp/wheels-3.13 \
	numpy Flask Werkzeug Jinja2 MarkupSafe itsdangerous click blinker
e2e_run python3 -I "/usr/src/pyshare/$MKWHEEL" --out /var/tmp/wheels-3.13 --name pstest_cext --version 2.0 \
	--ext pstest_cext=/usr/src/pyshare/tests/system/lib/pstest_cext.c
e2e_run python3 -I "/usr/src/pyshare/$MKWHEEL" --out /var/tmp/wheels-3.13 "${PURE_ARGS[@]}"
e2e_run chmod -R a+rX /var/tmp/wheels-3.13
e2e_exec ls /var/tmp/wheels-3.13 >&2
# The seed's premise again: the app's modules only in its venv.
e2e_hide_system_modules
new_numpy=$(e2e_stash_numpy_version)

e2e_step "apache2 as the upgrade's reboot starts it: 500"
e2e_run systemctl restart apache2
e2e_expect_http / 500
e2e_exec tail -n 5 /var/log/apache2/error.log >&2

e2e_step "status and the probe: python-mismatch, 3.11 against 3.13, and the rebuild"
libpython=$(e2e_sh 'readlink -f /usr/lib/apache2/modules/mod_wsgi.so')
MISMATCH="$V was built by Python 3.11 (pyvenv.cfg says version = 3.11.2; it has lib/python3.11; its extension modules are built for Python 3.11), but apache2.service runs Python 3.13 (mod_wsgi: /usr/lib/apache2/modules/mod_wsgi.so links libpython3.13.so.1.0): run \`pyshare rebuild myapp\`"
e2e_log "mod_wsgi.so is $libpython"
e2e_expect_rc 1 pyshare status myapp
e2e_out_has "  problem: $MISMATCH" "status"
# Nothing else: what was carried over is all that pyshare looks for.
[[ $(grep -c '^  problem: ' <<<"$E2E_OUT") == 1 ]] || e2e_fail "status names other problems than the mismatch"
json=$(e2e_exec pyshare --json status myapp) && e2e_fail "pyshare --json status myapp exited 0"
cause=$(jq -c '.apps[0].causes[] | select(.cause == "python-mismatch") | {cause, service_python, venv_python, fix}' <<<"$json")
[[ $cause == '{"cause":"python-mismatch","service_python":"3.13","venv_python":"3.11","fix":"pyshare rebuild myapp"}' ]] ||
	e2e_fail "status --json: the mismatch is $cause"
e2e_expect_rc 1 pyshare probe myapp
e2e_out_has "$MISMATCH" "the probe"
json=$(e2e_exec pyshare --json probe myapp) && e2e_fail "pyshare --json probe myapp exited 0"
cause=$(jq -c '[.ok, (.causes[] | select(.cause == "python-mismatch") | .service_python, .venv_python, .fix)]' <<<"$json")
[[ $cause == '[false,"3.13","3.11","pyshare rebuild myapp"]' ]] || e2e_fail "probe --json: $cause"

e2e_step "mod_wsgi's and python3's packages installed again (the same versions) fire pyshare's trigger; nothing changes"
old_state=$(e2e_tree_state "$V" /etc/pyshare)
# The trigger's two interests on Debian: mod_wsgi.so (libapache2-mod-wsgi-py3), /usr/bin/python3
# (python3-minimal).
for pkg in libapache2-mod-wsgi-py3 python3-minimal; do
	e2e_deb_of_installed "$pkg" "/var/tmp/$pkg-again.deb"
	cursor=$(e2e_sh 'journalctl -n 1 -o export | sed -n "s/^__CURSOR=//p"')
	e2e_expect_rc 0 dpkg -i "/var/tmp/$pkg-again.deb"
	e2e_out_has "Processing triggers for pyshare (0.1.0) ..." "dpkg's output"
	e2e_out_has "pyshare: warning: app myapp: $MISMATCH" "dpkg's output"
	e2e_out_has "pyshare: warning: 1 app cannot be imported by the Python its service would run now; pyshare rebuilds nothing by itself: run the \`pyshare rebuild\` named above" "dpkg's output"
	e2e_exec journalctl --sync
	journal=$(e2e_exec journalctl --no-pager --after-cursor="$cursor" -o cat PYSHARE_APP=myapp)
	printf '%s\n' "$journal" | sed 's/^/journal PYSHARE_APP=myapp: /' >&2
	grep -qxF "app myapp: $MISMATCH" <<<"$journal" ||
		e2e_fail "the journal has no entry of the mismatch with PYSHARE_APP=myapp after $pkg"
	state=$(e2e_tree_state "$V" /etc/pyshare)
	e2e_expect_same_state "$old_state" "$state" "the venv and /etc/pyshare after the trigger of $pkg"
done

e2e_step "rebuilds whose requirements cannot be met leave the old venv as it was"
e2e_expect_rc 73 pyshare rebuild myapp --find-links=/var/tmp/wheels-3.13
e2e_out_has "  numpy==$old_numpy" "the rebuild's plan"
e2e_out_has "rebuild myapp: installing the requirements failed; the old virtualenv $V is back as it was"
state=$(e2e_tree_state "$V" /etc/pyshare)
e2e_expect_same_state "$old_state" "$state" "the venv and /etc/pyshare after the pinned rebuild"
e2e_run mkdir /var/tmp/wheels-no-cext
e2e_sh 'cp /var/tmp/wheels-3.13/*.whl /var/tmp/wheels-no-cext/ && rm /var/tmp/wheels-no-cext/pstest_cext-*.whl'
e2e_expect_rc 73 pyshare rebuild myapp --upgrade --find-links=/var/tmp/wheels-no-cext
e2e_out_has "rebuild myapp: installing the requirements failed; the old virtualenv $V is back as it was"
state=$(e2e_tree_state "$V" /etc/pyshare)
e2e_expect_same_state "$old_state" "$state" "the venv and /etc/pyshare after the rebuild without pstest_cext"
e2e_sh 'ls -A /opt/pyshare' | grep -vx myapp && e2e_fail "the failed rebuilds left something in /opt/pyshare (above)"

e2e_step "rebuild --upgrade --find-links with the wheels for 3.13: 200 after the restart"
e2e_expect_rc 0 pyshare rebuild myapp --upgrade --find-links=/var/tmp/wheels-3.13
e2e_out_has "rebuild myapp: $V, Python 3.11 -> /usr/bin/python3 (Python 3.13)"
e2e_out_has "rebuilt $V with /usr/bin/python3: 9 distributions"
e2e_out_has "  changed: numpy $old_numpy -> $new_numpy"
e2e_out_has "  changed: Flask 2.2.2 -> 3.1.1"
e2e_out_lacks "  changed: pstest"
# apache2 runs the old venv meanwhile: the rebuild's probe judges only the next start, and says so.
e2e_out_has "  now: not judged (after a change only the next start counts; \`pyshare probe myapp\` judges the running service too)"
e2e_out_lacks "is not running"
e2e_out_has "rebuild myapp: done; restart apache2.service to load it (systemctl restart apache2.service)"
e2e_run test -d "$V/lib/python3.13/site-packages"
e2e_run test ! -e "$V/lib/python3.11"
e2e_exec grep -x 'version = 3\.13\..*' "$V/pyvenv.cfg" >&2 || e2e_fail "$V/pyvenv.cfg does not say 3.13"
e2e_sh 'ls -A /opt/pyshare' | grep -vx myapp && e2e_fail "the rebuild left something in /opt/pyshare (above)"
e2e_exec getfacl -pc "$V" | grep -qx 'user:www-data:r-x' || e2e_fail "no user:www-data:r-x ACL entry on $V after the rebuild"
e2e_run systemctl restart apache2
e2e_expect_http / 200 "Hello, NumPy version is $new_numpy"
e2e_expect_rc 0 pyshare status myapp
e2e_run pyshare probe myapp
console_script 3.13

e2e_step "the trigger again: nothing to say"
e2e_expect_rc 0 dpkg -i /var/tmp/libapache2-mod-wsgi-py3-again.deb
e2e_out_has "Processing triggers for pyshare (0.1.0) ..." "dpkg's output"
e2e_out_lacks "pyshare: warning" "dpkg's output"
e2e_log "PASS: $E2E_NAME"
