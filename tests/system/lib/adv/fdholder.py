"""Outside every containment: accepts file descriptors on a unix socket (SCM_RIGHTS) and keeps
them open until killed. Each received set is logged to the file given, then acknowledged."""
import os
import socket
import sys

sock_path, log_path = sys.argv[1], sys.argv[2]
held = []
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
os.chmod(sock_path, 0o777)
srv.listen(8)
with open(log_path, "a") as log:
    log.write("listening\n")
    log.flush()
    while True:
        conn, _ = srv.accept()
        _, fds, _, _ = socket.recv_fds(conn, 16, 8)
        held.extend(fds)
        log.write("held %d\n" % len(fds))
        log.flush()
        conn.send(b"k")
        conn.close()
