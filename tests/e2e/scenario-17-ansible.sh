#!/bin/bash
# Issue 16: the collection pyshare.pyshare with ansible-core from Debian's archive, installed
# in the tree (no other source), on the seed's app. A playbook with connection: local sets the
# app up (changed; after the deployer's install and a run with restart: true, 200), runs again
# (not changed, no restart), runs in check mode after a chmod 600 in the venv (changed
# reported, the file still 600), for real (repaired), hands app_info's facts to a later task,
# and removes the app with state: absent (changed, then not).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare
e2e_run test -f /usr/share/ansible/collections/ansible_collections/pyshare/pyshare/plugins/modules/app.py
e2e_run ansible-doc pyshare.pyshare.app

# e2e_play NAME < tasks: a play on localhost (connection: local) with these tasks, run inside.
e2e_play() {
	{
		printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n'
		cat
	} | e2e_put "/root/$1.yml"
	e2e_run env PYTHONPATH="$E2E_STASH" ansible-playbook -i localhost, "/root/$1.yml"
}

e2e_step "the seed's app, with NumPy and Flask hidden from the system Python: 500"
# Ansible itself needs Jinja2 and MarkupSafe, which go to the stash with Flask: the playbooks
# run with PYTHONPATH=$E2E_STASH (Debian's own files, moved aside).
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_seed_app
e2e_run useradd --create-home deployer
e2e_run systemctl restart apache2
e2e_expect_http / 500

e2e_step "the module sets the app up: changed, the files it wrote, diff mode's before and after"
e2e_play setup <<'YAML'
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], probe: false}
      diff: true
      register: r
    - ansible.builtin.assert:
        that:
          - r.changed
          - r.venv == '/opt/pyshare/myapp'
          - "'/etc/pyshare/myapp.conf' in r.files_changed"
          - "'/etc/pyshare/services/apache2.service.env' in r.files_changed"
          - r.reload == 'reloaded'
          - r.diff | selectattr('after_header', 'equalto', '/etc/pyshare/myapp.conf') | list | length == 1
          - r.diff | selectattr('after_header', 'equalto', 'tree of myapp') | list | length == 1
YAML
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp

e2e_step "restart: true after the deployer's install: changed (modes repaired), restarted, the probe per module, 200"
e2e_play deployed <<'YAML'
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], restart: true}
      register: r
    - ansible.builtin.assert:
        that:
          - r.changed and r.restarted
          - r.probe.numpy.ok and r.probe.flask.ok
YAML
e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"

e2e_step "again: not changed, no restart"
e2e_play again <<'YAML'
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], restart: true}
      register: r
    - ansible.builtin.assert:
        that:
          - not r.changed and not r.restarted
          - r.files_changed == []
YAML

site=$(e2e_exec sh -c 'echo /opt/pyshare/myapp/lib/python3.*/site-packages')
e2e_run chmod 600 "$site/flask/__init__.py"
e2e_step "check mode after chmod 600 in the venv: changed reported, nothing changed on disk"
e2e_play check <<'YAML'
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask]}
      check_mode: true
      register: r
    - ansible.builtin.assert:
        that:
          - r.changed
          - r.permissions.changed == 1
          - r.pyshare.dry_run
YAML
mode=$(e2e_exec stat -c %a "$site/flask/__init__.py")
[[ $mode == 600 ]] || e2e_fail "check mode changed $site/flask/__init__.py to $mode"

e2e_step "for real: repaired"
e2e_play repair <<'YAML'
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask]}
      register: r
    - ansible.builtin.assert:
        that: [r.changed, r.permissions.changed == 1]
YAML
mode=$(e2e_exec stat -c %a "$site/flask/__init__.py")
[[ $mode != 600 ]] || e2e_fail "$site/flask/__init__.py is still 600 after the real run"

e2e_step "app_info's facts, used by a later task"
e2e_play facts <<'YAML'
    - pyshare.pyshare.app_info:
    - ansible.builtin.copy:
        content: "{{ ansible_facts.pyshare_apps.myapp.service }} {{ ansible_facts.pyshare_apps.myapp.venv }}\n"
        dest: /root/myapp-facts.txt
    - ansible.builtin.assert:
        that: [ansible_facts.pyshare_apps.myapp.ok, "'numpy' in ansible_facts.pyshare_apps.myapp.modules"]
YAML
e2e_run grep -qx 'apache2.service /opt/pyshare/myapp' /root/myapp-facts.txt

e2e_step "a probe failure fails the task with pyshare's message"
e2e_put /root/fail.yml <<'YAML'
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask, pst_no_such_module]}
YAML
e2e_expect_rc 2 env PYTHONPATH="$E2E_STASH" ansible-playbook -i localhost, /root/fail.yml
e2e_out_has "the probe of myapp failed: pst_no_such_module: ModuleNotFoundError: No module named 'pst_no_such_module'"

e2e_step "state: absent: removed (changed), then nothing to remove"
e2e_play absent <<'YAML'
    - pyshare.pyshare.app: {name: myapp, state: absent, restart: true}
      register: r
    - ansible.builtin.assert:
        that: [r.changed, "'/etc/pyshare/myapp.conf' in r.files_changed", r.restarted]
    - pyshare.pyshare.app: {name: myapp, state: absent}
      register: r2
    - ansible.builtin.assert:
        that: [not r2.changed]
    - pyshare.pyshare.app_info:
    - ansible.builtin.assert:
        that: ["ansible_facts.pyshare_apps == {}"]
YAML
e2e_run test ! -e /etc/pyshare/myapp.conf
e2e_expect_http / 500
e2e_log "PASS: $E2E_NAME"
