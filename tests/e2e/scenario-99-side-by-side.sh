#!/bin/bash
# Issue 12, item 6: containers booted side by side each have cgroups of their own. Scenario 5
# (restarts of apache2 over the bus, a new MainPID each time, `status` and the old environment)
# runs twice at the same time, each copy booting its own container from the same tree. While
# both are up, the host's view of each container's PID 1 (/proc/PID/cgroup) must lie below
# pyshare-e2e/MACHINE in every hierarchy, and every process that either container's systemd
# keeps in its apache2.service cgroup (name=systemd and cgroup2, as the host sees them) must
# belong to that container's pid namespace. Both copies must pass, and neither may leave a
# cgroup behind. (Started from the host's root cgroups, the two systemds shared one
# system.slice/apache2.service, each seeing the other's processes in it: MainPID went to 0 after
# a restart, and stops waited 90 s for a cgroup that never emptied.)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# The tree exists before both copies look for it (tests/e2e/run has built it already).
e2e_rootfs bookworm >/dev/null

work=""
e2e_tmpdir work
copies=(a b)
declare -A pid=() machine=() leader=() pidns=() rc=()

# At exit: a copy still running gets SIGTERM (it powers its container off) and is waited for;
# the output of both is shown.
stop_copies() {
	local c
	for c in "${copies[@]}"; do
		[[ -n ${pid[$c]:-} ]] || continue
		if _e2e_alive "${pid[$c]}"; then
			kill -TERM "${pid[$c]}" 2>/dev/null
			wait "${pid[$c]}" 2>/dev/null
		fi
	done
	for c in "${copies[@]}"; do
		[[ -e $work/$c.log ]] && sed "s/^/[copy $c] /" "$work/$c.log" >&2
	done
	return 0
}
e2e_defer stop_copies

e2e_step "scenario 5, twice at the same time"
for c in "${copies[@]}"; do
	bash "$E2E_DIR/scenario-05-restart.sh" </dev/null >"$work/$c.log" 2>&1 &
	pid[$c]=$!
	# As e2e_boot names it: pe2e-NAME-PID of the scenario's shell.
	machine[$c]=pe2e-05-restart-${pid[$c]}
	e2e_log "copy $c: process ${pid[$c]}, machine ${machine[$c]}"
done

# _nspawn_of MACHINE: the systemd-nspawn process that runs MACHINE (the one whose parent is not
# also that nspawn: its children carry the same command line until they exec).
_nspawn_of() {
	local p parent
	for p in $(pgrep -x systemd-nspawn); do
		tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qx -- "--machine=$1" || continue
		parent=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
		[[ $(cat "/proc/$parent/comm" 2>/dev/null) == systemd-nspawn ]] || {
			echo "$p"
			return 0
		}
	done
}

e2e_step "both containers up at the same time"
deadline=$((SECONDS + 120))
while :; do
	up=0
	for c in "${copies[@]}"; do
		_e2e_alive "${pid[$c]}" || e2e_fail "copy $c ended before both containers were up: not side by side"
		if [[ -z ${leader[$c]:-} ]]; then
			n=$(_nspawn_of "${machine[$c]}")
			[[ -z $n ]] || leader[$c]=$(_e2e_leader_of "$n")
		fi
		[[ -z ${leader[$c]:-} ]] || up=$((up + 1))
	done
	((up < ${#copies[@]})) || break
	((SECONDS < deadline)) || e2e_fail "the two containers were not both up within 120 s"
	sleep 0.1
done
for c in "${copies[@]}"; do
	pidns[$c]=$(readlink "/proc/${leader[$c]}/ns/pid")
	e2e_log "copy $c: ${machine[$c]}'s PID 1 is ${leader[$c]} (${pidns[$c]})"
done

e2e_step "each container's PID 1 in a cgroup of its own, in every hierarchy"
hierarchies=$(_e2e_cgroup_bases | wc -l)
for c in "${copies[@]}"; do
	cg=$(cat "/proc/${leader[$c]}/cgroup") || e2e_fail "cannot read /proc/${leader[$c]}/cgroup"
	printf '%s\n' "$cg" | sed "s/^/  copy $c: /" >&2
	n=$(grep -c . <<<"$cg")
	((n >= hierarchies)) || e2e_fail "${machine[$c]}'s PID 1 is in $n hierarchies, the host mounts $hierarchies"
	bad=$(grep -v -E ":/(.*/)?pyshare-e2e/${machine[$c]}(/|\$)" <<<"$cg") || true
	[[ -z $bad ]] || e2e_fail "${machine[$c]}'s PID 1 is outside pyshare-e2e/${machine[$c]}: $bad"
done

# The apache2.service cgroups of MACHINE, as the host sees them, in name=systemd and cgroup2.
_apache_cgroups() {
	local base
	while read -r base; do
		case $base in */systemd/* | */unified/*) ;; *) continue ;; esac
		find "$base/$1" -type d -name apache2.service 2>/dev/null
	done < <(_e2e_cgroup_bases)
}

e2e_step "the processes in each container's apache2.service cgroups are that container's, as long as both run"
samples=0
while _e2e_alive "${pid[a]}" && _e2e_alive "${pid[b]}"; do
	both=0
	for c in "${copies[@]}"; do
		seen=0
		while read -r dir; do
			for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do
				ns=$(readlink "/proc/$p/ns/pid" 2>/dev/null) || continue # gone meanwhile
				seen=$((seen + 1))
				[[ $ns == "${pidns[$c]}" ]] ||
					e2e_fail "$dir (${machine[$c]}) holds process $p of another pid namespace ($ns):" \
						"$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"
			done
		done < <(_apache_cgroups "${machine[$c]}")
		((seen == 0)) || both=$((both + 1))
	done
	((both < ${#copies[@]})) || samples=$((samples + 1))
	sleep 0.2
done
e2e_log "$samples samples with Apache running in both containers, none with a process of the other"
((samples >= 5)) || e2e_fail "only $samples samples with Apache running in both containers: they hardly overlapped"

e2e_step "both copies of scenario 5 pass"
for c in "${copies[@]}"; do
	rc[$c]=0
	wait "${pid[$c]}" || rc[$c]=$?
	e2e_log "copy $c (${machine[$c]}) exited ${rc[$c]}"
done
for c in "${copies[@]}"; do
	((rc[$c] == 0)) || e2e_fail "copy $c of scenario 5 failed (exit ${rc[$c]}; its output is below)"
done

e2e_step "no cgroup of either container is left"
for c in "${copies[@]}"; do
	while read -r base; do
		[[ ! -e $base/${machine[$c]} ]] || e2e_fail "$base/${machine[$c]} is left after the poweroff"
	done < <(_e2e_cgroup_bases)
done
e2e_log "PASS: $E2E_NAME"
