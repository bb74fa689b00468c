/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: running a program of an image (--root) without privileges on the host: root inside a
 * user namespace is an otherwise unused host id, the image is the whole file system it sees,
 * it has no capabilities, and everything it starts ends with it. */
#pragma once
#include "util.h"

/* The ids tried for the sandbox, above every 16-bit id and below the subordinate ids useradd
 * hands out (SUB_UID_MIN 100000) and the container ranges of systemd (524288 up). */
#define SANDBOX_ID_FIRST 65536U
#define SANDBOX_ID_LAST 99999U

/* An id, used as uid and as gid, that no user, no group, no subordinate id range
 * (/etc/subuid, /etc/subgid) and no running process has. -EUSERS when every one is taken.
 * Only one pyshare runs at a time (its lock), so the id stays unused while pyshare uses it. */
int sandbox_pick_id(uid_t *ret_id);

/* Runs argv (a path in the image) with root_dir as the whole file system it sees: a new user
 * namespace whose root is host uid and gid `id` (no supplementary groups), a new mount
 * namespace pivoted into root_dir with the host's root detached, init of a new PID namespace,
 * no capabilities (bounding set emptied, NOROOT securebits), no new privileges, device nodes
 * and set-uid bits of the image ignored (nodev, nosuid), a fresh tmpfs on the image's /tmp
 * that no other run sees, from its /, with env (NULL:
 * run_command's fixed environment) and run_command's output capture. Returns as run_command does. */
int sandbox_run(char *const argv[], char *const env[], const char *root_dir, uid_t id, int timeout_ms,
                char **ret_output);
