#!/bin/bash
# Issue 5, item 13, where systemd runs: the probe inspects itself inside the transient unit that
# copies apache2's sandbox (lib.sh's e2e_probe_self; scenario 9 does the same on trixie). The
# system tests check the same of the forked probe (tests/system/96-adv-probe-self.bats), where
# no systemd runs.
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
e2e_install_pyshare

e2e_step "an app with two self-inspecting modules, installed by a deployer"
e2e_run useradd --create-home deployer
e2e_run pyshare setup selfapp --no-probe
e2e_run usermod --append --groups deploy deployer
e2e_probe_self selfapp
e2e_log "PASS: $E2E_NAME"
