/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.0: the app model — the command's context, an app's settings (the package's under
 * /etc's, the defaults said once), its user and group and their checks, the list of apps, the
 * lock. Shared by wiring, the tree and the verbs; it reports its errors itself (the verbs'
 * layer). */
#pragma once
#include "config.h"
#include "users.h"
#include "util.h"

#define ETC_DIR "etc/pyshare"
#define VENDOR_DIR "usr/lib/pyshare"
#define SERVICES_DIR "etc/pyshare/services"
#define TMPFILES_DIR "etc/tmpfiles.d"
#define SYSTEMD_DIR "etc/systemd/system"
#define DROPIN_NAME "50-pyshare.conf"
#define LOCK_PATH "/run/pyshare.lock"
#define DEFAULT_PYTHON "/usr/bin/python3"
#define DEFAULT_GROUP "deploy"
#define DEFAULT_PREFIX "/opt/pyshare"

/* The app a verb is about to write, as the files will say once written: wiring.c reads the
 * other apps from their files and this one from here, so that a dry run (which writes nothing)
 * plans the service's files exactly as the real run writes them. */
struct planned_app {
        const char *name;
        const struct app_config *cfg; /* its settings, defaults included */
        char *const *pythonpath;       /* what its EnvironmentFile says */
};

struct ctx {
        const char *root; /* --root, or NULL for the running system */
        int rootfd;
        bool dry_run, json;
        bool diff; /* --diff: the old and new content of every file written */
        int lock_timeout; /* seconds */
        const struct planned_app *planned;
};

/* Everything about one app, its settings completed and its names resolved. */
struct app {
        const char *name;
        struct app_config cfg;
        struct ps_user user;    /* the service user: the first User= */
        struct ps_user *more_users; /* the other users that read the venv (User= lines after the first) */
        size_t n_more;
        bool have_user;
        gid_t gid;
        bool group_exists;
        char *venv;      /* PREFIX/APP as the system sees it */
        char *venv_rel;  /* the same relative to the root fd */
        char *prefix_rel;
};

void app_free(struct app *a);
#define _cleanup_app_ _cleanup_(app_free)

/* The service of an app whose settings name none: decided on this system (or image). */
const char *default_service(const struct ctx *x);
/* The defaults of every setting the files leave out, said once; the service name normalised. */
void app_config_defaults(const struct ctx *x, struct app_config *c);
/* What setup writes to /etc/pyshare/APP.conf. Without a package's settings (vendor NULL) every
 * setting of cfg. With them, only what was given now (given) or before (etc_prev) and differs
 * from the package's, so that a package upgrade that changes them takes effect (defaults are
 * not written: they would override it); the user, when the package names none, always. */
void app_config_to_keep(const struct app_config *cfg, const struct app_config *vendor,
                        const struct app_config *etc_prev, const struct app_config *given, struct app_config *own);
/* A path as the user finds it on this machine (under --root, below the root). */
char *shown(const struct ctx *x, const char *path);
/* Where users and groups are looked up: in the image under --root, else on the host (-1). */
int ids_root(const struct ctx *x);

int need_root(const struct ctx *x, const char *verb, const char *app);
int check_app_name(const char *app);
int take_lock(const struct ctx *x, int *ret_fd);

/* /etc/pyshare/APP.conf alone; the package's (--from FILE or /usr/lib/pyshare/APP.conf)
 * alone; /etc's over the package's for an app that is set up. *ret_exists false when absent. */
int load_etc_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists);
int load_vendor_config(const struct ctx *x, const char *app, const char *from, struct app_config *c,
                       bool *ret_exists);
int load_config(const struct ctx *x, const char *app, struct app_config *c, bool *ret_exists);

/* The settings of an app that is set up, completed by the defaults: 1, or 0 when it is not set
 * up or they cannot be read (said already). */
int app_settings(const struct ctx *x, const char *app, struct app_config *c);
void app_paths(struct app *a);
int refuse_unsafe_ids(const struct ctx *x, struct app *a);
/* Looks up the users of cfg.more_users into a->more_users (one whose uid is already there is
 * left out); how is appended to the error when one does not exist. */
int app_lookup_more_users(const struct ctx *x, struct app *a, const char *how);
/* Adds to a->cfg.more_users (and to *proposed) every user that the enabled Apache configuration
 * of unit runs a WSGIDaemonProcess as whose python-home= or python-path= names the venv, saying
 * so (the checks of every user then apply to it). */
void app_propose_daemon_users(const struct ctx *x, struct app *a, const char *unit, const char *shown_venv,
                             char ***proposed);
/* The uids of the other readers, for a perms_target (at most 7). */
size_t app_more_uids(const struct app *a, uid_t *ret, size_t max);

int refuse_unit_groups(const struct ctx *x, const struct app *a, const char *unit);
/* The settings, paths, user and group of an app that is set up. */
int load_app(const struct ctx *x, const char *name, struct app *a);
/* The start of a verb that changes an app that is set up: name, root, settings, the lock. */
int begin_change(struct ctx *x, const char *verb, const char *app_name, struct app *a, int *ret_lockfd);
/* Opens the venv's site-packages (lib/pythonX.Y/site-packages, its path relative to the venv
 * in *ret_rel when asked). */
int app_open_site_packages(const struct ctx *x, const struct app *a, int *ret_fd, char **ret_rel);
/* Names of the apps with a valid /etc/pyshare/APP.conf, sorted. */
int list_apps(const struct ctx *x, char ***ret);

/* Says why a directory below the root cannot be opened or created (bad: the offending
 * component), and returns the error. */
int report_dir_error(const struct ctx *x, const char *dir_rel, int r, const char *bad);
