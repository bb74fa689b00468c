/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "apache.h"
#include "app.h"
#include "bus.h"
#include "config.h"
#include "conflicts.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "perms.h"
#include "pyversion.h"
#include "requirements.h"
#include "service.h"
#include "tree.h"
#include "units.h"
#include "users.h"
#include "venv.h"
#include "wiring.h"
#include "wsgi-daemon.h"

#include <fcntl.h>
#include <sys/stat.h>

static int check_user_name(const char *user)
{
        if (user_name_valid(user))
                return 0;
        return log_error_errno(-PS_E_USAGE, "invalid user name '%s': use a-z, 0-9, '_' and '-', at most 32 "
                               "characters, starting with a letter or '_'",
                               user);
}

static int check_setup_names(const char *app, const struct setup_opts *o)
{
        int r = check_app_name(app);
        if (r < 0)
                return r;
        if (o->user && (r = check_user_name(o->user)) < 0)
                return r;
        for (size_t i = 0; o->more_users && o->more_users[i]; i++)
                if ((r = check_user_name(o->more_users[i])) < 0)
                        return r;
        if (strv_length(o->more_users) >= CONFIG_USERS_MAX)
                return log_error_errno(-PS_E_USAGE, "too many --user options: an app has at most %d users",
                                       CONFIG_USERS_MAX);
        if (o->group && !user_name_valid(o->group))
                return log_error_errno(-PS_E_USAGE, "invalid group name '%s': use a-z, 0-9, '_' and '-', at most 32 "
                                       "characters, starting with a letter or '_'",
                                       o->group);
        _cleanup_free_ char *unit = NULL;
        if (o->service && unit_name_normalize(o->service, &unit) < 0)
                return log_error_errno(-PS_E_USAGE, "invalid service name '%s': give a unit name such as apache2 or "
                                       "gunicorn@app.service",
                                       o->service);
        for (size_t i = 0; o->modules && o->modules[i]; i++)
                if (!module_name_valid(o->modules[i]))
                        return log_error_errno(-PS_E_USAGE, "invalid module name '%s': give an importable name such as "
                                               "numpy or flask.json",
                                               o->modules[i]);
        if (o->python && !path_safe_absolute(o->python))
                return log_error_errno(-PS_E_INVALID, "--python=%s: give an absolute path made of letters, digits and "
                                       ". _ + @ - /",
                                       o->python);
        if (o->wsgi_script && !path_safe_absolute(o->wsgi_script))
                return log_error_errno(-PS_E_INVALID, "--wsgi-script=%s: give the absolute path of the app's .wsgi "
                                       "file, made of letters, digits and . _ + @ - /",
                                       o->wsgi_script);
        if (o->url && !path_safe_absolute(o->url))
                return log_error_errno(-PS_E_INVALID, "--url=%s: give a URL path such as /%s (letters, digits and "
                                       ". _ + @ - /), with --wsgi-script=PATH",
                                       o->url, app);
        if (o->prefix && (!path_safe_absolute(o->prefix) || strcmp(o->prefix, "/") == 0))
                return log_error_errno(-PS_E_INVALID, "--prefix=%s: give an absolute directory (not /) made of "
                                       "letters, digits and . _ + @ - /",
                                       o->prefix);
        return 0;
}

/* The service user: --user, the stored one, or what the service runs as. */
static int detect_user(const struct ctx *x, const char *unit, char **ret)
{
        if (unit_apache_command(unit)) {
                /* Read from the configuration files, never by running Apache's tools: under
                 * --root they are the image's programs. */
                _cleanup_free_ char *reason = NULL;
                enum apache_layout layout = apache_layout_of_unit(x->rootfd, unit);
                int r = apache_run_user(x->rootfd, layout, ret, NULL, &reason);
                if (r == -PS_E_NOTFOUND)
                        return log_error_errno(-PS_E_NOTFOUND, "%s has no %s: is Apache installed? Install it or pass "
                                               "--user=USER",
                                               unit, apache_main_file(layout));
                if (r < 0)
                        return log_error_errno(-PS_E_NOTFOUND, "cannot read the run user of %s from its configuration: "
                                               "%s; pass --user=USER",
                                               unit, reason ? reason : strerror(-r));
                return 0;
        }
        bool dynamic = false, found = true;
        char *user = NULL;
        int r;
        if (!x->root && bus_systemd_running())
                r = bus_unit_user(unit, &found, &user, &dynamic);
        else
                r = unit_file_user(x->rootfd, unit, &user, &dynamic);
        if (r == -PS_E_NOTFOUND || !found)
                return log_error_errno(-PS_E_NOTFOUND, "service %s does not exist: install it first, or name another "
                                       "with --service=UNIT",
                                       unit);
        if (r < 0)
                return log_error_errno(r, "cannot read User= of %s: %s; pass --user=USER", unit, strerror(-r));
        if (dynamic) {
                free(user);
                log_error("%s uses DynamicUser=: its user exists only while it runs, so it cannot be given access "
                          "ahead of time; pass --user=USER with a real user",
                          unit);
                return -PS_E_INVALID;
        }
        if (!user)
                return log_error_errno(-PS_E_INVALID, "%s has no User= and runs as root: pyshare gives read access to "
                                       "an unprivileged service user; pass --user=USER",
                                       unit);
        *ret = user;
        return 0;
}

static int check_service_exists(const struct ctx *x, const char *unit)
{
        bool exists = false;
        int r;
        if (!x->root && bus_systemd_running()) {
                _cleanup_free_ char *u = NULL;
                bool dyn;
                r = bus_unit_user(unit, &exists, &u, &dyn);
        } else
                r = unit_file_exists(x->rootfd, unit, &exists);
        if (r >= 0 && !exists)
                return log_error_errno(-PS_E_NOTFOUND, "service %s does not exist: install it first, or name another "
                                       "with --service=UNIT",
                                       unit);
        return 0;
}

/* What setup works on, from the first step to the last. */
struct setup {
        const struct ctx *x;
        const struct setup_opts *o;
        const char *name;
        struct app a;
        struct app_config vendor, etc_prev; /* the package's settings, /etc's before this run */
        bool have_vendor;
        char **wired; /* the services the app is wired into now: setup may move it */
        char **proposed; /* users added because a WSGIDaemonProcess of the venv runs as them */
        char *unit, *sv;
        int pfd;
        enum venv_state vs;
        struct perms_stats st;
        struct actions acts;
        char **pythonpath;
        struct planned_app planned; /* x->planned while the files are written */
        bool group_created;
        const char *venv_action; /* created, recreated, adopted, or NULL: kept */
        bool changed_tree, dropin_changed, env_changed, old_dropin, cgi_changed, watch_changed, wsgi_changed;
        const char *reload_state, *restart_state;
        enum wsgi_configtest wsgi_test;
        char *wsgi_conf; /* the app's Apache conf when it runs in a daemon process of its own */
        struct conflict *conflicts; /* the import names this app shares with others of the service */
        size_t n_conflicts;
};

static void setup_free(struct setup *s)
{
        app_free(&s->a);
        config_free(&s->vendor);
        config_free(&s->etc_prev);
        strv_free(s->wired);
        strv_free(s->proposed);
        free(s->unit);
        free(s->sv);
        free(s->wsgi_conf);
        conflicts_free(s->conflicts, s->n_conflicts);
        closep(&s->pfd);
        perms_stats_free(&s->st);
        actions_free(&s->acts);
        strv_free(s->pythonpath);
}

static void set_str(char **field, const char *value)
{
        if (!value)
                return;
        free(*field);
        *field = xstrdup(value);
}

/* The settings: the package's, /etc's over them, the options over both, then the defaults. */
static int setup_settings(struct setup *s)
{
        const struct ctx *x = s->x;
        const struct setup_opts *o = s->o;
        struct app_config *c = &s->a.cfg;
        bool have_etc;
        int r;
        if ((r = load_vendor_config(x, s->name, o->from, &s->vendor, &s->have_vendor)) < 0 ||
            (r = load_etc_config(x, s->name, &s->etc_prev, &have_etc)) < 0)
                return r;
        config_overlay(c, &s->vendor);
        config_overlay(c, &s->etc_prev);
        s->wired = services_listing(x, s->name);
        set_str(&c->python, o->python);
        set_str(&c->group, o->group);
        set_str(&c->service, o->service);
        set_str(&c->prefix, o->prefix);
        set_str(&c->wsgi_script, o->wsgi_script);
        set_str(&c->url, o->url);
        if (c->wsgi_script && !c->url)
                c->url = xasprintf("/%s", s->name);
        app_config_defaults(x, c);
        s->unit = xstrdup(c->service);
        if (o->cgi >= 0)
                c->cgi = o->cgi ? CFG_YES : CFG_NO;
        if (o->watch >= 0)
                c->watch = o->watch ? CFG_YES : CFG_NO;
        if (o->modules) {
                strv_free(c->modules);
                c->modules = NULL;
                for (size_t i = 0; o->modules[i]; i++)
                        if (!strv_contains(c->modules, o->modules[i]))
                                strv_push(&c->modules, o->modules[i]);
        }
        app_paths(&s->a);
        s->sv = shown(x, s->a.venv);
        return 0;
}

/* The user and the group: looked up, and refused when unsafe. */
static int setup_ids(struct setup *s)
{
        const struct ctx *x = s->x;
        struct app *a = &s->a;
        int r;
        if (s->o->user) {
                set_str(&a->cfg.user, s->o->user);
                strv_free(a->cfg.more_users);
                a->cfg.more_users = NULL;
                for (size_t i = 0; s->o->more_users && s->o->more_users[i]; i++)
                        if (strcmp(s->o->more_users[i], a->cfg.user) != 0 &&
                            !strv_contains(a->cfg.more_users, s->o->more_users[i]))
                                strv_push(&a->cfg.more_users, s->o->more_users[i]);
        } else if (!a->cfg.user || (s->wired && !strv_contains(s->wired, s->unit))) {
                free(a->cfg.user);
                a->cfg.user = NULL;
                if ((r = detect_user(x, s->unit, &a->cfg.user)) < 0)
                        return r;
                if (!user_name_valid(a->cfg.user))
                        return log_error_errno(-PS_E_INVALID, "%s runs as '%s', a name pyshare does not accept; pass "
                                               "--user=USER",
                                               s->unit, a->cfg.user);
        }
        int rootfd = ids_root(x);
        r = user_lookup(rootfd, a->cfg.user, &a->user);
        if (r == -PS_E_NOTFOUND)
                return log_error_errno(r, "user %s does not exist%s: create it, or pass --user=USER",
                                       a->cfg.user, x->root ? " in the image" : "");
        if (r < 0)
                return log_error_errno(r, "cannot look up user %s: %s", a->cfg.user, strerror(-r));
        a->have_user = true;
        r = group_lookup(rootfd, a->cfg.group, &a->gid, NULL);
        if (r == -PS_E_NOTFOUND && x->root)
                return log_error_errno(r, "group %s does not exist in the image: create it there first (chroot %s "
                                       "groupadd --system %s)",
                                       a->cfg.group, x->root, a->cfg.group);
        if (r < 0 && r != -PS_E_NOTFOUND)
                return log_error_errno(r, "cannot look up group %s: %s", a->cfg.group, strerror(-r));
        a->group_exists = r >= 0;
        app_propose_daemon_users(x, a, s->unit, s->sv, &s->proposed);
        if ((r = app_lookup_more_users(x, a, "create it, or leave it out of the --user options")) < 0 ||
            (r = refuse_unsafe_ids(x, a)) < 0)
                return r;
        return refuse_unit_groups(x, a, s->unit);
}

/* A venv (or the Python that would build it) that the service's Python cannot import is not
 * wired: --python decides only where the service is not mod_wsgi (issue 14). */
static int setup_python(struct setup *s)
{
        const struct ctx *x = s->x;
        _cleanup_(pycheck_free) struct pycheck pc = {0};
        int r = pycheck_app(x->rootfd, s->name, s->unit, s->a.venv_rel, s->a.venv, s->a.cfg.python, s->o->python != NULL,
                            &pc);
        if (r < 0)
                return 0; /* what cannot be read here, status and the probe say */
        if (pc.mismatch) {
                log_set_error_cause("python-mismatch");
                return log_error_errno(-PS_E_INVALID, "%s; setup does not wire a virtualenv that the service's Python "
                                       "cannot import",
                                       pc.mismatch);
        }
        _cleanup_free_ char *resolved = NULL, *have = NULL;
        if (!pc.want || pc.venv.version || pyversion_of_program(x->rootfd, s->a.cfg.python, &resolved, &have) < 0 ||
            !have || strcmp(have, pc.want) == 0)
                return 0;
        return log_error_errno(-PS_E_INVALID, "%s is Python %s, but %s: a virtualenv it builds cannot be imported "
                               "there; pass --python=PATH of a Python %s",
                               s->a.cfg.python, have, pc.want_source, pc.want);
}

/* Everything is checked before anything changes. */
static int setup_resolve(struct setup *s)
{
        const struct ctx *x = s->x;
        int r = setup_settings(s);
        if (r < 0)
                return r;
        struct stat pst;
        _cleanup_free_ char *py_shown = shown(x, s->a.cfg.python);
        if (fstatat(x->rootfd, s->a.cfg.python + 1, &pst, 0) < 0) {
                if (errno == ENOENT && strcmp(s->a.cfg.python, DEFAULT_PYTHON) != 0)
                        return log_error_errno(-PS_E_NOTFOUND, "Python %s does not exist: name an installed Python "
                                               "with --python=PATH (ls /usr/bin/python3*), or leave --python out for %s",
                                               py_shown, DEFAULT_PYTHON);
                if (errno == ENOENT)
                        return log_error_errno(-PS_E_NOTFOUND, "Python %s does not exist: install it (apt-get install "
                                               "python3 python3-venv) or pass --python=PATH",
                                               py_shown);
                return log_error_errno(-PS_E_NOTFOUND, "cannot look at Python %s: %s", py_shown, strerror(errno));
        }
        if (!S_ISREG(pst.st_mode) || !(pst.st_mode & 0111))
                return log_error_errno(-PS_E_NOTFOUND, "Python %s is not an executable file: pass --python=PATH "
                                       "naming the Python program",
                                       py_shown);
        if ((r = check_service_exists(x, s->unit)) < 0)
                return r;
        if (s->a.cfg.cgi == CFG_YES && !unit_apache_command(s->unit))
                return log_error_errno(-PS_E_INVALID, "--cgi makes Apache pass PYTHONPATH to CGI scripts; %s is not "
                                       "Apache (apache2 or httpd)",
                                       s->unit);
        if (s->a.cfg.url && !s->a.cfg.wsgi_script)
                return log_error_errno(-PS_E_INVALID, "--url=%s needs --wsgi-script=PATH (or WSGIScript= in the "
                                       "settings): it is where Apache mounts that script",
                                       s->a.cfg.url);
        if ((r = setup_ids(s)) < 0 || (r = setup_python(s)) < 0)
                return r;
        return s->a.cfg.wsgi_script ? wsgi_daemon_check(x, &s->a) : 0;
}

/* The deploy group, created as a system group when it does not exist. */
static int setup_group(struct setup *s)
{
        struct app *a = &s->a;
        if (a->group_exists)
                return 0;
        s->group_created = true;
        if (s->x->dry_run) {
                log_info("would create the system group %s", a->cfg.group);
                s->changed_tree = true;
                return 0;
        }
        _cleanup_free_ char *out = NULL;
        int r = group_create_system(a->cfg.group, &out);
        if (r < 0)
                return log_error_errno(r, "cannot create group %s with groupadd: %s",
                                       a->cfg.group, out ? strstrip(out) : strerror(-r));
        if ((r = group_lookup(-1, a->cfg.group, &a->gid, NULL)) < 0)
                return log_error_errno(r, "group %s was created but cannot be found", a->cfg.group);
        log_info("created the system group %s (gid %u)", a->cfg.group, (unsigned)a->gid);
        s->changed_tree = true;
        return 0;
}

/* The prefix and the venv: created, recreated after an interruption, or adopted. */
static int setup_venv(struct setup *s)
{
        const struct ctx *x = s->x;
        const char *app = s->name, *python = s->a.cfg.python;
        int r = prepare_prefix(x, s->a.cfg.prefix, &s->pfd);
        if (r < 0)
                return r;
        /* A rebuild rolled back here leaves the old venv: judged again before it is wired. */
        if (s->pfd >= 0 && (r = rebuild_recover(x, &s->a, s->pfd)) < 0)
                return r;
        if (r > 0 && (r = setup_python(s)) < 0)
                return r;
        s->vs = VENV_MISSING;
        if (s->pfd >= 0 && (r = venv_state(s->pfd, app, &s->vs)) < 0)
                return log_error_errno(r, "cannot look at %s: %s", s->a.venv, strerror(-r));
        if (s->vs == VENV_NOT_A_VENV)
                return log_error_errno(-EEXIST, "%s exists and is not a virtualenv: move it away, or choose another "
                                       "app name or --prefix",
                                       s->sv);
        if (s->vs == VENV_MISSING || s->vs == VENV_INCOMPLETE) {
                s->venv_action = s->vs == VENV_INCOMPLETE ? "recreated" : "created";
                s->changed_tree = true;
                if (x->dry_run) {
                        log_info("would %s the virtualenv %s with %s",
                                 s->vs == VENV_INCOMPLETE ? "recreate (interrupted before)" : "create", s->sv, python);
                        return 0;
                }
                long long t0 = now_ms();
                _cleanup_free_ char *out = NULL;
                r = venv_create(s->pfd, app, s->a.venv, python, x->root, &out);
                if (r < 0)
                        return log_error_errno(r, "cannot create the virtualenv %s with %s -m venv: %s%s%s",
                                               s->sv, python, strerror(-r), out ? "\n" : "", out ? strstrip(out) : "");
                log_info("created the virtualenv %s with %s (%lld ms)", s->sv, python, now_ms() - t0);
        } else if (s->vs == VENV_FOREIGN) {
                s->venv_action = "adopted";
                s->changed_tree = true;
                if (x->dry_run)
                        return 0; /* said by check_foreign_venv */
                _cleanup_close_ int vfd = openat(s->pfd, app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (vfd < 0 || venv_marker_write(vfd, VENV_ORIGIN_ADOPTED) < 0)
                        return log_error_errno(-EIO, "cannot adopt %s: %s", s->sv, strerror(errno));
                log_info("adopted the existing virtualenv %s", s->sv);
        }
        return 0;
}

/* A venv at PREFIX/APP that pyshare did not create: refused, or with --adopt taken over once
 * its Python is the one setup is told to use (pyvenv.cfg's home). Checked before any change. */
static int check_foreign_venv(struct setup *s, int prefixfd)
{
        enum venv_state vs = VENV_MISSING;
        if (prefixfd < 0 || venv_state(prefixfd, s->name, &vs) < 0 || vs != VENV_FOREIGN)
                return 0;
        if (!s->o->adopt)
                return log_error_errno(-EEXIST, "%s is a virtualenv that pyshare did not create: pass --adopt to take "
                                       "it over (its owner, group, modes and ACLs change; remove --purge leaves its "
                                       "files), or choose another app name or --prefix",
                                       s->sv);
        _cleanup_close_ int vfd = openat(prefixfd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *text = NULL, *home = NULL, *want = xstrdup(s->a.cfg.python);
        if (vfd < 0 || file_read_at(vfd, "pyvenv.cfg", 64 * 1024, &text, NULL, NULL) < 0)
                return log_error_errno(-PS_E_INVALID, "cannot read %s/pyvenv.cfg: --adopt needs to know its Python",
                                       s->sv);
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(l, '=');
                if (eq && (*eq = 0, strcmp(strstrip(l), "home") == 0))
                        set_str(&home, strstrip(eq + 1));
        }
        *strrchr(want, '/') = 0;
        if (!home || strcmp(home, *want ? want : "/") != 0)
                return log_error_errno(-PS_E_INVALID, "%s was made with the Python in %s (pyvenv.cfg's home), not %s: "
                                       "pass --python=%s/python3 to adopt it, or move it away and let setup create "
                                       "one",
                                       s->sv, home ? home : "(none)", s->a.cfg.python, home ? home : "DIR");
        if (s->x->dry_run)
                log_info("would adopt %s (made with %s): write its marker %s saying so (remove --purge then leaves "
                         "its files), set its owner root:%s, set-gid directories, modes and ACLs (below)",
                         s->sv, home, VENV_MARKER, s->a.cfg.group);
        return 0;
}

/* Owners, modes and ACLs; the package's requirements by pip as _pyshare, then the walk again
 * for what pip wrote. */
static int setup_tree(struct setup *s)
{
        const struct ctx *x = s->x;
        struct app *a = &s->a;
        bool no_venv_yet = x->dry_run && (s->vs == VENV_MISSING || s->vs == VENV_INCOMPLETE);
        if (s->pfd < 0 || no_venv_yet) {
                if (x->dry_run)
                        log_info("would set owner root:%s, modes and ACLs (u:%s:r-x, g:%s:rwx, defaults) on %s",
                                 a->cfg.group, a->user.name, a->cfg.group, s->sv);
                return 0;
        }
        int r = apply_tree(x, a, &s->st);
        if (r < 0)
                return r;
        if (s->st.changed)
                s->changed_tree = true;
        if (s->st.changed || x->dry_run)
                print_perms_stats(x, &s->st);
        bool installed = false;
        if ((r = install_requirements(x, a, &installed)) < 0)
                return r;
        if (installed && !x->dry_run) {
                s->changed_tree = true;
                perms_stats_free(&s->st);
                s->st = (struct perms_stats){0};
                return apply_tree(x, a, &s->st);
        }
        return 0;
}

/* /etc/pyshare/APP.conf, the app's env file, the service's env file and drop-in, tmpfiles.d;
 * an app moved to another service is taken out of the old one's files. */
static int setup_files(struct setup *s)
{
        const struct ctx *x = s->x;
        const struct setup_opts *o = s->o;
        struct app *a = &s->a;
        struct pth_info pth = {0};
        if (venv_pythonpath(x, a, &s->pythonpath, &pth) < 0) {
                if (!x->dry_run)
                        return log_error_errno(-ENOENT, "cannot find site-packages in %s: is it a virtualenv of Python "
                                               "3?",
                                               s->sv);
                strv_consume(&s->pythonpath, xasprintf("%s/lib/python3.X/site-packages", a->venv));
        }
        report_pth(&pth);
        s->planned.pythonpath = s->pythonpath;
        char **pythonpath = s->pythonpath;

        const struct app_config given = {
                .python = (char *)o->python, .group = (char *)o->group, .prefix = (char *)o->prefix,
                .service = o->service ? s->unit : NULL, .user = (char *)o->user, .more_users = o->more_users,
                .modules = o->modules ? a->cfg.modules : NULL,
                .cgi = o->cgi >= 0 ? a->cfg.cgi : CFG_UNSET, .watch = o->watch >= 0 ? a->cfg.watch : CFG_UNSET,
                .wsgi_script = (char *)o->wsgi_script, .url = o->wsgi_script || o->url ? a->cfg.url : NULL,
        };
        _cleanup_config_ struct app_config own = {0};
        app_config_to_keep(&a->cfg, s->have_vendor ? &s->vendor : NULL, &s->etc_prev, &given, &own);
        if (s->proposed) { /* found on the server: kept, so that repair gives them access too */
                free(own.user);
                own.user = xstrdup(a->cfg.user);
                strv_free(own.more_users);
                own.more_users = strv_copy(a->cfg.more_users);
        }
        _cleanup_free_ char *conf = config_format(&own), *envtext = NULL;
        _cleanup_free_ char *conf_name = xasprintf("%s.conf", s->name), *env_name = xasprintf("%s.env", s->name);
        _cleanup_free_ char *tmpfiles_name = xasprintf("pyshare-%s.conf", s->name);
        _cleanup_strv_ char **users = config_users(&a->cfg);
        _cleanup_free_ char *tmpfiles = unit_tmpfiles_text(s->name, a->venv, users, a->cfg.group);
        int r;
        if ((r = app_env_check(x, a, s->unit, pythonpath, &envtext)) < 0 ||
            (r = write_file(x, ETC_DIR, conf_name, conf, &s->acts)) < 0 ||
            (r = write_file(x, ETC_DIR, env_name, envtext, &s->acts)) < 0 ||
            (r = write_service_files(x, s->unit, NULL, &s->acts, &s->dropin_changed, &s->env_changed)) < 0 ||
            (r = write_file(x, TMPFILES_DIR, tmpfiles_name, tmpfiles, &s->acts)) < 0)
                return r;
        for (size_t i = 0; s->wired && s->wired[i]; i++) {
                bool d = false, e = false;
                if (strcmp(s->wired[i], s->unit) == 0)
                        continue;
                if ((r = write_service_files(x, s->wired[i], NULL, &s->acts, &d, &e)) < 0)
                        return r;
                s->old_dropin = s->old_dropin || d;
        }
        return 0;
}

/* Apache's CGI conf, the repair path unit, daemon-reload, the restart (or the hint). */
static int setup_service(struct setup *s)
{
        const struct ctx *x = s->x;
        bool watch = s->a.cfg.watch == CFG_YES;
        int r;
        if ((r = update_cgi_conf(x, NULL, &s->acts, &s->cgi_changed)) < 0 ||
            (r = update_watch(x, &s->a, watch, &s->acts, &s->watch_changed)) < 0)
                return r;
        reload_systemd(x, s->dropin_changed || s->old_dropin || s->watch_changed, &s->reload_state);
        if (s->watch_changed && watch && !x->dry_run && !x->root && bus_systemd_running()) {
                _cleanup_free_ char *path_unit = xasprintf("pyshare-repair@%s.path", s->name);
                if ((r = bus_start_unit(path_unit)) < 0)
                        log_warning("cannot start %s: %s; run `systemctl start %s`", path_unit, strerror(-r), path_unit);
                else
                        log_info("started %s: pip installs into %s are repaired without a command", path_unit,
                                 s->a.venv);
        }
        const char *changed = s->env_changed || s->dropin_changed   ? "environment"
                              : s->cgi_changed || s->wsgi_changed ? "configuration"
                                                                  : NULL;
        return restart_or_hint(x, s->unit, s->o->restart, changed, &s->restart_state);
}

/* Import names another app of the service provides too: which copy wins, and the fix. */
static void setup_conflicts(struct setup *s)
{
        if (s->x->dry_run || service_conflicts(s->x, s->unit, &s->conflicts, &s->n_conflicts) < 0)
                return;
        for (size_t i = 0; i < s->n_conflicts; i++) {
                const struct conflict *c = &s->conflicts[i];
                if (!conflict_involves(c, s->name))
                        continue;
                _cleanup_free_ char *text = conflict_text(c, s->unit);
                if (c->versions_differ)
                        log_warning("conflict: %s", text);
                else
                        log_notice("same version in both, so nothing differs yet: %s", text);
        }
}

/* The closing line, or the JSON object without its end (the probe may add to it). */
static void setup_report(struct setup *s, struct json *j)
{
        const struct ctx *x = s->x;
        bool anything = s->changed_tree || s->acts.changed;
        if (!x->json) {
                log_info("%s %s: %s", x->dry_run ? "plan for setup" : "setup", s->name,
                         x->dry_run ? (anything ? "the changes above would be made; nothing was changed"
                                                : "nothing to change")
                                    : (anything ? "done" : "nothing to change, everything was already in place"));
                return;
        }
        json_obj_begin(j, NULL);
        json_str(j, "app", s->name);
        json_bool(j, "dry_run", x->dry_run);
        json_bool(j, "changed", anything);
        json_str(j, "venv", s->a.venv);
        json_str(j, "service", s->unit);
        json_str(j, "user", s->a.user.name);
        _cleanup_strv_ char **users = config_users(&s->a.cfg);
        json_strv(j, "users", users);
        json_str(j, "group", s->a.cfg.group);
        json_bool(j, "group_created", s->group_created);
        json_str(j, "venv_action", s->venv_action ? s->venv_action : "kept");
        json_strv(j, "files_changed", s->acts.changed);
        json_strv(j, "files_unchanged", s->acts.unchanged);
        json_obj_begin(j, "permissions");
        json_perms_stats(j, &s->st);
        json_obj_end(j);
        json_str(j, "reload", s->reload_state);
        json_str(j, "restart", s->restart_state);
        if (s->a.cfg.wsgi_script) {
                json_str(j, "wsgi_conf", s->wsgi_conf);
                json_str(j, "configtest", wsgi_configtest_name(s->wsgi_test));
        }
        conflicts_json(j, "conflicts", s->conflicts, s->n_conflicts, s->name, s->unit);
        json_diffs(j, x, &s->acts);
}

/* resolve -> lock -> group -> venv -> tree -> files -> service -> report -> probe. */
int verb_setup(struct ctx *x, const char *app_name, const struct setup_opts *o)
{
        int r = check_setup_names(app_name, o);
        if (r < 0 || (r = need_root(x, "setup", app_name)) < 0)
                return r;
        log_set_app(app_name);

        /* Its own copy of the context: wiring reads the app being set up from px.planned. */
        struct ctx px = *x;
        _cleanup_(setup_free) struct setup s = {.x = &px, .o = o, .name = app_name, .a = {.name = app_name}, .pfd = -1};
        _cleanup_close_ int lockfd = -1, checked_prefix = -1;
        if ((r = setup_resolve(&s)) < 0 || (r = take_lock(x, &lockfd)) < 0 ||
            (r = open_prefix(x, s.a.cfg.prefix, PREFIX_OPEN_CHECK, &checked_prefix)) < 0 ||
            (r = check_acl_support(x, s.a.cfg.prefix)) < 0 || (r = check_foreign_venv(&s, checked_prefix)) < 0)
                return r;
        _cleanup_free_ char *readers = s.a.cfg.more_users ? strv_join(s.a.cfg.more_users, ", ") : NULL;
        _cleanup_free_ char *also = readers ? xasprintf(" (also read by %s)", readers) : xstrdup("");
        log_info("%s %s: venv %s, service %s, user %s%s, group %s", x->dry_run ? "plan for setup" : "setup", app_name,
                 s.a.venv, s.unit, s.a.user.name, also, s.a.cfg.group);
        s.planned = (struct planned_app){.name = app_name, .cfg = &s.a.cfg};
        px.planned = &s.planned;
        if ((r = setup_group(&s)) < 0 || (r = setup_venv(&s)) < 0 || (r = setup_tree(&s)) < 0 ||
            (r = wsgi_daemon_update(x, &s.a, s.a.cfg.wsgi_script, &s.acts, &s.wsgi_changed, &s.wsgi_test,
                                    &s.wsgi_conf)) < 0 ||
            (r = setup_files(&s)) < 0 || (r = setup_service(&s)) < 0)
                return r;
        setup_conflicts(&s);

        struct json j = {0};
        setup_report(&s, &j);
        int result = 0;
        if (o->no_probe || x->dry_run || x->root) {
                if (x->root && !o->no_probe)
                        log_info("not probing inside an image: run `pyshare probe %s` in it once it runs", app_name);
        } else
                result = run_probe(x, &s.a, NULL, false, 30, false, x->json ? &j : NULL, "probe");
        if (x->json) {
                json_obj_end(&j);
                json_flush(&j);
        }
        return result;
}
