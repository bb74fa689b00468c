"""Its import hands the probe's result pipe (fd 3) and output pipe (fd 1) over a unix socket
(SCM_RIGHTS) to a process the test started outside the probe's containment, which keeps them
open: the probe's pipes never reach end-of-file."""
import socket

SOCK = "/run/pst-adv-contain/holder.sock"

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect(SOCK)
    socket.send_fds(s, [b"fds"], [3, 1])
    s.recv(1)  # the holder has them
__version__ = "passed"
