#!/bin/bash
# Issue 3, scenario 7: pyshare in a tree that is not booted (a chroot, as in an image build).
# `pyshare setup` writes everything, says that it skipped the reload and exits 0; once the tree
# boots, Apache starts with the app's environment and the app answers 200.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

tree=$(e2e_rootfs "${E2E_SUITE:-bookworm}")

# A throwaway copy of the cached tree: an overlay whose upper layer is ours.
work=""
e2e_tmpdir work
mkdir "$work/upper" "$work/work" "$work/root"
chmod 0755 "$work/root"
mount -t overlay overlay -o "lowerdir=$tree,upperdir=$work/upper,workdir=$work/work" "$work/root"
e2e_defer umount "$work/root"
export E2E_CHROOT=$work/root

e2e_step "in the chroot: pyshare, the app, NumPy and Flask only in the stash"
e2e_install_pyshare
e2e_hide_system_modules
numpy_version=$(e2e_stash_numpy_version)
e2e_seed_app
e2e_run useradd --create-home deployer
e2e_run test ! -e /run/systemd/system

e2e_step "in the chroot: pyshare setup"
rc=0
out=$(e2e_exec pyshare setup myapp --module numpy --module flask --no-probe 2>&1) || rc=$?
printf '%s\n' "$out" >&2
((rc == 0)) || e2e_fail "pyshare setup exited $rc in the chroot"
grep -Eiq 'skip[a-z]*.*reload|reload.*skip' <<<"$out" ||
	e2e_fail "pyshare setup did not say that it skipped the reload"
for f in /opt/pyshare/myapp/bin/python /etc/pyshare/myapp.conf /etc/pyshare/myapp.env \
	/etc/pyshare/services/apache2.service.env /etc/systemd/system/apache2.service.d/50-pyshare.conf; do
	e2e_run test -e "$f"
done
e2e_exec getfacl -pc /opt/pyshare/myapp | grep -qx 'user:www-data:r-x' ||
	e2e_fail "no user:www-data:r-x ACL entry on /opt/pyshare/myapp"

e2e_step "in the chroot: a deployer installs the modules; repair; probe (no systemd: forked probe)"
e2e_run usermod --append --groups deploy deployer
e2e_deploy_stash myapp
e2e_run pyshare repair myapp
e2e_run pyshare probe myapp numpy flask

e2e_step "the tree boots: apache2 starts with the app's environment"
unset E2E_CHROOT
# The overlay already is a throwaway copy: boot it as it is.
e2e_boot "$work/root" --no-volatile
envfiles=$(e2e_exec systemctl show apache2.service --property=EnvironmentFiles --value)
e2e_log "apache2 EnvironmentFiles: $envfiles"
[[ $envfiles == */etc/pyshare/services/apache2.service.env* ]] ||
	e2e_fail "apache2 booted without pyshare's EnvironmentFile"
e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"
e2e_log "PASS: $E2E_NAME"
