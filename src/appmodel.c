/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "appmodel.h"
#include "apache.h"
#include "bus.h"
#include "envfile.h"
#include "perms.h"
#include "units.h"
#include "wiring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

void app_judgement_add(struct app_judgement *j, const char *cause, bool now, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *text = xvasprintf(fmt, ap);
        va_end(ap);
        j->f = xrealloc(j->f, (j->n + 1) * sizeof(*j->f));
        j->f[j->n++] = (struct app_finding){.cause = cause, .text = text, .now = now};
}

const struct app_finding *app_judgement_first(const struct app_judgement *j, bool now)
{
        for (size_t i = 0; i < j->n; i++)
                if (j->f[i].now == now)
                        return &j->f[i];
        return NULL;
}

void app_judgement_free(struct app_judgement *j)
{
        if (j->have_model)
                service_model_free(&j->m);
        strv_free(j->next_env);
        strv_free(j->now_env);
        strv_free(j->daemon_users);
        strv_free(j->daemon_where);
        free(j->daemon_running);
        for (size_t i = 0; i < j->n; i++)
                free(j->f[i].text);
        free(j->f);
        strv_free(j->notes);
        free(j->identity_now);
        *j = (struct app_judgement){0};
}

/* Whether a ':' separated list holds entry. */
static bool path_list_has(const char *list, const char *entry)
{
        if (!list || !entry)
                return false;
        _cleanup_strv_ char **l = apache_split_python_path(list);
        return strv_contains(l, entry);
}

/* "apache2" for "apache2.service": what people type after systemctl. */
static char *unit_short(const char *unit)
{
        size_t n = strlen(unit);
        return endswith(unit, ".service") ? xstrndup(unit, n - strlen(".service")) : xstrdup(unit);
}

/* Why the next start lacks the app's PYTHONPATH (want: the venv's site-packages). */
static void judge_next_pythonpath(const struct ctx *x, const struct app *a, const char *want, struct app_judgement *j)
{
        const struct service_model *m = &j->m;
        const struct service_var *v = service_env_get(&m->next, "PYTHONPATH");
        if (v && path_list_has(v->value, want))
                return;
        _cleanup_free_ char *svc_env = xasprintf("/" SERVICES_DIR "/%s.env", a->cfg.service);
        _cleanup_free_ char *dropin = xasprintf(SYSTEMD_DIR "/%s.d/" DROPIN_NAME, a->cfg.service);
        if (v && v->replaced_value && path_list_has(v->replaced_value, want)) {
                app_judgement_add(j, SERVICE_CAUSE_OVERRIDDEN, false,
                                  "%s sets PYTHONPATH=%s, which replaces the app's (set at %s): %s's next start "
                                  "does not get %s's PYTHONPATH; remove that line or make it keep the value it "
                                  "replaces",
                                  v->where, v->value, v->replaced_where, a->cfg.service, a->name);
                return;
        }
        if (!service_loads_envfile(m, svc_env)) {
                struct stat st;
                bool exists = fstatat(x->rootfd, dropin, &st, AT_SYMLINK_NOFOLLOW) == 0;
                if (exists && m->need_reload)
                        app_judgement_add(j, SERVICE_CAUSE_RELOAD, false,
                                          "%s does not load %s yet: systemd has not loaded pyshare's drop-in /%s: "
                                          "systemctl daemon-reload",
                                          a->cfg.service, svc_env, dropin);
                else if (exists)
                        app_judgement_add(j, SERVICE_CAUSE_DROPIN_MISSING, false,
                                          "%s does not load %s although /%s exists: a later drop-in or unit file "
                                          "resets EnvironmentFile=",
                                          a->cfg.service, svc_env, dropin);
                else
                        app_judgement_add(j, SERVICE_CAUSE_DROPIN_MISSING, false,
                                          "%s does not load %s: pyshare's drop-in /%s is missing%s: run `pyshare "
                                          "setup %s`",
                                          a->cfg.service, svc_env, dropin,
                                          m->need_reload ? " (systemd still has it loaded until the next "
                                                           "daemon-reload)"
                                                         : "",
                                          a->name);
                return;
        }
        _cleanup_free_ char *svc_name = xasprintf("%s.env", a->cfg.service);
        _cleanup_strv_ char **file = read_env_file(x, SERVICES_DIR, svc_name);
        if (!v && path_list_has(env_get(file, "PYTHONPATH"), want)) {
                app_judgement_add(j, SERVICE_CAUSE_OVERRIDDEN, false,
                                  "%s loads %s, which carries %s's PYTHONPATH, but its next start gets no PYTHONPATH: "
                                  "an UnsetEnvironment= of the unit removes it; remove that setting",
                                  a->cfg.service, svc_env, a->name);
                return;
        }
        app_judgement_add(j, SERVICE_CAUSE_ENVFILE, false,
                          "%s loads %s, but its PYTHONPATH%s%s does not carry %s's: run `pyshare setup %s`",
                          a->cfg.service, svc_env, v ? "=" : " is unset and", v ? v->value : "", a->name, a->name);
}

/* A WSGI daemon process group runs the app's code when its python-home= or python-path=
 * names the venv, or when it sets neither (it then takes the environment's PYTHONPATH) and a
 * WSGIScriptAlias runs in it. */
static bool daemon_runs_app(const struct service_model *m, const struct apache_daemon *d, const char *venv)
{
        if ((d->python_home && strstr(d->python_home, venv)) || (d->python_path && strstr(d->python_path, venv)))
                return true;
        if (d->python_home || d->python_path)
                return false;
        for (size_t i = 0; i < m->conf.n_scripts; i++)
                if (strcmp(m->conf.scripts[i].process_group, d->name) == 0)
                        return true;
        return false;
}

static void judge_daemons(const struct ctx *x, const struct app *a, const char *want, struct app_judgement *j)
{
        const struct service_model *m = &j->m;
        for (size_t i = 0; i < m->conf.n_daemons; i++) {
                const struct apache_daemon *d = &m->conf.daemons[i];
                const char *user = service_daemon_user(m, d);
                if (!user || !daemon_runs_app(m, d, a->venv) || strcmp(user, a->user.name) == 0 ||
                    strv_contains(j->daemon_users, user))
                        continue;
                size_t n = strv_length(j->daemon_users);
                strv_push(&j->daemon_users, user);
                strv_consume(&j->daemon_where, xasprintf("WSGIDaemonProcess %s (%s)", d->name, d->where));
                _cleanup_free_ char *role = xasprintf("wsgi:%s", d->name);
                j->daemon_running = xrealloc(j->daemon_running, (n + 1) * sizeof(bool));
                j->daemon_running[n] = false;
                for (size_t k = 0; k < m->n_procs; k++)
                        j->daemon_running[n] = j->daemon_running[n] || strcmp(m->procs[k].role, role) == 0;
                struct ps_user u = {0};
                _cleanup_free_ gid_t *gids = NULL;
                size_t ngids = 0;
                unsigned budget = 4096;
                int r = user_lookup(ids_root(x), user, &u);
                if (r >= 0 && (r = user_groups_at(ids_root(x), &u, &gids, &ngids)) >= 0 && want)
                        r = perms_user_reach(x->rootfd, want, u.uid, gids, ngids, &budget, NULL);
                if (r < 0)
                        app_judgement_add(j, SERVICE_CAUSE_DAEMON_USER, false,
                                          "%s: WSGIDaemonProcess %s runs as %s, %s: give %s access too: pyshare "
                                          "setup %s --user=%s --user=%s",
                                          d->where, d->name, user,
                                          r == -PS_E_NOTFOUND ? "a user that does not exist"
                                                              : "who cannot read the venv",
                                          user, a->name, a->user.name, user);
                ps_user_free(&u);
        }
}

/* A daemon-reload is pending: what the unit's files give the next start once it happens. */
static void judge_reload(const struct ctx *x, const struct app *a, const char *want, struct app_judgement *j)
{
        struct service_model files = {0};
        if (want && j->m.from_bus &&
            service_model_build(x->rootfd, a->cfg.service, SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES, &files) >= 0) {
                const struct service_var *v = service_env_get(&files.next, "PYTHONPATH");
                j->breaks_after_reload = !v || !path_list_has(v->value, want);
                service_model_free(&files);
        }
        if (j->breaks_after_reload)
                app_judgement_add(j, SERVICE_CAUSE_RELOAD, false,
                                  "%s's unit files changed since systemd loaded them, and as the files are now its "
                                  "next start does not get %s's PYTHONPATH: the next daemon-reload breaks it (run "
                                  "`pyshare setup %s`, then systemctl daemon-reload)",
                                  a->cfg.service, a->name, a->name);
        else
                app_judgement_add(j, SERVICE_CAUSE_RELOAD, false,
                                  "%s's unit files changed since systemd loaded them: systemctl daemon-reload",
                                  a->cfg.service);
}

static const char *const python_vars[] = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"};

/* The running service against its next start. */
static void judge_now(const struct app *a, const char *want, struct app_judgement *j)
{
        const struct service_model *m = &j->m;
        for (size_t i = 0; i < m->n_procs && !j->now_env; i++)
                if (m->procs[i].env && service_proc_runs_code(m, &m->procs[i]))
                        for (char **e = m->procs[i].env; *e; e++)
                                strv_push(&j->now_env, *e);
        if (!j->now_env)
                return;
        for (size_t k = 0; k < ELEMENTSOF(python_vars); k++) {
                const char *now = env_get(j->now_env, python_vars[k]), *next = env_get(j->next_env, python_vars[k]);
                if ((now || next) && (!now || !next || strcmp(now, next) != 0))
                        j->now_differs = true;
        }
        const char *now_pp = env_get(j->now_env, "PYTHONPATH"), *next_pp = env_get(j->next_env, "PYTHONPATH");
        if (!want || !path_list_has(next_pp, want) || path_list_has(now_pp, want))
                return;
        char when[32] = "its start";
        struct tm tm;
        if (m->started > 0 && localtime_r(&m->started, &tm))
                strftime(when, sizeof(when), "%H:%M", &tm);
        _cleanup_free_ char *cmd = unit_short(a->cfg.service);
        app_judgement_add(j, SERVICE_CAUSE_RESTART, true,
                          "%s runs with the environment of %s; the next start gets the app's PYTHONPATH: "
                          "systemctl restart %s",
                          a->cfg.service, when, cmd);
}

/* ---- the running processes' identity ----------------------------------------------------- */

/* An identity: the ids and the groups (the primary one included), sorted. */
struct ids {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n;
};

static void ids_free(struct ids *i)
{
        free(i->groups);
        *i = (struct ids){0};
}

static int cmp_gid(const void *a, const void *b)
{
        gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
        return x < y ? -1 : x > y;
}

static void ids_add_group(struct ids *i, gid_t g)
{
        for (size_t k = 0; k < i->n; k++)
                if (i->groups[k] == g)
                        return;
        i->groups = xrealloc(i->groups, (i->n + 1) * sizeof(gid_t));
        i->groups[i->n++] = g;
        qsort(i->groups, i->n, sizeof(gid_t), cmp_gid);
}

static bool ids_equal(const struct ids *a, const struct ids *b)
{
        return a->uid == b->uid && a->gid == b->gid && a->n == b->n &&
               memcmp(a->groups, b->groups, a->n * sizeof(gid_t)) == 0;
}

/* A group by name, or httpd's "#N". */
static int group_gid(int idsfd, const char *name, gid_t *ret)
{
        unsigned id;
        if (name[0] == '#')
                return id_parse(name + 1, &id) < 0 ? -PS_E_NOTFOUND : (*ret = (gid_t)id, 0);
        return group_lookup(idsfd, name, ret, NULL);
}

/* What the configuration gives a process: user (a name or httpd's "#N"), group (NULL: the
 * user's primary group), and as supplementary groups either only's (mod_wsgi's
 * supplementary-groups=, which setgroups() sets as they are) or, as initgroups() sets them,
 * every group that lists the user, plus extra (systemd's SupplementaryGroups=). */
static int configured_ids(int idsfd, const char *user, const char *group, const char *only, char *const *extra,
                          struct ids *ret)
{
        struct ps_user u = {0};
        unsigned id;
        _cleanup_free_ char *name = NULL;
        if (user[0] == '#' && id_parse(user + 1, &id) >= 0)
                name = user_name_of(idsfd, (uid_t)id);
        int r = user_lookup(idsfd, name ? name : user, &u);
        struct ids i = {.uid = u.uid};
        if (r >= 0)
                r = group ? group_gid(idsfd, group, &i.gid) : (i.gid = u.gid, 0);
        if (r >= 0 && only) {
                _cleanup_free_ char *copy = xstrdup(only);
                char *save = NULL;
                for (char *g = strtok_r(copy, ", ", &save); g && r >= 0; g = strtok_r(NULL, ", ", &save)) {
                        gid_t gid;
                        if ((r = group_gid(idsfd, g, &gid)) >= 0)
                                ids_add_group(&i, gid);
                }
        } else if (r >= 0) {
                _cleanup_free_ gid_t *g = NULL;
                size_t n = 0;
                u.gid = i.gid; /* initgroups(user, group) */
                if ((r = user_groups_at(idsfd, &u, &g, &n)) >= 0)
                        for (size_t k = 0; k < n; k++)
                                ids_add_group(&i, g[k]);
                for (size_t k = 0; extra && extra[k] && r >= 0; k++) {
                        gid_t gid;
                        if ((r = group_gid(idsfd, extra[k], &gid)) >= 0)
                                ids_add_group(&i, gid);
                }
        }
        ps_user_free(&u);
        if (r < 0) {
                ids_free(&i);
                return r;
        }
        ids_add_group(&i, i.gid);
        *ret = i;
        return 0;
}

static void running_ids(const struct service_proc *p, struct ids *ret)
{
        *ret = (struct ids){.uid = p->uid, .gid = p->gid};
        for (size_t k = 0; k < p->n_groups; k++)
                ids_add_group(ret, p->groups[k]);
        ids_add_group(ret, p->gid);
}

/* "www-data (uid 33), group www-data, groups venv www-data" (the names sorted) */
static char *ids_text(int idsfd, const struct ids *i)
{
        _cleanup_free_ char *u = user_name_of(idsfd, i->uid), *g = group_name_of(idsfd, i->gid);
        _cleanup_strv_ char **names = NULL;
        for (size_t k = 0; k < i->n; k++)
                strv_consume(&names, group_name_of(idsfd, i->groups[k]));
        strv_sort(names);
        _cleanup_free_ char *gl = names ? strv_join(names, " ") : xstrdup("none");
        return xasprintf("%s (uid %u), group %s, groups %s", u, (unsigned)i->uid, g, gl);
}

/* Where the configuration sets the identity of p, and that identity. NULL: none to compare
 * with (no User=, DynamicUser=, or a name that does not resolve). */
static const char *configured_for(int idsfd, const struct service_model *m, const struct service_proc *p,
                                  struct ids *ret)
{
        if (!m->apache) {
                if (!m->user || m->dynamic_user ||
                    configured_ids(idsfd, m->user, m->group, NULL, m->supplementary_groups, ret) < 0)
                        return NULL;
                return "User=, Group= and SupplementaryGroups= of the unit";
        }
        for (size_t i = 0; i < m->conf.n_daemons && startswith(p->role, "wsgi:"); i++) {
                const struct apache_daemon *d = &m->conf.daemons[i];
                if (strcmp(p->role + 5, d->name) != 0)
                        continue;
                const char *group = d->group ? d->group : m->run_group;
                if (configured_ids(idsfd, service_daemon_user(m, d), group, d->supplementary_groups, NULL, ret) < 0)
                        return NULL;
                return d->where;
        }
        if (!m->run_user || configured_ids(idsfd, m->run_user, m->run_group, NULL, NULL, ret) < 0)
                return NULL;
        return "Apache's User and Group";
}

/* A worker that runs as a WSGIDaemonProcess of Apache's configuration is one of its daemon
 * processes (one without display-name= looks like a worker). */
static bool is_some_daemon(int idsfd, const struct service_model *m, const struct ids *now)
{
        bool found = false;
        for (size_t i = 0; i < m->conf.n_daemons && !found; i++) {
                const struct apache_daemon *d = &m->conf.daemons[i];
                struct ids want = {0};
                const char *group = d->group ? d->group : m->run_group;
                if (configured_ids(idsfd, service_daemon_user(m, d), group, d->supplementary_groups, NULL, &want) >= 0)
                        found = ids_equal(&want, now);
                ids_free(&want);
        }
        return found;
}

static bool ids_reach(const struct ctx *x, const struct ids *i, const char *want)
{
        unsigned budget = 4096;
        return perms_user_reach(x->rootfd, want, i->uid, i->groups, i->n, &budget, NULL) >= 0;
}

/* The first process that runs the app's code with another identity than the configuration
 * gives it: a restart applies the configuration. When that keeps the process from reading
 * the venv and the configured identity could, the service fails now (restart-needed, in
 * j->identity_now); else it is said as a note. Root's processes are left out: a child of
 * Apache's runs as root only until its own privilege drop. */
void app_judge_identity(const struct ctx *x, const struct app *a, const char *want, struct app_judgement *j)
{
        const struct service_model *m = &j->m;
        int idsfd = ids_root(x);
        for (size_t i = 0; i < m->n_procs; i++) {
                const struct service_proc *p = &m->procs[i];
                if (p->uid == 0 || !service_proc_runs_code(m, p))
                        continue;
                struct ids now, conf;
                const char *where = configured_for(idsfd, m, p, &conf);
                if (!where)
                        continue;
                running_ids(p, &now);
                bool same = ids_equal(&now, &conf) || (m->apache && strcmp(p->role, "worker") == 0 &&
                                                       is_some_daemon(idsfd, m, &now));
                if (!same) {
                        _cleanup_free_ char *nt = ids_text(idsfd, &now), *ct = ids_text(idsfd, &conf),
                                            *cmd = unit_short(a->cfg.service);
                        if (want && !ids_reach(x, &now, want) && ids_reach(x, &conf, want)) {
                                app_judgement_add(j, SERVICE_CAUSE_RESTART, true,
                                                  "%s's PID %d (%s) runs as %s, who cannot read %s; %s give %s, who "
                                                  "can: the configuration changed since %s started: systemctl "
                                                  "restart %s",
                                                  a->cfg.service, (int)p->pid, p->role, nt, want, where, ct,
                                                  a->cfg.service, cmd);
                                j->identity_now = xstrdup(j->f[j->n - 1].text);
                        } else
                                strv_consume(&j->notes, xasprintf("%s's PID %d (%s) runs as %s; %s give %s: a restart "
                                                                  "applies it (systemctl restart %s)",
                                                                  a->cfg.service, (int)p->pid, p->role, nt, where, ct,
                                                                  cmd));
                }
                ids_free(&now);
                ids_free(&conf);
                if (!same)
                        return;
        }
}

/* PYTHONHOME moves the standard library away from the interpreter's own (a venv never needs
 * it: pyshare's apps come in through PYTHONPATH). */
static void judge_next_home(const struct app *a, struct app_judgement *j)
{
        const struct service_var *v = service_env_get(&j->m.next, "PYTHONHOME");
        if (v)
                app_judgement_add(j, SERVICE_CAUSE_OVERRIDDEN, false,
                                  "%s sets PYTHONHOME=%s: %s's Python looks for its standard library there at its "
                                  "next start; remove that line",
                                  v->where, v->value, a->cfg.service);
}

char *app_service_user_now(int rootfd, const char *unit)
{
        char *u = NULL;
        if (unit_apache_command(unit))
                return apache_run_user(rootfd, apache_layout_of_unit(rootfd, unit), &u, NULL, NULL) >= 0 ? u : NULL;
        bool found = false, dynamic = false;
        if (bus_unit_user(unit, &found, &u, &dynamic) < 0 || !found || dynamic) {
                free(u);
                return NULL;
        }
        return u;
}

void app_judge(const struct ctx *x, const struct app *a, char *const *pythonpath, struct app_judgement *ret)
{
        struct app_judgement j = {0};
        unsigned flags = x->root ? SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES : 0;
        int r = service_model_build(x->rootfd, a->cfg.service, flags, &j.m);
        if (r < 0) {
                strv_consume(&j.notes, xasprintf("what %s loads could not be read (%s): judged from pyshare's files "
                                                 "only",
                                                 a->cfg.service, strerror(-r)));
                *ret = j;
                return;
        }
        j.have_model = true;
        const struct service_model *m = &j.m;
        for (size_t i = 0; i < m->next.n; i++)
                strv_consume(&j.next_env, xasprintf("%s=%s", m->next.v[i].name, m->next.v[i].value));
        if (!j.next_env)
                j.next_env = xcalloc(1, sizeof(char *));
        const char *want = pythonpath ? pythonpath[0] : NULL;
        if (want)
                judge_next_pythonpath(x, a, want, &j);
        judge_next_home(a, &j);
        const struct app_finding *first = app_judgement_first(&j, false);
        if (m->need_reload && !(first && strcmp(first->cause, SERVICE_CAUSE_RELOAD) == 0))
                judge_reload(x, a, want, &j);
        if (m->apache)
                judge_daemons(x, a, want, &j);
        for (size_t i = 0; i < m->n_findings; i++) {
                const struct service_finding *f = &m->findings[i];
                if (strcmp(f->cause, SERVICE_CAUSE_UNPARSED) == 0)
                        strv_push(&j.notes, f->text);
                else if (strcmp(f->cause, SERVICE_CAUSE_UNREADABLE) == 0 || strcmp(f->cause, SERVICE_CAUSE_IGNORED) == 0 ||
                         strcmp(f->cause, SERVICE_CAUSE_CONFLICT) == 0)
                        app_judgement_add(&j, f->cause, false, "%s", f->text);
        }
        if (!x->root && m->running) {
                judge_now(a, want, &j);
                app_judge_identity(x, a, want, &j);
        }
        else if (!x->root)
                strv_consume(&j.notes, xasprintf("%s is not running: judged its next start only", a->cfg.service));
        if (!m->from_bus)
                strv_consume(&j.notes, xasprintf("%s: the next start is read from the unit's files (%s)", a->cfg.service,
                                                 x->root ? "an image" : "systemd is not running"));
        *ret = j;
}
