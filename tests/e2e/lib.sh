# shellcheck shell=bash
# The e2e test bed: a cached Debian tree, booted with its own systemd in systemd-nspawn.
#
# A scenario is a bash script that sources this file and then:
#   tree=$(e2e_rootfs bookworm)     the cached tree (built with debootstrap when absent or stale)
#   e2e_boot "$tree"                boot it (a throwaway overlay); sets E2E_LEADER
#   e2e_install_pyshare             `make install` into the running container
#   e2e_exec CMD...                 run a command inside, clean environment
#   e2e_expect_http / 200 'body'    assert an HTTP answer from inside
# and ends, pass or fail, with the container powered off and nothing left behind (an EXIT trap).
# e2e_boot must run in the scenario's own shell, never in $(...): the trap powers off only what
# this shell started.
#
# Settings (environment):
#   PYSHARE_E2E_CACHE      where trees are cached (/var/cache/pyshare-e2e)
#   PYSHARE_E2E_MIRROR     Debian mirror for debootstrap (http://deb.debian.org/debian)
#   PYSHARE_E2E_INSTALL    a command run as `CMD DESTDIR` to install pyshare instead of
#                          `make install` (for instance a .deb installer)
#   E2E_BOOT_TIMEOUT, E2E_POWEROFF_TIMEOUT   seconds (60, 60)
#   E2E_SHOW_CONSOLE       non-empty: print the container's console after poweroff

# Scripts given to e2e_sh are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_DIR/../.." && pwd)
E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
E2E_NAME=$(basename "$0" .sh)
E2E_DEFERRED=()
E2E_START=$(date +%s.%N)
# What this scenario leaves on the host carries its tag: its temporary directories
# (pyshare-e2e.TAG.*) and, in their environment, the processes it starts. tests/e2e/run gives
# each scenario its own and looks for both after the scenario ended; a scenario run by hand has
# its shell's PID; the scenarios that a scenario runs inherit it.
export E2E_TAG=${E2E_TAG:-s$$}

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }
e2e_step() { printf '\n== [%s s] %s\n' "$(e2e_since "$E2E_START")" "$*" >&2; }
e2e_fail() {
	printf 'e2e: FAIL: %s\n' "$*" >&2
	exit 1
}
e2e_now() { date +%s.%N; }
e2e_since() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.1f", b - a }'; }

# Register a cleanup command (run at exit, last registered first, after the poweroff).
e2e_defer() { E2E_DEFERRED+=("$(printf '%q ' "$@")"); }

# rm -rf that first unmounts whatever is mounted below DIR and never crosses into another
# filesystem (an interrupted debootstrap leaves /proc mounted inside its target).
e2e_rmtree() {
	local dir=$1 m
	[[ -e $dir ]] || return 0
	dir=$(realpath -e "$dir")
	[[ $dir != / ]] || e2e_fail "refusing to remove /"
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r || true)
	rm -rf --one-file-system "$dir"
}

# e2e_tmpdir VAR: a temporary directory, removed at exit (set into VAR, since a $(...) subshell
# could not register the cleanup).
e2e_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/pyshare-e2e.$E2E_TAG.XXXXXX")
	e2e_defer e2e_rmtree "$d"
	printf -v "$1" '%s' "$d"
}

# ---- the cached tree -----------------------------------------------------------------------

e2e_rootfs() {
	local suite=${1:?usage: e2e_rootfs SUITE} cache=${PYSHARE_E2E_CACHE:-/var/cache/pyshare-e2e}
	local tree stamp want includes lockfd tmp old stale="" start
	tree=$cache/$suite
	stamp=$tree/.pyshare-e2e-stamp
	includes=$("$E2E_DIR/mkrootfs" --includes "$suite")
	want=$({
		printf 'suite=%s\nincludes=%s\n' "$suite" "$includes"
		cat "$E2E_DIR/mkrootfs"
	} | sha256sum | cut -d' ' -f1)
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		e2e_log "using cached $suite tree $tree"
		printf '%s\n' "$tree"
		return 0
	fi

	mkdir -p "$cache"
	exec {lockfd}>"$cache/.$suite.lock"
	if ! flock -w 1800 "$lockfd"; then
		exec {lockfd}>&-
		e2e_fail "another build of the $suite tree holds $cache/.$suite.lock"
	fi
	# Another run may have built it while we waited.
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		exec {lockfd}>&-
		e2e_log "using the $suite tree that another run just built: $tree"
		printf '%s\n' "$tree"
		return 0
	fi
	# Leftovers of interrupted builds: nobody else can be using them while we hold the lock.
	for old in "$cache/.$suite.build."* "$cache/.$suite.old."*; do
		[[ ! -e $old ]] || e2e_rmtree "$old"
	done

	tmp=$(mktemp -d "$cache/.$suite.build.XXXXXX")
	chmod 0755 "$tmp" # it becomes the container's /
	e2e_log "building the $suite tree with debootstrap (log: $tmp.log)"
	start=$(e2e_now)
	if ! "$E2E_DIR/mkrootfs" "$suite" "$tmp" >"$tmp.log" 2>&1; then
		tail -n 40 "$tmp.log" >&2
		e2e_rmtree "$tmp"
		exec {lockfd}>&-
		e2e_fail "debootstrap of $suite failed (full log: $tmp.log)"
	fi
	# The stamp goes in before the rename: a tree under the final name always has its stamp.
	printf '%s\n' "$want" >"$tmp/.pyshare-e2e-stamp"
	# Swap the new tree in: until the rename the old (or no) tree is what others see.
	if [[ -e $tree ]]; then
		stale=$cache/.$suite.old.$$
		mv "$tree" "$stale"
	fi
	mv "$tmp" "$tree"
	rm -f "$tmp.log"
	[[ -z $stale ]] || e2e_rmtree "$stale"
	exec {lockfd}>&-
	e2e_log "debootstrap of $suite took $(e2e_since "$start") s, $(du -sh "$tree" | cut -f1)"
	printf '%s\n' "$tree"
}

# ---- a cgroup of its own for each container --------------------------------------------------
#
# With --keep-unit and --register=no, systemd-nspawn asks no service manager for a scope: the
# container stays in the cgroups of the process that started nspawn, in every hierarchy, and
# gets a cgroup namespace rooted there. Where the host's systemd hierarchy is cgroup2 (unified,
# or hybrid as on a host without systemd whose /sys/fs/cgroup has the v1 controllers, name=systemd
# and cgroup2 at unified/), --keep-unit also makes nspawn move itself into <its cgroup2 cgroup>/
# supervisor and the container into <that>/payload (create_subcgroup() in
# src/nspawn/nspawn-cgroup.c). Started from the root cgroups, as on such a host, every container
# would get the same /payload and the same name=systemd root: their systemds would manage the
# same system.slice/apache2.service, each seeing the other's processes (MainPID=0 after a
# restart, stops waiting 90 s for a cgroup that never empties). So e2e_boot makes a cgroup
# pyshare-e2e/MACHINE below the one it runs in, in every mounted hierarchy (each v1 controller,
# name=systemd, cgroup2), starts nspawn inside it, and removes it after the poweroff: each
# container's systemd has a subtree, and processes, of its own.

# Every mounted cgroup hierarchy of this process, one a line: the directory of pyshare-e2e/
# below the cgroup it runs in (/sys/fs/cgroup/memory/A/B/pyshare-e2e for "4:memory:/A/B").
_e2e_cgroup_bases() {
	awk 'FNR == NR {
		# /proc/self/cgroup: ID:CONTROLLERS:PATH ("0::PATH" for cgroup2).
		i = index($0, ":"); rest = substr($0, i + 1); j = index(rest, ":")
		path[substr(rest, 1, j - 1)] = substr(rest, j + 1)
		next
	}
	{
		# /proc/self/mountinfo: ... ROOT MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTS
		for (i = 7; i <= NF && $i != "-"; i++) ;
		key = ""
		if ($(i + 1) == "cgroup2") key = "/cgroup2"
		else if ($(i + 1) == "cgroup") {
			split($(i + 3), o, ",")
			delete opt
			for (k in o) opt[o[k]] = 1
			for (h in path) {
				if (h == "") continue
				n = split(h, c, ","); all = 1
				for (k = 1; k <= n; k++) if (!(c[k] in opt)) all = 0
				if (all) { key = h; break }
			}
		}
		if (key == "" || key in done) next
		p = path[key == "/cgroup2" ? "" : key]
		if (p == "") next
		done[key] = 1
		# A mount of a subtree (root not /) shows the paths below its root.
		if ($4 != "/") { if (index(p, $4) != 1) next; p = substr(p, length($4) + 1) }
		sub(/\/$/, "", p)
		print $5 p "/pyshare-e2e"
	}' /proc/self/cgroup /proc/self/mountinfo
}

# _e2e_cgroup_create MACHINE: the cgroup pyshare-e2e/MACHINE in every hierarchy (their
# directories in E2E_CGROUPS); removed at exit, after the poweroff.
_e2e_cgroup_create() {
	local base dir f
	E2E_CGROUPS=()
	while read -r base; do
		dir=$base/$1
		mkdir -p "$dir" || e2e_fail "cannot make the cgroup $dir"
		# A new cpuset has no CPUs and no memory nodes until it is given some: its parent's.
		for f in cpuset.cpus cpuset.mems; do
			[[ -e $dir/$f ]] || continue
			[[ -n $(<"$base/$f") ]] || cat "$base/../$f" >"$base/$f"
			[[ -n $(<"$dir/$f") ]] || cat "$base/$f" >"$dir/$f"
		done
		# The CPU weight of a cgroup is that of one task of the cgroup it is in: left at the
		# default, all containers together would get as much CPU as one busy process of the
		# host, where their processes had a task's weight each. pyshare-e2e/ gets as much as
		# two busy tasks per CPU; the containers in it share that equally.
		if [[ -e $base/cpu.shares ]]; then
			echo $((1024 * 2 * $(nproc))) >"$base/cpu.shares" || e2e_fail "cannot set $base/cpu.shares"
		elif [[ -e $base/cpu.weight ]]; then
			echo $((100 * 2 * $(nproc) > 10000 ? 10000 : 100 * 2 * $(nproc))) >"$base/cpu.weight" ||
				e2e_fail "cannot set $base/cpu.weight"
		fi
		E2E_CGROUPS+=("$dir")
	done < <(_e2e_cgroup_bases)
	((${#E2E_CGROUPS[@]} > 0)) || e2e_fail "no cgroup hierarchy is mounted (/proc/self/mountinfo)"
	e2e_defer _e2e_cgroup_remove "${E2E_CGROUPS[@]}"
}

# Move this (sub)shell into E2E_CGROUPS: what it executes next starts there.
_e2e_cgroup_enter() {
	local dir
	for dir in "${E2E_CGROUPS[@]}"; do
		echo "$BASHPID" >"$dir/cgroup.procs" || {
			echo "e2e: cannot move process $BASHPID into $dir" >&2
			return 1
		}
	done
}

# _e2e_cgroup_remove DIR...: remove each DIR with what the container's systemd and nspawn made
# below it, and pyshare-e2e/ when nothing else is in it. A DIR that still holds processes after
# 10 s is a leak: they are named (and killed) and the scenario fails.
_e2e_cgroup_remove() {
	local dir deadline pids killed
	for dir; do
		deadline=$((SECONDS + 10))
		killed=""
		while [[ -d $dir ]]; do
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $dir ]] || break
			if ((SECONDS >= deadline)); then
				[[ -z $killed ]] || {
					e2e_log "cannot remove the cgroup $dir"
					break
				}
				pids=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un | tr '\n' ' ')
				e2e_log "the cgroup $dir still holds processes after the poweroff: ${pids:-none} (killed)"
				# shellcheck disable=SC2086 # a list of pids
				[[ -z $pids ]] || kill -9 $pids 2>/dev/null
				E2E_LEAKED=1
				killed=1
				deadline=$((SECONDS + 5))
			fi
			sleep 0.1
		done
		rmdir "${dir%/*}" 2>/dev/null || true
	done
}

# e2e_cgroup_sweep: remove the cgroups of containers whose scenario is gone (a run killed with
# SIGKILL leaves them): pyshare-e2e/pe2e-NAME-PID with no process PID.
e2e_cgroup_sweep() {
	local base dir
	while read -r base; do
		for dir in "$base"/pe2e-*; do
			[[ -d $dir && ! -e /proc/${dir##*-} ]] || continue
			e2e_log "removing the cgroup $dir left by an earlier run"
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
		done
		rmdir "$base" 2>/dev/null || true
	done < <(_e2e_cgroup_bases)
}

# ---- the booted container ------------------------------------------------------------------

# Is PID alive and not a zombie (kill -0 succeeds on a zombie)?
_e2e_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Every PID on the host whose pid namespace is NS (pid:[...]).
_e2e_ns_pids() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/ns/pid" 2>/dev/null) == "$1" ]] && printf '%s\n' "${p#/proc/}"
	done
	return 0
}

# The container's PID 1 of the systemd-nspawn process NSPAWN_PID: nspawn's child, once it has
# exec'd systemd (nothing yet: prints nothing).
_e2e_leader_of() {
	local child
	for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if [[ $(cat "/proc/$child/comm" 2>/dev/null) == systemd ]]; then
			printf '%s\n' "$child"
			return 0
		fi
	done
}

# e2e_boot TREE [--no-volatile]
# Boots TREE with its own systemd in a private network namespace (only loopback: Apache's port
# 80 is always free there, whatever the host runs). With the default --volatile=overlay every
# change goes to a tmpfs that vanishes at poweroff; --no-volatile is for a tree that already is
# a throwaway copy.
e2e_boot() {
	local tree=${1:?usage: e2e_boot TREE [--no-volatile]} volatile=(--volatile=overlay)
	local start deadline state=""
	[[ ${2:-} == --no-volatile ]] && volatile=()
	[[ -z ${E2E_NSPAWN_PID:-} ]] || e2e_fail "e2e_boot: a container is already running"
	E2E_MACHINE=$(printf 'pe2e-%s-%s' "${E2E_NAME#scenario-}" "$$" | tr -c 'a-zA-Z0-9-\n' - | cut -c1-60)
	E2E_CONSOLE=$(mktemp "${TMPDIR:-/tmp}/pyshare-e2e-console.$E2E_TAG.XXXXXX")
	e2e_defer rm -f "$E2E_CONSOLE"
	_e2e_cgroup_create "$E2E_MACHINE"
	start=$(e2e_now)
	# In a subshell moved into the container's own cgroups, which then becomes nspawn.
	(
		_e2e_cgroup_enter || exit 125
		exec systemd-nspawn --boot --directory="$tree" --register=no --keep-unit "${volatile[@]}" \
			--machine="$E2E_MACHINE" --private-network --console=read-only
	) </dev/null >"$E2E_CONSOLE" 2>&1 &
	E2E_NSPAWN_PID=$!
	E2E_LEADER=""
	deadline=$((SECONDS + ${E2E_BOOT_TIMEOUT:-60}))
	# The leader is the container's PID 1: nspawn's child, once it has exec'd systemd.
	while [[ -z $E2E_LEADER ]]; do
		_e2e_alive "$E2E_NSPAWN_PID" || {
			cat "$E2E_CONSOLE" >&2
			e2e_fail "systemd-nspawn exited during boot"
		}
		E2E_LEADER=$(_e2e_leader_of "$E2E_NSPAWN_PID")
		((SECONDS < deadline)) || e2e_fail "no systemd in the container after ${E2E_BOOT_TIMEOUT:-60} s"
		[[ -n $E2E_LEADER ]] || sleep 0.05
	done
	E2E_PIDNS=$(readlink "/proc/$E2E_LEADER/ns/pid")
	export E2E_LEADER E2E_NSPAWN_PID E2E_MACHINE E2E_PIDNS
	while :; do
		state=$(e2e_exec systemctl is-system-running 2>/dev/null) || true
		case $state in running | degraded) break ;; esac
		if ((SECONDS >= deadline)); then
			tail -n 30 "$E2E_CONSOLE" >&2
			e2e_fail "container not up after ${E2E_BOOT_TIMEOUT:-60} s (state: ${state:-none})"
		fi
		sleep 0.1
	done
	e2e_log "booted $tree as $E2E_MACHINE (leader $E2E_LEADER, in the cgroup pyshare-e2e/$E2E_MACHINE" \
		"of each hierarchy) in $(e2e_since "$start") s: $state"
	if [[ $state == degraded ]]; then
		e2e_exec systemctl --failed --no-legend --no-pager >&2 || true
	fi
}

# Power the container off, wait (bounded), kill what is left, and check that no process of
# the container's pid namespace survives. Safe to call when nothing runs.
e2e_poweroff() {
	local pid=${E2E_NSPAWN_PID:-} deadline left start
	[[ -n $pid ]] || return 0
	start=$(e2e_now)
	if [[ -n ${E2E_LEADER:-} ]] && _e2e_alive "$E2E_LEADER"; then
		timeout 15 nsenter -t "$E2E_LEADER" -a env -i PATH="$E2E_PATH" \
			systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	elif _e2e_alive "$pid"; then
		# No systemd yet to ask: nspawn turns SIGTERM into a poweroff request.
		kill -TERM "$pid" 2>/dev/null
	fi
	deadline=$((SECONDS + ${E2E_POWEROFF_TIMEOUT:-60}))
	while _e2e_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
	if _e2e_alive "$pid"; then
		e2e_log "container $E2E_MACHINE did not power off in ${E2E_POWEROFF_TIMEOUT:-60} s: killing it"
		[[ -z ${E2E_LEADER:-} ]] || kill -9 "$E2E_LEADER" 2>/dev/null || true
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	# PID 1 gone means the kernel kills the rest of its namespace; give it a moment.
	deadline=$((SECONDS + 10))
	left=""
	while [[ -n ${E2E_PIDNS:-} ]] && left=$(_e2e_ns_pids "$E2E_PIDNS") && [[ -n $left ]] &&
		((SECONDS < deadline)); do
		sleep 0.1
	done
	if [[ -n $left ]]; then
		# shellcheck disable=SC2086 # a list of pids
		kill -9 $left 2>/dev/null || true
		e2e_log "processes of $E2E_MACHINE left after poweroff: $left (killed)"
		E2E_LEAKED=1
	fi
	e2e_log "powered off $E2E_MACHINE in $(e2e_since "$start") s"
	if [[ -n ${E2E_SHOW_CONSOLE:-} ]]; then
		cat "$E2E_CONSOLE" >&2
	fi
	unset E2E_NSPAWN_PID E2E_LEADER E2E_PIDNS
}

# e2e_exec CMD...: run CMD inside, with a clean environment (PATH, HOME, LANG only) and the
# caller's stdin/stdout/stderr. Two modes: in the booted container (E2E_LEADER), or, when
# E2E_CHROOT names a tree, chrooted into it the way an image build runs commands: its own mount
# and pid namespaces with /proc, /sys and /dev mounted, all of which vanish when CMD ends.
e2e_exec() {
	if [[ -n ${E2E_LEADER:-} ]]; then
		nsenter -t "$E2E_LEADER" -a env -i PATH="$E2E_PATH" HOME=/root LANG=C.UTF-8 "$@"
	elif [[ -n ${E2E_CHROOT:-} ]]; then
		unshare --mount --propagation private --pid --fork -- /bin/sh -c '
			r=$1; p=$2; shift 2
			mount -t proc proc "$r/proc" && mount -t sysfs -o ro sysfs "$r/sys" &&
				mount --rbind /dev "$r/dev" || exit 125
			chroot "$r" /usr/bin/env -i PATH="$p" HOME=/root LANG=C.UTF-8 "$@"
			exit $?' e2e-chroot "$E2E_CHROOT" "$E2E_PATH" "$@"
	else
		e2e_fail "e2e_exec: no container booted and no E2E_CHROOT"
	fi
}

# e2e_sh 'SCRIPT' [ARG...]: a shell script inside (sh -ec).
e2e_sh() {
	local script=$1
	shift
	e2e_exec /bin/sh -ec "$script" e2e-sh "$@"
}

# e2e_put FILE < content: write a file inside.
e2e_put() { e2e_sh 'mkdir -p "$(dirname "$1")" && cat >"$1"' "$1"; }

# Where the container's (or chroot's) root is seen from the host.
e2e_root() {
	if [[ -n ${E2E_LEADER:-} ]]; then
		printf '/proc/%s/root\n' "$E2E_LEADER"
	elif [[ -n ${E2E_CHROOT:-} ]]; then
		printf '%s\n' "$E2E_CHROOT"
	else
		e2e_fail "e2e_root: no container booted and no E2E_CHROOT"
	fi
}

# The container's system bus, as seen from the host (for sd-bus clients such as busctl -H).
e2e_bus_address() {
	[[ -n ${E2E_LEADER:-} ]] || e2e_fail "e2e_bus_address: no container booted"
	printf 'unix:path=/proc/%s/root/run/dbus/system_bus_socket\n' "$E2E_LEADER"
}

# Install the host-built pyshare the way a user would, into the booted container or the
# E2E_CHROOT tree: make install, PREFIX=/usr.
e2e_install_pyshare() {
	local dest
	dest=$(e2e_root)
	if [[ -n ${PYSHARE_E2E_INSTALL:-} ]]; then
		$PYSHARE_E2E_INSTALL "$dest" || e2e_fail "'$PYSHARE_E2E_INSTALL $dest' failed"
	else
		make -s -C "$E2E_REPO" install DESTDIR="$dest" PREFIX=/usr >&2 ||
			e2e_fail "make install DESTDIR=$dest PREFIX=/usr failed"
	fi
	e2e_exec pyshare --version >&2 || e2e_fail "the installed pyshare does not run inside"
}

# e2e_http PATH: GET http://127.0.0.1PATH from inside; prints the status, a newline, the body.
e2e_http() {
	e2e_sh 'b=$(mktemp)
		code=$(curl -sS --max-time 30 -o "$b" -w "%{http_code}" "http://127.0.0.1$1") || true
		printf "%s\n" "${code:-000}"; cat "$b"; rm -f "$b"' "$1"
}

# e2e_expect_http PATH STATUS [BODY]: the body, when given, must match exactly.
e2e_expect_http() {
	local path=$1 want_status=$2 out status body
	out=$(e2e_http "$path"; printf x)
	out=${out%x}
	status=${out%%$'\n'*}
	body=${out#*$'\n'}
	e2e_log "GET $path -> $status $(printf '%q' "${body:0:200}")"
	[[ $status == "$want_status" ]] || e2e_fail "GET $path: status $status, expected $want_status"
	if (($# > 2)) && [[ $body != "$3" ]]; then
		e2e_fail "GET $path: body $(printf '%q' "$body"), expected $(printf '%q' "$3")"
	fi
}

# e2e_run CMD...: run inside, show the command and its output, fail unless it exits 0.
e2e_run() {
	local rc=0
	e2e_log "# $*"
	e2e_exec "$@" || rc=$?
	((rc == 0)) || e2e_fail "'$*' exited $rc"
}

# e2e_try CMD...: run inside, show the command, its output and its exit status; never fails.
# Sets E2E_RC and E2E_OUT (stdout and stderr together).
e2e_try() {
	E2E_RC=0
	e2e_log "# $*"
	E2E_OUT=$(e2e_exec "$@" 2>&1) || E2E_RC=$?
	[[ -z $E2E_OUT ]] || printf '%s\n' "$E2E_OUT" >&2
	e2e_log "(exit $E2E_RC)"
}

# e2e_expect_rc RC CMD...: e2e_try, and fail unless CMD exited RC.
e2e_expect_rc() {
	local want=$1
	shift
	e2e_try "$@"
	((E2E_RC == want)) || e2e_fail "'$*' exited $E2E_RC, expected $want"
}

# e2e_out_has TEXT [WHAT]: the last e2e_try's output contains TEXT (a fixed string).
e2e_out_has() {
	grep -qF -- "$1" <<<"$E2E_OUT" || e2e_fail "${2:-the output} does not contain '$1'"
}

# e2e_out_lacks TEXT [WHAT]: the last e2e_try's output does not contain TEXT.
e2e_out_lacks() {
	! grep -qF -- "$1" <<<"$E2E_OUT" || e2e_fail "${2:-the output} contains '$1'"
}

# Apache's error log: e2e_errlog_mark remembers its length, e2e_errlog_has TEXT looks for TEXT in
# what was written since.
e2e_errlog_mark() {
	E2E_ERRLOG_MARK=$(e2e_sh 'wc -l </var/log/apache2/error.log')
}
e2e_errlog_has() {
	local new
	new=$(e2e_sh 'tail -n +"$(($1 + 1))" /var/log/apache2/error.log' "${E2E_ERRLOG_MARK:-0}")
	grep -qF -- "$1" <<<"$new" || {
		printf '%s\n' "$new" | tail -n 20 >&2
		e2e_fail "no '$1' in /var/log/apache2/error.log since the mark"
	}
}

# e2e_wait_http PATH STATUS [SECONDS]: poll until GET PATH answers STATUS (a service that is
# still starting), then return; fail after SECONDS (30).
e2e_wait_http() {
	local deadline=$((SECONDS + ${3:-30})) status
	while :; do
		status=$(e2e_http "$1" 2>/dev/null | head -n 1) || true
		[[ $status != "$2" ]] || return 0
		((SECONDS < deadline)) || e2e_fail "GET $1 did not answer $2 within ${3:-30} s (last: $status)"
		sleep 0.2
	done
}

# e2e_main_pid UNIT: the unit's MainPID as systemd sees it (0 when not running).
# e2e_main_pid UNIT: its MainPID. A forking service (apache2) has none until systemd has read
# its PID file, a moment after the start job: wait up to 10 s for it.
e2e_main_pid() {
	local pid i
	for i in $(seq 1 100); do
		pid=$(e2e_exec systemctl show --property=MainPID --value "$1")
		[[ $pid != 0 ]] && break
		sleep 0.1
	done
	echo "$pid"
}

# e2e_prop UNIT PROPERTY: PROPERTY of UNIT as systemd has loaded it (systemctl show --value).
e2e_prop() { e2e_exec systemctl show --property="$2" --value "$1"; }

# e2e_expect_prop UNIT PROPERTY VALUE: fail unless systemd's PROPERTY of UNIT is exactly VALUE.
e2e_expect_prop() {
	local v
	v=$(e2e_prop "$1" "$2") || e2e_fail "systemctl show $1 --property=$2 failed"
	e2e_log "$1 $2=$v"
	[[ $v == "$3" ]] || e2e_fail "$1 has $2=$v as systemd loaded it, expected $2=$3"
}

# e2e_dropin UNIT NAME < content: the drop-in /etc/systemd/system/UNIT.d/NAME.conf, then a
# daemon-reload (no restart: the unit gets it at its next start). e2e_dropin UNIT NAME --remove
# removes it instead (and reloads).
e2e_dropin() {
	if [[ ${3:-} == --remove ]]; then
		e2e_run rm -f "/etc/systemd/system/$1.d/$2.conf"
	else
		e2e_put "/etc/systemd/system/$1.d/$2.conf"
		e2e_exec cat "/etc/systemd/system/$1.d/$2.conf" >&2
	fi
	e2e_run systemctl daemon-reload
}

# e2e_put_pkg SITE_PACKAGES NAME 'PYTHON' [USER]: a pure package NAME (its __init__.py holding
# PYTHON) written into SITE_PACKAGES as USER (deployer) with the default umask, the way a
# deployer's pip would leave a pure package.
e2e_put_pkg() {
	printf '%s\n' "$3" | e2e_sh 'runuser -u "$3" -- sh -c '\''umask 022; mkdir "$1/$2" &&
		cat >"$1/$2/__init__.py"'\'' sh "$1" "$2"' "$1" "$2" "${4:-deployer}"
}

# e2e_site_packages APP: the app's site-packages (/opt/pyshare/APP/lib/python3.X/site-packages,
# or under PREFIX).
e2e_site_packages() {
	e2e_sh 'sp=$(echo "${2:-/opt/pyshare}/$1"/lib/python3.*/site-packages)
		[ -d "$sp" ] || { echo "no site-packages in ${2:-/opt/pyshare}/$1" >&2; exit 1; }
		echo "$sp"' "$1" "${2:-}"
}

# Copy pyshare's source (what git tracks or would track: no build/, no host binaries) into the
# booted container at DIR (/usr/src/pyshare), compile it there with the tree's own compiler and
# libraries and install it with PREFIX=/usr, as on a machine that builds from source.
e2e_build_pyshare_inside() {
	local dir=${1:-/usr/src/pyshare} start
	start=$(e2e_now)
	e2e_compile_pyshare_inside "$dir"
	e2e_exec make -s -C "$dir" install PREFIX=/usr >&2 || e2e_fail "make install inside failed"
	e2e_exec pyshare --version >&2 || e2e_fail "the pyshare built inside does not run"
	e2e_log "built pyshare inside in $(e2e_since "$start") s"
}

# ---- the seed's app (shared by the scenarios that serve it) --------------------------------

# The modules that the seed's app needs and that must live only in the app's venv.
E2E_SEED_MODULES='numpy|flask|werkzeug|jinja2|markupsafe|itsdangerous|click'
E2E_STASH=/var/lib/pyshare-e2e/stash

# e2e_site NAME [MODULE...] < directives: the only Apache site, NAME: a <VirtualHost *:80> for
# localhost with the directives read from stdin, logging to Apache's error.log and access.log,
# enabled in place of 000-default, with the Apache modules named enabled too.
e2e_site() {
	local name=$1
	shift
	{
		printf '<VirtualHost *:80>\n\tServerName localhost\n'
		cat
		printf '\tErrorLog ${APACHE_LOG_DIR}/error.log\n'
		printf '\tCustomLog ${APACHE_LOG_DIR}/access.log combined\n</VirtualHost>\n'
	} | e2e_put "/etc/apache2/sites-available/$name.conf"
	e2e_sh 'a2dissite -q 000-default; a2ensite -q "$1"; shift; for m; do a2enmod -q "$m"; done' \
		"$name" "$@"
}

# e2e_pkg_apps NAME...: one WSGI app per NAME at /NAME, in embedded mode in the main
# interpreter, that imports NAMEpkg and answers "NAME: " followed by NAMEpkg.VALUE; they make
# the only site, apps. (With mod_wsgi's default of one sub-interpreter per app, bookworm's
# Apache, mod_wsgi 4.9.4 and Python 3.11 take 10 s to stop a child that used them, which every
# restart and the poweroff would pay: hence WSGIApplicationGroup %{GLOBAL}.)
e2e_pkg_apps() {
	local n
	for n; do
		e2e_put "/var/www/$n/wsgi.py" <<PY
import ${n}pkg


def application(environ, start_response):
    body = ("$n: " + ${n}pkg.VALUE).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
PY
	done
	{
		for n; do printf '\tWSGIScriptAlias /%s /var/www/%s/wsgi.py\n' "$n" "$n"; done
		printf '\tWSGIApplicationGroup %%{GLOBAL}\n'
		printf '\t<Directory /var/www>\n\t\tRequire all granted\n\t</Directory>\n'
	} | e2e_site apps
}

# e2e_cext_wheel VAR: build the wheel of pstest_cext 2.0 (a C extension) on the host into a
# temporary directory and set its path into VAR. The host's /usr/bin/python3 and bookworm's are
# both 3.11, so the extension built against the host's headers is the one the tree's Python
# loads. (VAR, not $(...): the temporary directory's cleanup belongs to the scenario's shell;
# VAR must not be one of the _-prefixed locals.)
e2e_cext_wheel() {
	local _hostpy _dir _wheel
	_hostpy=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	[[ $_hostpy == 3.11 ]] ||
		e2e_fail "the host's /usr/bin/python3 is $_hostpy, not bookworm's 3.11: cannot build the wheel here"
	e2e_tmpdir _dir
	_wheel=$(/usr/bin/python3 "$E2E_REPO/tests/system/lib/mkwheel.py" --out "$_dir" --name pstest_cext \
		--version 2.0 --ext "pstest_cext=$E2E_REPO/tests/system/lib/pstest_cext.c") ||
		e2e_fail "cannot build the pstest_cext wheel on the host (gcc and python3-dev needed)"
	e2e_log "built $_wheel"
	printf -v "$1" '%s' "$_wheel"
}

# The seed's wsgi.py in /var/www/myapp, served by mod_wsgi in embedded mode as the only site.
e2e_seed_app() {
	e2e_put /var/www/myapp/wsgi.py <"$E2E_DIR/apps/seed/wsgi.py"
	e2e_put /etc/apache2/sites-available/myapp.conf <"$E2E_DIR/apps/seed/apache-site.conf"
	e2e_sh 'a2dissite -q 000-default; a2ensite -q myapp'
}

# Move the system's copies of the seed's modules (and their metadata) out of Python's path into
# $E2E_STASH, readable by everyone, so that they can be copied into a venv later. Debian also
# ships a second copy of NumPy's core extension in /usr/lib/python3.X/dist-packages, which makes
# `numpy` importable as an empty namespace package: that goes to $E2E_STASH.versioned/.
e2e_hide_system_modules() {
	e2e_sh 'mkdir -p "$2" "$2.versioned"; chmod 0755 "$(dirname "$2")" "$2" "$2.versioned"
		for d in /usr/lib/python3/dist-packages /usr/lib/python3.*/dist-packages; do
			[ -d "$d" ] || continue
			to=$2; [ "$d" = /usr/lib/python3/dist-packages ] || to=$2.versioned/${d#/usr/lib/}
			mkdir -p "$to"
			for e in "$d"/*; do
				if basename "$e" | grep -Eiq "^($1)([-_.].*)?\$"; then mv "$e" "$to/"; fi
			done
		done
		ls "$2"' "$E2E_SEED_MODULES" "$E2E_STASH" >&2
	local m
	for m in numpy flask; do
		if e2e_exec python3 -c "import $m" 2>/dev/null; then
			e2e_fail "the system Python still imports $m after hiding it"
		fi
	done
}

# The version of numpy in the stash, from its package metadata (fails when there is none).
e2e_stash_numpy_version() {
	local v
	v=$(e2e_sh 'sed -n "s/^Version: //p" "$1"/numpy-*.*-info/PKG-INFO "$1"/numpy-*.*-info/METADATA \
		2>/dev/null | head -n 1' "$E2E_STASH")
	[[ $v =~ ^[0-9]+\.[0-9]+ ]] || e2e_fail "no numpy version in the stash $E2E_STASH: '$v'"
	printf '%s\n' "$v"
}

# e2e_deploy_stash APP: copy the stash into the app's venv as a deployer would
# (the user deployer, group deploy, the default umask).
e2e_deploy_stash() {
	e2e_sh 'sp=$(echo /opt/pyshare/"$1"/lib/python3.*/site-packages)
		[ -d "$sp" ] || { echo "no site-packages in /opt/pyshare/$1" >&2; exit 1; }
		runuser -u deployer -g deploy -- cp -R "$2"/. "$sp"/
		ls "$sp"' "$1" "$E2E_STASH" >&2
}

# e2e_seed_story [PYVER]: the seed's story (issue 3, scenario 1) in the booted container that
# has pyshare installed: the app fails with 500 and ModuleNotFoundError, then `pyshare setup`,
# a deployer's install, repair, probe and a restart of apache2 make it answer 200 with the real
# NumPy version. With PYVER (3.13) the venv must be built by that Python.
e2e_seed_story() {
	local pyver=${1:-} numpy_version owner f envfiles
	e2e_step "the app, with NumPy and Flask hidden from the system Python"
	e2e_hide_system_modules
	numpy_version=$(e2e_stash_numpy_version)
	e2e_log "numpy in the stash: $numpy_version"
	e2e_seed_app
	e2e_run useradd --create-home deployer
	e2e_run systemctl restart apache2

	e2e_step "before pyshare: 500 and ModuleNotFoundError"
	e2e_expect_http / 500
	e2e_exec grep -F "ModuleNotFoundError: No module named 'numpy'" /var/log/apache2/error.log >&2 ||
		e2e_fail "no ModuleNotFoundError for numpy in /var/log/apache2/error.log"

	e2e_step "pyshare setup"
	e2e_run pyshare setup myapp --module numpy --module flask --no-probe
	e2e_run test -x /opt/pyshare/myapp/bin/python
	if [[ -n $pyver ]]; then
		e2e_run test -d "/opt/pyshare/myapp/lib/python$pyver/site-packages"
		e2e_exec /opt/pyshare/myapp/bin/python -c \
			"import sys; assert sys.version.startswith('$pyver.'), sys.version" ||
			e2e_fail "the venv's Python is not $pyver"
	fi
	owner=$(e2e_exec stat -c %U:%G /opt/pyshare/myapp)
	[[ $owner == root:deploy ]] || e2e_fail "/opt/pyshare/myapp is owned by $owner, not root:deploy"
	e2e_exec getfacl -p /opt/pyshare/myapp >&2
	e2e_exec getfacl -pc /opt/pyshare/myapp | grep -qx 'user:www-data:r-x' ||
		e2e_fail "no user:www-data:r-x ACL entry on /opt/pyshare/myapp"
	for f in /etc/pyshare/myapp.conf /etc/pyshare/myapp.env /etc/pyshare/services/apache2.service.env \
		/etc/systemd/system/apache2.service.d/50-pyshare.conf; do
		e2e_run test -s "$f"
	done
	e2e_exec grep -F 'EnvironmentFile=' /etc/systemd/system/apache2.service.d/50-pyshare.conf >&2 ||
		e2e_fail "the apache2 drop-in has no EnvironmentFile="
	# The daemon-reload happened: systemd already knows the new EnvironmentFile.
	envfiles=$(e2e_exec systemctl show apache2.service --property=EnvironmentFiles --value)
	e2e_log "apache2 EnvironmentFiles: $envfiles"
	[[ $envfiles == */etc/pyshare/services/apache2.service.env* ]] ||
		e2e_fail "systemd does not know apache2's pyshare EnvironmentFile (no daemon-reload?)"
	if [[ -n $pyver ]]; then
		e2e_exec grep -F "/opt/pyshare/myapp/lib/python$pyver/site-packages" /etc/pyshare/myapp.env >&2 ||
			e2e_fail "PYTHONPATH in /etc/pyshare/myapp.env does not name lib/python$pyver/site-packages"
	fi

	e2e_step "a deployer installs the modules into the venv; repair; probe"
	e2e_run usermod --append --groups deploy deployer
	e2e_deploy_stash myapp
	e2e_run pyshare repair myapp
	e2e_probe_before_restart myapp numpy flask

	e2e_step "after a restart of apache2: 200 and the real NumPy version"
	e2e_run systemctl restart apache2
	e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"
	e2e_run pyshare probe myapp numpy flask
}

# e2e_probe_before_restart APP MODULE...: the probe of an app that apache2 runs without yet
# (set up, not restarted): its next start imports, the running service does not, so it exits 1
# with restart-needed and the restart as the fix (issue 12).
e2e_probe_before_restart() {
	e2e_expect_rc 1 pyshare probe "$@"
	e2e_out_has "  restart-needed: apache2.service runs with the environment of " "the probe before the restart"
	e2e_out_has "; the next start gets the app's PYTHONPATH: systemctl restart apache2" "the probe before the restart"
	e2e_out_has "  next start: ok (the unit as systemd loaded it)" "the probe before the restart"
}

# e2e_probe_self APP: the probe of APP (set up, deployer in its group) inspects itself inside
# its transient unit (issue 5, item 13, where systemd runs): a deployer installs two modules
# that fail on purpose, one carrying as JSON what the importing process sees of its ids,
# groups, capabilities, NoNewPrivs, fds, environment and limits (tests/system/lib/adv/
# pstest_adv_self.py, as in the system tests' forked probe), one its cgroup. Fails unless
# they show www-data's ids and groups only, no capability in any set, NoNewPrivs, fds 0-3
# (stdin /dev/null, the result on 3), no variable of the caller, the service's PYTHONPATH, a
# transient unit of its own, and no probe unit left afterwards.
# e2e_probe_json APP MODULE: `pyshare --json probe APP MODULE` from a caller with a variable of
# its own (PST_LEAK); the module fails on purpose (exit 1); its JSON (stdout only) in
# E2E_PROBE_JSON.
e2e_probe_json() {
	local rc=0
	e2e_log "# pyshare --json probe $1 $2"
	E2E_PROBE_JSON=$(e2e_exec env PST_LEAK=from-the-caller pyshare --json probe "$1" "$2") || rc=$?
	((rc == 1)) || e2e_fail "the probe of $2 exited $rc, expected 1: $E2E_PROBE_JSON"
}

e2e_probe_self() {
	local app=$1 site cgroup svc_uid svc_gid svc_groups deploy_gid svc_env checker="" left
	e2e_step "$app's probe inspects itself inside its transient unit"
	site=$(e2e_site_packages "$app")
	e2e_put /tmp/pstest_adv_self.py <"$E2E_REPO/tests/system/lib/adv/pstest_adv_self.py"
	e2e_put /tmp/pstest_cgroup.py <<'PY'
raise ImportError("PSTCG" + open("/proc/self/cgroup").read().strip())
PY
	e2e_run chmod 0644 /tmp/pstest_adv_self.py /tmp/pstest_cgroup.py
	e2e_run runuser -u deployer -- /bin/sh -ec "umask 002
		cp /tmp/pstest_adv_self.py /tmp/pstest_cgroup.py $site/"
	e2e_run pyshare repair "$app" -q

	e2e_probe_json "$app" pstest_cgroup
	cgroup=$(/usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["modules"][0]["error"].split("PSTCG", 1)[1])' <<<"$E2E_PROBE_JSON") ||
		e2e_fail "no cgroup in the probe's answer"
	e2e_log "the probe's cgroup: $cgroup"
	[[ $cgroup =~ /system\.slice/pyshare-probe-[0-9]+-[0-9a-f]+\.service$ ]] ||
		e2e_fail "the probe did not run in a transient unit of its own: $cgroup"

	svc_uid=$(e2e_exec id -u www-data)
	svc_gid=$(e2e_exec id -g www-data)
	svc_groups=$(e2e_exec id -G www-data)
	deploy_gid=$(e2e_sh 'getent group deploy | cut -d: -f3')
	svc_env=$(e2e_exec cat /etc/pyshare/services/apache2.service.env)
	e2e_probe_json "$app" pstest_adv_self
	e2e_tmpdir checker
	cat >"$checker/check.py" <<'PY'
import json, os, sys
d = json.load(sys.stdin)
err = d["modules"][0]["error"]
assert err and "PSTSELF" in err, d
s = json.loads(err.split("PSTSELF", 1)[1])
uid, gid = int(os.environ["SVC_UID"]), int(os.environ["SVC_GID"])
groups = {int(g) for g in os.environ["SVC_GROUPS"].split()}
bad = []


def want(cond, what):
    if not cond:
        bad.append(what)


want(s["resuid"] == [uid] * 3, "uids %s, not %d" % (s["resuid"], uid))
want(s["resgid"] == [gid] * 3, "gids %s, not %d" % (s["resgid"], gid))
want(set(s["groups"]) == groups, "groups %s, not www-data's own %s" % (s["groups"], sorted(groups)))
want(0 not in s["groups"] and int(os.environ["DEPLOY_GID"]) not in s["groups"], "groups %s" % s["groups"])
for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
    want(int(s["status"][cap], 16) == 0, "%s %s" % (cap, s["status"][cap]))
want(s["status"]["NoNewPrivs"] == "1", "NoNewPrivs %s" % s["status"]["NoNewPrivs"])
fds = {int(k): v for k, v in s["fds"].items()}
want(sorted(fds) == [0, 1, 2, 3], "open fds %s" % fds)
want(fds.get(0) == "/dev/null", "stdin is %s" % fds.get(0))
want(str(fds.get(1, "")).startswith("pipe:") and fds.get(1) == fds.get(2), "stdout/stderr %s %s" % (fds.get(1), fds.get(2)))
want(str(fds.get(3, "")).startswith("pipe:") and fds.get(3) != fds.get(1), "result fd 3 is %s" % fds.get(3))
for k in ("setresuid0", "setresgid0", "setgroups0", "shadow"):
    want(s[k] == "PermissionError", "%s: %s" % (k, s[k]))
want(s["core"] == [0, 0], "RLIMIT_CORE %s" % s["core"])
want("PST_LEAK" not in s["env"], "the caller's environment reached the probe")
pp = [l.split("=", 1)[1].strip('"') for l in os.environ["SVC_ENV"].splitlines() if l.startswith("PYTHONPATH=")]
want(pp and s["env"].get("PYTHONPATH") == pp[0], "PYTHONPATH %r, not %s" % (s["env"].get("PYTHONPATH"), pp))
want(s["cwd"] == "/", "cwd %s" % s["cwd"])
if bad:
    print("the probe inside its unit is not locked down:", *bad, sep="\n  ", file=sys.stderr)
    print(json.dumps(s, indent=1, sort_keys=True), file=sys.stderr)
    sys.exit(1)
PY
	SVC_UID=$svc_uid SVC_GID=$svc_gid SVC_GROUPS=$svc_groups DEPLOY_GID=$deploy_gid SVC_ENV=$svc_env \
		/usr/bin/python3 "$checker/check.py" <<<"$E2E_PROBE_JSON" ||
		e2e_fail "the probe's self-inspection inside the transient unit failed"

	left=$(e2e_sh 'systemctl list-units --all --plain --no-legend "pyshare-probe-*" | wc -l')
	[[ $left == 0 ]] || e2e_fail "$left pyshare-probe units are left after the probes"
}

# ---- diagnostics and the exit trap ---------------------------------------------------------

e2e_diagnose() {
	[[ -n ${E2E_LEADER:-} ]] || return 0
	e2e_log "diagnostics from $E2E_MACHINE:"
	# Bounded: the container may be half-way down already (a timeout's SIGTERM reaches nspawn).
	timeout 20 nsenter -t "$E2E_LEADER" -a env -i PATH="$E2E_PATH" /bin/sh -c '
		systemctl --failed --no-legend --no-pager
		echo "--- apache2 error.log (tail)"; tail -n 30 /var/log/apache2/error.log
		echo "--- journal (tail)"; journalctl -b --no-pager -n 40' >&2 || true
}

_e2e_on_exit() {
	local rc=$? i
	set +e
	trap - EXIT INT TERM
	((rc == 0)) || e2e_diagnose
	e2e_poweroff
	for ((i = ${#E2E_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${E2E_DEFERRED[i]}"
	done
	if [[ -n ${E2E_LEAKED:-} ]] && ((rc == 0)); then
		e2e_log "FAIL: the container left processes behind"
		rc=1
	fi
	exit "$rc"
}
trap _e2e_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- pyshare's own .deb (scenarios 10 to 12) -----------------------------------------------

# e2e_pyshare_deb: prints the path of pyshare's .deb for this architecture in dist/, after
# `make deb` when there is none or when a file it is made from (src/, man/, units/, tmpfiles.d/,
# scripts/, debian/, the Makefile) is newer than it. Under a lock: scenarios may run side by
# side. The host is bookworm like the tree, so the host-built .deb's Depends hold there.
e2e_pyshare_deb() {
	local arch deb="" newer="" lockfd dir=${PYSHARE_E2E_CACHE:-/var/cache/pyshare-e2e}
	arch=$(dpkg --print-architecture)
	mkdir -p "$dir"
	exec {lockfd}>"$dir/.deb.lock"
	flock -w 900 "$lockfd" || e2e_fail "another scenario holds $dir/.deb.lock"
	for deb in "$E2E_REPO"/dist/pyshare_*_"$arch".deb; do
		[[ -e $deb ]] || deb=""
		break
	done
	if [[ -n $deb ]]; then
		newer=$(cd "$E2E_REPO" && find src man units tmpfiles.d scripts debian Makefile -type f \
			-newer "$deb" -not -path 'debian/pyshare/*' -not -path 'debian/.debhelper/*' -print -quit)
	fi
	if [[ -z $deb || -n $newer ]]; then
		e2e_log "building pyshare's .deb (make deb)${newer:+: $newer is newer than $deb}"
		make -s -C "$E2E_REPO" deb >&2 || e2e_fail "make deb failed"
		for deb in "$E2E_REPO"/dist/pyshare_*_"$arch".deb; do break; done
		[[ -e $deb ]] || e2e_fail "make deb left no dist/pyshare_*_$arch.deb"
	fi
	exec {lockfd}>&-
	printf '%s\n' "$deb"
}

# e2e_apt_install DEB...: copy the .deb files into /var/tmp of the booted container or the
# E2E_CHROOT tree and install them with `apt-get install`, offline: the tree's package lists
# are empty, so apt must find every dependency installed already. Shows apt's output; fails
# unless it exits 0.
e2e_apt_install() {
	local deb paths=() root
	root=$(e2e_root)
	for deb in "$@"; do
		cp "$deb" "$root/var/tmp/" || e2e_fail "cannot copy $deb into the tree"
		paths+=("/var/tmp/$(basename "$deb")")
	done
	e2e_run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${paths[@]}"
}

# e2e_install_pyshare_deb [DEB]: pyshare's .deb (e2e_pyshare_deb by default), installed with
# apt into the booted container or the E2E_CHROOT tree, instead of `make install`.
e2e_install_pyshare_deb() {
	local deb=${1:-}
	[[ -n $deb ]] || deb=$(e2e_pyshare_deb)
	e2e_apt_install "$deb"
	e2e_exec dpkg-query -W -f '${Package} ${Version} ${Status}\n' pyshare >&2
	e2e_exec pyshare --version >&2 || e2e_fail "the installed pyshare does not run inside"
}

# ---- what a package leaves behind (scenario 10) --------------------------------------------

# Churn that e2e_fs_list leaves out: kernel and runtime filesystems, logs, apt's and dpkg's own
# state and caches. Paths as seen from the tree's root.
E2E_FS_PRUNE=(/proc /sys /dev /tmp /run/log /var/log /var/cache/apt /var/cache/man /var/lib/apt /var/lib/dpkg)

# e2e_fs_list [ROOT]: every path of the booted container (or the E2E_CHROOT tree), sorted
# (LC_ALL=C), one a line, E2E_FS_PRUNE left out. Without ROOT: / and /run (a filesystem of its
# own, which holds locks), neither crossing into another mount. With ROOT, a directory inside
# (another tree: a DPKG_ROOT): that tree only, each path as seen from ROOT (/etc/x, not
# ROOT/etc/x), so that listings of two roots compare.
e2e_fs_list() {
	local root=${1:-} dirs=() prune=() p out
	root=${root%/}
	if [[ -z $root ]]; then dirs=(/ /run); else dirs=("$root"); fi
	for p in "${E2E_FS_PRUNE[@]}"; do
		prune+=(${prune[0]:+-o} -path "$root$p")
	done
	# A file that goes away while find runs (churn in /run) is no error; anything else is.
	out=$(e2e_sh 'err=$(mktemp); rc=0
		find "$@" -prune -o -print 2>"$err" || rc=$?
		if [ "$rc" -ne 0 ] && grep -v "No such file or directory" "$err" >&2; then exit 1; fi
		rm -f "$err"' "${dirs[@]}" -xdev \( "${prune[@]}" \)) || e2e_fail "find in ${root:-the container} failed"
	out=$(awk -v r="$root" 'r == "" { print; next }
		$0 == r { print "/"; next }
		index($0, r "/") == 1 { print substr($0, length(r) + 1) }' <<<"$out" | LC_ALL=C sort -u)
	grep -qx /etc/passwd <<<"$out" || e2e_fail "the listing of ${root:-the container} has no /etc/passwd"
	printf '%s\n' "$out"
}

# e2e_fs_expect_no_new BEFORE REGEX ALLOWED [ROOT] [WHAT]: compare e2e_fs_list [ROOT] with the
# listing BEFORE (an earlier e2e_fs_list's output) and fail on any new path that matches REGEX
# (grep -Ei, on the whole path) and is not one of the lines of ALLOWED (exact paths). WHAT names
# the moment in the messages.
e2e_fs_expect_no_new() {
	local before=$1 regex=$2 allowed=$3 root=${4:-} what=${5:-now} now new bad
	now=$(e2e_fs_list "$root")
	new=$(LC_ALL=C comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$now"))
	bad=$(grep -Ei -- "$regex" <<<"$new" | grep -vxF -f <(printf '%s\n' "$allowed")) || true
	e2e_log "${root:-/}: $(grep -c . <<<"$new") new paths $what, $(grep -c . <<<"$bad") of them matching '$regex' and not allowed"
	if [[ -n $bad ]]; then
		head -n 50 <<<"$bad" | sed 's/^/  left: /' >&2
		e2e_fail "$(grep -c . <<<"$bad") new paths matching '$regex' in ${root:-the container} $what (above, at most 50)"
	fi
}

# e2e_pkg_footprint PKG: the paths of the installed package PKG (dpkg -L; a path below a
# symbolic link such as /lib also as found through it: /usr/lib/...) and those that the
# tmpfiles.d files it ships create (their second column), sorted, one a line.
e2e_pkg_footprint() {
	e2e_sh 'dpkg -L "$1" >/dev/null || exit 1
		dpkg -L "$1" | while IFS= read -r p; do
			[ "$p" != /. ] || continue
			printf "%s\n" "$p"
			[ -z "${p%/*}" ] || printf "%s/%s\n" "$(readlink -f "${p%/*}")" "${p##*/}"
		done
		dpkg -L "$1" | grep -E "^(/usr)?/lib/tmpfiles\.d/[^/]+\.conf$" | while IFS= read -r f; do
			[ ! -f "$f" ] || awk "!/^[[:space:]]*(#|\$)/ { print \$2 }" "$f"
		done' "$1" | LC_ALL=C sort -u
	((PIPESTATUS[0] == 0)) || e2e_fail "dpkg -L $1 failed inside"
}

# e2e_root_overlay DIR: inside the booted container, a writable copy of its root at DIR, for a
# tree that is not the running system (DPKG_ROOT, pyshare --root): an overlay with the live /
# below (what changes there meanwhile may or may not show) and the changes in a tmpfs mounted
# at DIR.rw. e2e_root_overlay DIR --remove unmounts both and removes the two directories.
e2e_root_overlay() {
	if [[ ${2:-} == --remove ]]; then
		e2e_sh 'umount "$1" && umount "$1.rw" && rmdir "$1" "$1.rw"' "$1" ||
			e2e_fail "cannot remove the overlay at $1"
		return 0
	fi
	e2e_sh 'mkdir "$1" "$1.rw" && mount -t tmpfs -o mode=0755 tmpfs "$1.rw" &&
		mkdir "$1.rw/upper" "$1.rw/work" &&
		mount -t overlay overlay -o "lowerdir=/,upperdir=$1.rw/upper,workdir=$1.rw/work" "$1"' "$1" ||
		e2e_fail "cannot mount an overlay of / at $1 inside"
	e2e_log "an overlay of the container's / at $1"
}

# ---- the Ansible collection (issue 16) ----------------------------------------------------

# e2e_play NAME < tasks: a play on localhost (connection: local) with these tasks, run inside.
e2e_play() {
	{
		printf -- '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n'
		cat
	} | e2e_put "/root/$1.yml"
	e2e_run env PYTHONPATH="$E2E_STASH" ansible-playbook -i localhost, "/root/$1.yml"
}

# e2e_ansible_story: issue 16's story (scenarios 17 and 18) in the booted container that has
# pyshare installed (with its collection) and ansible-core from Debian's archive: the seed's app
# set up, checked, repaired and removed by playbooks with connection: local.
e2e_ansible_story() {
	local numpy_version site mode
	e2e_step "the seed's app, with NumPy and Flask hidden from the system Python: 500"
	# Ansible itself needs Jinja2 and MarkupSafe, which go to the stash with Flask: the playbooks
	# run with PYTHONPATH=$E2E_STASH (Debian's own files, moved aside).
	e2e_hide_system_modules
	numpy_version=$(e2e_stash_numpy_version)
	e2e_seed_app
	e2e_run useradd --create-home deployer
	e2e_run systemctl restart apache2
	e2e_expect_http / 500

	e2e_step "the module sets the app up: changed, the files it wrote, diff mode's before and after"
	e2e_play setup <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], probe: false}
	      diff: true
	      register: r
	    - ansible.builtin.assert:
	        that:
	          - r.changed
	          - r.venv == '/opt/pyshare/myapp'
	          - "'/etc/pyshare/myapp.conf' in r.files_changed"
	          - "'/etc/pyshare/services/apache2.service.env' in r.files_changed"
	          - r.reload == 'reloaded'
	          - r.diff | selectattr('after_header', 'equalto', '/etc/pyshare/myapp.conf') | list | length == 1
	          - r.diff | selectattr('after_header', 'equalto', 'tree of myapp') | list | length == 1
	YAML
	e2e_run usermod --append --groups deploy deployer
	e2e_deploy_stash myapp

	e2e_step "restart: true after the deployer's install: changed (modes repaired), restarted, the probe per module, 200"
	e2e_play deployed <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], restart: true}
	      register: r
	    - ansible.builtin.assert:
	        that:
	          - r.changed and r.restarted
	          - r.probe.numpy.ok and r.probe.flask.ok
	YAML
	e2e_expect_http / 200 "Hello, NumPy version is $numpy_version"

	e2e_step "again: not changed, no restart"
	e2e_play again <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask], restart: true}
	      register: r
	    - ansible.builtin.assert:
	        that:
	          - not r.changed and not r.restarted
	          - r.files_changed == []
	YAML

	site=$(e2e_exec sh -c 'echo /opt/pyshare/myapp/lib/python3.*/site-packages')
	e2e_run chmod 600 "$site/flask/__init__.py"
	e2e_step "check mode after chmod 600 in the venv: changed reported, nothing changed on disk"
	e2e_play check <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask]}
	      check_mode: true
	      register: r
	    - ansible.builtin.assert:
	        that:
	          - r.changed
	          - r.permissions.changed == 1
	          - r.pyshare.dry_run
	YAML
	mode=$(e2e_exec stat -c %a "$site/flask/__init__.py")
	[[ $mode == 600 ]] || e2e_fail "check mode changed $site/flask/__init__.py to $mode"

	e2e_step "for real: repaired"
	e2e_play repair <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask]}
	      register: r
	    - ansible.builtin.assert:
	        that: [r.changed, r.permissions.changed == 1]
	YAML
	mode=$(e2e_exec stat -c %a "$site/flask/__init__.py")
	[[ $mode != 600 ]] || e2e_fail "$site/flask/__init__.py is still 600 after the real run"

	e2e_step "app_info's facts, used by a later task"
	e2e_play facts <<-'YAML'
	    - pyshare.pyshare.app_info:
	    - ansible.builtin.copy:
	        content: "{{ ansible_facts.pyshare_apps.myapp.service }} {{ ansible_facts.pyshare_apps.myapp.venv }}\n"
	        dest: /root/myapp-facts.txt
	    - ansible.builtin.assert:
	        that: [ansible_facts.pyshare_apps.myapp.ok, "'numpy' in ansible_facts.pyshare_apps.myapp.modules"]
	YAML
	e2e_run grep -qx 'apache2.service /opt/pyshare/myapp' /root/myapp-facts.txt

	e2e_step "a probe failure fails the task with pyshare's message"
	e2e_put /root/fail.yml <<-'YAML'
	- hosts: localhost
	  connection: local
	  gather_facts: false
	  tasks:
	    - pyshare.pyshare.app: {name: myapp, modules: [numpy, flask, pst_no_such_module]}
	YAML
	e2e_expect_rc 2 env PYTHONPATH="$E2E_STASH" ansible-playbook -i localhost, /root/fail.yml
	e2e_out_has "the probe of myapp failed: pst_no_such_module: ModuleNotFoundError: No module named 'pst_no_such_module'"

	e2e_step "state: absent: removed (changed), then nothing to remove"
	e2e_play absent <<-'YAML'
	    - pyshare.pyshare.app: {name: myapp, state: absent, restart: true}
	      register: r
	    - ansible.builtin.assert:
	        that: [r.changed, "'/etc/pyshare/myapp.conf' in r.files_changed", r.restarted]
	    - pyshare.pyshare.app: {name: myapp, state: absent}
	      register: r2
	    - ansible.builtin.assert:
	        that: [not r2.changed]
	    - pyshare.pyshare.app_info:
	    - ansible.builtin.assert:
	        that: ["ansible_facts.pyshare_apps == {}"]
	YAML
	e2e_run test ! -e /etc/pyshare/myapp.conf
	e2e_expect_http / 500
}

# ---- Python upgrades (issue 14, scenario 41) ------------------------------------------------

# e2e_compile_pyshare_inside [DIR]: pyshare's source (what git tracks or would track: no build/,
# no host binaries) copied into the booted container at DIR (/usr/src/pyshare) and compiled there
# (make pyshare) with the tree's own compiler and libraries. Installs nothing.
e2e_compile_pyshare_inside() {
	local dir=${1:-/usr/src/pyshare}
	e2e_exec mkdir -p "$dir"
	(cd "$E2E_REPO" && git ls-files -z --cached --others --exclude-standard |
		tar --null --files-from=- --create --file=-) | e2e_exec tar -C "$dir" -xf - ||
		e2e_fail "cannot copy the source into $dir"
	e2e_exec test ! -e "$dir/pyshare" || e2e_fail "a host binary was copied into $dir"
	e2e_exec make -s -C "$dir" -j"$(nproc)" pyshare >&2 || e2e_fail "make in $dir failed inside"
}

# e2e_install_pyshare_deb_inside [DIR]: pyshare as a package in a tree whose libraries are not
# the host's (trixie), so that dpkg knows its triggers and maintainer scripts: the host's .deb
# (e2e_pyshare_deb) with its control area as dpkg-buildpackage made it, its binary replaced by
# DIR/pyshare compiled inside (e2e_compile_pyshare_inside first) and its libpython dependency by
# the one that binary links; made with dpkg-deb and installed with dpkg -i, inside.
e2e_install_pyshare_deb_inside() {
	local dir=${1:-/usr/src/pyshare} deb
	deb=$(e2e_pyshare_deb)
	e2e_put /var/tmp/pyshare-host.deb <"$deb"
	e2e_sh 'w=/var/tmp/pyshare-deb
		rm -rf "$w"
		dpkg-deb -R /var/tmp/pyshare-host.deb "$w"
		install -m 0755 "$1/pyshare" "$w/usr/sbin/pyshare"
		lib=$(ldd "$1/pyshare" | sed -n "s/^[[:space:]]*\(libpython3\.[0-9]*\)\.so.*/\1/p")
		[ -n "$lib" ] || { echo "$1/pyshare links no libpython" >&2; exit 1; }
		sed -i "/^Depends:/s/libpython3\.[0-9]*\( ([^)]*)\)\{0,1\}/$lib/" "$w/DEBIAN/control"
		grep -v " usr/sbin/pyshare\$" "$w/DEBIAN/md5sums" >"$w/md5sums"
		(cd "$w" && md5sum usr/sbin/pyshare) >>"$w/md5sums"
		mv "$w/md5sums" "$w/DEBIAN/md5sums"
		grep "^Depends:" "$w/DEBIAN/control" >&2
		dpkg-deb -b -Zgzip "$w" /var/tmp/pyshare-inside.deb >&2
		rm -rf "$w" /var/tmp/pyshare-host.deb' "$dir" || e2e_fail "cannot make pyshare's .deb for the tree inside"
	e2e_run dpkg -i /var/tmp/pyshare-inside.deb
	e2e_exec pyshare --version >&2 || e2e_fail "the installed pyshare does not run inside"
}

# e2e_deb_of_installed PKG DEB: inside, DEB is the installed package PKG made again at the same
# version from what dpkg knows of it (the tree keeps no .deb in /var/cache/apt/archives, and
# dpkg-repack is not installed): the files that /var/lib/dpkg/info/PKG.list lists, as they are
# on disk, its maintainer scripts, conffiles, md5sums and triggers, and its control fields from
# dpkg's status (without Status, Conffiles and Config-Version).
e2e_deb_of_installed() {
	e2e_sh 'p=$1 info=/var/lib/dpkg/info
		[ -f "$info/$p.list" ] || { echo "$p is not installed (no $info/$p.list)" >&2; exit 1; }
		w=$(mktemp -d /var/tmp/repack.XXXXXX)
		mkdir "$w/DEBIAN"
		dpkg-query -s "$p" | awk "/^[^ ]/ { skip = /^(Status|Conffiles|Config-Version):/ } !skip" >"$w/DEBIAN/control"
		for f in preinst postinst prerm postrm config templates triggers conffiles md5sums shlibs symbols; do
			[ ! -e "$info/$p.$f" ] || cp -p "$info/$p.$f" "$w/DEBIAN/$f"
		done
		grep -vx "/\." "$info/$p.list" | sed "s,^/,," |
			tar -C / --no-recursion --verbatim-files-from -T - -cf - | tar -C "$w" -xpf -
		dpkg-deb -b -Zgzip "$w" "$2" >&2
		rm -rf "$w"' "$1" "$2" || e2e_fail "cannot make the .deb of $1 again from its installed files"
	e2e_exec dpkg-deb -f "$2" Package Version >&2
}

# e2e_tree_state PATH...: inside, one line per fact that a roll-back must keep, sorted: each
# entry's path, type, inode, mode, numeric owner and group, size, mtime and link target; the
# sha256 of each regular file; each entry's ACL (getfacl, numeric ids, default ACLs included) on
# one line. Two states compare with e2e_expect_same_state. Fails unless every entry but the
# symbolic links (which have no ACL) has its ACL line: getfacl read them all.
e2e_tree_state() {
	local state entries acls
	state=$(e2e_sh 'for p; do
			find "$p" -printf "entry %p %y %i %m %U:%G %s %T@ %l\n"
			find "$p" -type f -exec sha256sum {} + | sed "s/^/sha256 /"
			getfacl -R -P -p -n "$p" | awk "/^# file: / { if (f != \"\") print \"acl \" f \" \" a; f = substr(\$0, 9); a = \"\"; next }
				/^[a-z]/ { a = a (a == \"\" ? \"\" : \",\") \$0 }
				END { if (f != \"\") print \"acl \" f \" \" a }"
		done | LC_ALL=C sort' "$@") || e2e_fail "cannot list the state of $*"
	entries=$(awk '$1 == "entry" && $3 != "l"' <<<"$state" | wc -l)
	acls=$(grep -c '^acl ' <<<"$state") || true
	((entries > 0 && entries == acls)) ||
		e2e_fail "the state of $* has $entries entries that are not symbolic links, and $acls ACLs"
	printf '%s\n' "$state"
}

# e2e_expect_same_state BEFORE AFTER WHAT: two e2e_tree_state listings are equal (else the
# differences, at most 40 lines, and a failure naming WHAT).
e2e_expect_same_state() {
	if [[ $1 != "$2" ]]; then
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 40 >&2
		e2e_fail "$3 is not as it was (differences above)"
	fi
	e2e_log "$3: as it was: $(grep -c '^entry ' <<<"$1") entries (inodes, owners, modes, sizes, mtimes)," \
		"$(grep -c '^sha256 ' <<<"$1") file digests, $(grep -c '^acl ' <<<"$1") ACLs"
}

# e2e_shutdown: e2e_poweroff, then the container's cgroups removed, so that the scenario may
# boot another tree (e2e_boot) with the same machine name.
e2e_shutdown() {
	e2e_poweroff
	[[ -z ${E2E_CGROUPS[0]+set} ]] || _e2e_cgroup_remove "${E2E_CGROUPS[@]}"
	E2E_CGROUPS=()
}
