/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: where a virtualenv may live. A prefix is only as safe as its least safe ancestor:
 * whoever owns or may write a directory on the way can swap what root works on between two
 * of its steps (sshd's StrictModes rule). System directories are never a prefix. */
#pragma once
#include "util.h"
#include <sys/stat.h>

/* What the messages name as the fix: pyshare's own prefix, which setup creates root:root 0755. */
#define PREFIX_DEFAULT "/opt/pyshare"

/* The exact directories never used as a prefix, after normalising (their subdirectories follow
 * the ownership rule). */
bool prefix_reserved(const char *prefix);

enum prefix_why {
        PREFIX_RESERVED, /* one of the exact system directories */
        PREFIX_OWNER,    /* a component owned by a user other than root */
        PREFIX_WRITABLE, /* a component writable by group or others without the sticky bit */
        PREFIX_NOT_DIR,  /* a component is a symlink or not a directory: nothing follows it */
        PREFIX_MISSING,  /* a component does not exist (PREFIX_OPEN_EXISTING) */
};

struct prefix_problem {
        enum prefix_why why;
        char *path;  /* the component, absolute below the root ("/" for the root itself) */
        uid_t uid;   /* its owner and mode (PREFIX_OWNER, PREFIX_WRITABLE) */
        gid_t gid;
        mode_t mode;
};
void prefix_problem_free(struct prefix_problem *p);

enum prefix_open_mode {
        PREFIX_OPEN_CHECK,    /* stop at the first missing component: *ret_fd -1, 0 returned */
        PREFIX_OPEN_CREATE,   /* create missing components root:root 0755 */
        PREFIX_OPEN_EXISTING, /* a missing component is a problem (PREFIX_MISSING) */
};

/* Walks prefix from rootfd (the root itself included), each component pinned with
 * openat(previous, name, O_PATH|O_NOFOLLOW|O_DIRECTORY) and judged by fstat on that fd, so
 * that what is checked is what is used; returns an O_RDONLY fd of the prefix itself in
 * *ret_fd. Nothing existing is ever chowned or chmodded. A refused prefix: -PS_E_INVALID
 * (-ENOTDIR for PREFIX_NOT_DIR, -ENOENT for PREFIX_MISSING) with *ret_problem filled; other
 * errors -errno. *ret_created (may be NULL): whether this call created the prefix itself. */
int prefix_open(int rootfd, const char *prefix, enum prefix_open_mode mode, int *ret_fd, bool *ret_created,
                struct prefix_problem *ret_problem);

/* One sentence that names the component, its owner and mode, why that is refused and the fix
 * (PREFIX_DEFAULT); shown_root is prepended to paths (--root), or NULL. */
/* ids_rootfd: where owners are named (-1 the host, the image under --root). */
char *prefix_problem_text(const struct prefix_problem *p, const char *prefix, const char *shown_root, int ids_rootfd);
