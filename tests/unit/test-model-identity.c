/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "now" identity (issue 12): the uid, gid and groups of the processes that run the code, read
 * from a fake /proc (service_find_processes on a directory shaped like it), against what the
 * configuration gives them, in an image (its own /etc/passwd and /etc/group). The venv's
 * directory is open to one group only, so that who can read it depends on the groups alone. */
#include "appmodel.h"
#include "helpers.h"

#define SITE "/opt/pyshare/web/lib/python3.11/site-packages"
#define WEB "4000000" /* above any gid the test itself may run with */

/* The image: users web (a unit's) and www-data (Apache's), both listed in the group venv that
 * alone may enter the venv (the test's own gid: the files are the test's). */
static void image(struct tmp *t)
{
        check_errno(fchmod(t->fd, 0755));
        mkdir_p(t->fd, "opt/pyshare/web/lib/python3.11/site-packages", 0755);
        check_errno(fchmodat(t->fd, "opt/pyshare/web", 0750, 0));
        write_file(t->fd, "etc/passwd",
                   "www-data:x:33:33::/var/www:/usr/sbin/nologin\n"
                   "web:x:" WEB ":" WEB "::/srv:/usr/sbin/nologin\n"
                   "dmn:x:4000001:" WEB "::/srv:/usr/sbin/nologin\n");
        _cleanup_free_ char *group = xasprintf("www-data:x:33:\nweb:x:" WEB ":\nvenv:x:%u:web,www-data,dmn\n",
                                               (unsigned)getegid());
        write_file(t->fd, "etc/group", group);
        write_file(t->fd, "fakeproc/stat", "cpu  1 2 3 4\nbtime 1700000000\n");
}

/* A process in the fake /proc: PID's parent, ids (uid = euid, gid, groups as /proc writes
 * them) and argv (NUL-separated). */
static void proc(struct tmp *t, int pid, int ppid, const char *ids, const char *argv, size_t argv_len)
{
        unsigned uid, gid;
        assert_int_equal(sscanf(ids, "%u %u", &uid, &gid), 2);
        const char *groups = strchr(strchr(ids, ' ') + 1, ' ');
        _cleanup_free_ char *dir = xasprintf("fakeproc/%d", pid), *stat = NULL, *status = NULL, *p = NULL;
        mkdir_p(t->fd, dir, 0755);
        stat = xasprintf("%d (x) S %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0\n", pid, ppid, pid, pid);
        status = xasprintf("Name:\tx\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nGroups:\t%s\n", uid, uid, uid, uid, gid,
                           gid, gid, gid, groups ? groups + 1 : "");
        p = xasprintf("%s/stat", dir);
        write_file(t->fd, p, stat);
        free(p);
        p = xasprintf("%s/status", dir);
        write_file(t->fd, p, status);
        free(p);
        p = xasprintf("%s/cmdline", dir);
        int fd = openat(t->fd, p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, argv, argv_len), (ssize_t)argv_len);
        close(fd);
        free(p);
        p = xasprintf("%s/environ", dir);
        write_file(t->fd, p, "PYTHONPATH=" SITE);
}

/* The judgement of unit's processes with main process main_pid (0: Apache's PID file): its
 * findings as "CAUSE: TEXT" and then its notes as "note: TEXT". */
static char **judge_identity(struct tmp *t, const char *unit, const char *user, pid_t main_pid)
{
        struct ctx x = {.root = "/img", .rootfd = t->fd};
        struct app a = {.name = "web", .cfg = {.service = (char *)unit}, .user = {.name = (char *)user},
                        .venv = (char *)"/opt/pyshare/web"};
        struct app_judgement j = {.have_model = true};
        assert_int_equal(service_model_build(t->fd, unit, SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES, &j.m), 0);
        j.m.main_pid = main_pid;
        int procfd = openat(t->fd, "fakeproc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(procfd >= 0);
        service_find_processes(procfd, t->fd, &j.m);
        close(procfd);
        assert_true(j.m.running);
        app_judge_identity(&x, &a, SITE, &j);
        char **got = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < j.n; i++)
                strv_consume(&got, xasprintf("%s: %s", j.f[i].cause, j.f[i].text));
        for (size_t i = 0; j.notes && j.notes[i]; i++)
                strv_consume(&got, xasprintf("note: %s", j.notes[i]));
        /* The probe fails now with the same text. */
        if (j.n)
                assert_string_equal(j.identity_now, j.f[0].text);
        else
                assert_null(j.identity_now);
        app_judgement_free(&j);
        return got;
}

#define WEB_ARGV "/usr/bin/gunicorn\0app:app"
#define WEB_UNIT "[Service]\nUser=web\nExecStart=/usr/bin/gunicorn app:app\n"

static void test_unit_same(void **state)
{
        struct tmp *t = *state;
        image(t);
        write_file(t->fd, "etc/systemd/system/web.service", WEB_UNIT);
        _cleanup_free_ char *ids = xasprintf(WEB " " WEB " %u " WEB, (unsigned)getegid());
        proc(t, 100, 1, ids, WEB_ARGV, sizeof(WEB_ARGV));
        proc(t, 101, 100, ids, WEB_ARGV, sizeof(WEB_ARGV));
        _cleanup_strv_ char **got = judge_identity(t, "web.service", "web", 100);
        assert_int_equal(strv_length(got), 0);
}

/* web was added to the group venv after the unit started: its processes lack the group, so
 * they cannot read the venv, which the next start can (restart-needed). */
static void test_unit_group_added_since(void **state)
{
        struct tmp *t = *state;
        image(t);
        write_file(t->fd, "etc/systemd/system/web.service", WEB_UNIT);
        proc(t, 100, 1, WEB " " WEB " " WEB, WEB_ARGV, sizeof(WEB_ARGV));
        _cleanup_strv_ char **got = judge_identity(t, "web.service", "web", 100);
        _cleanup_free_ char *want = xasprintf(
                "restart-needed: web.service's PID 100 (main) runs as web (uid " WEB "), group web, groups web, who "
                "cannot read " SITE "; User=, Group= and SupplementaryGroups= of the unit give web (uid " WEB
                "), group web, groups venv web, who can: the configuration changed since web.service started: "
                "systemctl restart web");
        assert_strv_equal(got, want);
}

/* Another identity that can read the venv too: said, not a failure. */
static void test_unit_other_but_harmless(void **state)
{
        struct tmp *t = *state;
        image(t);
        write_file(t->fd, "etc/systemd/system/web.service", WEB_UNIT);
        _cleanup_free_ char *ids = xasprintf("33 33 33 %u", (unsigned)getegid());
        proc(t, 100, 1, ids, WEB_ARGV, sizeof(WEB_ARGV));
        _cleanup_strv_ char **got = judge_identity(t, "web.service", "web", 100);
        assert_strv_equal(got, "note: web.service's PID 100 (main) runs as www-data (uid 33), group www-data, groups "
                               "venv www-data; User=, Group= and SupplementaryGroups= of the unit give web (uid " WEB
                               "), group web, groups venv web: a restart applies it (systemctl restart web)");
}

#define APACHE_ARGV "/usr/sbin/apache2\0-k\0start"
#define LOGGER_ARGV "/usr/bin/rotatelogs\0/var/log/x\0" "86400"

/* Apache: the main process (root) is not judged; a piped logger (root, another command line)
 * neither; a daemon process without display-name= looks like a worker but runs as its
 * WSGIDaemonProcess user; the worker runs without the group that www-data got since. */
static void test_apache_worker(void **state)
{
        struct tmp *t = *state;
        image(t);
        write_file(t->fd, "lib/systemd/system/apache2.service",
                   "[Service]\nType=forking\nExecStart=/usr/sbin/apachectl start\n");
        write_file(t->fd, "etc/apache2/apache2.conf",
                   "User www-data\nGroup www-data\nLoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n"
                   "WSGIDaemonProcess d1 user=dmn group=web\n");
        write_file(t->fd, "run/apache2/apache2.pid", "200\n");
        proc(t, 200, 1, "0 0 0", APACHE_ARGV, sizeof(APACHE_ARGV));
        proc(t, 201, 200, "0 0 0", LOGGER_ARGV, sizeof(LOGGER_ARGV));
        _cleanup_free_ char *dmn = xasprintf("4000001 " WEB " %u " WEB, (unsigned)getegid());
        proc(t, 202, 200, dmn, APACHE_ARGV, sizeof(APACHE_ARGV));
        _cleanup_free_ char *www = xasprintf("33 33 33 %u", (unsigned)getegid());
        proc(t, 203, 200, www, APACHE_ARGV, sizeof(APACHE_ARGV));
        _cleanup_strv_ char **ok = judge_identity(t, "apache2.service", "www-data", 0);
        assert_int_equal(strv_length(ok), 0);

        proc(t, 203, 200, "33 33 33", APACHE_ARGV, sizeof(APACHE_ARGV));
        _cleanup_strv_ char **got = judge_identity(t, "apache2.service", "www-data", 0);
        assert_strv_equal(got, "restart-needed: apache2.service's PID 203 (worker) runs as www-data (uid 33), group "
                               "www-data, groups www-data, who cannot read " SITE "; Apache's User and Group give "
                               "www-data (uid 33), group www-data, groups venv www-data, who can: the configuration "
                               "changed since apache2.service started: systemctl restart apache2");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_unit_same),
                tmp_test(test_unit_group_added_since),
                tmp_test(test_unit_other_but_harmless),
                tmp_test(test_apache_worker),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
