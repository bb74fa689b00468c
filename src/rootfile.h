/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: reading the configuration of a system that may be an image: paths are resolved
 * inside a root directory fd, symlinks included (an absolute link in an image points into the
 * image, never to the host), and every read is bounded. */
#pragma once
#include "util.h"
#include <sys/stat.h>

/* Opens path (absolute or relative; resolved below rootfd, ".." never leaving it) with flags
 * (O_PATH, O_DIRECTORY, ...; O_CLOEXEC is added). */
int root_open(int rootfd, const char *path, int flags, int *ret_fd);
/* Reads the regular file at path below rootfd, at most max bytes (-EFBIG when larger,
 * -EINVAL when not a regular file); a FIFO or device is never opened. NUL-terminated. */
int root_read_file(int rootfd, const char *path, size_t max, char **ret, size_t *ret_len, struct stat *ret_st);
/* The file type and status of path below rootfd, symlinks followed inside the root. */
int root_stat(int rootfd, const char *path, struct stat *ret);
/* The names in the directory path below rootfd, sorted, at most max of them (the rest is not
 * read); with pattern, only those it matches with FNM_PERIOD, as httpd's Include matches
 * (a leading dot only by a dot). The list is never NULL. */
int root_list_dir(int rootfd, const char *path, const char *pattern, size_t max, char ***ret);
