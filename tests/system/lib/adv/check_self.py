#!/usr/bin/python3
"""Reads `pyshare --json probe APP pstest_adv_self` on stdin and checks what the module saw
(pstest_adv_self.py) against SECURITY.md's "Dropping privileges".

  check_self.py SERVICE_USER DEPLOY_GROUP SERVICE_ENVFILE ASAN(0|1)
"""
import grp
import json
import os
import pwd
import subprocess
import sys

svc, deploy, envfile, asan = sys.argv[1:5]
d = json.load(sys.stdin)
m = d["modules"][0]
err = m["error"]
assert err and "PSTSELF" in err, d
s = json.loads(err.split("PSTSELF", 1)[1])
bad = []


def want(cond, what):
    if not cond:
        bad.append(what)


uid, gid = pwd.getpwnam(svc).pw_uid, pwd.getpwnam(svc).pw_gid
groups = set(int(g) for g in subprocess.check_output(["id", "-G", svc]).split())
dgid = grp.getgrnam(deploy).gr_gid
want(s["resuid"] == [uid] * 3, f"real/effective/saved uid {s['resuid']}, not {uid}")
want(s["resgid"] == [gid] * 3, f"real/effective/saved gid {s['resgid']}, not {gid}")
want(0 not in s["groups"] and dgid not in s["groups"], f"groups {s['groups']} hold 0 or the deploy group")
want(set(s["groups"]) == groups, f"groups {s['groups']}, not the service user's own {sorted(groups)} (initgroups)")
for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
    want(int(s["status"][cap], 16) == 0, f"{cap} {s['status'][cap]}")
want(s["status"]["NoNewPrivs"] == "1", f"NoNewPrivs {s['status']['NoNewPrivs']}")
fds = {int(k): v for k, v in s['fds'].items()}
want(sorted(fds) == [0, 1, 2, 3], f"open fds {fds}")
want(fds.get(0) == "/dev/null", f"stdin is {fds.get(0)}")
want(str(fds.get(1, "")).startswith("pipe:") and fds.get(1) == fds.get(2), f"stdout/stderr {fds.get(1)} {fds.get(2)}")
want(str(fds.get(3, "")).startswith("pipe:") and fds.get(3) != fds.get(1), f"result fd 3 is {fds.get(3)}, stdout {fds.get(1)}")
svcenv = {}
for line in open(envfile):
    line = line.strip()
    if line and line[0] not in "#;" and "=" in line:
        k, v = line.split("=", 1)
        svcenv[k] = v.strip('"')
allowed = {'PATH', 'LANG', 'PYTHONPATH'} | set(svcenv)
want(set(s["env"]) <= allowed, f"environment keys {sorted(s['env'])} beyond {sorted(allowed)}")
want(s["env"].get("PYTHONPATH") == svcenv.get("PYTHONPATH"), f"PYTHONPATH {s['env'].get('PYTHONPATH')!r}")
for p in s["env"].get("PATH", "").split(":"):
    want(p.startswith("/"), f"PATH entry {p!r} is not absolute")
    if os.path.isdir(p):
        st = os.stat(p)
        want(st.st_uid == 0 and not st.st_mode & 0o022, f"PATH entry {p} can be written by others than root")
want(s["cwd"] == "/", f"cwd {s['cwd']}")
for k in ("setresuid0", "setresgid0", "setgroups0", "shadow"):
    want(s[k] == "PermissionError", f"{k}: {s[k]}")
want(s["tty"] != "succeeded", "it has a controlling terminal")
want(s["core"] == [0, 0], f"RLIMIT_CORE {s['core']}")
inf = 2**64 - 1
want(s["cpu"][0] not in (-1, inf), f"no RLIMIT_CPU: {s['cpu']}")
want(s["fsize"][0] not in (-1, inf), f"no RLIMIT_FSIZE: {s['fsize']}")
want(asan == "1" or s["as"][0] not in (-1, inf), f"no RLIMIT_AS: {s['as']}")
want(s["sid"] == s["pid"] and s["pgid"] == s["pid"], f"not a session leader of its own: sid {s['sid']} pgid {s['pgid']} pid {s['pid']}")
want(s["pdeathsig"] == 9, f"parent-death signal {s['pdeathsig']}")
want(s["sigmask"] == [], f"blocked signals {s['sigmask']}")
if bad:
    print("the probe process is not locked down:", *bad, sep="\n  ", file=sys.stderr)
    print(json.dumps(s, indent=1, sort_keys=True), file=sys.stderr)
    sys.exit(1)
