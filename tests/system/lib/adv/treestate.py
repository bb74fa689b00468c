#!/usr/bin/python3
"""Prints the state of trees, one line per entry, sorted by path: type, owner, mode, link count
(non-directories), access and default ACL (as the raw xattr, hex), the link target of a
symlink and, with --content, the sha256 of regular files. Never follows a symlink, never
opens anything but regular files (with --content) and directories.

  treestate.py [--content] [--relative] [--times] [--skip=PATH]... [--untimed=PATH]... DIR...

--times adds the inode and the ctime (which chmod, chown, an ACL, a write, a rename, a link all
move, and nothing sets back): a file replaced by an identical copy, or changed and changed
back, shows. --skip=PATH leaves that entry's line out (a directory's entries are still listed);
--untimed=PATH leaves out its inode and ctime (a directory whose entries may change).
"""
import hashlib
import os
import stat
import sys

KINDS = {stat.S_IFDIR: "d", stat.S_IFREG: "f", stat.S_IFLNK: "l", stat.S_IFIFO: "p",
         stat.S_IFSOCK: "s", stat.S_IFCHR: "c", stat.S_IFBLK: "b"}


def _acl(path, name):
    try:
        return os.getxattr(path, name, follow_symlinks=False).hex()
    except OSError:
        return "-"


def entry(top, path, content=False, relative=False, times=False):
    st = os.lstat(path)
    kind = stat.S_IFMT(st.st_mode)
    shown = os.path.relpath(path, top) if relative else path
    f = [shown, KINDS.get(kind, "?"), f"{st.st_uid}:{st.st_gid}", f"{stat.S_IMODE(st.st_mode):04o}"]
    if kind != stat.S_IFDIR:
        f.append(f"n{st.st_nlink}")
    if times:
        f.append(f"i{st.st_ino} c{st.st_ctime_ns}")
    if kind in (stat.S_IFCHR, stat.S_IFBLK):
        f.append(f"dev{os.major(st.st_rdev)},{os.minor(st.st_rdev)}")
    if kind != stat.S_IFLNK:
        f.append("a=" + _acl(path, "system.posix_acl_access"))
        if kind == stat.S_IFDIR:
            f.append("d=" + _acl(path, "system.posix_acl_default"))
    else:
        f.append("-> " + os.readlink(path))
    if content and kind == stat.S_IFREG:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            f.append(hashlib.sha256(fh.read()).hexdigest())
    return " ".join(f)


def state(tops, content=False, relative=False, times=False, skip=(), untimed=()):
    out = []

    def add(top, path):
        if path not in skip:
            out.append(entry(top, path, content, relative, times and path not in untimed))

    for top in tops:
        if not os.path.lexists(top):
            out.append(f"absent {top}")
            continue
        add(top, top)
        if os.path.isdir(top) and not os.path.islink(top):
            for dirpath, dirnames, filenames in os.walk(top, onerror=_raise):
                for n in dirnames + filenames:
                    add(top, os.path.join(dirpath, n))
    return sorted(out)


def _raise(e):
    raise e


if __name__ == "__main__":
    args = sys.argv[1:]
    flags = [a for a in args if a.startswith("--")]
    lines = state([a for a in args if not a.startswith("--")], "--content" in flags, "--relative" in flags,
                  "--times" in flags, {a[len("--skip="):] for a in flags if a.startswith("--skip=")},
                  {a[len("--untimed="):] for a in flags if a.startswith("--untimed=")})
    sys.stdout.write("".join(line + "\n" for line in lines))
