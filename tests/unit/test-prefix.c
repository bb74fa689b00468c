/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a virtualenv may live: the exact system directories, and the ownership rule judged
 * through pinned fds (prefix.c). The rule is checked below a temporary directory used as the
 * root (as --root does); who owns it decides what the walk sees first. */
#include "helpers.h"
#include "prefix.h"

static void test_reserved(void **state)
{
        (void)state;
        static const char *const refused[] = {
                "/",     "/root", "/etc", "/usr", "/var",     "/home", "/boot", "/proc", "/sys",
                "/dev",  "/run",  "/tmp", "/var/tmp", "/srv", "/opt",  "//etc", "/etc/", "/usr/./",
                "/opt/pyshare/..", "/var//tmp/", "/../root", "",
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                assert_true(prefix_reserved(refused[i]));
        static const char *const allowed[] = {"/opt/pyshare", "/srv/venvs", "/etc/x", "/tmp/x", "/var/tmp/a/b",
                                              "/rootx", "/optional", "/var/tmpx"};
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                assert_false(prefix_reserved(allowed[i]));
}

/* Only root can make root-owned directories: the rule's positive cases need it. */
static void test_rule(void **state)
{
        struct tmp *t = *state;
        struct prefix_problem p = {0};
        int fd = -1;
        if (geteuid() != 0) {
                /* The root of the walk is ours, not root's: refused there, before anything else. */
                assert_int_equal(prefix_open(t->fd, "/a/b", PREFIX_OPEN_CREATE, &fd, NULL, &p), -PS_E_INVALID);
                assert_int_equal(p.why, PREFIX_OWNER);
                assert_string_equal(p.path, "/");
                assert_false(exists_at(t->fd, "a"));
                prefix_problem_free(&p);
                return;
        }
        check_errno(fchmod(t->fd, 0755));
        /* Created root:root 0755 with everything missing; and a second open creates nothing. */
        bool created = false;
        assert_int_equal(prefix_open(t->fd, "/a/b", PREFIX_OPEN_CREATE, &fd, &created, &p), 0);
        assert_true(created);
        struct stat st;
        check_errno(fstat(fd, &st));
        assert_int_equal(st.st_mode & 07777, 0755);
        close(fd);
        assert_int_equal(prefix_open(t->fd, "/a/b", PREFIX_OPEN_EXISTING, &fd, &created, &p), 0);
        assert_false(created);
        close(fd);

        /* Group-writable without sticky: refused, named; with sticky: accepted. */
        check_errno(fchmodat(t->fd, "a", 0775, 0));
        assert_int_equal(prefix_open(t->fd, "/a/b", PREFIX_OPEN_EXISTING, &fd, NULL, &p), -PS_E_INVALID);
        assert_int_equal(p.why, PREFIX_WRITABLE);
        assert_string_equal(p.path, "/a");
        assert_int_equal(p.mode & 07777, 0775);
        _cleanup_free_ char *text = prefix_problem_text(&p, "/a/b", NULL, -1);
        assert_non_null(strstr(text, "prefix /a/b refused: /a is writable by its group, owner root (drwxrwxr-x 0775) "
                                     "without the sticky bit"));
        assert_non_null(strstr(text, "/opt/pyshare"));
        prefix_problem_free(&p);
        check_errno(fchmodat(t->fd, "a", 01777, 0));
        assert_int_equal(prefix_open(t->fd, "/a/b", PREFIX_OPEN_CHECK, &fd, NULL, &p), 0);
        close(fd);
        check_errno(fchmodat(t->fd, "a", 0755, 0));

        /* Another user's: refused, and nothing is created below it. */
        check_errno(fchownat(t->fd, "a/b", 65534, 65534, AT_SYMLINK_NOFOLLOW));
        assert_int_equal(prefix_open(t->fd, "/a/b/c", PREFIX_OPEN_CREATE, &fd, NULL, &p), -PS_E_INVALID);
        assert_int_equal(p.why, PREFIX_OWNER);
        assert_string_equal(p.path, "/a/b");
        assert_false(exists_at(t->fd, "a/b/c"));
        prefix_problem_free(&p);

        /* A symlink on the way is not followed; a missing component in CHECK mode is fine. */
        check_errno(symlinkat("a", t->fd, "ln"));
        assert_int_equal(prefix_open(t->fd, "/ln/b", PREFIX_OPEN_CHECK, &fd, NULL, &p), -ENOTDIR);
        assert_int_equal(p.why, PREFIX_NOT_DIR);
        assert_string_equal(p.path, "/ln");
        prefix_problem_free(&p);
        assert_int_equal(prefix_open(t->fd, "/missing/x", PREFIX_OPEN_CHECK, &fd, NULL, &p), 0);
        assert_int_equal(fd, -1);
        assert_false(exists_at(t->fd, "missing"));
        assert_int_equal(prefix_open(t->fd, "/missing/x", PREFIX_OPEN_EXISTING, &fd, NULL, &p), -ENOENT);
        assert_int_equal(p.why, PREFIX_MISSING);
        prefix_problem_free(&p);

        /* A system directory, whatever its owner. */
        assert_int_equal(prefix_open(t->fd, "/etc/", PREFIX_OPEN_CHECK, &fd, NULL, &p), -PS_E_INVALID);
        assert_int_equal(p.why, PREFIX_RESERVED);
        prefix_problem_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reserved),
                tmp_test(test_rule),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
