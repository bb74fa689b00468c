/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apache.c, apache-conf.c and envvars.c: Debian's envvars read the way apache2ctl sources it,
 * and the enabled Apache configuration read the way httpd does, on trees built in temporary
 * directories. */
#include "apache.h"
#include "helpers.h"

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR is given by the Makefile"
#endif

/* Copies the stock Debian files into ROOT/etc/apache2 and enables what a2enmod, a2enconf and
 * a2ensite would: relative symlinks into the *-available directories. */
static void debian_tree(int rootfd, char *const *enable)
{
        static const char *const files[] = {
                "apache2.conf",           "envvars",                 "ports.conf",
                "mods-available/wsgi.load", "mods-available/wsgi.conf", "mods-available/mpm_event.load",
                "mods-available/mpm_event.conf", "mods-available/alias.load", "mods-available/alias.conf",
                "mods-available/cgid.load", "mods-available/cgid.conf", "mods-available/cgi.load",
                "conf-available/serve-cgi-bin.conf", "sites-available/000-default.conf",
        };
        int src = open(FIXTURES_DIR "/debian-apache2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(src >= 0);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = read_file(src, files[i]);
                assert_non_null(text);
                _cleanup_free_ char *dst = xasprintf("etc/apache2/%s", files[i]);
                write_file(rootfd, dst, text);
        }
        close(src);
        mkdir_p(rootfd, "etc/apache2/mods-enabled", 0755);
        mkdir_p(rootfd, "etc/apache2/conf-enabled", 0755);
        mkdir_p(rootfd, "etc/apache2/sites-enabled", 0755);
        for (size_t i = 0; enable && enable[i]; i++) {
                /* "mods/wsgi.load" → mods-enabled/wsgi.load -> ../mods-available/wsgi.load */
                const char *slash = strchr(enable[i], '/');
                _cleanup_free_ char *kind = xstrndup(enable[i], (size_t)(slash - enable[i]));
                _cleanup_free_ char *link = xasprintf("etc/apache2/%s-enabled/%s", kind, slash + 1);
                _cleanup_free_ char *target = xasprintf("../%s-available/%s", kind, slash + 1);
                check_errno(symlinkat(target, rootfd, link));
        }
}

static char *const stock[] = {"mods/alias.load", "mods/alias.conf",     "mods/mpm_event.load",
                              "mods/mpm_event.conf", "mods/wsgi.load", "mods/wsgi.conf",
                              "conf/serve-cgi-bin.conf", "sites/000-default.conf", NULL};

static void read_debian(int rootfd, char *const *env, struct apache_envvars *e, struct apache_config *c)
{
        assert_int_equal(apache_debian_envvars(rootfd, env, e), 0);
        _cleanup_strv_ char **exported = apache_envvars_exported(e);
        assert_int_equal(apache_config_read(rootfd, APACHE_DEBIAN, exported, NULL, c), 0);
}

static void test_debian_stock(void **state)
{
        struct tmp *t = *state;
        debian_tree(t->fd, stock);
        struct apache_envvars e = {0};
        struct apache_config c = {0};
        read_debian(t->fd, NULL, &e, &c);
        assert_strv_empty(e.unparsed);
        assert_strv_empty(c.problems);

        const struct apache_var *v = apache_envvars_get(&e, "APACHE_RUN_USER");
        assert_non_null(v);
        assert_string_equal(v->value, "www-data");
        assert_string_equal(v->where, "/etc/apache2/envvars:16");
        v = apache_envvars_get(&e, "APACHE_PID_FILE");
        assert_string_equal(v->value, "/var/run/apache2/apache2.pid"); /* SUFFIX empty: the else branch */
        assert_string_equal(apache_envvars_get(&e, "LANG")->value, "C");
        /* Set but never exported: the shell's own, not httpd's. */
        assert_null(apache_envvars_get(&e, "SUFFIX"));
        assert_null(apache_envvars_get(&e, "APACHE_CONFDIR"));

        assert_string_equal(c.user, "www-data");
        assert_string_equal(c.group, "www-data");
        assert_string_equal(c.user_where, "/etc/apache2/apache2.conf:115");
        assert_string_equal(c.wsgi_module_path, "/usr/lib/apache2/modules/mod_wsgi.so");
        assert_true(strv_contains(c.modules, "wsgi_module"));
        assert_true(strv_contains(c.modules, "mpm_event_module"));
        assert_false(c.cgi);
        assert_string_equal(c.files[0], "/etc/apache2/apache2.conf");
        assert_true(strv_contains(c.files, "/etc/apache2/mods-enabled/wsgi.load"));
        assert_true(strv_contains(c.files, "/etc/apache2/sites-enabled/000-default.conf"));
        assert_int_equal(strv_length(c.vhosts), 1);
        assert_string_equal(c.vhosts[0], "*:80 (/etc/apache2/sites-enabled/000-default.conf:1)");
        assert_int_equal(c.n_daemons, 0);
        assert_int_equal(c.n_scripts, 0);
        apache_config_free(&c);
        apache_envvars_free(&e);

        _cleanup_free_ char *user = NULL, *group = NULL, *reason = NULL;
        assert_int_equal(apache_run_user(t->fd, APACHE_DEBIAN, &user, &group, &reason), 0);
        assert_string_equal(user, "www-data");
        assert_string_equal(group, "www-data");
        assert_null(reason);

        /* mod_cgid: CGI is enabled. */
        check_errno(symlinkat("../mods-available/cgid.load", t->fd, "etc/apache2/mods-enabled/cgid.load"));
        read_debian(t->fd, NULL, &e, &c);
        assert_true(c.cgi);
        apache_config_free(&c);
        apache_envvars_free(&e);
}

static void test_run_user_from_envvars(void **state)
{
        struct tmp *t = *state;
        debian_tree(t->fd, stock);
        append_file(t->fd, "etc/apache2/envvars", "export APACHE_RUN_USER=web2\nAPACHE_RUN_GROUP=web2\n",
                    "etc/apache2/envvars");
        _cleanup_free_ char *user = NULL, *group = NULL;
        assert_int_equal(apache_run_user(t->fd, APACHE_DEBIAN, &user, &group, NULL), 0);
        assert_string_equal(user, "web2");
        assert_string_equal(group, "web2"); /* exported already: a plain assignment changes it */

        /* No APACHE_RUN_USER: httpd would keep ${APACHE_RUN_USER}; say where and why. */
        write_file(t->fd, "etc/apache2/envvars", "export APACHE_RUN_GROUP=www-data\n");
        free(user);
        user = NULL;
        _cleanup_free_ char *reason = NULL;
        assert_int_equal(apache_run_user(t->fd, APACHE_DEBIAN, &user, NULL, &reason), -PS_E_INVALID);
        assert_null(user);
        assert_string_equal(reason, "/etc/apache2/apache2.conf:115: User ${APACHE_RUN_USER}: the variable is not set");
        /* No configuration at all. */
        assert_int_equal(apache_run_user(t->fd, APACHE_RHEL, &user, NULL, NULL), -PS_E_NOTFOUND);
}

static void test_envvars_pythonpath(void **state)
{
        struct tmp *t = *state;
        const char *text = "# local additions\n"
                           "export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}/srv/legacy\n"
                           "export X='a b' Y=\"q\\\"$HOME\" Z\n"
                           "unset HOME\n"
                           "W=${UNSET-default}${PYTHONPATH#/opt/}\n"
                           "export W\n"
                           "V=\"${PYTHONPATH%%:*}\"; export V\n";
        char *env[] = {"PYTHONPATH=/opt/a", "HOME=/root", NULL};
        struct apache_envvars e = {0};
        assert_int_equal(apache_envvars_parse(t->fd, "/etc/apache2/envvars", text, strlen(text), env, &e), 0);
        assert_strv_empty(e.unparsed);
        const struct apache_var *v = apache_envvars_get(&e, "PYTHONPATH");
        assert_string_equal(v->value, "/opt/a:/srv/legacy");
        assert_string_equal(v->where, "/etc/apache2/envvars:2");
        assert_string_equal(apache_envvars_get(&e, "X")->value, "a b");
        assert_string_equal(apache_envvars_get(&e, "Y")->value, "q\"/root");
        assert_null(apache_envvars_get(&e, "Z")); /* exported but never set: not in the environment */
        assert_null(apache_envvars_get(&e, "HOME"));
        assert_string_equal(apache_envvars_get(&e, "W")->value, "defaulta:/srv/legacy");
        assert_string_equal(apache_envvars_get(&e, "V")->value, "/opt/a");
        _cleanup_strv_ char **exported = apache_envvars_exported(&e);
        assert_true(strv_contains(exported, "PYTHONPATH=/opt/a:/srv/legacy"));
        apache_envvars_free(&e);

        /* Without PYTHONPATH from systemd the appended form gives only the added path. */
        assert_int_equal(apache_envvars_parse(t->fd, "/etc/apache2/envvars", text, strlen(text), NULL, &e), 0);
        assert_string_equal(apache_envvars_get(&e, "PYTHONPATH")->value, "/srv/legacy");
        apache_envvars_free(&e);

        /* A plain assignment replaces what systemd gave, and stays exported. */
        const char *plain = "PYTHONPATH=/srv/legacy\nFOO=1\n";
        assert_int_equal(apache_envvars_parse(t->fd, "/e", plain, strlen(plain), env, &e), 0);
        assert_string_equal(apache_envvars_get(&e, "PYTHONPATH")->value, "/srv/legacy");
        assert_string_equal(apache_envvars_get(&e, "PYTHONPATH")->where, "/e:1");
        assert_null(apache_envvars_get(&e, "FOO"));
        apache_envvars_free(&e);
}

static void test_envvars_not_understood(void **state)
{
        struct tmp *t = *state;
        const char *text = "export A=1\n"
                           "export B=$(hostname)\n"
                           "C=1 /bin/true\n"
                           "ulimit -n 65536\n"
                           "[ -x /usr/bin/x ] && export D=1\n"
                           "export E=`id -u`\n"
                           "if [ -r /etc/x -a -r /etc/y ]; then\n"
                           "  export F=1\n"
                           "fi\n"
                           "export G=\"unterminated\n"
                           "export H=${A:?}\n"
                           "export I=2 \\\n"
                           "  J=3\n";
        struct apache_envvars e = {0};
        assert_int_equal(apache_envvars_parse(t->fd, "/etc/apache2/envvars", text, strlen(text), NULL, &e), 0);
        assert_strv_equal(e.unparsed,
                "/etc/apache2/envvars:2: export B=$(hostname)",
                "/etc/apache2/envvars:3: C=1 /bin/true",
                "/etc/apache2/envvars:4: ulimit -n 65536",
                "/etc/apache2/envvars:5: [ -x /usr/bin/x ] && export D=1",
                "/etc/apache2/envvars:6: export E=`id -u`",
                "/etc/apache2/envvars:7: if [ -r /etc/x -a -r /etc/y ]; then",
                "/etc/apache2/envvars:10: export G=\"unterminated",
                "/etc/apache2/envvars:11: export H=${A:?}");
        assert_string_equal(apache_envvars_get(&e, "A")->value, "1");
        /* The block whose condition was not understood runs neither way. */
        assert_null(apache_envvars_get(&e, "F"));
        assert_null(apache_envvars_get(&e, "B"));
        assert_string_equal(apache_envvars_get(&e, "J")->value, "3");
        assert_string_equal(apache_envvars_get(&e, "J")->where, "/etc/apache2/envvars:12");
        apache_envvars_free(&e);
}

static void test_envvars_instance_and_source(void **state)
{
        struct tmp *t = *state;
        debian_tree(t->fd, stock);
        /* apache2@foo: APACHE_CONFDIR=/etc/apache2-foo from the unit; Debian's block gives the
         * suffix. */
        append_file(t->fd, "etc/apache2/envvars", ". /etc/default/locale\nexport LANG\n", "etc/apache2-foo/envvars");
        write_file(t->fd, "etc/default/locale", "LANG=de_DE.UTF-8\n");
        char *env[] = {"APACHE_CONFDIR=/etc/apache2-foo", NULL};
        struct apache_envvars e = {0};
        assert_int_equal(apache_debian_envvars(t->fd, env, &e), 0);
        assert_strv_empty(e.unparsed);
        assert_string_equal(apache_envvars_get(&e, "APACHE_PID_FILE")->value, "/var/run/apache2-foo/apache2.pid");
        assert_string_equal(apache_envvars_get(&e, "LANG")->value, "de_DE.UTF-8");
        assert_string_equal(apache_envvars_get(&e, "LANG")->where, "/etc/default/locale:1");
        apache_envvars_free(&e);
}

static void test_include_globs(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "etc/httpd/conf/httpd.conf",
                   "ServerRoot \"/etc/httpd\"\n"
                   "Include conf.modules.d/*.conf\n"
                   "User apache\n"
                   "Group apache\n"
                   "IncludeOptional conf.d/*.conf\n"
                   "IncludeOptional nothing/*.conf\n"
                   "Include sites/*/site.conf\n"
                   "Include dir\n"
                   "Include /etc/httpd/missing.conf\n"
                   "IncludeOptional /etc/httpd/missing.conf\n"
                   "Include link.conf\n");
        write_file(t->fd, "etc/httpd/conf.modules.d/10-wsgi.conf", "LoadModule wsgi_module modules/mod_wsgi.so\n");
        write_file(t->fd, "etc/httpd/conf.modules.d/01-cgi.conf", "LoadModule cgi_module modules/mod_cgi.so\n");
        write_file(t->fd, "etc/httpd/conf.d/b.conf", "PassEnv B\n");
        write_file(t->fd, "etc/httpd/conf.d/a.conf", "PassEnv A\n");
        write_file(t->fd, "etc/httpd/conf.d/.hidden.conf", "PassEnv HIDDEN\n");
        write_file(t->fd, "etc/httpd/sites/one/site.conf", "PassEnv ONE\n");
        write_file(t->fd, "etc/httpd/sites/two/site.conf", "PassEnv TWO\n");
        write_file(t->fd, "etc/httpd/dir/sub/z.conf", "PassEnv DIRSUB\n");
        write_file(t->fd, "etc/httpd/dir/y.conf", "PassEnv DIR\n");
        /* An absolute symlink is resolved inside the root, never on the host. */
        write_file(t->fd, "etc/hostname.conf", "PassEnv INROOT\n");
        check_errno(symlinkat("/etc/hostname.conf", t->fd, "etc/httpd/link.conf"));
        struct apache_config c = {0};
        assert_int_equal(apache_config_read(t->fd, APACHE_RHEL, NULL, NULL, &c), 0);
        assert_strv_equal(c.passenv,"A (/etc/httpd/conf.d/a.conf:1)",           "B (/etc/httpd/conf.d/b.conf:1)",
                        "ONE (/etc/httpd/sites/one/site.conf:1)",   "TWO (/etc/httpd/sites/two/site.conf:1)",
                        "DIRSUB (/etc/httpd/dir/sub/z.conf:1)",     "DIR (/etc/httpd/dir/y.conf:1)",
                        "INROOT (/etc/httpd/link.conf:1)");
        assert_int_equal(strv_length(c.problems), 1);
        assert_string_equal(c.problems[0], "/etc/httpd/conf/httpd.conf:9: Include /etc/httpd/missing.conf: no such "
                                           "file (httpd refuses to start)");
        assert_string_equal(c.user, "apache");
        assert_string_equal(c.wsgi_module_path, "/etc/httpd/modules/mod_wsgi.so");
        assert_true(c.cgi);
        /* Files sorted by name: 01-cgi before 10-wsgi. */
        assert_string_equal(c.files[1], "/etc/httpd/conf.modules.d/01-cgi.conf");
        apache_config_free(&c);

        _cleanup_free_ char *user = NULL;
        assert_int_equal(apache_run_user(t->fd, APACHE_RHEL, &user, NULL, NULL), 0);
        assert_string_equal(user, "apache");
}

static void test_ifmodule_ifdefine(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "etc/httpd/conf/httpd.conf",
                   "<IfModule mod_wsgi.c>\n"
                   "  PassEnv EARLY\n" /* not loaded yet: httpd evaluates in order */
                   "</IfModule>\n"
                   "LoadModule wsgi_module modules/mod_wsgi.so\n"
                   "<IfModule mod_wsgi.c>\n"
                   "  PassEnv BYFILE\n"
                   "  <IfModule !wsgi_module>\n"
                   "    PassEnv NEVER\n"
                   "    <IfModule mod_so.c>\n"
                   "      PassEnv NEVER2\n"
                   "    </IfModule>\n"
                   "  </IfModule>\n"
                   "</IfModule>\n"
                   "<IfModule mod_version.c>\n" /* not built into RHEL's httpd */
                   "  PassEnv VERSION\n"
                   "</IfModule>\n"
                   "<IfDefine FOREGROUND>\n"
                   "  PassEnv FG\n"
                   "</IfDefine>\n"
                   "Define LOCAL /srv/x\n"
                   "<IfDefine LOCAL>\n"
                   "  PassEnv ${LOCAL}\n"
                   "</IfDefine>\n"
                   "UnDefine LOCAL\n"
                   "<IfDefine !LOCAL>\n"
                   "  PassEnv UNDEFINED\n"
                   "</IfDefine>\n"
                   "PassEnv ${NOPE}\n");
        char *defines[] = {"FOREGROUND", NULL};
        struct apache_config c = {0};
        assert_int_equal(apache_config_read(t->fd, APACHE_RHEL, NULL, defines, &c), 0);
        assert_strv_equal(c.passenv,"BYFILE (/etc/httpd/conf/httpd.conf:6)", "FG (/etc/httpd/conf/httpd.conf:18)",
                        "/srv/x (/etc/httpd/conf/httpd.conf:22)", "UNDEFINED (/etc/httpd/conf/httpd.conf:26)",
                        "${NOPE} (/etc/httpd/conf/httpd.conf:28)");
        assert_int_equal(strv_length(c.problems), 1);
        assert_string_equal(c.problems[0],
                            "/etc/httpd/conf/httpd.conf:28: PassEnv: ${NOPE} is not defined (httpd keeps it as written)");
        assert_string_equal(c.user, "#-1");
        apache_config_free(&c);
}

static void test_wsgi_daemons_and_scripts(void **state)
{
        struct tmp *t = *state;
        debian_tree(t->fd, stock);
        write_file(t->fd, "etc/apache2/sites-available/apps.conf",
                   "WSGIPythonHome /opt/pyshare/embedded\n"
                   "WSGIPythonPath /srv/a:/srv/b\n"
                   "WSGIDaemonProcess global processes=2\n"
                   "<VirtualHost *:80>\n"
                   "    ServerName one\n"
                   "    WSGIDaemonProcess app1 user=alice group=staff python-home=/opt/pyshare/app1 \\\n"
                   "        python-path=\"/srv/app1 src:/srv/lib\" lang=de_DE.UTF-8 locale=de_DE.UTF-8 "
                   "display-name=%{GROUP}\n"
                   "    WSGIProcessGroup app1\n"
                   "    WSGIScriptAlias / /srv/app1/app.wsgi\n"
                   "    WSGIScriptAlias /other /srv/other/app.wsgi process-group=global "
                   "application-group=%{GLOBAL}\n"
                   "    WSGIScriptAlias /dir /srv/dir/app.wsgi\n"
                   "    <Directory /srv/dir>\n"
                   "        WSGIProcessGroup %{GLOBAL}\n"
                   "        WSGIApplicationGroup %{GLOBAL}\n"
                   "    </Directory>\n"
                   "</VirtualHost>\n"
                   "<VirtualHost *:8080>\n"
                   "    WSGIDaemonProcess app2 python-path=/srv/app2\n"
                   "    WSGIScriptAlias / /srv/app2/app.wsgi\n"
                   "    WSGIScriptAlias /x /srv/x.wsgi process-group=missing\n"
                   "    WSGIDaemonProcess app1\n"
                   "</VirtualHost>\n");
        check_errno(symlinkat("../sites-available/apps.conf", t->fd, "etc/apache2/sites-enabled/apps.conf"));
        struct apache_envvars e = {0};
        struct apache_config c = {0};
        read_debian(t->fd, NULL, &e, &c);
        assert_string_equal(c.python_home, "/opt/pyshare/embedded");
        assert_string_equal(c.python_path, "/srv/a:/srv/b");
        assert_string_equal(c.python_path_where, "/etc/apache2/sites-enabled/apps.conf:2");
        assert_int_equal(c.n_daemons, 4);
        const struct apache_daemon *d = apache_config_daemon(&c, "app1");
        assert_non_null(d);
        assert_string_equal(d->user, "alice");
        assert_string_equal(d->group, "staff");
        assert_string_equal(d->python_home, "/opt/pyshare/app1");
        assert_string_equal(d->python_path, "/srv/app1 src:/srv/lib");
        assert_string_equal(d->lang, "de_DE.UTF-8");
        assert_string_equal(d->locale, "de_DE.UTF-8");
        assert_string_equal(d->display_name, "%{GROUP}");
        assert_string_equal(d->where, "/etc/apache2/sites-enabled/apps.conf:6");
        assert_int_equal(d->vhost, 1); /* 0 is 000-default.conf's, read first */
        _cleanup_strv_ char **pp = apache_split_python_path(d->python_path);
        assert_int_equal(strv_length(pp), 2);
        assert_string_equal(pp[0], "/srv/app1 src");
        assert_string_equal(pp[1], "/srv/lib");
        /* No user=: the daemon runs as Apache's User (mod_wsgi's default); NULL says so. */
        d = apache_config_daemon(&c, "app2");
        assert_null(d->user);
        assert_null(d->group);
        assert_int_equal(d->vhost, 2);
        assert_int_equal(apache_config_daemon(&c, "global")->vhost, -1);

        assert_int_equal(c.n_scripts, 5);
        assert_string_equal(c.scripts[0].url, "/");
        assert_string_equal(c.scripts[0].process_group, "app1");
        assert_string_equal(c.scripts[0].application_group, "%{RESOURCE}");
        assert_string_equal(c.scripts[1].process_group, "global");
        assert_string_equal(c.scripts[1].application_group, "%{GLOBAL}");
        assert_string_equal(c.scripts[2].process_group, ""); /* embedded: its <Directory> says %{GLOBAL} */
        assert_string_equal(c.scripts[2].application_group, "%{GLOBAL}");
        assert_string_equal(c.scripts[3].process_group, ""); /* the other vhost has no WSGIProcessGroup */
        assert_int_equal(c.scripts[3].vhost, 2);
        assert_string_equal(c.scripts[4].process_group, "missing");
        assert_strv_equal(c.problems,
                "/etc/apache2/sites-enabled/apps.conf:21: conflict: a second WSGIDaemonProcess app1 (httpd refuses "
                "to start)",
                "/etc/apache2/sites-enabled/apps.conf:20: conflict: process group missing is not defined by a "
                "WSGIDaemonProcess");
        assert_int_equal(strv_length(c.vhosts), 3);
        apache_config_free(&c);
        apache_envvars_free(&e);
}

static void test_caps(void **state)
{
        struct tmp *t = *state;
        /* A file that includes itself stops at the depth cap, with one problem. */
        write_file(t->fd, "etc/httpd/conf/httpd.conf", "PassEnv X\nInclude conf/httpd.conf\n");
        struct apache_config c = {0};
        assert_int_equal(apache_config_read(t->fd, APACHE_RHEL, NULL, NULL, &c), 0);
        assert_int_equal(strv_length(c.files), APACHE_MAX_DEPTH);
        assert_int_equal(strv_length(c.problems), 1);
        assert_true(strstr(c.problems[0], "not read: more than 1024 files, 16 levels of Include or 16777216 bytes") != NULL);
        apache_config_free(&c);

        /* Too large, a FIFO, a directory loop: each a problem, never a hang. */
        struct buf big = {0};
        for (size_t i = 0; big.len <= APACHE_MAX_FILE_SIZE; i++)
                buf_puts(&big, "# padding padding padding padding padding padding padding padding\n");
        buf_append(&big, "", 1);
        write_file(t->fd, "etc/httpd/big.conf", big.p);
        buf_free(&big);
        check_errno(mkfifoat(t->fd, "etc/httpd/fifo.conf", 0644));
        write_file(t->fd, "etc/httpd/conf/httpd.conf", "Include big.conf\nInclude fifo.conf\nUser apache\n");
        assert_int_equal(apache_config_read(t->fd, APACHE_RHEL, NULL, NULL, &c), 0);
        assert_int_equal(strv_length(c.problems), 2);
        assert_string_equal(c.problems[0], "/etc/httpd/conf/httpd.conf:1: unreadable: cannot read /etc/httpd/big.conf: "
                                           "File too large");
        assert_string_equal(c.problems[1], "/etc/httpd/conf/httpd.conf:2: unreadable: cannot read /etc/httpd/fifo.conf: "
                                           "Invalid argument");
        assert_string_equal(c.user, "apache");
        apache_config_free(&c);
}

static void test_elf_libpython(void **state)
{
        struct tmp *t = *state;
        /* This test binary links libpython (through pyembed.c), as mod_wsgi.so does. */
        char self[4096];
        ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(k > 0);
        self[k] = 0;
        int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(rootfd >= 0);
        _cleanup_free_ char *lib = NULL;
        assert_int_equal(apache_elf_libpython(rootfd, self, &lib), 0);
        assert_true(startswith(lib, "libpython3."));
        assert_true(strstr(lib, ".so") != NULL);
        /* Not an ELF file, a cut one, and one without libpython. */
        write_file(t->fd, "text.so", "not an ELF file\n");
        _cleanup_free_ char *img = read_file(rootfd, self + 1);
        close(rootfd);
        assert_non_null(img);
        int fd = openat(t->fd, "cut.so", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_int_equal(write(fd, img, 200), 200);
        close(fd);
        char *none = NULL;
        assert_int_equal(apache_elf_libpython(t->fd, "/text.so", &none), -EINVAL);
        assert_int_equal(apache_elf_libpython(t->fd, "/cut.so", &none), -EINVAL);
        assert_int_equal(apache_elf_libpython(t->fd, "/missing.so", &none), -ENOENT);
        assert_null(none);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_debian_stock),          tmp_test(test_run_user_from_envvars),
                tmp_test(test_envvars_pythonpath),    tmp_test(test_envvars_not_understood),
                tmp_test(test_envvars_instance_and_source), tmp_test(test_include_globs),
                tmp_test(test_ifmodule_ifdefine),     tmp_test(test_wsgi_daemons_and_scripts),
                tmp_test(test_caps),                  tmp_test(test_elf_libpython),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
