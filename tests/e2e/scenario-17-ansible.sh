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

e2e_ansible_story
e2e_log "PASS: $E2E_NAME"
