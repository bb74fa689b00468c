/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: a physical walk of a tree that others can write (HACKING.md, "Security rules"):
 * each child is looked at relative to its parent's fd without following, directories are
 * opened O_NOFOLLOW and checked against what was looked at, the walk stays on the starting
 * mount, is bounded in depth and iterates with memory proportional to depth. */
#pragma once
#include "util.h"
#include <sys/stat.h>

struct walk_entry {
        int dirfd;        /* the parent directory */
        const char *name; /* the entry's name in dirfd */
        const char *path; /* for messages only */
        struct statx stx;
        int fd;           /* directories: the directory, opened and verified; otherwise -1 */
        unsigned depth;   /* 0 for the top */
};

enum walk_skip {
        WALK_SKIP_SYMLINK,
        WALK_SKIP_SPECIAL, /* FIFO, socket, device node */
        WALK_SKIP_MOUNT,   /* on another mount than the top */
        WALK_SKIP_DEPTH,   /* deeper than the bound */
        WALK_SKIP_CHANGED, /* replaced between the look and the open */
        WALK_SKIP_ERROR,   /* could not be looked at or opened (err says why) */
        _WALK_SKIP_MAX,
};

struct walk_ops {
        /* Called for the top, every directory (before its children) and every regular file.
         * Returns < 0 to stop the walk, 1 to not descend into a directory, 0 to go on. */
        int (*entry)(const struct walk_entry *e, void *userdata);
        void (*skipped)(const struct walk_entry *e, enum walk_skip why, int err, void *userdata);
};

#define WALK_MAX_DEPTH 128

/* Walks parentfd/name (a directory; path names it in messages). -ENOTDIR when the top is not a
 * directory, -errno when it cannot be opened. */
int fswalk(int parentfd, const char *name, const char *path, const struct walk_ops *ops, void *userdata);

/* An O_PATH fd on e's inode, verified to be the inode that was looked at (-ESTALE if not). */
int walk_pin(const struct walk_entry *e, int *ret_fd);

/* chmod of the inode behind any fd, O_PATH included: fchmodat2(AT_EMPTY_PATH) where the kernel
 * has it (6.6+), /proc/self/fd otherwise. */
int chmod_fd(int fd, mode_t mode);

const char *walk_skip_name(enum walk_skip why);
