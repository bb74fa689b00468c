"""Its import leaves a process behind that escapes the probe's process group and session:
double fork, setsid, sleep 1000 s. The grandchild's pid goes to /tmp/pst-adv-linger.pid: as the
host sees it (/proc/self of the host's procfs), since the probe may run in a PID namespace."""
import os
import time

PIDFILE = "/tmp/pst-adv-linger.pid"
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        with open(PIDFILE + ".tmp", "w") as fh:
            fh.write(f"{os.readlink('/proc/self')} {os.getsid(0)}\n")
        os.rename(PIDFILE + ".tmp", PIDFILE)
        time.sleep(1000)
    os._exit(0)
os.waitpid(pid, 0)
for _ in range(200):
    if os.path.exists(PIDFILE):
        break
    time.sleep(0.01)
__version__ = "lingering"
