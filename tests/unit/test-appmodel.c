/* SPDX-License-Identifier: GPL-2.0-or-later */
/* appmodel.c: the service model judged for one app, on unit files, drop-ins and
 * EnvironmentFiles built in temporary directories (an image: files only, no processes). The
 * texts are what status prints, so they are checked whole. */
#include "appmodel.h"
#include "helpers.h"

#define SITE "/opt/pyshare/web/lib/python3.11/site-packages"
#define SVCENV "/etc/pyshare/services/web.service.env"

/* Judges the app web of web.service below t's directory; the findings as "CAUSE: TEXT". */
static char **judge(struct tmp *t)
{
        struct ctx x = {.root = "/img", .rootfd = t->fd};
        struct app a = {.name = "web", .cfg = {.service = (char *)"web.service"}, .user = {.name = (char *)"www-data"},
                        .venv = (char *)"/opt/pyshare/web"};
        char *pythonpath[] = {(char *)SITE, NULL};
        struct app_judgement j = {0};
        app_judge(&x, &a, pythonpath, &j);
        assert_true(j.have_model);
        char **got = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < j.n; i++)
                strv_consume(&got, xasprintf("%s: %s", j.f[i].cause, j.f[i].text));
        app_judgement_free(&j);
        return got;
}

static void wired(struct tmp *t)
{
        write_file(t->fd, "etc/systemd/system/web.service", "[Service]\nUser=www-data\nExecStart=/bin/true\n");
        write_file(t->fd, "etc/systemd/system/web.service.d/50-pyshare.conf", "[Service]\nEnvironmentFile=-" SVCENV "\n");
        write_file(t->fd, "etc/pyshare/services/web.service.env", "PYTHONPATH=\"" SITE "\"\n");
}

static void test_wired(void **state)
{
        struct tmp *t = *state;
        wired(t);
        /* Environment= comes before every EnvironmentFile=: pyshare's file wins. */
        write_file(t->fd, "etc/systemd/system/web.service.d/90-env.conf", "[Service]\nEnvironment=PYTHONPATH=/srv/legacy\n");
        _cleanup_strv_ char **got = judge(t);
        assert_int_equal(strv_length(got), 0);
}

static void test_overridden(void **state)
{
        struct tmp *t = *state;
        wired(t);
        write_file(t->fd, "etc/default/legacy", "# old\nPYTHONPATH=/srv/legacy\n");
        write_file(t->fd, "etc/systemd/system/web.service.d/90-legacy.conf", "[Service]\nEnvironmentFile=/etc/default/legacy\n");
        _cleanup_strv_ char **got = judge(t);
        assert_strv_equal(got, "pythonpath-overridden: /etc/default/legacy:2 sets PYTHONPATH=/srv/legacy, which replaces "
                               "the app's (set at " SVCENV ":1): web.service's next start does not get web's PYTHONPATH; "
                               "remove that line or make it keep the value it replaces");
}

static void test_unset(void **state)
{
        struct tmp *t = *state;
        wired(t);
        write_file(t->fd, "etc/systemd/system/web.service.d/90-unset.conf", "[Service]\nUnsetEnvironment=PYTHONPATH\n");
        _cleanup_strv_ char **got = judge(t);
        assert_strv_equal(got, "pythonpath-overridden: web.service loads " SVCENV ", which carries web's PYTHONPATH, but "
                               "its next start gets no PYTHONPATH: an UnsetEnvironment= of the unit removes it; remove "
                               "that setting");
}

static void test_dropin_missing(void **state)
{
        struct tmp *t = *state;
        wired(t);
        assert_int_equal(unlinkat(t->fd, "etc/systemd/system/web.service.d/50-pyshare.conf", 0), 0);
        _cleanup_strv_ char **got = judge(t);
        assert_strv_equal(got, "dropin-missing: web.service does not load " SVCENV ": pyshare's drop-in "
                               "/etc/systemd/system/web.service.d/50-pyshare.conf is missing: run `pyshare setup web`");
}

static void test_envfile_and_home(void **state)
{
        struct tmp *t = *state;
        wired(t);
        write_file(t->fd, "etc/pyshare/services/web.service.env", "PYTHONPATH=/opt/pyshare/other/site\n");
        write_file(t->fd, "etc/systemd/system/web.service.d/90-home.conf", "[Service]\nEnvironment=PYTHONHOME=/nonexistent\n");
        _cleanup_strv_ char **got = judge(t);
        assert_strv_equal(got,
                          "envfile-out-of-date: web.service loads " SVCENV ", but its PYTHONPATH=/opt/pyshare/other/site "
                          "does not carry web's: run `pyshare setup web`",
                          "pythonpath-overridden: /etc/systemd/system/web.service.d/90-home.conf:2 sets "
                          "PYTHONHOME=/nonexistent: web.service's Python looks for its standard library there at its "
                          "next start; remove that line");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_wired),          tmp_test(test_overridden),       tmp_test(test_unset),
                tmp_test(test_dropin_missing), tmp_test(test_envfile_and_home),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
