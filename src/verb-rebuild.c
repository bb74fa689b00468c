/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pyshare rebuild: the venv again, by the service's Python (or --python), with the same
 * distributions, in place. The old venv moves aside by rename and comes back by rename when
 * anything fails; only a committed rebuild deletes it. A rebuild killed at any point leaves
 * the app's path holding either the old venv or the new one being built, never a mix, and
 * the next rebuild or setup finishes or rolls it back (rebuild_recover). */
#include "verbs.h"
#include "app.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "pip.h"
#include "pyversion.h"
#include "requirements.h"
#include "rootfile.h"
#include "tree.h"
#include "users.h"
#include "venv.h"
#include "wiring.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define META_MAX (16 * 1024 * 1024)

/* In the prefix, beside the app's venv: the old venv while the new one is built, and the old
 * venv of a committed rebuild until it is deleted. */
static char *aside_name(const char *app) { return xasprintf(".%s.pyshare-rebuild", app); }
static char *trash_name(const char *app) { return xasprintf(".%s.pyshare-rebuilt", app); }

struct dist {
        char *name, *version, *req; /* req: "name==version" or "name @ URL" */
};

struct dists {
        struct dist *d;
        size_t n;
        char **stops; /* what cannot be reinstalled, one sentence each */
        char **left;  /* what the new venv's `python -m venv` brings itself */
};

static void dists_free(struct dists *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->d[i].name);
                free(l->d[i].version);
                free(l->d[i].req);
        }
        free(l->d);
        strv_free(l->stops);
        strv_free(l->left);
        *l = (struct dists){0};
}

/* "Name:" and "Version:" of a METADATA or PKG-INFO text (its header ends at a blank line). */
static void meta_fields(char *text, char **ret_name, char **ret_version)
{
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && *line && *line != '\r';
             line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "Name:") && !*ret_name)
                        *ret_name = xstrdup(strstrip(line + 5));
                else if (startswith(line, "Version:") && !*ret_version)
                        *ret_version = xstrdup(strstrip(line + 8));
        }
}

/* Where the value of "key" starts in a small JSON text (direct_url.json), or NULL. */
static const char *json_value_of(const char *text, const char *key)
{
        _cleanup_free_ char *k = xasprintf("\"%s\"", key);
        const char *p = strstr(text, k);
        if (!p)
                return NULL;
        p += strlen(k);
        return p + strspn(p, " \t\n\r:");
}

static char *json_string_of(const char *text, const char *key)
{
        const char *p = json_value_of(text, key);
        if (!p || *p != '"')
                return NULL;
        const char *end = strchr(p + 1, '"');
        return end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
}

static bool json_true_of(const char *text, const char *key)
{
        const char *p = json_value_of(text, key);
        return p && startswith(p, "true");
}

/* The requirement that installs one distribution as it was, or a reason in *stops. */
static void add_dist(int rootfd, int infofd, char *name, char *version, struct dists *l)
{
        _cleanup_free_ char *du = NULL;
        char *req = NULL;
        if (infofd >= 0 && file_read_at(infofd, "direct_url.json", 64 * 1024, &du, NULL, NULL) >= 0) {
                _cleanup_free_ char *url = json_string_of(du, "url"), *vcs = json_string_of(du, "vcs"),
                                    *commit = json_string_of(du, "commit_id");
                struct stat st;
                if (json_true_of(du, "editable"))
                        strv_consume(&l->stops, xasprintf("%s %s is an editable install of %s: pip cannot install it "
                                                          "again as it was; uninstall it (pyshare pip APP uninstall "
                                                          "%s) and install it again after the rebuild",
                                                          name, version, url ? url : "a local directory", name));
                else if (url && startswith(url, "file://") && root_stat(rootfd, url + 7, &st) < 0)
                        strv_consume(&l->stops, xasprintf("%s %s was installed from %s, which is gone: put it back, "
                                                          "or uninstall %s first",
                                                          name, version, url + 7, name));
                else if (url && vcs)
                        req = xasprintf("%s @ %s+%s%s%s", name, vcs, url, commit ? "@" : "", commit ? commit : "");
                else if (url)
                        req = xasprintf("%s @ %s", name, url);
        }
        if (!req)
                req = xasprintf("%s==%s", name, version);
        l->d = xrealloc(l->d, (l->n + 1) * sizeof(*l->d));
        l->d[l->n++] = (struct dist){.name = name, .version = version, .req = req};
}

static bool is_venv_tool(const char *name)
{
        return strcasecmp(name, "pip") == 0 || strcasecmp(name, "setuptools") == 0;
}

/* What site-packages holds: *.dist-info (METADATA, direct_url.json) and *.egg-info (PKG-INFO,
 * or the file itself), read without running any Python; legacy *.egg-link files are editable
 * installs. Sorted by name. */
static int read_dists(int rootfd, int sitefd, struct dists *ret)
{
        struct dists l = {0};
        _cleanup_strv_ char **names = NULL;
        int r = dir_list_at(sitefd, NULL, &names);
        if (r < 0)
                return r;
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++) {
                const char *n = names[i];
                if (endswith(n, ".egg-link")) {
                        strv_consume(&l.stops, xasprintf("%s is an editable install (setup.py develop): pip cannot "
                                                         "install it again as it was; remove it and install it "
                                                         "again after the rebuild",
                                                         n));
                        continue;
                }
                bool dist_info = endswith(n, ".dist-info");
                if (!dist_info && !endswith(n, ".egg-info"))
                        continue;
                _cleanup_close_ int infofd = openat(sitefd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_free_ char *text = NULL;
                r = infofd >= 0 ? file_read_at(infofd, dist_info ? "METADATA" : "PKG-INFO", META_MAX, &text, NULL, NULL)
                                : file_read_at(sitefd, n, META_MAX, &text, NULL, NULL);
                char *name = NULL, *version = NULL;
                if (r >= 0)
                        meta_fields(text, &name, &version);
                if (!name || !version) {
                        strv_consume(&l.stops, xasprintf("%s names no distribution and version: remove it, or "
                                                         "repair the distribution it belongs to",
                                                         n));
                        free(name);
                        free(version);
                        continue;
                }
                if (is_venv_tool(name)) {
                        strv_consume(&l.left, xasprintf("%s %s", name, version));
                        free(name);
                        free(version);
                        continue;
                }
                add_dist(rootfd, infofd, name, version, &l);
        }
        *ret = l;
        return 0;
}

/* Distribution names compare as PEP 503 normalises them. */
static bool same_dist(const char *a, const char *b)
{
        for (;; a++, b++) {
                while (*a == '-' || *a == '_' || *a == '.')
                        a++;
                while (*b == '-' || *b == '_' || *b == '.')
                        b++;
                if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
                        return false;
                if (!*a)
                        return true;
        }
}

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
        struct actions acts;
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
        if ((r = read_dists(x->rootfd, sfd, &b->old)) < 0)
                return log_error_errno(r, "cannot read the distributions in %s/%s: %s", b->sv, site, strerror(-r));
        if (b->old.stops) {
                for (size_t i = 0; b->old.stops[i]; i++)
                        log_error("%s", b->old.stops[i]);
                return log_error_errno(-PS_E_INVALID, "rebuild %s: %zu distribution%s cannot be installed again as "
                                       "%s; nothing was changed",
                                       a->name, strv_length(b->old.stops), strv_length(b->old.stops) == 1 ? "" : "s",
                                       strv_length(b->old.stops) == 1 ? "it was" : "they were");
        }
        b->python = xstrdup(b->o->python ? b->o->python : a->cfg.python);
        _cleanup_free_ char *resolved = NULL;
        _cleanup_free_ char *py_shown = shown(x, b->python);
        if (pyversion_of_program(x->rootfd, b->python, &resolved, &b->pyver) < 0)
                return log_error_errno(-PS_E_NOTFOUND, "Python %s does not exist: install it or pass --python=PATH",
                                       py_shown);
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
        if (!x->dry_run)
                return;
        log_info("would move %s aside to %s/%s", b->sv, a->cfg.prefix, b->aside);
        log_info("would create the virtualenv %s with %s", b->sv, b->python);
        log_info("would install the requirements as %s with pip install %s%s", PIP_USER,
                 sources && *sources ? sources : "(pip's own configuration)",
                 b->o->upgrade ? " (--upgrade: the newest version of what cannot be had as it was)" : "");
        log_info("would apply owners, modes and ACLs, refresh the env files, and probe");
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
        if (r < 0 || (r = read_dists(b->x->rootfd, sfd, &b->new)) < 0)
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
        if (b->env_written)
                refresh_env_files(b->x, &b->a, &b->acts, &changed);
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

/* aside -> new venv -> tree -> pip -> tree -> env files -> probe; any failure rolls back. */
static int rebuild_run(struct rebuild *b, struct json *j)
{
        struct ctx *x = b->x;
        struct app *a = &b->a;
        _cleanup_perms_stats_ struct perms_stats st = {0};
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
        perms_stats_free(&st);
        st = (struct perms_stats){0};
        step = "applying owners, modes and ACLs";
        if ((r = apply_tree(x, a, &st)) < 0)
                goto fail;
        step = "refreshing the env files";
        bool env_changed = false;
        b->env_written = true;
        if ((r = store_python(b)) < 0 || (r = refresh_env_files(x, a, &b->acts, &env_changed)) < 0)
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
        json_bool(j, "changed", ok && !b->x->dry_run); /* a failed rebuild put the old venv back */
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
        json_str(j, "kept_old", b->kept);
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
        _cleanup_(rebuild_free) struct rebuild b = {.x = x, .o = o, .a = {.name = app_name}, .pfd = -1};
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
        } else
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
