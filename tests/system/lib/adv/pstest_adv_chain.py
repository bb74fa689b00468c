"""Its import starts a chain of 300 processes, each in a session of its own (setsid) and each
the parent of the next, and at its end a double-forked daemon; every one of them then sleeps
as `pst-adv-chain 1000` (argv[0] is the marker the tests look for). The import returns once
the last of the chain and the daemon run; __version__ says whether they did."""
import os
import select
import time

MARK = "pst-adv-chain"
DEPTH = 300


def _linger():
    os.execv("/bin/sleep", [MARK, "1000"])


def start(depth=DEPTH):
    r, w = os.pipe()  # not inherited across exec: only the forks hold it
    if os.fork() == 0:
        for _ in range(depth - 1):
            os.setsid()
            if os.fork() != 0:
                _linger()
        os.setsid()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, b"d")
                _linger()
            os._exit(0)
        os.write(w, b"c")
        _linger()
    os.close(w)
    got = b""
    deadline = time.monotonic() + 90  # the sanitizer build forks slowly
    while len(got) < 2 and time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 1)
        if ready:
            chunk = os.read(r, 2)
            if not chunk:
                break
            got += chunk
    os.close(r)
    return len(got) == 2


__version__ = "chain-%d" % DEPTH if start() else "chain-incomplete"
