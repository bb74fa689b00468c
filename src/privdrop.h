/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: becoming the service user in a forked child, every step verified. */
#pragma once
#include "users.h"
#include "util.h"

/* Call in a child only. setgroups to the user's own supplementary groups (initgroups), then
 * setresgid, setresuid; verifies real/effective/saved ids, that no group 0 nor forbidden_gid
 * is left, that setresuid(0,0,0) fails and no capability is left; sets NO_NEW_PRIVS. On
 * failure returns -errno and a static description of the step in *ret_step. */
int privdrop_to(const struct ps_user *u, gid_t forbidden_gid, const char **ret_step);
/* The same, but with exactly the supplementary groups given (pip as pyshare's own user in the
 * app's deploy group, nothing more) and the primary group groups[0]. */
int privdrop_to_groups(const struct ps_user *u, const gid_t *groups, size_t n, const char **ret_step);
/* The verification half of the above, for a process whose ids someone else changed (systemd's
 * User= in the probe's transient unit): real/effective/saved uids are uid and gids gid, no
 * supplementary group 0 nor forbidden_gid, setresuid(0,0,0) fails, no capability in the
 * effective, permitted or inheritable set. -errno (-EPERM for a failed check) and the step. */
int privdrop_verify(uid_t uid, gid_t gid, gid_t forbidden_gid, const char **ret_step);
/* Empties the inheritable capability set (lowering it needs no privilege). systemd 257 gives
 * a service's processes the bounding set as inheritable set; with a file's inheritable
 * capabilities an exec could turn it into permitted ones. */
int privdrop_clear_inheritable(void);
/* Call in a child only: new session, parent-death signal, default signal dispositions and an
 * empty mask, stdin from /dev/null, stdout/stderr to out_fd, result_fd as fd 3, every other fd
 * closed. */
int child_isolate(int out_fd, int result_fd);
/* Resource limits for the probe: no core, CPU seconds, file size, address space (0: none). */
int child_limits(unsigned cpu_seconds, unsigned long long as_bytes);
