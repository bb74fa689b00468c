/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conflicts.h"
#include "app.h"
#include "config.h"
#include "fileio.h"
#include "names.h"

#include <fcntl.h>

static void conflict_clear(struct conflict *c)
{
        for (size_t k = 0; k < c->n; k++) {
                free(c->p[k].app);
                free(c->p[k].dist);
                free(c->p[k].version);
        }
        free(c->p);
        free(c->name);
}

void conflicts_free(struct conflict *c, size_t n)
{
        for (size_t i = 0; i < n; i++)
                conflict_clear(&c[i]);
        free(c);
}

/* Every venv has these: they are the venv's tools, not the app's. */
static bool tool_name(const char *s)
{
        static const char *const tools[] = {"pip", "setuptools", "pkg_resources", "_distutils_hack", "wheel"};
        for (size_t i = 0; i < ELEMENTSOF(tools); i++)
                if (strcmp(s, tools[i]) == 0)
                        return true;
        return false;
}

/* The top-level import name of a RECORD line ("pkg/mod.py,sha256=...,12"), or NULL. */
static char *record_name(const char *line)
{
        size_t n = strcspn(line, ",/");
        if (n == 0 || line[n] == 0)
                return NULL;
        _cleanup_free_ char *top = xstrndup(line, n);
        if (line[n] == ',') { /* a file at the top: a module, or an extension module */
                char *dot = strchr(top, '.');
                if (!dot || (strcmp(dot, ".py") != 0 && !endswith(dot, ".so")))
                        return NULL;
                *dot = 0;
        }
        return module_name_valid(top) && !strchr(top, '.') && strcmp(top, "__pycache__") != 0 ? TAKE_PTR(top) : NULL;
}

/* The names one distribution provides: top_level.txt, else RECORD. */
static char **dist_names(int sitefd, const char *dist_dir)
{
        _cleanup_close_ int dfd = openat(sitefd, dist_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        if (dfd < 0)
                return NULL;
        bool from_top = file_read_at(dfd, "top_level.txt", 1024 * 1024, &text, NULL, NULL) >= 0;
        if (!from_top && file_read_at(dfd, "RECORD", 16 * 1024 * 1024, &text, NULL, NULL) < 0)
                return NULL;
        char **names = NULL, *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *s = strstrip(l);
                char *name = from_top ? (module_name_valid(s) && !strchr(s, '.') ? xstrdup(s) : NULL) : record_name(s);
                if (name && !tool_name(name) && !strv_contains(names, name))
                        strv_consume(&names, name);
                else
                        free(name);
        }
        return names;
}

static void add_provider(struct conflict **all, size_t *n, const char *name, const struct provider *p)
{
        struct conflict *c = NULL;
        for (size_t i = 0; i < *n && !c; i++)
                if (strcmp((*all)[i].name, name) == 0)
                        c = &(*all)[i];
        if (!c) {
                *all = xrealloc(*all, (*n + 1) * sizeof(**all));
                c = &(*all)[(*n)++];
                *c = (struct conflict){.name = xstrdup(name)};
        }
        for (size_t k = 0; k < c->n; k++)
                if (strcmp(c->p[k].app, p->app) == 0)
                        return; /* two distributions of one app: not a conflict between apps */
        c->p = xrealloc(c->p, (c->n + 1) * sizeof(*c->p));
        c->p[c->n++] = (struct provider){.app = xstrdup(p->app), .dist = xstrdup(p->dist),
                                         .version = xstrdup(p->version), .daemon = p->daemon};
}

/* What one app's venv provides, added to all. */
static void app_provides(const struct ctx *x, const char *app, struct app_config *c, struct conflict **all, size_t *n)
{
        struct app a = {.name = app};
        a.cfg.prefix = c->prefix;
        app_paths(&a);
        _cleanup_close_ int sfd = -1;
        _cleanup_strv_ char **dists = NULL;
        if (app_open_site_packages(x, &a, &sfd, NULL) >= 0 && dir_list_at(sfd, ".dist-info", &dists) >= 0) {
                strv_sort(dists);
                for (size_t i = 0; dists && dists[i]; i++) {
                        _cleanup_free_ char *base = xstrndup(dists[i], strlen(dists[i]) - strlen(".dist-info"));
                        char *dash = strchr(base, '-');
                        struct provider p = {.app = (char *)app, .dist = base, .version = dash ? dash + 1 : "?",
                                             .daemon = c->wsgi_script != NULL};
                        if (dash)
                                *dash = 0;
                        if (tool_name(base))
                                continue;
                        _cleanup_strv_ char **names = dist_names(sfd, dists[i]);
                        for (size_t k = 0; names && names[k]; k++)
                                add_provider(all, n, names[k], &p);
                }
        }
        free(a.venv);
        free(a.venv_rel);
        free(a.prefix_rel);
}

int service_conflicts(const struct ctx *x, const char *unit, struct conflict **ret, size_t *ret_n)
{
        _cleanup_strv_ char **apps = NULL;
        int r = list_apps(x, &apps);
        if (r < 0)
                return r;
        struct conflict *all = NULL;
        size_t n = 0;
        /* The shared-path apps first, in PYTHONPATH's order (sorted), then the daemon-wired. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; apps && apps[i]; i++) {
                        _cleanup_config_ struct app_config c = {0};
                        if (app_settings(x, apps[i], &c) <= 0 || strcmp(c.service, unit) != 0 ||
                            (c.wsgi_script != NULL) != (pass == 1))
                                continue;
                        app_provides(x, apps[i], &c, &all, &n);
                }
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                struct conflict *c = &all[i];
                if (c->n < 2 || c->p[0].daemon) {
                        conflict_clear(c);
                        continue;
                }
                for (size_t k = 1; k < c->n; k++)
                        c->versions_differ = c->versions_differ || strcmp(c->p[k].version, c->p[0].version) != 0 ||
                                             strcmp(c->p[k].dist, c->p[0].dist) != 0;
                all[kept++] = *c;
        }
        *ret = all;
        *ret_n = kept;
        return 0;
}

bool conflict_involves(const struct conflict *c, const char *app)
{
        for (size_t k = 0; k < c->n; k++)
                if (strcmp(c->p[k].app, app) == 0)
                        return true;
        return false;
}

char *conflict_text(const struct conflict *c, const char *unit)
{
        struct buf b = {0};
        const struct provider *w = &c->p[0], *fix = NULL;
        buf_printf(&b, "import name %s is provided by ", c->name);
        for (size_t k = 0; k < c->n; k++) {
                const struct provider *p = &c->p[k];
                buf_printf(&b, "%s%s (%s %s%s)", k == 0 ? "" : k + 1 == c->n ? " and " : ", ", p->app, p->dist,
                           p->version, p->daemon ? ", in a daemon process" : "");
                if (k > 0 && !p->daemon && !fix)
                        fix = p;
        }
        buf_printf(&b, ": %s imports %s's %s %s for all of them (first in its PYTHONPATH", unit, w->app, w->dist,
                   w->version);
        bool inherits = false;
        for (size_t k = 1; k < c->n; k++)
                inherits = inherits || c->p[k].daemon;
        buf_printf(&b, "%s); ", inherits ? ", which daemon processes inherit in front of their venv" : "");
        /* A shared-path loser leaves the shared path; when only daemon-wired apps lose, the
         * winner leaves it, so that the daemons stop inheriting its path. */
        const char *who = fix ? fix->app : w->app;
        buf_printf(&b, "wire %s in a mod_wsgi daemon process of its own: pyshare setup %s --wsgi-script=PATH", who, who);
        return b.p;
}

void conflicts_json(struct json *j, const char *key, const struct conflict *c, size_t n, const char *app,
                    const char *unit)
{
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any = any || conflict_involves(&c[i], app);
        if (!any)
                return;
        json_arr_begin(j, key);
        for (size_t i = 0; i < n; i++) {
                if (!conflict_involves(&c[i], app))
                        continue;
                _cleanup_free_ char *text = conflict_text(&c[i], unit);
                json_obj_begin(j, NULL);
                json_str(j, "cause", c[i].versions_differ ? "conflict" : "same-version");
                json_str(j, "name", c[i].name);
                json_str(j, "imported", c[i].p[0].app);
                json_arr_begin(j, "providers");
                for (size_t k = 0; k < c[i].n; k++) {
                        json_obj_begin(j, NULL);
                        json_str(j, "app", c[i].p[k].app);
                        json_str(j, "distribution", c[i].p[k].dist);
                        json_str(j, "version", c[i].p[k].version);
                        json_bool(j, "daemon", c[i].p[k].daemon);
                        json_obj_end(j);
                }
                json_arr_end(j);
                json_str(j, "message", text);
                json_obj_end(j);
        }
        json_arr_end(j);
}

char *app_of_file(const struct ctx *x, const char *self, const char *file)
{
        _cleanup_strv_ char **apps = NULL;
        if (!file || list_apps(x, &apps) < 0)
                return NULL;
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_config_ struct app_config c = {0};
                if (strcmp(apps[i], self) == 0 || app_settings(x, apps[i], &c) <= 0)
                        continue;
                _cleanup_free_ char *venv = xasprintf("%s/%s/", c.prefix, apps[i]);
                if (startswith(file, venv))
                        return xstrdup(apps[i]);
        }
        return NULL;
}
