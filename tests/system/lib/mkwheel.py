#!/usr/bin/python3
"""Builds a wheel without PyPI, setuptools or network: the tests' own packages.

  mkwheel.py --out DIR --name NAME --version V
             [--module PATH=TEXT]... [--ext MODNAME=C_SOURCE_FILE]... [--data PATH=TEXT]...
             [--script NAME=MODULE:FUNC]...

--module adds a file with that text (e.g. pkg/__init__.py=__version__ = '1.0');
--ext compiles a C extension module with gcc against this Python's headers (the wheel is then
tagged for this interpreter and platform); --data adds a file at the top of the wheel (e.g. a
.pth); --script adds a console script that pip writes into the venv's bin/. Prints the wheel's
path.
"""
import argparse
import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import tempfile
import zipfile


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def compile_ext(modname, source, workdir):
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    out = os.path.join(workdir, modname + suffix)
    inc = sysconfig.get_paths()["include"]
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-I", inc, "-o", out, source], check=True)
    with open(out, "rb") as f:
        return modname + suffix, f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--module", action="append", default=[])
    ap.add_argument("--ext", action="append", default=[])
    ap.add_argument("--data", action="append", default=[])
    ap.add_argument("--script", action="append", default=[])
    a = ap.parse_args()

    files = {}
    for spec in a.module + a.data:
        path, _, text = spec.partition("=")
        files[path] = (text.replace("\\n", "\n") + "\n").encode()
    pure = not a.ext
    with tempfile.TemporaryDirectory() as work:
        for spec in a.ext:
            modname, _, src = spec.partition("=")
            name, data = compile_ext(modname, src, work)
            files[name] = data

    if pure:
        tag = "py3-none-any"
    else:
        impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
        plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        tag = f"{impl}-{impl}-{plat}"
    tops = sorted({p.split("/")[0].split(".")[0] for p in files if not p.endswith(".pth")})
    di = f"{a.name}-{a.version}.dist-info"
    files[f"{di}/METADATA"] = f"Metadata-Version: 2.1\nName: {a.name}\nVersion: {a.version}\n".encode()
    files[f"{di}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: pyshare-tests\n"
                            f"Root-Is-Purelib: {'true' if pure else 'false'}\nTag: {tag}\n").encode()
    if a.script:
        files[f"{di}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
            f"{n} = {t}\n" for n, _, t in (s.partition("=") for s in a.script))).encode()
    files[f"{di}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    record = [record_line(p, d) for p, d in files.items()] + [f"{di}/RECORD,,"]
    files[f"{di}/RECORD"] = ("\n".join(record) + "\n").encode()

    os.makedirs(a.out, exist_ok=True)
    whl = os.path.join(a.out, f"{a.name}-{a.version}-{tag}.whl")
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            # Extension modules are executable members, as setuptools packs them: pip then
            # chmods them with the installer's umask (0711 under umask 077).
            info = zipfile.ZipInfo(p, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if p.endswith(".so") else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    print(whl)


main()
