/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"
#include "app.h"
#include "log.h"
#include "output.h"
#include "perms.h"
#include "requirements.h"
#include "tree.h"
#include "wiring.h"

#include <fcntl.h>
#include <sys/stat.h>

int verb_repair(struct ctx *x, const char *app_name)
{
        _cleanup_app_ struct app a = {0};
        _cleanup_close_ int lockfd = -1;
        int r = begin_change(x, "repair", app_name, &a, &lockfd);
        if (r < 0)
                return r;

        _cleanup_perms_stats_ struct perms_stats st = {0};
        long long t0 = now_ms();
        if ((r = apply_tree(x, &a, &st)) < 0)
                return r;
        long long took = now_ms() - t0;
        _cleanup_actions_ struct actions acts = {0};
        bool env_changed = false;
        if ((r = refresh_env_files(x, &a, &acts, &env_changed)) < 0)
                return r;
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
        return 0;
}

/* pip as _pyshare, then the tree and the env files again: what pip installed may be anything. */
int verb_pip(struct ctx *x, const char *app_name, char *const *args)
{
        if (x->dry_run)
                return log_error_errno(-PS_E_USAGE, "pyshare pip cannot --dry-run: pip itself decides what it changes");
        _cleanup_app_ struct app a = {0};
        _cleanup_close_ int lockfd = -1;
        int r = begin_change(x, "pip", app_name, &a, &lockfd);
        if (r < 0)
                return r;
        if (x->root)
                log_info("pip %s in a sandbox, without privileges on the host", a.venv);
        else
                log_info("pip %s as %s in group %s", a.venv, PIP_USER, a.cfg.group);
        if ((r = run_pip(x, &a, args, false)) < 0)
                return r;
        _cleanup_perms_stats_ struct perms_stats st = {0};
        r = apply_tree(x, &a, &st);
        print_perms_stats(x, &st);
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
