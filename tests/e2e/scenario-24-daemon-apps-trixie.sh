#!/bin/bash
# Issue 13: scenario 23 on Debian 13 trixie (mod_wsgi 5, Python 3.13, NumPy 2.2), pyshare
# compiled inside as in scenario 9.
# e2e-tree: trixie   (tests/e2e/run prepares this tree before the scenarios start)
set -euo pipefail
export E2E_SUITE=trixie
# shellcheck source=tests/e2e/scenario-23-daemon-apps.sh
source "$(dirname "$0")/scenario-23-daemon-apps.sh"
