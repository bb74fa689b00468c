/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the service user cannot reach: the ancestors of a tree, each pinned without following,
 * a symlinked one reported rather than followed. */
#include "helpers.h"
#include "acl.h"
#include "perms.h"

/* Nobody on a test machine, in no group: only "other" permissions apply to it. */
#define UID_SVC 54321u

static char *path_of(const struct tmp *t, const char *rel) { return xasprintf("%s/%s", t->path, rel); }

/* The tree and the test directory reachable by others, as a venv's ancestors usually are. */
static void make_tree(const struct tmp *t)
{
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "real/venv/lib", 0755);
        write_file(t->fd, "real/venv/lib/mod.py", "x = 1\n");
        check_errno(fchmodat(t->fd, "real/venv/lib/mod.py", 0644, 0));
}

static void test_find_readable_tree(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        _cleanup_free_ char *venv = path_of(t, "real/venv");
        struct perms_finding *f = NULL;
        size_t n = 99;
        assert_int_equal(perms_find_unreadable(venv, UID_SVC, NULL, 0, 8, &f, &n), 0);
        assert_int_equal(n, 0);
        perms_findings_free(f, n);
}

/* The positive control for the symlink below: a closed ancestor is found, as a directory. */
static void test_find_closed_ancestor(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        check_errno(fchmodat(t->fd, "real", 0700, 0));
        _cleanup_free_ char *venv = path_of(t, "real/venv"), *real = path_of(t, "real");
        struct perms_finding *f = NULL;
        size_t n = 0;
        assert_int_equal(perms_find_unreadable(venv, UID_SVC, NULL, 0, 8, &f, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, real);
        assert_true(f[0].outside);
        assert_true(f[0].is_dir);
        assert_false(f[0].symlink);
        assert_int_equal(f[0].mode & 07777, 0700);
        perms_findings_free(f, n);
}

/* An ancestor that is a symlink is reported as one and not followed: what lies behind it (here
 * a directory the user could not enter) is not looked at, and neither is the tree. */
static void test_find_symlinked_ancestor(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        check_errno(fchmodat(t->fd, "real/venv/lib", 0700, 0));
        check_errno(symlinkat("real", t->fd, "link"));
        _cleanup_free_ char *venv = path_of(t, "link/venv"), *link = path_of(t, "link");
        struct perms_finding *f = NULL;
        size_t n = 0;
        assert_int_equal(perms_find_unreadable(venv, UID_SVC, NULL, 0, 8, &f, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, link);
        assert_true(f[0].symlink);
        assert_true(f[0].outside);
        assert_false(f[0].is_dir);
        assert_true(S_ISLNK(f[0].mode));
        assert_string_equal(f[0].acl, "none");
        perms_findings_free(f, n);

        /* A symlink deeper down, to a directory that is closed: still the link, not its target. */
        mkdir_p(t->fd, "closed/venv", 0755);
        check_errno(fchmodat(t->fd, "closed", 0700, 0));
        mkdir_p(t->fd, "a", 0755);
        check_errno(symlinkat("../closed", t->fd, "a/b"));
        _cleanup_free_ char *venv2 = path_of(t, "a/b/venv"), *b = path_of(t, "a/b");
        assert_int_equal(perms_find_unreadable(venv2, UID_SVC, NULL, 0, 8, &f, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, b);
        assert_true(f[0].symlink);
        perms_findings_free(f, n);
}

/* ---- perms_user_reach: a path as the service user would be let through, below a root ---- */

static int reach(const struct tmp *t, const char *path, unsigned budget)
{
        struct stat st;
        return perms_user_reach(t->fd, path, UID_SVC, NULL, 0, &budget, &st);
}

static void test_reach_walk(void **state)
{
        struct tmp *t = *state;
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "a/b", 0755);
        write_file(t->fd, "a/f", "x");
        write_file(t->fd, "a/f600", "x");
        check_errno(fchmodat(t->fd, "a/f600", 0600, 0));
        check_errno(mkfifoat(t->fd, "a/fifo", 0644));
        mkdir_p(t->fd, "closed/in", 0755);
        check_errno(fchmodat(t->fd, "closed", 0700, 0));
        mkdir_p(t->fd, "xonly/in", 0755);
        check_errno(fchmodat(t->fd, "xonly", 0711, 0));
        assert_int_equal(reach(t, "/a/b", 100), 0);
        assert_int_equal(reach(t, "/a/f", 100), 0);
        assert_int_equal(reach(t, "/a/f600", 100), -EACCES);
        assert_int_equal(reach(t, "/a/fifo", 100), -EINVAL);
        assert_int_equal(reach(t, "/a/missing", 100), -ENOENT);
        assert_int_equal(reach(t, "/a/f/b", 100), -ENOTDIR);
        /* Search permission on the way; r-x on the end. */
        assert_int_equal(reach(t, "/closed/in", 100), -EACCES);
        assert_int_equal(reach(t, "/closed", 100), -EACCES);
        assert_int_equal(reach(t, "/xonly/in", 100), 0);
        assert_int_equal(reach(t, "/xonly", 100), -EACCES);
        /* ".." goes back where the walk came from, and never above the root. */
        assert_int_equal(reach(t, "/a/b/../b", 100), 0);
        assert_int_equal(reach(t, "/../../../a/b", 100), 0);
        /* Without search permission, not even ".." of closed is looked up. */
        assert_int_equal(reach(t, "/closed/../a", 100), -EACCES);
        /* One component costs one of the budget. */
        assert_int_equal(reach(t, "/a/b", 2), 0);
        assert_int_equal(reach(t, "/a/b", 1), -ENOBUFS);
}

static void test_reach_symlinks(void **state)
{
        struct tmp *t = *state;
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "a/b", 0755);
        mkdir_p(t->fd, "closed/in", 0755);
        check_errno(fchmodat(t->fd, "closed", 0700, 0));
        /* Absolute targets start again at the root given, not at the host's /. */
        check_errno(symlinkat("/a/b", t->fd, "abs"));
        check_errno(symlinkat("../../../../../../a", t->fd, "up"));
        check_errno(symlinkat("b", t->fd, "a/rel"));
        check_errno(symlinkat("/closed/in", t->fd, "toclosed"));
        check_errno(symlinkat("loop", t->fd, "loop"));
        check_errno(symlinkat("/nowhere", t->fd, "dangling"));
        _cleanup_free_ char *host = path_of(t, "a/b");
        check_errno(symlinkat(host, t->fd, "host"));
        assert_int_equal(reach(t, "/abs", 100), 0);
        assert_int_equal(reach(t, "/up/b", 100), 0);
        assert_int_equal(reach(t, "/a/rel", 100), 0);
        assert_int_equal(reach(t, "/abs/../b", 100), 0);
        assert_int_equal(reach(t, "/toclosed", 100), -EACCES);
        assert_int_equal(reach(t, "/loop", 1000), -ELOOP);
        assert_int_equal(reach(t, "/dangling", 100), -ENOENT);
        /* The host path of a/b does not exist below the root. */
        assert_int_equal(reach(t, "/host", 100), -ENOENT);
        struct stat st, want;
        unsigned budget = 100;
        assert_int_equal(perms_user_reach(t->fd, "/abs", UID_SVC, NULL, 0, &budget, &st), 0);
        check_errno(fstatat(t->fd, "a/b", &want, 0));
        assert_int_equal(st.st_ino, want.st_ino);

        /* /proc's links mean something else for each process: never followed. */
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        budget = 100;
        assert_int_equal(perms_user_reach(root, "/proc/self/root/etc", UID_SVC, NULL, 0, &budget, &st), -EACCES);
        close(root);

        /* fs.protected_symlinks: in a sticky world-writable directory, another user's link is
         * followed only by its owner or when the directory's owner owns it. */
        mkdir_p(t->fd, "tmp", 01777);
        check_errno(symlinkat("/a/b", t->fd, "tmp/mine"));
        assert_int_equal(reach(t, "/tmp/mine", 100), 0); /* same owner as the directory */
        if (geteuid() == 0) {
                check_errno(fchownat(t->fd, "tmp/mine", 4242, 4242, AT_SYMLINK_NOFOLLOW));
                assert_int_equal(reach(t, "/tmp/mine", 100), -EACCES);
                struct stat lst;
                check_errno(fstatat(t->fd, "tmp/mine", &lst, AT_SYMLINK_NOFOLLOW));
                budget = 100;
                assert_int_equal(perms_user_reach(t->fd, "/tmp/mine", 4242, NULL, 0, &budget, &st), 0);
        }
}

/* The groups count as the kernel counts them: a matching group without the permission denies,
 * even when "other" would grant it. */
static void test_reach_groups(void **state)
{
        struct tmp *t = *state;
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "g/in", 0755);
        check_errno(fchmodat(t->fd, "g", 0705, 0));
        struct stat st;
        check_errno(fstatat(t->fd, "g", &st, 0));
        const gid_t in[] = {UID_SVC, st.st_gid}, out[] = {UID_SVC};
        unsigned budget = 100;
        assert_int_equal(perms_user_reach(t->fd, "/g/in", UID_SVC, in, 2, &budget, &st), -EACCES);
        assert_int_equal(perms_user_reach(t->fd, "/g/in", UID_SVC, out, 1, &budget, &st), 0);
        check_errno(fchmodat(t->fd, "g", 0750, 0));
        assert_int_equal(perms_user_reach(t->fd, "/g/in", UID_SVC, in, 2, &budget, &st), 0);
        assert_int_equal(perms_user_reach(t->fd, "/g/in", UID_SVC, out, 1, &budget, &st), -EACCES);
}

/* A tree in pyshare's layout for UID_SVC (perms_apply, as root: directories go to root),
 * with a.py and b.py; nothing differs afterwards. */
static void layout_tree(void **state, struct perms_target *tg)
{
        struct tmp *t = *state;
        if (geteuid() != 0 || acl_supported_fd(t->fd) < 0) {
                print_message("skipped: needs root and POSIX ACLs on %s\n", t->path);
                skip();
        }
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "v/pkg", 0755);
        write_file(t->fd, "v/pkg/a.py", "a = 1\n");
        write_file(t->fd, "v/pkg/b.py", "b = 1\n");
        *tg = (struct perms_target){.user = UID_SVC, .group = UID_SVC + 1};
        _cleanup_free_ char *v = path_of(t, "v");
        _cleanup_perms_stats_ struct perms_stats st = {0};
        assert_int_equal(perms_apply(t->fd, "v", v, tg, false, &st), 0);
        assert_int_equal(st.changed, 4);
}

static unsigned long unproven(const struct tmp *t, const struct perms_target *tg, unsigned long *ret_changed)
{
        _cleanup_free_ char *v = path_of(t, "v");
        _cleanup_perms_stats_ struct perms_stats st = {0};
        assert_int_equal(perms_apply(t->fd, "v", v, tg, true, &st), 0);
        *ret_changed = st.changed;
        return st.unproven;
}

static size_t unreadable(const struct tmp *t)
{
        _cleanup_free_ char *v = path_of(t, "v");
        struct perms_finding *f = NULL;
        size_t n = 0;
        assert_int_equal(perms_find_unreadable(v, UID_SVC, NULL, 0, 8, &f, &n), 0);
        perms_findings_free(f, n);
        return n;
}

/* status skips its second walk when the first found every entry in the layout with nothing
 * unproven: so a file that the layout leaves unreadable to a reader must count as unproven.
 * The layout keeps a file's owner and its owner bits; a reader that owns the file is judged
 * by them, not by its own ACL entry. */
static void test_apply_unproven_owner(void **state)
{
        struct tmp *t = *state;
        struct perms_target tg;
        layout_tree(state, &tg);
        unsigned long changed = 99;
        assert_int_equal(unproven(t, &tg, &changed), 0);
        assert_int_equal(changed, 0);
        assert_int_equal(unreadable(t), 0);

        check_errno(fchownat(t->fd, "v/pkg/a.py", UID_SVC, UID_SVC + 1, AT_SYMLINK_NOFOLLOW));
        check_errno(fchmodat(t->fd, "v/pkg/a.py", 0260, 0));
        assert_int_equal(unproven(t, &tg, &changed), 1);
        assert_int_equal(changed, 0); /* still the layout: the owner and its bits are kept */
        assert_int_equal(unreadable(t), 1);

        /* Owned by the reader with r: readable, proven. */
        check_errno(fchmodat(t->fd, "v/pkg/a.py", 0460, 0));
        assert_int_equal(unproven(t, &tg, &changed), 0);
        assert_int_equal(changed, 0);
        assert_int_equal(unreadable(t), 0);
}

/* A hard-linked file is left alone by the walk, so its ACL says nothing: unproven. */
static void test_apply_unproven_hardlink(void **state)
{
        struct tmp *t = *state;
        struct perms_target tg;
        layout_tree(state, &tg);
        check_errno(linkat(t->fd, "v/pkg/b.py", t->fd, "v/pkg/c.py", 0));
        unsigned long changed = 99;
        assert_int_equal(unproven(t, &tg, &changed), 2);
        assert_int_equal(changed, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_find_readable_tree),
                tmp_test(test_find_closed_ancestor),
                tmp_test(test_find_symlinked_ancestor),
                tmp_test(test_reach_walk),
                tmp_test(test_reach_symlinks),
                tmp_test(test_reach_groups),
                tmp_test(test_apply_unproven_owner),
                tmp_test(test_apply_unproven_hardlink),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
