#!/bin/bash
# Issue 10 (security), findings 5 and 3 where systemd runs: no venv code runs outside a
# transient unit, and nothing it starts outlives its run.
#  - The probe's diagnostic rerun: a module that fails to import when it sees a private /tmp
#    (apache2's PrivateTmp=yes, copied into the probe's unit) and that, run outside any unit,
#    writes to the real /tmp. The probe fails, blames the sandbox, and the rerun that tells it
#    ran in a transient unit (pyshare-probe-*.service) without the sandbox: nothing was ever
#    written to the real /tmp. Every import records its cgroup and whether /tmp was private.
#  - pip under systemd: a .pth line of the venv starts a chain of 300 processes that each call
#    setsid and a double-forked daemon (tests/system/lib/adv/pstest_adv_chain.py) and writes
#    /tmp/pip-evil: after `pyshare pip` none of them is left and the real /tmp has no pip-evil.
#    pip ran in a transient unit (its /proc/self/cgroup: pyshare-pip-*.service) with a /tmp of
#    its own (empty when it started).
#  - A package whose build (setup.py) starts the same chain and daemon, writes /tmp/build-evil
#    and then fails: pip's own output (the build's lines) and its exit status reach the user,
#    pyshare says pip failed, nothing is left, no unit is left (not even a failed one).
#  - The same build that sleeps: pyshare pip ended by SIGTERM (timeout 30) stops the unit
#    first, so nothing of the build is left and no unit either. Ended by SIGKILL, it cannot:
#    the unit runs on (a rebuild's roll-back would then meet a pip still writing into the venv);
#    the next pyshare that takes the lock stops it, and nothing is left then.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

# After a pip run: none of the chain's processes, nothing of _pyshare, FILE not in the real
# /tmp, and no pip unit (not even a failed one).
pip_left_nothing() {
	e2e_expect_rc 1 pgrep -f '^pst-adv-chain 1000$'
	e2e_expect_rc 1 pgrep -u _pyshare
	e2e_expect_rc 0 test ! -e "$1"
	e2e_expect_rc 0 sh -c '! systemctl list-units --all --no-legend "pyshare-pip-*" | grep -q .'
}

# A source directory for pip with the chain module beside its setup.py.
build_dir() {
	e2e_run install -d -m 0755 "$1"
	e2e_put "$1/pstest_adv_chain.py" <"$E2E_REPO/tests/system/lib/adv/pstest_adv_chain.py"
}

SEEN=/srv/pst-e2e-seen/log
REAL=/tmp/pst-e2e-real-tmp
OUTSIDE=/tmp/pst-e2e-outside

e2e_step "apache2 with PrivateTmp=yes (Debian's unit has it), an app whose module tells inside from outside"
[[ $(e2e_prop apache2.service PrivateTmp) == yes ]] || e2e_fail "apache2.service does not have PrivateTmp=yes"
e2e_run useradd --create-home deployer
e2e_run pyshare setup tmpapp --module tmppkg --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_run install -d -o www-data -m 0755 /srv/pst-e2e-seen
e2e_run touch "$REAL"
sp=$(e2e_site_packages tmpapp)
e2e_put_pkg "$sp" tmppkg 'import os

_cgroup = open("/proc/self/cgroup").read().strip().rsplit("/", 1)[-1]
_in_unit = _cgroup.startswith("pyshare-probe-") and _cgroup.endswith(".service")
_private = not os.path.exists("'"$REAL"'")
with open("'"$SEEN"'", "a") as f:
    f.write("%s private_tmp=%d\n" % (_cgroup, _private))
if not _in_unit:
    # what a survivor of a rerun outside the unit did: it reached the real /tmp
    with open("'"$OUTSIDE"'", "w") as f:
        f.write("tmppkg ran outside a transient unit, in %s\n" % _cgroup)
elif _private:
    raise ImportError("tmppkg refuses a private /tmp")
VALUE = "ok"'
e2e_run pyshare repair tmpapp

e2e_step "the probe fails in apache2's sandbox; its diagnostic rerun is a transient unit without it"
e2e_expect_rc 1 pyshare probe tmpapp
e2e_out_has "FAIL  tmppkg  ImportError: tmppkg refuses a private /tmp" "the probe"
e2e_out_has "tmppkg imports as www-data outside the sandbox but not inside apache2.service's" "the probe"
e2e_out_has "note: the probe ran as a transient unit with apache2.service's sandbox (" "the probe"
e2e_out_has "PrivateTmp=yes" "the probe"
e2e_exec cat "$SEEN" >&2
e2e_expect_rc 0 test ! -e "$OUTSIDE"
seen=$(e2e_exec cat "$SEEN")
[[ $(wc -l <<<"$seen") -eq 2 ]] || e2e_fail "expected two imports (the probe and its rerun), got: $seen"
[[ $(sed -n 1p <<<"$seen") =~ ^pyshare-probe-[0-9]+-[0-9a-f]+\.service\ private_tmp=1$ ]] ||
	e2e_fail "the probe did not import in a unit with a private /tmp: $seen"
[[ $(sed -n 2p <<<"$seen") =~ ^pyshare-probe-[0-9]+-[0-9a-f]+\.service\ private_tmp=0$ ]] ||
	e2e_fail "the diagnostic rerun did not import in a transient unit without the sandbox: $seen"
[[ $(sed -n 1p <<<"$seen" | cut -d' ' -f1) != $(sed -n 2p <<<"$seen" | cut -d' ' -f1) ]] ||
	e2e_fail "the rerun was not a unit of its own: $seen"
e2e_expect_rc 0 sh -c '! systemctl list-units --all --no-legend "pyshare-probe-*" | grep -q .'

e2e_step "pip under systemd: a .pth line starts 300 setsid processes and a daemon, and writes /tmp/pip-evil"
e2e_exec runuser -u deployer -- sh -c "cat > $sp/pstest_adv_chain.py" <"$E2E_REPO/tests/system/lib/adv/pstest_adv_chain.py"
printf '%s\n' "import os, sys; print('PST-TMP', sorted(os.listdir('/tmp'))); sys.stdout.flush(); open('/tmp/pip-evil', 'w').write('was here')" \
	"import pstest_adv_chain; print('PST-CHAIN', pstest_adv_chain.__version__)" |
	e2e_exec runuser -u deployer -- sh -c "cat > $sp/pst_adv_chain.pth"
printf '%s\n' "import sys; print('PST-CGROUP', open('/proc/self/cgroup').read().strip().rsplit('/', 1)[-1]); sys.stdout.flush()" |
	e2e_exec runuser -u deployer -- sh -c "cat > $sp/pst_adv_cgroup.pth"
e2e_expect_rc 0 timeout 300 pyshare pip tmpapp list
e2e_out_has "PST-CHAIN chain-300" "pyshare pip"
e2e_out_has "PST-TMP []" "pyshare pip"
grep -qE '^PST-CGROUP pyshare-pip-[0-9]+-[0-9a-f]+\.service$' <<<"$E2E_OUT" ||
	e2e_fail "pip did not run in a transient unit pyshare-pip-*.service"
pip_left_nothing /tmp/pip-evil
e2e_run rm "$sp/pst_adv_chain.pth" "$sp/pst_adv_cgroup.pth"

e2e_step "pip under systemd: a package's build starts the chain and a daemon, writes /tmp/build-evil, fails"
src=/var/tmp/pst-e2e-build
build_dir "$src"
e2e_put "$src/setup.py" <<'EOF'
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
print("PST-BUILD-CGROUP", open("/proc/self/cgroup").read().strip().rsplit("/", 1)[-1])
print("PST-BUILD-TMP", sorted(n for n in os.listdir("/tmp") if not n.startswith("pip-")))
open("/tmp/build-evil", "w").write("was here")
# pip reads the build's output to its end: the chain gets /dev/null, as a daemon would
out = os.dup(1), os.dup(2)
null = os.open("/dev/null", os.O_RDWR)
os.dup2(null, 1); os.dup2(null, 2)
import pstest_adv_chain
os.dup2(out[0], 1); os.dup2(out[1], 2)
print("PST-BUILD-CHAIN", pstest_adv_chain.__version__)
sys.stdout.flush()
sys.exit(3)
EOF
e2e_expect_rc 73 timeout 300 pyshare pip tmpapp install --no-index "$src"
e2e_out_has "PST-BUILD-CHAIN chain-300" "pip's output of the build"
e2e_out_has "PST-BUILD-TMP []" "pip's output of the build"
e2e_out_has "exit code: 3" "pip's output of the build"
e2e_out_has "pip failed (exit status 1) as _pyshare in group deploy" "pyshare pip"
grep -qE 'PST-BUILD-CGROUP pyshare-pip-[0-9]+-[0-9a-f]+\.service$' <<<"$E2E_OUT" ||
	e2e_fail "the build did not run in pip's transient unit pyshare-pip-*.service"
pip_left_nothing /tmp/build-evil

e2e_step "pip under systemd, stopped from outside: SIGTERM to pyshare stops the unit and what the build started"
slow=/var/tmp/pst-e2e-slow
build_dir "$slow"
e2e_put "$slow/setup.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
null = os.open("/dev/null", os.O_RDWR)
os.dup2(null, 1); os.dup2(null, 2)
import pstest_adv_chain
time.sleep(1000)
EOF
# pyshare's output goes to a file: a unit left running would hold a pipe open for ever
e2e_expect_rc 124 sh -c "timeout 30 pyshare pip tmpapp install --no-index $slow >/var/tmp/pst-slow.out 2>&1"
pip_left_nothing /tmp/build-evil

e2e_step "pip under systemd, pyshare killed (SIGKILL): the unit outlives it; the next pyshare to take the lock stops it"
e2e_expect_rc 137 sh -c "timeout -s KILL 20 pyshare pip tmpapp install --no-index $slow >/var/tmp/pst-slow.out 2>&1"
e2e_expect_rc 0 sh -c 'systemctl list-units --state=activating --no-legend "pyshare-pip-*" | grep -q .'
e2e_expect_rc 0 pgrep -u _pyshare
e2e_expect_rc 0 pyshare repair tmpapp
e2e_out_has "pyshare: warning: stopped pyshare-pip-" "the repair after the kill"
e2e_out_has ".service: a pip left running by a pyshare that was killed" "the repair after the kill"
pip_left_nothing /tmp/build-evil
e2e_log "PASS: $E2E_NAME"
