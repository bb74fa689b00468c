/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "acl.h"

#include <acl/libacl.h>
#include <fcntl.h>
#include <sys/acl.h>
#include <sys/xattr.h>

#define XATTR_ACCESS "system.posix_acl_access"
#define XATTR_DEFAULT "system.posix_acl_default"

enum { TAG_USER_OBJ = 0x01, TAG_USER = 0x02, TAG_GROUP_OBJ = 0x04, TAG_GROUP = 0x08, TAG_MASK = 0x10, TAG_OTHER = 0x20 };

unsigned acl_want_mask(const struct acl_want *w) { return w->group_obj | w->user_perm | w->group_perm; }

static size_t put_entry(uint8_t *p, unsigned tag, unsigned perm, uint32_t id)
{
        p[0] = (uint8_t)tag;
        p[1] = (uint8_t)(tag >> 8);
        p[2] = (uint8_t)perm;
        p[3] = 0;
        p[4] = (uint8_t)id;
        p[5] = (uint8_t)(id >> 8);
        p[6] = (uint8_t)(id >> 16);
        p[7] = (uint8_t)(id >> 24);
        return 8;
}

/* The named users of w in the kernel's order (ascending ids); returns how many. */
static size_t named_users(const struct acl_want *w, uid_t ret[1 + ACL_MORE_USERS_MAX])
{
        size_t n = 0;
        ret[n++] = w->user;
        for (size_t i = 0; i < w->n_more && i < ACL_MORE_USERS_MAX; i++) {
                size_t j = n++;
                for (; j > 0 && ret[j - 1] > w->more_users[i]; j--)
                        ret[j] = ret[j - 1];
                ret[j] = w->more_users[i];
        }
        return n;
}

size_t acl_want_xattr(const struct acl_want *w, uint8_t buf[ACL_XATTR_MAX])
{
        const uint32_t undef = UINT32_MAX;
        uid_t users[1 + ACL_MORE_USERS_MAX];
        size_t nu = named_users(w, users);
        size_t n = 0;
        buf[n++] = 2; /* POSIX_ACL_XATTR_VERSION, little endian */
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        n += put_entry(buf + n, TAG_USER_OBJ, w->owner, undef);
        for (size_t i = 0; i < nu; i++)
                n += put_entry(buf + n, TAG_USER, w->user_perm, (uint32_t)users[i]);
        n += put_entry(buf + n, TAG_GROUP_OBJ, w->group_obj, undef);
        n += put_entry(buf + n, TAG_GROUP, w->group_perm, (uint32_t)w->group);
        n += put_entry(buf + n, TAG_MASK, acl_want_mask(w), undef);
        n += put_entry(buf + n, TAG_OTHER, w->other, undef);
        return n;
}

int acl_read_at(int dirfd, const char *name, bool default_acl, uint8_t buf[ACL_XATTR_MAX], size_t *ret_len)
{
        char path[64 + 256];
        ssize_t k;
        const char *attr = default_acl ? XATTR_DEFAULT : XATTR_ACCESS;
        if (*name) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
                k = lgetxattr(path, attr, buf, ACL_XATTR_MAX);
        } else {
                /* Through /proc rather than fgetxattr, which refuses an O_PATH fd. */
                snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
                k = getxattr(path, attr, buf, ACL_XATTR_MAX);
        }
        if (k < 0) {
                if (errno == ENODATA) {
                        *ret_len = 0;
                        return 0;
                }
                if (errno == ERANGE) {
                        *ret_len = ACL_XATTR_MAX + 1;
                        return 0;
                }
                return -errno;
        }
        *ret_len = (size_t)k;
        return 0;
}

static int add_entry(acl_t *acl, acl_tag_t tag, const void *qualifier, unsigned perm)
{
        acl_entry_t e;
        acl_permset_t ps;
        if (acl_create_entry(acl, &e) < 0 || acl_set_tag_type(e, tag) < 0)
                return -errno;
        if (qualifier && acl_set_qualifier(e, qualifier) < 0)
                return -errno;
        if (acl_get_permset(e, &ps) < 0 || acl_clear_perms(ps) < 0)
                return -errno;
        if (((perm & ACL_R) && acl_add_perm(ps, ACL_READ) < 0) || ((perm & ACL_W) && acl_add_perm(ps, ACL_WRITE) < 0) ||
            ((perm & ACL_X) && acl_add_perm(ps, ACL_EXECUTE) < 0))
                return -errno;
        return 0;
}

static int acl_build(const struct acl_want *w, acl_t *ret)
{
        uid_t users[1 + ACL_MORE_USERS_MAX];
        size_t nu = named_users(w, users);
        acl_t acl = acl_init((int)(5 + nu));
        if (!acl)
                return -errno;
        int r = 0;
        for (size_t i = 0; i < nu && r >= 0; i++)
                r = add_entry(&acl, ACL_USER, &users[i], w->user_perm);
        if (r < 0 || (r = add_entry(&acl, ACL_USER_OBJ, NULL, w->owner)) < 0 ||
            (r = add_entry(&acl, ACL_GROUP_OBJ, NULL, w->group_obj)) < 0 ||
            (r = add_entry(&acl, ACL_GROUP, &w->group, w->group_perm)) < 0 ||
            (r = add_entry(&acl, ACL_OTHER, NULL, w->other)) < 0)
                goto fail;
        if (acl_calc_mask(&acl) < 0 || acl_valid(acl) < 0) {
                r = -errno ? -errno : -EINVAL;
                goto fail;
        }
        *ret = acl;
        return 0;
fail:
        acl_free(acl);
        return r;
}

int acl_apply_fd(int fd, const struct acl_want *access, const struct acl_want *dflt)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        acl_t a = NULL;
        int r = acl_build(access, &a);
        if (r < 0)
                return r;
        if (acl_set_file(path, ACL_TYPE_ACCESS, a) < 0)
                r = -errno;
        acl_free(a);
        if (r < 0 || !dflt)
                return r;
        r = acl_build(dflt, &a);
        if (r < 0)
                return r;
        if (acl_set_file(path, ACL_TYPE_DEFAULT, a) < 0)
                r = -errno;
        acl_free(a);
        return r;
}

int acl_supported_fd(int dirfd)
{
        uint8_t buf[ACL_XATTR_MAX];
        if (fgetxattr(dirfd, XATTR_ACCESS, buf, sizeof(buf)) >= 0 || errno == ENODATA || errno == ERANGE)
                return 0;
        return errno == ENOTSUP ? -EOPNOTSUPP : -errno;
}

static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static bool in_groups(gid_t g, const gid_t *gids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (gids[i] == g)
                        return true;
        return false;
}

bool acl_allows(uid_t owner, gid_t group, mode_t mode, const uint8_t *xattr, size_t len, uid_t uid,
                const gid_t *gids, size_t ngids, unsigned want)
{
        if (uid == owner)
                return ((mode >> 6) & want) == want;
        if (len < 4 || len > ACL_XATTR_MAX || (len - 4) % 8 != 0) {
                if (in_groups(group, gids, ngids))
                        return ((mode >> 3) & want) == want;
                return (mode & want) == want;
        }
        unsigned mask = 7, other = 0;
        bool have_user = false, group_matched = false, group_granted = false;
        unsigned user_perm = 0;
        for (size_t off = 4; off + 8 <= len; off += 8) {
                unsigned tag = xattr[off] | (unsigned)xattr[off + 1] << 8;
                unsigned perm = xattr[off + 2] & 7;
                uint32_t id = le32(xattr + off + 4);
                if (tag == TAG_MASK)
                        mask = perm;
                else if (tag == TAG_OTHER)
                        other = perm;
                else if (tag == TAG_USER && id == uid) {
                        have_user = true;
                        user_perm = perm;
                } else if ((tag == TAG_GROUP_OBJ && in_groups(group, gids, ngids)) ||
                           (tag == TAG_GROUP && in_groups((gid_t)id, gids, ngids))) {
                        group_matched = true;
                        group_granted = group_granted || (perm & want) == want;
                }
        }
        if (have_user)
                return (user_perm & mask & want) == want;
        if (group_matched) {
                if (!group_granted)
                        return false;
                return (mask & want) == want;
        }
        return (other & want) == want;
}

char *acl_text_at(int dirfd, const char *name)
{
        /* Pinned without following, and read through /proc/self/fd like acl_apply_fd writes:
         * a path through dirfd/name would follow a planted symlink to what it points at. A
         * symlink itself carries no ACL. */
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || S_ISLNK(st.st_mode))
                return xstrdup("none");
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
        if (!acl)
                return xstrdup("none");
        char *s = NULL;
        if (acl_equiv_mode(acl, NULL) == 0)
                s = xstrdup("none");
        else {
                char *t = acl_to_any_text(acl, NULL, ',', TEXT_ABBREVIATE);
                s = xstrdup(t ? t : "?");
                acl_free(t);
        }
        acl_free(acl);
        return s;
}

int acl_grant_search_fd(int fd, uid_t uid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
        if (!acl)
                return -errno;
        int r = 0;
        acl_entry_t e, user_entry = NULL, mask_entry = NULL;
        for (int w = ACL_FIRST_ENTRY; acl_get_entry(acl, w, &e) == 1; w = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                if (acl_get_tag_type(e, &tag) < 0)
                        goto fail_errno;
                if (tag == ACL_MASK)
                        mask_entry = e;
                else if (tag == ACL_USER) {
                        uid_t *q = acl_get_qualifier(e);
                        if (q && *q == uid)
                                user_entry = e;
                        acl_free(q);
                }
        }
        if (!user_entry) {
                if (acl_create_entry(&acl, &user_entry) < 0 || acl_set_tag_type(user_entry, ACL_USER) < 0 ||
                    acl_set_qualifier(user_entry, &uid) < 0)
                        goto fail_errno;
                acl_permset_t empty;
                if (acl_get_permset(user_entry, &empty) < 0 || acl_clear_perms(empty) < 0)
                        goto fail_errno;
        }
        acl_permset_t ps;
        if (acl_get_permset(user_entry, &ps) < 0 || acl_add_perm(ps, ACL_EXECUTE) < 0)
                goto fail_errno;
        /* The mask of an ACL that has one only gains x: recomputing it could widen what other
         * named entries get, on a directory that is not pyshare's. A minimal ACL gets the
         * mask libacl computes, which is then group:: plus x. */
        if (mask_entry) {
                acl_permset_t mps;
                if (acl_get_permset(mask_entry, &mps) < 0 || acl_add_perm(mps, ACL_EXECUTE) < 0)
                        goto fail_errno;
        } else if (acl_calc_mask(&acl) < 0)
                goto fail_errno;
        if (acl_valid(acl) < 0 || acl_set_file(path, ACL_TYPE_ACCESS, acl) < 0)
                goto fail_errno;
        acl_free(acl);
        return 0;
fail_errno:
        r = errno ? -errno : -EINVAL;
        acl_free(acl);
        return r;
}
