/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: pip, never as root. A venv the deploy group can write may hold .pth files and
 * build backends that run code, so pip runs as pyshare's own unprivileged user with only the
 * app's deploy group, umask 002, an empty environment and a deadline: in a transient unit where
 * systemd runs, else in a PID namespace of its own (contain.c). */
#pragma once
#include "users.h"
#include "util.h"

/* Runs PIP ARGS... as u with the single group gid. With capture, stdout/stderr are collected
 * (capped) into *ret_output; otherwise they go to ours. Returns pip's exit status (>= 0),
 * -ETIMEDOUT, or -errno. */
int pip_run(const struct ps_user *u, gid_t gid, const char *pip, char *const *args, const char *chroot_dir,
            int timeout_ms, bool capture, char **ret_output);
/* The same as a transient unit (where systemd runs): User=u, Group=group, a /tmp of its own,
 * from /, with the same environment; systemd kills whatever pip left in the unit's cgroup
 * before this returns. When the unit could not be started, *ret_unit_error says why. */
int pip_run_unit(const char *user, const char *group, const char *pip, char *const *args, int timeout_ms, bool capture,
                 char **ret_output, char **ret_unit_error);
/* pip runs with a /tmp of its own (a fresh tmpfs, seen by no other run): the first argument
 * that names something in the host's /tmp, which pip would not find there, or NULL. */
const char *pip_arg_in_tmp(char *const *args);
/* Stops the pip units still running whose pyshare is gone (killed while pip ran: systemd, not
 * pyshare, holds a unit), and waits until they are; *ret_stopped names them. Only under the
 * lock, which every pip unit starts under. */
int pip_stop_leftovers(char ***ret_stopped);
