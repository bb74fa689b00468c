/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: POSIX ACLs — the ones pyshare wants, reading and comparing them cheaply as the
 * kernel's xattr blobs, writing them through libacl on a pinned fd, and evaluating what a user
 * may do with an entry. All ACL logic lives here. */
#pragma once
#include "util.h"
#include <stdint.h>
#include <sys/stat.h>

#define ACL_R 4u
#define ACL_W 2u
#define ACL_X 1u

#define ACL_MORE_USERS_MAX 7 /* named users besides the first: eight readers of one tree at most */

/* An ACL with the three base entries, named users (user, then more_users, all with user_perm),
 * one named group, and a computed mask. */
struct acl_want {
        unsigned owner, group_obj, other; /* user::, group::, other:: */
        uid_t user;
        unsigned user_perm;
        uid_t more_users[ACL_MORE_USERS_MAX]; /* distinct, none equal to user */
        size_t n_more;
        gid_t group;
        unsigned group_perm;
};

#define ACL_XATTR_MAX 512 /* enough for the ACLs pyshare reads; longer ones compare unequal */

/* The mask acl_calc_mask would compute: the union of group::, named users and named groups. */
unsigned acl_want_mask(const struct acl_want *w);
/* The canonical system.posix_acl_* xattr of w, as the kernel returns it. */
size_t acl_want_xattr(const struct acl_want *w, uint8_t buf[ACL_XATTR_MAX]);
/* Reads an ACL xattr of dirfd/name without following a final symlink ("" for the inode behind
 * dirfd itself, an O_PATH fd included). Absent: 0 bytes. Too large: ACL_XATTR_MAX + 1. */
int acl_read_at(int dirfd, const char *name, bool default_acl, uint8_t buf[ACL_XATTR_MAX], size_t *ret_len);
/* Writes the access ACL (and, with dflt, the default ACL) on the inode behind pinned fd (an
 * O_PATH fd is fine) through /proc/self/fd, with the mask computed by libacl. */
int acl_apply_fd(int fd, const struct acl_want *access, const struct acl_want *dflt);
/* 0 when the filesystem of the directory fd supports POSIX ACLs, -EOPNOTSUPP when not. */
int acl_supported_fd(int dirfd);
/* Whether uid (with groups gids) gets all of want on an inode with this owner, group, mode and
 * access ACL xattr (len 0: no ACL), by the kernel's rules (owner, named user & mask, groups &
 * mask, other). */
bool acl_allows(uid_t owner, gid_t group, mode_t mode, const uint8_t *xattr, size_t len, uid_t uid,
                const gid_t *gids, size_t ngids, unsigned want);
/* "u::rw-,u:www-data:r--,g::r--,m::r--,o::---" for messages; "none" without an ACL, and for a
 * symlink, which is not followed. */
char *acl_text_at(int dirfd, const char *name);
/* Gives uid search permission (x) on the directory behind pinned fd through its named-user
 * entry (created when missing), keeping every other entry; an existing mask only gains x. */
int acl_grant_search_fd(int fd, uid_t uid);
