# shellcheck shell=bash
# Issue 12, item 5: the service model's matrix, shared by scenarios 31 (bookworm) and 32
# (trixie). One booted container per tree; each row breaks or harmlessly changes one thing,
# then measures the real page now, `pyshare --json probe` and `pyshare status`, restarts
# apache2 and measures the page again (and, with a daemon-reload pending, once more after the
# reload), and puts the change back. A row agrees when
#   - the probe's "now" verdict is the page now (200 or not),
#   - its "next_start" verdict is the page after a plain restart,
#   - the probe's exit and status's exit are 0 exactly when the page works now, after the
#     restart and after a pending daemon-reload.
# Every row must agree; the last line gives the figure, "matrix: N/N rows agree".
# Sourced after lib.sh by a scenario that has booted its tree and installed pyshare.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016

MATRIX_ROWS=0
MATRIX_AGREE=0
MATRIX_TABLE=()

# The two apps (m1 and m2, each importing its own package), m1 set up and served, m2 not yet.
matrix_prepare() {
	e2e_step "matrix: apps m1 and m2 under mod_wsgi (embedded), m1 set up and answering"
	e2e_pkg_apps m1 m2
	e2e_run useradd --create-home deployer
	e2e_run useradd --system --no-create-home --shell /usr/sbin/nologin other
	e2e_run pyshare setup m1 --module m1pkg --no-probe
	e2e_run usermod --append --groups deploy deployer
	e2e_put_pkg "$(e2e_site_packages m1)" m1pkg 'VALUE = "one"'
	e2e_run pyshare repair m1
	e2e_run cp /etc/apache2/envvars /root/envvars.orig
	e2e_run cp /etc/apache2/sites-available/apps.conf /root/apps.conf.orig
	matrix_restart
	e2e_expect_http /m1 200 "m1: one"
}

# A restart that systemd's start limit (5 in 10 s) never refuses: the rows restart often.
matrix_systemctl_restart() {
	e2e_run systemctl reset-failed apache2.service
	e2e_run systemctl restart apache2.service
}

# Restart apache2 and wait (up to 10 s) until /m1 answers 200 again: the change was undone.
matrix_restart() {
	local i
	matrix_systemctl_restart
	for i in $(seq 1 50); do
		[[ $(matrix_code /m1) != 200 ]] || return 0
		sleep 0.2
	done
	e2e_fail "/m1 does not answer 200 after the change was undone (try $i)"
}

# The page's status code, 000 when no answer came within 8 s (a daemon process group that
# cannot start keeps the request waiting).
matrix_code() {
	e2e_sh 'curl -s --max-time 8 -o /dev/null -w "%{http_code}\n" "http://127.0.0.1$1" || true' "$1"
}

# matrix_row NAME APP [reload-pending]: measure the row whose change is in place.
matrix_row() {
	local name=$1 app=$2 pending=${3:-} now after after_reload=200 json probe_rc=0 status_rc=0 verdict
	now=$(matrix_code "/$app")
	json=$(e2e_exec pyshare --json probe "$app" 2>/dev/null) || probe_rc=$?
	e2e_try pyshare status "$app"
	status_rc=$E2E_RC
	# A change may keep apache2 from starting at all: that is the row's outcome, not a failure.
	e2e_try systemctl reset-failed apache2.service
	e2e_try systemctl restart apache2.service
	after=$(matrix_code "/$app")
	if [[ $pending == reload-pending ]]; then
		e2e_run systemctl daemon-reload
		matrix_systemctl_restart
		after_reload=$(matrix_code "/$app")
	fi
	verdict=$(NOW=$now AFTER=$after AFTER_RELOAD=$after_reload PROBE_RC=$probe_rc STATUS_RC=$status_rc \
		/usr/bin/python3 -c '
import json, os, sys
p = json.loads(sys.stdin.read())
now, after, reload = (os.environ[k] == "200" for k in ("NOW", "AFTER", "AFTER_RELOAD"))
truth = now and after and reload
got = {"now": p["now"]["ok"], "next": p["next_start"]["ok"], "probe": os.environ["PROBE_RC"] == "0",
       "status": os.environ["STATUS_RC"] == "0"}
want = {"now": now, "next": after, "probe": truth, "status": truth}
bad = [k for k in want if got[k] != want[k]]
print("%s cause=%s now=%s next=%s probe=%s status=%s %s" % ("agree" if not bad else "DISAGREE(" + ",".join(bad) + ")",
      p["cause"], got["now"], got["next"], os.environ["PROBE_RC"], os.environ["STATUS_RC"],
      "" if not bad else json.dumps(p["findings"])))' <<<"$json") || verdict="DISAGREE(unparsable probe output: $json)"
	MATRIX_ROWS=$((MATRIX_ROWS + 1))
	[[ $verdict != agree* ]] || MATRIX_AGREE=$((MATRIX_AGREE + 1))
	MATRIX_TABLE+=("$(printf '%-26s page %s -> %s%s  %s' "$name" "$now" "$after" \
		"$([[ $pending ]] && echo " -> $after_reload (reload)")" "$verdict")")
	e2e_log "row $name: page $now -> $after ${pending:+-> $after_reload}: $verdict"
}

# matrix_expect_cause CAUSE: the last row's probe gave this cause.
matrix_expect_cause() {
	[[ ${MATRIX_TABLE[-1]} == *" cause=$1 "* ]] ||
		e2e_fail "the probe's cause is not $1: ${MATRIX_TABLE[-1]}"
}

matrix_envvars_append() { e2e_sh 'printf "%s\n" "$1" >>/etc/apache2/envvars' "$1"; }
matrix_envvars_restore() { e2e_run cp /root/envvars.orig /etc/apache2/envvars; }
matrix_site_restore() { e2e_run cp /root/apps.conf.orig /etc/apache2/sites-available/apps.conf; }

# /m1 in a WSGIDaemonProcess of its own, with the options given.
matrix_site_daemon() {
	e2e_sh 'sed -i "s|^\tWSGIScriptAlias /m1 .*|\tWSGIDaemonProcess m1d processes=1 threads=2 display-name=%{GROUP} $1\n\tWSGIScriptAlias /m1 /var/www/m1/wsgi.py process-group=m1d application-group=%{GLOBAL}|" \
		/etc/apache2/sites-available/apps.conf
		cat /etc/apache2/sites-available/apps.conf' "$1" >&2
}

matrix_rows() {
	local dropin=/etc/systemd/system/apache2.service.d/50-pyshare.conf
	e2e_step "row: nothing changed"
	matrix_row baseline m1

	e2e_step "row: envvars exports PYTHONPATH=/srv/legacy (the common old fix)"
	matrix_envvars_append 'export PYTHONPATH=/srv/legacy'
	matrix_row envvars-pythonpath m1
	matrix_expect_cause pythonpath-overridden
	matrix_envvars_restore
	matrix_restart

	e2e_step "row (harmless): envvars exports an unrelated variable"
	matrix_envvars_append 'export PST_UNRELATED=1'
	matrix_row envvars-unrelated m1
	matrix_envvars_restore
	matrix_restart

	e2e_step "row (harmless): envvars extends PYTHONPATH"
	matrix_envvars_append 'export PYTHONPATH="/srv/legacy:$PYTHONPATH"'
	matrix_row envvars-extends m1
	matrix_envvars_restore
	matrix_restart

	e2e_step "row: envvars exports PYTHONHOME=/nonexistent"
	matrix_envvars_append 'export PYTHONHOME=/nonexistent'
	matrix_row envvars-pythonhome m1
	matrix_expect_cause pythonpath-overridden
	matrix_envvars_restore
	matrix_restart

	e2e_step "row (harmless): Environment=PYTHONPATH=/srv/legacy (EnvironmentFile= comes after it and wins)"
	printf '[Service]\nEnvironment=PYTHONPATH=/srv/legacy\n' | e2e_dropin apache2.service 90-env
	matrix_row environment-before-envfile m1
	e2e_dropin apache2.service 90-env --remove
	matrix_restart

	e2e_step "row: pyshare's drop-in removed, daemon-reload"
	e2e_run mv "$dropin" /root/dropin.saved
	e2e_run systemctl daemon-reload
	matrix_row dropin-removed m1
	matrix_expect_cause dropin-missing
	e2e_run mv /root/dropin.saved "$dropin"
	e2e_run systemctl daemon-reload
	matrix_restart

	e2e_step "row: pyshare's drop-in removed without daemon-reload"
	e2e_run mv "$dropin" /root/dropin.saved
	matrix_row dropin-removed-no-reload m1 reload-pending
	matrix_expect_cause reload-needed
	e2e_run mv /root/dropin.saved "$dropin"
	e2e_run systemctl daemon-reload
	matrix_restart

	e2e_step "row: another EnvironmentFile, loaded later, sets PYTHONPATH"
	printf 'PYTHONPATH=/srv/legacy\n' | e2e_put /etc/default/legacy
	printf '[Service]\nEnvironmentFile=/etc/default/legacy\n' | e2e_dropin apache2.service 90-legacy
	matrix_row envfile-override m1
	matrix_expect_cause pythonpath-overridden
	e2e_dropin apache2.service 90-legacy --remove
	matrix_restart

	e2e_step "row (harmless): another EnvironmentFile with an unrelated variable"
	printf 'PST_OTHER=1\n' | e2e_put /etc/default/legacy
	printf '[Service]\nEnvironmentFile=/etc/default/legacy\n' | e2e_dropin apache2.service 90-legacy
	matrix_row envfile-unrelated m1
	e2e_dropin apache2.service 90-legacy --remove
	matrix_restart

	e2e_step "row: UnsetEnvironment=PYTHONPATH in a drop-in"
	printf '[Service]\nUnsetEnvironment=PYTHONPATH\n' | e2e_dropin apache2.service 90-unset
	matrix_row unset-environment m1
	matrix_expect_cause pythonpath-overridden
	e2e_dropin apache2.service 90-unset --remove
	matrix_restart

	e2e_step "row: /m1 in a WSGIDaemonProcess with user=other, who cannot read the venv"
	matrix_site_daemon 'user=other group=other'
	matrix_row daemon-user-other m1
	matrix_expect_cause daemon-user
	matrix_site_restore
	matrix_restart

	e2e_step "row (harmless): /m1 in a WSGIDaemonProcess as Apache's own user"
	matrix_site_daemon ''
	matrix_row daemon-same-user m1
	matrix_site_restore
	matrix_restart

	e2e_step "row: setup of m2 on the running apache2, without a restart"
	e2e_run pyshare setup m2 --module m2pkg --no-probe
	e2e_put_pkg "$(e2e_site_packages m2)" m2pkg 'VALUE = "two"'
	e2e_run pyshare repair m2
	matrix_row setup-no-restart m2
	matrix_expect_cause restart-needed

	e2e_step "row (harmless): m2 after the restart; m1 beside it"
	matrix_row restart-after-setup m2
	matrix_row other-app-after-setup m1
}

matrix_report() {
	e2e_step "matrix: the probe's and status's verdicts against the real page"
	printf '  %s\n' "${MATRIX_TABLE[@]}" >&2
	e2e_log "matrix: $MATRIX_AGREE/$MATRIX_ROWS rows agree"
	((MATRIX_AGREE == MATRIX_ROWS)) || e2e_fail "$((MATRIX_ROWS - MATRIX_AGREE)) rows disagree"
}
