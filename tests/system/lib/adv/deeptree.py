#!/usr/bin/python3
"""Deeply nested directories, made and removed relative to file descriptors (a path of 20000
levels is far beyond PATH_MAX, so `mkdir -p` and most tools cannot).

  deeptree.py make DIR DEPTH      DIR/d/d/d/... DEPTH levels, a file at the bottom
  deeptree.py remove DIR          removes DIR and everything below, any depth, never
                                  holding more than two descriptors and never following links
"""
import os
import stat
import sys

FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def make(top, depth):
    fd = os.open(top, FLAGS)
    try:
        for _ in range(depth):
            try:
                os.mkdir("d", 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            nfd = os.open("d", FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nfd
        bottom = os.open("bottom.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=fd)
        os.write(bottom, b"the bottom\n")
        os.close(bottom)
    finally:
        os.close(fd)


def remove(top):
    parent, name = os.path.split(os.path.abspath(top))
    pfd = os.open(parent, FLAGS)
    try:
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=pfd)
            return
        names = [name]          # the path from parent down to fd, as names
        fd = os.open(name, FLAGS, dir_fd=pfd)
        while True:
            sub = None
            with os.scandir(fd) as it:
                here = os.fstat(fd).st_dev
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        if e.stat(follow_symlinks=False).st_dev != here:
                            raise SystemExit(f"deeptree: a mount point below {top}: not removing")
                        sub = e.name
                        break
                    os.unlink(e.name, dir_fd=fd)
            if sub is not None:
                nfd = os.open(sub, FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nfd
                names.append(sub)
                continue
            # fd is empty: go up and remove it
            done = names.pop()
            if not names:
                os.close(fd)
                os.rmdir(done, dir_fd=pfd)
                return
            up = os.open("..", FLAGS, dir_fd=fd)
            os.close(fd)
            fd = up
            os.rmdir(done, dir_fd=fd)
    finally:
        os.close(pfd)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "remove":
        remove(sys.argv[2])
    else:
        raise SystemExit(__doc__)
