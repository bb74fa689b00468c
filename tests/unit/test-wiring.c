/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text of the files that wire an app into its service: the app's EnvironmentFile, the
 * service's merged one and its drop-in, the repair path unit's drop-ins, and which apps a
 * service's file lists. */
#include "units.h"
#include "wiring.h"
/* helpers.h has a write_file of its own, for test trees; wiring.h's is the one tested here. */
#define write_file helpers_write_file
#include "helpers.h"
#undef write_file

static void test_app_env_text(void **state)
{
        (void)state;
        char *pythonpath[] = {(char *)"/opt/pyshare/web/lib/python3.11/site-packages", (char *)"/srv/x", NULL};
        const struct app a = {.name = "web", .venv = (char *)"/opt/pyshare/web"};
        _cleanup_free_ char *text = app_env_text(&a, pythonpath);
        assert_string_equal(text, "# Written by pyshare for web: EnvironmentFile= for any unit that uses it.\n"
                                  "PYTHONPATH=\"/opt/pyshare/web/lib/python3.11/site-packages:/srv/x\"\n"
                                  "VIRTUAL_ENV=\"/opt/pyshare/web\"\n");
}

/* tmpfiles.d restores the top directory's ACL with an entry for every user of the app. */
static void test_tmpfiles_text(void **state)
{
        (void)state;
        char *one[] = {(char *)"www-data", NULL}, *two[] = {(char *)"www-data", (char *)"monitor", NULL};
        _cleanup_free_ char *t1 = unit_tmpfiles_text("web", "/opt/pyshare/web", one, "deploy");
        _cleanup_free_ char *t2 = unit_tmpfiles_text("web", "/opt/pyshare/web", two, "deploy");
        assert_string_equal(t1, "# Written by pyshare for web: restores the owner, mode and ACLs of its environment's\n"
                                "# top directory (systemd-tmpfiles --create). pyshare repair web fixes the rest.\n"
                                "d /opt/pyshare/web 2770 root deploy -\n"
                                "a+ /opt/pyshare/web - - - - u::rwx,g::rwx,o::---,u:www-data:r-x,g:deploy:rwx,"
                                "d:u::rwx,d:g::rwx,d:o::---,d:u:www-data:r-x,d:g:deploy:rwx\n");
        assert_non_null(strstr(t2, ",u:www-data:r-x,u:monitor:r-x,g:deploy:rwx,"));
        assert_non_null(strstr(t2, ",d:u:www-data:r-x,d:u:monitor:r-x,d:g:deploy:rwx\n"));
}

static void test_service_files_text(void **state)
{
        (void)state;
        char *apps[] = {(char *)"web", (char *)"api", NULL};
        char *paths[] = {(char *)"/a", (char *)"/b", NULL};
        _cleanup_free_ char *env = NULL, *dropin = unit_dropin_text("/etc/pyshare/services/apache2.service.env");
        assert_int_equal(unit_service_env_text("apache2.service", apps, paths, &env), 0);
        assert_string_equal(env, "# Written by pyshare for apache2.service; apps: web, api.\n"
                                 "PYTHONPATH=\"/a:/b\"\n");
        assert_string_equal(dropin, "# Written by pyshare: the PYTHONPATH of the shared environments this service "
                                    "uses.\n"
                                    "# Edit with pyshare setup/remove, not by hand.\n"
                                    "[Service]\n"
                                    "EnvironmentFile=-/etc/pyshare/services/apache2.service.env\n");
        /* The header is what tells later which apps the file serves. */
        assert_true(service_env_lists(env, "web"));
        assert_true(service_env_lists(env, "api"));
        assert_false(service_env_lists(env, "ap"));
        assert_false(service_env_lists(env, "web2"));
}

static void test_service_env_lists(void **state)
{
        (void)state;
        assert_true(service_env_lists("# Written by pyshare for x.service; apps: one.\nPYTHONPATH=\"/a\"\n", "one"));
        assert_false(service_env_lists("# no header\nPYTHONPATH=\"/a\"\n", "one"));
        /* Without the closing ".\n" the header is not pyshare's. */
        assert_false(service_env_lists("# Written by pyshare for x.service; apps: one", "one"));
        /* Only the header counts, not a later line that looks like it. */
        assert_false(service_env_lists("# x; apps: two.\n# y; apps: one.\n", "one"));
}

static void test_watch_dropins(void **state)
{
        (void)state;
        _cleanup_free_ char *path = watch_path_dropin_text("web", "/opt/pyshare/web/lib/python3.11/site-packages"),
                            *svc = watch_service_dropin_text("web", "/srv/venvs/web");
        assert_string_equal(path, "# Written by pyshare setup --watch: the site-packages of web.\n"
                                  "[Path]\n"
                                  "PathChanged=\n"
                                  "PathChanged=/opt/pyshare/web/lib/python3.11/site-packages\n");
        assert_string_equal(svc, "# Written by pyshare setup --watch: web lives outside /opt/pyshare.\n"
                                 "[Service]\n"
                                 "ReadWritePaths=-/srv/venvs/web\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_app_env_text),
                cmocka_unit_test(test_tmpfiles_text),
                cmocka_unit_test(test_service_files_text),
                cmocka_unit_test(test_service_env_lists),
                cmocka_unit_test(test_watch_dropins),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
