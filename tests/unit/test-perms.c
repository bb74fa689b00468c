/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the service user cannot reach: the ancestors of a tree, each pinned without following,
 * a symlinked one reported rather than followed. */
#include "helpers.h"
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_find_readable_tree),
                tmp_test(test_find_closed_ancestor),
                tmp_test(test_find_symlinked_ancestor),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
