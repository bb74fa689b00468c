#!/bin/bash
# Issue 16: scenario 17 on Debian 13 trixie (its own ansible-core, Python 3.13), pyshare
# compiled inside as in scenario 9 (the collection comes with its make install).
# e2e-tree: trixie   (tests/e2e/run prepares this tree before the scenarios start)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs trixie)
e2e_boot "$tree"
e2e_build_pyshare_inside /usr/src/pyshare
e2e_run ansible --version
e2e_run ansible-doc pyshare.pyshare.app

e2e_ansible_story
e2e_log "PASS: $E2E_NAME"
