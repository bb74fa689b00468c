"""Imported by the probe: looks at the process it runs in and reports it as the message of an
ImportError (the verdict channel is the only one the test can read back), as compact JSON."""
import ctypes
import json
import os
import resource
import signal


def status_fields():
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            if k in ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd", "NoNewPrivs", "Seccomp"):
                out[k] = v.strip()
    return out


def fds():
    names = os.listdir("/proc/self/fd")  # its own fd is in the list: drop the one that is gone
    seen = {}
    for n in names:
        try:
            seen[int(n)] = os.readlink(f"/proc/self/fd/{n}")
        except OSError:
            pass
    return seen


def outcome(f):
    try:
        f()
        return "succeeded"
    except BaseException as e:  # noqa: B902
        return type(e).__name__


def pdeathsig():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        sig = ctypes.c_int(-1)
        libc.prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
        return sig.value
    except Exception as e:  # noqa: BLE001
        return repr(e)


def limit(r):
    soft, hard = resource.getrlimit(r)
    return [soft, hard]


def fd_kind(fd):
    try:
        st = os.fstat(fd)
        return [st.st_mode >> 12, st.st_ino]
    except OSError as e:
        return repr(e)


_fds = fds()
seen = {
    "resuid": list(os.getresuid()),
    "resgid": list(os.getresgid()),
    "groups": sorted(os.getgroups()),
    "status": status_fields(),
    "fds": _fds,
    "fd_kind": {str(fd): fd_kind(fd) for fd in _fds},
    "env": dict(os.environ),
    "cwd": os.getcwd(),
    "setresuid0": outcome(lambda: os.setresuid(0, 0, 0)),
    "setresgid0": outcome(lambda: os.setresgid(0, 0, 0)),
    "setgroups0": outcome(lambda: os.setgroups([0])),
    "shadow": outcome(lambda: open("/etc/shadow").close()),
    "tty": outcome(lambda: os.close(os.open("/dev/tty", os.O_RDWR))),
    "core": limit(resource.RLIMIT_CORE),
    "cpu": limit(resource.RLIMIT_CPU),
    "as": limit(resource.RLIMIT_AS),
    "fsize": limit(resource.RLIMIT_FSIZE),
    "sid": os.getsid(0),
    "pgid": os.getpgid(0),
    "pid": os.getpid(),
    "pdeathsig": pdeathsig(),
    "sigmask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
    "sigint": str(signal.getsignal(signal.SIGINT)),
    "umask": os.umask(0o022),
}
raise ImportError("PSTSELF" + json.dumps(seen, separators=(",", ":"), sort_keys=True))
