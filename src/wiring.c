/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wiring.h"
#include "app.h"
#include "bus.h"
#include "config.h"
#include "envfile.h"
#include "fileio.h"
#include "log.h"
#include "units.h"
#include "venv.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

void actions_free(struct actions *a)
{
        strv_free(a->changed);
        strv_free(a->unchanged);
        for (size_t i = 0; i < a->n_diffs; i++) {
                free(a->diffs[i].path);
                free(a->diffs[i].before);
                free(a->diffs[i].after);
        }
        free(a->diffs);
}

/* Takes before and after. */
static void diff_add(struct actions *acts, const char *path, char *before, char *after, bool symlink)
{
        acts->diffs = xrealloc(acts->diffs, (acts->n_diffs + 1) * sizeof(*acts->diffs));
        acts->diffs[acts->n_diffs++] =
                (struct file_diff){.path = xstrdup(path), .before = before, .after = after, .symlink = symlink};
}

static char **lines_of(const char *text)
{
        char **l = NULL;
        for (const char *p = text ? text : ""; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                strv_consume(&l, xstrndup(p, n));
                p += n + (nl ? 1 : 0);
        }
        return l;
}

/* The lines that differ, between the lines both start and end with: enough to review a change
 * of the short files pyshare writes. */
static void print_diff(const char *path, const char *before, const char *after)
{
        _cleanup_strv_ char **a = lines_of(before), **b = lines_of(after);
        size_t na = strv_length(a), nb = strv_length(b), head = 0, tail = 0;
        while (head < na && head < nb && strcmp(a[head], b[head]) == 0)
                head++;
        while (tail < na - head && tail < nb - head && strcmp(a[na - 1 - tail], b[nb - 1 - tail]) == 0)
                tail++;
        log_info("--- %s%s", before ? "a" : "/dev/null", before ? path : "");
        log_info("+++ %s%s", after ? "b" : "/dev/null", after ? path : "");
        log_info("@@ -%zu,%zu +%zu,%zu @@", head + 1, na - head - tail, head + 1, nb - head - tail);
        for (size_t i = head; i < na - tail; i++)
                log_info("-%s", a[i]);
        for (size_t i = head; i < nb - tail; i++)
                log_info("+%s", b[i]);
}

static void record_diff(const struct ctx *x, struct actions *acts, const char *path, char *before, char *after,
                        bool symlink)
{
        if (!x->json) {
                _cleanup_free_ char *sp = shown(x, path);
                if (symlink)
                        log_info("%s: symlink %s -> %s", sp, before ? before : "(none)", after ? after : "(none)");
                else
                        print_diff(sp, before, after);
        }
        diff_add(acts, path, before, after, symlink);
}

void json_diffs(struct json *j, const struct ctx *x, const struct actions *acts)
{
        if (!x->diff)
                return;
        json_arr_begin(j, "diff");
        for (size_t i = 0; i < acts->n_diffs; i++) {
                const struct file_diff *d = &acts->diffs[i];
                json_obj_begin(j, NULL);
                json_str(j, "path", d->path);
                json_str(j, "before", d->before);
                json_str(j, "after", d->after);
                json_bool(j, "symlink", d->symlink);
                json_obj_end(j);
        }
        json_arr_end(j);
}

/* The content of a file pyshare is about to change, for --diff (NULL when there is none). */
static char *old_content(int dfd, const char *name)
{
        char *text = NULL;
        if (dfd < 0 || file_read_at(dfd, name, 1024 * 1024, &text, NULL, NULL) < 0)
                return NULL;
        return text;
}

static const char *write_hint(int r)
{
        switch (r) {
        case -ENOSPC:
        case -EDQUOT:
                return " (the filesystem is full: free some space and run pyshare again; the previous file is unchanged)";
        case -EROFS:
                return " (the filesystem is read-only: remount it read-write and run pyshare again)";
        default:
                return " (the previous file is unchanged)";
        }
}

/* A directory pyshare writes into: created root:root 0755 when missing, refused when someone but
 * root can change it. *ret_fd is -1 in a dry run where it does not exist yet. */
static int open_own_dir(const struct ctx *x, const char *dir_rel, int *ret_fd)
{
        _cleanup_free_ char *bad = NULL;
        const struct dir_opts o = {.mkdir_mode = 0755, .trusted = true, .dry_run = x->dry_run};
        int r = dir_open(x->rootfd, dir_rel, &o, ret_fd, &bad);
        return r < 0 ? report_dir_error(x, dir_rel, r, bad) : 0;
}

int write_file(const struct ctx *x, const char *dir_rel, const char *name, const char *content,
                      struct actions *acts)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *path = xasprintf("/%s/%s", dir_rel, name), *sp = shown(x, path);
        int r = open_own_dir(x, dir_rel, &dfd);
        if (r < 0)
                return r;
        bool changed;
        _cleanup_free_ char *before = x->diff ? old_content(dfd, name) : NULL;
        r = file_write_atomic(dfd, name, content, strlen(content), 0644, x->dry_run, &changed);
        if (r == -PS_E_UNSYNCED)
                return log_error_errno(r, "wrote %s, but its directory could not be synced (Input/output error): the "
                                       "new file is in place and may not survive a crash; check the disk and run "
                                       "pyshare again",
                                       sp);
        if (r < 0)
                return log_error_errno(r, "cannot write %s: %s%s", sp, strerror(-r), write_hint(r));
        if (changed) {
                log_info("%s %s", x->dry_run ? "would write" : "wrote", sp);
                strv_push(&acts->changed, path);
                if (x->diff)
                        record_diff(x, acts, path, TAKE_PTR(before), xstrdup(content), false);
        } else {
                log_debug("unchanged %s", sp);
                strv_push(&acts->unchanged, path);
        }
        return 0;
}

int remove_file(const struct ctx *x, const char *dir_rel, const char *name, struct actions *acts)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *path = xasprintf("/%s/%s", dir_rel, name), *sp = shown(x, path);
        _cleanup_free_ char *bad = NULL;
        int r = dir_open(x->rootfd, dir_rel, &(const struct dir_opts){.trusted = true}, &dfd, &bad);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return report_dir_error(x, dir_rel, r, bad);
        bool removed;
        _cleanup_free_ char *before = x->diff ? old_content(dfd, name) : NULL;
        r = file_remove_at(dfd, name, x->dry_run, &removed);
        if (r < 0)
                return log_error_errno(r, "cannot remove %s: %s", sp, strerror(-r));
        if (removed) {
                log_info("%s %s", x->dry_run ? "would remove" : "removed", sp);
                strv_push(&acts->changed, path);
                if (x->diff)
                        record_diff(x, acts, path, TAKE_PTR(before), NULL, false);
        }
        return 0;
}

int venv_pythonpath(const struct ctx *x, const struct app *a, char ***ret, struct pth_info *ret_pth)
{
        _cleanup_close_ int sfd = -1;
        _cleanup_free_ char *site_rel = NULL;
        int r = app_open_site_packages(x, a, &sfd, &site_rel);
        if (r < 0)
                return r;
        _cleanup_free_ char *site_abs = xasprintf("%s/%s", a->venv, site_rel);
        struct pth_info pth = {0};
        r = venv_read_pth(x->rootfd, ids_root(x), sfd, site_abs, &a->user, &pth);
        if (r < 0)
                return r;
        char **paths = NULL;
        strv_push(&paths, site_abs);
        for (size_t i = 0; pth.dirs && pth.dirs[i]; i++)
                strv_push(&paths, pth.dirs[i]);
        *ret = paths;
        if (ret_pth)
                *ret_pth = pth;
        else
                pth_info_free(&pth);
        return 0;
}

int app_env_text(const struct app *a, char *const *pythonpath, char **ret)
{
        struct buf b = {0};
        buf_printf(&b, "# Written by pyshare for %s: EnvironmentFile= for any unit that uses it.\n", a->name);
        _cleanup_free_ char *joined = strv_join(pythonpath, ":");
        int r = env_encode(&b, "PYTHONPATH", joined);
        if (r >= 0)
                r = env_encode(&b, "VIRTUAL_ENV", a->venv);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = b.p;
        return 0;
}

void report_pth(struct pth_info *pth)
{
        for (size_t i = 0; pth->code_lines && pth->code_lines[i]; i++) {
                /* setuptools puts this one in every venv; it only picks which distutils is
                 * imported, so saying it on every run would hide the lines that matter. */
                if (startswith(pth->code_lines[i], "distutils-precedence.pth:"))
                        log_debug("not run: import line of %s", pth->code_lines[i]);
                else
                        log_info("not run: import line of %s (a service that uses PYTHONPATH never runs it either)",
                                 pth->code_lines[i]);
        }
        if (pth->n_code_lines > PTH_CODE_LINES_MAX)
                log_info("not run either: %zu more import lines", pth->n_code_lines - PTH_CODE_LINES_MAX);
        _cleanup_free_ char *refused = pth_refused_summary(pth);
        if (refused)
                log_warning("left out of PYTHONPATH: %s", refused);
        pth_info_free(pth);
}

char **read_env_file(const struct ctx *x, const char *dir_rel, const char *name)
{
        _cleanup_close_ int dfd = -1;
        if (dir_open(x->rootfd, dir_rel, NULL, &dfd, NULL) < 0)
                return NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (file_read_at(dfd, name, 1024 * 1024, &text, &len, NULL) < 0)
                return NULL;
        char **env = NULL;
        if (env_parse(text, len, &env) < 0)
                return NULL;
        return env;
}

static char *service_env_path(const char *unit) { return xasprintf("/" SERVICES_DIR "/%s.env", unit); }

bool service_env_lists(const char *text, const char *app)
{
        const char *apps = strstr(text, "; apps: ");
        const char *eol = apps ? strstr(apps, ".\n") : NULL;
        if (!apps || !eol)
                return false;
        apps += strlen("; apps: ");
        _cleanup_free_ char *copy = xstrndup(apps, (size_t)(eol - apps));
        char *save = NULL;
        for (char *p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
                if (strcmp(p, app) == 0)
                        return true;
        return false;
}

char **services_listing(const struct ctx *x, const char *app)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_strv_ char **names = NULL;
        if (dir_open(x->rootfd, SERVICES_DIR, NULL, &dfd, NULL) < 0 || dir_list_at(dfd, ".service.env", &names) < 0)
                return NULL;
        char **units = NULL;
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *text = NULL;
                if (file_read_at(dfd, names[i], 1024 * 1024, &text, NULL, NULL) >= 0 && service_env_lists(text, app))
                        strv_consume(&units, xstrndup(names[i], strlen(names[i]) - strlen(".env")));
        }
        return units;
}

/* The apps the service files are made from: those set up, and the one a verb is writing
 * (x->planned), which a dry run has not written. */
static int apps_planned(const struct ctx *x, char ***ret)
{
        int r = list_apps(x, ret);
        if (r < 0 || !x->planned || strv_contains(*ret, x->planned->name))
                return r;
        strv_push(ret, x->planned->name);
        strv_sort(*ret);
        return 0;
}

/* An app's settings (> 0 when it is set up) and its PYTHONPATH (NULL when its env file has
 * none): the planned app's from x->planned, the others' from their files. */
static int settings_planned(const struct ctx *x, const char *app, struct app_config *c, char **ret_pythonpath)
{
        if (x->planned && strcmp(app, x->planned->name) == 0) {
                config_overlay(c, x->planned->cfg);
                if (ret_pythonpath)
                        *ret_pythonpath = strv_join(x->planned->pythonpath, ":");
                return 1;
        }
        int r = app_settings(x, app, c);
        if (r > 0 && ret_pythonpath) {
                _cleanup_free_ char *envname = xasprintf("%s.env", app);
                _cleanup_strv_ char **env = read_env_file(x, ETC_DIR, envname);
                const char *pp = env_get(env, "PYTHONPATH");
                *ret_pythonpath = pp ? xstrdup(pp) : NULL;
        }
        return r;
}

static void add_paths(char ***paths, const char *pythonpath)
{
        _cleanup_free_ char *copy = xstrdup(pythonpath);
        char *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
                if (!strv_contains(*paths, p))
                        strv_push(paths, p);
}

/* The apps attached to unit (but exclude) and the PYTHONPATH they give it, in order, from their
 * APP.env files; app's from app_paths instead when given (its APP.env is about to change). */
static int service_paths(const struct ctx *x, const char *unit, const char *exclude, const char *app,
                         char *const *app_paths, char ***attached, char ***paths)
{
        _cleanup_strv_ char **apps = NULL;
        int r = apps_planned(x, &apps);
        if (r < 0)
                return r;
        if (app && !strv_contains(apps, app))
                strv_push(&apps, app);
        for (size_t i = 0; apps && apps[i]; i++) {
                if (exclude && strcmp(apps[i], exclude) == 0)
                        continue;
                if (app && strcmp(apps[i], app) == 0) {
                        strv_push(attached, apps[i]);
                        _cleanup_free_ char *joined = strv_join(app_paths, ":");
                        add_paths(paths, joined);
                        continue;
                }
                _cleanup_config_ struct app_config c = {0};
                _cleanup_free_ char *pp = NULL;
                /* An app in a mod_wsgi daemon process of its own (WSGIScript=) is not shared. */
                if (settings_planned(x, apps[i], &c, &pp) <= 0 || strcmp(c.service, unit) != 0 || c.wsgi_script || !pp)
                        continue;
                strv_push(attached, apps[i]);
                add_paths(paths, pp);
        }
        return 0;
}

int app_env_check(const struct ctx *x, const struct app *a, const char *unit, char *const *pythonpath,
                  char **ret_envtext)
{
        _cleanup_free_ char *joined = strv_join(pythonpath, ":"), *sv = shown(x, a->venv);
        if (strlen(joined) > ENV_VALUE_MAX)
                return log_error_errno(-PS_E_INVALID, "the PYTHONPATH of %s would be %zu bytes, more than the %d that "
                                       "an EnvironmentFile value may hold: nothing was changed; remove directory "
                                       "lines from the .pth files in %s",
                                       a->name, strlen(joined), ENV_VALUE_MAX, sv);
        _cleanup_strv_ char **attached = NULL, **paths = NULL;
        /* A daemon-wired app is not in the service's PYTHONPATH: only the others count. */
        int r = service_paths(x, unit, NULL, a->cfg.wsgi_script ? NULL : a->name, pythonpath, &attached, &paths);
        if (r < 0)
                return r;
        _cleanup_free_ char *all = strv_join(paths, ":"), *list = strv_join(attached, ", ");
        if (strlen(all) > ENV_VALUE_MAX)
                return log_error_errno(-PS_E_INVALID, "the PYTHONPATH of %s would be %zu bytes with %s's, more than "
                                       "the %d that an EnvironmentFile value may hold (its apps: %s): nothing was "
                                       "changed; remove directory lines from the .pth files in %s or the other "
                                       "apps' venvs, or give %s a service of its own (--service=)",
                                       unit, strlen(all), a->name, ENV_VALUE_MAX, list, sv, a->name);
        r = app_env_text(a, pythonpath, ret_envtext);
        if (r < 0)
                return log_error_errno(-PS_E_INVALID, "cannot write the PYTHONPATH of %s into an EnvironmentFile: "
                                       "nothing was changed; remove the .pth lines with unusual characters in %s",
                                       a->name, sv);
        return 0;
}

/* Rewrites the service's merged EnvironmentFile and its drop-in from the apps attached to it
 * (but exclude), or removes both when none is left. *ret_dropin_changed tells whether systemd
 * must reload. */
int write_service_files(const struct ctx *x, const char *unit, const char *exclude, struct actions *acts,
                               bool *ret_dropin_changed, bool *ret_env_changed)
{
        _cleanup_strv_ char **attached = NULL, **paths = NULL;
        int r = service_paths(x, unit, exclude, NULL, NULL, &attached, &paths);
        if (r < 0)
                return r;

        _cleanup_free_ char *env_name = xasprintf("%s.env", unit), *dropin_dir = xasprintf(SYSTEMD_DIR "/%s.d", unit);
        size_t before = strv_length(acts->changed);
        if (!attached) {
                if ((r = remove_file(x, SERVICES_DIR, env_name, acts)) < 0)
                        return r;
                *ret_env_changed = strv_length(acts->changed) > before;
                before = strv_length(acts->changed);
                if ((r = remove_file(x, dropin_dir, DROPIN_NAME, acts)) < 0)
                        return r;
                *ret_dropin_changed = strv_length(acts->changed) > before;
                if (!x->dry_run)
                        unlinkat(x->rootfd, dropin_dir, AT_REMOVEDIR); /* only when empty */
                return 0;
        }
        _cleanup_free_ char *text = NULL, *envpath = service_env_path(unit), *dropin = unit_dropin_text(envpath);
        r = unit_service_env_text(unit, attached, paths, &text);
        if (r < 0)
                return log_error_errno(-PS_E_INVALID, "cannot encode PYTHONPATH for %s: %s", unit, strerror(-r));
        if ((r = write_file(x, SERVICES_DIR, env_name, text, acts)) < 0)
                return r;
        *ret_env_changed = strv_length(acts->changed) > before;
        before = strv_length(acts->changed);
        if ((r = write_file(x, dropin_dir, DROPIN_NAME, dropin, acts)) < 0)
                return r;
        *ret_dropin_changed = strv_length(acts->changed) > before;
        return 0;
}

int link_file(const struct ctx *x, const char *dir_rel, const char *name, const char *target,
                     const char *label, const char *how, struct actions *acts)
{
        _cleanup_close_ int dfd = -1;
        bool changed;
        int r = open_own_dir(x, dir_rel, &dfd);
        if (r < 0)
                return r;
        char old[PATH_MAX];
        ssize_t n = dfd >= 0 && x->diff ? readlinkat(dfd, name, old, sizeof(old) - 1) : -1;
        if ((r = symlink_ensure_at(dfd, name, target, x->dry_run, &changed)) < 0)
                return log_error_errno(r, "cannot enable %s: %s", label, strerror(-r));
        if (changed) {
                log_info("%s %s (%s)", x->dry_run ? "would enable" : "enabled", label, how);
                _cleanup_free_ char *path = xasprintf("/%s/%s", dir_rel, name);
                strv_push(&acts->changed, path);
                if (x->diff)
                        record_diff(x, acts, path, n >= 0 ? xstrndup(old, (size_t)n) : NULL, xstrdup(target), true);
        }
        return 0;
}

/* Apache passes PYTHONPATH on to CGI scripts while some app of an Apache unit asks for it:
 * Debian's conf-available + the symlink a2enconf makes, or RHEL's conf.d. */
int update_cgi_conf(const struct ctx *x, const char *exclude, struct actions *acts, bool *ret_changed)
{
        _cleanup_strv_ char **apps = NULL;
        bool want_debian = false, want_rhel = false;
        int r = apps_planned(x, &apps);
        if (r < 0)
                return r;
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_config_ struct app_config c = {0};
                if ((exclude && strcmp(apps[i], exclude) == 0) || settings_planned(x, apps[i], &c, NULL) <= 0 ||
                    c.cgi != CFG_YES)
                        continue;
                const char *cmd = unit_apache_command(c.service);
                if (cmd && strstr(cmd, "apache2"))
                        want_debian = true;
                else if (cmd)
                        want_rhel = true;
        }
        size_t before = strv_length(acts->changed);
        if (want_debian) {
                if ((r = write_file(x, "etc/apache2/conf-available", "pyshare.conf", unit_apache_cgi_text(), acts)) < 0)
                        return r;
                if ((r = link_file(x, "etc/apache2/conf-enabled", "pyshare.conf", "../conf-available/pyshare.conf",
                                   "/etc/apache2/conf-enabled/pyshare.conf", "a2enconf pyshare", acts)) < 0)
                        return r;
        } else if ((r = remove_file(x, "etc/apache2/conf-enabled", "pyshare.conf", acts)) < 0 ||
                   (r = remove_file(x, "etc/apache2/conf-available", "pyshare.conf", acts)) < 0)
                return r;
        if (want_rhel) {
                if ((r = write_file(x, "etc/httpd/conf.d", "pyshare.conf", unit_apache_cgi_text(), acts)) < 0)
                        return r;
        } else if ((r = remove_file(x, "etc/httpd/conf.d", "pyshare.conf", acts)) < 0)
                return r;
        *ret_changed = strv_length(acts->changed) > before;
        return 0;
}

void reload_systemd(const struct ctx *x, bool needed, const char **ret_state)
{
        *ret_state = "not-needed";
        if (!needed)
                return;
        if (x->root || !bus_systemd_running()) {
                *ret_state = "skipped";
                log_info("systemd is not running here: skipped daemon-reload (it reads the new files when it starts%s)",
                         x->root ? "; inside the image nothing more is needed" : "");
                return;
        }
        if (x->dry_run) {
                *ret_state = "would-reload";
                log_info("would reload systemd (daemon-reload)");
                return;
        }
        int r = bus_daemon_reload();
        if (r < 0) {
                *ret_state = "failed";
                log_warning("daemon-reload over D-Bus failed: %s; run `systemctl daemon-reload`", strerror(-r));
                return;
        }
        *ret_state = "reloaded";
        log_info("reloaded systemd (daemon-reload)");
}

int restart_or_hint(const struct ctx *x, const char *unit, bool restart, const char *changed, const char **ret_state)
{
        *ret_state = "not-requested";
        if (restart) {
                if (x->root || !bus_systemd_running()) {
                        *ret_state = "skipped";
                        log_info("systemd is not running here: cannot restart %s; start it after boot", unit);
                        return 0;
                }
                if (x->dry_run) {
                        *ret_state = "would-restart";
                        log_info("would restart %s", unit);
                        return 0;
                }
                _cleanup_free_ char *result = NULL;
                int r = bus_restart_unit(unit, 120 * 1000, &result);
                if (r < 0) {
                        *ret_state = "failed";
                        log_error("cannot restart %s: %s; see `systemctl status %s` and `journalctl -u %s`", unit,
                                  strerror(-r), unit, unit);
                        return -PS_E_PROBLEM;
                }
                if (strcmp(result, "done") != 0) {
                        *ret_state = "failed";
                        log_error("restarting %s ended with \"%s\"; see `systemctl status %s` and `journalctl -u %s`", unit,
                                  result, unit, unit);
                        return -PS_E_PROBLEM;
                }
                *ret_state = "restarted";
                log_info("restarted %s (job result: done)", unit);
                return 0;
        }
        if (!changed || x->dry_run)
                return 0;
        bool active = false, need_reload = false;
        /* The hint fits its reader: pyshare-app-hook restarts the service itself right after. */
        enum log_context lc = log_context();
        if (!x->root && bus_systemd_running() && bus_unit_state(unit, &active, &need_reload) >= 0 && active) {
                *ret_state = "needed";
                if (lc == LOG_CONTEXT_APP_HOOK)
                        log_notice("%s is running with the old %s: the package's hook restarts it next "
                                   "(try-restart)",
                                   unit, changed);
                else if (lc == LOG_CONTEXT_MAINTSCRIPT)
                        log_notice("%s is running with the old %s: restart it once the package is "
                                   "configured (systemctl restart %s)",
                                   unit, changed, unit);
                else
                        log_notice("%s is running with the old %s: restart it (systemctl restart %s), or "
                                   "give --restart to pyshare setup or remove",
                                   unit, changed, unit);
        } else if (!x->root) {
                *ret_state = "needed";
                if (lc == LOG_CONTEXT_SHELL)
                        log_info("restart %s when it runs, to give it the new %s (systemctl restart %s)", unit,
                                 changed, unit);
                else
                        log_info("%s gets the new %s when it starts", unit, changed);
        }
        return 0;
}

/* ---- the repair path unit (setup --watch) ------------------------------------------------- */

#define WATCH_TEMPLATE "pyshare-repair@.path"

char *watch_path_dropin_text(const char *app, const char *site)
{
        return xasprintf("# Written by pyshare setup --watch: the site-packages of %s.\n"
                         "[Path]\nPathChanged=\nPathChanged=%s\n",
                         app, site);
}

char *watch_service_dropin_text(const char *app, const char *venv)
{
        return xasprintf("# Written by pyshare setup --watch: %s lives outside %s.\n"
                         "[Service]\nReadWritePaths=-%s\n",
                         app, DEFAULT_PREFIX, venv);
}

/* Enables pyshare-repair@APP.path the way systemctl enable does (a symlink in
 * paths.target.wants), with a drop-in that names the venv's exact site-packages, and one that
 * lets the repair service write a venv outside /opt/pyshare. With enable false, undoes it. */
int update_watch(const struct ctx *x, const struct app *a, bool enable, struct actions *acts, bool *ret_changed)
{
        _cleanup_free_ char *path_unit = xasprintf("pyshare-repair@%s.path", a->name),
                            *svc_unit = xasprintf("pyshare-repair@%s.service", a->name),
                            *path_dir = xasprintf(SYSTEMD_DIR "/%s.d", path_unit),
                            *svc_dir = xasprintf(SYSTEMD_DIR "/%s.d", svc_unit);
        size_t before = strv_length(acts->changed);
        int r;
        if (!enable) {
                if ((r = remove_file(x, SYSTEMD_DIR "/paths.target.wants", path_unit, acts)) < 0 ||
                    (r = remove_file(x, path_dir, DROPIN_NAME, acts)) < 0 || (r = remove_file(x, svc_dir, DROPIN_NAME, acts)) < 0)
                        return r;
                if (!x->dry_run) {
                        unlinkat(x->rootfd, path_dir, AT_REMOVEDIR);
                        unlinkat(x->rootfd, svc_dir, AT_REMOVEDIR);
                }
                *ret_changed = strv_length(acts->changed) > before;
                if (*ret_changed && !x->dry_run && !x->root && bus_systemd_running())
                        bus_stop_unit(path_unit);
                return 0;
        }
        static const char *const dirs[] = {"etc/systemd/system", "usr/local/lib/systemd/system", "lib/systemd/system",
                                           "usr/lib/systemd/system"};
        const char *template_dir = NULL;
        for (size_t i = 0; i < ELEMENTSOF(dirs) && !template_dir; i++) {
                _cleanup_free_ char *rel = xasprintf("%s/" WATCH_TEMPLATE, dirs[i]);
                struct stat st;
                if (fstatat(x->rootfd, rel, &st, 0) == 0)
                        template_dir = dirs[i];
        }
        if (!template_dir)
                return log_error_errno(-PS_E_NOTFOUND, "--watch needs the unit %s, which is not installed (make "
                                       "install or the pyshare package installs it)",
                                       WATCH_TEMPLATE);
        _cleanup_strv_ char **pythonpath = NULL;
        if (venv_pythonpath(x, a, &pythonpath, NULL) < 0 && !x->dry_run)
                return log_error_errno(-ENOENT, "cannot find site-packages in %s", a->venv);
        _cleanup_free_ char *path_text = watch_path_dropin_text(a->name, pythonpath ? pythonpath[0] : a->venv);
        if ((r = write_file(x, path_dir, DROPIN_NAME, path_text, acts)) < 0)
                return r;
        if (strcmp(a->cfg.prefix, DEFAULT_PREFIX) != 0) {
                _cleanup_free_ char *svc_text = watch_service_dropin_text(a->name, a->venv);
                if ((r = write_file(x, svc_dir, DROPIN_NAME, svc_text, acts)) < 0)
                        return r;
        } else if ((r = remove_file(x, svc_dir, DROPIN_NAME, acts)) < 0)
                return r;
        _cleanup_free_ char *target = xasprintf("/%s/" WATCH_TEMPLATE, template_dir);
        if ((r = link_file(x, SYSTEMD_DIR "/paths.target.wants", path_unit, target, path_unit, "systemctl enable",
                           acts)) < 0)
                return r;
        *ret_changed = strv_length(acts->changed) > before;
        return 0;
}

int write_env_files(const struct ctx *x, const struct app *a, char *const *pythonpath, struct actions *acts,
                    bool *ret_env_changed, const char **ret_reload)
{
        _cleanup_free_ char *envtext = NULL, *env_name = xasprintf("%s.env", a->name);
        bool dropin_changed = false;
        struct planned_app planned = {.name = a->name, .cfg = &a->cfg, .pythonpath = pythonpath};
        struct ctx px = *x;
        px.planned = &planned;
        int r;
        if ((r = app_env_check(x, a, a->cfg.service, pythonpath, &envtext)) < 0 ||
            (r = write_file(&px, ETC_DIR, env_name, envtext, acts)) < 0 ||
            (r = write_service_files(&px, a->cfg.service, NULL, acts, &dropin_changed, ret_env_changed)) < 0)
                return r;
        reload_systemd(x, dropin_changed, ret_reload);
        return 0;
}

int refresh_env_files(const struct ctx *x, const struct app *a, struct actions *acts, bool *ret_env_changed)
{
        _cleanup_strv_ char **pythonpath = NULL;
        struct pth_info pth = {0};
        _cleanup_free_ char *sv = shown(x, a->venv);
        if (venv_pythonpath(x, a, &pythonpath, &pth) < 0)
                return log_error_errno(-ENOENT, "cannot find site-packages in %s: run `pyshare setup %s`", sv, a->name);
        report_pth(&pth);
        const char *state;
        return write_env_files(x, a, pythonpath, acts, ret_env_changed, &state);
}
