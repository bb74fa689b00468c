# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
"""Running pyshare with --json for the modules of pyshare.pyshare: one JSON object on stdout,
an "error" member in it when the command failed (message, cause, exit_status)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

SEARCH_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"]


def pyshare_bin(module):
    """pyshare on PATH, else in the sbin directories a PATH without them misses."""
    return module.get_bin_path("pyshare") or module.get_bin_path("pyshare", required=True, opt_dirs=SEARCH_DIRS)


def run_json(module, args):
    """Runs `pyshare --json ARGS`: (rc, the object (or None when stdout is no JSON), stderr)."""
    cmd = [pyshare_bin(module), "--json"] + list(args)
    rc, out, err = module.run_command(cmd, environ_update={"LANG": "C.UTF-8"})
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    return rc, doc, err, cmd


def fail(module, rc, doc, err, cmd, **extra):
    """Fails the task with pyshare's own message and cause."""
    error = (doc or {}).get("error") or {}
    msg = error.get("message") or (err.strip().splitlines() or ["pyshare failed"])[-1]
    module.fail_json(msg=msg, cause=error.get("cause"), errno=error.get("errno"),
                     rc=error.get("exit_status", rc), cmd=cmd, stderr=err, pyshare=doc, **extra)


def help_text(module):
    rc, out, err = module.run_command([pyshare_bin(module), "--help"])
    return out if rc == 0 else ""
