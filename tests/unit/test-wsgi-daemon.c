/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An app in a mod_wsgi daemon process of its own: the Apache conf's text, the WSGIScript= and
 * URL= keys, and the line that names a conflict between apps of one service. */
#include "config.h"
#include "conflicts.h"
#include "wsgi-daemon.h"
/* helpers.h has a write_file of its own, for test trees; wiring.h's is not used here. */
#define write_file helpers_write_file
#include "helpers.h"
#undef write_file

static void test_conf_text(void **state)
{
        (void)state;
        struct app a = {.name = "shop", .venv = (char *)"/opt/pyshare/shop", .user = {.name = (char *)"www-data"}};
        a.cfg.wsgi_script = (char *)"/srv/shop/app.wsgi";
        _cleanup_free_ char *url = wsgi_daemon_url(&a), *text = wsgi_daemon_conf_text(&a, "www-data", url);
        assert_string_equal(url, "/shop");
        assert_string_equal(text, "# Written by pyshare setup for shop: its own mod_wsgi daemon process, with its venv "
                                  "as\n# python-home. `pyshare remove shop` takes it away.\n"
                                  "WSGIDaemonProcess pyshare-shop python-home=/opt/pyshare/shop user=www-data "
                                  "group=www-data lang=C.UTF-8 locale=C.UTF-8 display-name=%{GROUP}\n"
                                  "WSGIScriptAlias /shop /srv/shop/app.wsgi process-group=pyshare-shop "
                                  "application-group=%{GLOBAL}\n"
                                  "<Directory /srv/shop>\n    Require all granted\n</Directory>\n");
        /* A script at the top: its directory is /. */
        a.cfg.wsgi_script = (char *)"/app.wsgi";
        a.cfg.url = (char *)"/";
        _cleanup_free_ char *url2 = wsgi_daemon_url(&a), *top = wsgi_daemon_conf_text(&a, "www-data", url2);
        assert_non_null(strstr(top, "WSGIScriptAlias / /app.wsgi process-group"));
        assert_non_null(strstr(top, "<Directory />\n"));
}

static void test_config_keys(void **state)
{
        (void)state;
        static const char text[] = "[App]\nWSGIScript=/srv/shop/app.wsgi\nURL=/shop\n";
        _cleanup_config_ struct app_config c = {0};
        unsigned line = 0;
        const char *why = NULL, *key = NULL;
        assert_int_equal(config_parse(text, strlen(text), &c, &line, &why), 0);
        assert_string_equal(c.wsgi_script, "/srv/shop/app.wsgi");
        assert_string_equal(c.url, "/shop");
        assert_int_equal(config_validate(&c, &key), 0);
        _cleanup_free_ char *out = config_format(&c);
        assert_non_null(strstr(out, "WSGIScript=/srv/shop/app.wsgi\nURL=/shop\n"));
        static const char bad[] = "[App]\nWSGIScript=srv/app.wsgi\n";
        _cleanup_config_ struct app_config b = {0};
        assert_int_equal(config_parse(bad, strlen(bad), &b, &line, &why), 0);
        assert_int_equal(config_validate(&b, &key), -EINVAL);
        assert_string_equal(key, "WSGIScript");
        static const char badurl[] = "[App]\nURL=/a b\n";
        _cleanup_config_ struct app_config u = {0};
        assert_int_equal(config_parse(badurl, strlen(badurl), &u, &line, &why), 0);
        assert_int_equal(config_validate(&u, &key), -EINVAL);
        assert_string_equal(key, "URL");
}

static void test_conflict_text(void **state)
{
        (void)state;
        struct provider p[] = {
                {.app = (char *)"alpha", .dist = (char *)"verpkg", .version = (char *)"1.0"},
                {.app = (char *)"beta", .dist = (char *)"verpkg", .version = (char *)"2.0", .daemon = true},
        };
        struct conflict c = {.name = (char *)"verpkg", .p = p, .n = 2, .versions_differ = true};
        _cleanup_free_ char *text = conflict_text(&c, "apache2.service");
        /* Only a daemon-wired app loses: the winner leaves the shared path. */
        assert_string_equal(text, "import name verpkg is provided by alpha (verpkg 1.0) and beta (verpkg 2.0, in a "
                                  "daemon process): apache2.service imports alpha's verpkg 1.0 for all of them (first "
                                  "in its PYTHONPATH, which daemon processes inherit in front of their venv); wire "
                                  "alpha in a mod_wsgi daemon process of its own: pyshare setup alpha "
                                  "--wsgi-script=PATH");
        assert_true(conflict_involves(&c, "beta"));
        assert_false(conflict_involves(&c, "bet"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conf_text),
                cmocka_unit_test(test_config_keys),
                cmocka_unit_test(test_conflict_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
