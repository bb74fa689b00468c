/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which Python built a venv and which one a program is, read from names and files only
 * (issue 14): the evidence of a python-mismatch. The test directory is an image (--root). */
#include "helpers.h"
#include "pyversion.h"

static void assert_version(const char *name, const char *want)
{
        _cleanup_free_ char *v = pyversion_from_name(name);
        if (!want)
                assert_null(v);
        else {
                assert_non_null(v);
                assert_string_equal(v, want);
        }
}

static void test_from_name(void **state)
{
        (void)state;
        assert_version("libpython3.11.so.1.0", "3.11");
        assert_version("libpython3.13d.so.1.0", "3.13");
        assert_version("python3.9", "3.9");
        assert_version("/usr/bin/python3.12", "3.12");
        assert_version("_ext.cpython-311-x86_64-linux-gnu.so", "3.11");
        assert_version("_ext.cpython-39-x86_64-linux-gnu.so", "3.9");
        assert_version("python3", NULL);
        assert_version("python", NULL);
        assert_version("_ext.abi3.so", NULL);
        assert_version(NULL, NULL);
}

/* A venv as Python 3.9 left it, under a root whose python3 is 3.11. */
static void test_venv_mismatch(void **state)
{
        struct tmp *t = *state;
        mkdir_p(t->fd, "usr/bin", 0755);
        write_file(t->fd, "usr/bin/python3.11", "");
        check_errno(fchmodat(t->fd, "usr/bin/python3.11", 0755, 0));
        check_errno(symlinkat("python3.11", t->fd, "usr/bin/python3"));
        mkdir_p(t->fd, "opt/pyshare/app/lib/python3.9/site-packages/pkg", 0755);
        mkdir_p(t->fd, "opt/pyshare/app/bin", 0755);
        write_file(t->fd, "opt/pyshare/app/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.9.2\n");
        write_file(t->fd, "opt/pyshare/app/lib/python3.9/site-packages/pkg/_c.cpython-39-x86_64-linux-gnu.so", "");
        write_file(t->fd, "opt/pyshare/app/lib/python3.9/site-packages/_s.abi3.so", "");
        check_errno(symlinkat("/usr/bin/python3.9", t->fd, "opt/pyshare/app/bin/python3"));
        check_errno(symlinkat("python3", t->fd, "opt/pyshare/app/bin/python"));

        _cleanup_free_ char *resolved = NULL, *v = NULL;
        assert_int_equal(pyversion_of_program(t->fd, "/usr/bin/python3", &resolved, &v), 0);
        assert_string_equal(resolved, "/usr/bin/python3.11");
        assert_string_equal(v, "3.11");

        struct pyvenv pv = {0};
        assert_int_equal(pyversion_venv(t->fd, "opt/pyshare/app", "/opt/pyshare/app", &pv), 0);
        assert_string_equal(pv.version, "3.9");
        assert_string_equal(pv.cfg_version, "3.9.2");
        assert_string_equal(pv.home, "/usr/bin");
        assert_strv_equal(pv.lib_versions, "3.9");
        assert_strv_equal(pv.abi_tags, "3.9");
        assert_null(pv.bin_target);
        assert_string_equal(pv.bin_link, "/usr/bin/python3.9");
        pyvenv_free(&pv);

        /* No unit file: the app's Python= is the reference. */
        struct pycheck c = {0};
        assert_int_equal(pycheck_app(t->fd, "app", "none.service", "opt/pyshare/app", "/opt/pyshare/app",
                                     "/usr/bin/python3", false, &c),
                         0);
        assert_string_equal(c.want, "3.11");
        assert_non_null(c.mismatch);
        assert_string_equal(c.mismatch,
                            "/opt/pyshare/app was built by Python 3.9 (pyvenv.cfg says version = 3.9.2; it has "
                            "lib/python3.9; its extension modules are built for Python 3.9; bin/python leads to "
                            "/usr/bin/python3.9, which does not exist), but the app's Python /usr/bin/python3 "
                            "(/usr/bin/python3.11) is Python 3.11: run `pyshare rebuild app`");
        pycheck_free(&c);

        /* Against a 3.9 reference the same venv fits but for its missing bin/python target. */
        write_file(t->fd, "usr/bin/python3.9", "");
        assert_int_equal(pycheck_app(t->fd, "app", "none.service", "opt/pyshare/app", "/opt/pyshare/app",
                                     "/usr/bin/python3.9", true, &c),
                         0);
        assert_string_equal(c.want, "3.9");
        assert_null(c.mismatch);
        pycheck_free(&c);
}

/* A 3.11 venv with one foreign extension module: only the walk of lib/ sees it, and it skips
 * __pycache__ and *.dist-info, from which Python loads none. The probe's job leaves the walk
 * out unless asked (its imports work or fail by themselves). */
static void test_venv_abi_walk(void **state)
{
        struct tmp *t = *state;
        mkdir_p(t->fd, "usr/bin", 0755);
        write_file(t->fd, "usr/bin/python3.11", "");
        const char *sp = "opt/pyshare/app/lib/python3.11/site-packages";
        _cleanup_free_ char *pkg = xasprintf("%s/pkg/sub", sp), *cache = xasprintf("%s/pkg/__pycache__", sp),
                            *dist = xasprintf("%s/pkg-1.0.dist-info", sp),
                            *so = xasprintf("%s/_c.cpython-39-x86_64-linux-gnu.so", pkg),
                            *so_cache = xasprintf("%s/_x.cpython-38-x86_64-linux-gnu.so", cache),
                            *so_dist = xasprintf("%s/_y.cpython-37-x86_64-linux-gnu.so", dist);
        mkdir_p(t->fd, pkg, 0755);
        mkdir_p(t->fd, cache, 0755);
        mkdir_p(t->fd, dist, 0755);
        write_file(t->fd, so, "");
        write_file(t->fd, so_cache, "");
        write_file(t->fd, so_dist, "");
        write_file(t->fd, "opt/pyshare/app/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.2\n");

        struct pyvenv pv = {0};
        assert_int_equal(pyversion_venv(t->fd, "opt/pyshare/app", "/opt/pyshare/app", &pv), 0);
        assert_strv_equal(pv.abi_tags, "3.9");
        pyvenv_free(&pv);

        struct pycheck c = {0};
        struct pycheck_job pj = {.rootfd = t->fd, .app = "app", .unit = "none.service", .venv_rel = "opt/pyshare/app",
                                 .venv_abs = "/opt/pyshare/app", .python = "/usr/bin/python3.11", .pc = &c};
        pycheck_job_run(&pj);
        assert_int_equal(pj.r, 0);
        assert_null(c.mismatch);
        pycheck_job_run(&pj); /* once */
        assert_null(c.venv.abi_tags);
        pycheck_free(&c);
        pj.abi = true;
        pj.done = false;
        pycheck_job_run(&pj);
        assert_int_equal(pj.r, 0);
        assert_string_equal(c.mismatch, "/opt/pyshare/app was built by Python 3.11 (its extension modules are built for "
                                        "Python 3.9), but the app's Python /usr/bin/python3.11 is Python 3.11: run "
                                        "`pyshare rebuild app`");
        pycheck_free(&c);
}

/* A unit whose ExecStart= runs a script: its #! line names the interpreter. */
static void test_unit_shebang(void **state)
{
        struct tmp *t = *state;
        mkdir_p(t->fd, "usr/bin", 0755);
        mkdir_p(t->fd, "etc/systemd/system", 0755);
        write_file(t->fd, "usr/bin/python3.13", "");
        write_file(t->fd, "usr/bin/app-server", "#!/usr/bin/env python3.13\nprint('hi')\n");
        write_file(t->fd, "etc/systemd/system/app.service", "[Service]\nUser=nobody\nExecStart=/usr/bin/app-server --port 8000\n");
        struct pyservice s = {0};
        assert_int_equal(pyversion_service(t->fd, "app.service", &s), 0);
        assert_int_equal(s.kind, PYSERVICE_UNIT);
        assert_string_equal(s.version, "3.13");
        assert_string_equal(s.program, "/usr/bin/python3.13");
        assert_string_equal(s.source, "ExecStart= runs /usr/bin/app-server, whose #! line names /usr/bin/python3.13 "
                                      "(/usr/bin/python3.13)");
        pyservice_free(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_from_name),
                tmp_test(test_venv_mismatch),
                tmp_test(test_venv_abi_walk),
                tmp_test(test_unit_shebang),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
