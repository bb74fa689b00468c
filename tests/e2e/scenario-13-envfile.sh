#!/bin/bash
# Issue 5, item 11: EnvironmentFile encoding against systemd's own parser. Hostile values
# (quotes, $, backslashes, #, newline, CR, invalid UTF-8, very long) go through pyshare's
# encoder (src/envfile.c, in tests/e2e/tools/envcheck); each is either refused or read back
# exactly by systemd 252 (`systemd-run --wait -P -p EnvironmentFile=... env -0`), and no value
# ever injects a second variable.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

top=$E2E_REPO
work=""
e2e_tmpdir work
cc -std=gnu11 -D_GNU_SOURCE -O1 -I"$top/src" -o "$work/envcheck" "$top/tests/e2e/tools/envcheck.c" \
	"$top/src/envfile.c" "$top/src/util.c"
/usr/bin/python3 "$top/tests/e2e/tools/hostile_values.py" values >"$work/values"
"$work/envcheck" "$work/hostile.env" <"$work/values" >"$work/refused"

tree=$(e2e_rootfs bookworm)
e2e_boot "$tree"
cp "$work/hostile.env" "/proc/$E2E_LEADER/root/run/hostile.env"
e2e_step "systemd reads pyshare's EnvironmentFile back"
e2e_exec systemd-run --wait --pipe --quiet -p EnvironmentFile=/run/hostile.env /usr/bin/env -0 >"$work/env"
/usr/bin/python3 "$top/tests/e2e/tools/hostile_values.py" check "$work/refused" "$work/env" >&2 ||
	e2e_fail "systemd read something else than pyshare wrote"
e2e_log "PASS: $E2E_NAME"
