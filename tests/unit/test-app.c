/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The app model's pure logic: the defaults, said once, and what setup keeps in
 * /etc/pyshare/APP.conf over a package's settings. */
#include "app.h"
#include "config.h"
#include "helpers.h"

static void test_defaults(void **state)
{
        struct tmp *t = *state;
        const struct ctx x = {.rootfd = t->fd};
        _cleanup_config_ struct app_config c = {0};
        app_config_defaults(&x, &c);
        assert_string_equal(c.python, "/usr/bin/python3");
        assert_string_equal(c.group, "deploy");
        assert_string_equal(c.prefix, "/opt/pyshare");
        assert_string_equal(c.service, "apache2.service");
        assert_null(c.user);
        assert_int_equal(c.cgi, CFG_UNSET);

        /* A system with httpd and no apache2: httpd is the default service. */
        _cleanup_config_ struct app_config h = {0};
        mkdir_p(t->fd, "usr/lib/systemd/system", 0755);
        write_file(t->fd, "usr/lib/systemd/system/httpd.service", "[Service]\n");
        app_config_defaults(&x, &h);
        assert_string_equal(h.service, "httpd.service");
}

static void test_defaults_keep_what_is_set(void **state)
{
        struct tmp *t = *state;
        const struct ctx x = {.rootfd = t->fd};
        _cleanup_config_ struct app_config c = {
                .python = xstrdup("/usr/bin/python3.11"), .group = xstrdup("web"), .prefix = xstrdup("/srv/venvs"),
                .service = xstrdup("gunicorn@app"), .user = xstrdup("www-data"),
        };
        app_config_defaults(&x, &c);
        assert_string_equal(c.python, "/usr/bin/python3.11");
        assert_string_equal(c.group, "web");
        assert_string_equal(c.prefix, "/srv/venvs");
        assert_string_equal(c.service, "gunicorn@app.service"); /* normalised */
        assert_string_equal(c.user, "www-data");
}

/* Without a package's settings /etc keeps every setting. */
static void test_keep_without_package(void **state)
{
        (void)state;
        _cleanup_config_ struct app_config cfg = {
                .python = xstrdup("/usr/bin/python3"), .group = xstrdup("deploy"), .prefix = xstrdup("/opt/pyshare"),
                .service = xstrdup("apache2.service"), .user = xstrdup("www-data"), .cgi = CFG_YES,
        };
        _cleanup_config_ struct app_config own = {0};
        const struct app_config none = {0};
        app_config_to_keep(&cfg, NULL, &none, &none, &own);
        _cleanup_free_ char *want = config_format(&cfg), *got = config_format(&own);
        assert_string_equal(got, want);
}

/* With them, /etc keeps what was given now or before and differs from the package's, and the
 * user when the package names none: a package upgrade that changes the rest takes effect. */
static void test_keep_over_package(void **state)
{
        (void)state;
        const struct app_config vendor = {.python = (char *)"/usr/bin/python3.11", .group = (char *)"web",
                                          .prefix = (char *)"/srv/venvs"};
        const struct app_config etc_prev = {.group = (char *)"ops", .prefix = (char *)"/srv/venvs"};
        const struct app_config given = {.service = (char *)"gunicorn@app.service"};
        const struct app_config cfg = {.python = (char *)"/usr/bin/python3.11", .group = (char *)"ops",
                                       .prefix = (char *)"/srv/venvs", .service = (char *)"gunicorn@app.service",
                                       .user = (char *)"appuser"};
        _cleanup_config_ struct app_config own = {0};
        app_config_to_keep(&cfg, &vendor, &etc_prev, &given, &own);
        assert_null(own.python);                             /* the package's, not repeated */
        assert_string_equal(own.group, "ops");               /* set before, differs */
        assert_null(own.prefix);                             /* set before, but the package's own value */
        assert_string_equal(own.service, "gunicorn@app.service"); /* given now */
        assert_string_equal(own.user, "appuser");            /* detected: the package names none */

        /* A package that names the user: /etc does not repeat it unless it was given. */
        const struct app_config vendor_user = {.user = (char *)"appuser"};
        _cleanup_config_ struct app_config own2 = {0};
        app_config_to_keep(&cfg, &vendor_user, &etc_prev, &given, &own2);
        assert_null(own2.user);
        const struct app_config given_user = {.user = (char *)"other"};
        _cleanup_config_ struct app_config own3 = {0};
        app_config_to_keep(&cfg, &vendor_user, &etc_prev, &given_user, &own3);
        assert_string_equal(own3.user, "other");
}

static void test_ids_root(void **state)
{
        (void)state;
        const struct ctx host = {.rootfd = 5}, image = {.root = "/img", .rootfd = 5};
        assert_int_equal(ids_root(&host), -1);
        assert_int_equal(ids_root(&image), 5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_defaults),
                tmp_test(test_defaults_keep_what_is_set),
                cmocka_unit_test(test_keep_without_package),
                cmocka_unit_test(test_keep_over_package),
                cmocka_unit_test(test_ids_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
