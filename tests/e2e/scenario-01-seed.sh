#!/bin/bash
# Issue 3, scenario 1: the seed's story. A Flask + NumPy app under mod_wsgi (embedded mode)
# whose modules live only in a venv fails with 500 and ModuleNotFoundError; after
# `pyshare setup` and a restart of apache2 it answers 200 with the real NumPy version.
# (The story itself is e2e_seed_story in lib.sh: scenario 9 tells it again on trixie.)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare
e2e_seed_story 3.11
e2e_log "PASS: $E2E_NAME"
