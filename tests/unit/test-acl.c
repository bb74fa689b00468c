/* SPDX-License-Identifier: GPL-2.0-or-later */
/* POSIX ACLs: the kernel's xattr blob pyshare compares against, the access decision, and a
 * real write through an O_PATH fd read back byte for byte. */
#include "acl.h"
#include "helpers.h"

#include <sys/xattr.h>

/* Ids that name nobody on a test machine; the kernel stores them all the same. */
#define UID_SVC 54321u
#define GID_DEPLOY 54322u

static const struct acl_want file_want = {
        .owner = 6, .group_obj = 6, .other = 0, .user = UID_SVC, .user_perm = 4, .group = GID_DEPLOY, .group_perm = 6,
};
static const struct acl_want dir_want = {
        .owner = 7, .group_obj = 7, .other = 0, .user = UID_SVC, .user_perm = 5, .group = GID_DEPLOY, .group_perm = 7,
};

static void test_want_xattr_bytes(void **state)
{
        (void)state;
        const struct acl_want w = {
                .owner = 6, .group_obj = 5, .other = 1, .user = 1000, .user_perm = 7, .group = 0x12345, .group_perm = 4,
        };
        static const uint8_t want[] = {
                0x02, 0x00, 0x00, 0x00,                         /* POSIX_ACL_XATTR_VERSION */
                0x01, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff, /* USER_OBJ rw-, ACL_UNDEFINED_ID */
                0x02, 0x00, 0x07, 0x00, 0xe8, 0x03, 0x00, 0x00, /* USER 1000 rwx */
                0x04, 0x00, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, /* GROUP_OBJ r-x */
                0x08, 0x00, 0x04, 0x00, 0x45, 0x23, 0x01, 0x00, /* GROUP 0x12345 r-- */
                0x10, 0x00, 0x07, 0x00, 0xff, 0xff, 0xff, 0xff, /* MASK rwx = 5|7|4 */
                0x20, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, /* OTHER --x */
        };
        uint8_t buf[ACL_XATTR_MAX];
        memset(buf, 0xaa, sizeof(buf));
        size_t n = acl_want_xattr(&w, buf);
        assert_bytes_equal(buf, n, want, sizeof(want));
        assert_int_equal(buf[n], 0xaa); /* nothing written past the end */
}

static void test_want_mask(void **state)
{
        (void)state;
        /* The union of group::, the named user and the named group; never owner or other. */
        struct acl_want w = {.owner = 7, .group_obj = 4, .other = 7, .user_perm = 2, .group_perm = 0};
        assert_int_equal(acl_want_mask(&w), 6);
        w = (struct acl_want){.owner = 7, .group_obj = 0, .other = 7, .user_perm = 0, .group_perm = 1};
        assert_int_equal(acl_want_mask(&w), 1);
        w = (struct acl_want){.owner = 7, .other = 7};
        assert_int_equal(acl_want_mask(&w), 0);
        assert_int_equal(acl_want_mask(&file_want), 6);
        assert_int_equal(acl_want_mask(&dir_want), 7);

        /* The mask lands in the blob. */
        uint8_t buf[ACL_XATTR_MAX];
        w = (struct acl_want){.owner = 7, .group_obj = 4, .other = 7, .user_perm = 2, .group_perm = 0};
        size_t n = acl_want_xattr(&w, buf);
        assert_int_equal(n, 4 + 6 * 8);
        assert_int_equal(buf[4 + 4 * 8], 0x10);
        assert_int_equal(buf[4 + 4 * 8 + 2], 6);
}

/* ---- acl_allows: the kernel's order (owner, named user & mask, groups & mask, other) ----- */

/* An ACL blob: u::OWNER, u:UID:UPERM, g::GPERM, g:GID:NGPERM, m::MASK, o::OTHER */
static size_t blob(uint8_t buf[ACL_XATTR_MAX], unsigned owner, uid_t uid, unsigned uperm, unsigned gperm, gid_t gid,
                   unsigned ngperm, unsigned mask, unsigned other)
{
        struct acl_want w = {.owner = owner, .group_obj = gperm, .other = other, .user = uid, .user_perm = uperm,
                             .group = gid, .group_perm = ngperm};
        size_t n = acl_want_xattr(&w, buf);
        buf[4 + 4 * 8 + 2] = (uint8_t)mask; /* override the computed mask */
        return n;
}

static void test_allows_no_acl(void **state)
{
        (void)state;
        const gid_t in[] = {100, 200};
        const gid_t out[] = {300};
        /* owner 1000, group 200, mode 0640 */
        assert_true(acl_allows(1000, 200, 0640, NULL, 0, 1000, out, 1, ACL_R | ACL_W));
        assert_false(acl_allows(1000, 200, 0640, NULL, 0, 1000, out, 1, ACL_X));
        assert_true(acl_allows(1000, 200, 0640, NULL, 0, 2000, in, 2, ACL_R));
        assert_false(acl_allows(1000, 200, 0640, NULL, 0, 2000, in, 2, ACL_W));
        assert_false(acl_allows(1000, 200, 0640, NULL, 0, 2000, out, 1, ACL_R));
        assert_true(acl_allows(1000, 200, 0644, NULL, 0, 2000, out, 1, ACL_R));
        assert_true(acl_allows(1000, 200, 0644, NULL, 0, 2000, NULL, 0, ACL_R));
        /* The owner class alone decides for the owner, even when others may do more. */
        assert_false(acl_allows(1000, 200, 0077, NULL, 0, 1000, in, 2, ACL_R));
        /* The group class alone decides for a member. */
        assert_false(acl_allows(1000, 200, 0707, NULL, 0, 2000, in, 2, ACL_R));
        /* A malformed blob is not an ACL: mode bits decide. */
        uint8_t junk[7] = {2, 0, 0, 0, 1, 2, 3};
        assert_true(acl_allows(1000, 200, 0604, junk, sizeof(junk), 2000, out, 1, ACL_R));
        /* want 0 is always granted. */
        assert_true(acl_allows(1000, 200, 0, NULL, 0, 2000, out, 1, 0));
}

static void test_allows_with_acl(void **state)
{
        (void)state;
        uint8_t x[ACL_XATTR_MAX];
        const gid_t deploy[] = {GID_DEPLOY};
        const gid_t owning[] = {200};
        const gid_t both[] = {200, GID_DEPLOY};
        const gid_t none[] = {999};
        size_t n;

        /* u::rw-, u:SVC:rwx, g::r--, g:DEPLOY:rw-, m::r--, o::--- (mode 0640, owner 1000:200) */
        n = blob(x, 6, UID_SVC, 7, 4, GID_DEPLOY, 6, 4, 0);
        /* Owner: u:: entry; the mask does not apply. */
        assert_true(acl_allows(1000, 200, 0640, x, n, 1000, none, 1, ACL_R | ACL_W));
        assert_false(acl_allows(1000, 200, 0640, x, n, 1000, none, 1, ACL_X));
        /* Named user: its entry limited by the mask. */
        assert_true(acl_allows(1000, 200, 0640, x, n, UID_SVC, none, 1, ACL_R));
        assert_false(acl_allows(1000, 200, 0640, x, n, UID_SVC, none, 1, ACL_W));
        assert_false(acl_allows(1000, 200, 0640, x, n, UID_SVC, none, 1, ACL_X));
        /* The named user entry wins over group entries that would give more. */
        n = blob(x, 6, UID_SVC, 0, 7, GID_DEPLOY, 7, 7, 7);
        assert_false(acl_allows(1000, 200, 0670, x, n, UID_SVC, both, 2, ACL_R));
        /* Owning group and named group, limited by the mask. */
        n = blob(x, 6, UID_SVC, 4, 6, GID_DEPLOY, 6, 4, 0);
        assert_true(acl_allows(1000, 200, 0640, x, n, 2000, owning, 1, ACL_R));
        assert_false(acl_allows(1000, 200, 0640, x, n, 2000, owning, 1, ACL_W));
        assert_true(acl_allows(1000, 200, 0640, x, n, 2000, deploy, 1, ACL_R));
        assert_false(acl_allows(1000, 200, 0640, x, n, 2000, deploy, 1, ACL_W));
        n = blob(x, 6, UID_SVC, 4, 6, GID_DEPLOY, 6, 6, 0);
        assert_true(acl_allows(1000, 200, 0660, x, n, 2000, deploy, 1, ACL_R | ACL_W));
        /* Any one matching group entry that grants all of want is enough. */
        n = blob(x, 6, UID_SVC, 4, 4, GID_DEPLOY, 6, 7, 0);
        assert_true(acl_allows(1000, 200, 0670, x, n, 2000, both, 2, ACL_R | ACL_W));
        assert_false(acl_allows(1000, 200, 0670, x, n, 2000, owning, 1, ACL_R | ACL_W));
        /* A matching group entry that does not grant denies, even when other would. */
        n = blob(x, 6, UID_SVC, 4, 0, GID_DEPLOY, 0, 7, 7);
        assert_false(acl_allows(1000, 200, 0677, x, n, 2000, deploy, 1, ACL_R));
        assert_false(acl_allows(1000, 200, 0677, x, n, 2000, owning, 1, ACL_R));
        /* Other: everyone else, no mask. */
        n = blob(x, 6, UID_SVC, 4, 6, GID_DEPLOY, 6, 0, 5);
        assert_true(acl_allows(1000, 200, 0605, x, n, 3000, none, 1, ACL_R | ACL_X));
        assert_false(acl_allows(1000, 200, 0605, x, n, 3000, none, 1, ACL_W));
        assert_true(acl_allows(1000, 200, 0605, x, n, 3000, NULL, 0, ACL_R));
}

/* ---- on a real file ------------------------------------------------------------------------ */

/* The test's directory, when its filesystem has ACLs (skipped with the reason otherwise). */
static void open_acl_dir(void **state, int *ret_fd)
{
        struct tmp *t = *state;
        int r = acl_supported_fd(t->fd);
        if (r == -EOPNOTSUPP) {
                print_message("skipped: %s has no POSIX ACL support (set PYSHARE_TEST_TMPDIR)\n", t->path);
                skip();
        }
        assert_int_equal(r, 0);
        *ret_fd = t->fd;
}

static void test_supported_var_tmp(void **state)
{
        (void)state;
        int fd = open("/var/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        int r = acl_supported_fd(fd);
        close(fd);
        if (r == -EOPNOTSUPP) {
                print_message("skipped: /var/tmp has no POSIX ACL support\n");
                skip();
        }
        assert_int_equal(r, 0);
}

static void test_supported_proc_refused(void **state)
{
        (void)state;
        /* procfs has no ACLs: the "said loudly" case. */
        int fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(acl_supported_fd(fd), -EOPNOTSUPP);
        close(fd);
}

static void test_apply_read_back_file(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        write_file(dirfd, "f", "data\n");
        check_errno(fchmodat(dirfd, "f", 0600, 0));

        /* No ACL yet: 0 bytes, and "none" in messages. */
        uint8_t cur[ACL_XATTR_MAX];
        size_t cn = 99;
        assert_int_equal(acl_read_at(dirfd, "f", false, cur, &cn), 0);
        assert_int_equal(cn, 0);
        _cleanup_free_ char *none = acl_text_at(dirfd, "f");
        assert_string_equal(none, "none");

        int pfd = openat(dirfd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        assert_int_equal(acl_apply_fd(pfd, &file_want, NULL), 0);

        uint8_t want[ACL_XATTR_MAX];
        size_t wn = acl_want_xattr(&file_want, want);
        assert_int_equal(acl_read_at(dirfd, "f", false, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);

        /* The group bits of the mode are the mask now. */
        struct stat st;
        assert_int_equal(fstat(pfd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0660);

        /* What the file says matches what acl_allows decides from the blob. */
        const gid_t deploy[] = {GID_DEPLOY}, none_g[] = {999};
        assert_true(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, UID_SVC, none_g, 1, ACL_R));
        assert_false(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, UID_SVC, none_g, 1, ACL_W));
        assert_true(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, 777, deploy, 1, ACL_R | ACL_W));
        assert_false(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, 777, none_g, 1, ACL_R));

        /* Text for messages. */
        _cleanup_free_ char *text = acl_text_at(dirfd, "f");
        _cleanup_free_ char *want_text =
                xasprintf("u::rw-,u:%u:r--,g::rw-,g:%u:rw-,m::rw-,o::---", UID_SVC, GID_DEPLOY);
        assert_string_equal(text, want_text);

        /* Applying again changes nothing: the comparison a no-op repair relies on. */
        assert_int_equal(acl_apply_fd(pfd, &file_want, NULL), 0);
        assert_int_equal(acl_read_at(dirfd, "f", false, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);
        /* A file has no default ACL. */
        assert_int_equal(acl_read_at(dirfd, "f", true, cur, &cn), 0);
        assert_int_equal(cn, 0);
        close(pfd);
}

static void test_apply_read_back_dir(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        check_errno(mkdirat(dirfd, "d", 0700));
        int pfd = openat(dirfd, "d", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        const struct acl_want dflt = {.owner = 7, .group_obj = 7, .other = 0, .user = UID_SVC, .user_perm = 5,
                                      .group = GID_DEPLOY, .group_perm = 7};
        assert_int_equal(acl_apply_fd(pfd, &dir_want, &dflt), 0);

        uint8_t cur[ACL_XATTR_MAX], want[ACL_XATTR_MAX];
        size_t cn, wn;
        wn = acl_want_xattr(&dir_want, want);
        assert_int_equal(acl_read_at(dirfd, "d", false, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);
        wn = acl_want_xattr(&dflt, want);
        assert_int_equal(acl_read_at(dirfd, "d", true, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);

        /* "" reads the directory itself through a real fd. */
        int dfd = openat(dirfd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(acl_read_at(dfd, "", true, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);

        /* A file created inside inherits the default ACL (what setup relies on for new files). */
        int f = openat(dfd, "new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        assert_true(f >= 0);
        close(f);
        assert_int_equal(acl_read_at(dfd, "new", false, cur, &cn), 0);
        assert_true(cn > 0);
        const gid_t deploy[] = {GID_DEPLOY}, none_g[] = {999};
        struct stat st;
        assert_int_equal(fstatat(dfd, "new", &st, 0), 0);
        assert_true(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, 777, deploy, 1, ACL_R | ACL_W));
        assert_true(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, UID_SVC, none_g, 1, ACL_R));
        assert_false(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, UID_SVC, none_g, 1, ACL_W));
        assert_false(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, 888, none_g, 1, ACL_R));
        close(dfd);
        close(pfd);
}

/* A differing ACL (another user) reads back different bytes: the comparison can fail. */
static void test_read_detects_difference(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        write_file(dirfd, "f", "x");
        int pfd = openat(dirfd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        struct acl_want other = file_want;
        other.user = UID_SVC + 10;
        assert_int_equal(acl_apply_fd(pfd, &other, NULL), 0);
        uint8_t cur[ACL_XATTR_MAX], want[ACL_XATTR_MAX];
        size_t cn, wn = acl_want_xattr(&file_want, want);
        assert_int_equal(acl_read_at(dirfd, "f", false, cur, &cn), 0);
        assert_int_equal(cn, wn);
        assert_memory_not_equal(cur, want, wn);
        close(pfd);
}

/* Several named users: written in any order, they read back as the kernel stores them
 * (ascending uids), each with the readers' permission, and each may read. */
static void test_apply_several_users(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        write_file(dirfd, "f", "x");
        int pfd = openat(dirfd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        struct acl_want w = file_want;
        w.user = UID_SVC + 20;
        w.more_users[0] = UID_SVC + 30;
        w.more_users[1] = UID_SVC;
        w.n_more = 2;
        assert_int_equal(acl_apply_fd(pfd, &w, NULL), 0);
        uint8_t cur[ACL_XATTR_MAX], want[ACL_XATTR_MAX];
        size_t cn, wn = acl_want_xattr(&w, want);
        assert_int_equal(wn, 4 + 8 * 8);
        assert_int_equal(acl_read_at(dirfd, "f", false, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);
        const gid_t none_g[] = {999};
        struct stat st;
        assert_int_equal(fstatat(dirfd, "f", &st, 0), 0);
        for (uid_t u = UID_SVC; u <= UID_SVC + 30; u += 10)
                assert_int_equal(acl_allows(st.st_uid, st.st_gid, st.st_mode, cur, cn, u, none_g, 1, ACL_R),
                                 u != UID_SVC + 10);
        /* Without the third user the bytes differ: a tree made for two users is put right. */
        w.n_more = 1;
        wn = acl_want_xattr(&w, want);
        assert_true(wn != cn || memcmp(cur, want, wn) != 0);
        close(pfd);
}

/* A regular file name below dirfd that carries file_want's ACL, for the symlink tests. */
static void file_with_acl(int dirfd, const char *name)
{
        write_file(dirfd, name, "x");
        int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        assert_int_equal(acl_apply_fd(pfd, &file_want, NULL), 0);
        close(pfd);
}

/* acl_read_at never follows a final symlink. */
static void test_read_symlink_not_followed(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        file_with_acl(dirfd, "target");
        check_errno(symlinkat("target", dirfd, "link"));
        uint8_t cur[ACL_XATTR_MAX];
        size_t cn = 99;
        int r = acl_read_at(dirfd, "link", false, cur, &cn);
        /* Either an error or "no ACL" — never the target's ACL. */
        assert_true(r < 0 || cn == 0);
}

/* acl_text_at neither: a symlink to a file with an ACL reads as "none", not as the target's
 * ACL, and so does a symlink to a directory; the target itself still reads as its ACL. */
static void test_text_symlink_not_followed(void **state)
{
        int dirfd;
        open_acl_dir(state, &dirfd);
        file_with_acl(dirfd, "target");
        check_errno(mkdirat(dirfd, "d", 0700));
        int pfd = openat(dirfd, "d", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(pfd >= 0);
        assert_int_equal(acl_apply_fd(pfd, &dir_want, NULL), 0);
        check_errno(symlinkat("target", dirfd, "link"));
        check_errno(symlinkat("d", dirfd, "dlink"));

        _cleanup_free_ char *want_text =
                xasprintf("u::rw-,u:%u:r--,g::rw-,g:%u:rw-,m::rw-,o::---", UID_SVC, GID_DEPLOY);
        _cleanup_free_ char *target = acl_text_at(dirfd, "target");
        assert_string_equal(target, want_text);
        _cleanup_free_ char *link = acl_text_at(dirfd, "link");
        assert_string_equal(link, "none");
        _cleanup_free_ char *dlink = acl_text_at(dirfd, "dlink");
        assert_string_equal(dlink, "none");

        /* A directory named "." from an O_PATH fd of its own (how perms reads an ancestor),
         * and its xattr through that O_PATH fd. */
        _cleanup_free_ char *dir_text = acl_text_at(pfd, ".");
        _cleanup_free_ char *want_dir =
                xasprintf("u::rwx,u:%u:r-x,g::rwx,g:%u:rwx,m::rwx,o::---", UID_SVC, GID_DEPLOY);
        assert_string_equal(dir_text, want_dir);
        uint8_t cur[ACL_XATTR_MAX], want[ACL_XATTR_MAX];
        size_t cn = 0, wn = acl_want_xattr(&dir_want, want);
        assert_int_equal(acl_read_at(pfd, "", false, cur, &cn), 0);
        assert_bytes_equal(cur, cn, want, wn);
        close(pfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_want_xattr_bytes),
                cmocka_unit_test(test_want_mask),
                tmp_test(test_apply_several_users),
                cmocka_unit_test(test_allows_no_acl),
                cmocka_unit_test(test_allows_with_acl),
                cmocka_unit_test(test_supported_var_tmp),
                cmocka_unit_test(test_supported_proc_refused),
                tmp_test(test_apply_read_back_file),
                tmp_test(test_apply_read_back_dir),
                tmp_test(test_read_detects_difference),
                tmp_test(test_read_symlink_not_followed),
                tmp_test(test_text_symlink_not_followed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
