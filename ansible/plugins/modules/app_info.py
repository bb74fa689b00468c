# No #! line: Ansible runs a module with the managed host's Python (interpreter discovery).
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_info
short_description: The status of one or every pyshare app, as facts
version_added: "0.1.0"
description:
  - Runs C(pyshare --json status) on the managed host and returns each app's settings and
    health, also as the fact C(pyshare_apps) (a dict by app name).
  - Changes nothing; an app with problems is reported, not a failure.
author:
  - pyshare developers
options:
  name:
    description:
      - The app; left out, every app that is set up. An app that is not set up gives no entry.
    type: str
seealso:
  - module: pyshare.pyshare.app
"""

EXAMPLES = r"""
- name: What pyshare knows
  pyshare.pyshare.app_info:

- name: Fail the play when shop has problems
  pyshare.pyshare.app_info:
    name: shop
- ansible.builtin.assert:
    that: ansible_facts.pyshare_apps.shop.ok
"""

RETURN = r"""
apps:
  description: The apps, each as C(pyshare --json status) gives it (app, ok, venv, python, group,
    service, user, prefix, modules, problems, notes).
  returned: always
  type: list
  elements: dict
ok:
  description: Whether every app listed is without problems.
  returned: always
  type: bool
ansible_facts:
  description: Facts.
  returned: always
  type: dict
  contains:
    pyshare_apps:
      description: The same apps, by name.
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyshare.pyshare.plugins.module_utils.pyshare import fail, run_json

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    args = ["status"]
    if module.params["name"]:
        args.append(module.params["name"])
    rc, doc, err, cmd = run_json(module, args)
    error = (doc or {}).get("error") or {}
    # exit 1 is a problem found (reported in the apps); not set up is an empty answer
    if doc is None or (rc != 0 and error.get("cause") not in ("problem", "not-found")):
        fail(module, rc, doc, err, cmd)
    apps = [a for a in doc.get("apps", []) if isinstance(a, dict)]
    module.exit_json(changed=False, apps=apps, ok=all(a.get("ok") for a in apps),
                     ansible_facts=dict(pyshare_apps=dict((a["app"], a) for a in apps)))


if __name__ == "__main__":
    main()
