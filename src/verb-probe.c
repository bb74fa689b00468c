/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "apache.h"
#include "app.h"
#include "appmodel.h"
#include "envfile.h"
#include "bus.h"
#include "conflicts.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "perms.h"
#include "probe.h"
#include "pyversion.h"
#include "tree.h"
#include "units.h"
#include "users.h"
#include "venv.h"
#include "wiring.h"
#include "wsgi-daemon.h"

#include <fcntl.h>
#include <sys/stat.h>

#define PROBE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PROBE_AS_LIMIT (4ULL << 30)

static bool under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/* Whether site-packages holds top-level name, and whether as a regular package. */
static bool site_has(int sitefd, const char *top, bool *ret_regular)
{
        struct stat st;
        *ret_regular = false;
        if (fstatat(sitefd, top, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *init = xasprintf("%s/__init__.py", top);
                *ret_regular = fstatat(sitefd, init, &st, AT_SYMLINK_NOFOLLOW) == 0;
                return true;
        }
        _cleanup_free_ char *py = xasprintf("%s.py", top);
        if (fstatat(sitefd, py, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return true;
        /* An extension module: TOP.cpython-311-x86_64-linux-gnu.so and the like. */
        _cleanup_strv_ char **so = NULL;
        if (dir_list_at(sitefd, ".so", &so) < 0)
                return false;
        size_t n = strlen(top);
        for (size_t i = 0; so && so[i]; i++)
                if (strncmp(so[i], top, n) == 0 && so[i][n] == '.')
                        return true;
        return false;
}

/* Turns "imported, but not from the venv" into failures (the security of the verdict: what the
 * service would really get). */
static void judge_modules(const struct ctx *x, const struct app *a, struct probe_result *res, char *const *pythonpath)
{
        _cleanup_close_ int sfd = -1;
        if (app_open_site_packages(x, a, &sfd, NULL) < 0)
                return;
        for (size_t i = 0; i < res->n_modules; i++) {
                struct probe_module *m = &res->modules[i];
                if (!m->ok)
                        continue;
                _cleanup_free_ char *other = app_of_file(x, a->name, m->file);
                if (other) {
                        m->ok = false;
                        free(m->error);
                        m->error = xasprintf("imported from the venv of the app %s (%s), not from %s's own", other,
                                             m->file, a->name);
                        continue;
                }
                _cleanup_free_ char *top = xstrndup(m->name, strcspn(m->name, "."));
                bool regular;
                if (!site_has(sfd, top, &regular))
                        continue;
                if (m->namespace_pkg && regular) {
                        m->ok = false;
                        free(m->error);
                        m->error = xasprintf("imported as a namespace package, but the venv holds a regular package "
                                             "%s: %s cannot read its __init__.py",
                                             top, a->user.name);
                        continue;
                }
                bool inside = false;
                for (size_t k = 0; m->file && pythonpath && pythonpath[k]; k++)
                        inside = inside || under(m->file, pythonpath[k]);
                if (m->file && !inside && !under(m->file, a->venv)) {
                        m->ok = false;
                        free(m->error);
                        m->error = xasprintf("imported from %s, outside the venv, while the venv has its own %s", m->file, top);
                }
        }
}

/* Which sandbox setting most likely breaks an import that works outside the sandbox. */
static char *sandbox_culprit(const struct app *a, char *const *sandbox)
{
        for (size_t i = 0; sandbox && sandbox[i]; i++) {
                const char *s = sandbox[i];
                if (startswith(s, "ProtectHome=") &&
                    (under(a->venv, "/home") || under(a->venv, "/root") || under(a->venv, "/run/user")))
                        return xasprintf("%s hides %s from the service; move the venv under %s (pyshare setup --prefix) "
                                         "or relax ProtectHome= in a drop-in",
                                         s, a->venv, DEFAULT_PREFIX);
                if (startswith(s, "InaccessiblePaths=") || startswith(s, "TemporaryFileSystem=")) {
                        _cleanup_free_ char *copy = xstrdup(strchr(s, '=') + 1);
                        char *save = NULL;
                        for (char *p = strtok_r(copy, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
                                p += strspn(p, "-+");
                                if (under(a->venv, p))
                                        return xasprintf("%s hides %s from the service; move the venv or change the "
                                                         "setting in a drop-in",
                                                         s, p);
                        }
                }
        }
        for (size_t i = 0; sandbox && sandbox[i]; i++)
                if (startswith(sandbox[i], "MemoryDenyWriteExecute=yes"))
                        return xstrdup("MemoryDenyWriteExecute=yes forbids memory that is writable and executable, "
                                       "which the import maps (JIT compilers, some cffi and libffi builds); set "
                                       "MemoryDenyWriteExecute=no in a drop-in or avoid that code path");
        _cleanup_free_ char *all = strv_join(sandbox, ", ");
        return xasprintf("one of its sandbox settings (%s) is the cause", all && *all ? all : "none");
}

static char **build_probe_env(const struct ctx *x, const struct app *a, const char **ret_source)
{
        char **env = NULL;
        strv_push(&env, "PATH=" PROBE_PATH);
        strv_push(&env, "LANG=C.UTF-8");
        _cleanup_free_ char *name = xasprintf("%s.env", a->cfg.service);
        _cleanup_strv_ char **svc = read_env_file(x, SERVICES_DIR, name);
        *ret_source = "service";
        if (!svc) {
                _cleanup_free_ char *appenv = xasprintf("%s.env", a->name);
                svc = read_env_file(x, ETC_DIR, appenv);
                *ret_source = "app";
        }
        for (size_t i = 0; svc && svc[i]; i++) {
                size_t k = strcspn(svc[i], "=");
                _cleanup_free_ char *key = xstrndup(svc[i], k);
                if (strcmp(key, "PATH") != 0 && strcmp(key, "LANG") != 0)
                        strv_push(&env, svc[i]);
        }
        return env;
}

/* The failures of a probe, each with its stable cause (SERVICE_CAUSE_*, man/pyshare.8). */
struct failures {
        char **problems; /* every problem said, with or without a cause */
        struct app_finding *f;
        size_t n;
};

static void failure_add(struct failures *fl, const char *cause, bool now, char *text)
{
        fl->f = xrealloc(fl->f, (fl->n + 1) * sizeof(*fl->f));
        fl->f[fl->n++] = (struct app_finding){.cause = cause, .text = xstrdup(text), .now = now};
        strv_consume(&fl->problems, text);
}

static bool failures_have(const struct failures *fl, const char *cause)
{
        for (size_t i = 0; i < fl->n; i++)
                if (strcmp(fl->f[i].cause, cause) == 0)
                        return true;
        return false;
}

static void failures_free(struct failures *fl)
{
        strv_free(fl->problems);
        for (size_t i = 0; i < fl->n; i++)
                free(fl->f[i].text);
        free(fl->f);
}

/* What the probe judged: the next start and, when the service runs, the running service. */
struct judged {
        bool ok_next, ok_now, now_probed, running;
        bool judge_now; /* false in setup and rebuild: after a change only the next start counts */
        /* "systemd", "files", "pyshare" (no model: pyshare's own files), "apache" (a daemon-wired
         * app: its daemon process as Apache's configuration defines it; the service's model is
         * not consulted, so whether it runs now is not judged) */
        const char *next_from;
};

static void json_probe(struct json *j, const char *key, const struct app *a, const struct probe_result *res, bool ok,
                       const struct failures *fl, const struct app_judgement *jd, const struct judged *jg,
                       const struct pycheck *pc, const char *mode)
{
        char *const *problems = fl->problems;
        json_obj_begin(j, key);
        json_str(j, "app", a->name);
        if (!key)
                json_bool(j, "changed", false); /* the probe changes nothing; in setup's JSON, setup says */
        json_str(j, "user", a->user.name);
        _cleanup_strv_ char **users = config_users(&a->cfg);
        json_strv(j, "users", users);
        json_bool(j, "ok", ok);
        json_str(j, "mode", mode);
        json_str(j, "python", res->python_version);
        json_bool(j, "completed", res->completed);
        json_bool(j, "timed_out", res->timed_out);
        json_str(j, "failure", res->failure);
        json_arr_begin(j, "modules");
        for (size_t i = 0; i < res->n_modules; i++) {
                const struct probe_module *m = &res->modules[i];
                json_obj_begin(j, NULL);
                json_str(j, "name", m->name);
                json_bool(j, "ok", m->ok);
                json_str(j, "version", m->version);
                json_str(j, "file", m->file);
                _cleanup_free_ char *err = NULL;
                if (!m->ok)
                        err = m->error_type ? xasprintf("%s: %s", m->error_type, m->error ? m->error : "")
                                            : xstrdup(m->error ? m->error : "failed");
                json_str(j, "error", err);
                json_obj_end(j);
        }
        json_arr_end(j);
        json_strv(j, "problems", problems);
        json_bool(j, "sandbox_reproduced", res->sandboxed);
        json_strv(j, "sandbox", res->sandbox);
        json_str(j, "cause", fl->n ? fl->f[0].cause : NULL);
        json_arr_begin(j, "findings");
        for (size_t i = 0; i < fl->n; i++) {
                json_obj_begin(j, NULL);
                json_str(j, "cause", fl->f[i].cause);
                json_str(j, "text", fl->f[i].text);
                json_str(j, "when", fl->f[i].now ? "now" : "next-start");
                json_obj_end(j);
        }
        json_arr_end(j);
        json_obj_begin(j, "next_start");
        json_bool(j, "ok", jg->ok_next);
        json_str(j, "from", jg->next_from);
        json_obj_end(j);
        json_obj_begin(j, "now");
        /* Not judged: after a change (setup, repair, rebuild), and for a daemon process, which runs
         * with the configuration Apache read at its last start; then whether it runs is not said. */
        const bool judged = jg->judge_now && strcmp(jg->next_from, "apache") != 0;
        json_bool(j, "judged", judged);
        if (!judged)
                json_str(j, "running", NULL);
        else
                json_bool(j, "running", jg->running);
        if (jg->running)
                json_bool(j, "ok", jg->ok_now);
        else
                json_str(j, "ok", NULL);
        json_bool(j, "probed", jg->now_probed);
        json_obj_end(j);
        json_strv(j, "notes", jd->notes);
        pycheck_json(j, pc, a->name);
        json_obj_end(j);
}

/* The modules to import: those asked for, else those stored, else the venv's top level. */
static char **probe_modules(const struct ctx *x, const struct app *a, char *const *requested)
{
        char **modules = NULL;
        if (requested && requested[0])
                for (size_t i = 0; requested[i]; i++)
                        strv_push(&modules, requested[i]);
        else if (a->cfg.modules)
                for (size_t i = 0; a->cfg.modules[i]; i++)
                        strv_push(&modules, a->cfg.modules[i]);
        _cleanup_close_ int sfd = -1;
        if (!modules && app_open_site_packages(x, a, &sfd, NULL) >= 0)
                venv_top_level(sfd, &modules);
        return modules;
}

/* Runs the probe in a transient unit with the service's sandbox when systemd runs, as a
 * forked process otherwise or when the unit cannot start (a problem said in *problems). */
static int probe_exec(const struct ctx *x, const struct app *a, const struct probe_request *req,
                      struct probe_result *res, bool *ret_use_unit, char ***problems)
{
        bool use_unit = !x->root && bus_systemd_running();
        int r = use_unit ? probe_run_unit(req, a->cfg.service, res) : probe_run(req, res);
        if (r >= 0 && res->unit_error) {
                _cleanup_free_ char *why = TAKE_PTR(res->unit_error);
                probe_result_free(res);
                /* Venv code runs in a unit where systemd runs: the same unit without the sandbox;
                 * forked (in a PID namespace of its own) only when the manager cannot be reached. */
                struct probe_request plain = *req;
                plain.without_sandbox = true;
                r = probe_run_unit(&plain, a->cfg.service, res);
                bool plain_unit = r >= 0 && !res->unit_error;
                strv_consume(problems, xasprintf("could not start the probe as a transient unit with %s's sandbox (%s); "
                                                 "ran it as %s instead",
                                                 a->cfg.service, why,
                                                 plain_unit ? "a transient unit without the sandbox" : "a forked process"));
                if (!plain_unit) {
                        if (r >= 0)
                                probe_result_free(res);
                        use_unit = false;
                        r = probe_run(req, res);
                }
        }
        if (r < 0)
                return log_error_errno(r, "cannot run the probe: %s", strerror(-r));
        *ret_use_unit = use_unit;
        return 0;
}

/* The verdict, and the problems of a probe that did not finish cleanly. */
static bool probe_verdict(const struct app *a, const struct probe_result *res, int timeout_sec, char ***problems)
{
        bool ok = res->completed && !res->failure && !res->leftover_killed;
        for (size_t i = 0; i < res->n_modules; i++)
                ok = ok && res->modules[i].ok;
        if (res->failure)
                strv_consume(problems, xasprintf("the probe could not start as %s: %s", a->user.name, res->failure));
        else if (res->timed_out)
                strv_consume(problems, xasprintf("the probe did not finish within %d s (an import hangs?); "
                                                 "raise --timeout or look at the modules' import-time code",
                                                 timeout_sec));
        else if (!res->completed)
                strv_consume(problems, xasprintf("the probe ended before reporting (exit status %d)%s%s",
                                                 res->exit_status, res->output && *res->output ? "; it printed: " : "",
                                                 res->output && *res->output ? res->output : ""));
        if (res->leftover_killed)
                strv_consume(problems, xasprintf("the imports left %u process%s running (killed): the service "
                                                 "would keep them",
                                                 res->leftover_killed, res->leftover_killed == 1 ? "" : "es"));
        return ok;
}

/* Why imports failed: the sandbox, when they work outside it; else what the user cannot read. */
static void probe_diagnose(const struct ctx *x, const struct app *a, const struct probe_request *req,
                           const struct probe_result *res, char *const *pythonpath, const gid_t *gids, size_t ngids,
                           struct failures *fl)
{
        bool sandbox_blamed = false;
        if (res->sandboxed && res->completed) {
                /* Does the same import work outside the sandbox? Then the sandbox is the cause.
                 * Asked in a unit too, with the service's user and environment, no sandbox. */
                struct probe_result plain = {0};
                struct probe_request plain_req = *req;
                plain_req.without_sandbox = true;
                if (probe_run_unit(&plain_req, a->cfg.service, &plain) >= 0 && !plain.unit_error) {
                        judge_modules(x, a, &plain, pythonpath);
                        for (size_t i = 0; i < res->n_modules; i++) {
                                if (res->modules[i].ok || i >= plain.n_modules || !plain.modules[i].ok)
                                        continue;
                                _cleanup_free_ char *why = sandbox_culprit(a, res->sandbox);
                                failure_add(fl, SERVICE_CAUSE_SANDBOX, false, xasprintf("%s imports as %s outside the sandbox but not inside "
                                                                 "%s's: %s",
                                                                 res->modules[i].name, a->user.name, a->cfg.service,
                                                                 why));
                                sandbox_blamed = true;
                        }
                }
                probe_result_free(&plain);
        }
        if (sandbox_blamed)
                return;
        struct perms_finding *f = NULL;
        size_t nf = 0;
        if (!x->root && perms_find_unreadable(a->venv, a->user.uid, gids, ngids, 8, &f, &nf) >= 0) {
                for (size_t i = 0; i < nf; i++)
                        failure_add(fl, SERVICE_CAUSE_UNREADABLE, false, describe_finding(x, a, &f[i]));
                perms_findings_free(f, nf);
        }
}

/* The verdict for people. */
static void probe_render(const struct app *a, const struct probe_result *res, const struct failures *fl,
                         const struct app_judgement *jd, const struct judged *jg, const char *mode, bool use_unit,
                         long long took, int timeout_sec)
{
        /* Without a version Python never reported: say why rather than "Python ?". */
        _cleanup_free_ char *pyv = res->python_version ? xasprintf("Python %s", res->python_version)
                                   : res->failure      ? xstrdup("Python not started: the probe failed before it")
                                   : res->timed_out    ? xasprintf("Python did not report within %d s", timeout_sec)
                                                       : xstrdup("Python ended before reporting");
        bool daemon = strcmp(jg->next_from, "apache") == 0;
        _cleanup_free_ char *env_of = daemon ? xasprintf("what %s passes its daemon processes", a->cfg.service)
                                      : strcmp(jg->next_from, "pyshare") == 0
                                              ? xstrdup("the app's env file")
                                              : xasprintf("%s's next start", a->cfg.service);
        log_info("probe %s as %s (%s %s, environment of %s, %lld ms):", a->name, a->user.name, mode, pyv, env_of, took);
        for (size_t i = 0; i < res->n_modules; i++) {
                const struct probe_module *m = &res->modules[i];
                /* What imported code says is shown, never interpreted by the terminal. */
                _cleanup_free_ char *name = printable(m->name), *version = printable(m->version),
                                    *file = printable(m->file), *etype = printable(m->error_type),
                                    *err = printable(m->error);
                if (m->ok)
                        log_info("  ok    %s %s  %s", name, version ? version : "", file ? file : "(namespace package)");
                else
                        log_info("  FAIL  %s  %s%s%s", name, etype ? etype : "", etype ? ": " : "", err ? err : "");
        }
        if (res->n_modules == 0 && res->completed)
                log_info("  (no module to import: none given, none stored, none installed; Python started)");
        for (size_t i = 0; fl->problems && fl->problems[i]; i++) {
                /* A problem with a cause is said with it; the others as they are. */
                const char *cause = NULL;
                for (size_t k = 0; k < fl->n && !cause; k++)
                        if (strcmp(fl->f[k].text, fl->problems[i]) == 0)
                                cause = fl->f[k].cause;
                _cleanup_free_ char *p = printable(fl->problems[i]);
                log_info("  %s%s%s", cause ? cause : "", cause ? ": " : "", p);
        }
        log_info("  next start: %s (%s)", jg->ok_next ? "ok" : "FAIL",
                 daemon                                 ? "the daemon process as Apache's configuration defines it"
                 : strcmp(jg->next_from, "systemd") == 0 ? "the unit as systemd loaded it"
                 : strcmp(jg->next_from, "files") == 0   ? "the unit's files: systemd does not run here"
                                                         : "pyshare's own files: the unit could not be read");
        if (daemon)
                log_info("  now: not judged: a daemon process runs with the configuration Apache read at its last "
                         "start or reload");
        else if (!jg->judge_now)
                log_info("  now: not judged (after a change only the next start counts; `pyshare probe %s` judges "
                         "the running service too)",
                         a->name);
        else if (!jg->running)
                log_info("  now: %s is not running: judged its next start only", a->cfg.service);
        else
                log_info("  now: %s%s", jg->ok_now ? "ok" : "FAIL",
                         jg->now_probed ? " (imported with the environment of its running processes)"
                                        : " (its running processes have the next start's Python environment)");
        for (size_t i = 0; jd->notes && jd->notes[i]; i++) {
                _cleanup_free_ char *p = printable(jd->notes[i]);
                log_info("note: %s", p);
        }
        if (res->sandboxed) {
                _cleanup_free_ char *sb = strv_join(res->sandbox, ", ");
                log_info("note: the probe ran as a transient unit with %s's sandbox (%s)", a->cfg.service,
                         sb && *sb ? sb : "no sandbox settings");
        } else
                log_info("note: %s", use_unit ? "the probe ran as a transient unit without the service's sandbox"
                                              : "systemd is not running, so the probe ran as a forked process and "
                                                "could not reproduce the service's sandbox (ProtectHome=, "
                                                "ProtectSystem=, ...)");
}

/* The environment the probe imports with: the service model's (complete), else pyshare's. */
static char **probe_env(const struct ctx *x, const struct app *a, char *const *model_env)
{
        if (!model_env) {
                const char *source;
                return build_probe_env(x, a, &source);
        }
        char **env = NULL;
        if (!env_get(model_env, "PATH"))
                strv_push(&env, "PATH=" PROBE_PATH);
        if (!env_get(model_env, "LANG"))
                strv_push(&env, "LANG=C.UTF-8");
        for (size_t i = 0; model_env[i]; i++)
                strv_push(&env, model_env[i]);
        return env;
}

/* One import run with req: its result judged, its verdict. */
static int probe_once(const struct ctx *x, const struct app *a, const struct probe_request *req, int timeout_sec,
                      char *const *pythonpath, struct probe_result *res, bool *ret_use_unit, bool *ret_ok,
                      struct failures *fl)
{
        int r = probe_exec(x, a, req, res, ret_use_unit, &fl->problems);
        if (r < 0)
                return r;
        judge_modules(x, a, res, pythonpath);
        *ret_ok = probe_verdict(a, res, timeout_sec, &fl->problems);
        return 0;
}

/* The users of the app's WSGI daemon groups that are not the app's: each imports too. */
static int probe_daemon_users(const struct ctx *x, const struct app *a, const struct probe_request *req,
                              int timeout_sec, char *const *pythonpath, const struct app_judgement *jd,
                              struct judged *jg, struct failures *fl)
{
        for (size_t i = 0; jd->daemon_users && jd->daemon_users[i]; i++) {
                struct ps_user u = {0};
                if (user_lookup(-1, jd->daemon_users[i], &u) < 0 || u.uid == 0) {
                        ps_user_free(&u);
                        continue; /* the model has said it (daemon-user) */
                }
                struct probe_request dreq = *req;
                dreq.user = &u;
                _cleanup_probe_result_ struct probe_result res = {0};
                bool use_unit, ok;
                struct failures none = {0};
                int r = probe_once(x, a, &dreq, timeout_sec, pythonpath, &res, &use_unit, &ok, &none);
                failures_free(&none);
                if (r >= 0 && !ok) {
                        jg->ok_next = false;
                        /* The group runs now too (its processes were seen): the service fails now. */
                        if (jd->daemon_running[i])
                                jg->ok_now = false;
                        if (!failures_have(fl, SERVICE_CAUSE_DAEMON_USER))
                                failure_add(fl, SERVICE_CAUSE_DAEMON_USER, false,
                                            xasprintf("%s runs as %s, who cannot import the app's modules: give %s "
                                                      "access too: pyshare setup %s --user=%s --user=%s",
                                                      jd->daemon_where[i], u.name, u.name, a->name, a->user.name,
                                                      u.name));
                }
                ps_user_free(&u);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The running service, when its processes' Python variables differ from the next start's:
 * the same import with their environment. */
static int probe_now(const struct ctx *x, const struct app *a, const struct probe_request *req, int timeout_sec,
                     char *const *pythonpath, const struct app_judgement *jd, struct judged *jg, struct failures *fl)
{
        if (!jg->running || !jd->now_env || !jd->now_differs)
                return 0;
        _cleanup_strv_ char **env = probe_env(x, a, jd->now_env);
        struct probe_request nreq = *req;
        nreq.env = env;
        _cleanup_probe_result_ struct probe_result res = {0};
        bool use_unit;
        struct failures none = {0};
        int r = probe_once(x, a, &nreq, timeout_sec, pythonpath, &res, &use_unit, &jg->ok_now, &none);
        failures_free(&none);
        jg->now_probed = r >= 0;
        if (r < 0 || jg->ok_now || !jg->ok_next)
                return r;
        const struct app_finding *f = app_judgement_first(jd, true);
        failure_add(fl, SERVICE_CAUSE_RESTART, true,
                    f ? xstrdup(f->text)
                      : xasprintf("%s runs with an older environment in which the imports fail; the next start "
                                  "imports them: systemctl restart %s",
                                  a->cfg.service, a->cfg.service));
        return 0;
}

int run_probe(const struct ctx *x, const struct app *a, char *const *requested, bool interpreter, int timeout_sec,
              bool judge_now, struct json *j, const char *json_key)
{
        _cleanup_strv_ char **modules = probe_modules(x, a, requested), **pythonpath = NULL;
        venv_pythonpath(x, a, &pythonpath, NULL);
        /* A daemon-wired app: the venv's Python (python-home), with what Apache passes on; its
         * own Apache conf is judged below, not the service's PYTHONPATH. */
        bool daemon = a->cfg.wsgi_script != NULL;
        _cleanup_(app_judgement_free) struct app_judgement jd = {0};
        if (!daemon)
                app_judge(x, a, pythonpath, &jd);
        _cleanup_strv_ char **env = daemon ? wsgi_daemon_probe_env(x, a, PROBE_PATH)
                                           : probe_env(x, a, jd.have_model ? jd.next_env : NULL);
        _cleanup_free_ char *interp = interpreter || daemon ? xasprintf("%s/bin/python", a->venv) : NULL;
        _cleanup_free_ gid_t *gids = NULL;
        size_t ngids = 0;
        user_groups(&a->user, &gids, &ngids);

        struct probe_request req = {
                .user = &a->user,
                .forbidden_gid = a->gid,
                .modules = modules,
                .env = env,
                .env_complete = jd.have_model,
                .interpreter = interp,
                .timeout_ms = timeout_sec * 1000,
#ifdef PYSHARE_SANITIZER
                .as_limit = 0, /* ASan reserves terabytes of address space */
#else
                .as_limit = PROBE_AS_LIMIT,
#endif
        };
        /* Which Python built the venv is read while the first import runs. */
        _cleanup_(pycheck_free) struct pycheck pc = {0};
        struct pycheck_job pj = {.rootfd = x->rootfd, .app = a->name, .unit = a->cfg.service, .venv_rel = a->venv_rel,
                                 .venv_abs = a->venv, .python = a->cfg.python, .pc = &pc};
        req.meanwhile = pycheck_job_run;
        req.meanwhile_data = &pj;
        struct judged jg = {
                .running = judge_now && jd.have_model && jd.m.running,
                .judge_now = judge_now,
                .next_from = daemon ? "apache" : !jd.have_model ? "pyshare" : jd.m.from_bus ? "systemd" : "files",
        };
        _cleanup_(failures_free) struct failures fl = {0};
        _cleanup_probe_result_ struct probe_result res = {0};
        long long t0 = now_ms();
        bool use_unit;
        int r = probe_once(x, a, &req, timeout_sec, pythonpath, &res, &use_unit, &jg.ok_next, &fl);
        if (r < 0)
                return r;
        long long took = now_ms() - t0;
        req.meanwhile = NULL;
        if (daemon) {
                _cleanup_strv_ char **dp = NULL;
                wsgi_daemon_probe_problems(x, a, &dp);
                for (size_t i = 0; dp && dp[i]; i++)
                        failure_add(&fl, SERVICE_CAUSE_DAEMON_CONFIG, false, xstrdup(dp[i]));
                if (dp)
                        jg.ok_next = false;
        }
        /* A venv of another Python fails the verdict even when some imports work (issue 14). */
        pycheck_job_run(&pj);
        /* The extension modules' tags (a walk of all of lib/) when something fails: every piece
         * of evidence for the mismatch, or the cause of a failed import. */
        if (pj.r >= 0 && (pc.mismatch || !jg.ok_next)) {
                pycheck_free(&pc);
                pj.abi = true;
                pj.done = false;
                pycheck_job_run(&pj);
        }
        if (pj.r >= 0 && pc.mismatch) {
                failure_add(&fl, SERVICE_CAUSE_PYTHON_MISMATCH, false, xstrdup(pc.mismatch));
                jg.ok_next = false;
        }
        if (!jg.ok_next) {
                /* What the model sees about the next start explains the failure first. */
                for (size_t i = 0; i < jd.n; i++)
                        if (!jd.f[i].now)
                                failure_add(&fl, jd.f[i].cause, false, xstrdup(jd.f[i].text));
                probe_diagnose(x, a, &req, &res, pythonpath, gids, ngids, &fl);
        }
        /* Now is the same import unless the running processes' environment differs (probe_now);
         * a daemon group's user fails now only when that group runs already. */
        jg.ok_now = jg.ok_next;
        if ((r = probe_now(x, a, &req, timeout_sec, pythonpath, &jd, &jg, &fl)) < 0 ||
            (r = probe_daemon_users(x, a, &req, timeout_sec, pythonpath, &jd, &jg, &fl)) < 0)
                return r;
        /* A process that runs the code as an identity that cannot read the venv fails now,
         * whatever the import as the configured user says. */
        if (jg.running && jd.identity_now) {
                jg.ok_now = false;
                failure_add(&fl, SERVICE_CAUSE_RESTART, true, xstrdup(jd.identity_now));
        }
        /* Imports that work only until the pending daemon-reload are not a pass. */
        if (jg.ok_next && jd.breaks_after_reload) {
                for (size_t i = 0; i < jd.n; i++)
                        if (strcmp(jd.f[i].cause, SERVICE_CAUSE_RELOAD) == 0)
                                failure_add(&fl, SERVICE_CAUSE_RELOAD, false, xstrdup(jd.f[i].text));
        }
        if (!jg.ok_next && !fl.n)
                failure_add(&fl, SERVICE_CAUSE_IMPORT, false,
                            xasprintf("an import fails at %s's next start (its error is above)", a->cfg.service));
        bool ok = jg.ok_next && !jd.breaks_after_reload && (!judge_now || !jg.running || jg.ok_now);

        const char *mode = daemon ? "daemon" : interpreter ? "interpreter" : "embedded";
        if (j)
                json_probe(j, json_key, a, &res, ok, &fl, &jd, &jg, &pc, mode);
        /* Under dpkg people read stderr and the journal, not the JSON a hook parses: the
         * results go there too (in JSON mode these lines go to stderr). */
        if (!x->json || log_context() != LOG_CONTEXT_SHELL)
                probe_render(a, &res, &fl, &jd, &jg, mode, use_unit, took, timeout_sec);
        return ok ? 0 : -PS_E_PROBLEM;
}

int verb_probe(struct ctx *x, const char *app_name, const struct probe_opts *o)
{
        int r = check_app_name(app_name);
        if (r < 0)
                return r;
        for (size_t i = 0; o->modules && o->modules[i]; i++)
                if (!module_name_valid(o->modules[i]))
                        return log_error_errno(-PS_E_USAGE, "invalid module name '%s': give an importable name such as "
                                               "numpy or flask.json",
                                               o->modules[i]);
        if (x->root)
                return log_error_errno(-PS_E_USAGE, "the probe runs on the live system, not in an image: run `pyshare "
                                       "probe %s` inside it",
                                       app_name);
        if (geteuid() != 0)
                return log_error_errno(-PS_E_NOTROOT, "the probe starts as root and drops to the service user: run it "
                                       "as root (sudo pyshare probe %s)",
                                       app_name);
        log_set_app(app_name);
        _cleanup_app_ struct app a = {0};
        if ((r = load_app(x, app_name, &a)) < 0)
                return r;
        if (bus_systemd_running()) {
                /* Probe as the user the service runs as now, not only as setup found it. */
                _cleanup_free_ char *now = app_service_user_now(x->rootfd, a.cfg.service);
                if (now && strcmp(now, a.user.name) != 0) {
                        struct ps_user u = {0};
                        if (user_lookup(-1, now, &u) >= 0 && u.uid != 0) {
                                log_notice("%s runs as %s now (setup stored %s): probing as %s; run `pyshare setup %s "
                                           "--user=%s` to give %s access",
                                           a.cfg.service, now, a.user.name, now, app_name, now, now);
                                ps_user_free(&a.user);
                                a.user = u;
                                if ((r = refuse_unsafe_ids(x, &a)) < 0)
                                        return r;
                        } else
                                ps_user_free(&u);
                }
        }
        struct json j = {0};
        r = run_probe(x, &a, o->modules, o->interpreter, o->timeout_sec, true, x->json ? &j : NULL, NULL);
        if (x->json)
                json_flush(&j);
        return r;
}
