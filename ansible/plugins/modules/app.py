# No #! line: Ansible runs a module with the managed host's Python (interpreter discovery).
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app
short_description: Make a shared Python virtualenv importable by a service, with pyshare
version_added: "0.1.0"
description:
  - Runs C(pyshare --json setup) (or C(remove) with I(state=absent)) on the managed host, with
    C(--dry-run) in check mode and C(--diff) in diff mode.
  - C(changed) is exactly what pyshare reports; the task returns the files pyshare wrote, the
    permission counts of the virtualenv's tree and the probe's result per module.
  - A probe failure fails the task with pyshare's own message and cause.
  - With I(rebuild=true), a virtualenv that the service's Python can no longer use (after a
    Python upgrade) is first rebuilt in place with the same distributions (C(pyshare rebuild)).
  - Needs root on the managed host (C(become=true)) and pyshare installed there.
author:
  - pyshare developers
options:
  name:
    description:
      - The app's name; its virtualenv is I(prefix)/NAME and its settings /etc/pyshare/NAME.conf.
    type: str
    required: true
  state:
    description:
      - C(present) sets the app up (C(pyshare setup)); C(absent) removes it (C(pyshare remove)).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With I(state=absent), also delete the virtualenv when pyshare created it (C(--purge)).
    type: bool
    default: false
  python:
    description:
      - The Python that creates the virtualenv (C(--python)). Left out, the app keeps its setting
        (C(/usr/bin/python3) for a new app).
    type: path
  group:
    description:
      - The deploy group that may install into the virtualenv (C(--group)); created as a system
        group when missing. Default C(deploy).
    type: str
  service:
    description:
      - The systemd unit whose Python imports from the virtualenv (C(--service)), such as
        C(apache2) or C(gunicorn@app.service). Default C(apache2.service).
    type: str
  user:
    description:
      - The user or users the service runs as (C(--user), once each). Left out, pyshare reads it
        from the service. More than one needs a pyshare whose C(--help) shows C([--user=USER]...).
    type: list
    elements: str
  modules:
    description:
      - The modules the probe imports (C(--module), once each). Left out, the app keeps its list
        (every installed top-level module for a new app).
    type: list
    elements: str
  prefix:
    description:
      - The directory that holds the virtualenvs (C(--prefix)). Default C(/opt/pyshare).
    type: path
  cgi:
    description:
      - Whether Apache passes PYTHONPATH to CGI scripts (C(--cgi) or C(--no-cgi)). Left out, the
        app keeps its setting.
    type: bool
  watch:
    description:
      - Whether a path unit repairs the tree after every pip install (C(--watch) or
        C(--no-watch)). Left out, the app keeps its setting.
    type: bool
  wsgi_script:
    description:
      - The WSGI script that mod_wsgi's daemon process of the app runs (C(--wsgi-script)).
      - Only with a pyshare whose C(pyshare setup --help) shows C(--wsgi-script); with an older
        one the task fails and says so.
    type: path
  url:
    description:
      - The URL path the app's WSGI script is mounted at (C(--url)), with I(wsgi_script).
      - Only with a pyshare whose C(pyshare setup --help) shows C(--url).
    type: str
  restart:
    description:
      - Restart the service when something changed, or when the running service's environment
        differs from the one it gets at its next start (C(pyshare status) says so), so that a first run
        without a restart is caught up by the next one with it.
      - With I(state=absent), restart when the service's environment changed (C(--restart)).
    type: bool
    default: false
  probe:
    description:
      - Run pyshare's probe at the end of setup (the service user imports the modules). C(false)
        passes C(--no-probe).
    type: bool
    default: true
  rebuild:
    description:
      - When the app's virtualenv was built by another Python than the one the service runs
        (C(pyshare status) reports the cause C(python-mismatch), as a distribution upgrade leaves
        it), rebuild it in place with the same distributions (C(pyshare rebuild)) before the
        setup. In check mode, the rebuild's plan is returned and nothing is changed.
      - Left C(false), such a task fails with pyshare's message, as C(pyshare setup) does not
        wire a virtualenv that the service's Python cannot import.
      - A virtualenv whose Python matches is never rebuilt.
    type: bool
    default: false
  upgrade:
    description:
      - With I(rebuild), a distribution whose recorded version cannot be had for the new Python may
        take the newest available one (C(--upgrade)); the task returns each version change.
    type: bool
    default: false
  find_links:
    description:
      - With I(rebuild), a directory of wheels that pip looks in (C(--find-links)).
    type: path
  index_url:
    description:
      - With I(rebuild), the package index pip uses (C(--index-url)).
    type: str
notes:
  - Check mode runs C(pyshare --dry-run), which plans exactly what the real run does.
  - Diff mode shows the old and new content of every file pyshare writes or removes, and a
    summary of the changes to the virtualenv's tree (group, virtualenv, permissions).
seealso:
  - module: pyshare.pyshare.app_info
  - name: pyshare(8)
    description: The manual of pyshare.
    link: https://github.com/pyshare/pyshare/blob/main/man/pyshare.8
"""

EXAMPLES = r"""
- name: Make /opt/pyshare/shop importable by Apache (mod_wsgi)
  pyshare.pyshare.app:
    name: shop
    modules: [flask, numpy]
    restart: true
  become: true

- name: A gunicorn unit, two users, another prefix
  pyshare.pyshare.app:
    name: api
    service: gunicorn@api.service
    user: [api, api-worker]
    prefix: /srv/venvs

- name: Remove the app and delete its virtualenv
  pyshare.pyshare.app:
    name: shop
    state: absent
    purge: true
"""

RETURN = r"""
changed:
  description: Whether pyshare changed anything (in check mode, would change).
  returned: always
  type: bool
venv:
  description: The app's virtualenv.
  returned: when state is present
  type: str
  sample: /opt/pyshare/shop
service:
  description: The service the app is wired into.
  returned: when state is present
  type: str
  sample: apache2.service
files_changed:
  description: The files pyshare wrote (or would write), or removed with I(state=absent).
  returned: always
  type: list
  elements: str
  sample: [/etc/pyshare/shop.conf, /etc/pyshare/services/apache2.service.env]
files_unchanged:
  description: The files pyshare found already as they should be.
  returned: when state is present
  type: list
  elements: str
permissions:
  description: The counts of pyshare's walk of the virtualenv's tree (entries, changed, skipped,
    errors, notes).
  returned: when state is present
  type: dict
  sample: {entries: 1200, changed: 3, errors: 0}
probe:
  description: The probe's result per module (ok, version, file, error); empty when the probe did
    not run (check mode, I(probe=false)).
  returned: when state is present
  type: dict
  sample: {flask: {ok: true, version: "2.2.2", file: /opt/pyshare/shop/lib/python3.11/site-packages/flask/__init__.py, error: null}}
reload:
  description: What happened to systemd's configuration (reloaded, would-reload, not-needed, skipped).
  returned: always
  type: str
restarted:
  description: Whether the task restarted the service (in check mode, would).
  returned: always
  type: bool
rebuilt:
  description: Whether the virtualenv was rebuilt for the service's Python (in check mode, would be).
  returned: when state is present
  type: bool
rebuild:
  description: What the rebuild installed (C(requirements), each with C(name), C(version) and
    C(requirement)), the version changes it made with I(upgrade) (C(changes)), and the Python
    versions before and after (C(old_python_version), C(python_version)).
  returned: when the virtualenv was rebuilt (or would be, in check mode)
  type: dict
  sample: {old_python_version: "3.11", python_version: "3.13", changes: [], requirements: [{name: flask, version: "3.1.1", requirement: flask==3.1.1}]}
purged:
  description: Whether the virtualenv was deleted.
  returned: when state is absent
  type: bool
pyshare:
  description: pyshare's whole JSON object.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyshare.pyshare.plugins.module_utils.pyshare import fail, help_text, run_json

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    purge=dict(type="bool", default=False),
    python=dict(type="path"),
    group=dict(type="str"),
    service=dict(type="str"),
    user=dict(type="list", elements="str"),
    modules=dict(type="list", elements="str"),
    prefix=dict(type="path"),
    cgi=dict(type="bool"),
    watch=dict(type="bool"),
    wsgi_script=dict(type="path"),
    url=dict(type="str"),
    restart=dict(type="bool", default=False),
    probe=dict(type="bool", default=True),
    rebuild=dict(type="bool", default=False),
    upgrade=dict(type="bool", default=False),
    find_links=dict(type="path"),
    index_url=dict(type="str"),
)


def global_args(module):
    args = []
    if module.check_mode:
        args.append("--dry-run")
    if module._diff:
        args.append("--diff")
    return args


def setup_args(module):
    p = module.params
    helptext = None
    args = ["setup", p["name"]]
    for key in ("python", "group", "service", "prefix"):
        if p[key] is not None:
            args.append("--%s=%s" % (key, p[key]))
    for key, option in (("wsgi_script", "--wsgi-script"), ("url", "--url")):
        if p[key] is None:
            continue
        helptext = helptext if helptext is not None else help_text(module)
        if option not in helptext:
            module.fail_json(msg="%s needs a pyshare that has %s (pyshare setup --help does not show it): "
                                 "upgrade pyshare on this host" % (key, option))
        args.append("%s=%s" % (option, p[key]))
    users = p["user"] or []
    if len(users) > 1:
        helptext = helptext if helptext is not None else help_text(module)
        if "[--user=USER]..." not in helptext:
            module.fail_json(msg="user: this pyshare takes one user per app (pyshare --help does not show "
                                 "[--user=USER]...): give one, or upgrade pyshare")
    args += ["--user=%s" % u for u in users]
    args += ["--module=%s" % m for m in (p["modules"] or [])]
    for key in ("cgi", "watch"):
        if p[key] is not None:
            args.append("--%s" % key if p[key] else "--no-%s" % key)
    if not p["probe"]:
        args.append("--no-probe")
    return args


def probe_failed(probe):
    """pyshare's message and cause when its probe failed."""
    bad = ["%s: %s" % (m.get("name"), m.get("error")) for m in probe.get("modules", []) if not m.get("ok")]
    # The modules' own errors first: they say what failed; pyshare's problems then say why.
    reasons = bad + [p for p in probe.get("problems") or [] if p not in bad]
    if probe.get("failure"):
        reasons.insert(0, probe["failure"])
    cause = probe.get("cause") or ("import" if bad else "probe")
    return "the probe of %s failed: %s" % (probe.get("app"), "; ".join(reasons) or "see pyshare's output"), cause


def probe_by_module(probe):
    return dict((m["name"], dict(ok=m.get("ok"), version=m.get("version"), file=m.get("file"), error=m.get("error")))
                for m in (probe or {}).get("modules", []))


def file_diffs(doc):
    """Ansible's diff list: one entry per file pyshare writes, and one for the tree."""
    out = []
    for d in doc.get("diff", []):
        path = d["path"]
        if d.get("symlink"):
            before = "symlink to %s\n" % d["before"] if d.get("before") else ""
            after = "symlink to %s\n" % d["after"] if d.get("after") else ""
        else:
            before, after = d.get("before") or "", d.get("after") or ""
        out.append(dict(before_header=path if d.get("before") is not None else "/dev/null",
                        after_header=path if d.get("after") is not None else "/dev/null",
                        before=before, after=after))
    lines = []
    if doc.get("group_created"):
        lines.append("group %s: created" % doc.get("group"))
    if doc.get("venv_action") not in (None, "kept"):
        lines.append("virtualenv %s: %s" % (doc.get("venv"), doc["venv_action"]))
    perms = doc.get("permissions") or {}
    if perms.get("changed"):
        lines.append("permissions: %d of %d entries changed (owners, modes, ACLs)" %
                     (perms["changed"], perms.get("entries", 0)))
    if doc.get("purged"):
        lines.append("virtualenv: deleted")
    if lines:
        out.append(dict(before_header="tree of %s" % doc.get("app"), after_header="tree of %s" % doc.get("app"),
                        before="", after="\n".join(lines) + "\n"))
    return out


def python_mismatch(module, name):
    """Whether `pyshare status` says the app's virtualenv was built by another Python than the
    service's (the cause python-mismatch). An app that is not set up yet has no virtualenv to
    rebuild."""
    rc, doc, err, cmd = run_json(module, ["status", name])
    for app in (doc or {}).get("apps", []):
        for c in (app.get("causes") or []) + (app.get("findings") or []):
            if c.get("cause") == "python-mismatch":
                return True
    return False


def rebuild_args(module):
    p = module.params
    args = ["rebuild", p["name"]]
    if p["python"] is not None:
        args.append("--python=%s" % p["python"])
    if p["upgrade"]:
        args.append("--upgrade")
    for key, option in (("find_links", "--find-links"), ("index_url", "--index-url")):
        if p[key] is not None:
            args.append("%s=%s" % (option, p[key]))
    return args


def rebuild(module):
    """Runs `pyshare rebuild` (a dry run in check mode); its JSON, reduced to what the task returns."""
    rc, doc, err, cmd = run_json(module, global_args(module) + rebuild_args(module))
    if rc != 0 or doc is None or "error" in doc or not doc.get("ok", False):
        fail(module, rc, doc, err, cmd, rebuilt=False)
    keys = ("requirements", "changes", "old_python_version", "python_version", "kept_old")
    return dict((k, doc.get(k)) for k in keys), doc


def runs_with_old_environment(module, name):
    """Whether the running service's environment differs from the one of its next start."""
    rc, doc, err, cmd = run_json(module, ["status", name])
    for app in (doc or {}).get("apps", []):
        if app.get("restart_needed"):
            return True
        # status's findings name the cause (pyshare(8), "WHAT THE SERVICE REALLY GETS").
        if any(f.get("cause") == "restart-needed" for f in app.get("findings") or []):
            return True
        if any("is running with the old environment" in p for p in app.get("problems") or []):
            return True
    return False


def restart(module, service):
    if module.check_mode:
        return
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command([systemctl, "restart", service])
    if rc != 0:
        module.fail_json(msg="cannot restart %s: %s" % (service, err.strip()), rc=rc)


def present(module):
    p = module.params
    if p["rebuild"] is False and (p["upgrade"] or p["find_links"] is not None or p["index_url"] is not None):
        module.fail_json(msg="upgrade, find_links and index_url are options of the rebuild: give rebuild: true too")
    rebuilt = None
    if p["rebuild"] and python_mismatch(module, p["name"]):
        rebuilt, rebuild_doc = rebuild(module)
        if module.check_mode:
            # The setup's dry run would refuse the virtualenv the rebuild has not made yet.
            result = dict(changed=True, rebuilt=True, rebuild=rebuilt, venv=rebuild_doc.get("venv"),
                          files_changed=rebuild_doc.get("files_changed", []),
                          files_unchanged=rebuild_doc.get("files_unchanged", []), probe={},
                          reload=rebuild_doc.get("reload", "not-needed"), restarted=False, pyshare=rebuild_doc)
            if module._diff:
                result["diff"] = file_diffs(rebuild_doc)
            module.exit_json(**result)
    rc, doc, err, cmd = run_json(module, global_args(module) + setup_args(module))
    if rc != 0 or doc is None or "error" in doc:
        if doc and doc.get("probe") and not doc["probe"].get("ok"):
            msg, cause = probe_failed(doc["probe"])
            module.fail_json(msg=msg, cause=cause, rc=rc, cmd=cmd, stderr=err, changed=bool(doc.get("changed")),
                             probe=probe_by_module(doc["probe"]), pyshare=doc)
        fail(module, rc, doc, err, cmd)
    changed = bool(doc["changed"]) or rebuilt is not None
    restarted = False
    if p["restart"] and (changed or runs_with_old_environment(module, p["name"])):
        restart(module, doc["service"])
        restarted = changed = True
    result = dict(changed=changed, venv=doc.get("venv"), service=doc.get("service"),
                  files_changed=doc.get("files_changed", []), files_unchanged=doc.get("files_unchanged", []),
                  permissions=doc.get("permissions", {}), probe=probe_by_module(doc.get("probe")),
                  reload=doc.get("reload"), restarted=restarted, pyshare=doc, stderr=err,
                  rebuilt=rebuilt is not None)
    if rebuilt is not None:
        result["rebuild"] = rebuilt
    if module._diff:
        result["diff"] = file_diffs(doc)
    module.exit_json(**result)


def absent(module):
    p = module.params
    args = global_args(module) + ["remove", p["name"]]
    if p["purge"]:
        args.append("--purge")
    if p["restart"]:
        args.append("--restart")
    rc, doc, err, cmd = run_json(module, args)
    if rc != 0 or doc is None or "error" in doc:
        fail(module, rc, doc, err, cmd)
    result = dict(changed=bool(doc["changed"]), files_changed=doc.get("files_removed", []),
                  purged=bool(doc.get("purged")), reload=doc.get("reload", "not-needed"),
                  restarted=doc.get("restart") in ("restarted", "would-restart"), pyshare=doc, stderr=err)
    if module._diff:
        result["diff"] = file_diffs(doc)
    module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.params["state"] == "absent":
        absent(module)
    else:
        present(module)


if __name__ == "__main__":
    main()
