/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "acl.h"
#include "bus.h"
#include "config.h"
#include "envfile.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "perms.h"
#include "pip.h"
#include "probe.h"
#include "prefix.h"
#include "pyembed.h"
#include "units.h"
#include "users.h"
#include "venv.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#define ETC_DIR "etc/pyshare"
#define VENDOR_DIR "usr/lib/pyshare"
#define SERVICES_DIR "etc/pyshare/services"
#define TMPFILES_DIR "etc/tmpfiles.d"
#define SYSTEMD_DIR "etc/systemd/system"
#define DROPIN_NAME "50-pyshare.conf"
#define LOCK_PATH "/run/pyshare.lock"
#define PIP_USER "_pyshare"
#define REQ_STAMP ".pyshare-requirements"
#define DEFAULT_PYTHON "/usr/bin/python3"
#define DEFAULT_GROUP "deploy"
#define DEFAULT_PREFIX "/opt/pyshare"
#define PROBE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PROBE_AS_LIMIT (4ULL << 30)

/* Everything about one app, its settings completed and its names resolved. */
struct app {
        const char *name;
        struct app_config cfg;
        struct ps_user user;
        bool have_user;
        gid_t gid;
        bool group_exists;
        char *venv;      /* PREFIX/APP as the system sees it */
        char *venv_rel;  /* the same relative to the root fd */
        char *prefix_rel;
};

static void app_free(struct app *a)
{
        config_free(&a->cfg);
        ps_user_free(&a->user);
        free(a->venv);
        free(a->venv_rel);
        free(a->prefix_rel);
}
#define _cleanup_app_ _cleanup_(app_free)

/* Files written or removed, for the summary and --json. */
struct actions {
        char **changed, **unchanged;
};

static void actions_free(struct actions *a)
{
        strv_free(a->changed);
        strv_free(a->unchanged);
}
#define _cleanup_actions_ _cleanup_(actions_free)

/* The service of an app whose settings name none: decided on this system (or image). */
static const char *default_service(const struct ctx *x) { return unit_default_service(x->rootfd); }

/* A path as the user finds it on this machine (under --root, below the root). */
static char *shown(const struct ctx *x, const char *path)
{
        if (!x->root)
                return xstrdup(path);
        return xasprintf("%s%s", x->root, path);
}

static char *user_name_of(uid_t uid)
{
        struct passwd *pw = getpwuid(uid);
        return pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
}

static char *group_name_of(gid_t gid)
{
        struct group *gr = getgrgid(gid);
        return gr ? xstrdup(gr->gr_name) : xasprintf("%u", (unsigned)gid);
}

static int need_root(const struct ctx *x, const char *verb, const char *app)
{
        if (geteuid() == 0 || x->dry_run)
                return 0;
        log_error("pyshare %s changes files that only root may change: run it as root (sudo pyshare %s %s), "
                  "or add --dry-run to see the plan",
                  verb, verb, app ? app : "");
        return -PS_E_NOTROOT;
}

static int check_app_name(const char *app)
{
        if (app_name_valid(app))
                return 0;
        log_error("invalid app name '%s': use 1 to 63 characters of a-z, 0-9, '-' and '_', starting with a "
                  "letter or digit",
                  app);
        return -PS_E_USAGE;
}

static void lock_waiting(void) { log_notice("another pyshare is running; waiting for it to finish (%s)", LOCK_PATH); }

static int take_lock(const struct ctx *x, int *ret_fd)
{
        *ret_fd = -1;
        if (x->dry_run)
                return 0;
        int r = lock_take(LOCK_PATH, x->lock_timeout, lock_waiting, ret_fd);
        if (r == -ETIMEDOUT) {
                log_error("another pyshare still holds %s after %d s; try again when it has finished", LOCK_PATH,
                          x->lock_timeout);
                return r;
        }
        if (r < 0)
                log_error("cannot take the lock %s: %s", LOCK_PATH, strerror(-r));
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
        int r = dir_open(x->rootfd, dir_rel, 0, false, false, &dfd, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_error("cannot open %s: %s", sp, strerror(-r));
                return r;
        }
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct stat st;
        r = file_read_at(dfd, name, CONFIG_MAX_SIZE, &text, &len, &st);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_error("cannot read %s: %s", sp, r == -EINVAL ? "not a regular file" : strerror(-r));
                return r == -EINVAL || r == -EFBIG ? -PS_E_INVALID : r;
        }
        if (st.st_uid != 0 || (st.st_mode & 0022)) {
                log_error("%s is not owned by root or is writable by others: pyshare does not trust it; "
                          "chown root:root and chmod 644 it after checking its content",
                          sp);
                return -PS_E_INVALID;
        }
        unsigned line = 0;
        const char *why = NULL, *key = NULL;
        r = config_parse(text, len, c, &line, &why);
        if (r < 0) {
                log_error("%s:%u: %s", sp, line, why);
                return -PS_E_INVALID;
        }
        if (config_validate(c, &key) < 0) {
                log_error("%s: invalid %s= value", sp, key);
                return -PS_E_INVALID;
        }
        *ret_exists = true;
        return 0;
}

static int load_etc_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists)
{
        _cleanup_free_ char *name = xasprintf("%s.conf", app);
        return load_config_file(x, ETC_DIR, name, c, ret_exists);
}

static int load_vendor_config(const struct ctx *x, const char *app, const char *from, struct app_config *c,
                              bool *ret_exists);

/* The settings of an app that is set up (/etc/pyshare/APP.conf exists), with the package's
 * settings under them. */
static int load_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists)
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
static int load_vendor_config(const struct ctx *x, const char *app, const char *from, struct app_config *c,
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
                log_error("%s is not set up: there is no %s/%s.conf; run `pyshare setup %s` first", app, sp, app, app);
                return -PS_E_NOTFOUND;
        }
        if (!c->python)
                c->python = xstrdup(DEFAULT_PYTHON);
        if (!c->group)
                c->group = xstrdup(DEFAULT_GROUP);
        if (!c->service)
                c->service = xstrdup(default_service(x));
        if (!c->prefix)
                c->prefix = xstrdup(DEFAULT_PREFIX);
        if (!c->user) {
                log_error("%s/%s.conf has no User=; run `pyshare setup %s` again", ETC_DIR, app, app);
                return -PS_E_INVALID;
        }
        _cleanup_free_ char *unit = NULL;
        unit_name_normalize(c->service, &unit);
        free(c->service);
        c->service = TAKE_PTR(unit);
        return 0;
}

static void app_paths(struct app *a)
{
        a->venv = xasprintf("%s/%s", a->cfg.prefix, a->name);
        a->venv_rel = xstrdup(a->venv + 1);
        a->prefix_rel = xstrdup(a->cfg.prefix + 1);
}

/* The service user may not be root, the deploy group not the root group, and the service user
 * not a member of the deploy group: each would give it, or the group, what it must not have.
 * Checked by every verb, since /etc/pyshare and the group database can change after setup. */
static int refuse_unsafe_ids(const struct ctx *x, struct app *a)
{
        if (a->user.uid == 0) {
                log_error("user %s has uid 0: pyshare does not set up environments for root; pass --user=USER",
                          a->user.name);
                return -PS_E_INVALID;
        }
        if (!a->group_exists)
                return 0;
        if (a->gid == 0) {
                log_error("group %s has gid 0: pyshare will not give the root group write access; pass --group=GROUP",
                          a->cfg.group);
                return -PS_E_INVALID;
        }
        bool member = false;
        int r = user_in_group(x->root ? x->rootfd : -1, &a->user, a->gid, &member);
        if (r < 0) {
                log_error("cannot read the groups of %s: %s", a->user.name, strerror(-r));
                return r;
        }
        if (member) {
                log_error("%s is a member of %s: it would get write access to the environment; remove it from the "
                          "group (gpasswd -d %s %s) or choose another --group",
                          a->user.name, a->cfg.group, a->user.name, a->cfg.group);
                return -PS_E_INVALID;
        }
        return 0;
}

/* A unit's Group= or SupplementaryGroups= gives its processes a group beyond its user's own:
 * the deploy group there is as bad as the user being a member of it. */
static int refuse_unit_groups(const struct ctx *x, const struct app *a, const char *unit)
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
                    (group_lookup(x->root ? x->rootfd : -1, groups[i], &gid, NULL) < 0 || gid != a->gid))
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
        int rootfd = x->root ? x->rootfd : -1;
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
        return refuse_unsafe_ids(x, a);
}

static int load_app(const struct ctx *x, const char *name, struct app *a)
{
        a->name = name;
        int r = require_config(x, name, &a->cfg);
        if (r < 0)
                return r;
        app_paths(a);
        return resolve_names(x, a);
}

/* Names of the apps with a valid /etc/pyshare/APP.conf, sorted. */
static int list_apps(const struct ctx *x, char ***ret)
{
        _cleanup_close_ int dfd = -1;
        *ret = NULL;
        int r = dir_open(x->rootfd, ETC_DIR, 0, false, false, &dfd, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        DIR *d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        char **apps = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".conf"))
                        continue;
                _cleanup_free_ char *name = xstrndup(de->d_name, strlen(de->d_name) - 5);
                if (app_name_valid(name))
                        strv_push(&apps, name);
        }
        closedir(d);
        strv_sort(apps);
        *ret = apps;
        return 0;
}

/* ---- files -------------------------------------------------------------------------------- */

static int report_dir_error(const struct ctx *x, const char *dir_rel, int r, const char *bad)
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

static int write_file(const struct ctx *x, const char *dir_rel, const char *name, const char *content,
                      struct actions *acts)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *bad = NULL, *path = xasprintf("/%s/%s", dir_rel, name), *sp = shown(x, path);
        int r = dir_open(x->rootfd, dir_rel, 0755, true, x->dry_run, &dfd, &bad);
        if (r < 0)
                return report_dir_error(x, dir_rel, r, bad);
        bool changed;
        r = file_write_atomic(dfd, name, content, strlen(content), 0644, x->dry_run, &changed);
        if (r == -PS_E_UNSYNCED) {
                log_error("wrote %s, but its directory could not be synced (Input/output error): the new file is "
                          "in place and may not survive a crash; check the disk and run pyshare again",
                          sp);
                return r;
        }
        if (r < 0) {
                log_error("cannot write %s: %s%s", sp, strerror(-r), write_hint(r));
                return r;
        }
        if (changed) {
                log_info("%s %s", x->dry_run ? "would write" : "wrote", sp);
                strv_push(&acts->changed, path);
        } else {
                log_debug("unchanged %s", sp);
                strv_push(&acts->unchanged, path);
        }
        return 0;
}

static int remove_file(const struct ctx *x, const char *dir_rel, const char *name, struct actions *acts)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *path = xasprintf("/%s/%s", dir_rel, name), *sp = shown(x, path);
        _cleanup_free_ char *bad = NULL;
        int r = dir_open(x->rootfd, dir_rel, 0, true, false, &dfd, &bad);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return report_dir_error(x, dir_rel, r, bad);
        bool removed;
        r = file_remove_at(dfd, name, x->dry_run, &removed);
        if (r < 0) {
                log_error("cannot remove %s: %s", sp, strerror(-r));
                return r;
        }
        if (removed) {
                log_info("%s %s", x->dry_run ? "would remove" : "removed", sp);
                strv_push(&acts->changed, path);
        }
        return 0;
}

/* PYTHONPATH of the venv: site-packages, then the directories its .pth files name. */
static int venv_pythonpath(const struct ctx *x, const struct app *a, char ***ret, struct pth_info *ret_pth)
{
        _cleanup_close_ int vfd = -1;
        int r = dir_open(x->rootfd, a->venv_rel, 0, false, false, &vfd, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ char *site_rel = NULL;
        r = venv_site_packages(vfd, &site_rel);
        if (r < 0)
                return r;
        _cleanup_close_ int sfd = openat(vfd, site_rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return -errno;
        _cleanup_free_ char *site_abs = xasprintf("%s/%s", a->venv, site_rel);
        struct pth_info pth = {0};
        r = venv_read_pth(sfd, site_abs, &pth);
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

static char *app_env_text(const struct app *a, char *const *pythonpath)
{
        struct buf b = {0};
        buf_printf(&b, "# Written by pyshare for %s: EnvironmentFile= for any unit that uses it.\n", a->name);
        _cleanup_free_ char *joined = strv_join(pythonpath, ":");
        /* Both values are made of path_safe characters only: encoding cannot fail. */
        env_encode(&b, "PYTHONPATH", joined);
        env_encode(&b, "VIRTUAL_ENV", a->venv);
        return b.p;
}

/* Reads PYTHONPATH from an EnvironmentFile below the root (NULL when absent). */
/* What the .pth files held that PYTHONPATH does not carry: said by every verb that writes it. */
static void report_pth(struct pth_info *pth)
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
        for (size_t i = 0; pth->refused && pth->refused[i]; i++)
                log_warning("left out of PYTHONPATH: %s", pth->refused[i]);
        pth_info_free(pth);
}

static char **read_env_file(const struct ctx *x, const char *dir_rel, const char *name)
{
        _cleanup_close_ int dfd = -1;
        if (dir_open(x->rootfd, dir_rel, 0, false, false, &dfd, NULL) < 0)
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

/* The services whose merged EnvironmentFile lists app (from the header pyshare writes). */
static char **services_listing(const struct ctx *x, const char *app)
{
        _cleanup_close_ int dfd = -1;
        if (dir_open(x->rootfd, SERVICES_DIR, 0, false, false, &dfd, NULL) < 0)
                return NULL;
        DIR *d = fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                return NULL;
        char **units = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".service.env"))
                        continue;
                _cleanup_free_ char *text = NULL;
                if (file_read_at(dfd, de->d_name, 1024 * 1024, &text, NULL, NULL) < 0)
                        continue;
                char *apps = strstr(text, "; apps: ");
                char *eol = apps ? strstr(apps, ".\n") : NULL;
                if (!apps || !eol)
                        continue;
                *eol = 0;
                char *save = NULL;
                for (char *p = strtok_r(apps + strlen("; apps: "), ", ", &save); p; p = strtok_r(NULL, ", ", &save))
                        if (strcmp(p, app) == 0)
                                strv_consume(&units, xstrndup(de->d_name, strlen(de->d_name) - strlen(".env")));
        }
        closedir(d);
        return units;
}

/* Rewrites the service's merged EnvironmentFile and its drop-in from the apps attached to it
 * (but exclude), or removes both when none is left. *ret_dropin_changed tells whether systemd
 * must reload. */
static int write_service_files(const struct ctx *x, const char *unit, const char *exclude, struct actions *acts,
                               bool *ret_dropin_changed, bool *ret_env_changed)
{
        _cleanup_strv_ char **apps = NULL, **attached = NULL, **paths = NULL;
        int r = list_apps(x, &apps);
        if (r < 0)
                return r;
        for (size_t i = 0; apps && apps[i]; i++) {
                if (exclude && strcmp(apps[i], exclude) == 0)
                        continue;
                _cleanup_config_ struct app_config c = {0};
                bool exists;
                _cleanup_free_ char *svc = NULL;
                if (load_config(x, apps[i], &c, &exists) < 0 || !exists)
                        continue;
                if (unit_name_normalize(c.service ? c.service : default_service(x), &svc) < 0 || strcmp(svc, unit) != 0)
                        continue;
                _cleanup_free_ char *envname = xasprintf("%s.env", apps[i]);
                _cleanup_strv_ char **env = read_env_file(x, ETC_DIR, envname);
                const char *pp = env_get(env, "PYTHONPATH");
                if (!pp)
                        continue;
                strv_push(&attached, apps[i]);
                _cleanup_free_ char *copy = xstrdup(pp);
                char *save = NULL;
                for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
                        if (!strv_contains(paths, p))
                                strv_push(&paths, p);
        }

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
        if (r < 0) {
                log_error("cannot encode PYTHONPATH for %s: %s", unit, strerror(-r));
                return -PS_E_INVALID;
        }
        if ((r = write_file(x, SERVICES_DIR, env_name, text, acts)) < 0)
                return r;
        *ret_env_changed = strv_length(acts->changed) > before;
        before = strv_length(acts->changed);
        if ((r = write_file(x, dropin_dir, DROPIN_NAME, dropin, acts)) < 0)
                return r;
        *ret_dropin_changed = strv_length(acts->changed) > before;
        return 0;
}

/* Apache passes PYTHONPATH on to CGI scripts while some app of an Apache unit asks for it:
 * Debian's conf-available + the symlink a2enconf makes, or RHEL's conf.d. */
static int update_cgi_conf(const struct ctx *x, const char *exclude, struct actions *acts, bool *ret_changed)
{
        _cleanup_strv_ char **apps = NULL;
        bool want_debian = false, want_rhel = false;
        int r = list_apps(x, &apps);
        if (r < 0)
                return r;
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_config_ struct app_config c = {0};
                bool exists;
                _cleanup_free_ char *unit = NULL;
                if ((exclude && strcmp(apps[i], exclude) == 0) || load_config(x, apps[i], &c, &exists) < 0 || !exists ||
                    c.cgi != CFG_YES || unit_name_normalize(c.service ? c.service : default_service(x), &unit) < 0)
                        continue;
                const char *cmd = unit_apache_command(unit);
                if (cmd && strstr(cmd, "apache2"))
                        want_debian = true;
                else if (cmd)
                        want_rhel = true;
        }
        size_t before = strv_length(acts->changed);
        if (want_debian) {
                if ((r = write_file(x, "etc/apache2/conf-available", "pyshare.conf", unit_apache_cgi_text(), acts)) < 0)
                        return r;
                _cleanup_close_ int en = -1;
                _cleanup_free_ char *bad = NULL;
                if ((r = dir_open(x->rootfd, "etc/apache2/conf-enabled", 0755, true, x->dry_run, &en, &bad)) < 0)
                        return report_dir_error(x, "etc/apache2/conf-enabled", r, bad);
                char target[64];
                ssize_t k = en >= 0 ? readlinkat(en, "pyshare.conf", target, sizeof(target) - 1) : -1;
                if (k < 0 || (size_t)k != strlen("../conf-available/pyshare.conf") ||
                    memcmp(target, "../conf-available/pyshare.conf", (size_t)k) != 0) {
                        if (!x->dry_run) {
                                unlinkat(en, "pyshare.conf", 0);
                                if (symlinkat("../conf-available/pyshare.conf", en, "pyshare.conf") < 0) {
                                        log_error("cannot enable /etc/apache2/conf-enabled/pyshare.conf: %s", strerror(errno));
                                        return -errno;
                                }
                        }
                        log_info("%s /etc/apache2/conf-enabled/pyshare.conf (a2enconf pyshare)",
                                 x->dry_run ? "would enable" : "enabled");
                        strv_push(&acts->changed, "/etc/apache2/conf-enabled/pyshare.conf");
                }
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

/* daemon-reload when systemd runs, a line saying it was skipped otherwise. */
static void reload_systemd(const struct ctx *x, bool needed, const char **ret_state)
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

static int restart_or_hint(const struct ctx *x, const char *unit, bool restart, bool env_changed, const char **ret_state)
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
        if (!env_changed || x->dry_run)
                return 0;
        bool active = false, need_reload = false;
        if (!x->root && bus_systemd_running() && bus_unit_state(unit, &active, &need_reload) >= 0 && active) {
                *ret_state = "needed";
                log_notice("%s is running with the old environment: restart it (systemctl restart %s) or run "
                           "setup with --restart",
                           unit, unit);
        } else if (!x->root) {
                *ret_state = "needed";
                log_info("restart %s when it runs, to give it the new environment (systemctl restart %s)", unit, unit);
        }
        return 0;
}

/* ---- the tree ----------------------------------------------------------------------------- */

static void print_perms_stats(const struct ctx *x, const struct perms_stats *st)
{
        unsigned long skipped = st->hardlinks;
        for (int i = 0; i < _WALK_SKIP_MAX; i++)
                if (i != WALK_SKIP_SYMLINK)
                        skipped += st->skipped[i];
        log_info("permissions: %lu entries, %lu %s, %lu skipped, %lu symlinks left alone%s", st->entries, st->changed,
                 x->dry_run ? "to change" : "changed", skipped, st->skipped[WALK_SKIP_SYMLINK],
                 st->errors ? ", errors below" : "");
        for (size_t i = 0; i < st->n_notes; i++)
                log_notice("  %s", st->notes[i]);
}

static void json_perms_stats(struct json *j, const struct perms_stats *st)
{
        json_int(j, "entries", (long long)st->entries);
        json_int(j, "changed", (long long)st->changed);
        json_obj_begin(j, "skipped");
        for (int i = 0; i < _WALK_SKIP_MAX; i++)
                json_int(j, walk_skip_name(i), (long long)st->skipped[i]);
        json_int(j, "hard link", (long long)st->hardlinks);
        json_obj_end(j);
        json_int(j, "errors", (long long)st->errors);
        json_arr_begin(j, "notes");
        for (size_t i = 0; i < st->n_notes; i++)
                json_str(j, NULL, st->notes[i]);
        json_arr_end(j);
}

/* The prefix through prefix_open (its rule: prefix.h), with the refusal said once. */
static int open_prefix(const struct ctx *x, const char *prefix, enum prefix_open_mode mode, int *ret_fd)
{
        struct prefix_problem pp = {0};
        int r = prefix_open(x->rootfd, prefix, mode, ret_fd, NULL, &pp);
        if (r >= 0)
                return r;
        _cleanup_free_ char *sp = shown(x, prefix);
        _cleanup_free_ char *why = pp.path ? prefix_problem_text(&pp, prefix, x->root) : NULL;
        if (why)
                log_error("%s", why);
        else
                log_error("cannot open %s: %s", sp, strerror(-r));
        prefix_problem_free(&pp);
        return r;
}

/* A venv outside the default prefix can sit below a directory that the service user cannot
 * search (a 0700 home directory): give the user search permission there through an ACL entry
 * of its own and nothing else, as `setfacl -m u:USER:x DIR` would, through the fd that
 * perms_walk_ancestors pinned and looked at. */
struct grant_ctx {
        const struct ctx *x;
        const struct app *a;
        struct perms_stats *st;
};

static int grant_one(const struct perms_ancestor *an, void *userdata)
{
        const struct grant_ctx *g = userdata;
        const char *user = g->a->user.name;
        if (!S_ISDIR(an->st.st_mode))
                return 0; /* a symlink: status and the probe say so; nothing here follows it */
        _cleanup_free_ char *sp = shown(g->x, an->path);
        int r;
        if (g->x->dry_run)
                log_info("would give %s search permission on %s (ACL entry u:%s:--x)", user, sp, user);
        else if ((r = acl_grant_search_fd(an->fd, g->a->user.uid)) < 0) {
                log_error("cannot give %s search permission on %s: %s; give it yourself (chmod o+x %s) or move the "
                          "venv under %s",
                          user, sp, strerror(-r), sp, DEFAULT_PREFIX);
                return r;
        } else
                log_info("gave %s search permission on %s (ACL entry u:%s:--x; its owner, mode bits for others and "
                         "other entries are unchanged)",
                         user, sp, user);
        g->st->changed++;
        return 0;
}

static int grant_ancestors(const struct ctx *x, const struct app *a, struct perms_stats *st)
{
        _cleanup_free_ gid_t *gids = NULL;
        size_t ngids = 0;
        if (x->root || user_groups(&a->user, &gids, &ngids) < 0) {
                free(gids);
                gids = xmalloc(sizeof(*gids));
                gids[0] = a->user.gid;
                ngids = 1;
        }
        struct grant_ctx g = {.x = x, .a = a, .st = st};
        _cleanup_close_ int parentfd = -1;
        return perms_walk_ancestors(x->rootfd, a->venv, a->user.uid, gids, ngids, grant_one, &g, &parentfd);
}

static int apply_tree(const struct ctx *x, const struct app *a, struct perms_stats *st)
{
        _cleanup_close_ int pfd = -1;
        _cleanup_free_ char *sv = shown(x, a->venv);
        int r = open_prefix(x, a->cfg.prefix, PREFIX_OPEN_EXISTING, &pfd);
        if (r < 0)
                return r;
        const struct perms_target t = {.user = a->user.uid, .group = a->gid};
        _cleanup_close_ int vfd = openat(pfd, a->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = vfd < 0 ? -errno : acl_supported_fd(vfd);
        if (r >= 0)
                r = perms_apply(pfd, a->name, sv, &t, x->dry_run, st);
        if (r == -EOPNOTSUPP) {
                log_error("the filesystem of %s has no POSIX ACL support: mount it with ACLs (the acl option) or "
                          "choose --prefix on a filesystem with ACLs",
                          sv);
                return r;
        }
        if (r < 0) {
                log_error("cannot set the permissions of %s: %s", sv, strerror(-r));
                return r;
        }
        if (st->errors) {
                print_perms_stats(x, st);
                log_error("%lu entries of %s could not be changed (listed above)", st->errors, sv);
                return -EIO;
        }
        return grant_ancestors(x, a, st);
}

/* ---- probe -------------------------------------------------------------------------------- */

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
        int fd = fcntl(sitefd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return false;
        }
        rewinddir(d);
        bool found = false;
        size_t n = strlen(top);
        struct dirent *de;
        while (!found && (de = readdir(d)))
                found = strncmp(de->d_name, top, n) == 0 && de->d_name[n] == '.' && endswith(de->d_name, ".so");
        closedir(d);
        return found;
}

/* Turns "imported, but not from the venv" into failures (SECURITY of the verdict: what the
 * service would really get). */
static void judge_modules(const struct ctx *x, const struct app *a, struct probe_result *res, char *const *pythonpath)
{
        _cleanup_close_ int vfd = -1, sfd = -1;
        _cleanup_free_ char *site_rel = NULL;
        if (dir_open(x->rootfd, a->venv_rel, 0, false, false, &vfd, NULL) < 0 || venv_site_packages(vfd, &site_rel) < 0)
                return;
        sfd = openat(vfd, site_rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return;
        for (size_t i = 0; i < res->n_modules; i++) {
                struct probe_module *m = &res->modules[i];
                if (!m->ok)
                        continue;
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

static char *describe_finding(const struct ctx *x, const struct app *a, const struct perms_finding *f)
{
        char mode[11];
        mode_string(f->mode, mode);
        _cleanup_free_ char *u = user_name_of(f->uid), *g = group_name_of(f->gid);
        if (f->symlink)
                return xasprintf("%s is a symbolic link, which pyshare does not follow: the check stopped there; "
                                 "set the app's prefix to the real directory (pyshare setup %s --prefix=DIR)",
                                 f->path, a->name);
        bool in_home = startswith(f->path, "/home/") || startswith(f->path, "/root");
        /* repair gives access to the user stored at setup; a service that runs as another user
         * now needs setup to store that one. */
        _cleanup_free_ char *fix = a->cfg.user && strcmp(a->cfg.user, a->user.name) != 0
                                           ? xasprintf("pyshare setup %s --user=%s", a->name, a->user.name)
                                           : xasprintf("pyshare repair %s", a->name);
        if (f->outside && in_home)
                return xasprintf("%s cannot enter %s (%s %s:%s, ACL %s): run `%s` (it gives %s search permission "
                                 "there, as setfacl -m u:%s:x %s does), or move the venv out of the home directory or "
                                 "run `pyshare setup` with the default location",
                                 a->user.name, f->path, mode, u, g, f->acl, fix, a->user.name, a->user.name, f->path);
        if (f->outside)
                return xasprintf("%s cannot enter %s (%s %s:%s, ACL %s): run `%s` (it gives %s search permission "
                                 "there, as setfacl -m u:%s:x %s does) or move the venv under %s",
                                 a->user.name, f->path, mode, u, g, f->acl, fix, a->user.name, a->user.name, f->path,
                                 DEFAULT_PREFIX);
        return xasprintf("%s cannot %s %s (%s %s:%s, ACL %s): run `%s`", a->user.name, f->is_dir ? "list" : "read",
                         f->path, mode, u, g, f->acl, fix);
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

static void json_probe(struct json *j, const char *key, const struct app *a, const struct probe_result *res, bool ok,
                       char *const *problems, const char *mode)
{
        json_obj_begin(j, key);
        json_str(j, "app", a->name);
        json_str(j, "user", a->user.name);
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
        json_obj_end(j);
}

/* Runs the probe of an app and prints its verdict. Returns 0 when every module imported,
 * -PS_E_PROBLEM when not. */
static int run_probe(const struct ctx *x, const struct app *a, char *const *requested, bool interpreter, int timeout_sec,
                     struct json *j, const char *json_key)
{
        _cleanup_strv_ char **modules = NULL, **pythonpath = NULL, **problems = NULL;
        if (requested && requested[0])
                for (size_t i = 0; requested[i]; i++)
                        strv_push(&modules, requested[i]);
        else if (a->cfg.modules)
                for (size_t i = 0; a->cfg.modules[i]; i++)
                        strv_push(&modules, a->cfg.modules[i]);
        venv_pythonpath(x, a, &pythonpath, NULL);
        if (!modules) {
                _cleanup_close_ int vfd = -1, sfd = -1;
                _cleanup_free_ char *site_rel = NULL;
                if (dir_open(x->rootfd, a->venv_rel, 0, false, false, &vfd, NULL) >= 0 &&
                    venv_site_packages(vfd, &site_rel) >= 0 &&
                    (sfd = openat(vfd, site_rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
                        venv_top_level(sfd, &modules);
        }

        const char *env_source;
        _cleanup_strv_ char **env = build_probe_env(x, a, &env_source);
        _cleanup_free_ char *interp = interpreter ? xasprintf("%s/bin/python", a->venv) : NULL;
        _cleanup_free_ gid_t *gids = NULL;
        size_t ngids = 0;
        user_groups(&a->user, &gids, &ngids);

        struct probe_request req = {
                .user = &a->user,
                .forbidden_gid = a->gid,
                .modules = modules,
                .env = env,
                .interpreter = interp,
                .timeout_ms = timeout_sec * 1000,
#ifdef PYSHARE_SANITIZER
                .as_limit = 0, /* ASan reserves terabytes of address space */
#else
                .as_limit = PROBE_AS_LIMIT,
#endif
        };
        struct probe_result res = {0};
        long long t0 = now_ms();
        bool use_unit = !x->root && bus_systemd_running();
        int r = use_unit ? probe_run_unit(&req, a->cfg.service, &res) : probe_run(&req, &res);
        if (r >= 0 && res.unit_error) {
                _cleanup_free_ char *why = TAKE_PTR(res.unit_error);
                probe_result_free(&res);
                strv_consume(&problems, xasprintf("could not start the probe as a transient unit with %s's sandbox (%s); "
                                                  "ran it as a forked process instead",
                                                  a->cfg.service, why));
                use_unit = false;
                r = probe_run(&req, &res);
        }
        if (r < 0) {
                log_error("cannot run the probe: %s", strerror(-r));
                return r;
        }
        long long took = now_ms() - t0;
        judge_modules(x, a, &res, pythonpath);

        bool ok = res.completed && !res.failure && !res.leftover_killed;
        for (size_t i = 0; i < res.n_modules; i++)
                ok = ok && res.modules[i].ok;
        if (res.failure)
                strv_consume(&problems, xasprintf("the probe could not start as %s: %s", a->user.name, res.failure));
        else if (res.timed_out)
                strv_consume(&problems, xasprintf("the probe did not finish within %d s (an import hangs?); "
                                                  "raise --timeout or look at the modules' import-time code",
                                                  timeout_sec));
        else if (!res.completed)
                strv_consume(&problems, xasprintf("the probe ended before reporting (exit status %d)%s%s", res.exit_status,
                                                  res.output && *res.output ? "; it printed: " : "",
                                                  res.output && *res.output ? res.output : ""));
        if (res.leftover_killed)
                strv_consume(&problems, xasprintf("the imports left %u process%s running (killed): the service "
                                                  "would keep them",
                                                  res.leftover_killed, res.leftover_killed == 1 ? "" : "es"));

        bool sandbox_blamed = false;
        if (!ok && res.sandboxed && res.completed) {
                /* Does the same import work outside the sandbox? Then the sandbox is the cause. */
                struct probe_result plain = {0};
                if (probe_run(&req, &plain) >= 0) {
                        judge_modules(x, a, &plain, pythonpath);
                        for (size_t i = 0; i < res.n_modules; i++) {
                                if (res.modules[i].ok || i >= plain.n_modules || !plain.modules[i].ok)
                                        continue;
                                _cleanup_free_ char *why = sandbox_culprit(a, res.sandbox);
                                strv_consume(&problems, xasprintf("%s imports as %s outside the sandbox but not inside "
                                                                  "%s's: %s",
                                                                  res.modules[i].name, a->user.name, a->cfg.service, why));
                                sandbox_blamed = true;
                        }
                }
                probe_result_free(&plain);
        }
        if (!ok && !sandbox_blamed) {
                struct perms_finding *f = NULL;
                size_t nf = 0;
                if (!x->root && perms_find_unreadable(a->venv, a->user.uid, gids, ngids, 8, &f, &nf) >= 0) {
                        for (size_t i = 0; i < nf; i++)
                                strv_consume(&problems, describe_finding(x, a, &f[i]));
                        perms_findings_free(f, nf);
                }
        }

        const char *mode = interpreter ? "interpreter" : "embedded";
        if (j)
                json_probe(j, json_key, a, &res, ok, problems, mode);
        if (!x->json) {
                log_info("probe %s as %s (%s Python %s, environment of %s, %lld ms):", a->name, a->user.name, mode,
                         res.python_version ? res.python_version : "?",
                         strcmp(env_source, "service") == 0 ? a->cfg.service : "the app's env file", took);
                for (size_t i = 0; i < res.n_modules; i++) {
                        const struct probe_module *m = &res.modules[i];
                        /* What imported code says is shown, never interpreted by the terminal. */
                        _cleanup_free_ char *name = printable(m->name), *version = printable(m->version),
                                            *file = printable(m->file), *etype = printable(m->error_type),
                                            *err = printable(m->error);
                        if (m->ok)
                                log_info("  ok    %s %s  %s", name, version ? version : "", file ? file : "(namespace package)");
                        else
                                log_info("  FAIL  %s  %s%s%s", name, etype ? etype : "", etype ? ": " : "", err ? err : "");
                }
                if (res.n_modules == 0 && res.completed)
                        log_info("  (no module to import: none given, none stored, none installed; Python started)");
                for (size_t i = 0; problems && problems[i]; i++) {
                        _cleanup_free_ char *p = printable(problems[i]);
                        log_info("  %s", p);
                }
                if (res.sandboxed) {
                        _cleanup_free_ char *sb = strv_join(res.sandbox, ", ");
                        log_info("note: the probe ran as a transient unit with %s's sandbox (%s)", a->cfg.service,
                                 sb && *sb ? sb : "no sandbox settings");
                } else
                        log_info("note: %s", use_unit ? "the probe ran as a forked process, outside the service's sandbox"
                                                      : "systemd is not running, so the probe ran as a forked process and "
                                                        "could not reproduce the service's sandbox (ProtectHome=, "
                                                        "ProtectSystem=, ...)");
        }
        probe_result_free(&res);
        return ok ? 0 : -PS_E_PROBLEM;
}

/* Who the service runs as now (Apache's run configuration, or the unit's User= as systemd has
 * it), without messages: NULL when it cannot be told. */
static char *current_service_user(const char *unit)
{
        char *u = NULL;
        const char *apache = unit_apache_command(unit);
        if (apache)
                return apache_run_user(apache, NULL, &u, NULL) >= 0 ? u : NULL;
        bool found = false, dynamic = false;
        if (bus_unit_user(unit, &found, &u, &dynamic) < 0 || !found || dynamic) {
                free(u);
                return NULL;
        }
        return u;
}

/* ---- pip, as pyshare's own user ------------------------------------------------------------ */

/* pyshare's unprivileged user; created as a system user when the package did not. */
static int pip_user(const struct ctx *x, struct ps_user *ret)
{
        int rootfd = x->root ? x->rootfd : -1;
        int r = user_lookup(rootfd, PIP_USER, ret);
        if (r != -PS_E_NOTFOUND)
                return r;
        char *argv[] = {"/usr/sbin/useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", "--user-group", PIP_USER, NULL, NULL, NULL};
        if (x->root) {
                /* useradd --root: the user belongs in the image's passwd, not the host's. */
                argv[9] = "--root";
                argv[10] = (char *)x->root;
        }
        _cleanup_free_ char *out = NULL;
        r = run_command(argv, NULL, 60 * 1000, &out);
        if (r != 0) {
                log_error("cannot create the system user %s for pip: %s", PIP_USER, out ? strstrip(out) : strerror(-r));
                return r < 0 ? r : -EIO;
        }
        log_info("created the system user %s (pip runs as it, never as root)", PIP_USER);
        return user_lookup(rootfd, PIP_USER, ret);
}

/* Runs the venv's pip as _pyshare with only the app's group, then repairs the tree. */
static int run_pip(const struct ctx *x, const struct app *a, char *const *args, bool capture)
{
        struct ps_user u = {0};
        int r = pip_user(x, &u);
        if (r < 0) {
                if (r == -PS_E_NOTFOUND)
                        log_error("user %s does not exist", PIP_USER);
                return r;
        }
        _cleanup_free_ char *pip = xasprintf("%s/bin/pip", a->venv), *out = NULL;
        r = pip_run(&u, a->gid, pip, args, x->root, 20 * 60 * 1000, capture, &out);
        ps_user_free(&u);
        if (r == -ETIMEDOUT) {
                log_error("pip did not finish within 20 minutes and was stopped%s%s", out && *out ? ":\n" : "",
                          out ? out : "");
                return -ETIMEDOUT;
        }
        if (r != 0) {
                log_error("pip failed (%s %d) as %s in group %s%s%s", r < 0 ? "error" : "exit status", r < 0 ? -r : r,
                          PIP_USER, a->cfg.group, out && *out ? ":\n" : "", out && *out ? strstrip(out) : "");
                return r < 0 ? r : -EIO;
        }
        return 0;
}

/* The package's requirements, from its wheels only; skipped when the files did not change
 * since the last install (a stamp of their content in the venv). */
static int install_requirements(const struct ctx *x, const struct app *a, bool *ret_changed)
{
        *ret_changed = false;
        if (!a->cfg.requirements)
                return 0;
        if (!a->cfg.wheels) {
                log_error("Requirements=%s needs Wheels=DIR: pyshare installs only from shipped wheels", a->cfg.requirements);
                return -PS_E_INVALID;
        }
        _cleanup_free_ char *req_shown = shown(x, a->cfg.requirements);
        _cleanup_close_ int rdir = -1;
        _cleanup_free_ char *rcopy = xstrdup(a->cfg.requirements + 1), *text = NULL;
        char *slash = strrchr(rcopy, '/');
        int r = slash ? (*slash = 0, dir_open(x->rootfd, rcopy, 0, false, false, &rdir, NULL)) : -EINVAL;
        if (r >= 0)
                r = file_read_at(rdir, slash + 1, 1024 * 1024, &text, NULL, NULL);
        if (r < 0) {
                log_error("cannot read the requirements %s: %s", req_shown, strerror(-r));
                return r == -ENOENT ? -PS_E_NOTFOUND : r;
        }
        /* The stamp: the requirements and the names and sizes of the wheels. */
        struct buf stamp = {0};
        buf_printf(&stamp, "requirements %s\n%s\nwheels %s\n", a->cfg.requirements, text, a->cfg.wheels);
        _cleanup_close_ int wfd = -1;
        r = dir_open(x->rootfd, a->cfg.wheels + 1, 0, false, false, &wfd, NULL);
        if (r < 0) {
                _cleanup_free_ char *sw = shown(x, a->cfg.wheels);
                log_error("cannot open the wheel directory %s: %s", sw, strerror(-r));
                buf_free(&stamp);
                return r == -ENOENT ? -PS_E_NOTFOUND : r;
        }
        DIR *d = fdopendir(fcntl(wfd, F_DUPFD_CLOEXEC, 3));
        _cleanup_strv_ char **names = NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                struct stat st;
                if (endswith(de->d_name, ".whl") && fstatat(wfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        strv_consume(&names, xasprintf("%s %lld", de->d_name, (long long)st.st_size));
        }
        if (d)
                closedir(d);
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++)
                buf_printf(&stamp, "%s\n", names[i]);
        _cleanup_close_ int vfd = -1;
        if ((r = dir_open(x->rootfd, a->venv_rel, 0, false, false, &vfd, NULL)) < 0) {
                buf_free(&stamp);
                return r;
        }
        _cleanup_free_ char *old = NULL;
        if (file_read_at(vfd, REQ_STAMP, 1024 * 1024, &old, NULL, NULL) >= 0 && strcmp(old, stamp.p) == 0) {
                buf_free(&stamp);
                return 0;
        }
        if (x->dry_run) {
                log_info("would install %s from %s with pip, as %s", req_shown, a->cfg.wheels, PIP_USER);
                buf_free(&stamp);
                *ret_changed = true;
                return 0;
        }
        char *args[] = {"install", "--no-index", "--find-links", a->cfg.wheels, "--only-binary=:all:", "--quiet", "-r",
                        a->cfg.requirements, NULL};
        long long t0 = now_ms();
        if ((r = run_pip(x, a, args, true)) < 0) {
                buf_free(&stamp);
                return r;
        }
        bool ch;
        r = file_write_atomic(vfd, REQ_STAMP, stamp.p, stamp.len, 0644, false, &ch);
        buf_free(&stamp);
        if (r < 0)
                return r;
        log_info("installed %s from %s as %s (%lld ms)", req_shown, a->cfg.wheels, PIP_USER, now_ms() - t0);
        *ret_changed = true;
        return 0;
}

/* ---- the repair path unit (setup --watch) ------------------------------------------------- */

#define WATCH_TEMPLATE "pyshare-repair@.path"

/* Enables pyshare-repair@APP.path the way systemctl enable does (a symlink in
 * paths.target.wants), with a drop-in that names the venv's exact site-packages, and one that
 * lets the repair service write a venv outside /opt/pyshare. With enable false, undoes it. */
static int update_watch(const struct ctx *x, const struct app *a, bool enable, struct actions *acts, bool *ret_changed)
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
        if (!template_dir) {
                log_error("--watch needs the unit %s, which is not installed (make install or the pyshare package "
                          "installs it)",
                          WATCH_TEMPLATE);
                return -PS_E_NOTFOUND;
        }
        _cleanup_strv_ char **pythonpath = NULL;
        if (venv_pythonpath(x, a, &pythonpath, NULL) < 0 && !x->dry_run) {
                log_error("cannot find site-packages in %s", a->venv);
                return -ENOENT;
        }
        _cleanup_free_ char *path_text = xasprintf("# Written by pyshare setup --watch: the site-packages of %s.\n"
                                                   "[Path]\nPathChanged=\nPathChanged=%s\n",
                                                   a->name, pythonpath ? pythonpath[0] : a->venv);
        if ((r = write_file(x, path_dir, DROPIN_NAME, path_text, acts)) < 0)
                return r;
        if (strcmp(a->cfg.prefix, DEFAULT_PREFIX) != 0) {
                _cleanup_free_ char *svc_text = xasprintf("# Written by pyshare setup --watch: %s lives outside %s.\n"
                                                          "[Service]\nReadWritePaths=-%s\n",
                                                          a->name, DEFAULT_PREFIX, a->venv);
                if ((r = write_file(x, svc_dir, DROPIN_NAME, svc_text, acts)) < 0)
                        return r;
        } else if ((r = remove_file(x, svc_dir, DROPIN_NAME, acts)) < 0)
                return r;
        _cleanup_close_ int wants = -1;
        _cleanup_free_ char *bad = NULL, *target = xasprintf("/%s/" WATCH_TEMPLATE, template_dir);
        if ((r = dir_open(x->rootfd, SYSTEMD_DIR "/paths.target.wants", 0755, true, x->dry_run, &wants, &bad)) < 0)
                return report_dir_error(x, SYSTEMD_DIR "/paths.target.wants", r, bad);
        char link[4096];
        ssize_t k = wants >= 0 ? readlinkat(wants, path_unit, link, sizeof(link) - 1) : -1;
        if (k < 0 || (size_t)k != strlen(target) || memcmp(link, target, (size_t)k) != 0) {
                if (!x->dry_run) {
                        unlinkat(wants, path_unit, 0);
                        if (symlinkat(target, wants, path_unit) < 0) {
                                log_error("cannot enable %s: %s", path_unit, strerror(errno));
                                return -errno;
                        }
                }
                log_info("%s %s (systemctl enable)", x->dry_run ? "would enable" : "enabled", path_unit);
                strv_consume(&acts->changed, xasprintf("/" SYSTEMD_DIR "/paths.target.wants/%s", path_unit));
        }
        *ret_changed = strv_length(acts->changed) > before;
        return 0;
}

/* ---- setup -------------------------------------------------------------------------------- */

static int check_setup_names(const char *app, const struct setup_opts *o)
{
        int r = check_app_name(app);
        if (r < 0)
                return r;
        if (o->user && !user_name_valid(o->user)) {
                log_error("invalid user name '%s': use a-z, 0-9, '_' and '-', at most 32 characters, starting with a "
                          "letter or '_'",
                          o->user);
                return -PS_E_USAGE;
        }
        if (o->group && !user_name_valid(o->group)) {
                log_error("invalid group name '%s': use a-z, 0-9, '_' and '-', at most 32 characters, starting with "
                          "a letter or '_'",
                          o->group);
                return -PS_E_USAGE;
        }
        _cleanup_free_ char *unit = NULL;
        if (o->service && unit_name_normalize(o->service, &unit) < 0) {
                log_error("invalid service name '%s': give a unit name such as apache2 or gunicorn@app.service", o->service);
                return -PS_E_USAGE;
        }
        for (size_t i = 0; o->modules && o->modules[i]; i++)
                if (!module_name_valid(o->modules[i])) {
                        log_error("invalid module name '%s': give an importable name such as numpy or flask.json",
                                  o->modules[i]);
                        return -PS_E_USAGE;
                }
        if (o->python && !path_safe_absolute(o->python)) {
                log_error("--python=%s: give an absolute path made of letters, digits and . _ + @ - /", o->python);
                return -PS_E_INVALID;
        }
        if (o->prefix && (!path_safe_absolute(o->prefix) || strcmp(o->prefix, "/") == 0)) {
                log_error("--prefix=%s: give an absolute directory (not /) made of letters, digits and . _ + @ - /",
                          o->prefix);
                return -PS_E_INVALID;
        }
        return 0;
}

/* The service user: --user, the stored one, or what the service runs as. */
static int detect_user(const struct ctx *x, const char *unit, char **ret)
{
        const char *apache = unit_apache_command(unit);
        if (apache) {
                _cleanup_free_ char *out = NULL;
                int r = apache_run_user(apache, x->root, ret, &out);
                if (r == -PS_E_NOTFOUND) {
                        log_error("%s has no %s: is Apache installed? Install it or pass --user=USER", unit, apache);
                        return -PS_E_NOTFOUND;
                }
                if (r < 0) {
                        log_error("cannot read the run user of %s from `%s -t -D DUMP_RUN_CFG`%s%s; pass --user=USER",
                                  unit, apache, out ? ": " : "", out ? strstrip(out) : "");
                        return -PS_E_NOTFOUND;
                }
                return 0;
        }
        bool dynamic = false, found = true;
        char *user = NULL;
        int r;
        if (!x->root && bus_systemd_running())
                r = bus_unit_user(unit, &found, &user, &dynamic);
        else
                r = unit_file_user(x->rootfd, unit, &user, &dynamic);
        if (r == -PS_E_NOTFOUND || !found) {
                log_error("service %s does not exist: install it first, or name another with --service=UNIT", unit);
                return -PS_E_NOTFOUND;
        }
        if (r < 0) {
                log_error("cannot read User= of %s: %s; pass --user=USER", unit, strerror(-r));
                return r;
        }
        if (dynamic) {
                free(user);
                log_error("%s uses DynamicUser=: its user exists only while it runs, so it cannot be given access "
                          "ahead of time; pass --user=USER with a real user",
                          unit);
                return -PS_E_INVALID;
        }
        if (!user) {
                log_error("%s has no User= and runs as root: pyshare gives read access to an unprivileged service "
                          "user; pass --user=USER",
                          unit);
                return -PS_E_INVALID;
        }
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
        if (r >= 0 && !exists) {
                log_error("service %s does not exist: install it first, or name another with --service=UNIT", unit);
                return -PS_E_NOTFOUND;
        }
        return 0;
}

/* The nearest existing ancestor of the prefix must support ACLs; checked before anything is
 * created so that a filesystem without them leaves nothing behind. */
static int check_acl_support(const struct ctx *x, const char *prefix)
{
        _cleanup_free_ char *p = xstrdup(prefix + 1);
        for (;;) {
                _cleanup_close_ int fd = -1;
                int r = *p ? dir_open(x->rootfd, p, 0, false, false, &fd, NULL)
                           : ((fd = openat(x->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ? -errno : 0);
                if (r == -ENOENT && *p) {
                        char *slash = strrchr(p, '/');
                        if (slash)
                                *slash = 0;
                        else
                                *p = 0;
                        continue;
                }
                if (r < 0)
                        return report_dir_error(x, p, r, NULL);
                if (acl_supported_fd(fd) == -EOPNOTSUPP) {
                        _cleanup_free_ char *abs = xasprintf("/%s", p), *sp = shown(x, abs);
                        log_error("the filesystem of %s has no POSIX ACL support: pyshare needs ACLs to let the service "
                                  "user read the environment; mount it with ACLs or choose --prefix on a filesystem "
                                  "that has them. Nothing was changed.",
                                  sp);
                        return -EOPNOTSUPP;
                }
                return 0;
        }
}

/* Missing components are created root:root 0755; an existing prefix keeps its owner and mode
 * (what setup did not create is not setup's to change; the service user gets search
 * permission by an ACL entry where it needs it). */
static int prepare_prefix(const struct ctx *x, const char *prefix, int *ret_fd)
{
        int r = open_prefix(x, prefix, x->dry_run ? PREFIX_OPEN_CHECK : PREFIX_OPEN_CREATE, ret_fd);
        if (r < 0)
                return r;
        _cleanup_free_ char *sp = shown(x, prefix);
        if (*ret_fd < 0)
                log_info("would create %s (root:root 0755)", sp);
        return 0;
}

int verb_setup(struct ctx *x, const char *app_name, const struct setup_opts *o)
{
        int r = check_setup_names(app_name, o);
        if (r < 0)
                return r;
        if ((r = need_root(x, "setup", app_name)) < 0)
                return r;
        log_set_app(app_name);

        _cleanup_app_ struct app a = {.name = app_name};
        _cleanup_config_ struct app_config vendor = {0}, etc_prev = {0};
        bool have_vendor, have_etc;
        if ((r = load_vendor_config(x, app_name, o->from, &vendor, &have_vendor)) < 0 ||
            (r = load_etc_config(x, app_name, &etc_prev, &have_etc)) < 0)
                return r;
        config_overlay(&a.cfg, &vendor);
        config_overlay(&a.cfg, &etc_prev);
        /* The services the app is wired into now: setup may move it (option or package). */
        _cleanup_strv_ char **wired = services_listing(x, app_name);
#define SET(field, opt, def)                                                                       \
        do {                                                                                       \
                if (opt) {                                                                         \
                        free(a.cfg.field);                                                         \
                        a.cfg.field = xstrdup(opt);                                                \
                } else if (!a.cfg.field)                                                           \
                        a.cfg.field = xstrdup(def);                                                \
        } while (0)
        SET(python, o->python, DEFAULT_PYTHON);
        SET(group, o->group, DEFAULT_GROUP);
        SET(service, o->service, default_service(x));
        SET(prefix, o->prefix, DEFAULT_PREFIX);
#undef SET
        _cleanup_free_ char *unit = NULL;
        unit_name_normalize(a.cfg.service, &unit);
        free(a.cfg.service);
        a.cfg.service = xstrdup(unit);
        if (o->cgi >= 0)
                a.cfg.cgi = o->cgi ? CFG_YES : CFG_NO;
        if (o->watch >= 0)
                a.cfg.watch = o->watch ? CFG_YES : CFG_NO;
        if (o->modules) {
                strv_free(a.cfg.modules);
                a.cfg.modules = NULL;
                for (size_t i = 0; o->modules[i]; i++)
                        if (!strv_contains(a.cfg.modules, o->modules[i]))
                                strv_push(&a.cfg.modules, o->modules[i]);
        }
        app_paths(&a);

        /* Everything is checked before anything changes. */
        struct stat pst;
        _cleanup_free_ char *py_shown = shown(x, a.cfg.python);
        if (fstatat(x->rootfd, a.cfg.python + 1, &pst, 0) < 0 || !S_ISREG(pst.st_mode) || !(pst.st_mode & 0111)) {
                log_error("Python %s does not exist or is not executable: install it (apt-get install python3-venv) "
                          "or pass --python=PATH",
                          py_shown);
                return -PS_E_NOTFOUND;
        }
        if ((r = check_service_exists(x, unit)) < 0)
                return r;
        if (a.cfg.cgi == CFG_YES && !unit_apache_command(unit)) {
                log_error("--cgi makes Apache pass PYTHONPATH to CGI scripts; %s is not Apache (apache2 or httpd)", unit);
                return -PS_E_INVALID;
        }
        if (o->user) {
                free(a.cfg.user);
                a.cfg.user = xstrdup(o->user);
        } else if (!a.cfg.user || (wired && !strv_contains(wired, unit))) {
                free(a.cfg.user);
                a.cfg.user = NULL;
                if ((r = detect_user(x, unit, &a.cfg.user)) < 0)
                        return r;
                if (!user_name_valid(a.cfg.user)) {
                        log_error("%s runs as '%s', a name pyshare does not accept; pass --user=USER", unit, a.cfg.user);
                        return -PS_E_INVALID;
                }
        }
        int rootfd = x->root ? x->rootfd : -1;
        r = user_lookup(rootfd, a.cfg.user, &a.user);
        if (r == -PS_E_NOTFOUND) {
                log_error("user %s does not exist%s: create it, or pass --user=USER", a.cfg.user,
                          x->root ? " in the image" : "");
                return r;
        }
        if (r < 0) {
                log_error("cannot look up user %s: %s", a.cfg.user, strerror(-r));
                return r;
        }
        a.have_user = true;
        r = group_lookup(rootfd, a.cfg.group, &a.gid, NULL);
        if (r == -PS_E_NOTFOUND && x->root) {
                log_error("group %s does not exist in the image: create it there first (chroot %s groupadd --system %s)",
                          a.cfg.group, x->root, a.cfg.group);
                return r;
        }
        if (r < 0 && r != -PS_E_NOTFOUND) {
                log_error("cannot look up group %s: %s", a.cfg.group, strerror(-r));
                return r;
        }
        a.group_exists = r >= 0;
        if ((r = refuse_unsafe_ids(x, &a)) < 0 || (r = refuse_unit_groups(x, &a, unit)) < 0)
                return r;

        _cleanup_close_ int lockfd = -1;
        if ((r = take_lock(x, &lockfd)) < 0)
                return r;
        _cleanup_close_ int checked_prefix = -1;
        if ((r = open_prefix(x, a.cfg.prefix, PREFIX_OPEN_CHECK, &checked_prefix)) < 0 ||
            (r = check_acl_support(x, a.cfg.prefix)) < 0)
                return r;

        _cleanup_actions_ struct actions acts = {0};
        bool changed_tree = false;
        log_info("%s %s: venv %s, service %s, user %s, group %s", x->dry_run ? "plan for setup" : "setup", app_name,
                 a.venv, unit, a.user.name, a.cfg.group);

        /* 1. the deploy group */
        if (!a.group_exists) {
                if (x->dry_run)
                        log_info("would create the system group %s", a.cfg.group);
                else {
                        _cleanup_free_ char *out = NULL;
                        r = group_create_system(a.cfg.group, &out);
                        if (r < 0) {
                                log_error("cannot create group %s with groupadd: %s", a.cfg.group,
                                          out ? strstrip(out) : strerror(-r));
                                return r;
                        }
                        if ((r = group_lookup(-1, a.cfg.group, &a.gid, NULL)) < 0) {
                                log_error("group %s was created but cannot be found", a.cfg.group);
                                return r;
                        }
                        log_info("created the system group %s (gid %u)", a.cfg.group, (unsigned)a.gid);
                        changed_tree = true;
                }
        }

        /* 2. the prefix and the venv */
        _cleanup_close_ int pfd = -1;
        if ((r = prepare_prefix(x, a.cfg.prefix, &pfd)) < 0)
                return r;
        enum venv_state vs = VENV_MISSING;
        if (pfd >= 0 && (r = venv_state(pfd, app_name, &vs)) < 0) {
                log_error("cannot look at %s: %s", a.venv, strerror(-r));
                return r;
        }
        _cleanup_free_ char *sv = shown(x, a.venv);
        if (vs == VENV_NOT_A_VENV) {
                log_error("%s exists and is not a virtualenv: move it away, or choose another app name or --prefix", sv);
                return -EEXIST;
        }
        if (vs == VENV_MISSING || vs == VENV_INCOMPLETE) {
                if (x->dry_run)
                        log_info("would %s the virtualenv %s with %s", vs == VENV_INCOMPLETE ? "recreate (interrupted before)" : "create",
                                 sv, a.cfg.python);
                else {
                        long long t0 = now_ms();
                        _cleanup_free_ char *out = NULL;
                        r = venv_create(pfd, app_name, a.venv, a.cfg.python, x->root, &out);
                        if (r < 0) {
                                log_error("cannot create the virtualenv %s with %s -m venv: %s%s%s", sv, a.cfg.python,
                                          strerror(-r), out ? "\n" : "", out ? strstrip(out) : "");
                                return r;
                        }
                        log_info("created the virtualenv %s with %s (%lld ms)", sv, a.cfg.python, now_ms() - t0);
                        changed_tree = true;
                }
        } else if (vs == VENV_FOREIGN) {
                if (x->dry_run)
                        log_info("would adopt the existing virtualenv %s", sv);
                else {
                        _cleanup_close_ int vfd = openat(pfd, app_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (vfd < 0 || venv_marker_write(vfd, VENV_ORIGIN_ADOPTED) < 0) {
                                log_error("cannot adopt %s: %s", sv, strerror(errno));
                                return -EIO;
                        }
                        log_info("adopted the existing virtualenv %s", sv);
                        changed_tree = true;
                }
        }

        /* 3. permissions */
        struct perms_stats st = {0};
        if (pfd >= 0 && !(x->dry_run && (vs == VENV_MISSING || vs == VENV_INCOMPLETE))) {
                r = apply_tree(x, &a, &st);
                if (r < 0) {
                        perms_stats_free(&st);
                        return r;
                }
                if (st.changed)
                        changed_tree = true;
                if (st.changed || x->dry_run)
                        print_perms_stats(x, &st);
        } else if (x->dry_run)
                log_info("would set owner root:%s, modes and ACLs (u:%s:r-x, g:%s:rwx, defaults) on %s", a.cfg.group,
                         a.user.name, a.cfg.group, sv);

        /* 4. the package's requirements, by pip as _pyshare, then the walk again for what pip wrote */
        if (pfd >= 0 && !(x->dry_run && (vs == VENV_MISSING || vs == VENV_INCOMPLETE))) {
                bool installed = false;
                if ((r = install_requirements(x, &a, &installed)) < 0) {
                        perms_stats_free(&st);
                        return r;
                }
                if (installed && !x->dry_run) {
                        changed_tree = true;
                        perms_stats_free(&st);
                        st = (struct perms_stats){0};
                        if ((r = apply_tree(x, &a, &st)) < 0) {
                                perms_stats_free(&st);
                                return r;
                        }
                }
        }

        /* 5. files */
        _cleanup_strv_ char **pythonpath = NULL;
        struct pth_info pth = {0};
        if (venv_pythonpath(x, &a, &pythonpath, &pth) < 0) {
                if (!x->dry_run) {
                        log_error("cannot find site-packages in %s: is it a virtualenv of Python 3?", sv);
                        perms_stats_free(&st);
                        return -ENOENT;
                }
                strv_consume(&pythonpath, xasprintf("%s/lib/python3.X/site-packages", a.venv));
        }
        report_pth(&pth);

        /* Without a package's settings /etc keeps every setting. With them, /etc keeps only what
         * was given here or before and differs from the package's, so that a package upgrade that
         * changes them takes effect (defaults are not written: they would override it). */
        _cleanup_config_ struct app_config own = {0};
        if (!have_vendor)
                config_overlay(&own, &a.cfg);
        else {
                config_overlay(&own, &etc_prev);
                const struct app_config given = {
                        .python = (char *)o->python, .group = (char *)o->group, .prefix = (char *)o->prefix,
                        .service = o->service ? unit : NULL, .user = (char *)o->user,
                        .modules = o->modules ? a.cfg.modules : NULL,
                        .cgi = o->cgi >= 0 ? a.cfg.cgi : CFG_UNSET, .watch = o->watch >= 0 ? a.cfg.watch : CFG_UNSET,
                };
                config_overlay(&own, &given);
                if (!vendor.user && !own.user)
                        own.user = xstrdup(a.cfg.user);
                else if (!vendor.user && !o->user) {
                        free(own.user);
                        own.user = xstrdup(a.cfg.user); /* detected again for a new service */
                }
                config_subtract(&own, &vendor);
        }
        _cleanup_free_ char *conf = config_format(&own), *envtext = app_env_text(&a, pythonpath);
        _cleanup_free_ char *conf_name = xasprintf("%s.conf", app_name), *env_name = xasprintf("%s.env", app_name);
        _cleanup_free_ char *tmpfiles_name = xasprintf("pyshare-%s.conf", app_name);
        _cleanup_free_ char *tmpfiles = unit_tmpfiles_text(app_name, a.venv, a.user.name, a.cfg.group);
        bool dropin_changed = false, env_changed = false, old_dropin = false, old_env = false;
        if ((r = write_file(x, ETC_DIR, conf_name, conf, &acts)) < 0 || (r = write_file(x, ETC_DIR, env_name, envtext, &acts)) < 0 ||
            (r = write_service_files(x, unit, NULL, &acts, &dropin_changed, &env_changed)) < 0 ||
            (r = write_file(x, TMPFILES_DIR, tmpfiles_name, tmpfiles, &acts)) < 0) {
                perms_stats_free(&st);
                return r;
        }
        /* Moved to another service: take the app out of the old one's files. */
        for (size_t i = 0; wired && wired[i]; i++) {
                bool d = false, e = false;
                if (strcmp(wired[i], unit) == 0)
                        continue;
                if ((r = write_service_files(x, wired[i], NULL, &acts, &d, &e)) < 0) {
                        perms_stats_free(&st);
                        return r;
                }
                old_dropin = old_dropin || d;
                old_env = old_env || e;
        }

        bool cgi_changed = false, watch_changed = false;
        if ((r = update_cgi_conf(x, NULL, &acts, &cgi_changed)) < 0 ||
            (r = update_watch(x, &a, a.cfg.watch == CFG_YES, &acts, &watch_changed)) < 0) {
                perms_stats_free(&st);
                return r;
        }
        const char *reload_state, *restart_state;
        reload_systemd(x, dropin_changed || old_dropin || watch_changed, &reload_state);
        if (watch_changed && a.cfg.watch == CFG_YES && !x->dry_run && !x->root && bus_systemd_running()) {
                _cleanup_free_ char *path_unit = xasprintf("pyshare-repair@%s.path", app_name);
                if ((r = bus_start_unit(path_unit)) < 0)
                        log_warning("cannot start %s: %s; run `systemctl start %s`", path_unit, strerror(-r), path_unit);
                else
                        log_info("started %s: pip installs into %s are repaired without a command", path_unit, a.venv);
        }
        r = restart_or_hint(x, unit, o->restart, env_changed || dropin_changed || cgi_changed, &restart_state);
        if (r < 0) {
                perms_stats_free(&st);
                return r;
        }

        bool anything = changed_tree || acts.changed;
        if (!x->json)
                log_info("%s %s: %s", x->dry_run ? "plan for setup" : "setup", app_name,
                         x->dry_run ? (anything ? "the changes above would be made; nothing was changed" : "nothing to change")
                                    : (anything ? "done" : "nothing to change, everything was already in place"));

        struct json j = {0};
        if (x->json) {
                json_obj_begin(&j, NULL);
                json_str(&j, "app", app_name);
                json_bool(&j, "dry_run", x->dry_run);
                json_bool(&j, "changed", anything);
                json_str(&j, "venv", a.venv);
                json_str(&j, "service", unit);
                json_str(&j, "user", a.user.name);
                json_str(&j, "group", a.cfg.group);
                json_strv(&j, "files_changed", acts.changed);
                json_strv(&j, "files_unchanged", acts.unchanged);
                json_obj_begin(&j, "permissions");
                json_perms_stats(&j, &st);
                json_obj_end(&j);
                json_str(&j, "reload", reload_state);
                json_str(&j, "restart", restart_state);
        }
        perms_stats_free(&st);

        int result = 0;
        if (o->no_probe || x->dry_run || x->root) {
                if (x->root && !o->no_probe)
                        log_info("not probing inside an image: run `pyshare probe %s` in it once it runs", app_name);
        } else
                result = run_probe(x, &a, NULL, false, 30, x->json ? &j : NULL, "probe");
        if (x->json) {
                json_obj_end(&j);
                json_flush(&j);
        }
        return result;
}

/* ---- probe -------------------------------------------------------------------------------- */

int verb_probe(struct ctx *x, const char *app_name, const struct probe_opts *o)
{
        int r = check_app_name(app_name);
        if (r < 0)
                return r;
        for (size_t i = 0; o->modules && o->modules[i]; i++)
                if (!module_name_valid(o->modules[i])) {
                        log_error("invalid module name '%s': give an importable name such as numpy or flask.json",
                                  o->modules[i]);
                        return -PS_E_USAGE;
                }
        if (x->root) {
                log_error("the probe runs on the live system, not in an image: run `pyshare probe %s` inside it", app_name);
                return -PS_E_USAGE;
        }
        if (geteuid() != 0) {
                log_error("the probe starts as root and drops to the service user: run it as root (sudo pyshare probe %s)",
                          app_name);
                return -PS_E_NOTROOT;
        }
        log_set_app(app_name);
        _cleanup_app_ struct app a = {0};
        if ((r = load_app(x, app_name, &a)) < 0)
                return r;
        if (bus_systemd_running()) {
                /* Probe as the user the service runs as now, not only as setup found it. */
                _cleanup_free_ char *now = current_service_user(a.cfg.service);
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
        r = run_probe(x, &a, o->modules, o->interpreter, o->timeout_sec, x->json ? &j : NULL, NULL);
        if (x->json)
                json_flush(&j);
        return r;
}

/* ---- repair ------------------------------------------------------------------------------- */

static int refresh_env_files(const struct ctx *x, const struct app *a, struct actions *acts, bool *ret_env_changed)
{
        _cleanup_strv_ char **pythonpath = NULL;
        struct pth_info pth = {0};
        _cleanup_free_ char *sv = shown(x, a->venv);
        if (venv_pythonpath(x, a, &pythonpath, &pth) < 0) {
                log_error("cannot find site-packages in %s: run `pyshare setup %s`", sv, a->name);
                return -ENOENT;
        }
        report_pth(&pth);
        _cleanup_free_ char *envtext = app_env_text(a, pythonpath), *env_name = xasprintf("%s.env", a->name);
        bool dropin_changed = false;
        int r;
        if ((r = write_file(x, ETC_DIR, env_name, envtext, acts)) < 0 ||
            (r = write_service_files(x, a->cfg.service, NULL, acts, &dropin_changed, ret_env_changed)) < 0)
                return r;
        const char *state;
        reload_systemd(x, dropin_changed, &state);
        return 0;
}

/* The start of a verb that changes an app that is set up: name, root, settings, the lock. */
static int begin_change(struct ctx *x, const char *verb, const char *app_name, struct app *a, int *ret_lockfd)
{
        int r = check_app_name(app_name);
        if (r < 0 || (r = need_root(x, verb, app_name)) < 0)
                return r;
        log_set_app(app_name);
        if ((r = load_app(x, app_name, a)) < 0)
                return r;
        return take_lock(x, ret_lockfd);
}

int verb_repair(struct ctx *x, const char *app_name)
{
        _cleanup_app_ struct app a = {0};
        _cleanup_close_ int lockfd = -1;
        int r = begin_change(x, "repair", app_name, &a, &lockfd);
        if (r < 0)
                return r;

        struct perms_stats st = {0};
        long long t0 = now_ms();
        r = apply_tree(x, &a, &st);
        if (r < 0) {
                perms_stats_free(&st);
                return r;
        }
        long long took = now_ms() - t0;
        _cleanup_actions_ struct actions acts = {0};
        bool env_changed = false;
        if ((r = refresh_env_files(x, &a, &acts, &env_changed)) < 0) {
                perms_stats_free(&st);
                return r;
        }
        if (x->json) {
                struct json j = {0};
                json_obj_begin(&j, NULL);
                json_str(&j, "app", app_name);
                json_bool(&j, "dry_run", x->dry_run);
                json_perms_stats(&j, &st);
                json_int(&j, "milliseconds", took);
                json_strv(&j, "files_changed", acts.changed);
                json_obj_end(&j);
                json_flush(&j);
        } else {
                print_perms_stats(x, &st);
                log_info("repair %s: %s (%lld ms)", app_name,
                         st.changed || acts.changed ? (x->dry_run ? "the changes above would be made" : "done")
                                                    : "nothing to change",
                         took);
        }
        const char *state;
        restart_or_hint(x, a.cfg.service, false, env_changed, &state);
        perms_stats_free(&st);
        return 0;
}

/* ---- remove ------------------------------------------------------------------------------- */

/* Deletes PREFIX/APP only when pyshare created it (venv_purge_check), below a prefix that
 * passes the ownership rule: there nobody but root can swap the directory that was checked
 * for another before it is deleted. Anything else is left alone, with the reason. */
static int purge_venv(const struct ctx *x, const char *prefix, const char *app, const char *sv, const char *note,
                      bool *ret_purged)
{
        _cleanup_close_ int pfd = -1;
        struct prefix_problem pp = {0};
        *ret_purged = false;
        int r = prefix_open(x->rootfd, prefix, PREFIX_OPEN_EXISTING, &pfd, NULL, &pp);
        if (r < 0 && pp.path && pp.why != PREFIX_MISSING) {
                _cleanup_free_ char *why = prefix_problem_text(&pp, prefix, x->root);
                log_notice("left %s alone: %s", sv, why);
        } else if (r < 0 && r != -ENOENT)
                log_error("cannot open %s: %s", prefix, strerror(-r));
        prefix_problem_free(&pp);
        if (r < 0)
                return r == -ENOENT || r == -ENOTDIR || r == -PS_E_INVALID ? 0 : r;
        enum venv_purge vp;
        _cleanup_free_ char *why = NULL;
        if ((r = venv_purge_check(pfd, app, &vp, &why)) < 0) {
                log_error("cannot look at %s: %s", sv, strerror(-r));
                return r;
        }
        if (vp == VENV_PURGE_ADOPTED)
                log_notice("left the files of %s in place: pyshare adopted that virtualenv rather than creating it, "
                           "so they are not pyshare's to delete",
                           sv);
        else if (vp == VENV_PURGE_NOT_OURS)
                log_notice("left %s alone: %s", sv, why);
        if (vp != VENV_PURGE_DELETE)
                return 0;
        if (x->dry_run)
                log_info("would delete the virtualenv %s", sv);
        else if ((r = rmtree_at(pfd, app)) < 0) {
                log_error("cannot delete %s: %s%s", sv, strerror(-r),
                          r == -EXDEV ? " (a mount point inside it: unmount it first)" : "");
                return r;
        } else
                log_info("deleted the virtualenv %s%s", sv, note);
        *ret_purged = true;
        return 0;
}

int verb_remove(struct ctx *x, const char *app_name, bool purge)
{
        int r = check_app_name(app_name);
        if (r < 0 || (r = need_root(x, "remove", app_name)) < 0)
                return r;
        log_set_app(app_name);
        _cleanup_close_ int lockfd = -1;
        if ((r = take_lock(x, &lockfd)) < 0)
                return r;
        _cleanup_config_ struct app_config c = {0};
        bool exists;
        if ((r = load_config(x, app_name, &c, &exists)) < 0)
                return r;
        if (!exists && purge) {
                /* Removed before, venv kept: --purge now deletes it, if it is pyshare's. */
                _cleanup_config_ struct app_config vc = {0};
                bool v;
                if ((r = load_vendor_config(x, app_name, NULL, &vc, &v)) < 0)
                        return r;
                const char *prefix = vc.prefix ? vc.prefix : DEFAULT_PREFIX;
                _cleanup_free_ char *venv = xasprintf("%s/%s", prefix, app_name), *sv = shown(x, venv);
                bool purged = false;
                if ((r = purge_venv(x, prefix, app_name, sv, " (the app was removed before)", &purged)) < 0 || purged)
                        return r;
        }
        if (!exists) {
                log_info("remove %s: nothing to remove (no /%s/%s.conf)", app_name, ETC_DIR, app_name);
                if (x->json) {
                        struct json j = {0};
                        json_obj_begin(&j, NULL);
                        json_str(&j, "app", app_name);
                        json_bool(&j, "changed", false);
                        json_obj_end(&j);
                        json_flush(&j);
                }
                return 0;
        }
        _cleanup_free_ char *unit = NULL;
        unit_name_normalize(c.service ? c.service : default_service(x), &unit);
        const char *prefix = c.prefix ? c.prefix : DEFAULT_PREFIX;
        _cleanup_free_ char *venv = xasprintf("%s/%s", prefix, app_name), *sv = shown(x, venv);

        /* The app's own config goes last: until then a rerun knows what to remove. */
        _cleanup_actions_ struct actions acts = {0};
        bool dropin_changed = false, env_changed = false;
        _cleanup_free_ char *conf_name = xasprintf("%s.conf", app_name), *env_name = xasprintf("%s.env", app_name);
        _cleanup_free_ char *tmpfiles_name = xasprintf("pyshare-%s.conf", app_name);
        if ((r = write_service_files(x, unit, app_name, &acts, &dropin_changed, &env_changed)) < 0 ||
            (r = remove_file(x, TMPFILES_DIR, tmpfiles_name, &acts)) < 0 || (r = remove_file(x, ETC_DIR, env_name, &acts)) < 0)
                return r;
        bool purged = false;
        if (purge && (r = purge_venv(x, prefix, app_name, sv, "", &purged)) < 0)
                return r;
        bool cgi_changed = false, watch_changed = false;
        struct app wa = {.name = app_name, .venv = venv, .cfg = c};
        if ((r = update_cgi_conf(x, app_name, &acts, &cgi_changed)) < 0 ||
            (r = update_watch(x, &wa, false, &acts, &watch_changed)) < 0 || (r = remove_file(x, ETC_DIR, conf_name, &acts)) < 0)
                return r;
        const char *reload_state, *restart_state;
        reload_systemd(x, dropin_changed || watch_changed, &reload_state);
        restart_or_hint(x, unit, false, env_changed || dropin_changed, &restart_state);
        if (!purge)
                log_info("kept the virtualenv %s (remove --purge deletes it)", sv);
        log_info("remove %s: %s", app_name, x->dry_run ? "the changes above would be made" : "done");
        if (x->json) {
                struct json j = {0};
                json_obj_begin(&j, NULL);
                json_str(&j, "app", app_name);
                json_bool(&j, "dry_run", x->dry_run);
                json_bool(&j, "changed", true);
                json_strv(&j, "files_removed", acts.changed);
                json_bool(&j, "purged", purged);
                json_str(&j, "reload", reload_state);
                json_obj_end(&j);
                json_flush(&j);
        }
        return 0;
}

/* ---- list, status ------------------------------------------------------------------------- */

int verb_list(struct ctx *x)
{
        _cleanup_strv_ char **apps = NULL;
        int r = list_apps(x, &apps);
        if (r < 0) {
                log_error("cannot read /%s: %s", ETC_DIR, strerror(-r));
                return r;
        }
        struct json j = {0};
        if (x->json) {
                json_obj_begin(&j, NULL);
                json_arr_begin(&j, "apps");
        }
        for (size_t i = 0; apps && apps[i]; i++) {
                _cleanup_config_ struct app_config c = {0};
                bool exists;
                if (load_config(x, apps[i], &c, &exists) < 0 || !exists)
                        continue;
                _cleanup_free_ char *unit = NULL;
                unit_name_normalize(c.service ? c.service : default_service(x), &unit);
                _cleanup_free_ char *venv = xasprintf("%s/%s", c.prefix ? c.prefix : DEFAULT_PREFIX, apps[i]);
                if (x->json) {
                        json_obj_begin(&j, NULL);
                        json_str(&j, "app", apps[i]);
                        json_str(&j, "service", unit);
                        json_str(&j, "user", c.user);
                        json_str(&j, "venv", venv);
                        json_obj_end(&j);
                } else
                        printf("%-20s %-24s %-12s %s\n", apps[i], unit, c.user ? c.user : "?", venv);
        }
        if (x->json) {
                json_arr_end(&j);
                json_obj_end(&j);
                json_flush(&j);
        }
        return 0;
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
                strv_consume(&problems, prefix_problem_text(&pp, a.cfg.prefix, x->root));
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
        struct perms_stats st = {0};
        _cleanup_strv_ char **notes = NULL;
        if (vs == VENV_READY && a.group_exists && a.have_user) {
                const struct perms_target t = {.user = a.user.uid, .group = a.gid};
                if (perms_apply(pfd, app_name, a.venv, &t, true, &st) >= 0 && st.changed)
                        strv_consume(&notes, xasprintf("%lu entries differ from pyshare's owners, modes or ACLs "
                                                       "(pyshare repair %s puts them right)",
                                                       st.changed, app_name));
                _cleanup_free_ gid_t *gids = NULL;
                size_t ngids = 0;
                struct perms_finding *f = NULL;
                size_t nf = 0;
                if (!x->root && user_groups(&a.user, &gids, &ngids) >= 0 &&
                    perms_find_unreadable(a.venv, a.user.uid, gids, ngids, 8, &f, &nf) >= 0) {
                        for (size_t i = 0; i < nf; i++)
                                strv_consume(&problems, describe_finding(x, &a, &f[i]));
                        perms_findings_free(f, nf);
                }
        }

        _cleanup_strv_ char **pythonpath = NULL;
        _cleanup_free_ char *env_name = xasprintf("%s.env", app_name), *svc_name = xasprintf("%s.env", a.cfg.service);
        _cleanup_strv_ char **appenv = read_env_file(x, ETC_DIR, env_name), **svcenv = read_env_file(x, SERVICES_DIR, svc_name);
        if (vs == VENV_READY && venv_pythonpath(x, &a, &pythonpath, NULL) >= 0) {
                _cleanup_free_ char *want = strv_join(pythonpath, ":");
                const char *have = env_get(appenv, "PYTHONPATH");
                if (!have || strcmp(have, want) != 0)
                        strv_consume(&problems, xasprintf("/%s/%s is %s: run `pyshare repair %s`", ETC_DIR, env_name,
                                                          have ? "out of date" : "missing", app_name));
                const char *svc = env_get(svcenv, "PYTHONPATH");
                if (!svc || !strstr(svc, pythonpath[0]))
                        strv_consume(&problems, xasprintf("/%s/%s does not carry %s's PYTHONPATH: run `pyshare setup %s`",
                                                          SERVICES_DIR, svc_name, app_name, app_name));
        }
        _cleanup_free_ char *dropin_rel = xasprintf(SYSTEMD_DIR "/%s.d/" DROPIN_NAME, a.cfg.service);
        _cleanup_free_ char *tmpfiles_rel = xasprintf(TMPFILES_DIR "/pyshare-%s.conf", app_name);
        struct stat fst;
        if (fstatat(x->rootfd, dropin_rel, &fst, AT_SYMLINK_NOFOLLOW) < 0)
                strv_consume(&problems, xasprintf("/%s is missing: run `pyshare setup %s`", dropin_rel, app_name));
        if (fstatat(x->rootfd, tmpfiles_rel, &fst, AT_SYMLINK_NOFOLLOW) < 0)
                strv_consume(&problems, xasprintf("/%s is missing: run `pyshare setup %s`", tmpfiles_rel, app_name));
        bool need_reload = false, active = false;
        if (!x->root && bus_systemd_running() && bus_unit_state(a.cfg.service, &active, &need_reload) >= 0) {
                if (need_reload)
                        strv_consume(&problems, xasprintf("%s's unit files changed since systemd loaded them: run "
                                                          "`systemctl daemon-reload`",
                                                          a.cfg.service));
                /* An EnvironmentFile newer than the running service: it still has the old one. */
                _cleanup_free_ char *svc_rel = xasprintf(SERVICES_DIR "/%s.env", a.cfg.service);
                uint64_t started = 0;
                struct stat est;
                if (active && bus_unit_started_usec(a.cfg.service, &started) >= 0 && started > 0 &&
                    fstatat(x->rootfd, svc_rel, &est, 0) == 0 &&
                    (uint64_t)est.st_mtim.tv_sec * 1000000 + (uint64_t)est.st_mtim.tv_nsec / 1000 > started)
                        strv_consume(&problems, xasprintf("%s is running with the old environment (/%s changed after it "
                                                          "started): systemctl restart %s",
                                                          a.cfg.service, svc_rel, a.cfg.service));
        }

        bool ok = !problems;
        if (x->json) {
                json_obj_begin(j, NULL);
                json_str(j, "app", app_name);
                json_bool(j, "ok", ok);
                json_str(j, "venv", a.venv);
                json_str(j, "python", a.cfg.python);
                json_str(j, "group", a.cfg.group);
                json_str(j, "service", a.cfg.service);
                json_str(j, "user", a.cfg.user);
                json_str(j, "prefix", a.cfg.prefix);
                json_strv(j, "modules", a.cfg.modules);
                json_strv(j, "problems", problems);
                json_strv(j, "notes", notes);
                json_obj_end(j);
        } else {
                _cleanup_free_ char *mods = strv_join(a.cfg.modules, " ");
                printf("%s: %s\n  venv     %s\n  python   %s\n  service  %s (user %s)\n  group    %s\n  modules  %s\n",
                       app_name, ok ? "ok" : "PROBLEMS", a.venv, a.cfg.python, a.cfg.service, a.cfg.user, a.cfg.group,
                       mods && *mods ? mods : "(all installed)");
                for (size_t i = 0; problems && problems[i]; i++)
                        printf("  problem: %s\n", problems[i]);
                for (size_t i = 0; notes && notes[i]; i++)
                        printf("  note: %s\n", notes[i]);
        }
        perms_stats_free(&st);
        return ok ? 0 : -PS_E_PROBLEM;
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
                json_obj_end(&j);
                json_flush(&j);
        }
        return result;
}

/* ---- pip ---------------------------------------------------------------------------------- */

int verb_pip(struct ctx *x, const char *app_name, char *const *args)
{
        if (x->dry_run) {
                log_error("pyshare pip cannot --dry-run: pip itself decides what it changes");
                return -PS_E_USAGE;
        }
        _cleanup_app_ struct app a = {0};
        _cleanup_close_ int lockfd = -1;
        int r = begin_change(x, "pip", app_name, &a, &lockfd);
        if (r < 0)
                return r;
        log_info("pip %s as %s in group %s", a.venv, PIP_USER, a.cfg.group);
        if ((r = run_pip(x, &a, args, false)) < 0)
                return r;
        struct perms_stats st = {0};
        r = apply_tree(x, &a, &st);
        print_perms_stats(x, &st);
        perms_stats_free(&st);
        if (r < 0)
                return r;
        _cleanup_actions_ struct actions acts = {0};
        bool env_changed = false;
        if ((r = refresh_env_files(x, &a, &acts, &env_changed)) < 0)
                return r;
        const char *state;
        restart_or_hint(x, a.cfg.service, false, env_changed, &state);
        return 0;
}
