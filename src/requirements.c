/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "requirements.h"
#include "app.h"
#include "fileio.h"
#include "log.h"
#include "pip.h"
#include "users.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define REQ_STAMP ".pyshare-requirements"

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

int run_pip(const struct ctx *x, const struct app *a, char *const *args, bool capture)
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
int install_requirements(const struct ctx *x, const struct app *a, bool *ret_changed)
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
