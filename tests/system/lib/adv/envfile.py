#!/usr/bin/python3
"""Checks an EnvironmentFile the way systemd 252 reads it, strictly: every line blank, a
comment (# or ;), or KEY="VALUE" with only \\" \\\\ \\` \\$ escapes, and the file ends with a
newline. A torn file (cut in the middle of a line or a quote) fails. Prints KEY=VALUE lines.

  envfile.py FILE...      exit 0 when every file parses, 1 otherwise
"""
import re
import sys

LINE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\["\\`$])*)"$')


def parse(path):
    data = open(path, "rb").read()
    text = data.decode("utf-8")  # invalid UTF-8 is torn too
    if text and not text.endswith("\n"):
        raise ValueError("does not end with a newline (torn?)")
    env = {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip() or line.lstrip()[:1] in ("#", ";"):
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError(f"line {n} is not KEY=\"VALUE\": {line!r}")
        if m.group(1) in env:
            raise ValueError(f"line {n}: {m.group(1)} twice")
        env[m.group(1)] = re.sub(r"\\(.)", r"\1", m.group(2))
    return env


if __name__ == "__main__":
    bad = 0
    for p in sys.argv[1:]:
        try:
            for k, v in parse(p).items():
                print(f"{p}: {k}={v}")
        except (ValueError, UnicodeDecodeError) as e:
            print(f"{p}: {e}", file=sys.stderr)
            bad = 1
    sys.exit(bad)
