#!/bin/bash
# Issue 12, item 5, on Debian 12: the service model's matrix (tests/e2e/matrix.sh). Each row
# breaks or harmlessly changes one thing of apache2's environment, unit or configuration; the
# probe's verdicts (now and next start) and status's exit must equal the real page's.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/matrix.sh
source "$(dirname "$0")/matrix.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare
matrix_prepare
matrix_rows
matrix_report
e2e_log "PASS: $E2E_NAME"
