/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 3: pip, never as root. A venv the deploy group can write may hold .pth files and
 * build backends that run code, so pip runs as pyshare's own unprivileged user with only the
 * app's deploy group, umask 002, an empty environment and a deadline. */
#pragma once
#include "users.h"
#include "util.h"

/* Runs PIP ARGS... as u with the single group gid. With capture, stdout/stderr are collected
 * (capped) into *ret_output; otherwise they go to ours. Returns pip's exit status (>= 0),
 * -ETIMEDOUT, or -errno. */
int pip_run(const struct ps_user *u, gid_t gid, const char *pip, char *const *args, const char *chroot_dir,
            int timeout_ms, bool capture, char **ret_output);
/* pip runs with a /tmp of its own (a fresh tmpfs, seen by no other run): the first argument
 * that names something in the host's /tmp, which pip would not find there, or NULL. */
const char *pip_arg_in_tmp(char *const *args);
