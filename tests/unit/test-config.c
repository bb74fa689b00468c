/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/pyshare/APP.conf: parsing, validation, canonical text. */
#include "config.h"
#include "helpers.h"

static const char full_text[] = "# pyshare configuration\n"
                                "\n"
                                "[App]\n"
                                "; another comment\n"
                                "Python=/usr/bin/python3.11\n"
                                "Group = deploy\n"
                                "Service=gunicorn@app.service\n"
                                "  User=www-data  \n"
                                "Prefix=/opt/venvs\n"
                                "Module=flask\n"
                                "\t# indented comment\n"
                                "Module=app.wsgi\n";

static const char canonical_text[] = "# Written by pyshare setup; pyshare reads it on every verb.\n"
                                     "[App]\n"
                                     "Python=/usr/bin/python3.11\n"
                                     "Group=deploy\n"
                                     "Service=gunicorn@app.service\n"
                                     "User=www-data\n"
                                     "Prefix=/opt/venvs\n"
                                     "Module=flask\n"
                                     "Module=app.wsgi\n";

static void parse_ok(const char *text, size_t len, struct app_config *c)
{
        unsigned line = 0;
        const char *why = "unset";
        int r = config_parse(text, len, c, &line, &why);
        if (r != 0)
                print_error("config_parse: line %u: %s\n", line, why ? why : "(null)");
        assert_int_equal(r, 0);
        assert_null(why);
}

static void test_parse_full(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config c = {0};
        parse_ok(full_text, strlen(full_text), &c);
        assert_string_equal(c.python, "/usr/bin/python3.11");
        assert_string_equal(c.group, "deploy");
        assert_string_equal(c.service, "gunicorn@app.service");
        assert_string_equal(c.user, "www-data");
        assert_string_equal(c.prefix, "/opt/venvs");
        assert_strv_equal(c.modules, "flask", "app.wsgi");
        const char *key = NULL;
        assert_int_equal(config_validate(&c, &key), 0);
}

static void test_parse_comments_blank_partial(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config c = {0};
        static const char text[] = "\n\n# only comments\n;and this\n   \n\t\n";
        parse_ok(text, strlen(text), &c);
        assert_null(c.python);
        assert_null(c.modules);

        /* Later settings replace earlier ones; Module= appends; an empty Module= adds nothing;
         * CRLF line ends and a missing final newline are fine. */
        static const char text2[] = "[App]\r\nPython=/a\r\nPython=/b\r\nModule=\r\nModule=x\r\n[App]\nModule=y";
        parse_ok(text2, strlen(text2), &c);
        assert_string_equal(c.python, "/b");
        assert_null(c.group);
        assert_strv_equal(c.modules, "x", "y");

        /* A second call adds to what is there. */
        static const char text3[] = "[App]\nModule=z\nGroup=g\n";
        parse_ok(text3, strlen(text3), &c);
        assert_string_equal(c.python, "/b");
        assert_string_equal(c.group, "g");
        assert_strv_equal(c.modules, "x", "y", "z");

        /* '#' or ';' only starts a comment at the start of a line. */
        _cleanup_config_ struct app_config d = {0};
        static const char text4[] = "[App]\nPython=/a#b\n";
        parse_ok(text4, strlen(text4), &d);
        assert_string_equal(d.python, "/a#b");
}

static void check_error(const char *text, size_t len, unsigned want_line, const char *want_why)
{
        _cleanup_config_ struct app_config c = {0};
        unsigned line = 0;
        const char *why = NULL;
        print_message("want line %u: %s\n", want_line, want_why);
        assert_int_equal(config_parse(text, len, &c, &line, &why), -EINVAL);
        assert_non_null(why);
        if (line != want_line || strcmp(why, want_why) != 0)
                print_error("got line %u \"%s\", want line %u \"%s\"\n", line, why, want_line, want_why);
        assert_int_equal(line, want_line);
        assert_string_equal(why, want_why);
}
#define check_error_str(text, line, why) check_error(text, strlen(text), line, why)

static void test_parse_errors(void **state)
{
        (void)state;
        check_error_str("[App]\nPython=/usr/bin/python3\nFoo=bar\n", 3, "unknown key");
        check_error_str("[App]\npython=/usr/bin/python3\n", 2, "unknown key"); /* keys are case-sensitive */
        check_error_str("[App]\nModules=x\n", 2, "unknown key");
        check_error_str("[App]\n[Install]\n", 2, "unknown section (only [App] is allowed)");
        check_error_str("[app]\n", 1, "unknown section (only [App] is allowed)");
        check_error_str("# c\n\n[App\n", 3, "unknown section (only [App] is allowed)");
        check_error_str("# header\nPython=/usr/bin/python3\n[App]\n", 2, "setting outside the [App] section");
        check_error_str("[App]\n\nPython\n", 3, "expected Key=Value");
        check_error_str("just words\n", 1, "expected Key=Value");

        static const char nul[] = "[App]\nPython=/usr\0/bin/python3\nUser=x\n";
        check_error(nul, sizeof(nul) - 1, 2, "NUL byte");

        /* 4096 characters per line at most. */
        struct buf b = {0};
        buf_puts(&b, "[App]\nPython=/");
        while (b.len < 6 + 4096)
                buf_puts(&b, "a");
        _cleanup_config_ struct app_config c = {0};
        parse_ok(b.p, b.len, &c);
        assert_int_equal(strlen(c.python), 4096 - strlen("Python="));
        buf_puts(&b, "a\n");
        check_error(b.p, b.len, 2, "line too long");
        buf_free(&b);
}

static void test_parse_module_limit(void **state)
{
        (void)state;
        _cleanup_buf_ struct buf b = {0};
        buf_puts(&b, "[App]\n");
        for (int i = 0; i < 256; i++)
                buf_printf(&b, "Module=m%d\n", i);
        _cleanup_config_ struct app_config c = {0};
        parse_ok(b.p, b.len, &c);
        assert_int_equal(strv_length(c.modules), 256);
        assert_string_equal(c.modules[255], "m255");

        buf_puts(&b, "Module=m256\n");
        check_error(b.p, b.len, 258, "too many Module= lines (at most 256)");
}

static void valid_config(struct app_config *c)
{
        *c = (struct app_config){
                .python = xstrdup("/usr/bin/python3.11"),
                .group = xstrdup("deploy"),
                .service = xstrdup("gunicorn@app.service"),
                .user = xstrdup("www-data"),
                .prefix = xstrdup("/opt/venvs"),
        };
        strv_push(&c->modules, "flask");
        strv_push(&c->modules, "app.wsgi");
}

/* Sets one field of a valid config to value and expects config_validate to name want_key. */
static void check_invalid(const char *field, const char *value, const char *want_key)
{
        _cleanup_config_ struct app_config c;
        valid_config(&c);
        char **f = strcmp(field, "python") == 0   ? &c.python
                   : strcmp(field, "group") == 0  ? &c.group
                   : strcmp(field, "user") == 0   ? &c.user
                   : strcmp(field, "service") == 0 ? &c.service
                   : strcmp(field, "prefix") == 0 ? &c.prefix
                                                  : &c.modules[1];
        free(*f);
        *f = xstrdup(value);
        const char *key = "unset";
        print_message("%s=\"%s\"\n", field, value);
        assert_int_equal(config_validate(&c, &key), -EINVAL);
        assert_string_equal(key, want_key);
}

static void test_validate(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config c;
        valid_config(&c);
        const char *key = "unset";
        assert_int_equal(config_validate(&c, &key), 0);
        assert_string_equal(key, "unset"); /* untouched on success */

        /* Unset fields are not errors (setup fills them in). */
        _cleanup_config_ struct app_config empty = {0};
        assert_int_equal(config_validate(&empty, &key), 0);

        check_invalid("python", "python3", "Python");
        check_invalid("python", "", "Python");
        check_invalid("python", "/usr/bin/py thon", "Python");
        check_invalid("python", "/usr/bin/../bin/python3", "Python");
        check_invalid("python", "/opt/py:/x", "Python");
        check_invalid("group", "Deploy", "Group");
        check_invalid("group", "", "Group");
        check_invalid("group", "a b", "Group");
        check_invalid("user", "1user", "User");
        check_invalid("user", "www-data:x", "User");
        check_invalid("service", "a/b", "Service");
        check_invalid("service", "x.socket", "Service");
        check_invalid("service", "a%i", "Service");
        check_invalid("service", "", "Service");
        check_invalid("prefix", "/", "Prefix");
        check_invalid("prefix", "opt/venvs", "Prefix");
        check_invalid("prefix", "/opt/venvs/", "Prefix");
        check_invalid("prefix", "/opt/$HOME", "Prefix");
        check_invalid("module", "a-b", "Module");
        check_invalid("module", "1x", "Module");
        check_invalid("module", "os;import", "Module");
}

static void test_format_literal(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config c;
        valid_config(&c);
        _cleanup_free_ char *text = config_format(&c);
        assert_string_equal(text, canonical_text);

        /* Only the fields that are set. */
        _cleanup_config_ struct app_config d = {.group = xstrdup("deploy")};
        _cleanup_free_ char *t2 = config_format(&d);
        assert_string_equal(t2, "# Written by pyshare setup; pyshare reads it on every verb.\n[App]\nGroup=deploy\n");
}

static void test_format_parse_round_trip(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config a = {0};
        parse_ok(full_text, strlen(full_text), &a);
        _cleanup_free_ char *text = config_format(&a);
        assert_string_equal(text, canonical_text);

        _cleanup_config_ struct app_config b = {0};
        parse_ok(text, strlen(text), &b);
        assert_string_equal(b.python, a.python);
        assert_string_equal(b.group, a.group);
        assert_string_equal(b.service, a.service);
        assert_string_equal(b.user, a.user);
        assert_string_equal(b.prefix, a.prefix);
        assert_int_equal(strv_length(b.modules), strv_length(a.modules));
        for (size_t i = 0; a.modules[i]; i++)
                assert_string_equal(b.modules[i], a.modules[i]);

        /* Deterministic: formatting again gives the same bytes, so a rerun rewrites nothing. */
        _cleanup_free_ char *again = config_format(&b);
        assert_string_equal(again, text);
}

/* Several User= lines: the first is the service user, the others read the venv; a file's list
 * replaces another's as a whole; an empty User= clears it; the text lists them in order. */
static void test_several_users(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config c = {0}, over = {0}, same = {0};
        static const char text[] = "[App]\nUser=www-data\nUser=monitor\nUser=www-data\nUser=metrics\n";
        parse_ok(text, strlen(text), &c);
        assert_string_equal(c.user, "www-data");
        assert_strv_equal(c.more_users, "monitor", "metrics");
        const char *key = NULL;
        assert_int_equal(config_validate(&c, &key), 0);
        _cleanup_free_ char *t = config_format(&c);
        assert_non_null(strstr(t, "User=www-data\nUser=monitor\nUser=metrics\n"));
        _cleanup_strv_ char **all = config_users(&c);
        assert_strv_equal(all, "www-data", "monitor", "metrics");

        static const char one[] = "[App]\nUser=apache\n";
        parse_ok(one, strlen(one), &over);
        parse_ok(text, strlen(text), &same);
        config_subtract(&same, &c); /* the same list: nothing to repeat */
        assert_null(same.user);
        assert_null(same.more_users);
        config_overlay(&c, &over);
        assert_string_equal(c.user, "apache");
        assert_null(c.more_users);

        static const char cleared[] = "[App]\nUser=a\nUser=b\nUser=\n";
        _cleanup_config_ struct app_config e = {0};
        parse_ok(cleared, strlen(cleared), &e);
        assert_null(e.user);
        assert_null(e.more_users);

        static const char bad[] = "[App]\nUser=a\nUser=Bad!\n";
        _cleanup_config_ struct app_config b = {0};
        parse_ok(bad, strlen(bad), &b);
        assert_int_equal(config_validate(&b, &key), -EINVAL);
        assert_string_equal(key, "User");

        static const char many[] = "[App]\nUser=u1\nUser=u2\nUser=u3\nUser=u4\nUser=u5\nUser=u6\nUser=u7\nUser=u8\n"
                                   "User=u9\n";
        _cleanup_config_ struct app_config m = {0};
        unsigned line = 0;
        const char *why = NULL;
        assert_int_equal(config_parse(many, strlen(many), &m, &line, &why), -EINVAL);
        assert_int_equal(line, 10);
        assert_string_equal(why, "too many User= lines (at most 8)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_several_users),
                cmocka_unit_test(test_parse_full),      cmocka_unit_test(test_parse_comments_blank_partial),
                cmocka_unit_test(test_parse_errors),    cmocka_unit_test(test_parse_module_limit),
                cmocka_unit_test(test_validate),        cmocka_unit_test(test_format_literal),
                cmocka_unit_test(test_format_parse_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
