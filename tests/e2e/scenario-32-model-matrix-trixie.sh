#!/bin/bash
# Issue 12, item 5, on Debian 13: the service model's matrix (tests/e2e/matrix.sh) with
# systemd 257, Python 3.13 and mod_wsgi 5; pyshare compiled inside as in scenario 9.
# e2e-tree: trixie   (tests/e2e/run prepares this tree before the scenarios start)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/matrix.sh
source "$(dirname "$0")/matrix.sh"

tree=$(e2e_rootfs trixie)
e2e_boot "$tree"
e2e_build_pyshare_inside /usr/src/pyshare
matrix_prepare
matrix_rows
matrix_report
e2e_log "PASS: $E2E_NAME"
