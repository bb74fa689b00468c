/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "contain.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* What the init tells pyshare once the worker ended: err is set when the init could not even
 * start it (the namespaces' mounts, fork). */
struct report {
        int err;
        int status;
        unsigned left;
};

static void send_report(int fd, const struct report *rep)
{
        ssize_t k = write(fd, rep, sizeof(*rep));
        (void)k;
}

/* A fresh tmpfs on DIR below root, found without following a symlink the image may have put
 * there. A directory that is not there is left alone: nothing can be shared through it. */
static int private_tmpfs(int rootfd, const char *dir)
{
        _cleanup_close_ int fd = openat(rootfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
                return -errno;
        return 0;
}

static int make_private_tmp(const struct contain_opts *o)
{
        /* First make every mount private: on a shared / the new tmpfs would show on the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        _cleanup_close_ int rootfd = open(o->root ? o->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        /* /var/tmp stays: it is where files handed to pip by path live, and with nothing left
         * running after a run, nothing in it reaches a later one. */
        return private_tmpfs(rootfd, "tmp");
}

/* pid 1 of the new namespace, still root: starts the worker, waits for it, then kills and
 * reaps what it left (kill(-1) from a namespace's init reaches every other process in it;
 * orphans are reparented to us, so the reaping loop ends when the namespace is empty). */
static _Noreturn void init_main(const struct contain_opts *o, void (*worker)(void *), void *userdata,
                                int report_fd, int parent_pidfd)
{
        struct report rep = {0};
        /* pyshare's death ends us, and with us the namespace; it may have died already. */
        struct pollfd pp = {.fd = parent_pidfd, .events = POLLIN};
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (parent_pidfd >= 0 && poll(&pp, 1, 0) != 0))
                _exit(1);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        if (o->private_tmp && (rep.err = make_private_tmp(o)) < 0) {
                send_report(report_fd, &rep);
                _exit(1);
        }
        pid_t pid = fork();
        if (pid < 0) {
                rep.err = -errno;
                send_report(report_fd, &rep);
                _exit(1);
        }
        if (pid == 0) {
                close(report_fd);
                if (parent_pidfd >= 0)
                        close(parent_pidfd);
                worker(userdata);
                _exit(127);
        }
        int status = 0;
        for (;;) {
                pid_t w = waitpid(-1, &status, 0);
                if (w == pid || (w < 0 && errno != EINTR))
                        break;
        }
        rep.status = status;
        kill(-1, SIGKILL);
        for (;;) {
                pid_t w = waitpid(-1, NULL, 0);
                if (w > 0)
                        rep.left++;
                else if (errno != EINTR)
                        break;
        }
        send_report(report_fd, &rep);
        _exit(0);
}

int contain_start(const struct contain_opts *o, void (*worker)(void *), void *userdata,
                  struct contained *ret)
{
        int rp[2];
        if (pipe2(rp, O_CLOEXEC) < 0)
                return -errno;
        /* Inherited by the init, which can tell from it whether we died before it could ask
         * for the parent-death signal. */
        _cleanup_close_ int self_pidfd = pidfd_open(getpid(), 0);
        fflush(NULL);
        /* A raw clone: glibc's clone() wants a stack of its own; this one forks as fork() does.
         * The init runs only system calls, and forks the worker with fork(). */
        pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                int r = -errno;
                close(rp[0]);
                close(rp[1]);
                return r;
        }
        if (pid == 0) {
                close(rp[0]);
                init_main(o, worker, userdata, rp[1], self_pidfd);
        }
        close(rp[1]);
        *ret = (struct contained){
                .pid = pid,
                /* Without a pidfd (a seccomp filter or a container runtime may refuse
                 * pidfd_open) the end is found by polling waitpid. */
                .pidfd = pidfd_open(pid, 0),
                .report_fd = rp[0],
        };
        return 0;
}

static int watch_prepare(void *userdata, int *ret_fd, short *ret_events, int *ret_timeout_ms)
{
        struct contained *c = userdata;
        *ret_fd = c->pidfd;
        *ret_events = POLLIN;
        *ret_timeout_ms = c->pidfd < 0 ? 20 : -1;
        return 0;
}

static int watch_check(void *userdata, bool *ret_ended)
{
        struct contained *c = userdata;
        if (!c->ended && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
                c->ended = true;
        *ret_ended = c->ended;
        return 0;
}

struct contain_watch contain_watch_of(struct contained *c)
{
        return (struct contain_watch){.prepare = watch_prepare, .check = watch_check, .userdata = c};
}

void contain_end(struct contained *c, int *ret_status, unsigned *ret_left)
{
        if (!c->ended) {
                /* From outside, SIGKILL reaches the init; its end takes the namespace. */
                kill(c->pid, SIGKILL);
                while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
                        ;
                c->ended = true;
        }
        /* The init has ended: its report is in the pipe, or never will be. */
        struct report rep = {0};
        ssize_t k = read(c->report_fd, &rep, sizeof(rep));
        bool reported = k == (ssize_t)sizeof(rep) && rep.err == 0;
        *ret_status = reported ? rep.status : c->status;
        *ret_left = reported ? rep.left : 0;
        if (c->pidfd >= 0)
                close(c->pidfd);
        close(c->report_fd);
        *c = CONTAINED_NULL;
        c->ended = true;
}

/* One read: > 0 bytes taken (the first cap kept), 0 at EOF, -errno. */
static ssize_t take(struct contain_stream *s)
{
        char tmp[65536];
        ssize_t k = read(s->fd, tmp, sizeof(tmp));
        if (k < 0)
                return -errno;
        if (s->total)
                *s->total += (size_t)k;
        if (s->buf->len < s->cap)
                buf_append(s->buf, tmp, (size_t)k < s->cap - s->buf->len ? (size_t)k : s->cap - s->buf->len);
        return k;
}

/* Every writer inside the containment is gone; one outside (a passed fd) may keep writing, so
 * the drain stops at an empty pipe (EAGAIN is an end here, never progress), at the cap of what
 * is kept, or at the deadline. */
void contain_drain(struct contain_stream *s, size_t n, long long deadline)
{
        for (size_t i = 0; i < n; i++)
                while (s[i].open && s[i].buf->len < s[i].cap && now_ms() < deadline) {
                        ssize_t k = take(&s[i]);
                        if (k <= 0 && k != -EINTR)
                                s[i].open = false;
                }
}

int contain_collect(struct contain_stream *s, size_t n, const struct contain_watch *w, long long deadline)
{
        struct pollfd p[8];
        if (n + 1 > ELEMENTSOF(p))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (s[i].open && fcntl(s[i].fd, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
        bool ended = false;
        while (!ended) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                int wfd = -1, wait_ms = -1;
                short wev = 0;
                int r = w->prepare(w->userdata, &wfd, &wev, &wait_ms);
                if (r < 0)
                        return r;
                if (wait_ms < 0 || wait_ms > left)
                        wait_ms = (int)left;
                for (size_t i = 0; i < n; i++)
                        p[i] = (struct pollfd){.fd = s[i].open ? s[i].fd : -1, .events = POLLIN};
                p[n] = (struct pollfd){.fd = wfd, .events = wev};
                int k = poll(p, n + 1, wait_ms);
                if (k < 0 && errno != EINTR)
                        return -errno;
                for (size_t i = 0; k > 0 && i < n; i++) {
                        /* EAGAIN after POLLIN: nothing lost, poll() waits again. */
                        ssize_t got = p[i].revents ? take(&s[i]) : 1;
                        s[i].open = got > 0 || got == -EAGAIN || got == -EINTR;
                }
                r = w->check(w->userdata, &ended);
                if (r < 0)
                        return r;
        }
        /* A moment for what is in flight, never more than the deadline. */
        long long grace = now_ms() + 300;
        contain_drain(s, n, grace < deadline ? grace : deadline);
        return 0;
}

struct run_child {
        char *const *argv;
        const struct run_hooks *h;
        int out; /* the write end of the output pipe */
};

static _Noreturn void run_worker(void *userdata)
{
        static char *const clean_env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                NULL,
        };
        const struct run_child *c = userdata;
        setsid();
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->out, 2) < 0)
                _exit(127);
        if (c->h && c->h->child) {
                const char *step = NULL;
                int r = c->h->child(c->h->userdata, &step);
                if (r < 0) {
                        dprintf(2, "pyshare: %s: %s\n", step, strerror(-r));
                        _exit(126);
                }
        }
        /* Never the caller's directory: Python puts it first on sys.path. */
        if (chdir("/") < 0)
                _exit(126);
        umask(022);
        execve(c->argv[0], c->argv, c->h && c->h->env ? c->h->env : clean_env);
        _exit(errno == ENOENT ? 127 : 126);
}

int run_command_with(char *const argv[], const struct run_hooks *h, int timeout_ms, char **ret_output)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int readfd = pipefd[0], writefd = pipefd[1];
        struct run_child child = {.argv = argv, .h = h, .out = writefd};
        struct contained ct = CONTAINED_NULL;
        int r = contain_start(&(struct contain_opts){0}, run_worker, &child, &ct);
        if (r < 0)
                return r;
        close(TAKE_FD(writefd));
        int status = 0;
        unsigned left = 0;
        if (h && h->parent && (r = h->parent(h->userdata)) < 0) {
                contain_end(&ct, &status, &left);
                return r;
        }
        struct buf out = {0};
        struct contain_stream s = {.fd = readfd, .buf = &out, .cap = 64 * 1024, .open = true};
        struct contain_watch w = contain_watch_of(&ct);
        r = contain_collect(&s, 1, &w, now_ms() + timeout_ms);
        contain_end(&ct, &status, &left);
        if (r < 0 && r != -ETIMEDOUT) {
                buf_free(&out);
                return r;
        }
        return command_result(&out, ret_output, r == -ETIMEDOUT, status);
}

int run_command(char *const argv[], int timeout_ms, char **ret_output)
{
        return run_command_with(argv, NULL, timeout_ms, ret_output);
}
