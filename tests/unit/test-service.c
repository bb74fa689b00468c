/* SPDX-License-Identifier: GPL-2.0-or-later */
/* service.c: the service model from unit files, drop-ins, EnvironmentFiles, Debian's envvars,
 * Apache's configuration and running processes, on trees built in temporary directories. */
#include "service.h"
#include "helpers.h"
#include "envfile.h"
#include "units.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR is given by the Makefile"
#endif

static const unsigned files_only = SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES;

static void assert_var(const struct service_model *m, const char *name, const char *value, const char *where)
{
        const struct service_var *v = service_env_get(&m->next, name);
        if (!v)
                print_error("%s is not in the next start's environment\n", name);
        assert_non_null(v);
        assert_string_equal(v->value, value);
        assert_string_equal(v->where, where);
}

static void assert_findings(const struct service_model *m, const char *const *want)
{
        _cleanup_strv_ char **got = NULL;
        for (size_t i = 0; i < m->n_findings; i++)
                strv_consume(&got, xasprintf("%s: %s", m->findings[i].cause, m->findings[i].text));
        assert_strv_equal_at(__FILE__, __LINE__, got, want);
}

static void test_unit_dropins(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "lib/systemd/system/web-app.service",
                   "[Service]\nUser=fromlib\nEnvironment=LIB=1\n");
        write_file(t->fd, "etc/systemd/system/web-app.service",
                   "[Unit]\nDescription=x\n"
                   "[Service]\n"
                   "User=u1\n"
                   "Environment=A=1 \"B=two words\" PYTHONPATH=/unit\n"
                   "Environment=C=%%x \\\n"
                   "  D=continued\n"
                   "ExecStart=/usr/bin/gunicorn app\n");
        write_file(t->fd, "etc/systemd/system/web-app.service.d/10-a.conf", "[Service]\nUser=u2\nEnvironment=C=3\n");
        /* Hidden: the same name in /etc wins over /run. */
        write_file(t->fd, "run/systemd/system/web-app.service.d/10-a.conf", "[Service]\nUser=hidden\n");
        write_file(t->fd, "run/systemd/system/web-app.service.d/30-b.conf",
                   "[Service]\nSupplementaryGroups=g1 g2\nSupplementaryGroups=\nSupplementaryGroups=g3\n");
        write_file(t->fd, "usr/lib/systemd/system/service.d/05-all.conf", "[Service]\nEnvironment=ALL=1\n");
        write_file(t->fd, "usr/lib/systemd/system/web-.service.d/20-prefix.conf",
                   "[Service]\nEnvironment=PREFIX=1\nUnsetEnvironment=LIB A\n");
        /* The type-level drop-in of another name is hidden by the prefix one of the same name. */
        write_file(t->fd, "usr/lib/systemd/system/service.d/20-prefix.conf", "[Service]\nEnvironment=NEVER=1\n");
        struct service_model m = {0};
        assert_int_equal(service_model_build(t->fd, "web-app.service", files_only, &m), 0);
        assert_strv_equal(m.unit_files, "/etc/systemd/system/web-app.service", "/usr/lib/systemd/system/service.d/05-all.conf",
                         "/etc/systemd/system/web-app.service.d/10-a.conf",
                         "/usr/lib/systemd/system/web-.service.d/20-prefix.conf",
                          "/run/systemd/system/web-app.service.d/30-b.conf");
        assert_false(m.from_bus);
        assert_false(m.apache);
        assert_string_equal(m.user, "u2");
        assert_strv_equal(m.supplementary_groups, "g3");
        assert_strv_equal(m.exec_start, "/usr/bin/gunicorn app");
        assert_null(service_env_get(&m.next, "A"));
        assert_null(service_env_get(&m.next, "LIB"));
        assert_null(service_env_get(&m.next, "NEVER"));
        assert_var(&m, "B", "two words", "/etc/systemd/system/web-app.service:5");
        assert_var(&m, "PYTHONPATH", "/unit", "/etc/systemd/system/web-app.service:5");
        assert_var(&m, "C", "3", "/etc/systemd/system/web-app.service.d/10-a.conf:3");
        assert_var(&m, "D", "continued", "/etc/systemd/system/web-app.service:6");
        assert_var(&m, "ALL", "1", "/usr/lib/systemd/system/service.d/05-all.conf:2");
        assert_var(&m, "PREFIX", "1", "/usr/lib/systemd/system/web-.service.d/20-prefix.conf:2");
        assert_int_equal(m.n_findings, 0);
        service_model_free(&m);

        /* setup's user lookup under --root reads the same files the same way. */
        _cleanup_free_ char *user = NULL;
        bool dynamic = true;
        assert_int_equal(unit_file_user(t->fd, "web-app.service", &user, &dynamic), 0);
        assert_string_equal(user, "u2");
        assert_false(dynamic);
        _cleanup_strv_ char **groups = NULL;
        assert_int_equal(unit_file_groups(t->fd, "web-app.service", &groups), 0);
        assert_strv_equal(groups, "g3");

        assert_int_equal(service_model_build(t->fd, "nosuch.service", files_only, &m), -PS_E_NOTFOUND);
        /* A masked unit does not exist either. */
        check_errno(symlinkat("/dev/null", t->fd, "etc/systemd/system/masked.service"));
        write_file(t->fd, "lib/systemd/system/masked.service", "[Service]\nUser=x\n");
        assert_int_equal(service_model_build(t->fd, "masked.service", files_only, &m), -PS_E_NOTFOUND);
}

static void test_environment_words(void **state)
{
        _cleanup_strv_ char **l =
                unit_parse_environment("A=1 \"B=two words\" 'C=x\"y' D=a\\ b bad-key=1 E=%%x \"F=tab\\tend\" G=");
        /* F holds a tab: systemd accepts it in Environment=, env_value_check does not, and the
         * model drops what it could not write back either. G= is empty and valid. */
        assert_strv_equal(l, "A=1", "B=two words", "C=x\"y", "D=a b", "E=%x", "G=");
}

static void test_environment_files(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "etc/systemd/system/web.service",
                   "[Service]\n"
                   "Environment=PYTHONPATH=/from/unit\n"
                   "EnvironmentFile=-/etc/missing.env\n"
                   "EnvironmentFile=-/etc/pyshare/services/web.service.env\n");
        write_file(t->fd, "etc/systemd/system/web.service.d/60-other.conf",
                   "[Service]\nEnvironmentFile=/etc/other.env\nEnvironmentFile=/etc/required-missing.env\n");
        write_file(t->fd, "etc/pyshare/services/web.service.env",
                   "# Written by pyshare\nPYTHONPATH=\"/opt/pyshare/app/lib/python3.11/site-packages\"\n");
        write_file(t->fd, "etc/other.env", "X=1\n\n  PYTHONPATH=/srv/legacy\nexport PYTHONHOME=/usr\n");
        struct service_model m = {0};
        assert_int_equal(service_model_build(t->fd, "web.service", files_only, &m), 0);
        assert_true(service_loads_envfile(&m, "/etc/pyshare/services/web.service.env"));
        assert_true(service_loads_envfile(&m, "/etc/missing.env"));
        assert_false(service_loads_envfile(&m, "/etc/pyshare/services/other.env"));
        assert_var(&m, "PYTHONPATH", "/srv/legacy", "/etc/other.env:3");
        assert_var(&m, "X", "1", "/etc/other.env:1");
        assert_null(service_env_get(&m.next, "PYTHONHOME"));
        const char *want[] = {
                "ignored-line: /etc/other.env:4: systemd ignores \"export NAME=\" lines in an EnvironmentFile: remove "
                "\"export \"",
                "unreadable: web.service cannot read its EnvironmentFile=/etc/required-missing.env (No such file or "
                "directory): it fails to start",
                "pythonpath-overridden: /etc/other.env:3: PYTHONPATH=/srv/legacy replaces "
                "PYTHONPATH=/opt/pyshare/app/lib/python3.11/site-packages set at "
                "/etc/pyshare/services/web.service.env:2: the service gets only the first",
                NULL,
        };
        assert_findings(&m, want);
        service_model_free(&m);
}

static void copy_fixture(int rootfd, const char *name, const char *dst)
{
        int src = open(FIXTURES_DIR "/debian-apache2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(src >= 0);
        _cleanup_free_ char *text = read_file(src, name);
        close(src);
        assert_non_null(text);
        write_file(rootfd, dst, text);
}

/* Debian's apache2 with pyshare's drop-in and envvars ending with extra. */
static void debian_apache(int rootfd, const char *extra)
{
        write_file(rootfd, "lib/systemd/system/apache2.service",
                   "[Service]\nType=forking\nEnvironment=APACHE_STARTED_BY_SYSTEMD=true\n"
                   "ExecStart=/usr/sbin/apachectl start\n");
        write_file(rootfd, "etc/systemd/system/apache2.service.d/50-pyshare.conf",
                   "[Service]\nEnvironmentFile=-/etc/pyshare/services/apache2.service.env\n");
        write_file(rootfd, "etc/pyshare/services/apache2.service.env", "PYTHONPATH=\"/opt/pyshare/app/site\"\n");
        copy_fixture(rootfd, "apache2.conf", "etc/apache2/apache2.conf");
        copy_fixture(rootfd, "ports.conf", "etc/apache2/ports.conf");
        copy_fixture(rootfd, "envvars", "etc/apache2/envvars");
        copy_fixture(rootfd, "mods-available/wsgi.load", "etc/apache2/mods-enabled/wsgi.load");
        append_file(rootfd, "etc/apache2/envvars", extra, "etc/apache2/envvars");
}

static void test_apache_envvars_override(void **state)
{
        struct tmp *t = *state;
        debian_apache(t->fd, "export PYTHONPATH=/srv/legacy\n");
        write_file(t->fd, "etc/apache2/sites-enabled/app.conf",
                   "WSGIDaemonProcess app user=alice python-home=/opt/pyshare/app\n"
                   "WSGIDaemonProcess same user=www-data\n"
                   "WSGIDaemonProcess plain\n"
                   "WSGIScriptAlias / /srv/app.wsgi process-group=app\n");
        struct service_model m = {0};
        assert_int_equal(service_model_build(t->fd, "apache2.service", files_only, &m), 0);
        assert_true(m.apache);
        assert_true(m.envvars_read);
        assert_string_equal(m.run_user, "www-data");
        assert_var(&m, "PYTHONPATH", "/srv/legacy", "/etc/apache2/envvars:48");
        assert_var(&m, "APACHE_STARTED_BY_SYSTEMD", "true", "/lib/systemd/system/apache2.service:3");
        assert_var(&m, "APACHE_RUN_USER", "www-data", "/etc/apache2/envvars:16");
        assert_string_equal(service_daemon_user(&m, apache_config_daemon(&m.conf, "plain")), "www-data");
        assert_string_equal(service_daemon_user(&m, apache_config_daemon(&m.conf, "app")), "alice");
        const char *want[] = {
                "daemon-user: /etc/apache2/sites-enabled/app.conf:1: WSGIDaemonProcess app runs as alice, not as "
                "Apache's user www-data: alice needs access too",
                "pythonpath-overridden: /etc/apache2/envvars:48: PYTHONPATH=/srv/legacy replaces "
                "PYTHONPATH=/opt/pyshare/app/site set at /etc/pyshare/services/apache2.service.env:1: the service gets "
                "only the first",
                NULL,
        };
        assert_findings(&m, want);
        service_model_free(&m);

        /* Appending keeps pyshare's path: no finding, both in order. */
        debian_apache(t->fd, "export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}/srv/legacy\n");
        unlinkat(t->fd, "etc/apache2/sites-enabled/app.conf", 0);
        assert_int_equal(service_model_build(t->fd, "apache2.service", files_only, &m), 0);
        assert_var(&m, "PYTHONPATH", "/opt/pyshare/app/site:/srv/legacy", "/etc/apache2/envvars:48");
        assert_int_equal(m.n_findings, 0);
        service_model_free(&m);

        /* A line that cannot be understood is a finding, not a guess. */
        debian_apache(t->fd, "export PYTHONPATH=$(cat /etc/pp)\n");
        assert_int_equal(service_model_build(t->fd, "apache2.service", files_only, &m), 0);
        assert_var(&m, "PYTHONPATH", "/opt/pyshare/app/site", "/etc/pyshare/services/apache2.service.env:1");
        const char *unparsed[] = {"unparsed: /etc/apache2/envvars:48: export PYTHONPATH=$(cat /etc/pp): not understood, so "
                            "not applied here (apachectl runs it)",
                            NULL};
        assert_findings(&m, unparsed);
        service_model_free(&m);
}

/* Runs argv with envp as a child of the calling process, in the caller's process group. */
static pid_t spawn(char *const *argv, char *const *envp)
{
        pid_t pid = fork();
        if (pid == 0) {
                execve("/bin/sleep", argv, envp);
                _exit(127);
        }
        return pid;
}

static void test_running_processes(void **state)
{
        struct tmp *t = *state;
        debian_apache(t->fd, "export APACHE_PID_FILE=/run/apache2/apache2.pid\n");
        write_file(t->fd, "etc/apache2/sites-enabled/app.conf", "WSGIDaemonProcess app1 display-name=%{GROUP}\n");
        /* A stand-in for Apache: a main process with a worker that has an old PYTHONPATH and a
         * mod_wsgi daemon process named as display-name=%{GROUP} names it. */
        int ready[2];
        check_errno(pipe2(ready, O_CLOEXEC));
        pid_t main_pid = fork();
        assert_true(main_pid >= 0);
        if (main_pid == 0) {
                setpgid(0, 0);
                /* A worker is a fork of the main process: the same command line. */
                char *worker_argv[] = {"sleep", "31", NULL}, *worker_env[] = {"PYTHONPATH=/old", NULL};
                char *daemon_argv[] = {"(wsgi:app1)", "30", NULL};
                char *main_argv[] = {"sleep", "31", NULL}, *none[] = {NULL};
                spawn(worker_argv, worker_env);
                spawn(daemon_argv, worker_env);
                close(ready[0]);
                execve("/bin/sleep", main_argv, none); /* keeps its children, closes ready */
                _exit(127);
        }
        close(ready[1]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 0); /* the main process has exec'd */
        close(ready[0]);
        _cleanup_free_ char *pid_text = xasprintf("%d\n", (int)main_pid);
        write_file(t->fd, "run/apache2/apache2.pid", pid_text);

        struct service_model m = {0};
        /* The children exec a moment later: wait until both show their final names. */
        for (int tries = 0; tries < 200; tries++) {
                assert_int_equal(service_model_build(t->fd, "apache2.service", SERVICE_FILES_ONLY, &m), 0);
                bool settled = m.n_procs == 3;
                for (size_t i = 0; i < m.n_procs && settled; i++)
                        settled = startswith(m.procs[i].cmdline, "sleep") || startswith(m.procs[i].cmdline, "(wsgi:");
                if (settled)
                        break;
                service_model_free(&m);
                usleep(10 * 1000);
        }
        kill(-main_pid, SIGKILL);
        waitpid(main_pid, NULL, 0);

        assert_true(m.running);
        assert_int_equal(m.main_pid, main_pid);
        assert_int_equal(m.n_procs, 3);
        assert_string_equal(m.procs[0].role, "main");
        assert_false(service_proc_runs_code(&m, &m.procs[0]));
        size_t workers = 0, daemons = 0;
        for (size_t i = 1; i < 3; i++) {
                assert_true(service_proc_runs_code(&m, &m.procs[i]));
                assert_int_equal(m.procs[i].uid, geteuid());
                assert_string_equal(env_get(m.procs[i].env, "PYTHONPATH"), "/old");
                workers += strcmp(m.procs[i].role, "worker") == 0;
                daemons += strcmp(m.procs[i].role, "wsgi:app1") == 0;
        }
        assert_int_equal(workers, 1);
        assert_int_equal(daemons, 1);
        assert_int_equal(m.n_findings, 1);
        assert_string_equal(m.findings[0].cause, "restart-needed");
        _cleanup_free_ char *want = xasprintf("PID %d (%s) runs with PYTHONPATH=/old; the next start gets "
                                              "PYTHONPATH=/opt/pyshare/app/site: systemctl restart apache2.service",
                                              (int)m.procs[1].pid, m.procs[1].role);
        assert_string_equal(m.findings[0].text, want);
        service_model_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_unit_dropins),          cmocka_unit_test(test_environment_words),
                tmp_test(test_environment_files),     tmp_test(test_apache_envvars_override),
                tmp_test(test_running_processes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
