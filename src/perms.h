/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: what a shared environment's tree must look like (owner, group, mode, ACLs), putting
 * it right in one walk, and finding what a user cannot read. */
#pragma once
#include "fswalk.h"
#include "util.h"

struct perms_target {
        uid_t user;  /* the service user: reads */
        gid_t group; /* the deploy group: writes */
        const uid_t *more_users; /* other readers (distinct, none equal to user), at most
                                  * ACL_MORE_USERS_MAX */
        size_t n_more;
};

#define PERMS_NOTES_MAX 8
#define PERMS_CHANGES_MAX 20

/* One entry that the walk changed (or, dry, would change), as `chmod -c` names it. */
struct perms_change {
        char *path;
        uid_t uid, new_uid;
        gid_t gid, new_gid;
        mode_t mode, new_mode; /* permission and set-id bits; when all is equal, the ACL differed */
};

struct perms_stats {
        unsigned long entries, changed;
        unsigned long skipped[_WALK_SKIP_MAX];
        unsigned long hardlinks; /* regular files with more than one link, left alone */
        unsigned long errors;    /* entries that could not be changed */
        unsigned long unproven;  /* entries left as they were whose layout does not prove that
                                  * every reader may read them: hard links, and files owned by a
                                  * reader without the owner's r bit */
        char *notes[PERMS_NOTES_MAX]; /* the first skipped or failed paths, with the reason */
        size_t n_notes;
        struct perms_change changes[PERMS_CHANGES_MAX]; /* the first of the changed entries */
        size_t n_changes;
};

void perms_stats_free(struct perms_stats *s);
#define _cleanup_perms_stats_ _cleanup_(perms_stats_free)

/* Directories root:GROUP 2770; files keep their owner, get GROUP, group rw (rwx when
 * executable), nothing for others, no set-id bits; access ACL u:USER:r-x,g:GROUP:rwx
 * (directories and executables) or u:USER:r--,g:GROUP:rw-; directories also the default ACL
 * u::rwx,u:USER:r-x,g::rwx,g:GROUP:rwx,o::---. An entry already right is not touched. */
int perms_apply(int parentfd, const char *name, const char *path, const struct perms_target *t, bool dry_run,
                struct perms_stats *st);

struct perms_finding {
        char *path;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        char *acl;  /* text of the access ACL, "none" without one */
        bool is_dir;
        bool outside; /* an ancestor outside the tree */
        bool symlink; /* the ancestor is a symlink: not followed, so the tree was not checked */
};

void perms_findings_free(struct perms_finding *f, size_t n);

/* A directory above a tree, as perms_walk_ancestors hands it over. */
struct perms_ancestor {
        int fd;             /* pinned O_PATH|O_NOFOLLOW: the inode looked at */
        int parentfd;       /* the directory it was found in */
        const char *name;   /* its name there */
        const char *path;   /* its path below the root, for messages */
        struct stat st;     /* of fd; a symlink when the walk ends at one */
};
typedef int (*perms_ancestor_fn)(const struct perms_ancestor *an, void *userdata);

/* Walks the directories above path's last component from rootfd down, each pinned without
 * following, and calls fn for every one that uid (with groups gids) cannot search, and for a
 * component that is a symlink (where the walk ends: nothing is followed). fn < 0 stops the
 * walk and is returned. *ret_parentfd: the pinned tree's parent when every component was a
 * directory, else -1. */
int perms_walk_ancestors(int rootfd, const char *path, uid_t uid, const gid_t *gids, size_t ngids,
                         perms_ancestor_fn fn, void *userdata, int *ret_parentfd);

/* Lists up to max entries that uid (with groups gids) cannot reach: the ancestors of the path
 * (search permission; a symlinked ancestor is listed with symlink set and ends the search),
 * then inside the tree directories without r-x and files without r. */
int perms_find_unreadable(const char *path, uid_t uid, const gid_t *gids, size_t ngids, size_t max,
                          struct perms_finding **ret, size_t *ret_n);
/* The same for the ancestors only: for a tree that a walk of perms_apply found in pyshare's
 * layout with nothing unproven, where every reader may read every entry. */
int perms_find_unreadable_above(const char *path, uid_t uid, const gid_t *gids, size_t ngids, size_t max,
                                struct perms_finding **ret, size_t *ret_n);

#define PERMS_SYMLINKS_MAX 40 /* symlinks followed in one lookup, as the kernel's MAXSYMLINKS */

/* Whether uid (with groups gids, the primary one included) can use the absolute path as a
 * PYTHONPATH entry, decided by that user's permissions and never root's: search permission
 * (mode bits and access ACL, by the kernel's rules) on every directory the lookup passes, r-x
 * on the directory it ends at (r on a regular file). The path is looked up below rootfd as if
 * rootfd were / : each component pinned O_PATH|O_NOFOLLOW, a symlink read and its target
 * walked the same way (an absolute one from rootfd again, ".." never above it, at most
 * PERMS_SYMLINKS_MAX; refused where fs.protected_symlinks would refuse it, and on /proc,
 * whose links mean something else for every process). Each component looked up costs one of
 * *budget. 0 and *ret_st when usable; -EACCES when the user cannot search its way there or
 * read it; -ENOENT, -ENOTDIR, -ELOOP when it is not there for that user; -EINVAL when it is
 * neither a directory nor a regular file; -ENOBUFS when *budget ran out. ret_st may be NULL. */
int perms_user_reach(int rootfd, const char *path, uid_t uid, const gid_t *gids, size_t ngids, unsigned *budget,
                     struct stat *ret_st);
