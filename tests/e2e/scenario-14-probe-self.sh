#!/bin/bash
# Issue 5, item 13, where systemd runs: the probe inspects itself inside the transient unit that
# copies apache2's sandbox. A module installed by a deployer records the ids, groups,
# capabilities, NoNewPrivs, fds, environment and limits of the process that imports it, and
# raises an ImportError that carries them as JSON; another reports its cgroup. The system tests
# check the same of the forked probe (tests/system/96-adv-probe-self.bats), where no systemd
# runs.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "an app with two self-inspecting modules, installed by a deployer"
e2e_run useradd --create-home deployer
e2e_run pyshare setup selfapp --no-probe
e2e_run usermod --append --groups deploy deployer
site=$(e2e_site_packages selfapp)
e2e_put /tmp/pstest_adv_self.py <"$E2E_REPO/tests/system/lib/adv/pstest_adv_self.py"
e2e_put /tmp/pstest_cgroup.py <<'PY'
raise ImportError("PSTCG" + open("/proc/self/cgroup").read().strip())
PY
e2e_run chmod 0644 /tmp/pstest_adv_self.py /tmp/pstest_cgroup.py
e2e_run runuser -u deployer -- /bin/sh -ec "umask 002
	cp /tmp/pstest_adv_self.py /tmp/pstest_cgroup.py $site/"
e2e_run pyshare repair selfapp -q

# probe_json MODULE: `pyshare --json probe selfapp MODULE` from a caller with a variable of its
# own; the module fails on purpose (exit 1); its JSON (stdout only) in PROBE_JSON.
probe_json() {
	local rc=0
	e2e_log "# pyshare --json probe selfapp $1"
	PROBE_JSON=$(e2e_exec env PST_LEAK=from-the-caller pyshare --json probe selfapp "$1") || rc=$?
	((rc == 1)) || e2e_fail "the probe of $1 exited $rc, expected 1: $PROBE_JSON"
}

e2e_step "the probe runs as a transient unit, in its own cgroup"
probe_json pstest_cgroup
cgroup=$(/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["modules"][0]["error"].split("PSTCG", 1)[1])' <<<"$PROBE_JSON") || e2e_fail "no cgroup in the probe's answer"
e2e_log "the probe's cgroup: $cgroup"
[[ $cgroup =~ /system\.slice/pyshare-probe-[0-9]+-[0-9a-f]+\.service$ ]] ||
	e2e_fail "the probe did not run in a transient unit of its own: $cgroup"

e2e_step "what the probe process saw of itself"
svc_uid=$(e2e_exec id -u www-data)
svc_gid=$(e2e_exec id -g www-data)
svc_groups=$(e2e_exec id -G www-data)
deploy_gid=$(e2e_sh 'getent group deploy | cut -d: -f3')
svc_env=$(e2e_exec cat /etc/pyshare/services/apache2.service.env)
probe_json pstest_adv_self
checker=""
e2e_tmpdir checker
cat >"$checker/check.py" <<'PY'
import json, os, sys
d = json.load(sys.stdin)
err = d["modules"][0]["error"]
assert err and "PSTSELF" in err, d
s = json.loads(err.split("PSTSELF", 1)[1])
uid, gid = int(os.environ["SVC_UID"]), int(os.environ["SVC_GID"])
groups = {int(g) for g in os.environ["SVC_GROUPS"].split()}
bad = []


def want(cond, what):
    if not cond:
        bad.append(what)


want(s["resuid"] == [uid] * 3, "uids %s, not %d" % (s["resuid"], uid))
want(s["resgid"] == [gid] * 3, "gids %s, not %d" % (s["resgid"], gid))
want(set(s["groups"]) == groups, "groups %s, not www-data's own %s" % (s["groups"], sorted(groups)))
want(0 not in s["groups"] and int(os.environ["DEPLOY_GID"]) not in s["groups"], "groups %s" % s["groups"])
for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
    want(int(s["status"][cap], 16) == 0, "%s %s" % (cap, s["status"][cap]))
want(s["status"]["NoNewPrivs"] == "1", "NoNewPrivs %s" % s["status"]["NoNewPrivs"])
fds = {int(k): v for k, v in s["fds"].items()}
want(sorted(fds) == [0, 1, 2, 3], "open fds %s" % fds)
want(fds.get(0) == "/dev/null", "stdin is %s" % fds.get(0))
want(str(fds.get(1, "")).startswith("pipe:") and fds.get(1) == fds.get(2), "stdout/stderr %s %s" % (fds.get(1), fds.get(2)))
want(str(fds.get(3, "")).startswith("pipe:") and fds.get(3) != fds.get(1), "result fd 3 is %s" % fds.get(3))
for k in ("setresuid0", "setresgid0", "setgroups0", "shadow"):
    want(s[k] == "PermissionError", "%s: %s" % (k, s[k]))
want(s["core"] == [0, 0], "RLIMIT_CORE %s" % s["core"])
want("PST_LEAK" not in s["env"], "the caller's environment reached the probe")
pp = [l.split("=", 1)[1].strip('"') for l in os.environ["SVC_ENV"].splitlines() if l.startswith("PYTHONPATH=")]
want(pp and s["env"].get("PYTHONPATH") == pp[0], "PYTHONPATH %r, not %s" % (s["env"].get("PYTHONPATH"), pp))
want(s["cwd"] == "/", "cwd %s" % s["cwd"])
if bad:
    print("the probe inside its unit is not locked down:", *bad, sep="\n  ", file=sys.stderr)
    print(json.dumps(s, indent=1, sort_keys=True), file=sys.stderr)
    sys.exit(1)
PY
SVC_UID=$svc_uid SVC_GID=$svc_gid SVC_GROUPS=$svc_groups DEPLOY_GID=$deploy_gid SVC_ENV=$svc_env \
	/usr/bin/python3 "$checker/check.py" <<<"$PROBE_JSON" ||
	e2e_fail "the probe's self-inspection inside the transient unit failed"

e2e_step "nothing of the probe is left: its unit is gone"
left=$(e2e_sh 'systemctl list-units --all --plain --no-legend "pyshare-probe-*" | wc -l')
[[ $left == 0 ]] || e2e_fail "$left pyshare-probe units are left after the probes"
e2e_log "PASS: $E2E_NAME"
