/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: fd-based file work: trusted directories, atomic writes, bounded reads, removal that
 * never follows a symlink, the machine-wide lock. */
#pragma once
#include "util.h"
#include <sys/stat.h>

/* Opens the directory rel (relative, "a/b/c") below rootfd, one component at a time with
 * O_NOFOLLOW. With mkdir_mode != 0 missing components are created root:root with that mode
 * (in dry_run they are not, and *ret_fd is -1 with 0 returned). With trusted, each component
 * must be owned by root and not writable by group or others (-EPERM otherwise, the offending
 * component's path relative to rootfd in *ret_bad when ret_bad is given). */
int dir_open(int rootfd, const char *rel, mode_t mkdir_mode, bool trusted, bool dry_run, int *ret_fd,
             char **ret_bad);

/* Reads a regular file of at most max bytes: the name is pinned O_PATH|O_NOFOLLOW and checked
 * with fstat before the pinned inode is opened, so a FIFO, device node or symlink is never
 * opened. -EFBIG when larger, -EINVAL when not a regular file. The result is NUL-terminated. */
int file_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct stat *ret_st);
/* The same for an inode pinned with O_PATH (pin stays open). */
int file_read_pinned(int pin, size_t max, char **ret, size_t *ret_len, struct stat *ret_st);

/* Writes content to dirfd/name as root:root with mode: temporary file, fsync, rename, fsync of
 * the directory. A file that already has this content, owner and mode is not touched
 * (*ret_changed false). dirfd -1 means the directory does not exist yet (dry run). */
int file_write_atomic(int dirfd, const char *name, const char *content, size_t len, mode_t mode, bool dry_run,
                      bool *ret_changed);

/* Removes dirfd/name if present (a regular file or symlink; never follows). */
int file_remove_at(int dirfd, const char *name, bool dry_run, bool *ret_removed);

/* Removes dirfd/name and everything below, fd-based, never following a symlink, never crossing
 * into another mount (-EXDEV; -EOPNOTSUPP when the kernel gives no mount id to compare), at
 * most 512 levels deep (-ELOOP). */
int rmtree_at(int dirfd, const char *name);

/* The mount id of dirfd/name (or of dirfd itself with name ""), without following. */
int mount_id_at(int dirfd, const char *name, unsigned long long *ret);

/* Takes the exclusive machine-wide lock, waiting up to timeout_sec; waiting() is called once
 * when another process holds it. -ETIMEDOUT when it stays taken. */
int lock_take(const char *path, int timeout_sec, void (*waiting)(void), int *ret_fd);
