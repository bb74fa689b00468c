/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pyshare rebuild: the venv again, by the service's Python (or --python), with the same
 * distributions, in place. The old venv moves aside by rename and comes back by rename when
 * anything fails; only a committed rebuild deletes it. A rebuild killed at any point leaves
 * the app's path holding either the old venv or the new one being built, never a mix, and
 * the next rebuild or setup finishes or rolls it back (rebuild_recover). */
#include "verbs.h"
#include "app.h"
#include "dists.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "pip.h"
#include "pyversion.h"
#include "requirements.h"
#include "tree.h"
#include "users.h"
#include "venv.h"
#include "wiring.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* In the prefix, beside the app's venv: the old venv while the new one is built, and the old
 * venv of a committed rebuild until it is deleted. */
static char *aside_name(const char *app) { return xasprintf(".%s.pyshare-rebuild", app); }
static char *trash_name(const char *app) { return xasprintf(".%s.pyshare-rebuilt", app); }

/* ---- finishing or rolling back an interrupted rebuild ------------------------------------ */

int rebuild_recover(const struct ctx *x, const struct app *a, int pfd)
{
        _cleanup_free_ char *aside = aside_name(a->name), *trash = trash_name(a->name);
        _cleanup_free_ char *sv = shown(x, a->venv);
        struct stat st;
        int r;
        if (fstatat(pfd, trash, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (x->dry_run) {
                        log_info("would delete the old virtualenv of a rebuild of %s that was interrupted after it "
                                 "was done",
                                 a->name);
                        return 0;
                }
                if ((r = rmtree_at(pfd, trash)) < 0)
                        return log_error_errno(r, "cannot delete the old virtualenv %s/%s of an earlier rebuild: %s",
                                               a->cfg.prefix, trash, strerror(-r));
                log_info("deleted the old virtualenv of a rebuild of %s that was interrupted after it was done", a->name);
        }
        if (fstatat(pfd, aside, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (x->dry_run) {
                log_info("would roll back an interrupted rebuild: delete the unfinished %s and move the old "
                         "virtualenv back",
                         sv);
                return 1;
        }
        if (fstatat(pfd, a->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (r = rmtree_at(pfd, a->name)) < 0)
                return log_error_errno(r, "cannot delete the unfinished virtualenv %s of an interrupted rebuild: %s",
                                       sv, strerror(-r));
        if (renameat(pfd, aside, pfd, a->name) < 0)
                return log_error_errno(-errno, "cannot move the old virtualenv %s/%s back to %s: %s", a->cfg.prefix,
                                       aside, sv, strerror(errno));
        log_info("rolled back an interrupted rebuild: %s is the old virtualenv again", sv);
        /* The rebuild may have written the env files for the new venv already. */
        _cleanup_actions_ struct actions acts = {0};
        bool changed = false;
        if ((r = refresh_env_files(x, a, &acts, &changed)) < 0)
                return r;
        return 1;
}

/* ---- the rebuild ------------------------------------------------------------------------- */

struct rebuild {
        struct ctx *x;
        const struct rebuild_opts *o;
        struct app a;
        int pfd;
        char *sv, *python, *pyver, *aside, *kept;
        struct pycheck pc;
        struct dists old, new;
        char **sources; /* pip's options for where the distributions come from */
        char **changes; /* "name OLD -> NEW" */
        bool moved;     /* the old venv is aside: a failure puts it back */
        bool env_written; /* the env files name the new venv's paths: a failure writes them again */
        struct actions acts; /* the files written (or, planned, that would be) for the new venv */
        const char *reload;  /* as setup's */
        struct perms_stats st; /* of the new venv's tree, as the last walk left it */
};

static void rebuild_free(struct rebuild *b)
{
        app_free(&b->a);
        closep(&b->pfd);
        free(b->sv);
        free(b->python);
        free(b->pyver);
        free(b->aside);
        free(b->kept);
        pycheck_free(&b->pc);
        dists_free(&b->old);
        dists_free(&b->new);
        strv_free(b->sources);
        strv_free(b->changes);
        actions_free(&b->acts);
        perms_stats_free(&b->st);
}

/* Where pip takes the distributions from: --find-links/--index-url, else Wheels=, else pip's
 * own configuration. */
static void rebuild_sources(struct rebuild *b)
{
        const struct rebuild_opts *o = b->o;
        if (o->index_url) {
                strv_push(&b->sources, "--index-url");
                strv_push(&b->sources, o->index_url);
        } else if (o->find_links || b->a.cfg.wheels)
                strv_push(&b->sources, "--no-index");
        if (o->find_links) {
                strv_push(&b->sources, "--find-links");
                strv_push(&b->sources, o->find_links);
        } else if (!o->index_url && b->a.cfg.wheels) {
                strv_push(&b->sources, "--find-links");
                strv_push(&b->sources, b->a.cfg.wheels);
                strv_push(&b->sources, "--only-binary=:all:");
        }
}

/* Everything is checked before anything changes. */
static int rebuild_resolve(struct rebuild *b)
{
        struct ctx *x = b->x;
        struct app *a = &b->a;
        int r;
        if ((r = open_prefix(x, a->cfg.prefix, PREFIX_OPEN_EXISTING, &b->pfd)) < 0)
                return r;
        if ((r = rebuild_recover(x, a, b->pfd)) < 0)
                return r;
        enum venv_state vs = VENV_MISSING;
        if ((r = venv_state(b->pfd, a->name, &vs)) < 0)
                return log_error_errno(r, "cannot look at %s: %s", b->sv, strerror(-r));
        if (vs != VENV_READY && vs != VENV_FOREIGN)
                return log_error_errno(-PS_E_NOTFOUND, "%s is %s: there is nothing to rebuild; run `pyshare setup %s`",
                                       b->sv, vs == VENV_MISSING ? "missing" : "not a complete virtualenv", a->name);
        _cleanup_close_ int sfd = -1;
        _cleanup_free_ char *site = NULL;
        if ((r = app_open_site_packages(x, a, &sfd, &site)) < 0)
                return log_error_errno(r, "cannot find site-packages in %s: %s", b->sv, strerror(-r));
        b->python = xstrdup(b->o->python ? b->o->python : a->cfg.python);
        _cleanup_free_ char *resolved = NULL;
        _cleanup_free_ char *py_shown = shown(x, b->python);
        if (pyversion_of_program(x->rootfd, b->python, &resolved, &b->pyver) < 0)
                return log_error_errno(-PS_E_NOTFOUND, "Python %s does not exist: install it or pass --python=PATH",
                                       py_shown);
        const bool explicit_sources = b->o->find_links || b->o->index_url || a->cfg.wheels;
        if ((r = read_dists(x->rootfd, sfd, b->pyver, explicit_sources, &b->old)) < 0)
                return log_error_errno(r, "cannot read the distributions in %s/%s: %s", b->sv, site,
                                       r == -E2BIG ? "more than 10,000 distributions or 256 MiB of their metadata"
                                                   : strerror(-r));
        if (b->old.stops) {
                for (size_t i = 0; b->old.stops[i]; i++)
                        log_error("%s", b->old.stops[i]);
                return log_error_errno(-PS_E_INVALID, "rebuild %s: %zu distribution%s cannot be installed again as "
                                       "%s; nothing was changed",
                                       a->name, strv_length(b->old.stops), strv_length(b->old.stops) == 1 ? "" : "s",
                                       strv_length(b->old.stops) == 1 ? "it was" : "they were");
        }
        if ((r = pycheck_app(x->rootfd, a->name, a->cfg.service, a->venv_rel, a->venv, b->python, b->o->python != NULL,
                             &b->pc)) < 0)
                return log_error_errno(r, "cannot read what Python %s runs: %s", a->cfg.service, strerror(-r));
        if (b->pc.mod_wsgi && b->pc.want && b->pyver && strcmp(b->pc.want, b->pyver) != 0)
                return log_error_errno(-PS_E_INVALID, "%s is Python %s, but %s: mod_wsgi imports only from a "
                                       "virtualenv of its own Python; pass --python=PATH of a Python %s",
                                       py_shown, b->pyver, b->pc.want_source, b->pc.want);
        rebuild_sources(b);
        b->aside = aside_name(a->name);
        return 0;
}

static void print_plan(const struct rebuild *b)
{
        const struct ctx *x = b->x;
        const struct app *a = &b->a;
        _cleanup_free_ char *sources = strv_join(b->sources, " ");
        log_info("%s %s: %s, Python %s -> %s (Python %s)", x->dry_run ? "plan for rebuild" : "rebuild", a->name, b->sv,
                 b->pc.venv.version ? b->pc.venv.version : "?", b->python, b->pyver ? b->pyver : "?");
        log_info("requirements (%zu):", b->old.n);
        for (size_t i = 0; i < b->old.n; i++)
                log_info("  %s", b->old.d[i].req);
        for (size_t i = 0; b->old.left && b->old.left[i]; i++)
                log_info("  (%s: the new virtualenv brings its own)", b->old.left[i]);
        for (size_t i = 0; b->old.notes && b->old.notes[i]; i++)
                log_info("  (%s)", b->old.notes[i]);
        if (!x->dry_run)
                return;
        log_info("would move %s aside to %s/%s", b->sv, a->cfg.prefix, b->aside);
        log_info("would create the virtualenv %s with %s", b->sv, b->python);
        log_info("would install the requirements as %s with pip install %s%s", PIP_USER,
                 sources && *sources ? sources : "(pip's own configuration)",
                 b->o->upgrade ? " (--upgrade: the newest version of what cannot be had as it was)" : "");
        log_info("would apply owners, modes and ACLs, write the env files (below), and probe");
        log_info("would %s the old virtualenv", b->o->keep_old ? "keep (--keep-old)" : "delete");
}

static char **pip_args(const struct rebuild *b, char *const *reqs, bool dry_run)
{
        char **args = NULL;
        strv_push(&args, "install");
        if (dry_run)
                strv_push(&args, "--dry-run");
        strv_push(&args, "--quiet");
        for (size_t i = 0; b->sources && b->sources[i]; i++)
                strv_push(&args, b->sources[i]);
        strv_push(&args, "--"); /* the requirements come from a venv others write: never options */
        for (size_t i = 0; reqs && reqs[i]; i++)
                strv_push(&args, reqs[i]);
        return args;
}

/* Whether pip can have req for the new venv: `pip install --dry-run` as _pyshare, quietly (a
 * no is an answer here, not an error). */
static bool pip_can_have(const struct rebuild *b, const char *req)
{
        char *one[] = {(char *)req, NULL};
        _cleanup_strv_ char **args = pip_args(b, one, true);
        _cleanup_free_ char *pip = xasprintf("%s/bin/pip", b->a.venv), *out = NULL;
        if (b->x->root)
                return venv_pip_in_image(b->x->rootfd, b->a.prefix_rel, b->a.name, pip, args, b->x->root, 5 * 60 * 1000,
                                         &out) == 0;
        struct ps_user u = {0};
        if (user_lookup(-1, PIP_USER, &u) < 0)
                return false;
        int r = pip_run(&u, b->a.gid, pip, args, NULL, 5 * 60 * 1000, true, &out);
        ps_user_free(&u);
        return r == 0;
}

/* The requirements; with --upgrade, a pinned one that pip cannot have becomes its name alone
 * (the newest it can have), each asked on its own. */
static int install_all(struct rebuild *b)
{
        _cleanup_strv_ char **reqs = NULL;
        for (size_t i = 0; i < b->old.n; i++)
                strv_push(&reqs, b->old.d[i].req);
        if (!reqs)
                return 0;
        if (b->o->upgrade)
                for (size_t i = 0; i < b->old.n; i++)
                        if (!strstr(reqs[i], " @ ") && !pip_can_have(b, reqs[i])) {
                                free(reqs[i]);
                                reqs[i] = xstrdup(b->old.d[i].name);
                        }
        _cleanup_strv_ char **args = pip_args(b, reqs, false);
        return run_pip(b->x, &b->a, args, true);
}

/* What changed version, from the new venv's own records. */
static int list_changes(struct rebuild *b)
{
        _cleanup_close_ int sfd = -1;
        int r = app_open_site_packages(b->x, &b->a, &sfd, NULL);
        if (r < 0 || (r = read_dists(b->x->rootfd, sfd, NULL, false, &b->new)) < 0)
                return r;
        for (size_t i = 0; i < b->old.n; i++) {
                const struct dist *o = &b->old.d[i];
                const char *now = NULL;
                for (size_t k = 0; k < b->new.n && !now; k++)
                        if (same_dist(o->name, b->new.d[k].name))
                                now = b->new.d[k].version;
                if (!now)
                        return log_error_errno(-PS_E_PROBLEM, "%s %s is not in the new virtualenv after pip ran", o->name,
                                               o->version);
                if (strcmp(now, o->version) != 0)
                        strv_consume(&b->changes, xasprintf("%s %s -> %s", o->name, o->version, now));
        }
        return 0;
}

/* Puts the old venv back exactly as it was (a rename keeps contents, owners, modes, ACLs). */
static void roll_back(struct rebuild *b, const char *what)
{
        struct stat st;
        int r = 0;
        if (fstatat(b->pfd, b->a.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = rmtree_at(b->pfd, b->a.name);
        if (r < 0 || renameat(b->pfd, b->aside, b->pfd, b->a.name) < 0) {
                log_error("%s failed, and the old virtualenv could not be moved back from %s/%s (%s): run `pyshare "
                          "rebuild %s` again, which finishes the roll-back",
                          what, b->a.cfg.prefix, b->aside, strerror(r < 0 ? -r : errno), b->a.name);
                return;
        }
        b->moved = false;
        bool changed = false;
        _cleanup_actions_ struct actions acts = {0};
        if (b->env_written)
                refresh_env_files(b->x, &b->a, &acts, &changed);
        log_error("rebuild %s: %s failed; the old virtualenv %s is back as it was", b->a.name, what, b->sv);
}

/* Python= of /etc/pyshare/APP.conf, when --python changed it. */
static int store_python(struct rebuild *b)
{
        if (!b->o->python || strcmp(b->o->python, b->a.cfg.python) == 0)
                return 0;
        _cleanup_config_ struct app_config etc = {0};
        bool exists = false;
        int r = load_etc_config(b->x, b->a.name, &etc, &exists);
        if (r < 0)
                return r;
        free(etc.python);
        etc.python = xstrdup(b->o->python);
        free(b->a.cfg.python);
        b->a.cfg.python = xstrdup(b->o->python);
        _cleanup_free_ char *text = config_format(&etc), *name = xasprintf("%s.conf", b->a.name);
        return write_file(b->x, ETC_DIR, name, text, &b->acts);
}

/* The env files as the rebuild would write them, before the new venv exists: the old venv's
 * PYTHONPATH with its site-packages moved to the new Python's (the same distributions bring
 * the same .pth files). */
static int plan_env_files(struct rebuild *b)
{
        struct app *a = &b->a;
        _cleanup_strv_ char **old = NULL, **planned = NULL;
        struct pth_info pth = {0};
        int r = venv_pythonpath(b->x, a, &old, &pth);
        if (r < 0)
                return log_error_errno(r, "cannot find site-packages in %s: %s", b->sv, strerror(-r));
        pth_info_free(&pth);
        _cleanup_free_ char *site = xasprintf("%s/lib/python%s/site-packages", a->venv, b->pyver ? b->pyver : "3.X");
        size_t n = strlen(old[0]); /* the old site-packages */
        for (size_t i = 0; old[i]; i++)
                if (strncmp(old[i], old[0], n) == 0 && (old[i][n] == '\0' || old[i][n] == '/'))
                        strv_consume(&planned, xasprintf("%s%s", site, old[i] + n));
                else
                        strv_push(&planned, old[i]);
        bool env_changed = false;
        if ((r = store_python(b)) < 0)
                return r;
        return write_env_files(b->x, a, planned, &b->acts, &env_changed, &b->reload);
}

/* aside -> new venv -> tree -> pip -> tree -> env files -> probe; any failure rolls back. */
static int rebuild_run(struct rebuild *b, struct json *j)
{
        struct ctx *x = b->x;
        struct app *a = &b->a;
        _cleanup_perms_stats_ struct perms_stats st = {0};
        _cleanup_strv_ char **pythonpath = NULL;
        struct pth_info pth = {0};
        _cleanup_free_ char *out = NULL;
        long long t0 = now_ms();
        if (renameat2(b->pfd, a->name, b->pfd, b->aside, RENAME_NOREPLACE) < 0)
                return log_error_errno(-errno, "cannot move %s aside to %s/%s: %s", b->sv, a->cfg.prefix, b->aside,
                                       strerror(errno));
        b->moved = true;
        const char *step = "creating the virtualenv";
        int r = venv_create(b->pfd, a->name, a->venv, b->python, x->root, &out);
        if (r < 0) {
                log_error("cannot create the virtualenv %s with %s -m venv: %s%s%s", b->sv, b->python, strerror(-r),
                          out ? "\n" : "", out ? strstrip(out) : "");
                goto fail;
        }
        step = "applying owners, modes and ACLs";
        if ((r = apply_tree(x, a, &st)) < 0)
                goto fail;
        step = "installing the requirements";
        if ((r = install_all(b)) < 0 || (r = list_changes(b)) < 0)
                goto fail;
        step = "applying owners, modes and ACLs";
        if ((r = apply_tree(x, a, &b->st)) < 0)
                goto fail;
        step = "refreshing the env files";
        bool env_changed = false;
        b->env_written = true;
        if ((r = venv_pythonpath(x, a, &pythonpath, &pth)) < 0) {
                log_error("cannot find site-packages in %s: %s", b->sv, strerror(-r));
                goto fail;
        }
        report_pth(&pth);
        if ((r = store_python(b)) < 0 || (r = write_env_files(x, a, pythonpath, &b->acts, &env_changed, &b->reload)) < 0)
                goto fail;
        log_info("rebuilt %s with %s: %zu distribution%s (%lld ms)", b->sv, b->python, b->old.n,
                 b->old.n == 1 ? "" : "s", now_ms() - t0);
        for (size_t i = 0; b->changes && b->changes[i]; i++)
                log_info("  changed: %s", b->changes[i]);
        if (!x->root) {
                step = "the probe";
                if ((r = run_probe(x, a, NULL, false, 30, false, j, "probe")) < 0)
                        goto fail;
        }
        return 0;
fail:
        roll_back(b, step);
        return r;
}

/* The old venv of a rebuild that worked: deleted, or kept under a name of its own. */
static int rebuild_commit(struct rebuild *b)
{
        struct app *a = &b->a;
        _cleanup_free_ char *trash = trash_name(a->name);
        if (b->o->keep_old) {
                char stamp[32];
                time_t now = time(NULL);
                struct tm tm;
                strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
                _cleanup_free_ char *keep = xasprintf("%s.pre-rebuild-%s", a->name, stamp);
                if (renameat2(b->pfd, b->aside, b->pfd, keep, RENAME_NOREPLACE) < 0)
                        return log_error_errno(-errno, "cannot rename the old virtualenv %s/%s to %s: %s",
                                               a->cfg.prefix, b->aside, keep, strerror(errno));
                b->kept = xasprintf("%s/%s", a->cfg.prefix, keep);
                b->moved = false;
                log_info("kept the old virtualenv as %s", b->kept);
                return 0;
        }
        if (renameat2(b->pfd, b->aside, b->pfd, trash, RENAME_NOREPLACE) < 0)
                return log_error_errno(-errno, "cannot rename the old virtualenv %s/%s: %s", a->cfg.prefix, b->aside,
                                       strerror(errno));
        b->moved = false;
        int r = rmtree_at(b->pfd, trash);
        if (r < 0)
                return log_error_errno(r, "cannot delete the old virtualenv %s/%s: %s; the next rebuild or setup "
                                       "deletes it",
                                       a->cfg.prefix, trash, strerror(-r));
        return 0;
}

static void rebuild_json(const struct rebuild *b, struct json *j, bool ok)
{
        json_str(j, "app", b->a.name);
        json_bool(j, "dry_run", b->x->dry_run);
        json_bool(j, "changed", ok); /* a failed rebuild put the old venv back */
        json_bool(j, "ok", ok);
        json_str(j, "venv", b->a.venv);
        json_str(j, "python", b->python);
        json_str(j, "python_version", b->pyver);
        json_str(j, "old_python_version", b->pc.venv.version);
        json_arr_begin(j, "requirements");
        for (size_t i = 0; i < b->old.n; i++) {
                json_obj_begin(j, NULL);
                json_str(j, "name", b->old.d[i].name);
                json_str(j, "version", b->old.d[i].version);
                json_str(j, "requirement", b->old.d[i].req);
                json_obj_end(j);
        }
        json_arr_end(j);
        json_strv(j, "changes", b->changes);
        json_strv(j, "requirement_notes", b->old.notes);
        json_str(j, "kept_old", b->kept);
        json_strv(j, "files_changed", b->acts.changed);
        json_strv(j, "files_unchanged", b->acts.unchanged);
        if (b->x->dry_run)
                json_str(j, "permissions", NULL); /* of a tree that does not exist yet */
        else {
                json_obj_begin(j, "permissions");
                json_perms_stats(j, &b->st);
                json_obj_end(j);
        }
        json_str(j, "reload", b->reload);
        json_diffs(j, b->x, &b->acts);
}

int verb_rebuild(struct ctx *x, const char *app_name, const struct rebuild_opts *o)
{
        if (o->python && !path_safe_absolute(o->python))
                return log_error_errno(-PS_E_INVALID, "--python=%s: give an absolute path made of letters, digits and "
                                       ". _ + @ - /",
                                       o->python);
        if (o->find_links && !path_safe_absolute(o->find_links))
                return log_error_errno(-PS_E_INVALID, "--find-links=%s: give an absolute directory made of letters, "
                                       "digits and . _ + @ - /",
                                       o->find_links);
        _cleanup_(rebuild_free) struct rebuild b = {.x = x, .o = o, .a = {.name = app_name}, .pfd = -1,
                                                   .reload = "not-needed"};
        _cleanup_close_ int lockfd = -1;
        int r = begin_change(x, "rebuild", app_name, &b.a, &lockfd);
        if (r < 0)
                return r;
        b.sv = shown(x, b.a.venv);
        if ((r = rebuild_resolve(&b)) < 0)
                return r;
        print_plan(&b);
        struct json j = {0};
        if (x->json)
                json_obj_begin(&j, NULL);
        if (!x->dry_run) {
                r = rebuild_run(&b, x->json ? &j : NULL);
                if (r >= 0)
                        r = rebuild_commit(&b);
        } else if ((r = plan_env_files(&b)) >= 0)
                log_info("plan for rebuild %s: nothing was changed", app_name);
        if (x->json) {
                rebuild_json(&b, &j, r >= 0);
                json_obj_end(&j);
                json_flush(&j);
        }
        if (r >= 0 && !x->dry_run)
                log_info("rebuild %s: done; restart %s to load it (systemctl restart %s)", app_name, b.a.cfg.service,
                         b.a.cfg.service);
        return r;
}

int verb_python_check(struct ctx *x)
{
        _cleanup_strv_ char **apps = NULL;
        if (list_apps(x, &apps) < 0)
                return 0;
        size_t found = 0;
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_app_ struct app a = {.name = apps[i]};
                if (app_settings(x, apps[i], &a.cfg) <= 0)
                        continue;
                app_paths(&a);
                _cleanup_(pycheck_free) struct pycheck pc = {0};
                if (pycheck_app(x->rootfd, a.name, a.cfg.service, a.venv_rel, a.venv, a.cfg.python, false, &pc) < 0 ||
                    !pc.mismatch)
                        continue;
                log_set_app(a.name);
                log_warning("app %s: %s", a.name, pc.mismatch);
                found++;
        }
        log_set_app(NULL);
        if (found)
                log_warning("%zu app%s cannot be imported by the Python %s now; pyshare rebuilds nothing by itself: "
                            "run the `pyshare rebuild` named above",
                            found, found == 1 ? "" : "s",
                            found == 1 ? "its service would run" : "their services would run");
        return 0;
}
