/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: users and groups — looked up on the host through NSS, or in an image's own
 * /etc/passwd and /etc/group (--root), and the deploy group's creation. */
#pragma once
#include "util.h"

struct ps_user {
        char *name;
        uid_t uid;
        gid_t gid;
        char *home;
};

void ps_user_free(struct ps_user *u);
/* A uid or gid as /etc/passwd writes it (decimal, below 2^32-1); -EINVAL otherwise. */
int id_parse(const char *s, unsigned *ret);

/* rootfd < 0: the host (getpwnam_r/getgrnam_r); otherwise the files below rootfd.
 * -PS_E_NOTFOUND when there is no such user/group. */
int user_lookup(int rootfd, const char *name, struct ps_user *ret);
int group_lookup(int rootfd, const char *name, gid_t *ret_gid, char ***ret_members);
/* The name of uid (gid): on the host (rootfd < 0), or in the image's own /etc/passwd
 * (/etc/group) for a file that belongs to the image; the number when it has none. */
char *user_name_of(int rootfd, uid_t uid);
char *group_name_of(int rootfd, gid_t gid);
/* Whether u belongs to group gid (primary group or listed member). */
int user_in_group(int rootfd, const struct ps_user *u, gid_t gid, bool *ret);
/* The user's supplementary groups as initgroups() would set them (host only). */
int user_groups(const struct ps_user *u, gid_t **ret, size_t *ret_n);
/* The same on the host (rootfd < 0); in an image, its primary group and every group of the
 * image's /etc/group that lists it (the primary group first). */
int user_groups_at(int rootfd, const struct ps_user *u, gid_t **ret, size_t *ret_n);
/* groupadd --system NAME. */
int group_create_system(const char *name, char **ret_output);
