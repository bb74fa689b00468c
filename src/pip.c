/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pip.h"
#include "bus.h"
#include "contain.h"
#include "privdrop.h"

#include <fcntl.h>
#include <signal.h>
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

/* pip's whole environment, in a unit as in a namespace. */
static char *const pip_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
                                "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1",
                                "PYTHONDONTWRITEBYTECODE=", NULL};

static char **pip_argv(const char *pip, char *const *args)
{
        size_t n = strv_length(args);
        char **argv = xcalloc(n + 2, sizeof(char *));
        argv[0] = (char *)pip;
        for (size_t i = 0; i < n; i++)
                argv[1 + i] = args[i];
        return argv;
}

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
        char **argv = pip_argv(c->pip, c->args);
        execve(c->pip, argv, (char **)pip_env);
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

/* A signal that ends pyshare while pip runs in a unit: the unit is stopped first (its cgroup
 * killed), then pyshare ends by that signal, as it would with pip in a namespace of its own. */
static volatile sig_atomic_t stop_signal;
static void on_stop_signal(int sig) { stop_signal = sig; }
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

struct unit_run {
        bus_job *job;
        bool stopping;
};

/* The unit's end, as the manager reports it, for contain_collect. */
static int unit_prepare(void *userdata, int *ret_fd, short *ret_events, int *ret_timeout_ms)
{
        struct unit_run *u = userdata;
        int fd = bus_job_poll_fd(u->job, ret_events, ret_timeout_ms);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        /* A signal just before poll() is seen at the next round at the latest. */
        if (*ret_timeout_ms < 0 || *ret_timeout_ms > 500)
                *ret_timeout_ms = 500;
        return 0;
}

static int unit_check(void *userdata, bool *ret_ended)
{
        struct unit_run *u = userdata;
        if (stop_signal && !u->stopping) {
                u->stopping = true;
                bus_job_stop(u->job);
        }
        const char *result;
        return bus_job_process(u->job, ret_ended, &result);
}

static int pip_unit(const struct bus_transient_req *req, int readfd, int *writefd, int timeout_ms, char **ret_output,
                    char **ret_unit_error)
{
        _cleanup_strv_ char **errors = NULL;
        bus_job *job = NULL;
        int r = bus_transient_start(req, &job, &errors);
        if (r < 0) {
                for (size_t i = 0; errors && errors[i]; i++)
                        if (startswith(errors[i], "error: "))
                                *ret_unit_error = xstrdup(errors[i] + 7);
                if (!*ret_unit_error)
                        *ret_unit_error = xstrdup(strerror(-r));
                return r;
        }
        if (*writefd >= 0)
                close(TAKE_FD(*writefd)); /* systemd holds its own copy */

        bool capture = readfd >= 0;
        struct buf output = {0};
        struct contain_stream s = {.fd = readfd, .buf = &output, .cap = 64 * 1024, .open = capture};
        struct unit_run u = {.job = job};
        const struct contain_watch w = {.prepare = unit_prepare, .check = unit_check, .userdata = &u};
        /* systemd stops the unit at timeout_ms and kills its cgroup; our own deadline only
         * catches a manager that never answers, and then stops the unit itself. */
        r = contain_collect(&s, capture ? 1 : 0, &w, now_ms() + timeout_ms + 10000);
        if (r == -ETIMEDOUT) {
                bus_job_stop(job);
                if (contain_collect(&s, capture ? 1 : 0, &w, now_ms() + 5000) < 0)
                        contain_drain(&s, capture ? 1 : 0, now_ms() + 300);
        }
        int status = 0;
        if (r == 0)
                r = bus_job_exit_status(job, &status);
        bus_job_free(job);
        if (r < 0 && r != -ETIMEDOUT) {
                buf_free(&output);
                return r;
        }
        return command_result(&output, ret_output, r == -ETIMEDOUT, status);
}

int pip_run_unit(const char *user, const char *group, const char *pip, char *const *args, int timeout_ms, bool capture,
                 char **ret_output, char **ret_unit_error)
{
        *ret_unit_error = NULL;
        int pipefd[2] = {-1, -1};
        if (capture && pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int readfd = pipefd[0], writefd = pipefd[1];
        _cleanup_free_ char **argv = pip_argv(pip, args);
        /* Our stdout and stderr go to the unit as they are: pip talks to the user directly. */
        const struct bus_transient_req req = {
                .unit_prefix = "pyshare-pip",
                .description = "pyshare pip",
                .user = user,
                .group = group,
                .private_tmp = true,
                .umask = 002,
                .keep_status = true,
                .argv = argv,
                .env = pip_env,
                .stdin_fd = -1,
                .stdout_fd = capture ? writefd : 1,
                .stderr_fd = capture ? writefd : 2,
                .timeout_ms = timeout_ms,
        };
        struct sigaction sa = {.sa_handler = on_stop_signal}, old[ELEMENTSOF(stop_signals)];
        stop_signal = 0;
        for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++)
                sigaction(stop_signals[i], &sa, &old[i]);
        int r = pip_unit(&req, capture ? readfd : -1, &writefd, timeout_ms, ret_output, ret_unit_error);
        for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++)
                sigaction(stop_signals[i], &old[i], NULL);
        if (stop_signal)
                raise(stop_signal);
        return r;
}

/* A unit of pip_run_unit, pyshare-pip-PID-MS.service, whose pyshare (PID) is gone. */
static bool unit_orphaned(const char *unit)
{
        if (!startswith(unit, "pyshare-pip-"))
                return false;
        char *end = NULL;
        long pid = strtol(unit + strlen("pyshare-pip-"), &end, 10);
        return pid > 0 && *end == '-' && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int pip_stop_leftovers(char ***ret_stopped)
{
        *ret_stopped = NULL;
        if (!bus_systemd_running())
                return 0;
        return bus_stop_units_matching("pyshare-pip-*.service", unit_orphaned, 30 * 1000, ret_stopped);
}
