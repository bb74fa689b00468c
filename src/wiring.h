/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 4.1: pyshare's files on the system and what makes the service see them — writing and
 * removing them, the app's and the service's EnvironmentFiles, the drop-in, Apache's CGI conf,
 * the repair path unit (--watch), daemon-reload and the restart. */
#pragma once
#include "app.h"
#include "output.h"
#include "util.h"
#include "venv.h"

/* The old and new content of a file pyshare changed (--diff): NULL when it did not exist or
 * no longer does; a symlink's are its targets. */
struct file_diff {
        char *path, *before, *after;
        bool symlink;
};

/* Files written or removed, for the summary and --json. */
struct actions {
        char **changed, **unchanged;
        struct file_diff *diffs; /* with --diff only */
        size_t n_diffs;
};

void actions_free(struct actions *a);
#define _cleanup_actions_ _cleanup_(actions_free)

/* Writes (atomically, only when the content differs) or removes dir_rel/name below the root,
 * in directories only root can change; says what it did, records it in acts. */
int write_file(const struct ctx *x, const char *dir_rel, const char *name, const char *content,
               struct actions *acts);
int remove_file(const struct ctx *x, const char *dir_rel, const char *name, struct actions *acts);

/* Enables a unit or conf as systemctl enable or a2enconf do: dir_rel/name a symlink to target.
 * label names it in messages, how says what does the same by hand. */
int link_file(const struct ctx *x, const char *dir_rel, const char *name, const char *target, const char *label,
              const char *how, struct actions *acts);
/* With --diff: the "diff" array of --json (path, before, after, symlink). */
void json_diffs(struct json *j, const struct ctx *x, const struct actions *acts);

/* PYTHONPATH of the venv: site-packages, then the directories its .pth files name. */
int venv_pythonpath(const struct ctx *x, const struct app *a, char ***ret, struct pth_info *ret_pth);
/* The app's own EnvironmentFile; -EINVAL when a value cannot be written (env_value_check). */
int app_env_text(const struct app *a, char *const *pythonpath, char **ret);
/* The same, after checking (and saying, naming the app, the size and the fix) that this
 * PYTHONPATH fits an EnvironmentFile value, alone and merged with those of unit's other apps.
 * Called before anything is written. */
int app_env_check(const struct ctx *x, const struct app *a, const char *unit, char *const *pythonpath,
                  char **ret_envtext);
/* What the .pth files held that PYTHONPATH does not carry: said by every verb that writes it. */
void report_pth(struct pth_info *pth);
/* An EnvironmentFile below the root, parsed (NULL when absent or unreadable). */
char **read_env_file(const struct ctx *x, const char *dir_rel, const char *name);
/* Whether the header of a service's merged EnvironmentFile ("; apps: a, b.") lists app. */
bool service_env_lists(const char *text, const char *app);
/* The services whose merged EnvironmentFile lists app (from the header pyshare writes). */
char **services_listing(const struct ctx *x, const char *app);
/* Rewrites the service's merged EnvironmentFile and its drop-in from the apps attached to it
 * (but exclude), or removes both when none is left. */
int write_service_files(const struct ctx *x, const char *unit, const char *exclude, struct actions *acts,
                        bool *ret_dropin_changed, bool *ret_env_changed);
/* Apache's conf that passes PYTHONPATH to CGI scripts, while some app (but exclude) wants it. */
int update_cgi_conf(const struct ctx *x, const char *exclude, struct actions *acts, bool *ret_changed);
/* Enables (or with enable false, undoes) pyshare-repair@APP.path. */
int update_watch(const struct ctx *x, const struct app *a, bool enable, struct actions *acts, bool *ret_changed);
/* The drop-ins of the repair path unit: the site-packages it watches; the venv outside the
 * default prefix that the repair service may write. */
char *watch_path_dropin_text(const char *app, const char *site);
char *watch_service_dropin_text(const char *app, const char *venv);
/* The app's and its service's env files for this PYTHONPATH (a rebuild's plan knows it before
 * the venv exists), then daemon-reload when the drop-in changed: *ret_reload as reload_systemd. */
int write_env_files(const struct ctx *x, const struct app *a, char *const *pythonpath, struct actions *acts,
                    bool *ret_env_changed, const char **ret_reload);
/* The app's and its service's env files again, after the venv changed (repair, pip). */
int refresh_env_files(const struct ctx *x, const struct app *a, struct actions *acts, bool *ret_env_changed);

/* daemon-reload when systemd runs, a line saying it was skipped otherwise; *ret_state for --json. */
void reload_systemd(const struct ctx *x, bool needed, const char **ret_state);
/* Restarts the unit when asked, or says that it needs one when what it loads changed: changed
 * is NULL (nothing), "environment" (env files, drop-in) or "configuration" (Apache's conf of
 * pyshare only), the word of the hint. */
int restart_or_hint(const struct ctx *x, const char *unit, bool restart, const char *changed, const char **ret_state);
