#!/bin/bash
# Issue 3, scenario 5: `setup --restart` restarts apache2 over sd-bus, waits for the job and
# reports its result (a new MainPID proves the restart); a later setup without --restart that
# changes apache2's environment tells the user that apache2 still runs with the old one (and it
# does: the new app fails until the restart, and `pyshare status` says so). The deployer
# writes each package and runs `pyshare repair`, the documented workflow after an install.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "two WSGI apps, first and second, each importing its own package"
e2e_pkg_apps first second
e2e_run useradd --create-home deployer
e2e_run systemctl restart apache2
pid0=$(e2e_main_pid apache2.service)
[[ $pid0 =~ ^[1-9][0-9]*$ ]] || e2e_fail "apache2 has no MainPID: '$pid0'"

e2e_step "pyshare setup first --restart: restarted over the bus, job result done, a new MainPID"
e2e_expect_rc 0 pyshare setup first --module firstpkg --no-probe --restart
grep -Eq 'restarted apache2\.service.*\bdone\b' <<<"$E2E_OUT" ||
	e2e_fail "setup --restart did not report that it restarted apache2.service with job result done"
pid1=$(e2e_main_pid apache2.service)
e2e_log "apache2 MainPID: $pid0 before, $pid1 after"
[[ $pid1 =~ ^[1-9][0-9]*$ && $pid1 != "$pid0" ]] ||
	e2e_fail "apache2's MainPID did not change ($pid0 -> $pid1): no restart"
e2e_run systemctl is-active apache2.service
e2e_run usermod --append --groups deploy deployer
e2e_put_pkg "$(e2e_site_packages first)" firstpkg 'VALUE = "1st"'
e2e_run pyshare repair first
e2e_expect_http /first 200 "first: 1st"

e2e_step "pyshare setup second without --restart: apache2 is running with the old environment"
e2e_expect_rc 0 pyshare setup second --module secondpkg --no-probe
e2e_out_has "apache2.service is running with the old environment" "setup's output"
pid2=$(e2e_main_pid apache2.service)
[[ $pid2 == "$pid1" ]] || e2e_fail "apache2 restarted ($pid1 -> $pid2) although --restart was not given"
e2e_put_pkg "$(e2e_site_packages second)" secondpkg 'VALUE = "2nd"'
e2e_run pyshare repair second
# What the message says is true: the running Apache lacks second's path.
e2e_errlog_mark
e2e_expect_http /second 500
e2e_errlog_has "ModuleNotFoundError: No module named 'secondpkg'"
e2e_expect_http /first 200 "first: 1st"
# status sees it too: the running processes' PYTHONPATH lacks what the next start gets (issue 12).
e2e_expect_rc 1 pyshare status
e2e_out_has "problem: apache2.service runs with the environment of " "status's output"
e2e_out_has "; the next start gets the app's PYTHONPATH: systemctl restart apache2" "status's output"
# The probe judges the running service too: ok after a restart, not now (exit 1).
e2e_expect_rc 1 pyshare probe second
e2e_out_has "  restart-needed: apache2.service runs with the environment of " "the probe's output"
e2e_out_has "  next start: ok (the unit as systemd loaded it)" "the probe's output"

e2e_step "setup second --restart (no change to the files): restarted, both answer 200"
e2e_expect_rc 0 pyshare setup second --module secondpkg --no-probe --restart
grep -Eq 'restarted apache2\.service.*\bdone\b' <<<"$E2E_OUT" ||
	e2e_fail "setup --restart did not report that it restarted apache2.service with job result done"
e2e_out_lacks "is running with the old environment" "setup --restart's output"
pid3=$(e2e_main_pid apache2.service)
[[ $pid3 =~ ^[1-9][0-9]*$ && $pid3 != "$pid2" ]] ||
	e2e_fail "apache2's MainPID did not change ($pid2 -> $pid3): no restart"
e2e_expect_http /first 200 "first: 1st"
e2e_expect_http /second 200 "second: 2nd"
e2e_expect_rc 0 pyshare status

e2e_step "setup --restart when apache2 cannot start: the job's result is reported, setup fails"
printf '[Service]\nExecStartPre=/bin/false\n' | e2e_dropin apache2.service 90-broken
e2e_expect_rc 1 pyshare setup second --module secondpkg --no-probe --restart
e2e_out_has 'restarting apache2.service ended with "failed"' "setup --restart's output"
e2e_out_has "journalctl -u apache2.service" "setup --restart's output"
e2e_dropin apache2.service 90-broken --remove
e2e_expect_rc 0 pyshare setup second --module secondpkg --no-probe --restart
e2e_expect_http /second 200 "second: 2nd"
e2e_log "PASS: $E2E_NAME"
