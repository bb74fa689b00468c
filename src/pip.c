/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pip.h"
#include "contain.h"
#include "privdrop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct pip_child {
        const struct ps_user *user;
        gid_t gid;
        const char *pip;
        char *const *args;
        const char *chroot_dir;
        int out, err; /* where pip's stdout and stderr go */
};

/* The contained worker: the namespace's init is its parent, and the namespace ends with it. */
static _Noreturn void pip_child(void *userdata)
{
        const struct pip_child *c = userdata;
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (setsid() < 0 || devnull < 0 || c->out < 0 || c->err < 0 || dup2(devnull, 0) < 0 || dup2(c->out, 1) < 0 ||
            dup2(c->err, 2) < 0)
                _exit(121);
        for (int fd = 3; fd < 1024; fd++)
                close(fd);
        /* In an image, pip is the image's (its paths, its Python), as in an image build. */
        if (c->chroot_dir && (chroot(c->chroot_dir) < 0 || chdir("/") < 0)) {
                fprintf(stderr, "pyshare: cannot chroot to %s: %s\n", c->chroot_dir, strerror(errno));
                _exit(122);
        }
        const char *step = NULL;
        gid_t groups[] = {c->gid};
        if (privdrop_to_groups(c->user, groups, 1, &step) < 0) {
                fprintf(stderr, "pyshare: cannot become %s: %s\n", c->user->name, step);
                _exit(122);
        }
        if (chdir("/") < 0)
                _exit(122);
        umask(002);
        char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
                       "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1",
                       "PYTHONDONTWRITEBYTECODE=", NULL};
        size_t n = strv_length(c->args);
        char **argv = xcalloc(n + 2, sizeof(char *));
        argv[0] = (char *)c->pip;
        for (size_t i = 0; i < n; i++)
                argv[1 + i] = c->args[i];
        execve(c->pip, argv, env);
        fprintf(stderr, "pyshare: cannot run %s: %s\n", c->pip, strerror(errno));
        _exit(127);
}

const char *pip_arg_in_tmp(char *const *args)
{
        for (size_t i = 0; args && args[i]; i++) {
                const char *a = args[i];
                if (strcmp(a, "/tmp") == 0 || startswith(a, "/tmp/") || strstr(a, "=/tmp/") || strstr(a, "file:///tmp/"))
                        return a;
        }
        return NULL;
}

int pip_run(const struct ps_user *u, gid_t gid, const char *pip, char *const *args, const char *chroot_dir,
            int timeout_ms, bool capture, char **ret_output)
{
        int pipefd[2] = {-1, -1};
        if (capture && pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int readfd = pipefd[0], writefd = pipefd[1];
        _cleanup_close_ int out = capture ? -1 : fcntl(1, F_DUPFD_CLOEXEC, 10);
        _cleanup_close_ int err = capture ? -1 : fcntl(2, F_DUPFD_CLOEXEC, 10);
        struct pip_child c = {
                .user = u,
                .gid = gid,
                .pip = pip,
                .args = args,
                .chroot_dir = chroot_dir,
                .out = capture ? writefd : out,
                .err = capture ? writefd : err,
        };
        /* A PID namespace: nothing a build backend or a .pth line starts outlives pip (setsid
         * and chains of forks included); and a /tmp of its own, which no other run sees. */
        struct contained ct = CONTAINED_NULL;
        int r = contain_start(&(struct contain_opts){.private_tmp = true, .root = chroot_dir}, pip_child, &c, &ct);
        if (r < 0)
                return r;
        if (writefd >= 0)
                close(TAKE_FD(writefd));

        struct buf output = {0};
        struct contain_stream s = {.fd = readfd, .buf = &output, .cap = 64 * 1024, .open = capture};
        struct contain_watch w = contain_watch_of(&ct);
        r = contain_collect(&s, capture ? 1 : 0, &w, now_ms() + timeout_ms);
        int status = 0;
        unsigned left = 0;
        contain_end(&ct, &status, &left);
        if (r < 0 && r != -ETIMEDOUT) {
                buf_free(&output);
                return r;
        }
        return command_result(&output, ret_output, r == -ETIMEDOUT, status);
}
