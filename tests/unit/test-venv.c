/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a virtualenv's site-packages holds, read without running any of it: .pth path lines
 * (with site.py's rules) and the top-level import names of the installed distributions. */
#include "helpers.h"
#include "acl.h"
#include "venv.h"

#define SITE "lib/python3.11/site-packages"
#define SITE_ABS "/" SITE

/* The service user of these tests: nobody on a test machine. The test directory is an image
 * (as under --root): its etc/group says which groups the user is in, and absolute paths in
 * .pth lines are looked up below it. */
#define UID_SVC 54321u

struct site {
        struct tmp *t;
        int fd;        /* site-packages */
        char *abs;     /* its absolute path in the image */
        struct ps_user user;
};

static void site_open(void **state, struct site *s)
{
        s->t = *state;
        check_errno(fchmod(s->t->fd, 0755));
        mkdir_p(s->t->fd, SITE, 0755);
        s->fd = openat(s->t->fd, SITE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s->fd >= 0);
        s->abs = xstrdup(SITE_ABS);
        s->user = (struct ps_user){.name = xstrdup("svc"), .uid = UID_SVC, .gid = UID_SVC, .home = xstrdup("/")};
        write_file(s->t->fd, "etc/group", "svc:x:54321:\n");
}

static void site_close(struct site *s)
{
        close(s->fd);
        free(s->abs);
        ps_user_free(&s->user);
}

static int read_pth(struct site *s, struct pth_info *p)
{
        return venv_read_pth(s->t->fd, s->t->fd, s->fd, s->abs, &s->user, p);
}

static size_t refused_total(const struct pth_info *p)
{
        size_t n = 0;
        for (size_t i = 0; i < _PTH_REFUSED_MAX; i++)
                n += p->refused[i];
        return n;
}

/* ---- .pth files ------------------------------------------------------------------------- */

static void test_pth_lines(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.fd, "sub", 0755);
        mkdir_p(s.fd, "deeper/pkg", 0755);
        mkdir_p(s.t->fd, "abs-dir", 0755);
        write_file(s.fd, "a.pth", "sub\n"
                                  "# a comment\n"
                                  "\n"
                                  "import x\n"
                                  "import\tsys; sys.path.insert(0, '/evil')\n"
                                  "missing\n"
                                  "/abs-dir\n"
                                  "/nonexistent/absolute\n"
                                  "\033[2J\n"
                                  "a:b\n"
                                  "sub\n"
                                  "./sub/\n"
                                  "deeper/./pkg/../pkg  \r\n"
                                  "   \n"
                                  ".\n"
                                  "import \n"
                                  "/abs-dir");

        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        /* Relative existing → absolute; nonexistent dropped; duplicates once; site-packages
         * itself (".") not repeated; the last line needs no newline. */
        assert_strv_equal(p.dirs, SITE_ABS "/sub", "/abs-dir", SITE_ABS "/deeper/pkg");
        /* Import lines are listed, never run. */
        assert_strv_equal(p.code_lines, "a.pth: import x", "a.pth: import\tsys; sys.path.insert(0, '/evil')",
                          "a.pth: import ");
        assert_int_equal(p.n_code_lines, 3);
        /* Characters that mean something in PYTHONPATH or unit files, or on a terminal, are
         * refused, and shown harmless. The white space only line is not a path. */
        assert_int_equal(refused_total(&p), 2);
        assert_int_equal(p.refused[PTH_REFUSED_CHARS], 2);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "2 path lines with characters that cannot go into PYTHONPATH (or over 1024 "
                                     "long) (first: a.pth: ?[2J)");
        pth_info_free(&p);
        assert_null(p.dirs);
        site_close(&s);
}

/* "../outside" climbs above site-packages: site.py adds the normalised directory, and so does
 * pyshare; above / is refused. */
static void test_pth_climbing(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.t->fd, "lib/python3.11/outside", 0755);
        mkdir_p(s.t->fd, "etc", 0755);
        write_file(s.fd, "climb.pth", "../outside\n../../../../../../../../../../etc\n/../tmp\n");
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, "/lib/python3.11/outside");
        assert_int_equal(p.refused[PTH_REFUSED_NOT_BELOW], 2);
        assert_string_equal(p.refused_first[PTH_REFUSED_NOT_BELOW], "climb.pth: ../../../../../../../../../../etc");
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
        assert_int_equal(read_pth(&s, &p), 0);
        alarm(0);
        assert_true(now_ms() - start < 1000);
        assert_int_equal(strv_length(p.dirs), 10);
        for (size_t i = 0; i < 10; i++)
                assert_string_equal(p.dirs[i], want[i]);
        assert_strv_empty(p.code_lines);
        assert_int_equal(refused_total(&p), 2);
        assert_int_equal(p.refused[PTH_REFUSED_NOT_FILE], 2);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "2 .pth names that are not a readable regular file (first: dir.pth)");
        pth_info_free(&p);
        site_close(&s);
}

static void test_pth_none(void **state)
{
        struct site s;
        site_open(state, &s);
        struct pth_info p = {.dirs = (char **)0x1};
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_empty(p.dirs);
        assert_strv_empty(p.code_lines);
        assert_int_equal(refused_total(&p), 0);
        assert_null(pth_refused_summary(&p));
        pth_info_free(&p);
        site_close(&s);
}

/* ---- whose view: the service user's, in the image ------------------------------------------ */

/* A directory enters PYTHONPATH only when the service user can search every directory on the
 * way and read and search it; root (the test, perhaps) seeing it is not enough. */
static void test_pth_user_view(void **state)
{
        struct site s;
        site_open(state, &s);
        gid_t mine = getegid();
        _cleanup_free_ char *groups = xasprintf("svc:x:54321:\nstaff:x:%u:someone,svc\n", (unsigned)mine);
        write_file(s.t->fd, "etc/group", groups);
        mkdir_p(s.t->fd, "open/lib", 0755);
        mkdir_p(s.t->fd, "closed/lib", 0755);
        check_errno(fchmodat(s.t->fd, "closed", 0700, 0));      /* another user's home */
        mkdir_p(s.t->fd, "noread", 0711);                        /* searchable, not listable */
        mkdir_p(s.t->fd, "grp/lib", 0755);
        check_errno(fchmodat(s.t->fd, "grp", 0750, 0));          /* through the group svc is in */
        mkdir_p(s.t->fd, "grpdeny/lib", 0755);
        check_errno(fchmodat(s.t->fd, "grpdeny", 0705, 0));      /* its group may not, others may */
        mkdir_p(s.t->fd, "acl/lib", 0755);
        {
                /* 0700, and an ACL entry u:svc:r-x */
                int fd = openat(s.t->fd, "acl", O_PATH | O_DIRECTORY | O_CLOEXEC);
                assert_true(fd >= 0);
                const struct acl_want w = {.owner = 7, .user = UID_SVC, .user_perm = 5, .group = mine};
                assert_int_equal(acl_apply_fd(fd, &w, NULL), 0);
                close(fd);
        }
        write_file(s.t->fd, "open/egg.zip", "PK");
        write_file(s.t->fd, "open/secret.zip", "PK");
        check_errno(fchmodat(s.t->fd, "open/secret.zip", 0600, 0));
        /* Inside the image a symlink to an absolute path stays in the image. */
        check_errno(symlinkat("/open/lib", s.t->fd, "link"));
        check_errno(symlinkat("../../../../../../../../open", s.t->fd, "up"));
        check_errno(symlinkat("/closed/lib", s.fd, "sneaky"));
        /* A directory of the host that the image does not have. */
        _cleanup_free_ char *host_dir = xasprintf("%s/open/lib", s.t->path);
        _cleanup_free_ char *pth = xasprintf("/open/lib\n/closed/lib\n/noread\n/grp/lib\n/grpdeny/lib\n/acl/lib\n"
                                             "/open/egg.zip\n/open/secret.zip\n/link\n/up/lib\nsneaky\n%s\n",
                                             host_dir);
        write_file(s.fd, "a.pth", pth);

        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, "/open/lib", "/grp/lib", "/acl/lib", "/open/egg.zip", "/link", "/up/lib");
        assert_int_equal(p.refused[PTH_REFUSED_UNREACHABLE], 5);
        assert_int_equal(refused_total(&p), 5);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "5 path lines not reachable by svc (first: a.pth: /closed/lib)");
        pth_info_free(&p);

        /* Without the group entry, the 0705 directory is open to svc (as one of the others)
         * and the 0750 one is closed. */
        write_file(s.t->fd, "etc/group", "svc:x:54321:\n");
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, "/open/lib", "/grpdeny/lib", "/acl/lib", "/open/egg.zip", "/link", "/up/lib");
        pth_info_free(&p);
        site_close(&s);
}

/* ---- caps ------------------------------------------------------------------------------------ */

static void test_pth_cap_files(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.fd, "d", 0755);
        /* More .pth files than the cap, in reverse order: the first PTH_FILES_MAX by name are
         * read, the others are left out whole, counted once. */
        for (int i = PTH_FILES_MAX + 43; i >= 0; i--) {
                _cleanup_free_ char *file = xasprintf("%04d.pth", i), *line = xasprintf("d/%d\n", i);
                _cleanup_free_ char *dir = xasprintf("d/%d", i);
                mkdir_p(s.fd, dir, 0755);
                write_file(s.fd, file, line);
        }
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_int_equal(strv_length(p.dirs), PTH_FILES_MAX);
        assert_string_equal(p.dirs[0], SITE_ABS "/d/0");
        assert_string_equal(p.dirs[PTH_FILES_MAX - 1], SITE_ABS "/d/255");
        assert_int_equal(p.refused[PTH_REFUSED_FILES], 44);
        assert_int_equal(refused_total(&p), 44);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "44 .pth files beyond the first 256 (first: 0256.pth)");
        pth_info_free(&p);
        site_close(&s);
}

static char *repeat(const char *unit, size_t n)
{
        struct buf b = {0};
        for (size_t i = 0; i < n; i++)
                buf_puts(&b, unit);
        buf_append(&b, "", 0);
        return b.p;
}

static void test_pth_cap_sizes(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.fd, "ok", 0755);
        /* One byte over the size of a file; one line over the lines of a file: left out whole,
         * the good line in them too. */
        _cleanup_free_ char *pad = repeat("#", PTH_FILE_BYTES_MAX - 3);
        _cleanup_free_ char *big = xasprintf("ok\n%s\n", pad);
        assert_int_equal(strlen(big), PTH_FILE_BYTES_MAX + 1);
        write_file(s.fd, "a-big.pth", big);
        _cleanup_free_ char *lines = repeat("ok\n", PTH_FILE_LINES_MAX + 1);
        write_file(s.fd, "b-long.pth", lines);
        /* At the size and lines of a file: read. */
        _cleanup_free_ char *pad2 = repeat("#", PTH_FILE_BYTES_MAX - 4);
        _cleanup_free_ char *full = xasprintf("ok\n%s\n", pad2);
        write_file(s.fd, "c-full.pth", full);
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, SITE_ABS "/ok");
        assert_int_equal(p.refused[PTH_REFUSED_FILE_SIZE], 2);
        assert_int_equal(refused_total(&p), 2);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "2 .pth files over 64 KiB or 1024 lines (first: a-big.pth)");
        pth_info_free(&p);

        /* The totals: 16 files of 64 KiB - 8 fill 1 MiB but 128 bytes; a 17th is left out, a
         * later one that fits in what remains is not. */
        unlinkat(s.fd, "a-big.pth", 0);
        unlinkat(s.fd, "b-long.pth", 0);
        unlinkat(s.fd, "c-full.pth", 0);
        _cleanup_free_ char *max = repeat("#", PTH_FILE_BYTES_MAX - 9);
        for (int i = 0; i < 17; i++) {
                _cleanup_free_ char *f = xasprintf("f%02d.pth", i), *t = xasprintf("%s\n", max);
                write_file(s.fd, f, t);
        }
        write_file(s.fd, "z.pth", "ok\n");
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, SITE_ABS "/ok");
        assert_int_equal(p.refused[PTH_REFUSED_TOTAL], 1);
        assert_string_equal(p.refused_first[PTH_REFUSED_TOTAL], "f16.pth");
        pth_info_free(&p);
        for (int i = 0; i < 17; i++) {
                _cleanup_free_ char *f = xasprintf("f%02d.pth", i);
                unlinkat(s.fd, f, 0);
        }
        /* Lines in all: 8 files of 1000 lines fit in 8192; a 9th is left out, z.pth is not. */
        _cleanup_free_ char *comments = repeat("#\n", 1000);
        for (int i = 0; i < 9; i++) {
                _cleanup_free_ char *f = xasprintf("l%d.pth", i);
                write_file(s.fd, f, comments);
        }
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, SITE_ABS "/ok");
        assert_int_equal(p.refused[PTH_REFUSED_TOTAL], 1);
        _cleanup_free_ char *summary2 = pth_refused_summary(&p);
        assert_string_equal(summary2, "1 .pth file past 1 MiB or 8192 lines in all (first: l8.pth)");
        pth_info_free(&p);
        site_close(&s);
}

static void test_pth_cap_dirs(void **state)
{
        struct site s;
        site_open(state, &s);
        /* More directories than the cap, in two files. */
        struct buf a = {0}, b = {0};
        for (int i = 0; i < PTH_DIRS_MAX + 10; i++) {
                _cleanup_free_ char *dir = xasprintf("d%d", i);
                mkdir_p(s.fd, dir, 0755);
                buf_printf(i < 200 ? &a : &b, "%s\n", dir);
        }
        buf_append(&a, "", 0);
        buf_append(&b, "", 0);
        write_file(s.fd, "a.pth", a.p);
        write_file(s.fd, "b.pth", b.p);
        buf_free(&a);
        buf_free(&b);
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_int_equal(strv_length(p.dirs), PTH_DIRS_MAX);
        assert_int_equal(p.refused[PTH_REFUSED_DIRS], 10);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_string_equal(summary, "10 path lines past 256 directories or 16 KiB (first: b.pth: d256)");
        pth_info_free(&p);
        unlinkat(s.fd, "a.pth", 0);
        unlinkat(s.fd, "b.pth", 0);

        /* And their length in PYTHONPATH: long names fill 16 KiB before 256 directories. */
        _cleanup_free_ char *name = repeat("n", 240);
        _cleanup_free_ char *chain = xasprintf("%s/%s/%s", name, name, name);
        mkdir_p(s.fd, chain, 0755);
        struct buf c[2] = {0};
        size_t bytes = 0, fit = 0;
        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%03d", chain, i);
                mkdir_p(s.fd, dir, 0755);
                buf_printf(&c[i % 2], "%s\n", dir);
                size_t len = strlen(SITE_ABS) + 1 + strlen(dir) + 1;
                if (bytes + len <= PTH_DIRS_BYTES_MAX) {
                        bytes += len;
                        fit++;
                }
        }
        for (int i = 0; i < 2; i++) { /* two files: one would be over 64 KiB */
                _cleanup_free_ char *f = xasprintf("c%d.pth", i);
                buf_append(&c[i], "", 0);
                write_file(s.fd, f, c[i].p);
                buf_free(&c[i]);
        }
        assert_int_equal(read_pth(&s, &p), 0);
        assert_int_equal(strv_length(p.dirs), fit);
        assert_true(fit < 100);
        assert_int_equal(p.refused[PTH_REFUSED_DIRS], 100 - fit);
        pth_info_free(&p);
        site_close(&s);
}

/* Linear: a line repeated thousands of times is looked up once; refusals are counted, not
 * listed; a line climbing through a thousand ".." is normalised in one pass. */
static void test_pth_linear(void **state)
{
        struct site s;
        site_open(state, &s);
        mkdir_p(s.fd, "one", 0755);
        _cleanup_free_ char *same = repeat("one\n", PTH_FILE_LINES_MAX);
        _cleanup_free_ char *bad = repeat(":\n", PTH_FILE_LINES_MAX);
        _cleanup_free_ char *deep = repeat("x/../", 3000);
        _cleanup_free_ char *deep_line = xasprintf("%sone\n", deep);
        for (int i = 0; i < 3; i++) {
                _cleanup_free_ char *f = xasprintf("same%d.pth", i), *g = xasprintf("bad%d.pth", i);
                write_file(s.fd, f, same);
                write_file(s.fd, g, bad);
        }
        write_file(s.fd, "deep.pth", deep_line);
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        assert_strv_equal(p.dirs, SITE_ABS "/one");
        /* Every component of lib/python3.11/site-packages/one, once. */
        assert_int_equal(p.lookups, 4);
        assert_int_equal(p.refused[PTH_REFUSED_CHARS], 3 * PTH_FILE_LINES_MAX);
        assert_int_equal(refused_total(&p), 3 * PTH_FILE_LINES_MAX);
        assert_string_equal(p.refused_first[PTH_REFUSED_CHARS], "bad0.pth: :");
        pth_info_free(&p);
        site_close(&s);
}

/* The lookups as the service user are capped too: paths of many components. */
static void test_pth_cap_lookups(void **state)
{
        struct site s;
        site_open(state, &s);
        _cleanup_free_ char *chain = repeat("a/", 500);
        mkdir_p(s.t->fd, chain, 0755);
        struct buf b = {0};
        for (int i = 0; i < 20; i++) {
                _cleanup_free_ char *l = repeat("/a", 500 - (size_t)i);
                buf_printf(&b, "%s\n", l);
        }
        buf_append(&b, "", 0);
        write_file(s.fd, "deep.pth", b.p);
        buf_free(&b);
        struct pth_info p;
        assert_int_equal(read_pth(&s, &p), 0);
        /* 500 + 499 + ... : the budget holds 8 such paths and most of a 9th. */
        assert_int_equal(strv_length(p.dirs), 8);
        assert_true(p.lookups <= PTH_LOOKUPS_MAX);
        assert_int_equal(p.refused[PTH_REFUSED_LOOKUPS], 12);
        _cleanup_free_ char *summary = pth_refused_summary(&p);
        assert_true(startswith(summary, "12 path lines not looked up after 4096 path components (first: deep.pth: /a/a/"));
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
                tmp_test(test_pth_user_view),
                tmp_test(test_pth_cap_files),
                tmp_test(test_pth_cap_sizes),
                tmp_test(test_pth_cap_dirs),
                tmp_test(test_pth_linear),
                tmp_test(test_pth_cap_lookups),
                tmp_test(test_top_level),
                tmp_test(test_top_level_not_fooled_by_names),
                tmp_test(test_top_level_hostile),
                tmp_test(test_site_packages),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
