/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "app.h"
#include "bus.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "pip.h"
#include "service.h"
#include "similar.h"
#include "units.h"
#include "users.h"
#include "venv.h"

#include <fcntl.h>
#include <sys/stat.h>

void app_free(struct app *a)
{
        config_free(&a->cfg);
        ps_user_free(&a->user);
        for (size_t i = 0; i < a->n_more; i++)
                ps_user_free(&a->more_users[i]);
        free(a->more_users);
        free(a->venv);
        free(a->venv_rel);
        free(a->prefix_rel);
}

const char *default_service(const struct ctx *x) { return unit_default_service(x->rootfd); }

void app_config_defaults(const struct ctx *x, struct app_config *c)
{
        if (!c->python)
                c->python = xstrdup(DEFAULT_PYTHON);
        if (!c->group)
                c->group = xstrdup(DEFAULT_GROUP);
        if (!c->service)
                c->service = xstrdup(default_service(x));
        if (!c->prefix)
                c->prefix = xstrdup(DEFAULT_PREFIX);
        /* Validated when read or given: normalising cannot fail. */
        _cleanup_free_ char *unit = NULL;
        if (unit_name_normalize(c->service, &unit) >= 0) {
                free(c->service);
                c->service = TAKE_PTR(unit);
        }
}

void app_config_to_keep(const struct app_config *cfg, const struct app_config *vendor,
                        const struct app_config *etc_prev, const struct app_config *given, struct app_config *own)
{
        if (!vendor) {
                config_overlay(own, cfg);
                return;
        }
        config_overlay(own, etc_prev);
        config_overlay(own, given);
        if (!vendor->user && (!own->user || !given->user)) {
                free(own->user);
                own->user = xstrdup(cfg->user); /* detected again for a new service */
        }
        config_subtract(own, vendor);
}

char *shown(const struct ctx *x, const char *path)
{
        if (!x->root)
                return xstrdup(path);
        return xasprintf("%s%s", x->root, path);
}

int ids_root(const struct ctx *x) { return x->root ? x->rootfd : -1; }

int need_root(const struct ctx *x, const char *verb, const char *app)
{
        if (geteuid() == 0 || x->dry_run)
                return 0;
        log_error("pyshare %s changes files that only root may change: run it as root (sudo pyshare %s %s), "
                  "or add --dry-run to see the plan",
                  verb, verb, app ? app : "");
        return -PS_E_NOTROOT;
}

int check_app_name(const char *app)
{
        if (app_name_valid(app))
                return 0;
        log_error("invalid app name '%s': use 1 to 63 characters of a-z, 0-9, '-' and '_', starting with a "
                  "letter or digit",
                  app);
        return -PS_E_USAGE;
}

static void lock_waiting(void) { log_notice("another pyshare is running; waiting for it to finish (%s)", LOCK_PATH); }

int take_lock(const struct ctx *x, int *ret_fd)
{
        *ret_fd = -1;
        if (x->dry_run)
                return 0;
        int r = lock_take(LOCK_PATH, x->lock_timeout, lock_waiting, ret_fd);
        if (r == -ETIMEDOUT)
                return log_error_errno(r, "another pyshare still holds %s after %d s; try again when it has finished",
                                       LOCK_PATH, x->lock_timeout);
        if (r < 0) {
                log_error("cannot take the lock %s: %s", LOCK_PATH, strerror(-r));
                return r;
        }
        /* Every pip unit starts under this lock: one still running outlived the pyshare that
         * was killed (SIGKILL) while it ran, and would go on writing into a venv that a
         * rebuild's roll-back, a repair or a setup is about to change. */
        _cleanup_strv_ char **stopped = NULL;
        int k = x->root ? 0 : pip_stop_leftovers(&stopped);
        if (k < 0)
                log_warning("cannot stop what is left of the pip of a pyshare that was killed (systemctl list-units "
                            "'pyshare-pip-*'): %s",
                            strerror(-k));
        for (size_t i = 0; stopped && stopped[i]; i++)
                log_warning("stopped %s: a pip left running by a pyshare that was killed", stopped[i]);
        return r;
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Loads one config file below the root: it must be root's and not writable by others (it
 * decides what root does). *ret_exists false when there is none. */
static int load_config_file(const struct ctx *x, const char *dir_rel, const char *name, struct app_config *c,
                            bool *ret_exists)
{
        _cleanup_free_ char *path = xasprintf("/%s/%s", dir_rel, name), *sp = shown(x, path);
        _cleanup_close_ int dfd = -1;
        *ret_exists = false;
        int r = dir_open(x->rootfd, dir_rel, NULL, &dfd, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "cannot open %s: %s", sp, strerror(-r));
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct stat st;
        r = file_read_at(dfd, name, CONFIG_MAX_SIZE, &text, &len, &st);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r == -EINVAL || r == -EFBIG ? -PS_E_INVALID : r, "cannot read %s: %s",
                                       sp, r == -EINVAL ? "not a regular file" : strerror(-r));
        if (st.st_uid != 0 || (st.st_mode & 0022))
                return log_error_errno(-PS_E_INVALID, "%s is not owned by root or is writable by others: pyshare does "
                                       "not trust it; chown root:root and chmod 644 it after checking its content",
                                       sp);
        unsigned line = 0;
        const char *why = NULL, *key = NULL;
        r = config_parse(text, len, c, &line, &why);
        if (r < 0)
                return log_error_errno(-PS_E_INVALID, "%s:%u: %s", sp, line, why);
        if (config_validate(c, &key) < 0)
                return log_error_errno(-PS_E_INVALID, "%s: invalid %s= value", sp, key);
        *ret_exists = true;
        return 0;
}

int load_etc_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists)
{
        _cleanup_free_ char *name = xasprintf("%s.conf", app);
        return load_config_file(x, ETC_DIR, name, c, ret_exists);
}

/* The settings of an app that is set up (/etc/pyshare/APP.conf exists), with the package's
 * settings under them. */
int load_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists)
{
        _cleanup_config_ struct app_config vendor = {0}, etc = {0};
        bool v;
        int r = load_etc_config(x, app, &etc, ret_exists);
        if (r < 0 || !*ret_exists || (r = load_vendor_config(x, app, NULL, &vendor, &v)) < 0)
                return r;
        config_overlay(c, &vendor);
        config_overlay(c, &etc);
        return 0;
}

/* A package's declarative settings: --from FILE, or /usr/lib/pyshare/APP.conf. */
int load_vendor_config(const struct ctx *x, const char *app, const char *from, struct app_config *c,
                       bool *ret_exists)
{
        if (!from) {
                _cleanup_free_ char *name = xasprintf("%s.conf", app);
                return load_config_file(x, VENDOR_DIR, name, c, ret_exists);
        }
        _cleanup_free_ char *copy = xstrdup(from);
        char *slash = strrchr(copy, '/');
        *slash = 0;
        int r = load_config_file(x, *copy ? copy + 1 : ".", slash + 1, c, ret_exists);
        if (r >= 0 && !*ret_exists) {
                _cleanup_free_ char *sp = shown(x, from);
                log_error("--from=%s: no such file", sp);
                return -PS_E_NOTFOUND;
        }
        return r;
}

/* The settings of an app: the package's, overridden by /etc/pyshare/APP.conf. */
static int load_merged_config(const struct ctx *x, const char *app, const char *from, struct app_config *merged,
                              struct app_config *vendor, bool *ret_exists)
{
        bool v = false, e = false;
        _cleanup_config_ struct app_config etc = {0};
        int r = load_vendor_config(x, app, from, vendor, &v);
        if (r < 0 || (r = load_etc_config(x, app, &etc, &e)) < 0)
                return r;
        config_overlay(merged, vendor);
        config_overlay(merged, &etc);
        *ret_exists = v || e;
        return 0;
}

static int require_config(const struct ctx *x, const char *app, struct app_config *c)
{
        bool exists;
        _cleanup_config_ struct app_config vendor = {0};
        int r = load_merged_config(x, app, NULL, c, &vendor, &exists);
        if (r < 0)
                return r;
        if (!exists) {
                _cleanup_free_ char *sp = shown(x, "/" ETC_DIR);
                /* A typo of an app that is set up is likelier than a wish to set up a new one. */
                _cleanup_strv_ char **apps = NULL;
                const char *near = list_apps(x, &apps) >= 0 ? name_nearest(app, apps) : NULL;
                if (near)
                        log_error("%s is not set up (there is no %s/%s.conf): did you mean %s? "
                                  "Otherwise run `pyshare setup %s` first",
                                  app, sp, app, near, app);
                else
                        log_error("%s is not set up: there is no %s/%s.conf; run `pyshare setup %s` first", app, sp,
                                  app, app);
                return -PS_E_NOTFOUND;
        }
        app_config_defaults(x, c);
        if (!c->user)
                return log_error_errno(-PS_E_INVALID, "%s/%s.conf has no User=; run `pyshare setup %s` again",
                                       ETC_DIR, app, app);
        return 0;
}

int app_settings(const struct ctx *x, const char *app, struct app_config *c)
{
        bool exists;
        if (load_config(x, app, c, &exists) < 0 || !exists)
                return 0;
        app_config_defaults(x, c);
        return 1;
}

void app_paths(struct app *a)
{
        a->venv = xasprintf("%s/%s", a->cfg.prefix, a->name);
        a->venv_rel = xstrdup(a->venv + 1);
        a->prefix_rel = xstrdup(a->cfg.prefix + 1);
}

/* The service user may not be root, the deploy group not the root group, and the service user
 * not a member of the deploy group: each would give it, or the group, what it must not have.
 * Checked by every verb, since /etc/pyshare and the group database can change after setup. */
static int refuse_unsafe_user(const struct ctx *x, const struct app *a, const struct ps_user *u)
{
        if (u->uid == 0)
                return log_error_errno(-PS_E_INVALID, "user %s has uid 0: pyshare does not set up environments for "
                                       "root; pass --user=USER",
                                       u->name);
        if (!a->group_exists)
                return 0;
        bool member = false;
        int r = user_in_group(ids_root(x), u, a->gid, &member);
        if (r < 0)
                return log_error_errno(r, "cannot read the groups of %s: %s", u->name, strerror(-r));
        if (member)
                return log_error_errno(-PS_E_INVALID, "%s is a member of %s: it would get write access to the "
                                       "environment; remove it from the group (gpasswd -d %s %s) or choose another "
                                       "--group",
                                       u->name, a->cfg.group, u->name, a->cfg.group);
        return 0;
}

int refuse_unsafe_ids(const struct ctx *x, struct app *a)
{
        if (a->group_exists && a->gid == 0 && a->user.uid != 0)
                return log_error_errno(-PS_E_INVALID, "group %s has gid 0: pyshare will not give the root group write "
                                       "access; pass --group=GROUP",
                                       a->cfg.group);
        int r = refuse_unsafe_user(x, a, &a->user);
        for (size_t i = 0; r >= 0 && i < a->n_more; i++)
                r = refuse_unsafe_user(x, a, &a->more_users[i]);
        return r;
}

int app_lookup_more_users(const struct ctx *x, struct app *a, const char *how)
{
        for (size_t i = 0; a->cfg.more_users && a->cfg.more_users[i]; i++) {
                const char *name = a->cfg.more_users[i];
                struct ps_user u = {0};
                int r = user_lookup(ids_root(x), name, &u);
                if (r == -PS_E_NOTFOUND)
                        return log_error_errno(r, "user %s (a reader of %s) does not exist%s; %s", name, a->name,
                                               x->root ? " in the image" : "", how);
                if (r < 0)
                        return log_error_errno(r, "cannot look up user %s: %s", name, strerror(-r));
                bool dup = u.uid == a->user.uid;
                for (size_t j = 0; j < a->n_more; j++)
                        dup = dup || a->more_users[j].uid == u.uid;
                if (dup || a->n_more >= CONFIG_USERS_MAX - 1) {
                        ps_user_free(&u);
                        continue;
                }
                a->more_users = xrealloc(a->more_users, (a->n_more + 1) * sizeof(*a->more_users));
                a->more_users[a->n_more++] = u;
        }
        return 0;
}

size_t app_more_uids(const struct app *a, uid_t *ret, size_t max)
{
        size_t n = 0;
        for (; n < a->n_more && n < max; n++)
                ret[n] = a->more_users[n].uid;
        return n;
}

/* A unit's Group= or SupplementaryGroups= gives its processes a group beyond its user's own:
 * the deploy group there is as bad as the user being a member of it. */
int refuse_unit_groups(const struct ctx *x, const struct app *a, const char *unit)
{
        if (!a->group_exists || unit_apache_command(unit))
                return 0;
        _cleanup_strv_ char **groups = NULL;
        int r = !x->root && bus_systemd_running() ? bus_unit_groups(unit, &groups)
                                                  : unit_file_groups(x->rootfd, unit, &groups);
        if (r < 0)
                return 0; /* a unit that cannot be read was reported already, or is not there yet */
        for (size_t i = 0; groups && groups[i]; i++) {
                gid_t gid;
                if (strcmp(groups[i], a->cfg.group) != 0 &&
                    (group_lookup(ids_root(x), groups[i], &gid, NULL) < 0 || gid != a->gid))
                        continue;
                log_error("%s runs with the group %s (Group= or SupplementaryGroups=): it would get write access to "
                          "the environment; remove it from the unit or choose another --group",
                          unit, a->cfg.group);
                return -PS_E_INVALID;
        }
        return 0;
}

/* Looks up the user and group of a stored app. */
static int resolve_names(const struct ctx *x, struct app *a)
{
        int rootfd = ids_root(x);
        int r = user_lookup(rootfd, a->cfg.user, &a->user);
        if (r < 0) {
                if (r == -PS_E_NOTFOUND)
                        log_error("user %s (User= of %s) does not exist; create it or run `pyshare setup %s --user=USER`",
                                  a->cfg.user, a->name, a->name);
                else
                        log_error("cannot look up user %s: %s", a->cfg.user, strerror(-r));
                return r;
        }
        a->have_user = true;
        r = group_lookup(rootfd, a->cfg.group, &a->gid, NULL);
        if (r < 0) {
                if (r == -PS_E_NOTFOUND)
                        log_error("group %s (Group= of %s) does not exist; run `pyshare setup %s` to create it", a->cfg.group,
                                  a->name, a->name);
                else
                        log_error("cannot look up group %s: %s", a->cfg.group, strerror(-r));
                return r;
        }
        a->group_exists = true;
        _cleanup_free_ char *how = xasprintf("create it, or run `pyshare setup %s` with --user for each user that "
                                             "reads it",
                                             a->name);
        r = app_lookup_more_users(x, a, how);
        return r < 0 ? r : refuse_unsafe_ids(x, a);
}

int load_app(const struct ctx *x, const char *name, struct app *a)
{
        a->name = name;
        int r = require_config(x, name, &a->cfg);
        if (r < 0)
                return r;
        app_paths(a);
        return resolve_names(x, a);
}

int app_open_site_packages(const struct ctx *x, const struct app *a, int *ret_fd, char **ret_rel)
{
        _cleanup_close_ int vfd = -1;
        _cleanup_free_ char *rel = NULL;
        int r = dir_open(x->rootfd, a->venv_rel, NULL, &vfd, NULL);
        if (r < 0 || (r = venv_site_packages(vfd, &rel)) < 0)
                return r;
        int fd = openat(vfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        if (ret_rel)
                *ret_rel = TAKE_PTR(rel);
        return 0;
}

int list_apps(const struct ctx *x, char ***ret)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_strv_ char **names = NULL;
        *ret = NULL;
        int r = dir_open(x->rootfd, ETC_DIR, NULL, &dfd, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || (r = dir_list_at(dfd, ".conf", &names)) < 0)
                return r;
        char **apps = NULL;
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *name = xstrndup(names[i], strlen(names[i]) - strlen(".conf"));
                if (app_name_valid(name))
                        strv_push(&apps, name);
        }
        strv_sort(apps);
        *ret = apps;
        return 0;
}

int report_dir_error(const struct ctx *x, const char *dir_rel, int r, const char *bad)
{
        _cleanup_free_ char *p = xasprintf("/%s", bad ? bad : dir_rel), *sp = shown(x, p);
        if (r == -EPERM)
                log_error("%s is not owned by root or is writable by group or others: pyshare writes only into "
                          "directories that only root can change (chown root:root %s; chmod go-w %s)",
                          sp, sp, sp);
        else if (r == -ENOTDIR)
                log_error("%s is not a directory (or is a symlink): pyshare does not follow it", sp);
        else
                log_error("cannot create or open %s: %s", sp, strerror(-r));
        return r == -EPERM ? -EPERM : r;
}

int begin_change(struct ctx *x, const char *verb, const char *app_name, struct app *a, int *ret_lockfd)
{
        int r = check_app_name(app_name);
        if (r < 0 || (r = need_root(x, verb, app_name)) < 0)
                return r;
        log_set_app(app_name);
        if ((r = load_app(x, app_name, a)) < 0)
                return r;
        return take_lock(x, ret_lockfd);
}

/* Whether an Apache path setting (python-home=, python-path=) names the venv or a path in it. */
static bool names_venv(const char *value, const char *venv, bool list)
{
        _cleanup_strv_ char **paths = list ? apache_split_python_path(value) : NULL;
        if (!list)
                strv_push(&paths, value);
        size_t n = strlen(venv);
        for (size_t i = 0; paths && paths[i]; i++) {
                const char *p = paths[i];
                size_t k = strlen(p);
                while (k > 1 && p[k - 1] == '/')
                        k--;
                if (strncmp(p, venv, n) == 0 && (k == n || p[n] == '/'))
                        return true;
        }
        return false;
}

/* Every user that the enabled Apache configuration runs a WSGIDaemonProcess as whose
 * python-home= or python-path= names the venv reads it too: added to the app's users, saying
 * so (the checks of every user then apply to it). */
void app_propose_daemon_users(const struct ctx *x, struct app *a, const char *unit, const char *shown_venv,
                             char ***proposed)
{
        _cleanup_(service_model_free) struct service_model m = {0};
        if (!unit_apache_command(unit) ||
            service_model_build(x->rootfd, unit, SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES, &m) < 0)
                return;
        for (size_t i = 0; i < m.conf.n_daemons; i++) {
                const struct apache_daemon *d = &m.conf.daemons[i];
                const char *user = service_daemon_user(&m, d);
                bool home = d->python_home && names_venv(d->python_home, a->venv, false);
                if (!user || !(home || (d->python_path && names_venv(d->python_path, a->venv, true))) ||
                    !user_name_valid(user) || strcmp(user, a->cfg.user) == 0 || strv_contains(a->cfg.more_users, user))
                        continue;
                if (strv_length(a->cfg.more_users) + 1 >= CONFIG_USERS_MAX) {
                        log_warning("WSGIDaemonProcess %s (%s) runs as %s, but %s has %d users already: pass the ones "
                                    "it needs with --user",
                                    d->name, d->where, user, a->name, CONFIG_USERS_MAX);
                        continue;
                }
                strv_push(&a->cfg.more_users, user);
                strv_push(proposed, user);
                log_info("%s reads %s too: WSGIDaemonProcess %s (%s) runs as %s with %s=%s", user, shown_venv, d->name,
                         d->where, user, home ? "python-home" : "python-path", home ? d->python_home : d->python_path);
        }
}
