/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "requirements.h"
#include "app.h"
#include "bus.h"
#include "contain.h"
#include "fileio.h"
#include "log.h"
#include "pip.h"
#include "users.h"
#include "venv.h"

#include <fcntl.h>
#include <sys/stat.h>

#define REQ_STAMP ".pyshare-requirements"

/* pyshare's unprivileged user on the host (an image needs none: its pip runs in the sandbox);
 * created as a system user when the package did not. */
static int pip_user(struct ps_user *ret)
{
        int r = user_lookup(-1, PIP_USER, ret);
        if (r != -PS_E_NOTFOUND)
                return r;
        char *argv[] = {"/usr/sbin/useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", "--user-group", PIP_USER, NULL};
        _cleanup_free_ char *out = NULL;
        r = run_command(argv, 60 * 1000, &out);
        if (r != 0)
                return log_error_errno(r < 0 ? r : -EIO, "cannot create the system user %s for pip: %s",
                                       PIP_USER, out ? strstrip(out) : strerror(-r));
        log_info("created the system user %s (pip runs as it, never as root)", PIP_USER);
        return user_lookup(-1, PIP_USER, ret);
}

/* pip in a transient unit where systemd runs (as the probe: systemd kills its cgroup), else in
 * a PID namespace of its own; the namespace too when the manager cannot start the unit. */
static int run_pip_contained(const struct ps_user *u, const struct app *a, const char *pip, char *const *args,
                             bool capture, char **ret_output)
{
        const int timeout_ms = 20 * 60 * 1000;
        if (!bus_systemd_running())
                return pip_run(u, a->gid, pip, args, NULL, timeout_ms, capture, ret_output);
        _cleanup_free_ char *why = NULL;
        int r = pip_run_unit(PIP_USER, a->cfg.group, pip, args, timeout_ms, capture, ret_output, &why);
        if (!why)
                return r;
        log_warning("cannot run pip as a transient unit (%s): it runs in a PID namespace of its own instead", why);
        return pip_run(u, a->gid, pip, args, NULL, timeout_ms, capture, ret_output);
}

int run_pip(const struct ctx *x, const struct app *a, char *const *args, bool capture)
{
        struct ps_user u = {0};
        _cleanup_free_ char *pip = xasprintf("%s/bin/pip", a->venv), *out = NULL;
        int r;
        /* In an image, pip runs in the sandbox (venv.c), never as one of the image's uids on
         * the host; the image needs no pip user for it. */
        if (x->root) {
                r = venv_pip_in_image(x->rootfd, a->prefix_rel, a->name, pip, args, x->root, 20 * 60 * 1000, &out);
                if (r == 0 && !capture && out)
                        fputs(out, stdout);
        } else if ((r = pip_user(&u)) < 0) {
                if (r == -PS_E_NOTFOUND)
                        log_error("user %s does not exist", PIP_USER);
                return r;
        } else {
                const char *in_tmp = pip_arg_in_tmp(args);
                if (in_tmp) {
                        ps_user_free(&u);
                        return log_error_errno(-PS_E_USAGE, "pip runs with a /tmp of its own, which does not have %s: "
                                               "put it in a directory that %s can read, such as /var/tmp",
                                               in_tmp, PIP_USER);
                }
                r = run_pip_contained(&u, a, pip, args, capture, &out);
        }
        ps_user_free(&u);
        if (r == -ETIMEDOUT)
                return log_error_errno(-ETIMEDOUT, "pip did not finish within 20 minutes and was stopped%s%s",
                                       out && *out ? ":\n" : "", out ? out : "");
        if (r != 0)
                return log_error_errno(r < 0 ? r : -EIO, "pip failed (%s %d) %s %s%s%s",
                                       r < 0 ? "error" : "exit status", r < 0 ? -r : r,
                                       x->root ? "in the image's sandbox, for group" : "as " PIP_USER " in group",
                                       a->cfg.group, out && *out ? ":\n" : "", out && *out ? strstrip(out) : "");
        return 0;
}

/* The package's requirements, from its wheels only; skipped when the files did not change
 * since the last install (a stamp of their content in the venv). */
/* The stamp of what gets installed: the requirements and the names and sizes of the wheels. */
static int requirements_stamp(const struct ctx *x, const struct app *a, const char *text, struct buf *stamp)
{
        buf_printf(stamp, "requirements %s\n%s\nwheels %s\n", a->cfg.requirements, text, a->cfg.wheels);
        _cleanup_close_ int wfd = -1;
        _cleanup_strv_ char **wheels = NULL, **names = NULL;
        int r = dir_open(x->rootfd, a->cfg.wheels + 1, NULL, &wfd, NULL);
        if (r < 0) {
                _cleanup_free_ char *sw = shown(x, a->cfg.wheels);
                return log_error_errno(r == -ENOENT ? -PS_E_NOTFOUND : r, "cannot open the wheel directory %s: %s",
                                       sw, strerror(-r));
        }
        dir_list_at(wfd, ".whl", &wheels);
        for (size_t i = 0; wheels && wheels[i]; i++) {
                struct stat st;
                if (fstatat(wfd, wheels[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
                        strv_consume(&names, xasprintf("%s %lld", wheels[i], (long long)st.st_size));
        }
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++)
                buf_printf(stamp, "%s\n", names[i]);
        return 0;
}

int install_requirements(const struct ctx *x, const struct app *a, bool *ret_changed)
{
        *ret_changed = false;
        if (!a->cfg.requirements)
                return 0;
        if (!a->cfg.wheels)
                return log_error_errno(-PS_E_INVALID, "Requirements=%s needs Wheels=DIR: pyshare installs only from "
                                       "shipped wheels",
                                       a->cfg.requirements);
        _cleanup_free_ char *req_shown = shown(x, a->cfg.requirements);
        _cleanup_close_ int rdir = -1;
        _cleanup_free_ char *rcopy = xstrdup(a->cfg.requirements + 1), *text = NULL;
        char *slash = strrchr(rcopy, '/');
        int r = slash ? (*slash = 0, dir_open(x->rootfd, rcopy, NULL, &rdir, NULL)) : -EINVAL;
        if (r >= 0)
                r = file_read_at(rdir, slash + 1, 1024 * 1024, &text, NULL, NULL);
        if (r < 0)
                return log_error_errno(r == -ENOENT ? -PS_E_NOTFOUND : r, "cannot read the requirements %s: %s",
                                       req_shown, strerror(-r));
        _cleanup_buf_ struct buf stamp = {0};
        _cleanup_close_ int vfd = -1;
        _cleanup_free_ char *old = NULL;
        if ((r = requirements_stamp(x, a, text, &stamp)) < 0 ||
            (r = dir_open(x->rootfd, a->venv_rel, NULL, &vfd, NULL)) < 0)
                return r;
        if (file_read_at(vfd, REQ_STAMP, 1024 * 1024, &old, NULL, NULL) >= 0 && strcmp(old, stamp.p) == 0)
                return 0;
        if (x->dry_run) {
                log_info("would install %s from %s with pip, as %s", req_shown, a->cfg.wheels, PIP_USER);
                *ret_changed = true;
                return 0;
        }
        char *args[] = {"install", "--no-index", "--find-links", a->cfg.wheels, "--only-binary=:all:", "--quiet", "-r",
                        a->cfg.requirements, NULL};
        long long t0 = now_ms();
        bool ch;
        if ((r = run_pip(x, a, args, true)) < 0 ||
            (r = file_write_atomic(vfd, REQ_STAMP, stamp.p, stamp.len, 0644, false, &ch)) < 0)
                return r;
        log_info("installed %s from %s as %s (%lld ms)", req_shown, a->cfg.wheels, PIP_USER, now_ms() - t0);
        *ret_changed = true;
        return 0;
}
