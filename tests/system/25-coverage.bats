#!/usr/bin/env bats
# Requirements of issue 2 (and pip's sandbox from issue 4) that no other test pins down:
# the ACL entries per entry type, the probe's default modules, User= from a unit's drop-ins
# without systemd, the system group setup creates, the --json output of setup, list and
# remove, .pth import lines that are never run, and the identity pip runs with.
# bats sets $output, $status and $stderr in each test.
# shellcheck disable=SC2154
load helpers
bats_require_minimum_version 1.5.0
UNIT=pst-cov.service
JSON_UNIT=pst-cov-json.service
USER_UNIT=pst-cov-user.service
COV_GROUP=pst_covgrp
COV_UA=pst_cov_ua
COV_UB=pst_cov_ub
PWNED=/tmp/pst-cov-pwned
PIPREC=/var/tmp/pst-cov-pip.json
APPS="pst-cov pst-cov-json pst-cov-grp pst-cov-user"

cov_cleanup() {
        # shellcheck disable=SC2086
        cleanup_app $APPS
        rm -f "/etc/systemd/system/$UNIT" "/etc/systemd/system/$JSON_UNIT" "/etc/systemd/system/$USER_UNIT" \
                "/etc/pyshare/services/$UNIT.env" "/etc/pyshare/services/$JSON_UNIT.env" \
                "/etc/pyshare/services/$USER_UNIT.env" "$PWNED" "$PIPREC"
        rm -rf "/etc/systemd/system/$UNIT.d" "/etc/systemd/system/$JSON_UNIT.d" "/etc/systemd/system/$USER_UNIT.d"
        local u
        for u in "$COV_UA" "$COV_UB"; do
                if id "$u" >/dev/null 2>&1; then userdel "$u"; fi
        done
        if getent group "$COV_GROUP" >/dev/null; then groupdel "$COV_GROUP"; fi
}

setup_file() {
        fixtures
        cov_cleanup
        make_unit "$UNIT"
        make_unit "$JSON_UNIT"
}

teardown_file() {
        cov_cleanup
}

# Checks every directory and regular file of a venv (symlinks are left alone by design):
# owner, group, mode and the exact access and default ACL that issue 2 asks for.
check_tree() {
        /usr/bin/python3 - "$@" <<'PY'
import grp, os, pwd, stat, subprocess, sys

venv, user, group = sys.argv[1:4]
gid = grp.getgrnam(group).gr_gid
pwd.getpwnam(user)
out = subprocess.run(["getfacl", "-R", "-p", venv], check=True, capture_output=True, text=True).stdout
acls, cur = {}, None
for line in out.splitlines():
    if line.startswith("# file: "):
        cur = line[len("# file: "):]
        acls[cur] = set()
    elif line and not line.startswith("#"):
        acls[cur].add(line.split()[0])

def rwx(bits):
    return "".join(c if bits & b else "-" for c, b in (("r", 4), ("w", 2), ("x", 1)))

errors, kinds = [], {"dir": 0, "exec": 0, "file": 0}
paths = [venv]
for root, dirs, files in os.walk(venv):
    paths += [os.path.join(root, n) for n in dirs + files]
for p in paths:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        continue
    mode = stat.S_IMODE(st.st_mode)
    have = acls.get(p)
    if have is None:
        errors.append(f"{p}: no ACL listed by getfacl")
        continue
    if stat.S_ISDIR(st.st_mode):
        kinds["dir"] += 1
        want = {"user::rwx", f"user:{user}:r-x", "group::rwx", f"group:{group}:rwx", "mask::rwx", "other::---",
                "default:user::rwx", f"default:user:{user}:r-x", "default:group::rwx",
                f"default:group:{group}:rwx", "default:mask::rwx", "default:other::---"}
        if st.st_uid != 0 or st.st_gid != gid or mode != 0o2770:
            errors.append(f"{p}: directory {st.st_uid}:{st.st_gid} {mode:o}, want 0:{gid} 2770")
    elif stat.S_ISREG(st.st_mode):
        owner = rwx(mode >> 6)
        if mode & 0o111:
            kinds["exec"] += 1
            want = {f"user::{owner}", f"user:{user}:r-x", "group::rwx", f"group:{group}:rwx", "mask::rwx",
                    "other::---"}
        else:
            kinds["file"] += 1
            want = {f"user::{owner}", f"user:{user}:r--", "group::rw-", f"group:{group}:rw-", "mask::rw-",
                    "other::---"}
        if st.st_gid != gid or not mode & 0o020 or mode & 0o007 or mode & 0o6000:
            errors.append(f"{p}: file group {st.st_gid} mode {mode:o}, want group {gid}, g+w, o=, no set-id bits")
    else:
        errors.append(f"{p}: unexpected file type {stat.S_IFMT(st.st_mode):o}")
        continue
    if have != want:
        errors.append(f"{p}: ACL {sorted(have)}, want {sorted(want)}")
if errors:
    print(f"{len(errors)} wrong entries:", *errors[:30], sep="\n")
    sys.exit(1)
if not all(kinds.values()):
    print("the tree lacks a kind of entry:", kinds)
    sys.exit(1)
print("checked", kinds)
PY
}

@test "setup leaves every entry with its type's ACL: directories, executables, plain files; PREFIX root:root 0755" {
        run ps_setup pst-cov --no-probe
        assert_status 0
        v=$(venv_of pst-cov)
        site=$(site_of pst-cov)
        # A deployer installs with a closed umask and plants set-id bits and closed modes.
        deployer_install pst-cov 077 "$(wheel pstest_pure) $(wheel pstest_cext)"
        as_deployer sh -c "umask 077 && echo x > $site/pst_cov_setid.py && chmod 6770 $site/pst_cov_setid.py &&
                echo x > $site/pst_cov_closed.txt && chmod 0600 $site/pst_cov_closed.txt &&
                mkdir -m 0700 $site/pst_cov_dir && echo x > $site/pst_cov_dir/f.py"
        [ -n "$(find "$site/pst_cov_setid.py" -perm /6000)" ]
        so=$(ls "$site"/pstest_cext.cpython-*.so)
        run ps_setup pst-cov --no-probe
        assert_status 0
        assert_output_has "setup pst-cov: done"
        # the named entries, as issue 2 lists them
        acl() { getfacl -c -p "$1"; }
        acl "$v/lib" | grep -qx "user:$SVC_USER:r-x"
        acl "$v/lib" | grep -qx "group:$DEPLOY_GROUP:rwx"
        acl "$v/lib" | grep -qx "default:user:$SVC_USER:r-x"
        acl "$v/lib" | grep -qx "default:group:$DEPLOY_GROUP:rwx"
        acl "$v/lib" | grep -qx "default:other::---"
        acl "$site/pst_cov_dir" | grep -qx "default:group:$DEPLOY_GROUP:rwx"
        acl "$so" | grep -qx "user:$SVC_USER:r-x"
        acl "$so" | grep -qx "group:$DEPLOY_GROUP:rwx"
        acl "$so" | grep -qx "other::---"
        acl "$v/bin/pip" | grep -qx "user:$SVC_USER:r-x"
        acl "$v/bin/pip" | grep -qx "group:$DEPLOY_GROUP:rwx"
        for f in "$v/pyvenv.cfg" "$site/pstest_pure/__init__.py" "$site/pst_cov_closed.txt"; do
                acl "$f" | grep -qx "user:$SVC_USER:r--"
                acl "$f" | grep -qx "group:$DEPLOY_GROUP:rw-"
                acl "$f" | grep -qx "other::---"
        done
        [ "$(stat -c '%U:%G %a' "$v" "$v/lib" "$site/pst_cov_dir")" = "$(printf 'root:%s 2770\n' "$DEPLOY_GROUP" "$DEPLOY_GROUP" "$DEPLOY_GROUP")" ]
        # files keep their owner, get the group, group write, nothing for others, no set-id bits
        [ "$(stat -c '%U:%G %a' "$so")" = "$DEPLOYER:$DEPLOY_GROUP 770" ]
        [ "$(stat -c '%U:%G %a' "$site/pstest_pure/__init__.py")" = "$DEPLOYER:$DEPLOY_GROUP 660" ]
        [ "$(stat -c '%U:%G %a' "$site/pst_cov_setid.py")" = "$DEPLOYER:$DEPLOY_GROUP 770" ]
        [ "$(stat -c '%U:%G %a' "$site/pst_cov_closed.txt")" = "$DEPLOYER:$DEPLOY_GROUP 660" ]
        [ "$(stat -c '%U:%G %a' "$v/pyvenv.cfg")" = "root:$DEPLOY_GROUP 660" ]
        [ "$(stat -c '%U:%G %a' /opt/pyshare)" = "root:root 755" ]
        [ -z "$(getfacl -c -p -s /opt/pyshare)" ]
        # and every entry of the tree, each by its type
        run check_tree "$v" "$SVC_USER" "$DEPLOY_GROUP"
        assert_status 0
}

@test "with no modules given or stored, the probe imports every top-level package of the venv but pip's and setuptools'" {
        site=$(site_of pst-cov)
        ! grep -q '^Module=' /etc/pyshare/pst-cov.conf || false
        # pip and setuptools are there, and left out
        compgen -G "$site/pip-*.dist-info" >/dev/null
        compgen -G "$site/setuptools-*.dist-info" >/dev/null
        rm -f "$site/pst_cov_setid.py" "$site/pst_cov_closed.txt"
        rm -rf "$site/pst_cov_dir"
        run --separate-stderr "$PYSHARE" --json probe pst-cov
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [m["name"] for m in d["modules"]]
assert sorted(names) == ["pstest_cext", "pstest_pure"], names
assert "pip" not in names and "setuptools" not in names and "pkg_resources" not in names, names
assert d["ok"] is True and all(m["ok"] for m in d["modules"]), d
assert d["app"] == "pst-cov" and d["user"] == "pst_svc", d
'
        run "$PYSHARE" probe pst-cov
        assert_status 0
        assert_output_has "ok    pstest_pure 1.0"
        assert_output_has "ok    pstest_cext 2.0"
}

@test "without systemd, setup reads User= from the unit file and its drop-ins, in the order of their names" {
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$COV_UA"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$COV_UB"
        printf '[Unit]\nDescription=pyshare coverage test\n[Service]\nUser=%s\nExecStart=/bin/true\n' "$COV_UA" \
                >"/etc/systemd/system/$USER_UNIT"
        mkdir -p "/etc/systemd/system/$USER_UNIT.d"
        printf '[Service]\nUser=%s\n' "$COV_UA" >"/etc/systemd/system/$USER_UNIT.d/05-first.conf"
        printf '[Service]\nUser=%s\n' "$COV_UB" >"/etc/systemd/system/$USER_UNIT.d/10-user.conf"
        [ ! -d /run/systemd/system ] # the unit file's parser, not the bus, must answer here
        run "$PYSHARE" setup pst-cov-user --service="$USER_UNIT" --group="$DEPLOY_GROUP" --no-probe
        assert_status 0
        assert_output_has "user $COV_UB"
        grep -qx "User=$COV_UB" /etc/pyshare/pst-cov-user.conf
        getfacl -c -p "$(venv_of pst-cov-user)" | grep -qx "user:$COV_UB:r-x"
        ! getfacl -c -p "$(venv_of pst-cov-user)" | grep -q "$COV_UA" || false
        run "$PYSHARE" remove pst-cov-user --purge
        assert_status 0
}

@test "setup creates a missing deploy group as a system group" {
        run getent group "$COV_GROUP"
        assert_status 2
        run "$PYSHARE" setup pst-cov-grp --service="$UNIT" --group="$COV_GROUP" --no-probe
        assert_status 0
        setup_out=$output
        run getent group "$COV_GROUP"
        assert_status 0
        gid=$(echo "$output" | cut -d: -f3)
        [ "$gid" -gt 0 ] && [ "$gid" -lt 1000 ] # a system group (SYS_GID_MAX 999)
        [ -z "$(echo "$output" | cut -d: -f4)" ] # with no members
        output=$setup_out
        assert_output_has "created the system group $COV_GROUP (gid $gid)"
        [ "$(stat -c %G "$(venv_of pst-cov-grp)")" = "$COV_GROUP" ]
        getfacl -c -p "$(venv_of pst-cov-grp)" | grep -qx "default:group:$COV_GROUP:rwx"
        # the second run finds it
        run "$PYSHARE" setup pst-cov-grp --service="$UNIT" --group="$COV_GROUP" --no-probe
        assert_status 0
        [[ "$output" != *"created the system group"* ]]
        run "$PYSHARE" remove pst-cov-grp --purge
        assert_status 0
        groupdel "$COV_GROUP"
}

@test "--json setup: one object with the app, what changed, the files and the probe; a human line too" {
        run --separate-stderr "$PYSHARE" --json setup pst-cov-json --service="$JSON_UNIT" --group="$DEPLOY_GROUP"
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
keys = {"app", "dry_run", "changed", "venv", "service", "user", "group", "files_changed", "files_unchanged",
        "permissions", "reload", "restart", "probe"}
assert set(d) == keys, sorted(set(d) ^ keys)
assert d["app"] == "pst-cov-json" and d["dry_run"] is False and d["changed"] is True, d
assert d["venv"] == "/opt/pyshare/pst-cov-json" and d["service"] == "pst-cov-json.service", d
assert d["user"] == "pst_svc" and d["group"] == "pst_deploy", d
files = {"/etc/pyshare/pst-cov-json.conf", "/etc/pyshare/pst-cov-json.env",
         "/etc/pyshare/services/pst-cov-json.service.env",
         "/etc/systemd/system/pst-cov-json.service.d/50-pyshare.conf", "/etc/tmpfiles.d/pyshare-pst-cov-json.conf"}
assert set(d["files_changed"]) == files, d["files_changed"]
assert d["files_unchanged"] == [], d["files_unchanged"]
p = d["permissions"]
assert set(p) == {"entries", "changed", "skipped", "errors", "notes"}, p
assert p["entries"] > 100 and 0 < p["changed"] <= p["entries"] and p["errors"] == 0, p
assert p["skipped"]["symlink"] >= 1 and p["skipped"]["error"] == 0 and p["skipped"]["hard link"] == 0, p
assert d["reload"] == "skipped" and d["restart"] == "needed", d
pr = d["probe"]
assert pr["app"] == "pst-cov-json" and pr["user"] == "pst_svc" and pr["ok"] is True and pr["modules"] == [], pr
assert pr["mode"] == "embedded" and pr["completed"] is True and pr["timed_out"] is False and pr["failure"] is None, pr
'
        # stdout is the object only; the messages went to stderr
        [[ "$stderr" == *"created the virtualenv /opt/pyshare/pst-cov-json with /usr/bin/python3"* ]]
        run --separate-stderr "$PYSHARE" --json setup pst-cov-json --no-probe
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["app"] == "pst-cov-json" and d["changed"] is False and d["files_changed"] == [], d
assert len(d["files_unchanged"]) == 5 and d["permissions"]["changed"] == 0, d
assert d["reload"] == "not-needed" and d["restart"] == "not-requested" and "probe" not in d, d
'
        run "$PYSHARE" setup pst-cov-json --no-probe
        assert_status 0
        assert_output_has "setup pst-cov-json: nothing to change, everything was already in place"
}

@test "--json list: the apps with service, user and venv; the human list has one line per app" {
        run --separate-stderr "$PYSHARE" --json list
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"apps"}, d
assert all(set(a) == {"app", "service", "user", "venv"} for a in d["apps"]), d
mine = [a for a in d["apps"] if a["app"] == "pst-cov-json"]
assert mine == [{"app": "pst-cov-json", "service": "pst-cov-json.service", "user": "pst_svc",
                 "venv": "/opt/pyshare/pst-cov-json"}], d
assert [a["app"] for a in d["apps"] if a["app"] == "pst-cov"] == ["pst-cov"], d
'
        run "$PYSHARE" list
        assert_status 0
        line=$(printf '%-20s %-24s %-12s %s' pst-cov-json "$JSON_UNIT" "$SVC_USER" /opt/pyshare/pst-cov-json)
        grep -qxF "$line" <<<"$output"
}

@test "--json remove: the app, changed, the files removed, purged; a second remove changes nothing; human lines" {
        run --separate-stderr "$PYSHARE" --json remove pst-cov-json
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"app", "dry_run", "changed", "files_removed", "purged", "reload"}, d
assert d["app"] == "pst-cov-json" and d["dry_run"] is False and d["changed"] is True and d["purged"] is False, d
files = {"/etc/pyshare/pst-cov-json.conf", "/etc/pyshare/pst-cov-json.env",
         "/etc/pyshare/services/pst-cov-json.service.env",
         "/etc/systemd/system/pst-cov-json.service.d/50-pyshare.conf", "/etc/tmpfiles.d/pyshare-pst-cov-json.conf"}
assert sorted(d["files_removed"]) == sorted(files), d["files_removed"]
assert d["reload"] == "skipped", d
'
        [ -d /opt/pyshare/pst-cov-json ] && [ ! -e /etc/pyshare/pst-cov-json.conf ]
        run --separate-stderr "$PYSHARE" --json remove pst-cov-json
        assert_status 0
        echo "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d == {"app": "pst-cov-json", "changed": False}, d
'
        run "$PYSHARE" remove pst-cov-json
        assert_status 0
        assert_output_has "remove pst-cov-json: nothing to remove (no /etc/pyshare/pst-cov-json.conf)"
        run "$PYSHARE" setup pst-cov-json --service="$JSON_UNIT" --group="$DEPLOY_GROUP" --no-probe -q
        assert_status 0
        run "$PYSHARE" remove pst-cov-json --purge
        assert_status 0
        assert_output_has "deleted the virtualenv /opt/pyshare/pst-cov-json"
        grep -qx "remove pst-cov-json: done" <<<"$output"
        [ ! -e /opt/pyshare/pst-cov-json ]
}

@test ".pth import lines are reported by setup and repair, and never run by setup, repair or the probe" {
        site=$(site_of pst-cov)
        rm -f "$PWNED"
        as_deployer /usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write(sys.argv[2] + "\n")' \
                "$site/pst_cov_evil.pth" "import os; open('$PWNED','w')"
        msg="not run: import line of pst_cov_evil.pth: import os; open('$PWNED'"
        run ps_setup pst-cov
        assert_status 0
        assert_output_has "$msg"
        assert_output_has "ok    pstest_pure 1.0"
        [ ! -e "$PWNED" ]
        run "$PYSHARE" repair pst-cov
        assert_status 0
        assert_output_has "$msg"
        [ ! -e "$PWNED" ]
        run "$PYSHARE" probe pst-cov
        assert_status 0
        assert_output_has "ok    pstest_cext 2.0"
        [ ! -e "$PWNED" ]
        # the line is live: the venv's own interpreter runs it
        as_deployer "$(venv_of pst-cov)/bin/python" -c pass
        [ -e "$PWNED" ]
        rm -f "$PWNED" "$site/pst_cov_evil.pth"
        run "$PYSHARE" repair pst-cov
        assert_status 0
        [[ "$output" != *"pst_cov_evil.pth"* ]]
}

@test "pyshare pip runs pip as _pyshare, with only the deploy group, umask 002 and pip's own environment" {
        site=$(site_of pst-cov)
        rm -f "$PIPREC"
        # Run by pip's own interpreter when it starts (the venv's python runs .pth files).
        as_deployer /usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write(sys.argv[2] + "\n")' \
                "$site/pst_cov_rec.pth" "import os, json; m = os.umask(0); os.umask(m); open('$PIPREC', 'w').write(json.dumps(dict(uid=os.getuid(), euid=os.geteuid(), gid=os.getgid(), egid=os.getegid(), groups=sorted(os.getgroups()), umask=m, env=dict(os.environ))))"
        run env PST_COV_SECRET=1 HOME=/root/pst-cov LANG=pst_cov_lang PATH="/tmp/pst-cov-path:$PATH" \
                PYTHONPATH=/tmp/pst-cov-pp PIP_INDEX_URL=http://pst-cov.invalid/ "$PYSHARE" pip pst-cov list
        rm -f "$site/pst_cov_rec.pth"
        assert_status 0
        assert_output_has "as _pyshare in group $DEPLOY_GROUP"
        assert_output_has "pstest_pure 1.0"
        [ -f "$PIPREC" ]
        /usr/bin/python3 - "$PIPREC" "$(id -u _pyshare)" "$(getent group "$DEPLOY_GROUP" | cut -d: -f3)" \
                "$(id -g _pyshare)" <<'PY'
import json, sys
rec, uid, gid, own_gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(rec))
assert d["uid"] == d["euid"] == uid, d
# only the deploy group: primary and the one supplementary group, not _pyshare's own
assert d["gid"] == d["egid"] == gid, d
assert d["groups"] == [gid], (d["groups"], gid)
assert own_gid not in d["groups"] or own_gid == gid, d
assert d["umask"] == 0o002, oct(d["umask"])
# what src/pip.c passes, and nothing inherited from the caller
passed = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "PIP_NO_INPUT": "1",
          "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1", "PYTHONDONTWRITEBYTECODE": ""}
env = d["env"]
assert set(env) <= set(passed), sorted(set(env) - set(passed))
assert all(env[k] == passed[k] for k in env), env
for k in ("PST_COV_SECRET", "PYTHONPATH", "PIP_INDEX_URL"):
    assert k not in env, (k, env)
PY
        rm -f "$PIPREC"
        # pip's repair afterwards took the .pth's removal into account
        run "$PYSHARE" repair pst-cov
        assert_status 0
}
