#!/bin/bash
# Issue 3, scenario 9: the seed's story (scenario 1) on Debian 13 trixie: systemd 257,
# Python 3.13, mod_wsgi 5. pyshare is compiled inside the booted tree from a copy of the
# source (no build/, no host binaries) with trixie's own gcc, libsystemd and libpython3.13.
# Then the probe inspects itself inside its transient unit, as in scenario 14.
# e2e-tree: trixie   (tests/e2e/run prepares this tree before the scenarios start)
# Scripts given to e2e_sh expand inside the container.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs trixie)
e2e_boot "$tree"

e2e_step "trixie: systemd 257, Python 3.13, mod_wsgi 5"
systemd_version=$(e2e_exec systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
python_version=$(e2e_exec python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
wsgi_version=$(e2e_exec dpkg-query -W -f '${Version}' libapache2-mod-wsgi-py3)
e2e_log "systemd $systemd_version, Python $python_version, mod_wsgi $wsgi_version"
[[ $systemd_version == 257 ]] || e2e_fail "systemd $systemd_version, expected 257"
[[ $python_version == 3.13 ]] || e2e_fail "Python $python_version, expected 3.13"
[[ $wsgi_version == 5.* ]] || e2e_fail "mod_wsgi $wsgi_version, expected 5.x"

e2e_step "pyshare compiled inside trixie"
e2e_build_pyshare_inside /usr/src/pyshare
libs=$(e2e_exec ldd /usr/sbin/pyshare)
printf '%s\n' "$libs" >&2
grep -q 'libpython3\.13\.so' <<<"$libs" || e2e_fail "the pyshare built inside does not link libpython3.13"
grep -q 'libsystemd\.so\.0 => /' <<<"$libs" || e2e_fail "the pyshare built inside does not link libsystemd"

e2e_seed_story 3.13
# systemd 257 gives a service's processes its bounding set as inheritable capabilities: the
# probe in its unit must still end up with none.
e2e_probe_self myapp
e2e_log "PASS: $E2E_NAME"
