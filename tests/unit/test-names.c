/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and paths that become file names, unit names and EnvironmentFile values. */
#include "helpers.h"
#include "names.h"

static char *repeat(char c, size_t n)
{
        char *s = xmalloc(n + 1);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

static void test_app_name_valid(void **state)
{
        (void)state;
        _cleanup_free_ char *max = repeat('a', 63), *over = repeat('a', 64);
        static const char *const good[] = {"a", "0", "demo", "my-app_2", "9lives", "a-", "a_"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good: \"%s\"\n", good[i]);
                assert_true(app_name_valid(good[i]));
        }
        assert_true(app_name_valid(max));

        static const char *const bad[] = {"",   ".",  "..", "../x", "a/b", "-rf", "_a", "a b", "%",  "a%i",
                                          "*",  "@",  "a@b", "Upper", "aB", "é",   "a\n", "a\\b", "a.b", "a:b"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad: \"%s\"\n", bad[i]);
                assert_false(app_name_valid(bad[i]));
        }
        assert_false(app_name_valid(over));
        assert_false(app_name_valid(NULL));
}

static void test_user_name_valid(void **state)
{
        (void)state;
        _cleanup_free_ char *max = repeat('u', 32), *over = repeat('u', 33);
        static const char *const good[] = {"a", "www-data", "_apt", "deploy", "svc_app1", "a-"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good: \"%s\"\n", good[i]);
                assert_true(user_name_valid(good[i]));
        }
        assert_true(user_name_valid(max));

        static const char *const bad[] = {"", "1abc", "-a", "Root", "a b", "a:b", "a.b", "a/b", "a\n", "é", "a$"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad: \"%s\"\n", bad[i]);
                assert_false(user_name_valid(bad[i]));
        }
        assert_false(user_name_valid(over));
        assert_false(user_name_valid(NULL));
}

static void test_module_name_valid(void **state)
{
        (void)state;
        _cleanup_free_ char *max = repeat('m', 200), *over = repeat('m', 201);
        static const char *const good[] = {"numpy", "flask.json", "_x", "A1", "a.b.c", "app.wsgi", "__main__"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good: \"%s\"\n", good[i]);
                assert_true(module_name_valid(good[i]));
        }
        assert_true(module_name_valid(max));

        static const char *const bad[] = {"",    "1x",  "a..b", "a.",  ".a", "a-b", "a b", "a/b",
                                          "a.1b", "os;", "é",    "a\n", ".",  "x:y"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad: \"%s\"\n", bad[i]);
                assert_false(module_name_valid(bad[i]));
        }
        assert_false(module_name_valid(over));
        assert_false(module_name_valid(NULL));
}

static void test_unit_name_normalize_good(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
                {"apache2", "apache2.service"},
                {"apache2.service", "apache2.service"},
                {"gunicorn@app.service", "gunicorn@app.service"},
                {"gunicorn@app", "gunicorn@app.service"},
                {"my_app-2", "my_app-2.service"},
                {"foo.bar", "foo.bar.service"},
                {"dev:x", "dev:x.service"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;
                print_message("\"%s\"\n", cases[i][0]);
                assert_int_equal(unit_name_normalize(cases[i][0], &out), 0);
                assert_string_equal(out, cases[i][1]);
        }
}

static void test_unit_name_normalize_bad(void **state)
{
        (void)state;
        static const char *const bad[] = {"a/b",        "a%i",       "x.socket",   "x.timer",     "x.target",
                                          "x.mount",    "",          "@.service",  "foo@.service", "foo@",
                                          ".service",   "-foo",      ".foo",       "@foo",        "a b",
                                          "a\\x2d",     "a\nb",      "a$b",        "é.service",   "a\"b"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *sentinel = (char *)"untouched", *out = sentinel;
                print_message("bad: \"%s\"\n", bad[i]);
                assert_int_equal(unit_name_normalize(bad[i], &out), -EINVAL);
                assert_ptr_equal(out, sentinel); /* ret_* written only on success */
        }
        _cleanup_free_ char *longname = repeat('a', 241);
        char *out = NULL;
        assert_int_equal(unit_name_normalize(longname, &out), -EINVAL);
        assert_null(out);
}

static void test_path_safe_absolute(void **state)
{
        (void)state;
        static const char *const good[] = {"/", "/opt/venvs", "/usr/bin/python3.11", "/a/b-c_d+e@f", "/.hidden",
                                           "/a/..b", "/a/b.."};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good: \"%s\"\n", good[i]);
                assert_true(path_safe_absolute(good[i]));
        }
        static const char *const bad[] = {"",      "rel",    "a/b",   "//",    "/a//b",  "/a/",    "/.",
                                          "/..",   "/a/./b", "/a/..", "/a/../b", "/a b", "/a:b",   "/a%b",
                                          "/a\"b", "/a$b",   "/a'b",  "/a\\b", "/é",    "/a\nb",  "/a;b",
                                          "/a*",   "/a=b",   "/a`b"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad: \"%s\"\n", bad[i]);
                assert_false(path_safe_absolute(bad[i]));
        }
        assert_false(path_safe_absolute(NULL));

        /* 1024 characters at most; one component at most 255. */
        _cleanup_buf_ struct buf p = {0};
        while (p.len < 1024)
                buf_puts(&p, "/abc");
        assert_int_equal(p.len, 1024);
        assert_true(path_safe_absolute(p.p));
        buf_puts(&p, "d");
        assert_false(path_safe_absolute(p.p));
        _cleanup_free_ char *comp = repeat('c', 256);
        _cleanup_free_ char *longcomp = xasprintf("/%s", comp);
        assert_false(path_safe_absolute(longcomp));
        longcomp[256] = 0; /* 255 characters */
        assert_true(path_safe_absolute(longcomp));
}

static void test_path_safe_relative(void **state)
{
        (void)state;
        static const char *const good[] = {"a", "a/b", "lib/python3.11/site-packages", "src", "..a", ".x/y"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good: \"%s\"\n", good[i]);
                assert_true(path_safe_relative(good[i]));
        }
        static const char *const bad[] = {"", "/a", "..", "../a", "a/..", "a/../b", "a//b", "a/", ".",
                                          "a b", "a:b", "a%b", "$x", "é", "a\nb"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad: \"%s\"\n", bad[i]);
                assert_false(path_safe_relative(bad[i]));
        }
        assert_false(path_safe_relative(NULL));
}

static void test_mode_string(void **state)
{
        (void)state;
        static const struct {
                mode_t m;
                const char *s;
        } cases[] = {
                {S_IFDIR | 02770, "drwxrws---"}, {S_IFREG | 04755, "-rwsr-xr-x"}, {S_IFREG | 0644, "-rw-r--r--"},
                {S_IFREG | 04644, "-rwSr--r--"}, {S_IFREG | 02640, "-rw-r-S---"}, {S_IFDIR | 01777, "drwxrwxrwt"},
                {S_IFDIR | 01776, "drwxrwxrwT"}, {S_IFLNK | 0777, "lrwxrwxrwx"},  {S_IFIFO | 0600, "prw-------"},
                {S_IFSOCK | 0755, "srwxr-xr-x"}, {S_IFCHR | 0666, "crw-rw-rw-"},  {S_IFBLK | 0660, "brw-rw----"},
                {S_IFREG | 0, "----------"},     {S_IFREG | 07777, "-rwsrwsrwt"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char out[11];
                memset(out, 'X', sizeof(out));
                mode_string(cases[i].m, out);
                assert_string_equal(out, cases[i].s);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_app_name_valid),         cmocka_unit_test(test_user_name_valid),
                cmocka_unit_test(test_module_name_valid),      cmocka_unit_test(test_unit_name_normalize_good),
                cmocka_unit_test(test_unit_name_normalize_bad), cmocka_unit_test(test_path_safe_absolute),
                cmocka_unit_test(test_path_safe_relative),     cmocka_unit_test(test_mode_string),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
