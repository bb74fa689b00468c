/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 1: fd-based file work: trusted directories, atomic writes, bounded reads, removal that
 * never follows a symlink, the machine-wide lock. */
#pragma once
#include "util.h"
#include <dirent.h>
#include <sys/stat.h>

/* How dir_open opens: NULL means none of these. */
struct dir_opts {
        mode_t mkdir_mode; /* != 0: create missing components root:root with this mode */
        bool trusted;      /* each component owned by root and not writable by group or others */
        bool dry_run;      /* create nothing: *ret_fd is -1 (and 0 returned) where it would */
};

/* Opens the directory rel (relative, "a/b/c") below rootfd, one component at a time with
 * O_NOFOLLOW. With mkdir_mode missing components are created (in dry_run they are not, and
 * *ret_fd is -1 with 0 returned). With trusted, a component of another owner or writable by
 * group or others gives -EPERM, and its path relative to rootfd in *ret_bad when ret_bad is
 * given. */
int dir_open(int rootfd, const char *rel, const struct dir_opts *o, int *ret_fd, char **ret_bad);

/* A stream over the entries of dirfd from the start, on an fd of its own (dirfd itself is left
 * as it was); NULL with errno set when it cannot be had. */
DIR *dir_stream_at(int dirfd);
/* The names in dirfd that end with suffix (all but "." and ".." with NULL), in directory
 * order, through dir_stream_at; a failed readdir is an error, not the end. */
int dir_list_at(int dirfd, const char *suffix, char ***ret);

/* Makes dirfd/name a symlink to target unless it is one already (*ret_changed false); in
 * dry_run it only tells. */
int symlink_ensure_at(int dirfd, const char *name, const char *target, bool dry_run, bool *ret_changed);

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
