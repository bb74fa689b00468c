#!/usr/bin/python3
"""A big subtree, to make a walk take long: DIR/dNN/dNN/fNNN.py, COUNT files in all.

  mkbig.py DIR COUNT [MODE]
"""
import os
import sys

top, count = sys.argv[1], int(sys.argv[2])
mode = int(sys.argv[3], 8) if len(sys.argv) > 3 else 0o664
os.makedirs(top, exist_ok=True)
per = 100
made = 0
i = 0
while made < count:
    d = os.path.join(top, f"d{i // 20:02d}", f"d{i % 20:02d}")
    os.makedirs(d, exist_ok=True)
    for k in range(min(per, count - made)):
        p = os.path.join(d, f"f{k:03d}.py")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        os.write(fd, b"X = 1\n")
        os.close(fd)
        os.chmod(p, mode)
        made += 1
    i += 1
