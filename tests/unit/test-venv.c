/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a virtualenv's site-packages holds, read without running any of it: .pth path lines
 * (with site.py's rules) and the top-level import names of the installed distributions. */
#include "helpers.h"
#include "venv.h"

#define SITE "lib/python3.11/site-packages"

struct site {
        struct tmp *t;
        int fd;        /* site-packages */
        char *abs;     /* its absolute path */
};

static void site_open(void **state, struct site *s)
{
        s->t = *state;
        mkdir_p(s->t->fd, SITE, 0755);
        s->fd = openat(s->t->fd, SITE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s->fd >= 0);
        s->abs = xasprintf("%s/" SITE, s->t->path);
}

static void site_close(struct site *s)
{
        close(s->fd);
        free(s->abs);
}

/* ---- .pth files ------------------------------------------------------------------------- */

static void test_pth_lines(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.fd, "sub", 0755);
        mkdir_p(s.fd, "deeper/pkg", 0755);
        mkdir_p(s.t->fd, "abs-dir", 0755);
        _cleanup_free_ char *abs_dir = xasprintf("%s/abs-dir", s.t->path);
        _cleanup_free_ char *text = xasprintf("sub\n"
                                              "# a comment\n"
                                              "\n"
                                              "import x\n"
                                              "import\tsys; sys.path.insert(0, '/evil')\n"
                                              "missing\n"
                                              "%s\n"
                                              "/nonexistent/absolute\n"
                                              "a:b\n"
                                              "sub\n"
                                              "./sub/\n"
                                              "deeper/./pkg/../pkg  \r\n"
                                              "   \n"
                                              ".\n",
                                              abs_dir);
        write_file(s.fd, "a.pth", text);

        struct pth_info p;
        assert_int_equal(venv_read_pth(s.fd, s.abs, &p), 0);
        _cleanup_free_ char *want_sub = xasprintf("%s/sub", s.abs);
        _cleanup_free_ char *want_pkg = xasprintf("%s/deeper/pkg", s.abs);
        /* Relative existing → absolute; nonexistent dropped; duplicates once; site-packages
         * itself (".") not repeated. */
        assert_strv_equal(p.dirs, want_sub, abs_dir, want_pkg);
        /* Import lines are listed, never run. */
        assert_strv_equal(p.code_lines, "a.pth: import x", "a.pth: import\tsys; sys.path.insert(0, '/evil')");
        /* Characters that mean something in PYTHONPATH or unit files are refused. The white
         * space only line is not a path. */
        assert_int_equal(strv_length(p.refused), 1);
        assert_true(startswith(p.refused[0], "a.pth: a:b "));
        pth_info_free(&p);
        assert_null(p.dirs);
        site_close(&s);
}

/* "../outside" climbs above site-packages: site.py would add the normalised directory. pyshare
 * either passes exactly that on or refuses the line, never anything else. */
static void test_pth_climbing(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.t->fd, "lib/python3.11/outside", 0755);
        write_file(s.fd, "climb.pth", "../outside\n../../../../../../../../../../etc\n/../tmp\n");
        struct pth_info p;
        assert_int_equal(venv_read_pth(s.fd, s.abs, &p), 0);
        _cleanup_free_ char *resolved = xasprintf("%s/lib/python3.11/outside", s.t->path);
        for (size_t i = 0; p.dirs && p.dirs[i]; i++) {
                print_message("dir: %s\n", p.dirs[i]);
                assert_true(strcmp(p.dirs[i], resolved) == 0 || strcmp(p.dirs[i], "/etc") == 0 ||
                            strcmp(p.dirs[i], "/tmp") == 0);
                assert_null(strstr(p.dirs[i], ".."));
        }
        bool outside_handled = strv_contains(p.dirs, resolved);
        for (size_t i = 0; p.refused && p.refused[i]; i++)
                if (startswith(p.refused[i], "climb.pth: ../outside"))
                        outside_handled = true;
        assert_true(outside_handled);
        assert_strv_empty(p.code_lines);
        pth_info_free(&p);
        site_close(&s);
}

static void test_pth_order_hidden_and_special(void **state)
{
        struct site s;
        site_open(state, &s);
        _cleanup_strv_ char **want = NULL;
        /* Created in reverse order; site.py reads them sorted by name. */
        for (int i = 9; i >= 0; i--) {
                _cleanup_free_ char *dir = xasprintf("d%d", i), *file = xasprintf("%02d-x.pth", i);
                _cleanup_free_ char *line = xasprintf("%s\n", dir);
                mkdir_p(s.fd, dir, 0755);
                write_file(s.fd, file, line);
        }
        for (int i = 0; i < 10; i++)
                strv_consume(&want, xasprintf("%s/d%d", s.abs, i));
        /* Hidden .pth files are ignored by site.py. */
        mkdir_p(s.fd, "hidden", 0755);
        write_file(s.fd, ".x.pth", "hidden\nimport os\n");
        /* Not *.pth. */
        write_file(s.fd, "x.pth.bak", "hidden\n");
        /* A FIFO must not block the read; a directory is not a file. */
        check_errno(mkfifoat(s.fd, "evil.pth", 0600));
        mkdir_p(s.fd, "dir.pth", 0755);

        struct pth_info p;
        alarm(10);
        long long start = now_ms();
        assert_int_equal(venv_read_pth(s.fd, s.abs, &p), 0);
        alarm(0);
        assert_true(now_ms() - start < 1000);
        assert_int_equal(strv_length(p.dirs), 10);
        for (size_t i = 0; i < 10; i++)
                assert_string_equal(p.dirs[i], want[i]);
        assert_strv_empty(p.code_lines);
        assert_strv_equal(p.refused, "dir.pth (not a readable regular file)", "evil.pth (not a readable regular file)");
        pth_info_free(&p);
        site_close(&s);
}

static void test_pth_none(void **state)
{
        struct site s;
        site_open(state, &s);
        struct pth_info p = {.dirs = (char **)0x1};
        assert_int_equal(venv_read_pth(s.fd, s.abs, &p), 0);
        assert_strv_empty(p.dirs);
        assert_strv_empty(p.code_lines);
        assert_strv_empty(p.refused);
        pth_info_free(&p);
        site_close(&s);
}

/* ---- top-level names --------------------------------------------------------------------- */

static void test_top_level(void **state)
{
        struct site s;
        site_open(state, &s);
        /* From top_level.txt; bad names and dotted ones skipped. */
        write_file(s.fd, "foo-1.0.dist-info/top_level.txt", "foo\nfoo_ext\n\nbad-name\na.b\n  spaced  \r\n");
        /* From RECORD only. */
        write_file(s.fd, "bar-2.0.dist-info/RECORD",
                   "bar/__init__.py,sha256=abc,10\n"
                   "bar/sub/mod.py,sha256=abc,10\n"
                   "single.py,sha256=abc,10\n"
                   "_x.cpython-311-x86_64-linux-gnu.so,sha256=abc,10\n"
                   "bar-2.0.dist-info/METADATA,sha256=abc,10\n"
                   "bar-2.0.dist-info/RECORD,,\n"
                   "__pycache__/single.cpython-311.pyc,,\n"
                   "bar/__pycache__/__init__.cpython-311.pyc,,\n"
                   "../../bin/x,sha256=abc,10\n"
                   "/usr/bin/y,,\n"
                   "bar-2.0.data/scripts/z,,\n"
                   "\"quoted,name.py\",,\n"
                   "README.txt,,\n"
                   "bar.pth,,\n");
        /* top_level.txt wins over RECORD. */
        write_file(s.fd, "baz-1.0.dist-info/top_level.txt", "baz\n");
        write_file(s.fd, "baz-1.0.dist-info/RECORD", "notlisted.py,,\nbaz/__init__.py,,\n");
        /* Duplicates across distributions once. */
        write_file(s.fd, "foo_plugin-1.0.dist-info/top_level.txt", "foo\n");
        /* pip's and setuptools' own are not the app's: the whole distribution is skipped,
         * whatever it lists. */
        write_file(s.fd, "pip-23.0.1.dist-info/top_level.txt", "pip\npip_only\n");
        write_file(s.fd, "pip-23.0.1.dist-info/RECORD", "pip/__init__.py,,\n");
        write_file(s.fd, "setuptools-66.1.1.dist-info/top_level.txt",
                   "_distutils_hack\npkg_resources\nsetuptools\nsetuptools_only\n");
        /* wheel is a package like any other that the app may import: probed. */
        write_file(s.fd, "wheel-0.40.0.dist-info/RECORD", "wheel/__init__.py,,\n");
        /* And their names are not listed when another distribution ships them. */
        write_file(s.fd, "vendor-1.0.dist-info/top_level.txt", "pip\nsetuptools\npkg_resources\n_distutils_hack\n");
        /* Neither file: nothing. Not a dist-info: ignored. */
        mkdir_p(s.fd, "empty-1.0.dist-info", 0755);
        write_file(s.fd, "other/top_level.txt", "other\n");
        write_file(s.fd, "egg-1.0.egg-info/top_level.txt", "egg\n");

        _cleanup_strv_ char **mods = NULL;
        assert_int_equal(venv_top_level(s.fd, &mods), 0);
        assert_strv_equal(mods, "_x", "bar", "baz", "foo", "foo_ext", "single", "spaced", "wheel");
        site_close(&s);
}

/* A distribution whose own files are named like pip's is still listed: only pip's
 * distribution is skipped, by its name. */
static void test_top_level_not_fooled_by_names(void **state)
{
        struct site s;
        site_open(state, &s);
        write_file(s.fd, "pipx-1.2.dist-info/top_level.txt", "pipx\n");
        write_file(s.fd, "setuptools_scm-7.1.dist-info/top_level.txt", "setuptools_scm\n");
        _cleanup_strv_ char **mods = NULL;
        assert_int_equal(venv_top_level(s.fd, &mods), 0);
        assert_strv_equal(mods, "pipx", "setuptools_scm");
        site_close(&s);
}

static void test_top_level_hostile(void **state)
{
        struct site s;
        site_open(state, &s);
        /* A symlinked dist-info and a symlinked RECORD are not followed; a FIFO does not block. */
        mkdir_p(s.t->fd, "elsewhere", 0755);
        write_file(s.t->fd, "elsewhere/top_level.txt", "planted\n");
        _cleanup_free_ char *target = xasprintf("%s/elsewhere", s.t->path);
        check_errno(symlinkat(target, s.fd, "link-1.0.dist-info"));
        mkdir_p(s.fd, "rec-1.0.dist-info", 0755);
        _cleanup_free_ char *target2 = xasprintf("%s/elsewhere/top_level.txt", s.t->path);
        check_errno(symlinkat(target2, s.fd, "rec-1.0.dist-info/top_level.txt"));
        mkdir_p(s.fd, "fifo-1.0.dist-info", 0755);
        check_errno(mkfifoat(s.fd, "fifo-1.0.dist-info/RECORD", 0600));
        alarm(10);
        _cleanup_strv_ char **mods = NULL;
        assert_int_equal(venv_top_level(s.fd, &mods), 0);
        alarm(0);
        assert_strv_empty(mods);
        site_close(&s);
}

/* ---- venv_site_packages ------------------------------------------------------------------ */

static void test_site_packages(void **state)
{
        struct tmp *t = *state;
        mkdir_p(t->fd, "venv/lib/python3.11/site-packages", 0755);
        mkdir_p(t->fd, "venv/lib/python3.12", 0755); /* no site-packages: not counted */
        mkdir_p(t->fd, "venv/lib/other/site-packages", 0755);
        int vfd = openat(t->fd, "venv", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(vfd >= 0);
        char *rel = NULL;
        assert_int_equal(venv_site_packages(vfd, &rel), 0);
        assert_string_equal(rel, "lib/python3.11/site-packages");
        free(rel);

        /* Two of them: which one Python uses is not for pyshare to guess. */
        mkdir_p(t->fd, "venv/lib/python3.12/site-packages", 0755);
        rel = (char *)0x1;
        assert_int_equal(venv_site_packages(vfd, &rel), -ENOTUNIQ);
        assert_ptr_equal(rel, (char *)0x1);

        /* A symlinked site-packages is not one. */
        check_errno(unlinkat(vfd, "lib/python3.12/site-packages", AT_REMOVEDIR));
        check_errno(symlinkat("../python3.11/site-packages", vfd, "lib/python3.12/site-packages"));
        rel = NULL;
        assert_int_equal(venv_site_packages(vfd, &rel), 0);
        assert_string_equal(rel, "lib/python3.11/site-packages");
        free(rel);
        close(vfd);

        /* None at all, or no lib/. */
        mkdir_p(t->fd, "empty/lib", 0755);
        vfd = openat(t->fd, "empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(venv_site_packages(vfd, &rel), -ENOENT);
        close(vfd);
        mkdir_p(t->fd, "nolib", 0755);
        vfd = openat(t->fd, "nolib", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(venv_site_packages(vfd, &rel), -ENOENT);
        close(vfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_pth_lines),
                tmp_test(test_pth_climbing),
                tmp_test(test_pth_order_hidden_and_special),
                tmp_test(test_pth_none),
                tmp_test(test_top_level),
                tmp_test(test_top_level_not_fooled_by_names),
                tmp_test(test_top_level_hostile),
                tmp_test(test_site_packages),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
