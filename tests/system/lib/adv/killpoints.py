#!/usr/bin/python3
"""kill -9 at chosen syscalls of one pyshare run, then a rerun; the end state must equal a clean
run's, and every file pyshare writes must be, right after each kill, absent (if it was), its
old content or its new content, never torn (EnvironmentFiles are also parsed).

  killpoints.py kill --app APP --unit UNIT --prefix DIR --state SAVED --points K [--wrapper PROG]
                [--detach-on-exec] [--no-content] [--etc-share F] [--pick REGEX]... [--log FILE]
                [--per-pick] [--watch PATH]... [--rerun ARGS]... [--rolled-back-status N] [--rebuild]
                -- PYSHARE ARG...
  killpoints.py files --app APP --unit UNIT      the files pyshare writes under /etc, one a line

SAVED is a directory made by `killpoints.py save`: the venv (cp -a, ACLs kept) and the app's
files under /etc, restored before every run:

  killpoints.py save --app APP --unit UNIT --prefix DIR SAVED

The kill points come from one traced run (strace -f -y: pyshare and its walk's threads;
--detach-on-exec adds -b execve, so that an exec'd child such as `python -m venv` is never
traced): every mutating syscall that names a file under /etc (a share F of the K points,
default 0.6), the rest spread evenly over the other mutating syscalls (the walk); --pick REGEX
keeps only the syscalls whose strace line matches one of the REGEXes, and with --per-pick the K
points are shared out among the REGEXes, each share spread over that REGEX's syscalls. A kill is
`strace -f --inject=SYSCALL:signal=KILL:when=N`, N counted per syscall and per thread, as
strace counts. A point that the run does not reach (the walk's threads share the work
differently from run to run) does not count: another syscall of the same kind (under /etc or
not), spread over the rest of the run, takes its place, until K runs were really killed. The
run passes when no point fails and K runs were killed (in at most 3K tries).

Work done by a child (pip, `python -m venv`) has no syscall of pyshare to kill at: --watch PATH
adds one point each, a plain run killed (kill -9) as soon as PATH appears, polled every
millisecond; a run that ends first does not count (and is not replaced). Right after such a
kill no process may still run in the venv (a child that outlives pyshare keeps writing).

--rerun ARGS (a shell-quoted command line, repeatable) are the reruns, taken in turn (by default
the command itself). A rerun that exits with --rolled-back-status N rolled the interrupted run
back and refused to go on: it must leave the saved state itself, contents included, instead of
the clean run's.

--rebuild: the run is a `pyshare rebuild`, and right after each kill the old venv (the saved
one) is whole, at the app's path or aside (PREFIX/.APP.pyshare-rebuild), and never mixed with
the new one: while it is aside, the app's path holds only entries that the finished new venv has
(and its pyvenv.cfg, if there is one yet, is the new one's); when nothing is aside, the app's
path holds the old venv, contents included, or the whole new one. The state compared after a
rerun also lists what lies beside the venv under the app's name (aside, an old venv being
deleted): nothing, as after a clean run.
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import envfile  # noqa: E402
import treestate  # noqa: E402

MUTATING = ["openat", "write", "fsync", "fdatasync", "renameat", "renameat2", "rename", "fchown",
            "fchownat", "fchmod", "fchmodat", "chmod", "setxattr", "lsetxattr", "fsetxattr", "mkdirat",
            "unlinkat", "linkat", "symlinkat", "ftruncate"]


def etc_files(app, unit):
    return [f"/etc/pyshare/{app}.conf", f"/etc/pyshare/{app}.env", f"/etc/pyshare/services/{unit}.env",
            f"/etc/systemd/system/{unit}.d/50-pyshare.conf", f"/etc/tmpfiles.d/pyshare-{app}.conf"]


def etc_dirs(unit):
    return ["/etc/pyshare", "/etc/pyshare/services", f"/etc/systemd/system/{unit}.d", "/etc/tmpfiles.d"]


def ours(name, app, unit):
    return app in name or unit in name or name == "50-pyshare.conf" or name.startswith(".#50-pyshare.conf")


def read(path):
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def beside(a):
    """What lies in the prefix under the app's name but the venv itself: a rebuild's old venv."""
    try:
        names = os.listdir(a.prefix)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if a.app in n and n != a.app)


def state_of(a, content=None):
    """The venv (owners, modes, ACLs, contents unless --no-content) and every file of the app
    or its unit in the directories pyshare writes, temporaries included."""
    content = not a.no_content if content is None else content
    lines = treestate.state([os.path.join(a.prefix, a.app)], content=content, relative=True)
    lines += [f"beside the venv: {n}" for n in beside(a)]
    for d in etc_dirs(a.unit):
        if not os.path.isdir(d):
            lines.append(f"absent {d}")
            continue
        lines.append(treestate.entry(d, d))
        for n in sorted(os.listdir(d)):
            if ours(n, a.app, a.unit):
                lines += treestate.state([os.path.join(d, n)], content=True)
    return lines


def save(a, saved):
    shutil.rmtree(saved, ignore_errors=True)
    os.makedirs(os.path.join(saved, "etc"))
    venv = os.path.join(a.prefix, a.app)
    if os.path.lexists(venv):
        subprocess.run(["cp", "-a", venv, os.path.join(saved, "venv")], check=True)
    for i, f in enumerate(etc_files(a.app, a.unit)):
        if os.path.lexists(f):
            subprocess.run(["cp", "-a", f, os.path.join(saved, "etc", str(i))], check=True)


def restore(a, saved):
    venv = os.path.join(a.prefix, a.app)
    if os.path.lexists(venv):
        subprocess.run(["rm", "-rf", venv], check=True)
    if os.path.lexists(os.path.join(saved, "venv")):
        subprocess.run(["cp", "-a", os.path.join(saved, "venv"), venv], check=True)
    for d in etc_dirs(a.unit):
        if os.path.isdir(d):
            for n in os.listdir(d):
                if ours(n, a.app, a.unit) and os.path.isfile(os.path.join(d, n)):
                    os.unlink(os.path.join(d, n))
    dropin = f"/etc/systemd/system/{a.unit}.d"
    for i, f in enumerate(etc_files(a.app, a.unit)):
        src = os.path.join(saved, "etc", str(i))
        if os.path.lexists(src):
            os.makedirs(os.path.dirname(f), exist_ok=True)
            subprocess.run(["cp", "-a", src, f], check=True)
    if os.path.isdir(dropin) and not os.listdir(dropin):
        os.rmdir(dropin)


def run(cmd, timeout=600):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", ""


def events(a, trace_path):
    """(syscall, n-th of that syscall in its thread, line) for each traced syscall, in order.
    strace counts injections per thread (-f: the walk has worker threads), and so do we."""
    counts, out = {}, []
    with open(trace_path, errors="replace") as fh:
        for line in fh:
            m = re.match(r"^(?:(\d+) +)?([a-z0-9_]+)\(", line)
            if not m or m.group(2) not in MUTATING:
                continue
            tid, sc = m.group(1) or "main", m.group(2)
            counts[tid, sc] = counts.get((tid, sc), 0) + 1
            out.append((sc, counts[tid, sc], line.rstrip("\n")))
    return out


def choose(a, evs):
    """The K points, in the order of the run, and the spares of each kind (under /etc, the
    rest), each in an order that spreads any first few of them over the run."""
    if a.pick and a.per_pick:
        return choose_per_pick(a, evs)
    if a.pick:
        evs = [e for e in evs if any(re.search(p, e[2]) for p in a.pick)]
    etc = [e for e in evs if "/etc/" in e[2]]
    rest = [e for e in evs if "/etc/" not in e[2]]
    n_etc = min(len(etc), int(a.points * a.etc_share)) if rest else min(len(etc), a.points)
    pick_etc, pick_rest = spread(etc, n_etc), spread(rest, a.points - n_etc)
    order = {id(e): i for i, e in enumerate(evs)}
    taken = {id(e) for e in pick_etc + pick_rest}
    spares = {kind: spread_order([e for e in items if id(e) not in taken])
              for kind, items in (("etc", etc), ("rest", rest))}
    return sorted(pick_etc + pick_rest, key=lambda e: order[id(e)]), spares


def choose_per_pick(a, evs):
    """--per-pick: the K points shared out among the --pick REGEXes (the first ones get one
    more when K does not divide), each share spread over that REGEX's own syscalls, so that a
    step of a few syscalls is not drowned by a walk of thousands; a REGEX with fewer syscalls
    than its share leaves the rest to the next. The spares: what no REGEX took, by kind."""
    order = {id(e): i for i, e in enumerate(evs)}
    groups = [[e for e in evs if re.search(p, e[2])] for p in a.pick]
    picked, taken, left = [], set(), a.points
    for i, g in enumerate(groups):
        g = [e for e in g if id(e) not in taken]
        share = -(-left // (len(groups) - i))
        chosen = spread(g, min(share, len(g)))
        picked += chosen
        taken |= {id(e) for e in chosen}
        left -= len(chosen)
    rest = [e for g in groups for e in g if id(e) not in taken]
    rest = list({id(e): e for e in rest}.values())
    spares = {kind: spread_order([e for e in rest if ("/etc/" in e[2]) == (kind == "etc")]) for kind in ("etc", "rest")}
    return sorted(picked, key=lambda e: order[id(e)]), spares


def spread(items, k):
    if k <= 0 or not items:
        return []
    if k >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / (k - 1))] if k > 1 else items[0] for i in range(k)]


def spread_order(items):
    """ITEMS reordered so that any first few lie spread over the whole list: the positions
    0, 1/2, 1/4, 3/4, 1/8, 5/8, ... of it (bit-reversed counting), each item once."""
    def at(k):
        f, b = 0.0, 0.5
        while k:
            f, b, k = f + b * (k & 1), b / 2, k >> 1
        return f
    out, seen, k = [], set(), 0
    while len(out) < len(items):
        j = int(at(k) * len(items))
        k += 1
        if j not in seen:
            seen.add(j)
            out.append(items[j])
    return out


def check_files(a, old, new):
    """Right after a kill: each file absent-as-before, old or new; EnvironmentFiles parse."""
    problems = []
    for f in etc_files(a.app, a.unit):
        now = read(f)
        if now not in (old[f], new[f]):
            problems.append(f"{f} is neither the old nor the new content: {(now or b'')[:300]!r}")
        if now is not None and f.endswith(".env"):
            try:
                envfile.parse(f)
            except (ValueError, UnicodeDecodeError) as e:
                problems.append(f"{f} does not parse: {e}")
    return problems


TEMPORARY = re.compile(r"^\.#.+\.[0-9a-f]{12}$")
# CPython's atomic write of a byte-compiled file (importlib's _write_atomic: "PATH.{id(PATH)}",
# then a rename), as pip compiles what it installs: a file of the unfinished new venv, caught
# between its write and its rename by the kill
PYC_TEMPORARY = re.compile(r"\.pyc\.[0-9]+$")


def venv_paths(lines):
    return {line.split(" ")[0] for line in lines}


def check_rebuild(a, old_venv, new_venv, new_cfg):
    """Right after a kill of a rebuild: the old venv whole (at the app's path or aside), and the
    app's path never a mix of the old one and the new one."""
    venv = os.path.join(a.prefix, a.app)
    aside = os.path.join(a.prefix, f".{a.app}.pyshare-rebuild")
    if os.path.lexists(aside):
        if treestate.state([aside], content=True, relative=True) != old_venv:
            return ["the old venv aside is not whole (contents, owners, modes, ACLs)"]
        if not os.path.lexists(venv):
            return []
        # pyshare's atomic writes in the new venv (its marker), and pip's byte-compiling, leave
        # their temporary until the rename: a file of the new venv, not of the old one
        extra = sorted(p for p in venv_paths(treestate.state([venv], relative=True)) - venv_paths(new_venv)
                       if not TEMPORARY.match(os.path.basename(p)) and not PYC_TEMPORARY.search(p))
        if extra:
            return ["while the old venv is aside, the app's path holds entries the new venv does not have: "
                    + ", ".join(extra[:6])]
        cfg = read(os.path.join(venv, "pyvenv.cfg"))
        if cfg is not None and cfg != new_cfg:
            return [f"while the old venv is aside, the app's pyvenv.cfg is not the new one's: {cfg[:200]!r}"]
        return []
    if treestate.state([venv], content=True, relative=True) == old_venv:
        return []
    if treestate.state([venv], relative=True) == new_venv:
        return []
    return ["nothing is aside, and the app's path holds neither the old venv (contents included) nor the whole "
            "new one"]


def survivors(a, wait=2.0):
    """Processes still running in the venv (its path on their command line) after the kill."""
    venv = os.path.join(a.prefix, a.app)
    end = time.time() + wait
    while True:
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if venv + "/" in cmdline + "/" and int(pid) != os.getpid():
                left.append(f"{pid}: {cmdline[:120]}")
        if not left or time.time() > end:
            return left
        time.sleep(0.05)


def kill_when_exists(cmd, path, timeout=600):
    """Runs cmd and kills it (kill -9) as soon as path exists; its exit status."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    end = time.time() + timeout
    while p.poll() is None and time.time() < end:
        if os.path.lexists(path):
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    try:
        return p.wait(timeout=max(1, end - time.time()))
    except subprocess.TimeoutExpired:
        p.kill()
        return "timeout"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", nargs="?", default="kill")
    ap.add_argument("--app", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--prefix", default="/opt/pyshare")
    ap.add_argument("--state")
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--etc-share", type=float, default=0.6)
    ap.add_argument("--wrapper", default=None)
    ap.add_argument("--detach-on-exec", action="store_true",
                    help="strace -b execve: children that exec (python -m venv) are not traced")
    ap.add_argument("--no-content", action="store_true")
    ap.add_argument("--pick", action="append", default=[])
    ap.add_argument("--log", default=None)
    ap.add_argument("--watch", action="append", default=[])
    ap.add_argument("--rerun", action="append", default=[])
    ap.add_argument("--rolled-back-status", type=int, default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--per-pick", action="store_true")
    ap.add_argument("saved", nargs="?")
    argv = sys.argv[1:]
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_intermixed_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.mode == "files":
        print("\n".join(etc_files(a.app, a.unit)))
        return 0
    if a.mode == "save":
        save(a, a.saved)
        return 0
    saved = a.state
    wrap = [a.wrapper] if a.wrapper else []
    if a.wrapper and a.detach_on_exec:
        raise SystemExit("--wrapper execs pyshare: it cannot go with --detach-on-exec")
    # -f: the walk's worker threads are tracees of their own; -b execve: no exec'd child is
    follow = ["-f"] + (["-b", "execve"] if a.detach_on_exec else [])
    log = open(a.log, "w") if a.log else sys.stderr
    t0 = time.time()

    # the clean run: the reference end state and the new content of each file
    restore(a, saved)
    old = {f: read(f) for f in etc_files(a.app, a.unit)}
    saved_state = state_of(a, content=True)
    old_venv = treestate.state([os.path.join(a.prefix, a.app)], content=True, relative=True)
    st, out = run(wrap + cmd)
    if st != 0:
        print(f"the clean run failed ({st}):\n{out}", file=sys.stderr)
        return 1
    ref = state_of(a)
    new = {f: read(f) for f in etc_files(a.app, a.unit)}
    new_venv = treestate.state([os.path.join(a.prefix, a.app)], relative=True)
    new_cfg = read(os.path.join(a.prefix, a.app, "pyvenv.cfg"))
    reruns = [shlex.split(r) for r in a.rerun] or [cmd]

    # the traced run: where the kills can land
    restore(a, saved)
    trace = os.path.join(saved, "trace")
    st, out = run(["strace", "-y"] + follow + ["-o", trace, "-e", "trace=" + ",".join(MUTATING)] + wrap + cmd)
    if st != 0:
        print(f"the traced run failed ({st}):\n{out}", file=sys.stderr)
        return 1
    evs = events(a, trace)
    points, spares = choose(a, evs)
    print(f"{len(evs)} mutating syscalls in the run; killing at {len(points)} of them "
          f"({len(spares['etc'])} + {len(spares['rest'])} spares), and when {len(a.watch)} paths appear", file=log)

    def after_kill(where, st, out, was_killed):
        """The checks right after one kill, then a rerun and the state it leaves."""
        problems = check_files(a, old, new)
        if was_killed:
            problems += [f"still running in the venv after the kill: {p}" for p in survivors(a)]
            if a.rebuild:
                problems += check_rebuild(a, old_venv, new_venv, new_cfg)
        elif st != 0:
            problems.append(f"not killed, and the run failed with {st}: {out[-500:]}")
        rerun = reruns[after_kill.n % len(reruns)]
        after_kill.n += 1
        st2, out2 = run(rerun)
        if st2 == a.rolled_back_status and st2 is not None:
            want, now, what = saved_state, state_of(a, content=True), "the saved state (a roll-back)"
        else:
            want, now, what = ref, state_of(a), "a clean run's state"
        if st2 != 0 and st2 != a.rolled_back_status:
            problems.append(f"the rerun ({' '.join(rerun[1:3])}) failed with {st2}: {out2[-800:]}")
        elif now != want:
            gone = [x for x in want if x not in now]
            extra = [x for x in now if x not in want]
            problems.append(f"the rerun ({' '.join(rerun[1:3])}, status {st2}) did not converge to {what}:\n"
                            "      missing: " + "\n               ".join(gone[:6]) + "\n      extra:   "
                            + "\n               ".join(extra[:6]))
        print(f"{'FAIL' if problems else 'ok  '} kill at {where}: status {st}"
              f"{'' if was_killed else ' (not reached: not counted)'}; rerun {' '.join(rerun[1:3])}: {st2}",
              file=log)
        for p in problems:
            print(f"    {p}", file=log)
        if problems:
            failures.append((where, problems))
    after_kill.n = 0

    failures, killed, missed, tried = [], 0, [], 0
    queue = list(points)
    # misses cost time: three tries for each kill wanted at most
    while queue and killed < a.points and tried < 3 * a.points:
        sc, n, line = queue.pop(0)
        tried += 1
        restore(a, saved)
        st, out = run(["strace"] + follow + ["-o", "/dev/null", "-e", "trace=" + sc,
                       "-e", f"inject={sc}:signal=KILL:when={n}"] + wrap + cmd)
        was_killed = st in (137, -9)
        killed += was_killed
        if not was_killed:
            missed.append(f"{sc} #{n} ({line[:120]}): status {st}")
            # a spare of the same kind takes its place (of the other kind when none is left)
            kind = "etc" if "/etc/" in line else "rest"
            pool = spares[kind] or spares["etc" if kind == "rest" else "rest"]
            if pool:
                queue.append(pool.pop(0))
        after_kill(f"{sc} #{n} ({line[:160]})", st, out, was_killed)
    watched = 0
    for path in a.watch:
        tried += 1
        restore(a, saved)
        st = kill_when_exists(wrap + cmd, path)
        was_killed = st in (137, -9)
        watched += was_killed
        if not was_killed:
            missed.append(f"when {path} appears: the run ended first, status {st}")
        after_kill(f"when {path} appears", st, "", was_killed)
    restore(a, saved)
    took = time.time() - t0
    summary = (f"{tried} kill points tried, {killed} killed (wanted {a.points}), {watched} of {len(a.watch)} "
               f"watched paths killed at, {len(failures)} failed, {took:.0f} s")
    print(summary, file=log)
    if log is not sys.stderr:
        log.close()
    print(summary)
    for m in missed[:10]:
        print(f"not killed (the run took another path): {m}")
    for where, problems in failures[:12]:
        print(f"FAIL kill at {where}")
        for p in problems:
            print(f"    {p}")
    if failures:
        return 1
    if watched < len(a.watch):
        print(f"only {watched} of {len(a.watch)} runs were killed when their path appeared: the paths do not fit "
              "the run")
        return 1
    if killed < a.points:
        print(f"only {killed} runs were killed, {a.points} wanted, after {tried} tries"
              f"{'' if queue else ' (no syscall of the run left to try)'}: the kill points do not fit the run")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
