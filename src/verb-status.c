/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "app.h"
#include "appmodel.h"
#include "config.h"
#include "conflicts.h"
#include "envfile.h"
#include "fileio.h"
#include "log.h"
#include "output.h"
#include "perms.h"
#include "prefix.h"
#include "pyversion.h"
#include "tree.h"
#include "users.h"
#include "venv.h"
#include "wiring.h"
#include "wsgi-daemon.h"

#include <fcntl.h>
#include <sys/stat.h>

int verb_list(struct ctx *x)
{
        _cleanup_strv_ char **apps = NULL;
        int r = list_apps(x, &apps);
        if (r < 0)
                return log_error_errno(r, "cannot read /%s: %s", ETC_DIR, strerror(-r));
        struct json j = {0};
        if (x->json) {
                json_obj_begin(&j, NULL);
                json_arr_begin(&j, "apps");
        }
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_config_ struct app_config c = {0};
                if (app_settings(x, apps[i], &c) <= 0)
                        continue;
                const char *unit = c.service;
                _cleanup_free_ char *venv = xasprintf("%s/%s", c.prefix, apps[i]);
                if (x->json) {
                        json_obj_begin(&j, NULL);
                        json_str(&j, "app", apps[i]);
                        json_str(&j, "service", unit);
                        json_str(&j, "user", c.user);
                        _cleanup_strv_ char **users = config_users(&c);
                        json_strv(&j, "users", users);
                        json_str(&j, "venv", venv);
                        json_obj_end(&j);
                } else
                        printf("%-20s %-24s %-12s %s\n", apps[i], unit, c.user ? c.user : "?", venv);
        }
        if (x->json) {
                json_arr_end(&j);
                json_bool(&j, "changed", false);
                json_obj_end(&j);
                json_flush(&j);
        }
        return 0;
}

/* The files that wire the app into its service, and what the service model sees: the
 * service's next start and its running processes (appmodel.h). */
static void status_wiring(const struct ctx *x, const struct app *a, bool venv_ready, char ***problems, char ***notes,
                          struct app_judgement *jd)
{
        _cleanup_strv_ char **pythonpath = NULL;
        _cleanup_free_ char *env_name = xasprintf("%s.env", a->name);
        _cleanup_strv_ char **appenv = read_env_file(x, ETC_DIR, env_name);
        if (venv_ready && venv_pythonpath(x, a, &pythonpath, NULL) >= 0) {
                _cleanup_free_ char *want = strv_join(pythonpath, ":");
                const char *have = env_get(appenv, "PYTHONPATH");
                if (!have || strcmp(have, want) != 0)
                        strv_consume(problems, xasprintf("/%s/%s is %s: run `pyshare repair %s`", ETC_DIR, env_name,
                                                         have ? "out of date" : "missing", a->name));
        }
        _cleanup_free_ char *tmpfiles_rel = xasprintf(TMPFILES_DIR "/pyshare-%s.conf", a->name);
        struct stat fst;
        if (fstatat(x->rootfd, tmpfiles_rel, &fst, AT_SYMLINK_NOFOLLOW) < 0)
                strv_consume(problems, xasprintf("/%s is missing: run `pyshare setup %s`", tmpfiles_rel, a->name));
        /* A daemon-wired app is not in the service's PYTHONPATH: its own conf is judged. */
        if (a->cfg.wsgi_script) {
                wsgi_daemon_probe_problems(x, a, problems);
                return;
        }
        app_judge(x, a, pythonpath, jd);
        for (size_t i = 0; i < jd->n; i++)
                strv_push(problems, jd->f[i].text);
        for (size_t i = 0; jd->notes && jd->notes[i]; i++)
                strv_push(notes, jd->notes[i]);
}

/* The Python the service runs against the one that built the venv (issue 14). */
static void status_python(const struct ctx *x, const struct app *a, struct pycheck *pc, char ***problems,
                          char ***notes)
{
        if (pycheck_app(x->rootfd, a->name, a->cfg.service, a->venv_rel, a->venv, a->cfg.python, false, pc) < 0)
                return;
        if (pc->mismatch)
                strv_push(problems, pc->mismatch);
        if (pc->cgi)
                strv_consume(notes, xasprintf("%s runs CGI scripts with the Python their #! line names: that they "
                                              "match %s's Python is the scripts' business",
                                              a->cfg.service, a->venv));
}

static void status_render(const struct ctx *x, const struct app *a, char *const *problems, char *const *notes,
                          const struct conflict *cf, size_t ncf, const struct app_judgement *jd,
                          const struct pycheck *pc, struct json *j)
{
        bool ok = !problems;
        if (x->json) {
                json_obj_begin(j, NULL);
                json_str(j, "app", a->name);
                json_bool(j, "ok", ok);
                json_str(j, "venv", a->venv);
                json_str(j, "python", a->cfg.python);
                json_str(j, "group", a->cfg.group);
                json_str(j, "service", a->cfg.service);
                json_str(j, "user", a->cfg.user);
                _cleanup_strv_ char **users = config_users(&a->cfg);
                json_strv(j, "users", users);
                json_str(j, "prefix", a->cfg.prefix);
                json_strv(j, "modules", a->cfg.modules);
                json_strv(j, "problems", problems);
                json_strv(j, "notes", notes);
                conflicts_json(j, "conflicts", cf, ncf, a->name, a->cfg.service);
                json_arr_begin(j, "findings");
                for (size_t i = 0; i < jd->n; i++) {
                        json_obj_begin(j, NULL);
                        json_str(j, "cause", jd->f[i].cause);
                        json_str(j, "text", jd->f[i].text);
                        json_bool(j, "now_only", jd->f[i].now);
                        json_obj_end(j);
                }
                if (pc->mismatch) {
                        json_obj_begin(j, NULL);
                        json_str(j, "cause", "python-mismatch");
                        json_str(j, "text", pc->mismatch);
                        json_bool(j, "now_only", false);
                        json_obj_end(j);
                }
                json_arr_end(j);
                json_bool(j, "running", jd->have_model && jd->m.running);
                pycheck_json(j, pc, a->name);
                json_obj_end(j);
        } else {
                _cleanup_free_ char *mods = strv_join(a->cfg.modules, " ");
                printf("%s: %s\n  venv     %s\n  python   %s\n  service  %s (user %s)\n  group    %s\n  modules  %s\n",
                       a->name, ok ? "ok" : "PROBLEMS", a->venv, a->cfg.python, a->cfg.service, a->cfg.user, a->cfg.group,
                       mods && *mods ? mods : "(all installed)");
                if (a->cfg.more_users) {
                        _cleanup_free_ char *readers = strv_join(a->cfg.more_users, " ");
                        printf("  readers  %s\n", readers);
                }
                for (size_t i = 0; problems && problems[i]; i++)
                        printf("  problem: %s\n", problems[i]);
                for (size_t i = 0; notes && notes[i]; i++)
                        printf("  note: %s\n", notes[i]);
        }
}

static int status_one(struct ctx *x, const char *app_name, struct json *j)
{
        _cleanup_app_ struct app a = {0};
        _cleanup_strv_ char **problems = NULL;
        int r = load_app(x, app_name, &a);
        if (r < 0 && !a.venv)
                return r;
        if (r == -PS_E_INVALID)
                strv_consume(&problems, xasprintf("user %s and group %s are refused (see above)", a.cfg.user, a.cfg.group));
        else if (r < 0)
                strv_consume(&problems, xasprintf("user %s or group %s does not exist", a.cfg.user, a.cfg.group));

        _cleanup_close_ int pfd = -1;
        struct prefix_problem pp = {0};
        enum venv_state vs = VENV_MISSING;
        r = prefix_open(x->rootfd, a.cfg.prefix, PREFIX_OPEN_EXISTING, &pfd, NULL, &pp);
        if (r >= 0)
                venv_state(pfd, app_name, &vs);
        if (r == -PS_E_INVALID) {
                strv_consume(&problems, prefix_problem_text(&pp, a.cfg.prefix, x->root, ids_root(x)));
        } else if (r == -ENOTDIR) {
                _cleanup_free_ char *sp = shown(x, pp.path);
                strv_consume(&problems, xasprintf("%s is a symbolic link (or not a directory), which pyshare does not "
                                                  "follow: set the app's prefix to the real directory (pyshare setup "
                                                  "%s --prefix=DIR)",
                                                  sp, app_name));
        } else if (vs != VENV_READY)
                strv_consume(&problems, xasprintf("virtualenv %s is %s: run `pyshare setup %s`", a.venv,
                                                  vs == VENV_MISSING ? "missing" : vs == VENV_INCOMPLETE ? "incomplete" : "not pyshare's",
                                                  app_name));
        prefix_problem_free(&pp);

        /* A problem is what the service user cannot read; entries that differ from pyshare's
         * layout but are readable are only counted. */
        _cleanup_perms_stats_ struct perms_stats st = {0};
        _cleanup_strv_ char **notes = NULL;
        if (vs == VENV_READY && a.group_exists && a.have_user) {
                uid_t more[ACL_MORE_USERS_MAX];
                struct perms_target t;
                app_perms_target(&a, more, &t);
                bool walked = perms_apply(pfd, app_name, a.venv, &t, true, &st) >= 0;
                if (walked && st.changed)
                        strv_consume(&notes, xasprintf("%lu %s from pyshare's owners, modes or ACLs "
                                                       "(pyshare repair %s puts %s right)",
                                                       st.changed, st.changed == 1 ? "entry differs" : "entries differ",
                                                       app_name, st.changed == 1 ? "it" : "them"));
                unreadable_problems(x, &a, walked ? &st : NULL, &problems);
        }

        _cleanup_(app_judgement_free) struct app_judgement jd = {0};
        status_wiring(x, &a, vs == VENV_READY, &problems, &notes, &jd);
        /* Another app's copy of a name this app provides: a problem when the versions differ. */
        struct conflict *cf = NULL;
        size_t ncf = 0;
        if (service_conflicts(x, a.cfg.service, &cf, &ncf) >= 0)
                for (size_t i = 0; i < ncf; i++)
                        if (conflict_involves(&cf[i], app_name)) {
                                _cleanup_free_ char *text = conflict_text(&cf[i], a.cfg.service);
                                strv_consume(cf[i].versions_differ ? &problems : &notes,
                                             xasprintf("%s: %s", cf[i].versions_differ ? "conflict" : "same version",
                                                       text));
                        }
        _cleanup_(pycheck_free) struct pycheck pc = {0};
        if (vs == VENV_READY)
                status_python(x, &a, &pc, &problems, &notes);
        status_render(x, &a, problems, notes, cf, ncf, &jd, &pc, j);
        conflicts_free(cf, ncf);
        return problems ? -PS_E_PROBLEM : 0;
}

int verb_status(struct ctx *x, const char *app_name)
{
        _cleanup_strv_ char **apps = NULL;
        int r;
        if (app_name) {
                if ((r = check_app_name(app_name)) < 0)
                        return r;
                strv_push(&apps, app_name);
        } else if ((r = list_apps(x, &apps)) < 0) {
                log_error("cannot read /%s: %s", ETC_DIR, strerror(-r));
                return r;
        }
        struct json j = {0};
        if (x->json) {
                json_obj_begin(&j, NULL);
                json_arr_begin(&j, "apps");
        }
        int result = 0;
        for (size_t i = 0; apps && apps[i]; i++) {
                r = status_one(x, apps[i], &j);
                /* A failure to look outranks a problem found. */
                if (r < 0 && (result == 0 || r != -PS_E_PROBLEM))
                        result = r;
        }
        if (!apps && !x->json)
                printf("no app is set up (pyshare setup APP makes one)\n");
        if (x->json) {
                json_arr_end(&j);
                json_bool(&j, "ok", result == 0);
                json_bool(&j, "changed", false);
                json_obj_end(&j);
                json_flush(&j);
        }
        return result;
}
