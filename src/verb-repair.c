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

/* repair's and pip's JSON: changed is whether anything changed (or would), the counts are in
 * permissions, as in setup's. */
static void json_repair(const struct ctx *x, const char *app_name, const struct perms_stats *st,
                        const struct actions *acts, long long took)
{
        struct json j = {0};
        json_obj_begin(&j, NULL);
        json_str(&j, "app", app_name);
        json_bool(&j, "dry_run", x->dry_run);
        json_bool(&j, "changed", st->changed || acts->changed);
        json_obj_begin(&j, "permissions");
        json_perms_stats(&j, st);
        json_obj_end(&j);
        json_int(&j, "milliseconds", took);
        json_strv(&j, "files_changed", acts->changed);
        json_strv(&j, "files_unchanged", acts->unchanged);
        json_diffs(&j, x, acts);
        json_obj_end(&j);
        json_flush(&j);
}

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
        if (x->json)
                json_repair(x, app_name, &st, &acts, took);
        else {
                print_perms_stats(x, &st);
                log_info("repair %s: %s (%lld ms)", app_name,
                         st.changed || acts.changed ? (x->dry_run ? "the changes above would be made" : "done")
                                                    : "nothing to change",
                         took);
        }
        const char *state;
        restart_or_hint(x, a.cfg.service, false, env_changed ? "environment" : NULL, &state);
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
        /* With --json, stdout carries the one JSON document: pip's own output goes to stderr. */
        _cleanup_close_ int saved_stdout = -1;
        if (x->json) {
                fflush(stdout);
                if ((saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        return log_error_errno(-errno, "cannot keep pip's output off stdout: %s", strerror(errno));
        }
        r = run_pip(x, &a, args, false);
        if (saved_stdout >= 0) {
                fflush(stdout);
                dup2(saved_stdout, STDOUT_FILENO);
        }
        if (r < 0)
                return r;
        _cleanup_perms_stats_ struct perms_stats st = {0};
        long long t0 = now_ms();
        r = apply_tree(x, &a, &st);
        print_perms_stats(x, &st);
        if (r < 0)
                return r;
        _cleanup_actions_ struct actions acts = {0};
        bool env_changed = false;
        if ((r = refresh_env_files(x, &a, &acts, &env_changed)) < 0)
                return r;
        if (x->json)
                json_repair(x, app_name, &st, &acts, now_ms() - t0);
        const char *state;
        restart_or_hint(x, a.cfg.service, false, env_changed ? "environment" : NULL, &state);
        return 0;
}
