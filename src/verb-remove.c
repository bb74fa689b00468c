/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "app.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "output.h"
#include "prefix.h"
#include "venv.h"
#include "wiring.h"
#include "wsgi-daemon.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Deletes the venv PREFIX/APP, shown as sv; done is said after "deleted the virtualenv SV". */
static int delete_venv(const struct ctx *x, int pfd, const char *app, const char *sv, const char *done)
{
        if (x->dry_run) {
                log_info("would delete the virtualenv %s", sv);
                return 0;
        }
        int r = rmtree_at(pfd, app);
        if (r < 0)
                return log_error_errno(r, "cannot delete %s: %s%s", sv, strerror(-r),
                                       r == -EXDEV ? " (a mount point inside it: unmount it first)" : "");
        log_info("deleted the virtualenv %s%s", sv, done);
        return 0;
}

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
                _cleanup_free_ char *why = prefix_problem_text(&pp, prefix, x->root, ids_root(x));
                log_notice("left %s alone: %s", sv, why);
        } else if (r < 0 && r != -ENOENT)
                log_error("cannot open %s: %s", prefix, strerror(-r));
        prefix_problem_free(&pp);
        if (r < 0)
                return r == -ENOENT || r == -ENOTDIR || r == -PS_E_INVALID ? 0 : r;
        enum venv_purge vp;
        _cleanup_free_ char *why = NULL;
        if ((r = venv_purge_check(pfd, app, &vp, &why)) < 0)
                return log_error_errno(r, "cannot look at %s: %s", sv, strerror(-r));
        if (vp == VENV_PURGE_ADOPTED)
                log_notice("left the files of %s in place: pyshare adopted that virtualenv rather than creating it, "
                           "so they are not pyshare's to delete",
                           sv);
        else if (vp == VENV_PURGE_NOT_OURS)
                log_notice("left %s alone: %s", sv, why);
        if (vp != VENV_PURGE_DELETE)
                return 0;
        if ((r = delete_venv(x, pfd, app, sv, note)) < 0)
                return r;
        *ret_purged = true;
        return 0;
}

/* An app removed before, its venv kept: --purge now deletes the venv, if it is pyshare's.
 * *ret_done false when there is none. */
static int purge_removed(const struct ctx *x, const char *app, bool *ret_done)
{
        _cleanup_config_ struct app_config vc = {0};
        bool v;
        *ret_done = false;
        int r = load_vendor_config(x, app, NULL, &vc, &v);
        if (r < 0)
                return r;
        app_config_defaults(x, &vc);
        _cleanup_free_ char *venv = xasprintf("%s/%s", vc.prefix, app), *sv = shown(x, venv);
        return purge_venv(x, vc.prefix, app, sv, " (the app was removed before)", ret_done);
}

int verb_remove(struct ctx *x, const char *app_name, bool purge, bool restart)
{
        int r = check_app_name(app_name);
        if (r < 0 || (r = need_root(x, "remove", app_name)) < 0)
                return r;
        log_set_app(app_name);
        _cleanup_close_ int lockfd = -1;
        if ((r = take_lock(x, &lockfd)) < 0)
                return r;
        _cleanup_config_ struct app_config c = {0};
        bool exists, done = false;
        if ((r = load_config(x, app_name, &c, &exists)) < 0)
                return r;
        if (!exists && purge && (r = purge_removed(x, app_name, &done)) < 0)
                return r;
        if (!exists) {
                if (!done)
                        log_info("remove %s: nothing to remove (no /%s/%s.conf)", app_name, ETC_DIR, app_name);
                if (x->json) {
                        struct json j = {0};
                        json_obj_begin(&j, NULL);
                        json_str(&j, "app", app_name);
                        json_bool(&j, "dry_run", x->dry_run);
                        json_bool(&j, "changed", done);
                        json_bool(&j, "purged", done);
                        json_obj_end(&j);
                        json_flush(&j);
                }
                return 0;
        }
        app_config_defaults(x, &c);
        const char *unit = c.service;
        _cleanup_free_ char *venv = xasprintf("%s/%s", c.prefix, app_name), *sv = shown(x, venv);

        /* The app's own config goes last: until then a rerun knows what to remove. */
        _cleanup_actions_ struct actions acts = {0};
        bool dropin_changed = false, env_changed = false;
        _cleanup_free_ char *conf_name = xasprintf("%s.conf", app_name), *env_name = xasprintf("%s.env", app_name);
        _cleanup_free_ char *tmpfiles_name = xasprintf("pyshare-%s.conf", app_name);
        if ((r = write_service_files(x, unit, app_name, &acts, &dropin_changed, &env_changed)) < 0 ||
            (r = remove_file(x, TMPFILES_DIR, tmpfiles_name, &acts)) < 0 || (r = remove_file(x, ETC_DIR, env_name, &acts)) < 0)
                return r;
        bool purged = false;
        if (purge && (r = purge_venv(x, c.prefix, app_name, sv, "", &purged)) < 0)
                return r;
        bool cgi_changed = false, watch_changed = false, wsgi_changed = false;
        enum wsgi_configtest wsgi_test;
        struct app wa = {.name = app_name, .venv = venv, .cfg = c};
        if ((r = update_cgi_conf(x, app_name, &acts, &cgi_changed)) < 0 ||
            (r = wsgi_daemon_update(x, &wa, false, &acts, &wsgi_changed, &wsgi_test, NULL)) < 0 ||
            (r = update_watch(x, &wa, false, &acts, &watch_changed)) < 0 || (r = remove_file(x, ETC_DIR, conf_name, &acts)) < 0)
                return r;
        const char *reload_state, *restart_state;
        reload_systemd(x, dropin_changed || watch_changed, &reload_state);
        /* --restart: only when the service's environment changed (a restart of nothing is
         * downtime for nothing); restart_or_hint restarts unconditionally when asked. */
        bool env_now_changed = env_changed || dropin_changed || wsgi_changed;
        if ((r = restart_or_hint(x, unit, restart && env_now_changed, env_now_changed ? "environment" : NULL,
                                   &restart_state)) < 0)
                return r;
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
                json_str(&j, "restart", restart_state);
                json_diffs(&j, x, &acts);
                json_obj_end(&j);
                json_flush(&j);
        }
        return 0;
}
