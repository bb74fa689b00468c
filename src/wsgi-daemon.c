/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wsgi-daemon.h"
#include "apache.h"
#include "contain.h"
#include "app.h"
#include "envfile.h"
#include "fileio.h"
#include "log.h"
#include "prefix.h"
#include "units.h"
#include "users.h"
#include "wiring.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#define DEBIAN_AVAILABLE "etc/apache2/conf-available"
#define DEBIAN_ENABLED "etc/apache2/conf-enabled"
#define RHEL_CONF_D "etc/httpd/conf.d"

char *wsgi_daemon_group(const char *app) { return xasprintf("pyshare-%s", app); }

char *wsgi_daemon_url(const struct app *a) { return a->cfg.url ? xstrdup(a->cfg.url) : xasprintf("/%s", a->name); }

/* The directory the conf's <Directory> grants: the script's. */
static char *script_dir(const char *script)
{
        char *dir = xstrdup(script), *slash = strrchr(dir, '/');
        if (slash)
                slash[slash == dir ? 1 : 0] = 0;
        return dir;
}

char *wsgi_daemon_conf_text(const struct app *a, const char *group, const char *url)
{
        _cleanup_free_ char *pg = wsgi_daemon_group(a->name), *dir = script_dir(a->cfg.wsgi_script);
        /* All values are path_safe or user names: nothing to quote. application-group
         * %{GLOBAL}: NumPy and other C extensions break in sub-interpreters. */
        return xasprintf("# Written by pyshare setup for %s: its own mod_wsgi daemon process, with its venv as\n"
                         "# python-home. `pyshare remove %s` takes it away.\n"
                         "WSGIDaemonProcess %s python-home=%s user=%s group=%s lang=C.UTF-8 locale=C.UTF-8 "
                         "display-name=%%{GROUP}\n"
                         "WSGIScriptAlias %s %s process-group=%s application-group=%%{GLOBAL}\n"
                         "<Directory %s>\n"
                         "    Require all granted\n"
                         "</Directory>\n",
                         a->name, a->name, pg, a->venv, a->user.name, group, url, a->cfg.wsgi_script, pg, dir);
}

int wsgi_daemon_check(const struct ctx *x, const struct app *a)
{
        if (!unit_apache_command(a->cfg.service))
                return log_error_errno(-PS_E_INVALID, "--wsgi-script runs %s in a mod_wsgi daemon process of Apache; %s "
                                       "is not Apache (apache2 or httpd): name it with --service=apache2",
                                       a->name, a->cfg.service);
        _cleanup_free_ char *sp = shown(x, a->cfg.wsgi_script), *dir = script_dir(a->cfg.wsgi_script);
        struct stat st;
        if (fstatat(x->rootfd, a->cfg.wsgi_script + 1, &st, 0) < 0)
                return log_error_errno(-PS_E_NOTFOUND, "WSGI script %s: %s: give the path of the app's .wsgi file "
                                       "with --wsgi-script=PATH",
                                       sp, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return log_error_errno(-PS_E_INVALID, "WSGI script %s is not a regular file: give the path of the "
                                       "app's .wsgi file with --wsgi-script=PATH",
                                       sp);
        /* "Require all granted" on /, /etc, /tmp, ... would open all of it to every client
         * (through any alias or symbolic link into it), not just the app's directory. */
        if (prefix_reserved(dir))
                return log_error_errno(-PS_E_INVALID, "WSGI script %s is directly in %s: the conf's <Directory %s> "
                                       "would grant every client all of %s; put the script in a directory of the "
                                       "app's own (/usr/share/%s, /var/www/%s) and give that path with "
                                       "--wsgi-script=PATH",
                                       sp, dir, dir, dir, a->name, a->name);
        return 0;
}

const char *wsgi_configtest_name(enum wsgi_configtest t)
{
        static const char *const names[] = {"not-needed", "passed", "skipped", "would-run"};
        return names[t];
}

/* One file of Apache's configuration as it was before this run: absent, a file, a symlink. */
struct saved {
        const char *dir_rel, *name;
        bool present, is_link;
        char *content; /* the file's bytes, or the link's target */
        size_t len;
        mode_t mode;
};

static int save_file(const struct ctx *x, struct saved *s)
{
        _cleanup_close_ int dfd = -1;
        if (dir_open(x->rootfd, s->dir_rel, NULL, &dfd, NULL) < 0)
                return 0; /* no directory: nothing to put back but the file (removed below) */
        struct stat st;
        if (fstatat(dfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        s->present = true;
        s->mode = st.st_mode & 07777;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, s->name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                s->is_link = true;
                s->content = xstrndup(target, (size_t)n);
                return 0;
        }
        return file_read_at(dfd, s->name, APACHE_MAX_FILE_SIZE, &s->content, &s->len, NULL);
}

static int restore_file(const struct ctx *x, const struct saved *s)
{
        _cleanup_close_ int dfd = -1;
        if (dir_open(x->rootfd, s->dir_rel, NULL, &dfd, NULL) < 0)
                return 0;
        bool changed;
        int r = file_remove_at(dfd, s->name, false, &changed);
        if (r < 0 || !s->present)
                return r;
        if (s->is_link)
                return symlinkat(s->content, dfd, s->name) < 0 ? -errno : 0;
        return file_write_atomic(dfd, s->name, s->content, s->len, s->mode, false, &changed);
}

/* apache2ctl configtest (Debian) or httpd -t: 0 when it passed, else its output in *ret_out. */
static int configtest(enum apache_layout layout, char **ret_out)
{
        char *debian[] = {"/usr/sbin/apache2ctl", "configtest", NULL};
        char *rhel[] = {"/usr/sbin/httpd", "-t", NULL};
        char **argv = layout == APACHE_RHEL ? rhel : debian;
        _cleanup_free_ char *out = NULL;
        int r = run_command(argv, 60 * 1000, &out);
        if (r == 0)
                return 0;
        *ret_out = r < 0 ? xasprintf("cannot run %s: %s", argv[0], strerror(-r))
                         : xstrdup(out && *strstrip(out) ? strstrip(out) : "(no output)");
        return -PS_E_PROBLEM;
}

static void saved_free(struct saved *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(s[i].content);
}

/* Writes the conf (and the Debian symlink), runs the test, puts everything back on failure. */
static int write_and_test(const struct ctx *x, const struct app *a, enum apache_layout layout, const char *name,
                          const char *text, struct actions *acts, enum wsgi_configtest *ret_test)
{
        struct saved saved[2] = {
                {.dir_rel = layout == APACHE_RHEL ? RHEL_CONF_D : DEBIAN_AVAILABLE, .name = name},
                {.dir_rel = DEBIAN_ENABLED, .name = name},
        };
        size_t n = layout == APACHE_RHEL ? 1 : 2;
        size_t before = strv_length(acts->changed);
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = save_file(x, &saved[i]);
        if (r < 0) {
                saved_free(saved, n);
                return log_error_errno(r, "cannot read /%s/%s: %s", saved[0].dir_rel, name, strerror(-r));
        }
        _cleanup_free_ char *target = xasprintf("../conf-available/%s", name),
                            *enabled = xasprintf("/" DEBIAN_ENABLED "/%s", name), *label = shown(x, enabled),
                            *how = xasprintf("a2enconf %.*s", (int)(strlen(name) - strlen(".conf")), name);
        if ((r = write_file(x, saved[0].dir_rel, name, text, acts)) >= 0 && layout != APACHE_RHEL)
                r = link_file(x, DEBIAN_ENABLED, name, target, label, how, acts);
        bool changed = strv_length(acts->changed) > before;
        *ret_test = WSGI_TEST_NOT_NEEDED;
        _cleanup_free_ char *out = NULL;
        if (r >= 0 && changed && x->dry_run) {
                log_info("the conf would read:\n%.*s", (int)strlen(text) - 1, text);
                *ret_test = WSGI_TEST_WOULD_RUN;
        } else if (r >= 0 && changed && x->root) {
                *ret_test = WSGI_TEST_SKIPPED;
                log_info("skipped Apache's configuration test inside the image (--root): run `%s` in it before "
                         "Apache starts",
                         layout == APACHE_RHEL ? "httpd -t" : "apache2ctl configtest");
        } else if (r >= 0 && changed) {
                if ((r = configtest(layout, &out)) >= 0)
                        *ret_test = WSGI_TEST_PASSED;
        }
        if (r < 0 && changed && !x->dry_run) {
                for (size_t i = 0; i < n; i++) {
                        int q = restore_file(x, &saved[i]);
                        if (q < 0)
                                log_error("cannot put /%s/%s back: %s", saved[i].dir_rel, name, strerror(-q));
                }
                for (size_t i = before; acts->changed && acts->changed[i]; i++) {
                        free(acts->changed[i]);
                        acts->changed[i] = NULL;
                }
        }
        saved_free(saved, n);
        if (out) {
                _cleanup_free_ char *path = xasprintf("/%s/%s", saved[0].dir_rel, name), *sp = shown(x, path);
                bool no_wsgi = strstr(out, "Invalid command 'WSGI") != NULL;
                log_error("Apache's configuration test failed with %s, so it was put back as it was and Apache's "
                          "configuration is unchanged%s:\n%s",
                          sp, no_wsgi ? " (mod_wsgi is not enabled: apt-get install libapache2-mod-wsgi-py3, or "
                                        "a2enmod wsgi)" : "; fix what the test names and run pyshare setup again",
                          out);
        }
        return r;
}

int wsgi_daemon_update(const struct ctx *x, const struct app *a, bool enable, struct actions *acts,
                       bool *ret_changed, enum wsgi_configtest *ret_test, char **ret_path)
{
        _cleanup_free_ char *name = xasprintf("%s.conf", a->name), *pname = xasprintf("pyshare-%s", name);
        enum apache_layout layout = apache_layout_of_unit(x->rootfd, a->cfg.service);
        size_t before = strv_length(acts->changed);
        int r;
        *ret_test = WSGI_TEST_NOT_NEEDED;
        if (!enable) {
                if ((r = remove_file(x, DEBIAN_ENABLED, pname, acts)) < 0 ||
                    (r = remove_file(x, DEBIAN_AVAILABLE, pname, acts)) < 0 || (r = remove_file(x, RHEL_CONF_D, pname, acts)) < 0)
                        return r;
                *ret_changed = strv_length(acts->changed) > before;
                return 0;
        }
        _cleanup_free_ char *group = group_name_of(ids_root(x), a->user.gid), *url = wsgi_daemon_url(a);
        if (!group)
                return log_error_errno(-PS_E_NOTFOUND, "the primary group (gid %u) of %s has no name: give it one, "
                                       "mod_wsgi needs it for group=",
                                       (unsigned)a->user.gid, a->user.name);
        _cleanup_free_ char *text = wsgi_daemon_conf_text(a, group, url);
        if ((r = write_and_test(x, a, layout, pname, text, acts, ret_test)) < 0)
                return r;
        *ret_changed = strv_length(acts->changed) > before;
        if (ret_path) {
                _cleanup_free_ char *path = xasprintf("/%s/%s", layout == APACHE_RHEL ? RHEL_CONF_D : DEBIAN_AVAILABLE, pname);
                *ret_path = xstrdup(path);
        }
        return 0;
}

char **wsgi_daemon_probe_env(const struct ctx *x, const struct app *a, const char *path_value)
{
        char **env = NULL;
        strv_consume(&env, xasprintf("PATH=%s", path_value));
        strv_push(&env, "LANG=C.UTF-8");
        _cleanup_free_ char *name = xasprintf("%s.env", a->cfg.service);
        _cleanup_strv_ char **svc = read_env_file(x, SERVICES_DIR, name);
        for (size_t i = 0; svc && svc[i]; i++)
                if (!startswith(svc[i], "PATH=") && !startswith(svc[i], "LANG="))
                        strv_push(&env, svc[i]);
        return env;
}

void wsgi_daemon_probe_problems(const struct ctx *x, const struct app *a, char ***problems)
{
        enum apache_layout layout = apache_layout_of_unit(x->rootfd, a->cfg.service);
        struct apache_envvars ev = {0};
        _cleanup_strv_ char **env = NULL;
        if (layout == APACHE_DEBIAN && apache_debian_envvars(x->rootfd, NULL, &ev) >= 0)
                env = apache_envvars_exported(&ev);
        apache_envvars_free(&ev);
        char *rhel_defines[] = {"FOREGROUND", NULL};
        struct apache_config c = {0};
        if (apache_config_read(x->rootfd, layout, env, layout == APACHE_RHEL ? rhel_defines : NULL, &c) < 0) {
                strv_consume(problems, xasprintf("cannot read Apache's configuration (%s): the daemon process of %s "
                                                 "cannot be checked",
                                                 apache_main_file(layout), a->name));
                return;
        }
        _cleanup_free_ char *pg = wsgi_daemon_group(a->name), *url = wsgi_daemon_url(a);
        const struct apache_daemon *d = apache_config_daemon(&c, pg);
        if (!d)
                strv_consume(problems, xasprintf("Apache defines no WSGIDaemonProcess %s: its conf pyshare-%s.conf is "
                                                 "not enabled (run `pyshare setup %s` again)",
                                                 pg, a->name, a->name));
        else if (!d->python_home || strcmp(d->python_home, a->venv) != 0)
                strv_consume(problems, xasprintf("WSGIDaemonProcess %s at %s has python-home=%s, not the venv %s: "
                                                 "that definition is the one Apache uses; remove it",
                                                 pg, d->where, d->python_home ? d->python_home : "(none)", a->venv));
        for (size_t i = 0; i < c.n_scripts; i++) {
                const struct apache_script *s = &c.scripts[i];
                if (s->match || strcmp(s->url, url) != 0)
                        continue;
                if (strcmp(s->process_group, pg) != 0 || strcmp(s->path, a->cfg.wsgi_script) != 0)
                        strv_consume(problems, xasprintf("WSGIScriptAlias %s at %s runs %s in process group \"%s\", "
                                                         "not %s in %s: Apache uses the first alias of a URL; remove "
                                                         "that one or give %s another URL= (--url)",
                                                         url, s->where, s->path, s->process_group, a->cfg.wsgi_script,
                                                         pg, a->name));
                break;
        }
        /* python-home only picks the venv: the interpreter is the libpython mod_wsgi links. */
        _cleanup_free_ char *lib = NULL, *site = NULL;
        _cleanup_close_ int sfd = -1;
        if (c.wsgi_module_path && apache_elf_libpython(x->rootfd, c.wsgi_module_path, &lib) >= 0 &&
            app_open_site_packages(x, a, &sfd, &site) >= 0) {
                /* "libpython3.11.so.1.0" against "lib/python3.11/site-packages" */
                size_t n = strcspn(site + strlen("lib/"), "/");
                if (!startswith(lib, "lib") || strncmp(lib + 3, site + strlen("lib/"), n) != 0 || lib[3 + n] != '.')
                        strv_consume(problems, xasprintf("mod_wsgi (%s) embeds %s, but the venv %s is for %.*s: its "
                                                         "daemon process cannot use it; recreate the venv with that "
                                                         "Python",
                                                         c.wsgi_module_path, lib, a->venv, (int)n, site + strlen("lib/")));
        }
        apache_config_free(&c);
}
