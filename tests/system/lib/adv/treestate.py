#!/usr/bin/python3
"""Prints the state of trees, one line per entry, sorted by path: type, owner, mode, link count
(non-directories), access and default ACL (as the raw xattr, hex), the link target of a
symlink and, with --content, the sha256 of regular files. Never follows a symlink, never
opens anything but regular files (with --content) and directories.

  treestate.py [--content] [--relative] DIR...
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


def entry(top, path, content=False, relative=False):
    st = os.lstat(path)
    kind = stat.S_IFMT(st.st_mode)
    shown = os.path.relpath(path, top) if relative else path
    f = [shown, KINDS.get(kind, "?"), f"{st.st_uid}:{st.st_gid}", f"{stat.S_IMODE(st.st_mode):04o}"]
    if kind != stat.S_IFDIR:
        f.append(f"n{st.st_nlink}")
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


def state(tops, content=False, relative=False):
    out = []
    for top in tops:
        if not os.path.lexists(top):
            out.append(f"absent {top}")
            continue
        out.append(entry(top, top, content, relative))
        if os.path.isdir(top) and not os.path.islink(top):
            for dirpath, dirnames, filenames in os.walk(top):
                for n in dirnames + filenames:
                    out.append(entry(top, os.path.join(dirpath, n), content, relative))
    return sorted(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    lines = state([a for a in args if not a.startswith("--")], "--content" in args, "--relative" in args)
    sys.stdout.write("".join(line + "\n" for line in lines))
