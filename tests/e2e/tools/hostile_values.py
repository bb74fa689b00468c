#!/usr/bin/python3
"""The hostile EnvironmentFile values of issue 5, item 11, and the check of what systemd read.

  hostile_values.py values            NUL-separated values on stdout
  hostile_values.py check REFUSED ENV  REFUSED: envcheck's output; ENV: `env -0` as systemd ran it
"""
import sys

VALUES = [
    b"plain", b"with space", b'dq"uote', b"sq'uote", b"dollar $HOME ${HOME} $$",
    b"back\\slash", b"trailing backslash\\", b"back`tick`", b"#not a comment", b";semi",
    b'x" INJECTED="1', b"x\nINJECTED=1", b"cr\rINJECTED=1", b"tab\there",
    b"\\\nINJECTED=2", b'"\\"\\\\"', b"export INJECTED=3", b"'\nINJECTED=4\n'",
    b"\xff\xfe invalid utf-8", b"\xc0\xaf overlong", b"\xed\xa0\x80 surrogate",
    b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", b"\xc2\x85 next line (C1)", b"del\x7f",
    b"  leading and trailing  ", b"", b"=", b"a=b=c", b"%h %i %%", b"x" * 20000, b"y" * 40000,
]


def should_refuse(v):
    if len(v) > 32 * 1024:
        return True
    try:
        s = v.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in s)


def main():
    if sys.argv[1] == "values":
        sys.stdout.buffer.write(b"\0".join(VALUES) + b"\0")
        return 0
    refused = {int(line.split()[1]) for line in open(sys.argv[2]) if line.startswith("refused ")}
    env = {}
    for item in open(sys.argv[3], "rb").read().split(b"\0"):
        if item:
            k, _, v = item.partition(b"=")
            env[k.decode()] = v
    bad = []
    for i, v in enumerate(VALUES):
        key = f"V{i}"
        if should_refuse(v) != (i in refused):
            bad.append(f"{key}: {'refused' if i in refused else 'accepted'} {v[:40]!r}")
        elif i not in refused and env.get(key) != v:
            bad.append(f"{key}: wrote {v[:40]!r}, systemd read {env.get(key, b'<nothing>')[:40]!r}")
        elif i in refused and key in env:
            bad.append(f"{key}: refused, yet systemd read {env[key][:40]!r}")
    for k in env:
        if k.startswith("INJECTED") or (k.startswith("V") and k[1:].isdigit() and int(k[1:]) >= len(VALUES)):
            bad.append(f"a second variable got in: {k}={env[k][:40]!r}")
    print(f"{len(VALUES)} values, {len(refused)} refused, {len(VALUES) - len(refused)} read back by systemd")
    for b in bad:
        print("MISMATCH", b)
    return 1 if bad else 0


sys.exit(main())
