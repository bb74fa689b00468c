/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The marker that says who made a virtualenv, and what purge may delete (venv.c): only a
 * directory pyshare created (0.1.0's marker counts), owned as pyshare makes it; an adopted one
 * keeps its files; a root 0700 directory counts as an interrupted creation only when it holds
 * nothing but what `python -m venv` writes. Owner checks need root to set up. */
#include "helpers.h"
#include "venv.h"

static int venv_dir(struct tmp *t, const char *name, mode_t mode, gid_t gid)
{
        mkdir_p(t->fd, name, mode);
        int fd = openat(t->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        check_errno(fchown(fd, 0, gid));
        check_errno(fchmod(fd, mode));
        write_file(fd, "pyvenv.cfg", "home = /usr/bin\n");
        return fd;
}

static enum venv_purge purge_of(struct tmp *t, const char *name, char **why)
{
        enum venv_purge p;
        *why = NULL;
        assert_int_equal(venv_purge_check(t->fd, name, &p, why), 0);
        return p;
}

static void test_marker(void **state)
{
        struct tmp *t = *state;
        if (geteuid() != 0) {
                skip();
                return;
        }
        _cleanup_free_ char *why = NULL;
        /* created by 0.1.0 (the same text), in pyshare's layout: deleted */
        int fd = venv_dir(t, "made", 02770, 100);
        write_file(fd, VENV_MARKER, "pyshare: this virtualenv was created completely.\n");
        enum venv_origin o;
        assert_int_equal(venv_marker_read(fd, &o), 0);
        assert_int_equal(o, VENV_ORIGIN_CREATED);
        assert_int_equal(purge_of(t, "made", &why), VENV_PURGE_DELETE);
        close(fd);

        /* as venv_create leaves it before the layout: deleted too */
        fd = venv_dir(t, "fresh", 0700, 0);
        assert_int_equal(venv_marker_write(fd, VENV_ORIGIN_CREATED), 0);
        assert_int_equal(purge_of(t, "fresh", &why), VENV_PURGE_DELETE);
        close(fd);

        /* adopted: its files stay */
        fd = venv_dir(t, "adopted", 02770, 100);
        assert_int_equal(venv_marker_write(fd, VENV_ORIGIN_ADOPTED), 0);
        _cleanup_free_ char *text = read_file(fd, VENV_MARKER);
        assert_string_equal(text, "pyshare: adopted an existing virtualenv.\n");
        assert_int_equal(purge_of(t, "adopted", &why), VENV_PURGE_ADOPTED);
        close(fd);

        /* no marker, another text, a marker that is a symlink, or not root's */
        fd = venv_dir(t, "none", 02770, 100);
        assert_int_equal(purge_of(t, "none", &why), VENV_PURGE_NOT_OURS);
        assert_non_null(strstr(why, "no .pyshare-complete marker"));
        free(why);
        write_file(fd, VENV_MARKER, "something else\n");
        assert_int_equal(purge_of(t, "none", &why), VENV_PURGE_NOT_OURS);
        assert_non_null(strstr(why, "not the marker pyshare writes"));
        free(why);
        check_errno(unlinkat(fd, VENV_MARKER, 0));
        write_file(t->fd, "elsewhere", "pyshare: this virtualenv was created completely.\n");
        check_errno(symlinkat("../elsewhere", fd, VENV_MARKER));
        assert_int_equal(purge_of(t, "none", &why), VENV_PURGE_NOT_OURS);
        free(why);
        check_errno(unlinkat(fd, VENV_MARKER, 0));
        write_file(fd, VENV_MARKER, "pyshare: this virtualenv was created completely.\n");
        check_errno(fchownat(fd, VENV_MARKER, 65534, 0, AT_SYMLINK_NOFOLLOW));
        assert_int_equal(purge_of(t, "none", &why), VENV_PURGE_NOT_OURS);
        free(why);
        close(fd);

        /* the right marker in a directory not owned as pyshare makes it (0755 root:root, like
         * /etc/apache2; or another user's) */
        fd = venv_dir(t, "etc-like", 0755, 0);
        write_file(fd, VENV_MARKER, "pyshare: this virtualenv was created completely.\n");
        assert_int_equal(purge_of(t, "etc-like", &why), VENV_PURGE_NOT_OURS);
        assert_non_null(strstr(why, "not owned as pyshare makes a virtualenv"));
        free(why);
        check_errno(fchown(fd, 65534, 100));
        check_errno(fchmod(fd, 02770));
        assert_int_equal(purge_of(t, "etc-like", &why), VENV_PURGE_NOT_OURS);
        free(why);
        close(fd);

        /* a symlink or a file where the venv should be; nothing at all */
        check_errno(symlinkat("made", t->fd, "ln"));
        assert_int_equal(purge_of(t, "ln", &why), VENV_PURGE_NOT_OURS);
        free(why);
        why = NULL;
        assert_int_equal(purge_of(t, "absent", &why), VENV_PURGE_MISSING);
}

static void test_incomplete(void **state)
{
        struct tmp *t = *state;
        if (geteuid() != 0) {
                skip();
                return;
        }
        enum venv_state s;
        /* what an interrupted venv_create leaves: root:root 0700, venv's own names only */
        int fd = venv_dir(t, "cut", 0700, 0);
        mkdir_p(fd, "bin", 0755);
        mkdir_p(fd, "lib/python3.11", 0755);
        assert_int_equal(venv_state(t->fd, "cut", &s), 0);
        assert_int_equal(s, VENV_INCOMPLETE);
        /* killed while writing the marker, its last step: the marker's temporary is ours too */
        write_file(fd, ".#" VENV_MARKER ".0123456789ab", "");
        assert_int_equal(venv_state(t->fd, "cut", &s), 0);
        assert_int_equal(s, VENV_INCOMPLETE);
        /* ... but not a name that only looks like it: never deleted */
        write_file(fd, ".#" VENV_MARKER ".0123456789abX", "");
        assert_int_equal(venv_state(t->fd, "cut", &s), 0);
        assert_int_equal(s, VENV_FOREIGN);
        close(fd);
        mkdir_p(t->fd, "empty", 0700);
        assert_int_equal(venv_state(t->fd, "empty", &s), 0);
        assert_int_equal(s, VENV_INCOMPLETE);
        /* root 0700 with anything else in it (a 0700 directory of /etc, say): never deleted */
        fd = venv_dir(t, "private", 0700, 0);
        write_file(fd, "precious", "x");
        assert_int_equal(venv_state(t->fd, "private", &s), 0);
        assert_int_equal(s, VENV_FOREIGN);
        check_errno(unlinkat(fd, "pyvenv.cfg", 0));
        assert_int_equal(venv_state(t->fd, "private", &s), 0);
        assert_int_equal(s, VENV_NOT_A_VENV);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_marker),
                tmp_test(test_incomplete),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
